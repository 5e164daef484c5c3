"""`vectorize tasks ls|show|watch|cancel|retry` end to end: the real `vectorize` binary as the
client, talking to `vectorize_testkit serve` (the real server with scripted jobs; see
src/tasks/testing/scripted_job.h). Checks output, --json fidelity and the exit codes of
docs/cli.md: 0 ok/D, 1 F or 5xx, 2 usage/422, 3 404, 4 409, 5 C, 6 cannot connect/timeout.
"""

import http.server
import json
import os
import socket
import subprocess
import threading
import time
import unittest
import uuid

import harness
from harness import E2ETestCase, Server, rfc3339, wait_until

BASE_ENV = {"VECTORIZE_RETRY_BASE_SECONDS": "0.05"}


def cli_env(url=None, extra=None):
    env = {k: v for k, v in harness.clean_env().items()
           if not k.startswith("VZ_") and k not in ("NO_COLOR", "COLUMNS")}
    if url is not None:
        env["VZ_URL"] = url
    env.update(extra or {})
    return env


def run_cli(args, url=None, env=None, timeout=30):
    """Runs `vectorize tasks ARGS`; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([harness.vectorize_bin(), "tasks", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=cli_env(url, env), timeout=timeout)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def url_of(srv):
    return f"http://{srv.host}:{srv.port}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliReadTest(E2ETestCase):
    """Against a server without workers, so the inserted tasks stay as they are."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(harness.testkit_bin(), args=["--no-workers"])
        now = time.time()
        rows = [
            dict(task_type="training", task_status="D", tag="cli-a",
                 created_at=rfc3339(now - 600), end_date=rfc3339(now - 540)),
            dict(task_type="dataset_upload", task_status="F", tag="cli-b",
                 created_at=rfc3339(now - 3000), end_date=rfc3339(now - 2900),
                 error_msg="the file is not valid CSV"),
            dict(task_type="training", task_status="R", tag="cli-a",
                 created_at=rfc3339(now - 120)),
            dict(task_type="synthesis", task_status="C", tag="cli-c",
                 created_at=rfc3339(now - 300), end_date=rfc3339(now - 200)),
            dict(task_type="evaluation", task_status="Q", tag="cli-q",
                 created_at=rfc3339(now - 30)),
            dict(task_type="evaluation", task_status="F", tag="cli-retry",
                 created_at=rfc3339(now - 30), end_date=rfc3339(now - 20), error_msg="boom"),
            dict(task_type="model_upload", task_status="Q", tag="cli-cancel",
                 created_at=rfc3339(now - 10)),
        ]
        (cls.done, cls.failed, cls.running, cls.cancelled, cls.queued, cls.to_retry,
         cls.to_cancel) = cls.srv.insert(rows)
        cls.srv.start()
        cls.class_servers = [cls.srv]
        cls.url = url_of(cls.srv)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def cli(self, *args, **kw):
        return run_cli(list(args), url=self.url, **kw)

    # ------------------------------------------------------------------ ls

    def test_ls_json_is_the_api_json(self):
        code, out, err = self.cli("ls", "--json", "--within-hours", "24")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), self.srv.get_ok("/tasks", {"within_hours": 24}))
        self.assertEqual(len(json.loads(out)), 7)

    def test_ls_filters_reach_the_api(self):
        code, out, err = self.cli("ls", "--json", "--type", "training", "--type", "synthesis",
                                  "--status", "R", "--status", "done", "--status", "c",
                                  "--within-hours", "24")
        self.assertEqual(code, 0, err)
        got = json.loads(out)
        self.assertEqual(got, self.srv.get_ok("/tasks", [
            ("task_type", "training"), ("task_type", "synthesis"), ("status", "R"),
            ("status", "D"), ("status", "C"), ("within_hours", 24)]))
        self.assertEqual({t["id"] for t in got}, {self.done, self.running, self.cancelled})

        code, out, err = self.cli("ls", "--json", "--tag", "cli-a", "--within-hours", "24",
                                  "--limit", "1", "--offset", "1")
        self.assertEqual(code, 0, err)
        self.assertEqual([t["id"] for t in json.loads(out)], [self.done])  # newest first

    def test_ls_table(self):
        code, out, err = self.cli("ls", "--tag", "cli-a", "--within-hours", "24",
                                  env={"COLUMNS": "80"})
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        self.assertRegex(lines[0], r"^ID\s+TYPE\s+STATUS\s+TAG\s+CREATED\s+DURATION\s+PROGRESS$")
        self.assertRegex(lines[1], rf"^{self.running[-8:]}\s+training\s+RUNNING\s+cli-a\s+2m ago")
        self.assertRegex(lines[2], rf"^{self.done[-8:]}\s+training\s+DONE\s+cli-a\s+10m ago\s+"
                                   r"1m00s\s+100%$")
        for line in lines:
            self.assertLessEqual(len(line), 80, line)
        self.assertNotIn("\x1b[", out)  # not a terminal: no colours

        code, out, _ = self.cli("ls", "--status", "F", "--within-hours", "24", "--wide",
                                env={"COLUMNS": "200"})
        self.assertEqual(code, 0)
        self.assertIn(self.failed, out)
        self.assertIn("error: the file is not valid CSV", out)

        code, out, _ = self.cli("ls", "--tag", "no-such-tag")
        self.assertEqual((code, out), (0, "No tasks.\n"))

    def test_url_with_prefix_and_env(self):
        code, out, err = run_cli(["ls", "--json", "--url", self.url + "/v1/api",
                                  "--within-hours", "24"], url="http://127.0.0.1:1")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(json.loads(out)), 7)

    # ------------------------------------------------------------------ show

    def test_show(self):
        code, out, err = self.cli("show", self.failed)
        self.assertEqual(code, 0, err)
        self.assertIn(f"id:               {self.failed}\n", out)
        self.assertIn("type:             dataset_upload\n", out)
        self.assertIn("status:           F (FAILED)\n", out)
        self.assertIn("tag:              cli-b\n", out)
        self.assertIn("error_msg:        the file is not valid CSV\n", out)
        self.assertRegex(out, r"attempts:\s+\d+ of \d+\n")
        self.assertIn("inputs:\n", out)

        # the id's tail, as `ls` prints it
        code, out2, err = self.cli("show", self.failed[-8:].upper())
        self.assertEqual((code, out2), (0, out), err)
        code, _, err = self.cli("show", "abcdef12")
        self.assertEqual(code, 3, err)
        self.assertIn("no recent task id ends in 'abcdef12'", err)

        code, out, err = self.cli("show", self.running, "--json")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), self.srv.task(self.running))

    # ------------------------------------------------------------------ errors

    def test_unknown_id_is_exit_3(self):
        missing = str(uuid.uuid4())
        for args in (["show", missing], ["cancel", missing], ["retry", missing],
                     ["watch", missing]):
            code, out, err = self.cli(*args)
            self.assertEqual(code, 3, (args, out, err))
            self.assertIn("HTTP 404", err)
            self.assertEqual(out, "")

    def test_validation_errors_are_exit_2(self):
        code, _, err = self.cli("show", "not-a-uuid")
        self.assertEqual(code, 2, err)
        self.assertIn("HTTP 422: path.id: must be a UUID", err)
        code, _, err = self.cli("ls", "--limit", "1000")
        self.assertEqual(code, 2, err)
        self.assertIn("query.limit", err)
        code, _, err = self.cli("ls", "--status", "X")
        self.assertEqual(code, 2, err)
        # bad flags never reach the server
        for args in (["ls", "--limit", "many"], ["ls", "--bogus"], ["show"], ["frobnicate"],
                     []):
            code, _, err = self.cli(*args)
            self.assertEqual(code, 2, (args, err))
        code, _, err = self.cli("ls", "--url", "https://example.com")
        self.assertEqual(code, 2, err)

    def test_help_lists_exit_codes(self):
        code, out, _ = self.cli("watch", "--help")
        self.assertEqual(code, 0)
        self.assertIn("6  cannot connect", out)
        self.assertIn("--interval", out)

    # ------------------------------------------------------------------ cancel / retry

    def test_cancel_finished_task_is_conflict(self):
        code, out, err = self.cli("cancel", self.done)
        self.assertEqual(code, 4, (out, err))
        self.assertIn("HTTP 409", err)
        self.assertEqual(self.srv.task(self.done)["task_status"], "D")

    def test_cancel_queued_task(self):
        code, out, err = self.cli("cancel", self.to_cancel, "--reason", "wrong data")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, f"cancelled {self.to_cancel}\n")
        self.assertEqual(self.srv.task(self.to_cancel)["task_status"], "C")

    def test_retry(self):
        code, out, err = self.cli("retry", self.to_retry)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, f"queued again {self.to_retry}\n")
        self.assertEqual(self.srv.task(self.to_retry)["task_status"], "Q")
        code, out, err = self.cli("retry", self.queued)
        self.assertEqual(code, 4, (out, err))


class CliConnectionTest(E2ETestCase):

    def test_nothing_listening_is_exit_6(self):
        port = free_port()
        for args in (["ls"], ["show", str(uuid.uuid4())], ["watch", str(uuid.uuid4())],
                     ["cancel", str(uuid.uuid4())]):
            started = time.monotonic()
            code, out, err = run_cli(args, url=f"http://127.0.0.1:{port}")
            self.assertEqual(code, 6, (args, out, err))
            self.assertIn("cannot connect", err)
            self.assertLess(time.monotonic() - started, 5)

    def test_silent_server_times_out_with_exit_6(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)  # accepts connections (backlog), never answers
            started = time.monotonic()
            code, _, err = run_cli(["ls", "--timeout", "0.5"],
                                   url=f"http://127.0.0.1:{s.getsockname()[1]}")
            elapsed = time.monotonic() - started
        self.assertEqual(code, 6, err)
        self.assertIn("within", err)
        self.assertLess(elapsed, 5)

    def test_api_key_against_the_real_server(self):
        srv = self.start_server(harness.vectorize_bin(), args=["--no-workers"],
                                env={"VECTORIZE_API_KEYS": "alpha-key"})
        code, out, err = run_cli(["ls"], url=url_of(srv))
        self.assertEqual((code, out), (1, ""), err)
        self.assertIn("HTTP 401", err)
        self.assertIn("[UNAUTHORIZED]", err)
        self.assertEqual(run_cli(["ls", "--json", "--api-key", "alpha-key"], url=url_of(srv))[:2],
                         (0, "[]\n"))
        self.assertEqual(run_cli(["ls", "--json"], url=url_of(srv),
                                 env={"VZ_API_KEY": "alpha-key"})[:2], (0, "[]\n"))

    def test_api_key_and_server_errors(self):
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.path, self.headers.get("Authorization")))
                status, body = (503, b'{"code":"UNAVAILABLE","message":"draining"}') \
                    if "fail" in self.path else (200, b"[]")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/pre"
            self.assertEqual(run_cli(["ls", "--json"], url=url,
                                     env={"VZ_API_KEY": "k-env"})[:2], (0, "[]\n"))
            self.assertEqual(run_cli(["ls", "--api-key", "k-flag", "--tag", "a b&c"],
                                     url=url)[0], 0)
            self.assertEqual(run_cli(["ls"], url=url)[0], 0)
            code, _, err = run_cli(["ls", "--tag", "fail"], url=url)
            self.assertEqual(code, 1, err)
            self.assertIn("HTTP 503: draining [UNAVAILABLE]", err)
        finally:
            httpd.shutdown()
            httpd.server_close()
        self.assertEqual(seen[0], ("/pre/tasks", "Bearer k-env"))
        self.assertEqual(seen[1], ("/pre/tasks?tag=a%20b%26c", "Bearer k-flag"))
        self.assertEqual(seen[2], ("/pre/tasks", None))


class CliWatchTest(E2ETestCase):
    """Against a server with workers running scripted jobs."""

    def start_kit(self, **enqueue):
        srv = self.new_server(harness.testkit_bin(), env=BASE_ENV)
        (task_id,) = srv.enqueue(**enqueue)
        srv.start()
        return srv, task_id

    def watch(self, srv, task_id, *extra, interval="0.1"):
        return subprocess.Popen(
            [harness.vectorize_bin(), "tasks", "watch", task_id, "--interval", interval, *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=cli_env(url_of(srv)))

    def finish(self, proc, timeout=30):
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode(), err.decode()

    def test_watch_exits_0_when_done(self):
        srv, tid = self.start_kit(task_type="training", inputs={"ms": 150, "steps": 8},
                                  tag="w-done")
        code, out, err = self.finish(self.watch(srv, tid))
        self.assertEqual(code, 0, (out, err))
        lines = out.splitlines()
        self.assertEqual(lines[-1], f"{tid} DONE")
        self.assertTrue(any(l.startswith(f"{tid} RUNNING") for l in lines), out)
        self.assertEqual(len(lines), len(set(lines)), "plain output repeats only changes")

    def test_watch_follows_the_event_stream_not_the_interval(self):
        # With a 60 s interval only the event stream can tell the watcher of each change in time.
        srv, tid = self.start_kit(task_type="training", inputs={"ms": 300, "steps": 4})
        t0 = time.monotonic()
        code, out, err = self.finish(self.watch(srv, tid, interval="60"), timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(code, 0, (out, err))
        self.assertEqual(out.splitlines()[-1], f"{tid} DONE")
        self.assertTrue(any(l.startswith(f"{tid} RUNNING 50%") for l in out.splitlines()), out)
        self.assertLess(elapsed, 20, out)

    def test_watch_exits_1_when_failed(self):
        srv, tid = self.start_kit(task_type="evaluation", inputs={"fail": "permanent"})
        code, out, err = self.finish(self.watch(srv, tid))
        self.assertEqual(code, 1, (out, err))
        self.assertTrue(out.splitlines()[-1].startswith(f"{tid} FAILED error: "), out)

    def test_watch_exits_5_when_cancelled(self):
        srv, tid = self.start_kit(task_type="training", inputs={"ms": 200, "steps": 200})
        proc = self.watch(srv, tid)
        try:
            wait_until(lambda: srv.task(tid)["task_status"] == "R", 15, message="R")
            code, out, err = run_cli(["cancel", tid, "--reason", "enough"], url=url_of(srv))
            self.assertEqual(code, 0, err)
            self.assertEqual(out, f"cancel requested {tid}: the task stops at its next safe "
                                  f"point\n")
            code, out, err = self.finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(code, 5, (out, err))
        self.assertEqual(out.splitlines()[-1], f"{tid} CANCELLED")

        # C can be retried; it runs again
        code, out, err = run_cli(["retry", tid], url=url_of(srv))
        self.assertEqual((code, out), (0, f"queued again {tid}\n"), err)

    def test_watch_table_without_id(self):
        srv, tid = self.start_kit(task_type="synthesis", inputs={"ms": 100, "steps": 10},
                                  tag="w-list")
        proc = subprocess.Popen(
            [harness.vectorize_bin(), "tasks", "watch", "--tag", "w-list", "--interval", "0.1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=cli_env(url_of(srv)))
        try:
            wait_until(lambda: srv.task(tid)["task_status"] == "D", 20, message="D")
            time.sleep(0.5)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=10)
        out = out.decode()
        self.assertIn(tid[-8:], out)
        self.assertIn("DONE", out)
        self.assertRegex(out, r"(?m)^-- \d{4}-\d\d-\d\dT")
        self.assertRegex(out, r"(?m)^ID\s+TYPE\s+STATUS")


if __name__ == "__main__":
    unittest.main()
