#!/usr/bin/env python3
"""Load generator for bench/embeddings.sh (standard library only).

  embeddings_load.py corpus --tokenizer tokenizer.json --out DIR
      writes short.jsonl (texts + ids of short sentences) and long.jsonl (256-token inputs);
      sentences are built from whole-word vocabulary entries, so their ids are known exactly
      ([CLS] word ids [SEP]) and the Python reference embeds the very same sequences.
  embeddings_load.py run --url http://HOST:PORT --model TAG --file short.jsonl
                         --batch 32 --clients 1 --requests 50
      sends requests of `batch` texts from `clients` threads (keep-alive) and prints JSON:
      sentences/s and p50/p99 request latency.
"""

import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse


def corpus(args):
    vocab = json.load(open(args.tokenizer))["model"]["vocab"]
    words = sorted(w for w in vocab if w.isascii() and w.isalpha() and w.islower() and len(w) > 2)
    rng = random.Random(42)
    with open(f"{args.out}/short.jsonl", "w") as f:
        for _ in range(4096):
            ws = [rng.choice(words) for _ in range(rng.randint(8, 14))]
            f.write(json.dumps({"text": " ".join(ws), "ids": [101] + [vocab[w] for w in ws] + [102]}) + "\n")
    with open(f"{args.out}/long.jsonl", "w") as f:
        for _ in range(256):
            ws = [rng.choice(words) for _ in range(254)]
            f.write(json.dumps({"text": " ".join(ws), "ids": [101] + [vocab[w] for w in ws] + [102]}) + "\n")


def run(args):
    url = urllib.parse.urlparse(args.url)
    texts = [json.loads(line)["text"] for line in open(args.file)]
    latencies = []
    lock = threading.Lock()
    counter = iter(range(args.requests))
    errors = []

    def client(seed):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        rng = random.Random(seed)
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            batch = [texts[rng.randrange(len(texts))] for _ in range(args.batch)]
            body = json.dumps({"input": batch if args.batch > 1 else batch[0], "model": args.model})
            t0 = time.perf_counter()
            conn.request("POST", "/v1/embeddings", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            dt = time.perf_counter() - t0
            if resp.status != 200:
                errors.append((resp.status, data[:200]))
                continue
            with lock:
                latencies.append(dt)

    # Warm-up: load the model, first passes.
    warm = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    for _ in range(3):
        warm.request("POST", "/v1/embeddings", body=json.dumps({"input": texts[:args.batch], "model": args.model}),
                     headers={"Content-Type": "application/json"})
        warm.getresponse().read()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - start
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa
    print(json.dumps({"requests": len(latencies), "errors": len(errors),
                      "sentences_per_s": round(len(latencies) * args.batch / total, 1),
                      "p50_ms": round(pct(0.5), 2), "p99_ms": round(pct(0.99), 2)}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--tokenizer", required=True)
    c.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--model", required=True)
    r.add_argument("--file", required=True)
    r.add_argument("--batch", type=int, default=32)
    r.add_argument("--clients", type=int, default=1)
    r.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    corpus(args) if args.cmd == "corpus" else run(args)


if __name__ == "__main__":
    main()
