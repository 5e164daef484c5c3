#!/usr/bin/env bash
# Engine throughput on PostgreSQL with several worker processes (SPEC §4: ≥ 10,000 no-op
# tasks/s with 4 worker processes). Preloads N tasks {} (the scripted test job with no steps'
# delay), starts W `vectorize_testkit worker` processes against the same database, and measures
# the time until every task is D (polled with psql). Prints tasks/s and checks the counts.
#
#   bench/engine_pg.sh POSTGRES_URL [TASKS=100000] [WORKERS=4] [CONCURRENCY=8] [TYPES=5]
#
# The database should be empty or disposable: the script drops and recreates its task tables'
# rows (TRUNCATE) first. Needs psql (Debian postgresql-client) and build/vectorize_testkit.
set -euo pipefail
url="${1:?usage: bench/engine_pg.sh POSTGRES_URL [TASKS] [WORKERS] [CONCURRENCY] [TYPES]}"
tasks="${2:-100000}"
workers="${3:-4}"
conc="${4:-8}"
ntypes="${5:-5}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="${VECTORIZE_TEST_KIT:-$repo/build/vectorize_testkit}"
types=(model_upload dataset_upload training evaluation synthesis)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

q() { psql "$url" -qtAX -c "$1"; }
# Schema (migrations) through the product, then an empty queue.
"$kit" enqueue --database-url "$url" --type training --count 1 >/dev/null
q "TRUNCATE model_upload_task, dataset_upload_task, training_task, evaluation_task, synthesis_task"

per=$((tasks / ntypes))
t0=$(date +%s.%N)
for ((i = 0; i < ntypes; i++)); do
  "$kit" enqueue --database-url "$url" --type "${types[$i]}" --count "$per" >/dev/null
done
t1=$(date +%s.%N)
total=$((per * ntypes))

env_conc=()
for t in "${types[@]}"; do env_conc+=("VECTORIZE_CONCURRENCY_${t^^}=$conc"); done
t2=$(date +%s.%N)
for ((w = 0; w < workers; w++)); do
  env "${env_conc[@]}" VECTORIZE_LOG_LEVEL=warn "$kit" worker --database-url "$url" \
    --data-dir "$tmp/w$w" 2>"$tmp/w$w.log" &
  pids+=($!)
done
count_done() {
  q "SELECT (SELECT count(*) FROM model_upload_task WHERE task_status='D') +
            (SELECT count(*) FROM dataset_upload_task WHERE task_status='D') +
            (SELECT count(*) FROM training_task WHERE task_status='D') +
            (SELECT count(*) FROM evaluation_task WHERE task_status='D') +
            (SELECT count(*) FROM synthesis_task WHERE task_status='D')"
}
while :; do
  done_now=$(count_done)
  [[ "$done_now" -ge "$total" ]] && break
  sleep 0.05
done
t3=$(date +%s.%N)
others=$(q "SELECT (SELECT count(*) FROM model_upload_task WHERE task_status<>'D') +
                   (SELECT count(*) FROM dataset_upload_task WHERE task_status<>'D') +
                   (SELECT count(*) FROM training_task WHERE task_status<>'D') +
                   (SELECT count(*) FROM evaluation_task WHERE task_status<>'D') +
                   (SELECT count(*) FROM synthesis_task WHERE task_status<>'D')")
awk -v n="$total" -v e="$(echo "$t1 - $t0" | bc)" -v d="$(echo "$t3 - $t2" | bc)" \
  -v w="$workers" -v c="$conc" -v k="$ntypes" -v o="$others" 'BEGIN {
  printf "engine_pg: %d tasks over %d types, %d worker processes, concurrency %d per type\n", n, k, w, c
  printf "  enqueue: %.2f s -> %.0f tasks/s\n", e, n / e
  printf "  workers start -> all D: %.2f s -> %.0f tasks/s\n", d, n / d
  printf "  check: %d D, %d in other states -> %s\n", n, o, (o == 0 ? "OK" : "MISMATCH")
  exit (o == 0 ? 0 : 1)
}'
