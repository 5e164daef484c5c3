#!/usr/bin/env bash
# Embeddings throughput (SPEC §4): the real server vs the Python reference (python3-torch,
# tests/fixtures/reference_embed.py) on a MiniLM-sized random model (6 layers, 384 hidden,
# 12 heads, 1536 FFN), in the same run, printed as ratios.
#   (a) requests of 32 short sentences, one client
#   (b) single short sentences from 16 concurrent clients (dynamic batching)
#   (c) requests of 32 inputs of 256 tokens, one client
# Python runs the same id sequences: (a) and (c) in batches of 32, (b) one sentence at a time
# (what a Python service without cross-request batching does per request).
#
#   bench/embeddings.sh   # VECTORIZE_BIN=… overrides build/vectorize; REQUESTS=… scales each
#                         # round; ROUNDS=… (default 3) alternating server/Python rounds
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VECTORIZE_BIN:-build/vectorize}
unset VECTORIZE_BIN  # the server refuses VECTORIZE_* variables that are not settings
PY=/usr/bin/python3
REQ=${REQUESTS:-10}
WORK=$(mktemp -d /tmp/vz-bench-emb.XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

MODEL=$WORK/generated/minilm
$PY tests/fixtures/make_test_model.py --out "$MODEL" --minilm --normalize --max-seq-length 256 >/dev/null
python3 bench/embeddings_load.py corpus --tokenizer "$MODEL/tokenizer.json" --out "$WORK"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
for name in ("short", "long"):
    with open(f"{w}/{name}.ids.jsonl", "w") as f:
        for line in open(f"{w}/{name}.jsonl"):
            f.write(json.dumps(json.loads(line)["ids"]) + "\n")
PY

# Default settings: requests wait for the batcher on the blocking threads, not the HTTP ones.
"$BIN" serve --no-workers --port 0 --data-dir "$WORK/data" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/server.out" && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$WORK/server.out" | head -1)
[ -n "$URL" ] || { echo "embeddings.sh: the server did not start:" >&2; cat "$WORK/server.err" >&2; exit 1; }
# Register the model the way a user would: a zip of its folder through POST /uploads/local.
(cd "$WORK/generated" && python3 -m zipfile -c "$WORK/minilm.zip" minilm)
curl -sf -F "file=@$WORK/minilm.zip" "$URL/uploads/local" >/dev/null ||
  { echo "embeddings.sh: uploading the model failed" >&2; exit 1; }

load() { python3 bench/embeddings_load.py run --url "$URL" --model minilm "$@"; }
pyref() { $PY tests/fixtures/reference_embed.py bench --model "$MODEL" "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# Each workload runs on the server and then in Python right after, ROUNDS times (default 3),
# alternating, so that the load of a shared machine drifts as little as possible between the two
# figures of a ratio; each side reports its median round (by sentences/s).
ROUNDS=${ROUNDS:-3}
head -n $((REQ * 32)) "$WORK/short.ids.jsonl" > "$WORK/shortA.ids.jsonl"
head -n $((REQ * 16)) "$WORK/short.ids.jsonl" > "$WORK/short1.ids.jsonl"
head -n $(((REQ / 4 + 1) * 32)) "$WORK/long.ids.jsonl" > "$WORK/longC.ids.jsonl"
median() {  # median FILE: the JSON line with the median sentences_per_s
  python3 -c "import json,sys; r=sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda d: d['sentences_per_s']); print(json.dumps(r[len(r)//2]))" "$1"
}
rounds() {  # rounds NAME 'server command' 'python command'
  local name=$1
  : > "$WORK/$name.vz"; : > "$WORK/$name.py"
  for _ in $(seq "$ROUNDS"); do
    eval "$2" >> "$WORK/$name.vz"
    eval "$3" | tail -1 >> "$WORK/$name.py"
  done
}
rounds a 'load --file "$WORK/short.jsonl" --batch 32 --clients 1 --requests "$REQ"' \
  'pyref --ids-file "$WORK/shortA.ids.jsonl" --batch-size 32'
rounds b 'load --file "$WORK/short.jsonl" --batch 1 --clients 16 --requests $((REQ * 32))' \
  'pyref --ids-file "$WORK/short1.ids.jsonl" --batch-size 1'
rounds c 'load --file "$WORK/long.jsonl" --batch 32 --clients 1 --requests $((REQ / 4 + 1))' \
  'pyref --ids-file "$WORK/longC.ids.jsonl" --batch-size 32'
A=$(median "$WORK/a.vz"); PA=$(median "$WORK/a.py")
B=$(median "$WORK/b.vz"); PB=$(median "$WORK/b.py")
C=$(median "$WORK/c.vz"); PC=$(median "$WORK/c.py")

echo "model: 6 layers x 384 hidden, 12 heads, 1536 FFN (random), normalised; $(nproc) vCPUs; load $(cut -d" " -f1-3 /proc/loadavg); median of $ROUNDS rounds"
printf "%-38s %12s %9s %9s %12s %9s %9s %7s\n" workload "vz sent/s" "p50 ms" "p99 ms" "py sent/s" "p50 ms" "p99 ms" ratio
row() {
  local name=$1 v=$2 p=$3
  local vs ps
  vs=$(field "$v" sentences_per_s); ps=$(field "$p" sentences_per_s)
  printf "%-38s %12s %9s %9s %12s %9s %9s %7.2f\n" "$name" "$vs" "$(field "$v" p50_ms)" \
    "$(field "$v" p99_ms)" "$ps" "$(field "$p" batch_p50_ms)" "$(field "$p" batch_p99_ms)" \
    "$(python3 -c "print($vs/$ps)")"
}
row "(a) batch of 32 short sentences" "$A" "$PA"
row "(b) 16 clients, 1 short sentence each" "$B" "$PB"
row "(c) 32 inputs of 256 tokens" "$C" "$PC"
errors() { python3 -c "import json,sys; print(sum(json.loads(l)['errors'] for l in open(sys.argv[1])))" "$1"; }
echo "errors (all rounds): a=$(errors "$WORK/a.vz") b=$(errors "$WORK/b.vz") c=$(errors "$WORK/c.vz")"
