#!/usr/bin/env bash
# Dataset uploads through the real server (SPEC §4: parsing >= 100 MB/s for CSV and JSONL,
# memory independent of file size). For CSV and JSONL files of 10 MB and 500 MB (generated
# question/positive/negative triples): POST /datasets with curl (multipart, streamed from disk),
# then prints the upload's MB/s end to end (receive + spool + multipart split + convert + store)
# and the server's peak RSS (VmHWM) after it. Sizes run smallest first, so a peak that stays
# flat from 10 MB to 500 MB shows memory does not grow with the file.
#
#   bench/datasets.sh [SIZES_MB="10 500"]
#
# Needs build/vectorize (built if missing; BUILD_DIR overrides <repo>/build), curl, python3, and
# about 3 × the largest size free under $TMPDIR.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
bin="$build/vectorize"
sizes="${1:-10 500}"
if [[ ! -x "$bin" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target vectorize -j"$(nproc)"
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/vz-bench-datasets.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Generates a file of about $2 MB in format $1 (csv or jsonl).
gen() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
fmt, mb, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
target = mb * 1_000_000
with open(path, "w", encoding="utf-8") as f:
    if fmt == "csv":
        f.write("question,positive,negative\n")
    size, i, chunk = 0, 0, []
    while size < target:
        q = f"How do I reset the password of account {i}, and what happens next?"
        p = f"Open settings, choose security, then reset password {i}; a mail follows."
        n = f"Orders can be cancelled within {i % 30} days from the order page."
        line = (f'"{q}","{p}",{n}\n' if fmt == "csv"
                else json.dumps({"question": q, "positive": p, "negative": n}) + "\n")
        chunk.append(line)
        size += len(line.encode())
        i += 1
        if len(chunk) == 10000:
            f.write("".join(chunk)); chunk = []
    f.write("".join(chunk))
EOF
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
mkfifo "$work/out"
VECTORIZE_MAX_UPLOAD_BYTES=$((2 << 30)) VECTORIZE_LOG_LEVEL=warn \
  "$bin" serve --port 0 --data-dir "$work/data" --no-workers >"$work/out" 2>"$work/server.log" &
server_pid=$!
read -r line <"$work/out"
port="${line##*:}"
rss() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status"; }
echo "server idle: peak RSS $(rss) MB"
printf '%-6s %8s %10s %10s %12s %14s\n' format size_MB seconds MB/s rows peak_RSS_MB
for mb in $sizes; do
  for fmt in csv jsonl; do
    file="$work/bench-$fmt-$mb.$fmt"
    gen "$fmt" "$mb" "$file"
    bytes=$(stat -c %s "$file")
    out=$(curl -s -o "$work/resp.json" -w '%{http_code} %{time_total}' \
      -F "files=@$file" "http://127.0.0.1:$port/datasets")
    code=${out%% *}
    secs=${out##* }
    if [[ "$code" != 201 ]]; then
      echo "upload of $file answered $code: $(head -c 300 "$work/resp.json")" >&2
      exit 1
    fi
    rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$work/resp.json")
    printf '%-6s %8.1f %10.2f %10.1f %12s %14s\n' "$fmt" "$(echo "$bytes/1000000" | bc -l)" \
      "$secs" "$(echo "$bytes/1000000/$secs" | bc -l)" "$rows" "$(rss)"
    rm -f "$file" "$work"/data/datasets/*.jsonl
  done
done
