"""Fixtures of the model e2e tests: random test models (tests/fixtures/make_test_model.py, run
with Debian's /usr/bin/python3, which has numpy), the fake Hub/GitHub server
(tests/fixtures/fake_hub.py) as a child process, zips and multipart bodies."""

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
MAKE_MODEL = os.path.join(FIXTURES, "make_test_model.py")
FAKE_HUB = os.path.join(FIXTURES, "fake_hub.py")
TORCH_PYTHON = os.environ.get("VZ_TORCH_PYTHON", "/usr/bin/python3")
TEST_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data",
                                          "vectorize-test-data"))
if not os.path.isdir(TEST_DATA):
    TEST_DATA = "/work/shared/data/vectorize-test-data"


def make_model(out, *args):
    """A deterministic random BERT folder (2 layers, hidden 32: ~4.5 MB) at `out`."""
    subprocess.run([TORCH_PYTHON, MAKE_MODEL, "--out", out, *args], check=True,
                   stdout=subprocess.DEVNULL)
    return out


class FakeHub:
    """fake_hub.py on a free port, serving `root`."""

    def __init__(self, root, *args):
        self.proc = subprocess.Popen([sys.executable, FAKE_HUB, "--root", root, "--port", "0",
                                      *args], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        parts = line.split()
        if len(parts) < 5 or parts[0] != "listening":
            self.proc.kill()
            raise RuntimeError(f"fake hub did not start: {line!r}")
        self.url, self.cdn = parts[2], parts[4]
        self.github = self.url + "/github"

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def fault(self, **spec):
        return self._call("POST", "/_control/faults", spec)

    def clear(self):
        self._call("DELETE", "/_control/faults")
        self._call("DELETE", "/_control/log")

    def log(self):
        return self._call("GET", "/_control/log")["requests"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def zip_dir(src, arc_prefix=""):
    """Bytes of a zip holding src's files under arc_prefix."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for base, _, files in os.walk(src):
            for f in files:
                full = os.path.join(base, f)
                rel = os.path.relpath(full, src)
                z.write(full, os.path.join(arc_prefix, rel) if arc_prefix else rel)
    return buf.getvalue()


def multipart(field, filename, content, content_type="application/zip"):
    """(body, Content-Type header) of a multipart/form-data request with one file."""
    boundary = "vz" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
