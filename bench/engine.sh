#!/usr/bin/env bash
# Task engine throughput on SQLite (SPEC §4: >= 20,000 no-op tasks/s, enqueue -> done).
#
#   bench/engine.sh [engine_bench options]
#
# Builds build/engine_bench if it is missing (BUILD_DIR overrides <repo>/build), then runs it.
# Without options it runs the default matrix: no-op job, 100,000 tasks, one type x 8 workers and
# five types x 8 workers, each in "preload" (enqueue all, then drain) and "live" (engine running
# while enqueueing) modes, plus the ScriptedJob on one type, plus the store alone (--mode store:
# one thread, claim batches of 1, 8, 64, no engine). With options, one run with them, e.g.
#   bench/engine.sh --tasks 200000 --types 5 --concurrency 4 --mode live --job scripted
# Options: --tasks N --batch B --concurrency C --types 1|5 --job noop|scripted
#          --mode live|preload|both|store --data-dir DIR --keep --breakdown
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
bin="${ENGINE_BENCH_BIN:-$build/engine_bench}"
if [[ ! -x "$bin" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target engine_bench -j"$(nproc)"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
if [[ $# -gt 0 ]]; then
  exec "$bin" "$@"
fi
rc=0
"$bin" --tasks 100000 --types 1 --concurrency 8 || rc=1
"$bin" --tasks 100000 --types 5 --concurrency 8 || rc=1
"$bin" --tasks 100000 --types 1 --concurrency 8 --job scripted || rc=1
"$bin" --tasks 100000 --mode store || rc=1
exit $rc
