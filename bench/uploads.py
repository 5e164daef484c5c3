"""Driver of bench/uploads.sh: see there. Stdlib only (the model generator runs under
/usr/bin/python3 for numpy)."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from models_fixtures import FakeHub, make_model  # noqa: E402

SHAPES = {
    "small": ["--layers", "2", "--hidden", "128", "--heads", "2", "--intermediate", "512"],
    "base": ["--layers", "12", "--hidden", "768", "--heads", "12", "--intermediate", "3072"],
}


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def run_one(binary, hub, name, repo_dir):
    data = tempfile.mkdtemp(prefix="vz-bench-uploads-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTORIZE_")}
    env.update({"HF_ENDPOINT": hub.url, "VECTORIZE_LOG_LEVEL": "warn"})
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        line = proc.stdout.readline().decode()
        base = line.strip().split()[-1]
        idle = rss_kb(proc.pid)
        size = sum(os.path.getsize(os.path.join(b, f)) for b, _, fs in os.walk(repo_dir) for f in fs)
        t0 = time.monotonic()
        task = call(base + "/uploads/huggingface", "POST", {"model_tag": f"bench/{name}"})
        peak_dl = 0
        t_dl_end = None
        while True:
            t = call(base + f"/tasks/{task['id']}")
            if t_dl_end is None:
                peak_dl = max(peak_dl, rss_kb(proc.pid))
                msg = t.get("progress_msg") or ""
                if t["task_status"] != "R" and t["task_status"] != "Q" or msg.startswith(
                        ("validating", "registered")):
                    t_dl_end = time.monotonic()
            if t["task_status"] in ("D", "F", "C"):
                break
            time.sleep(0.05)
        t_end = time.monotonic()
        hwm = rss_kb(proc.pid, "VmHWM")
        if t["task_status"] != "D":
            print(f"{name}: task ended {t['task_status']}: {t.get('error_msg')}")
            return
        dl = (t_dl_end or t_end) - t0
        print(f"{name:6s} {size / 1e6:8.1f} MB  download {dl:6.2f} s = {size / 1e6 / dl:7.1f} MB/s  "
              f"total with validation {t_end - t0:6.2f} s  RSS idle {idle / 1024:6.1f} MB, "
              f"peak while downloading {peak_dl / 1024:6.1f} MB, peak overall (load check) "
              f"{hwm / 1024:6.1f} MB")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def curl_baseline(hub, name, repo_dir):
    out = tempfile.mktemp()
    call(f"{hub.url}/api/models/bench/{name}?blobs=true")  # the fake Hub hashes files once
    url = f"{hub.url}/bench/{name}/resolve/main/model.safetensors"
    t0 = time.monotonic()
    subprocess.run(["curl", "-sSL", "-o", out, url], check=True)
    dt = time.monotonic() - t0
    size = os.path.getsize(out)
    os.unlink(out)
    print(f"{name:6s} curl baseline of model.safetensors: {size / 1e6:.1f} MB in {dt:.2f} s = "
          f"{size / 1e6 / dt:.1f} MB/s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sizes", default="small,base")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="vz-bench-hub-")
    try:
        names = args.sizes.split(",")
        for n in names:
            make_model(os.path.join(root, "models", "bench", n), *SHAPES[n])
        hub = FakeHub(root)
        try:
            for n in names:
                curl_baseline(hub, n, os.path.join(root, "models", "bench", n))
                run_one(args.bin, hub, n, os.path.join(root, "models", "bench", n))
        finally:
            hub.stop()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
