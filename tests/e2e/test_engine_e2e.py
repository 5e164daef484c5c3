"""The task engine end to end: `vectorize_testkit serve` (the real server with a scripted job
registered for every task type; see src/tasks/testing/scripted_job.h), driven through the HTTP API.

Tasks are queued from another process (`vectorize_testkit enqueue`), which the server picks up
within about a second (idle poll).
"""

import re
import time
import unittest

import harness
from harness import metric, E2ETestCase, parse_rfc3339_z, wait_until

TYPES = ["model_upload", "dataset_upload", "training", "evaluation", "synthesis"]

# Fast retries; everything else at its default unless a test says otherwise.
BASE_ENV = {"VECTORIZE_RETRY_BASE_SECONDS": "0.05"}
STEP_RE = re.compile(r"^step (\d+)/(\d+)$")




class EngineE2ETest(E2ETestCase):

    def start_kit(self, env=None, args=(), queue=None):
        """Starts `vectorize_testkit serve`; `queue(srv)` runs first, to enqueue tasks before
        the engine starts (so it claims them at once). Returns (server, queue's result)."""
        srv = self.new_server(harness.testkit_bin(), args=args, env={**BASE_ENV, **(env or {})})
        queued = queue(srv) if queue else None
        srv.start()
        return (srv, queued) if queue else srv

    def status_of(self, srv, task_id):
        return srv.task(task_id)["task_status"]

    def wait_status(self, srv, task_id, status, timeout):
        return wait_until(lambda: (lambda t: t if t["task_status"] == status else None)(
            srv.task(task_id)), timeout, interval=0.02,
            message=f"task {task_id} to reach {status}")

    def running(self, srv, ttype):
        return metric(srv.get("/metrics")[2], f'vectorize_engine_running{{task_type="{ttype}"}}')

    # ------------------------------------------------------------------ normal life

    def test_queued_running_done_with_progress(self):
        srv, (first, second) = self.start_kit(
            {"VECTORIZE_CONCURRENCY_TRAINING": "1"},
            queue=lambda s: s.enqueue(task_type="training", count=2,
                                      inputs={"ms": 100, "steps": 15}, tag="life"))
        seen = {first: [], second: []}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for tid in (first, second):
                t = srv.task(tid)
                seen[tid].append((t["task_status"], t["progress"], t["progress_msg"]))
            if seen[second][-1][0] == "D":
                break
            time.sleep(0.02)
        for tid in (first, second):
            statuses = [s for s, _, _ in seen[tid]]
            # Q… R… D, nothing else, in that order.
            compressed = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
            self.assertIn(compressed, (["Q", "R", "D"], ["R", "D"]), compressed)
            self.assertEqual(statuses[-1], "D")
            # Progress visible while running, monotonic, with the job's message.
            during = [(p, m) for s, p, m in seen[tid] if s == "R" and p is not None]
            self.assertTrue(any(0 < p < 1 for p, _ in during), seen[tid])
            fractions = [p for p, _ in during]
            self.assertEqual(fractions, sorted(fractions))
            for p, m in during:
                k, n = map(int, STEP_RE.match(m).groups())
                self.assertEqual(n, 15)
                self.assertAlmostEqual(p, k / 15, places=6)
        # The second waited in the queue while the first ran (training concurrency 1).
        self.assertEqual(seen[second][0][0], "Q")
        self.assertTrue(any(s == "R" for s, _, _ in seen[first]))
        d = srv.task(first)
        self.assertEqual(d["task_status"], "D")
        self.assertEqual((d["progress"], d["progress_msg"]), (1.0, "step 15/15"))
        self.assertEqual(d["result"], {"ok": True})
        self.assertEqual(d["attempts"], 1)
        self.assertIsNone(d["error_msg"])
        self.assertIsNone(d["lease_expires_at"])
        started, ended = parse_rfc3339_z(d["started_at"]), parse_rfc3339_z(d["end_date"])
        self.assertGreaterEqual((ended - started).total_seconds(), 1.4)
        self.assertLessEqual(parse_rfc3339_z(d["created_at"]), started)
        d2 = srv.task(second)
        # It started only once the first had finished. (Tolerance: the engine frees the slot
        # when the job returns and records D asynchronously, so the next claim's started_at
        # can precede the previous end_date by a little; see the e2e report.)
        started2 = parse_rfc3339_z(d2["started_at"])
        self.assertGreaterEqual((started2 - started).total_seconds(), 1.4)
        self.assertGreaterEqual((started2 - ended).total_seconds(), -0.1)
        # The list agrees.
        listed = srv.get_ok("/tasks", "tag=life")
        self.assertEqual([r["id"] for r in listed], [second, first])
        self.assertEqual([r["task_status"] for r in listed], ["D", "D"])
        text = srv.get("/metrics")[2]
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="done"}'), 2)
        self.assertEqual(metric(text, 'vectorize_tasks{task_type="training",status="D"}'), 2)

    def test_every_type_runs(self):
        srv, ids = self.start_kit(queue=lambda s: {
            t: s.enqueue(task_type=t, count=2, inputs={"ms": 10, "steps": 2}) for t in TYPES})
        wait_until(lambda: all(self.status_of(srv, i) == "D" for l in ids.values() for i in l),
                   10, message="every task D")
        stats = srv.get_ok("/tasks/stats")
        for t in TYPES:
            self.assertEqual(stats["by_type"][t]["D"], 2, stats)
        self.assertEqual(stats["total"], 10)

    def test_running_never_exceeds_the_concurrency_limit(self):
        env = {f"VECTORIZE_CONCURRENCY_{t.upper()}": "3" for t in TYPES}
        srv, _ = self.start_kit(env, queue=lambda s: [
            s.enqueue(task_type=t, count=30, inputs={"ms": 20, "steps": 2}) for t in TYPES])
        worst = {t: 0 for t in TYPES}

        def all_done():
            by_type = srv.get_ok("/tasks/stats")["by_type"]
            for t in TYPES:
                worst[t] = max(worst[t], by_type[t]["R"])
            return all(by_type[t]["D"] == 30 for t in TYPES)

        wait_until(all_done, 30, interval=0, message="every task D")
        self.assertEqual(worst, {t: 3 for t in TYPES}, "most tasks R at once, per type")

    # ------------------------------------------------------------------ cancel

    def test_cancel_queued_task_is_immediate(self):
        srv, [blocker] = self.start_kit(
            {"VECTORIZE_CONCURRENCY_TRAINING": "1"},
            queue=lambda s: s.enqueue(task_type="training", inputs={"ms": 100, "steps": 100}))
        self.wait_status(srv, blocker, "R", 5)
        [queued] = srv.enqueue(task_type="training", inputs={"ms": 10, "steps": 1})
        self.assertEqual(self.status_of(srv, queued), "Q")
        status, headers, body = srv.post(f"/tasks/{queued}/cancel", {"reason": "not needed"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["id"], queued)
        self.assertEqual(body["task_status"], "C")
        self.assertIsNotNone(body["end_date"])
        self.assertEqual(headers.get("location"), f"/tasks/{queued}")
        d = srv.task(queued)
        self.assertEqual(d["task_status"], "C")
        self.assertIsNone(d["started_at"])
        self.assertEqual(d["error_msg"], "not needed")
        # Cancelling again is a conflict.
        status, _, body = srv.post(f"/tasks/{queued}/cancel")
        self.assertEqual((status, body["code"]), (409, "CONFLICT"))
        # Free the worker: the cancelled task never runs.
        status, _, body = srv.post(f"/tasks/{blocker}/cancel")
        self.assertEqual(status, 202, body)
        self.wait_status(srv, blocker, "C", 2)
        wait_until(lambda: self.running(srv, "training") == 0, 5, message="no training running")
        self.assertEqual(self.status_of(srv, queued), "C")
        text = srv.get("/metrics")[2]
        self.assertEqual(metric(text, "vectorize_engine_claimed_total"), 1)
        # A cancelled task can be retried: back to Q, attempts 2, then it runs to D.
        status, headers, body = srv.post(f"/tasks/{queued}/retry")
        self.assertEqual(status, 202, body)
        self.assertEqual((body["task_status"], body["attempts"]), ("Q", 2))
        self.assertIsNone(body["end_date"])
        self.assertEqual(headers.get("location"), f"/tasks/{queued}")
        d = self.wait_status(srv, queued, "D", 5)
        self.assertEqual(d["attempts"], 2)

    def test_cancel_running_task_every_type(self):
        srv, ids = self.start_kit(queue=lambda s: {
            t: s.enqueue(task_type=t, inputs={"ms": 100, "steps": 300})[0] for t in TYPES})
        for t, tid in ids.items():
            wait_until(lambda: (lambda d: d["task_status"] == "R" and d["progress"])(srv.task(tid)),
                       5, message=f"{t} running with progress")
        figures = {}
        for t, tid in ids.items():
            with self.subTest(task_type=t):
                t0 = time.monotonic()
                status, headers, body = srv.post(f"/tasks/{tid}/cancel",
                                                 {"reason": f"no longer needed ({t})"})
                self.assertEqual(status, 202, body)
                self.assertEqual(body["task_status"], "R")
                self.assertTrue(body["cancel_requested"])
                self.assertEqual(headers.get("location"), f"/tasks/{tid}")
                d = self.wait_status(srv, tid, "C", 3)
                figures[t] = time.monotonic() - t0
                self.assertLess(figures[t], 1.5)
                self.assertEqual(d["error_msg"], f"no longer needed ({t})")  # the reason stays
                self.assertIsNotNone(d["end_date"])
                self.assertIsNone(d["lease_expires_at"])
                self.assertLess(d["progress"], 1.0)
                # A second cancel is a conflict now.
                status, _, body = srv.post(f"/tasks/{tid}/cancel")
                self.assertEqual((status, body["code"]), (409, "CONFLICT"))
        print(f"\n  cancel R→C latency (s): "
              + ", ".join(f"{t}={v:.3f}" for t, v in figures.items()))
        text = srv.get("/metrics")[2]
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="cancelled"}'), 5)

    def test_cancel_job_that_ignores_the_token(self):
        # 4 s of work that never looks at the cancel token, one per type.
        srv, ids = self.start_kit(queue=lambda s: {
            t: s.enqueue(task_type=t, inputs={"ms": 100, "steps": 40,
                                              "ignore_cancel": True})[0] for t in TYPES})
        for t, tid in ids.items():
            self.wait_status(srv, tid, "R", 5)
        # Cancel them all at once (well before any of them could finish on its own)...
        t0 = {}
        for t, tid in ids.items():
            t0[t] = time.monotonic()
            status, _, body = srv.post(f"/tasks/{tid}/cancel",
                                       {"reason": "stop"} if t == "training" else None)
            self.assertEqual(status, 202, body)
            self.assertTrue(body["cancel_requested"])
        # ...and time each one's R → C.
        figures = {}

        def all_cancelled():
            for t, tid in ids.items():
                if t not in figures and srv.task(tid)["task_status"] == "C":
                    figures[t] = time.monotonic() - t0[t]
            return len(figures) == len(ids)

        wait_until(all_cancelled, 3, interval=0.02, message="every ignoring job to end C")
        print(f"\n  cancel (job ignores token) R→C latency (s): "
              + ", ".join(f"{t}={v:.3f}" for t, v in figures.items()))
        for t, v in figures.items():
            self.assertLess(v, 1.5, t)
        for t, tid in ids.items():
            d = srv.task(tid)
            self.assertIsNotNone(d["end_date"], t)
            self.assertLess(d["progress"], 1.0, t)  # ended C while the job was still working
            # The reason given, else the engine's own account of what happened.
            self.assertEqual(d["error_msg"], "stop" if t == "training" else
                             "cancelled (the job did not stop within the grace period; "
                             "ended by the engine)", t)
        # When the jobs finally return, the tasks stay C (not D).
        wait_until(lambda: all(self.running(srv, t) == 0 for t in TYPES), 10,
                   message="the ignoring jobs to return")
        for t, tid in ids.items():
            d = srv.task(tid)
            self.assertEqual(d["task_status"], "C", t)
            self.assertIsNone(d["result"], t)
        stats = srv.get_ok("/tasks/stats")
        self.assertEqual(stats["by_status"]["C"], 5)
        self.assertEqual(stats["by_status"]["D"], 0)

    # ------------------------------------------------------------------ failures and retries

    def test_permanent_failure(self):
        srv, [tid] = self.start_kit(queue=lambda s: s.enqueue(
            task_type="evaluation", inputs={"fail": "permanent"}, max_attempts=3))
        d = self.wait_status(srv, tid, "F", 5)
        self.assertEqual(d["error_msg"], "bad input: column 'question' missing")
        self.assertEqual(d["attempts"], 1)  # not retried
        self.assertIsNotNone(d["end_date"])
        self.assertIsNone(d["result"])
        listed = srv.get_ok("/tasks", "status=F")
        self.assertEqual([(r["id"], r["error_msg"]) for r in listed],
                         [(tid, "bad input: column 'question' missing")])
        text = srv.get("/metrics")[2]
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="failed"}'), 1)
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="retried"}'), 0)

    def test_job_crash_fails_the_task(self):
        srv, [tid] = self.start_kit(queue=lambda s: s.enqueue(task_type="synthesis",
                                                              inputs={"crash": True}))
        d = self.wait_status(srv, tid, "F", 5)
        self.assertIn("scripted crash", d["error_msg"])
        self.assertEqual(d["attempts"], 1)
        # The server survives.
        self.assertEqual(srv.get("/health")[0], 200)

    def test_transient_failures_retry_then_succeed(self):
        srv, (tid, tid2) = self.start_kit(queue=lambda s: (
            s.enqueue(task_type="model_upload", inputs={"fail": "transient", "fail_times": 2},
                      max_attempts=3)[0],
            s.enqueue(task_type="dataset_upload", inputs={"fail": "transient", "fail_times": 5},
                      max_attempts=2)[0]))
        d = self.wait_status(srv, tid, "D", 10)
        self.assertEqual(d["attempts"], 3)
        self.assertEqual(d["result"], {"ok": True})
        self.assertIsNone(d["error_msg"])  # null unless F
        # Two backoffs of base × 2^(n-1) with jitter in [0.5, 1]: at least 25 + 50 ms.
        span = (parse_rfc3339_z(d["end_date"]) - parse_rfc3339_z(d["created_at"])).total_seconds()
        self.assertGreaterEqual(span, 0.075)
        # Out of attempts → F with the job's last error.
        d = self.wait_status(srv, tid2, "F", 10)
        self.assertEqual(d["attempts"], 2)
        self.assertEqual(d["error_msg"], "hub answered 503")
        text = srv.get("/metrics")[2]
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="retried"}'), 3)
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="done"}'), 1)
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="failed"}'), 1)

    def test_retry_runs_when_its_backoff_expires(self):
        # Base 50 ms: two retries are due after 25–50 ms and 50–100 ms. A retry must run when
        # its backoff expires, not at the dispatcher's next idle poll (1 s).
        srv, ids = self.start_kit(queue=lambda s: {
            t: s.enqueue(task_type=t, inputs={"fail": "transient", "fail_times": 2},
                         max_attempts=3)[0] for t in TYPES})
        spans = {}
        for t, tid in ids.items():
            d = self.wait_status(srv, tid, "D", 10)
            self.assertEqual(d["attempts"], 3)
            spans[t] = round((parse_rfc3339_z(d["end_date"])
                              - parse_rfc3339_z(d["created_at"])).total_seconds(), 3)
        print(f"\n  created → D with two 50 ms-base retries (s): {spans}")
        self.assertEqual({t: v for t, v in spans.items() if v >= 0.6}, {},
                         "retries waited far longer than their backoff")

    def test_retry_failed_task(self):
        # Fails on its first run only; with one attempt allowed it ends F.
        srv, [tid] = self.start_kit(queue=lambda s: s.enqueue(
            task_type="dataset_upload", inputs={"fail": "transient", "fail_times": 1},
            max_attempts=1))
        d = self.wait_status(srv, tid, "F", 5)
        self.assertEqual((d["attempts"], d["error_msg"]), (1, "hub answered 503"))
        status, headers, body = srv.post(f"/tasks/{tid}/retry")
        self.assertEqual(status, 202, body)
        self.assertEqual(headers.get("location"), f"/tasks/{tid}")
        self.assertEqual(body["id"], tid)
        self.assertEqual(body["task_status"], "Q")
        self.assertEqual(body["attempts"], 2)
        self.assertIsNone(body["end_date"])
        self.assertEqual(body["inputs"], {"fail": "transient", "fail_times": 1})
        d = self.wait_status(srv, tid, "D", 5)
        self.assertEqual(d["attempts"], 2)
        self.assertIsNone(d["error_msg"])
        self.assertEqual(d["result"], {"ok": True})
        # D cannot be retried.
        status, _, body = srv.post(f"/tasks/{tid}/retry")
        self.assertEqual((status, body["code"]), (409, "CONFLICT"))

    # ------------------------------------------------------------------ graceful shutdown

    def test_sigterm_releases_running_task(self):
        # 10 s of work, cancellable every 50 ms.
        srv, [tid] = self.start_kit(queue=lambda s: s.enqueue(
            task_type="training", inputs={"ms": 50, "steps": 200}))
        wait_until(lambda: (lambda d: d["task_status"] == "R" and d["progress"])(srv.task(tid)),
                   5, interval=0.02, message="task running with progress")
        t0 = time.monotonic()
        code = srv.stop(timeout=15)
        shutdown = time.monotonic() - t0
        self.assertEqual(code, 0, srv.log_text())
        # The job stops at its next safe point (50 ms), far inside the engine's 10 s grace.
        self.assertLess(shutdown, 3)
        self.assertNotIn("still running after the shutdown grace", srv.log_text())
        # Inspect with a server that runs no workers.
        insp = self.start_server(harness.testkit_bin(), ["--no-workers"], env=BASE_ENV,
                                 data_dir=srv.data_dir, workdir=srv.workdir)
        d = insp.task(tid)
        self.assertEqual(d["task_status"], "Q")
        self.assertEqual(d["attempts"], 1)
        self.assertIsNone(d["worker_id"])
        self.assertIsNone(d["lease_expires_at"])
        self.assertIsNone(d["end_date"])
        self.assertIsNone(d["error_msg"])
        self.assertEqual(insp.get_ok("/tasks", "status=R"), [])
        insp.stop()
        # A new server with workers picks it up again: still its first attempt (a graceful
        # release is not a failure).
        again = self.start_server(harness.testkit_bin(), env=BASE_ENV, data_dir=srv.data_dir,
                                  workdir=srv.workdir)
        d = self.wait_status(again, tid, "R", 5)
        self.assertEqual(d["attempts"], 1)
        self.assertIsNotNone(d["worker_id"])
        self.assertEqual(again.post(f"/tasks/{tid}/cancel")[0], 202)
        self.wait_status(again, tid, "C", 2)

    def test_sigterm_right_after_a_request_exits_promptly(self):
        # Regression: HTTP Stop used to wait its full 5 s grace, about one time in five, for a
        # connection the client had already closed.
        slow = []
        for i in range(20):
            srv = self.start_server(harness.vectorize_bin(), ["--no-workers"])
            self.assertEqual(srv.get("/health")[0], 200)
            t0 = time.monotonic()
            self.assertEqual(srv.stop(), 0)
            if time.monotonic() - t0 > 2:
                slow.append((i, round(time.monotonic() - t0, 2)))
        self.assertEqual(slow, [], "SIGTERM took over 2 s (run, seconds)")

if __name__ == "__main__":
    unittest.main()
