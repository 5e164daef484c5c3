"""Crash recovery: kill -9 the server while jobs run, restart it, and nothing is lost.

`vectorize_testkit serve` runs ~60 scripted tasks across the five types with a short lease. We
kill it (SIGKILL: no shutdown code runs) while some tasks are R and some D, check through a
`--no-workers` server (which runs no engine, hence no rescuer) that tasks really are stuck in R,
then restart the engine on the same data directory. The rescuer must re-queue every stuck task
(attempts + 1) once its lease expires — or fail it with "worker lost" when it has no attempts
left — and every task must end D: same set of ids, none stuck in R, none duplicated.
The kill happens at two different moments (early and late in the run), each on fresh data.
"""

import os
import time
import unittest

import harness
from harness import metric, E2ETestCase, wait_until

TYPES = ["model_upload", "dataset_upload", "training", "evaluation", "synthesis"]
PER_TYPE = 12
FAST = {"ms": 50, "steps": 10}
ENGINE_ENV = {
    "VECTORIZE_LEASE_SECONDS": "1",
    "VECTORIZE_HEARTBEAT_SECONDS": "0.3",
    "VECTORIZE_RESCUE_INTERVAL_SECONDS": "0.2",
    "VECTORIZE_RETRY_BASE_SECONDS": "0.05",
    **{f"VECTORIZE_CONCURRENCY_{t.upper()}": "3" for t in TYPES},
}
BIG_WINDOW = {"within_hours": 1000}




class CrashRecoveryTest(E2ETestCase):

    def all_tasks(self, srv):
        """Every task, through the paginated list (pages of 100)."""
        out, offset = [], 0
        while True:
            page = srv.get_ok("/tasks", {**BIG_WINDOW, "limit": 100, "offset": offset})
            out += page
            if len(page) < 100:
                return out
            offset += 100

    def run_round(self, name, kills):
        """kills: predicates on a running server; for each, start the engine, wait until the
        predicate holds, kill -9, inspect. Then start the engine once more and check the end."""
        workdir = self.make_tmpdir()
        data_dir = os.path.join(workdir, "data")
        os.makedirs(data_dir)
        # Queue everything before the server starts, so it all starts at once. The first task
        # runs long and may be tried only once: it must end F "worker lost".
        [lone] = harness.testkit_enqueue(data_dir, "training", 1, inputs={"ms": 100, "steps": 100},
                                         tag="lone", max_attempts=1)
        ids = set()
        for t in TYPES:
            ids |= set(harness.testkit_enqueue(data_dir, t, PER_TYPE, inputs=FAST, tag="crash"))
        self.assertEqual(len(ids), len(TYPES) * PER_TYPE)
        all_ids = ids | {lone}

        times_stuck = {i: 0 for i in ids}
        done_before = {}  # id → end_date of tasks already D at some kill
        rescued_expected = 0
        for k, kill_when in enumerate(kills):
            # 1. Run, then kill -9 at the chosen moment.
            srv = self.start_server(harness.testkit_bin(), env=ENGINE_ENV, data_dir=data_dir,
                                    workdir=workdir)
            wait_until(lambda: kill_when(srv), 20, interval=0.01,
                       message=f"{name}: the moment of kill {k + 1}")
            srv.kill()
            self.assertEqual(srv.proc.returncode, -9)
            # 2. Inspect with a server that runs no engine (no rescuer).
            insp = self.start_server(harness.testkit_bin(), ["--no-workers"], data_dir=data_dir,
                                     workdir=workdir)
            at_kill = {t["id"]: t for t in self.all_tasks(insp)}
            details = {i: insp.task(i) for i in at_kill if at_kill[i]["task_status"] == "R"}
            insp.stop()
            self.assertEqual(set(at_kill), all_ids)
            by_status = {s: {i for i, t in at_kill.items() if t["task_status"] == s}
                         for s in "QRDFC"}
            print(f"\n  {name}: at kill -9 #{k + 1}: " + ", ".join(
                f"{s}={len(v)}" for s, v in by_status.items()), end="")
            self.assertGreater(len(by_status["R"] - {lone}), 1, "the kill must catch jobs mid-run")
            if k == 0:
                self.assertGreater(len(by_status["D"]), 0, "the kill must come after some finished")
            self.assertEqual(by_status["C"], set())
            if k == 0:
                self.assertEqual(by_status["F"], set())
                self.assertIn(lone, by_status["R"], "the max-attempts-1 task must run at the kill")
            else:
                self.assertEqual(by_status["F"], {lone})
                # This kill caught re-run tasks mid-run a second time.
                self.assertTrue(any(details[i]["attempts"] >= 2 for i in by_status["R"]),
                                {i: d["attempts"] for i, d in details.items()})
            for i in by_status["R"] - {lone}:
                times_stuck[i] += 1
                self.assertIsNotNone(details[i]["worker_id"])
                self.assertIsNotNone(details[i]["lease_expires_at"])
            rescued_expected = len(by_status["R"] - {lone})
            for i in by_status["D"]:
                done_before.setdefault(i, at_kill[i]["end_date"])

        # 3. Restart the engine on the same data: everything ends, nothing is lost.
        t0 = time.monotonic()
        again = self.start_server(harness.testkit_bin(), env=ENGINE_ENV, data_dir=data_dir,
                                  workdir=workdir)

        def finished():
            s = again.get_ok("/tasks/stats", BIG_WINDOW)["by_status"]
            return s if s["Q"] == 0 and s["R"] == 0 else None

        wait_until(finished, 30, interval=0.05, message=f"{name}: every task to end")
        print(f"\n  {name}: recovered in {time.monotonic() - t0:.2f}s")
        final_list = self.all_tasks(again)
        final_ids = [t["id"] for t in final_list]
        self.assertEqual(len(final_ids), len(set(final_ids)), "a task is listed twice")
        self.assertEqual(set(final_ids), all_ids, "tasks lost or invented")
        final = {i: again.task(i) for i in all_ids}

        lone_d = final.pop(lone)
        self.assertEqual(lone_d["task_status"], "F")
        self.assertEqual(lone_d["error_msg"], "worker lost")
        self.assertEqual(lone_d["attempts"], 1)
        self.assertIsNotNone(lone_d["end_date"])
        self.assertIsNone(lone_d["worker_id"])

        not_done = {i: d["task_status"] for i, d in final.items() if d["task_status"] != "D"}
        self.assertEqual(not_done, {})
        for i, d in final.items():
            self.assertEqual(d["result"], {"ok": True}, i)
            self.assertEqual(d["progress"], 1.0, i)
            self.assertIsNone(d["lease_expires_at"], i)
            self.assertIsNone(d["error_msg"], i)
            if times_stuck[i]:
                self.assertGreaterEqual(d["attempts"], 1 + times_stuck[i],
                                        f"{i} was R at {times_stuck[i]} kill(s)")
            else:
                self.assertEqual(d["attempts"], 1, f"{i} was never R at a kill")
            if i in done_before:  # finished work is not redone
                self.assertEqual(d["end_date"], done_before[i], i)

        # The last server rescued exactly the tasks the last kill left in R.
        text = again.get("/metrics")[2]
        self.assertEqual(metric(text, 'vectorize_engine_rescued_total{outcome="requeued"}'),
                         rescued_expected)
        self.assertEqual(metric(text, 'vectorize_engine_runs_total{outcome="done"}'),
                         len(ids) - len(done_before))
        self.assertEqual(again.get_ok("/tasks", {**BIG_WINDOW, "status": "R"}), [])
        stats = again.get_ok("/tasks/stats", BIG_WINDOW)
        self.assertEqual(stats["by_status"], {"Q": 0, "R": 0, "D": len(ids), "F": 1, "C": 0})
        return final

    @staticmethod
    def stats_when(pred):
        return lambda srv: pred(srv.get_ok("/tasks/stats", BIG_WINDOW)["by_status"])

    def test_kill9_early_then_recover(self):
        self.run_round("early", [self.stats_when(lambda s: s["D"] >= 1 and s["R"] >= 5)])

    def test_kill9_late_then_recover(self):
        self.run_round("late", [self.stats_when(lambda s: s["D"] >= 30 and s["R"] >= 5)])

    def test_kill9_twice_the_second_time_during_recovery(self):
        def rerunning(srv):
            # The restarted engine re-queued the first kill's tasks and runs one of them again
            # (checked on the task itself, just before the kill).
            for r in srv.get_ok("/tasks", {**BIG_WINDOW, "status": "R"}):
                d = srv.task(r["id"])
                if d["task_status"] == "R" and d["attempts"] >= 2 and (d["progress"] or 0) < 0.5:
                    return True
            return False

        final = self.run_round("twice", [self.stats_when(lambda s: s["D"] >= 10 and s["R"] >= 5),
                                         rerunning])
        self.assertTrue(any(d["attempts"] >= 3 for d in final.values()),
                        "some task was caught running by both kills")


if __name__ == "__main__":
    unittest.main()
