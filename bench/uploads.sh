#!/usr/bin/env bash
# Model import from the Hub (SPEC §3.2, §4): download throughput (MB/s) from the local fake Hub
# (tests/fixtures/fake_hub.py) and the server's peak RSS while it downloads, for a small model and
# a ~440 MB one (BERT-base shape, random weights): memory must not grow with the model's size.
#
#   bench/uploads.sh [--sizes small,base] [--keep]
#
# Builds build/vectorize if missing (BUILD_DIR overrides <repo>/build). Needs /usr/bin/python3
# with numpy (make_test_model.py). Prints one line per model and a curl baseline of the same file
# from the same fake Hub (the fake Hub, a Python server, is usually the bottleneck).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
if [[ ! -x "$build/vectorize" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target vectorize -j2
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
exec python3 "$repo/bench/uploads.py" --bin "$build/vectorize" "$@"
