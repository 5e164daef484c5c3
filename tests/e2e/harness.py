"""Shared helpers for the end-to-end tests: real binaries on loopback, standard library only.

Environment (set by CTest, see tests/CMakeLists.txt):
  VECTORIZE_TEST_BIN  path of build/vectorize
  VECTORIZE_TEST_KIT  path of build/vectorize_testkit (the same server with scripted jobs)

A Server owns a fresh temporary data directory (unless given one), starts
`<binary> serve --port 0 --data-dir DIR ...`, waits for the one stdout line
`listening on http://127.0.0.1:PORT`, and stops with SIGTERM (then SIGKILL on timeout).
Its stderr goes to a file in the temporary directory; E2ETestCase prints the log of every
server it started when a test fails or errors.
"""

import datetime as _dt
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

_LISTEN_RE = re.compile(r"^listening on http://([^:/\s]+):(\d+)\s*$")


def _binary(var):
    path = os.environ.get(var)
    if not path:
        raise unittest.SkipTest(f"{var} is not set (path of the binary under test)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{var}={path} is not an executable file")
    return path


def vectorize_bin():
    return _binary("VECTORIZE_TEST_BIN")


def testkit_bin():
    return _binary("VECTORIZE_TEST_KIT")


def clean_env(overrides=None):
    """The parent environment minus VECTORIZE_* settings (unknown ones are a start-up error and
    stray ones would change behaviour), plus the given overrides."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VECTORIZE_") or k.startswith("VECTORIZE_TEST_")}
    env.update({k: str(v) for k, v in (overrides or {}).items()})
    return env


# ---------------------------------------------------------------------------------------------
# Time helpers

def rfc3339(t):
    """datetime (aware, UTC) or epoch seconds → '2026-01-15T10:30:00Z' (whole seconds)."""
    if not isinstance(t, _dt.datetime):
        t = _dt.datetime.fromtimestamp(t, _dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


_RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def parse_rfc3339_z(text):
    """Parses an RFC 3339 UTC time that must end in 'Z'; returns an aware datetime."""
    if not isinstance(text, str) or not _RFC3339_Z.match(text):
        raise AssertionError(f"not an RFC 3339 UTC time ending in Z: {text!r}")
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------
# Server process

class Server:
    def __init__(self, binary, args=(), env=None, data_dir=None, workdir=None, start_timeout=15):
        self.binary = binary
        self.args = list(args)
        self.env = clean_env(env)
        self._own_dir = None
        if workdir is None:
            self._own_dir = tempfile.mkdtemp(prefix="vz-e2e-")
            workdir = self._own_dir
        self.workdir = workdir
        self.data_dir = data_dir or os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.start_timeout = start_timeout
        self.proc = None
        self.host = self.port = None
        self.log_path = None
        self._log_file = None
        self._stdout_tail = []
        self._drainer = None

    # -- lifecycle

    def start(self):
        n = 0
        while True:
            self.log_path = os.path.join(self.workdir, f"server-{n}.stderr.log")
            if not os.path.exists(self.log_path):
                break
            n += 1
        self._log_file = open(self.log_path, "wb")
        cmd = [self.binary, "serve", "--port", "0", "--data-dir", self.data_dir, *self.args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log_file, env=self.env)
        line_box = []

        def read_first_line():
            line_box.append(self.proc.stdout.readline().decode("utf-8", "replace"))

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        if not line_box:
            self.kill()
            raise RuntimeError(f"server did not print its listening line within "
                               f"{self.start_timeout}s: {cmd}\n{self.log_text()}")
        line = line_box[0]
        m = _LISTEN_RE.match(line)
        if not m:
            code = self.proc.poll()
            self.kill()
            raise RuntimeError(f"unexpected first stdout line {line!r} (exit code {code}) "
                               f"from {cmd}\n{self.log_text()}")
        self.host, self.port = m.group(1), int(m.group(2))
        # Keep draining stdout so the server can never block on a full pipe.
        self._drainer = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drainer.start()
        return self

    @property
    def extra_stdout(self):
        """stdout lines after the listening line (the contract is: exactly one line)."""
        return list(self._stdout_tail)

    def _drain_stdout(self):
        try:
            for raw in self.proc.stdout:
                self._stdout_tail.append(raw.decode("utf-8", "replace"))
                del self._stdout_tail[:-50]
        except (OSError, ValueError):
            pass

    def stop(self, timeout=15):
        """SIGTERM, wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                self._close()
                raise AssertionError(f"server did not exit within {timeout}s of SIGTERM\n"
                                     f"{self.log_text()}")
        self._close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL (kill -9): no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def _close(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.proc is not None and self.proc.stdout is not None and self.proc.poll() is not None:
            if self._drainer is not None:
                self._drainer.join(2)  # reads to EOF now that the process has exited
            try:
                self.proc.stdout.close()
            except OSError:
                pass

    def cleanup(self):
        """Stops the process if needed and removes the temporary directory this object made."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.kill()
        finally:
            if self._own_dir:
                shutil.rmtree(self._own_dir, ignore_errors=True)
                self._own_dir = None

    def log_text(self, max_chars=20000):
        if not self.log_path or not os.path.exists(self.log_path):
            return "(no server log)"
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if len(text) > max_chars:
            # Keep every line that is not an access-log line (task state, errors, warnings),
            # then the tail: a test that polls would otherwise push them out.
            head, tail = text[:-max_chars], text[-max_chars:]
            kept = [ln for ln in head.splitlines() if " info  http " not in ln[:40]]
            text = "\n".join(kept[-400:]) + "\n... (access-log lines left out) ...\n" + tail
        return text

    # -- HTTP

    def request(self, method, path, body=None, headers=None, timeout=10):
        """Returns (status, headers as a lower-cased dict, parsed JSON body or text or None)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                if isinstance(data, str):
                    data = data.encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            ctype = rh.get("content-type", "")
            if not raw:
                parsed = None
            elif "json" in ctype:
                parsed = json.loads(raw)
            else:
                parsed = raw.decode("utf-8", "replace")
            return resp.status, rh, parsed
        finally:
            conn.close()

    def get(self, path, params=None, **kw):
        return self.request("GET", with_query(path, params), **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def get_ok(self, path, params=None):
        status, _, body = self.get(path, params)
        if status != 200:
            raise AssertionError(f"GET {with_query(path, params)} → {status}: {body}")
        return body

    def task(self, task_id):
        return self.get_ok(f"/tasks/{task_id}")

    # -- direct store access through the testkit (safe while the server runs: SQLite WAL)

    def insert(self, tasks):
        return testkit_insert(self.data_dir, tasks)

    def enqueue(self, **kw):
        return testkit_enqueue(self.data_dir, **kw)


def with_query(path, params):
    """params: None, a query string, a dict (list values repeat the key) or a list of pairs."""
    if not params:
        return path
    if isinstance(params, str):
        return f"{path}?{params}"
    if isinstance(params, dict):
        return f"{path}?{urllib.parse.urlencode(params, doseq=True)}"
    return f"{path}?{urllib.parse.urlencode(list(params))}"


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _run_testkit(args, stdin_text=None):
    cmd = [testkit_bin(), *args]
    proc = subprocess.run(cmd, input=(stdin_text or "").encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=clean_env(), timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace')}")
    # Only the ids: on a fresh data directory the store's migration log line also lands on
    # stdout (the testkit leaves spdlog's default stdout logger in place).
    return [l.strip() for l in proc.stdout.decode().splitlines() if _UUID_RE.match(l.strip())]


def testkit_insert(data_dir, tasks):
    """Inserts task rows exactly as given (dicts with task_type, task_status, created_at, and
    optionally id, tag, end_date, error_msg; times RFC 3339 strings). Returns the ids in order."""
    lines = "\n".join(json.dumps(t) for t in tasks) + "\n"
    ids = _run_testkit(["insert", "--data-dir", data_dir], lines)
    if len(ids) != len(tasks):
        raise RuntimeError(f"testkit insert printed {len(ids)} ids for {len(tasks)} tasks")
    return ids


def testkit_enqueue(data_dir, task_type="training", count=1, inputs=None, tag=None,
                    max_attempts=None):
    args = ["enqueue", "--data-dir", data_dir, "--type", task_type, "--count", str(count),
            "--inputs", json.dumps(inputs if inputs is not None else {})]
    if tag is not None:
        args += ["--tag", tag]
    if max_attempts is not None:
        args += ["--max-attempts", str(max_attempts)]
    ids = _run_testkit(args)
    if len(ids) != count:
        raise RuntimeError(f"testkit enqueue printed {len(ids)} ids for {count} tasks")
    return ids


def metric(text, series):
    """The value of one series (name and labels, exactly as rendered) in Prometheus text, or
    None when it is absent."""
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return None if m is None else float(m.group(1))


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Polls predicate() until it returns a truthy value (returned) or timeout seconds pass
    (AssertionError naming the last value seen)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; "
                                 f"last value: {last!r}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# unittest integration

def dump_log(srv, test_id):
    sys.stderr.write(f"\n===== server log {srv.log_path} ({test_id}) =====\n"
                     f"{srv.log_text()}\n===== end of server log =====\n")

class E2ETestCase(unittest.TestCase):
    """Tracks the servers a test starts; stops them and removes their directories afterwards,
    and prints their stderr logs when the test failed or errored. Servers a class shares (started
    in setUpClass) go in the class attribute `class_servers`; their logs are printed too."""

    class_servers = ()

    maxDiff = None

    def setUp(self):
        super().setUp()
        self._servers = []
        self._tmpdirs = []
        self.addCleanup(self._cleanup_servers)

    def make_tmpdir(self):
        d = tempfile.mkdtemp(prefix="vz-e2e-")
        self._tmpdirs.append(d)
        return d

    def new_server(self, binary, args=(), env=None, data_dir=None, workdir=None):
        """A server with its data directory ready but not started yet (e.g. to queue tasks
        first: a starting engine finds them at once instead of at its next idle poll)."""
        srv = Server(binary, args=args, env=env, data_dir=data_dir, workdir=workdir)
        self._servers.append(srv)
        return srv

    def start_server(self, binary, args=(), env=None, data_dir=None, workdir=None):
        return self.new_server(binary, args, env, data_dir, workdir).start()

    def _failed(self):
        # Cleanups run inside their own "test part", where outcome.success reads True again;
        # the result object already holds this test's failures and errors (also of subtests).
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        if result is None:
            return not getattr(outcome, "success", True)
        for test, _ in list(getattr(result, "failures", [])) + list(getattr(result, "errors", [])):
            if getattr(test, "test_case", test) is self:
                return True
        return False

    def _cleanup_servers(self):
        failed = self._failed()
        for srv in self._servers:
            if srv.proc is not None and srv.proc.poll() is None:
                try:
                    srv.stop(timeout=10)
                except AssertionError as e:
                    failed = True
                    sys.stderr.write(f"\n{e}\n")
            if failed:
                dump_log(srv, self.id())
        if failed:
            for srv in getattr(type(self), "class_servers", []):
                dump_log(srv, self.id())
        for srv in self._servers:
            srv.cleanup()
        for d in self._tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
