#!/usr/bin/env bash
# GET /tasks under load (SPEC §4): starts `vectorize serve --no-workers` on a seeded data dir,
# runs wrk for a fixed time on each URL below and prints requests/s, p50, p99 and the rows each
# response holds.
#
#   bench/tasks_api.sh DATA_DIR [DURATION_S=10] [CONNECTIONS=8] [THREADS=2] [--database-url URL]
#
# Seed DATA_DIR first: build/seed_tasks --data-dir DATA_DIR --tasks 1000000
# Environment: VECTORIZE_BIN (default <repo>/build/vectorize), WRK (default wrk),
#              BENCH_URLS (optional, newline-separated paths that replace the default list).
# The server runs with VECTORIZE_LOG_LEVEL=warn so access logs stay out of the way; its stderr
# goes to DATA_DIR/tasks_api.server.log.
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

positional=()
database_url=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --database-url) database_url="${2:?--database-url needs a value}"; shift 2 ;;
    --database-url=*) database_url="${1#*=}"; shift ;;
    -h|--help) usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
[[ ${#positional[@]} -ge 1 ]] || usage
data_dir="${positional[0]}"
duration="${positional[1]:-10}"
connections="${positional[2]:-8}"
threads="${positional[3]:-2}"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${VECTORIZE_BIN:-$repo/build/vectorize}"
wrk_bin="${WRK:-wrk}"
for tool in "$wrk_bin" curl jq; do
  command -v "$tool" >/dev/null || { echo "tasks_api.sh: $tool not found" >&2; exit 1; }
done
[[ -x "$bin" ]] || { echo "tasks_api.sh: no server binary at $bin (set VECTORIZE_BIN)" >&2; exit 1; }
[[ -d "$data_dir" ]] || { echo "tasks_api.sh: no data dir $data_dir" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# --- start the server, wait for "listening on http://HOST:PORT"
server_args=(serve --no-workers --port 0 --data-dir "$data_dir")
[[ -n "$database_url" ]] && server_args+=(--database-url "$database_url")
mkfifo "$work/out"
# VECTORIZE_BIN is ours, not a setting: the server rejects unknown VECTORIZE_* variables.
env -u VECTORIZE_BIN VECTORIZE_LOG_LEVEL=warn "$bin" "${server_args[@]}" >"$work/out" 2>"$data_dir/tasks_api.server.log" &
server_pid=$!
base=""
exec 3<"$work/out"
start_ts=$(date +%s.%N)
while IFS= read -r -t 30 line <&3; do
  if [[ "$line" =~ listening\ on\ (http://[^[:space:]]+) ]]; then
    base="${BASH_REMATCH[1]}"
    break
  fi
done
if [[ -z "$base" ]]; then
  echo "tasks_api.sh: the server did not report a listening address; its log:" >&2
  cat "$data_dir/tasks_api.server.log" >&2
  exit 1
fi
# Keep draining its stdout so it never blocks on a full pipe.
cat <&3 >/dev/null &
startup_ms=$(awk -v a="$start_ts" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", (b-a)*1000}')

# --- wrk script: latency percentiles in microseconds on one line
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d %d\n",
    summary.requests, secs, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.bytes))
end
LUA

if [[ -n "${BENCH_URLS:-}" ]]; then
  mapfile -t urls <<<"$BENCH_URLS"
else
  urls=(
    "/tasks"
    "/tasks?limit=100"
    "/tasks?limit=100&offset=5000&within_hours=720"
    "/tasks?status=R&status=Q&within_hours=720"
    "/tasks?task_type=training&tag=tag-0042&within_hours=720"
    "/tasks?within_hours=720&limit=50"
  )
fi

tasks_count="?"
if command -v sqlite3 >/dev/null && [[ -z "$database_url" && -f "$data_dir/vectorize.db" ]]; then
  tasks_count=$(sqlite3 "file:$data_dir/vectorize.db?mode=ro" \
    "SELECT (SELECT count(*) FROM model_upload_task) + (SELECT count(*) FROM dataset_upload_task)
          + (SELECT count(*) FROM training_task) + (SELECT count(*) FROM evaluation_task)
          + (SELECT count(*) FROM synthesis_task)" 2>/dev/null || echo "?")
fi

echo "tasks_api: $base  data $data_dir ($tasks_count tasks)  wrk ${duration}s, $connections connections, $threads threads  (server up in ${startup_ms} ms)"
printf '%-58s %10s %9s %9s %9s %7s %s\n' "URL" "req/s" "p50 ms" "p99 ms" "max ms" "rows" "errors"
for path in "${urls[@]}"; do
  [[ -z "$path" ]] && continue
  url="$base$path"
  code=$(curl -sS -o "$work/body.json" -w '%{http_code}' "$url")
  if [[ "$code" != 200 ]]; then
    echo "tasks_api.sh: $path answered HTTP $code: $(head -c 300 "$work/body.json")" >&2
    rows="HTTP$code"
  else
    rows=$(jq 'length' "$work/body.json")
  fi
  out=$("$wrk_bin" -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/report.lua" "$url" 2>&1) || {
    echo "tasks_api.sh: wrk failed on $path:" >&2; echo "$out" >&2; exit 1; }
  read -r _ n secs p50 p99 max non2xx sockerr bytes < <(grep '^RESULT ' <<<"$out")
  awk -v path="$path" -v n="$n" -v s="$secs" -v p50="$p50" -v p99="$p99" -v max="$max" \
      -v rows="$rows" -v e1="$non2xx" -v e2="$sockerr" 'BEGIN {
    err = (e1 + e2 == 0) ? "-" : sprintf("%d non-2xx, %d socket", e1, e2);
    printf "%-58s %10.0f %9.2f %9.2f %9.2f %7s %s\n", path, n / s, p50 / 1000, p99 / 1000,
           max / 1000, rows, err }'
done
