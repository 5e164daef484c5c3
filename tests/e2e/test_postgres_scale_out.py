"""Scale-out on PostgreSQL: one API node and three worker processes share one database.

`vectorize_testkit serve --no-workers` (the API node) and three `vectorize_testkit worker`
processes (each with its own data directory; short leases) run ~300 scripted tasks queued in
three waves through the testkit (`enqueue --database-url`). After the first wave has started we
kill -9 one worker while it runs jobs; during the second wave PostgreSQL itself restarts; the
third wave is queued after the restart. Every task must end D exactly once: the same set of ids,
none left Q/R, attempts 1 except the tasks the killed worker was running (2: rescued once), and
`GET /tasks/stats` totals equal to the count. Workers have no HTTP, so everything is checked
through the API node. A second test cancels, through the API node, a job running on a worker.

The test needs a PostgreSQL installation and is skipped when VECTORIZE_TEST_PG_URL is unset
(`make test` sets it). Since it restarts the server, it does not use that shared cluster (other
tests run against it in parallel): it starts a private one with scripts/test-postgres.sh.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import harness
from harness import E2ETestCase, parse_rfc3339_z, wait_until

TYPES = ["model_upload", "dataset_upload", "training", "evaluation", "synthesis"]
WAVES = [24, 20, 16]  # tasks per type in each wave: 300 in all
JOB = {"ms": 20, "steps": 5}
ENGINE_ENV = {
    "VECTORIZE_LEASE_SECONDS": "1",
    "VECTORIZE_HEARTBEAT_SECONDS": "0.3",
    "VECTORIZE_RESCUE_INTERVAL_SECONDS": "0.2",
    "VECTORIZE_RETRY_BASE_SECONDS": "0.05",
    **{f"VECTORIZE_CONCURRENCY_{t.upper()}": "2" for t in TYPES},
}
BIG_WINDOW = {"within_hours": 1000}
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "test-postgres.sh")


def pg_bin():
    if os.path.exists("/usr/lib/postgresql/15/bin/pg_ctl"):
        return "/usr/lib/postgresql/15/bin"
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for v in sorted(os.listdir(base), key=lambda s: [int(x) for x in re.findall(r"\d+", s)],
                        reverse=True):
            if os.path.exists(os.path.join(base, v, "bin", "pg_ctl")):
                return os.path.join(base, v, "bin")
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(found)
    raise unittest.SkipTest("pg_ctl not found")


class PrivateCluster:
    """A throw-away cluster of its own (scripts/test-postgres.sh start/stop)."""

    def __init__(self):
        out = subprocess.run(["bash", SCRIPT, "start"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=120, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"test-postgres.sh start failed: {out.stderr.decode()}")
        env = dict(re.findall(r"^export (\w+)=(\S+)$", out.stdout.decode(), re.M))
        self.url = env["VECTORIZE_TEST_PG_URL"]
        self.dir = env["VECTORIZE_TEST_PG_DIR"]

    def restart(self):
        cmd = [os.path.join(pg_bin(), "pg_ctl"), "-D", os.path.join(self.dir, "data"),
               "-l", os.path.join(self.dir, "server.log"), "restart", "-m", "fast", "-w",
               "-t", "60"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "vectorize-test", "--", *cmd]
        # The server must not inherit a pipe of ours: its output goes to server.log.
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=90, check=True)

    def listeners(self):
        """Connections of PgListener (application_name vectorize-listener), through psql."""
        out = subprocess.run([os.path.join(pg_bin(), "psql"), self.url, "-Atc",
                              "SELECT count(*) FROM pg_stat_activity "
                              "WHERE application_name = 'vectorize-listener'"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        return int(out.stdout.strip() or -1) if out.returncode == 0 else -1

    def stop(self):
        subprocess.run(["bash", SCRIPT, "stop", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120, check=False)


class Worker:
    """`vectorize_testkit worker`: no HTTP, nothing on stdout to wait for."""

    def __init__(self, url, workdir, n):
        self.data_dir = os.path.join(workdir, f"worker-{n}")
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(workdir, f"worker-{n}.stderr.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [harness.testkit_bin(), "worker", "--database-url", url, "--data-dir", self.data_dir],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=harness.clean_env(ENGINE_ENV))

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-20000:]


def worker_pid(worker_id):
    """Engine worker ids are HOST:PID:RANDOM."""
    if not worker_id:
        return None
    parts = worker_id.split(":")
    return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None


def secs(a, b):
    return (parse_rfc3339_z(b) - parse_rfc3339_z(a)).total_seconds()


class PostgresScaleOutTest(E2ETestCase):

    def setUp(self):
        if not os.environ.get("VECTORIZE_TEST_PG_URL"):
            raise unittest.SkipTest("VECTORIZE_TEST_PG_URL is not set (no PostgreSQL for tests)")
        super().setUp()
        self.cluster = PrivateCluster()
        self.addCleanup(self.cluster.stop)
        self.workers = []
        self.addCleanup(self._stop_workers)

    def _stop_workers(self):
        failed = self._failed()
        for w in self.workers:
            code = w.stop()
            if failed:
                print(f"\n===== worker log {w.log_path} (exit {code}) =====\n{w.log_text()}")

    def all_tasks(self, srv):
        out, offset = [], 0
        while True:
            page = srv.get_ok("/tasks", {**BIG_WINDOW, "limit": 100, "offset": offset})
            out += page
            if len(page) < 100:
                return out
            offset += 100

    def stats(self, srv):
        return srv.get_ok("/tasks/stats", BIG_WINDOW)

    def enqueue_wave(self, per_type, tag):
        ids = set()
        for t in TYPES:
            ids |= set(harness._run_testkit(
                ["enqueue", "--database-url", self.cluster.url, "--type", t, "--count",
                 str(per_type), "--inputs", harness.json.dumps(JOB), "--tag", tag]))
        self.assertEqual(len(ids), per_type * len(TYPES))
        return ids

    def wake_latency(self, api, ids):
        """Per type, the delay from queueing to the start of the first task of a wave: a few
        ms with NOTIFY/LISTEN, up to the 1 s idle poll without."""
        first = {}
        for i in ids:
            d = api.task(i)
            if d["attempts"] != 1 or d["started_at"] is None:
                continue
            lat = secs(d["created_at"], d["started_at"])
            first[d["task_type"]] = min(first.get(d["task_type"], 1e9), lat)
        return first

    def test_three_workers_kill9_and_a_database_restart(self):
        t_begin = time.monotonic()
        url = self.cluster.url
        workdir = self.make_tmpdir()
        # The API node applies the migrations; the workers start once the schema is there.
        api = self.start_server(harness.testkit_bin(), ["--database-url", url, "--no-workers"],
                                env=ENGINE_ENV, workdir=workdir)
        for n in range(3):
            self.workers.append(Worker(url, workdir, n))
        # Every worker listens (one `vectorize-listener` connection each) before work arrives.
        wait_until(lambda: self.cluster.listeners() == 3, 20, interval=0.05,
                   message="the three workers to LISTEN")
        for w in self.workers:
            self.assertIsNone(w.proc.poll(), w.log_text())

        # Wave 1, then kill -9 the worker that runs the most jobs once some tasks finished.
        wave1 = self.enqueue_wave(WAVES[0], "wave1")
        pids = {w.proc.pid: w for w in self.workers}

        def victim_moment():
            if self.stats(api)["by_status"]["D"] < 10:
                return None
            running = {}
            for r in api.get_ok("/tasks", {**BIG_WINDOW, "status": "R", "limit": 100}):
                pid = worker_pid(r.get("worker_id") or api.task(r["id"])["worker_id"])
                if pid is not None:
                    running.setdefault(pid, set()).add(r["id"])
            best = max(running.items(), key=lambda kv: len(kv[1]), default=None)
            return best if best and len(best[1]) >= 2 and best[0] in pids else None

        victim_pid, _ = wait_until(victim_moment, 20, interval=0.01,
                                   message="a worker running jobs after some finished")
        victim = pids[victim_pid]
        victim.proc.kill()
        victim.proc.wait(10)
        t_kill = time.monotonic()
        self.assertEqual(victim.proc.returncode, -9)
        # What it left running (leases still valid: nothing rescued it yet).
        stranded = {r["id"] for r in api.get_ok("/tasks", {**BIG_WINDOW, "status": "R",
                                                           "limit": 100})
                    if worker_pid(api.task(r["id"])["worker_id"]) == victim_pid}
        self.assertGreaterEqual(len(stranded), 1)
        wait_until(lambda: all(api.task(i)["task_status"] == "D" for i in stranded), 20,
                   interval=0.02, message="the killed worker's tasks to be redone")
        kill_recovery = time.monotonic() - t_kill

        # Wave 2, and restart PostgreSQL while it runs.
        wait_until(lambda: self.stats(api)["by_status"]["Q"] == 0, 20, interval=0.02,
                   message="wave 1 to be claimed")
        wave2 = self.enqueue_wave(WAVES[1], "wave2")
        wait_until(lambda: self.stats(api)["by_status"]["R"] >= 3, 20, interval=0.005,
                   message="wave 2 to run")
        at_restart = self.stats(api)["by_status"]
        t0 = time.monotonic()
        self.cluster.restart()
        t_restarted = time.monotonic()
        restart_took = t_restarted - t0

        def first_progress():  # the API node reconnects too
            try:
                s = self.stats(api)["by_status"]
            except (AssertionError, OSError):
                return None
            return s if s["D"] > at_restart["D"] + at_restart["R"] else None

        wait_until(first_progress, 20, interval=0.02, message="work to resume after the restart")
        resume_after = time.monotonic() - t_restarted
        wait_until(lambda: all(api.task(i)["task_status"] == "D" for i in wave2), 30,
                   interval=0.05, message="wave 2 to finish")
        wave2_done_after = time.monotonic() - t_restarted

        # Wave 3 after the restart: the workers' listeners reconnected, wake-ups still work.
        wave3 = self.enqueue_wave(WAVES[2], "wave3")
        all_ids = wave1 | wave2 | wave3
        total = len(all_ids)
        self.assertEqual(total, sum(WAVES) * len(TYPES))

        def finished():
            s = self.stats(api)
            return s if s["by_status"]["Q"] == 0 and s["by_status"]["R"] == 0 else None

        wait_until(finished, 30, interval=0.05, message="every task to end")

        final_list = self.all_tasks(api)
        final_ids = [t["id"] for t in final_list]
        self.assertEqual(len(final_ids), len(set(final_ids)), "a task is listed twice")
        self.assertEqual(set(final_ids), all_ids, "tasks lost or invented")
        final = {i: api.task(i) for i in all_ids}
        not_done = {i: d["task_status"] for i, d in final.items() if d["task_status"] != "D"}
        self.assertEqual(not_done, {})
        for i, d in final.items():
            self.assertEqual(d["result"], {"ok": True}, i)
            self.assertEqual(d["progress"], 1.0, i)
            self.assertIsNone(d["lease_expires_at"], i)
            self.assertIsNone(d["error_msg"], i)
            self.assertEqual(d["attempts"], 2 if i in stranded else 1,
                             f"{i} (stranded by the kill: {i in stranded})")
        stats = self.stats(api)
        self.assertEqual(stats["by_status"], {"Q": 0, "R": 0, "D": total, "F": 0, "C": 0})
        self.assertEqual(stats["total"], total)
        for w in self.workers:
            if w is not victim:
                self.assertIsNone(w.proc.poll(), w.log_text())

        lat = {1: self.wake_latency(api, wave1), 2: self.wake_latency(api, wave2),
               3: self.wake_latency(api, wave3)}
        # Waves 1 and 3 arrive at idle workers, woken by notifications within milliseconds (the
        # fallback poll is 1 s: five independent pollers all under 0.5 s in both waves would
        # happen with p ≈ 0.1%). The bound leaves room for a loaded test machine.
        for wave in (1, 3):
            self.assertEqual(set(lat[wave]), set(TYPES))
            self.assertLess(max(lat[wave].values()), 0.5, (wave, lat[wave]))
        for w in self.workers:
            if w is not victim:
                self.assertEqual(w.stop(), 0, w.log_text())
        print(f"\n  {total} tasks on 3 workers; queue→start of each wave's first task per type: "
              + "; ".join(f"wave {k}: max {max(v.values()) * 1000:.0f} ms" for k, v in lat.items()
                          if v)
              + f"\n  kill -9 of a worker running {len(stranded)} jobs: redone in "
              f"{kill_recovery:.2f}s (lease 1 s)"
              + f"\n  PostgreSQL restart with {at_restart['R']} running: pg_ctl took "
              f"{restart_took:.2f}s; progress {resume_after:.2f}s after it; wave 2 done "
              f"{wave2_done_after:.2f}s after it"
              + f"\n  whole test {time.monotonic() - t_begin:.1f}s")

    def test_cancel_through_the_api_node_reaches_the_job_on_a_worker(self):
        url = self.cluster.url
        workdir = self.make_tmpdir()
        api = self.start_server(harness.testkit_bin(), ["--database-url", url, "--no-workers"],
                                env=ENGINE_ENV, workdir=workdir)
        self.workers.append(Worker(url, workdir, 0))
        wait_until(lambda: self.cluster.listeners() == 1, 20, interval=0.05,
                   message="the worker to LISTEN")
        [tid] = harness._run_testkit(
            ["enqueue", "--database-url", url, "--type", "training", "--count", "1",
             "--inputs", harness.json.dumps({"ms": 10, "steps": 2000})])
        wait_until(lambda: api.task(tid)["task_status"] == "R", 10, interval=0.01,
                   message="the task to run on the worker")
        t0 = time.monotonic()
        status, _, body = api.post(f"/tasks/{tid}/cancel")
        self.assertIn(status, (200, 202), body)
        wait_until(lambda: api.task(tid)["task_status"] == "C", 5, interval=0.005,
                   message="the cancel to reach the job")
        took = time.monotonic() - t0
        d = api.task(tid)
        self.assertEqual(d["attempts"], 1)
        self.assertLess(d["progress"] or 0, 0.5)
        self.assertLess(took, 1.0)  # NOTIFY vectorize_cancel: ms; the 200 ms lookup is the fallback
        print(f"\n  cancel via the API node → job on a worker ended C in {took * 1000:.0f} ms")
        self.assertEqual(self.workers[0].stop(), 0, self.workers[0].log_text())


if __name__ == "__main__":
    unittest.main()
