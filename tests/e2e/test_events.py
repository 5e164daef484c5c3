"""GET /tasks/events against the real binary (vectorize_testkit: scripted jobs).

Tasks are made to change through the API: a failed task inserted with the scripted job's inputs
is retried (POST /tasks/{id}/retry), so its whole life Q → R (with progress) → D happens inside
the server process, whose changes are the events. (Tasks queued by another process on the same
SQLite file are first seen when claimed; cross-process events are PostgreSQL's job, tested at
the end when VECTORIZE_TEST_PG_URL is set.)
"""

import asyncio
import os
import resource
import socket
import subprocess
import time
import unittest
import uuid

import harness
from harness import E2ETestCase, rfc3339, wait_until
from sse_client import SSEClient, StreamClosed


def failed_task(task_type="training", inputs=None, tag=None):
    now = time.time()
    t = {"task_type": task_type, "task_status": "F", "created_at": rfc3339(now - 60),
         "end_date": rfc3339(now - 30), "error_msg": "boom",
         "inputs": inputs if inputs is not None else {"ms": 150, "steps": 3}}
    if tag is not None:
        t["tag"] = tag
    return t


class EventStreamTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.start_server(harness.testkit_bin(),
                                     env={"VECTORIZE_EVENTS_HEARTBEAT_SECONDS": "0.5"})
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def stream(self, path="/tasks/events", **kw):
        c = SSEClient(self.srv.host, self.srv.port, path, **kw)
        self.clients.append(c)
        return c

    def retry(self, task_id):
        status, _, body = self.srv.post(f"/tasks/{task_id}/retry")
        self.assertEqual(status, 202, body)

    def test_a_task_life_arrives_queued_running_with_progress_then_done(self):
        (tid,) = self.srv.insert([failed_task(inputs={"ms": 250, "steps": 3})])
        s = self.stream()
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        self.assertEqual(s.headers.get("cache-control"), "no-cache")
        t0 = time.monotonic()
        self.retry(tid)
        evs = s.events_until(lambda e: e["data"]["task_status"] == "D")
        first_latency_ms = (time.monotonic() - t0) * 1000
        mine = [e for e in evs if e["data"]["id"] == tid]
        self.assertEqual(len(mine), len(evs), "only this task changed")
        statuses = [e["data"]["task_status"] for e in mine]
        # Q first, then R (several times: claimed, then each progress write), D last. A worker
        # may claim the task before the broadcaster reads it for the Q event; the change is then
        # coalesced into its latest state (docs/tasks.md, "Events"), so the stream may open on R.
        self.assertIn(statuses[0], ("Q", "R"), statuses)
        self.assertEqual(statuses[-1], "D")
        self.assertIn("R", statuses)
        self.assertEqual(statuses, sorted(statuses, key="QRD".index), statuses)
        progress = [e["data"]["progress"] for e in mine if e["data"]["task_status"] == "R"
                    and e["data"]["progress"] is not None]
        self.assertGreaterEqual(len(progress), 2, [(e["data"]["task_status"],
                                                    e["data"]["progress"]) for e in mine])
        self.assertEqual(progress, sorted(progress))
        # Ids increase strictly; data is the task exactly as GET /tasks/{id} shows it.
        ids = [int(e["id"]) for e in mine]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(mine[-1]["data"], self.srv.task(tid))
        self.assertEqual(mine[-1]["data"]["attempts"], 2)
        print(f"\n  first event to final D: {first_latency_ms:.0f} ms")

    def test_a_change_arrives_quickly(self):
        # Figures, not a pass/fail timing: how long from the API call to the event.
        tids = self.srv.insert([failed_task(inputs={"ms": 2000}) for _ in range(5)])
        s = self.stream()
        lat = []
        for tid in tids:
            t0 = time.monotonic()
            self.retry(tid)
            s.events_until(lambda e: e["data"]["id"] == tid)
            lat.append((time.monotonic() - t0) * 1000)
        print(f"\n  retry → event (incl. the HTTP round trip): {sorted(lat)} ms")

    def test_filters_apply(self):
        a, b, c = self.srv.insert([
            failed_task("training", {"ms": 10}, tag="alpha"),
            failed_task("evaluation", {"ms": 10}, tag="alpha"),
            failed_task("evaluation", {"ms": 10}, tag="beta")])
        by_type = self.stream("/tasks/events?task_type=evaluation&status=D")
        by_tag = self.stream("/tasks/events?tag=alpha&status=Q&status=D")
        everything = self.stream()
        for tid in (a, b, c):
            self.retry(tid)
        done = set()
        everything.events_until(lambda e: (e["data"]["task_status"] == "D"
                                           and done.add(e["data"]["id"])) or len(done) == 3)
        # The filtered streams: read what arrived (every change has happened by now) until
        # no task event came for a second (heartbeats keep arriving meanwhile).
        def drain(stream):
            out = []
            quiet_until = time.monotonic() + 1
            while time.monotonic() < quiet_until:
                ev = stream.next(timeout=quiet_until - time.monotonic())
                if ev is not None and ev["event"] == "task":
                    out.append((ev["data"]["id"], ev["data"]["task_status"]))
                    quiet_until = time.monotonic() + 1
            return out
        got = drain(by_type)
        self.assertEqual(sorted(got), sorted([(b, "D"), (c, "D")]))
        got = drain(by_tag)
        # Each of a and b ends with D; a Q event is sent when the stream reads the task before a
        # worker claims it, and may be coalesced away when the claim comes within milliseconds
        # (docs/tasks.md, "Events"). R never matches, nor does c (tag beta).
        self.assertLessEqual({s for _, s in got}, {"Q", "D"}, got)
        self.assertEqual({i for i, s in got if s == "D"}, {a, b}, got)
        self.assertLessEqual({i for i, _ in got}, {a, b}, got)

    def test_invalid_filters_and_ids_are_422(self):
        for path, loc in [("/tasks/events?limit=0", ["query", "limit"]),
                          ("/tasks/events?status=X", ["query", "status"]),
                          ("/tasks/events?task_type=nope", ["query", "task_type"]),
                          ("/tasks/events?within_hours=0", ["query", "within_hours"]),
                          ("/tasks/events?last_event_id=abc", ["query", "last_event_id"])]:
            status, _, body = self.srv.get(path)
            self.assertEqual(status, 422, path)
            self.assertEqual(body["detail"][0]["loc"], loc, path)
        # A Last-Event-ID header this server could not have issued is not refused (EventSource
        # would stop reconnecting for good on a 4xx): the stream starts with a reload event.
        s = self.stream(headers={"Last-Event-ID": "-1"})
        ev = s.events_until(lambda e: True, timeout=5)[0]
        self.assertEqual(ev["event"], "reload")

    def test_resumption_replays_what_was_missed(self):
        a, b = self.srv.insert([failed_task(inputs={"ms": 10}), failed_task(inputs={"ms": 10})])
        s = self.stream()
        self.retry(a)
        evs = s.events_until(lambda e: e["data"]["id"] == a and e["data"]["task_status"] == "D")
        last = evs[-1]["id"]
        s.close()
        # While nobody listens, b runs to the end.
        self.retry(b)
        wait_until(lambda: self.srv.task(b)["task_status"] == "D", 10)
        for how in ("header", "query"):
            with self.subTest(how):
                if how == "header":
                    r = self.stream(headers={"Last-Event-ID": last})
                else:
                    r = self.stream(f"/tasks/events?last_event_id={last}")
                evs = r.events_until(lambda e: e["data"]["id"] == b
                                     and e["data"]["task_status"] == "D", timeout=5)
                self.assertNotIn(a, [e["data"]["id"] for e in evs], "a was not missed")
                self.assertGreater(int(evs[-1]["id"]), int(last))
                self.assertEqual(evs[-1]["data"], self.srv.task(b))
        # From an id this server never issued (too old): one reload event, then live events.
        old = self.stream(headers={"Last-Event-ID": "1"})
        ev = old.events_until(lambda e: True, timeout=5)[0]
        self.assertEqual(ev["event"], "reload")
        self.assertIn("reason", ev["data"])
        (c,) = self.srv.insert([failed_task(inputs={"ms": 10})])
        self.retry(c)
        evs = old.events_until(lambda e: e["event"] == "task" and e["data"]["id"] == c)
        self.assertGreater(int(evs[-1]["id"]), int(ev["id"]))

    def test_heartbeats_keep_an_idle_stream_alive(self):
        s = self.stream()
        seen = 0
        deadline = time.monotonic() + 5
        while seen < 2 and time.monotonic() < deadline:
            ev = s.next(timeout=2)
            if ev and ev["event"] == "comment" and ev["text"] == "heartbeat":
                seen += 1
        self.assertEqual(seen, 2, "two heartbeats within 5 s at a 0.5 s interval")

    def test_a_client_that_never_reads_is_dropped_without_stalling_others(self):
        # ~8 KB of inputs per task: 600 tasks × ≥ 2 events ≈ 10 MB per client, well past the
        # 1 MiB bound plus what the kernel may buffer (a send buffer autotuned up to 4 MB).
        pad = "x" * 8000
        tag = "slow-" + uuid.uuid4().hex[:6]
        slow = self.stream(f"/tasks/events?tag={tag}", rcvbuf=4096)
        fast = self.stream(f"/tasks/events?tag={tag}&status=D")
        t0 = time.monotonic()
        ids = set(self.srv.enqueue(task_type="dataset_upload", count=600,
                                   inputs={"ms": 0, "pad": pad}, tag=tag))
        done = set()
        fast.events_until(lambda e: done.add(e["data"]["id"]) or done >= ids, timeout=120)
        elapsed = time.monotonic() - t0
        self.assertEqual(done, ids)
        # The engine finished everything meanwhile, and the slow client was cut off.
        wait_until(lambda: "client too slow" in self.srv.log_text(), 10,
                   message="the server dropping the slow client")
        got = 0
        with self.assertRaises(StreamClosed):
            while True:
                ev = slow.next(timeout=5)
                if ev is None:
                    self.fail("the slow client's stream stayed open")
                got += 1
        print(f"\n  600 tasks done and seen by the fast client in {elapsed:.2f} s; the slow "
              f"client got {got} events before being dropped")
        # The server still serves new streams and requests.
        self.assertEqual(self.stream().status, 200)
        self.assertEqual(self.srv.get("/health")[0], 200)

    def test_a_thousand_concurrent_streams(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 4096)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if want < 1100:
            self.skipTest(f"RLIMIT_NOFILE hard limit {hard} is below 1,100")
        (tid,) = self.srv.insert([failed_task(inputs={"ms": 10})])
        host, port = self.srv.host, self.srv.port

        async def one(ready, go):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET /tasks/events?status=D HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split()[1])
            ready.append(status)
            await go.wait()
            data = b""
            while tid.encode() not in data:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data += chunk
            writer.close()
            return status, tid.encode() in data

        async def main():
            ready, go = [], asyncio.Event()
            tasks = [asyncio.create_task(one(ready, go)) for _ in range(1000)]
            t0 = time.monotonic()
            while len(ready) < 1000:
                await asyncio.sleep(0.05)
                if time.monotonic() - t0 > 60:
                    raise AssertionError(f"only {len(ready)} of 1000 streams opened")
            open_s = time.monotonic() - t0
            # Every stream is registered once its head arrived: one change reaches all of them.
            t1 = time.monotonic()
            status, _, _ = await asyncio.to_thread(self.srv.post, f"/tasks/{tid}/retry")
            self.assertEqual(status, 202)
            go.set()
            results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
            return results, open_s, time.monotonic() - t1

        results, open_s, fan_s = asyncio.run(main())
        self.assertEqual([r for r in results if r != (200, True)], [])
        print(f"\n  1,000 streams opened in {open_s:.2f} s; the change reached all in "
              f"{fan_s:.2f} s")
        self.assertEqual(self.srv.get("/health")[0], 200)


class EventStreamAuthTest(E2ETestCase):
    def test_keys_by_header_query_or_cookie_and_never_logged(self):
        srv = self.start_server(harness.vectorize_bin(), args=["--no-workers"],
                                env={"VECTORIZE_API_KEYS": "alpha-key"})
        c = SSEClient(srv.host, srv.port, "/tasks/events")
        self.assertEqual(c.status, 401)
        self.assertIn("UNAUTHORIZED", c.body_text())
        c.close()
        for path, headers in [("/tasks/events?api_key=wrong", {}),
                              ("/tasks/events", {"Cookie": "vectorize_api_key=wrong"})]:
            c = SSEClient(srv.host, srv.port, path, headers=headers)
            self.assertEqual(c.status, 401, path)
            c.close()
        for path, headers in [("/tasks/events?api_key=alpha-key", {}),
                              ("/tasks/events", {"Cookie": "a=b; vectorize_api_key=alpha%2Dkey"}),
                              ("/tasks/events", {"Authorization": "Bearer alpha-key"})]:
            c = SSEClient(srv.host, srv.port, path, headers=headers)
            self.assertEqual(c.status, 200, (path, headers))
            c.close()
        # Only the event stream takes the key outside the headers.
        status, _, _ = srv.get("/tasks?api_key=alpha-key")
        self.assertEqual(status, 401)
        wait_until(lambda: "api_key=***" in srv.log_text(), 5)
        self.assertNotIn("alpha-key", srv.log_text())


PG_URL = os.environ.get("VECTORIZE_TEST_PG_URL")


@unittest.skipUnless(PG_URL, "VECTORIZE_TEST_PG_URL is not set (no PostgreSQL for tests)")
class PostgresEventsTest(E2ETestCase):
    """A worker process's changes reach the SSE clients of two API-only nodes, numbered alike,
    so a client can resume on the other node."""

    def test_worker_changes_reach_api_nodes_and_resume_across_nodes(self):
        kit = harness.testkit_bin()
        schema = "vz_e2e_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", PG_URL, "-q", "-c", f"CREATE SCHEMA {schema}"], check=True,
                       stdout=subprocess.DEVNULL, timeout=30)
        self.addCleanup(subprocess.run, ["psql", PG_URL, "-q", "-c",
                                         f"SET client_min_messages = warning; DROP SCHEMA {schema} CASCADE"],
                        stdout=subprocess.DEVNULL, timeout=30)
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        db = ["--database-url", url]
        api1 = self.start_server(kit, args=["--no-workers", *db])
        api2 = self.start_server(kit, args=["--no-workers", *db])
        self.start_server(kit, args=db)  # the worker (a serve node; its own HTTP is unused)
        tag = "pg-" + uuid.uuid4().hex[:6]
        s1 = SSEClient(api1.host, api1.port, f"/tasks/events?tag={tag}")
        s2 = SSEClient(api2.host, api2.port, f"/tasks/events?tag={tag}")
        self.addCleanup(s1.close)
        self.addCleanup(s2.close)
        ids = harness._run_testkit(["enqueue", *db, "--type", "training", "--count", "2",
                                    "--inputs", '{"ms": 200, "steps": 2}', "--tag", tag])
        self.assertEqual(len(ids), 2)
        done = set()
        e1 = s1.events_until(lambda e: e["data"]["task_status"] == "D" and done.add(
            e["data"]["id"]) is None and done == set(ids), timeout=30)
        self.assertIn("R", [e["data"]["task_status"] for e in e1])
        done = set()
        e2 = s2.events_until(lambda e: e["data"]["task_status"] == "D" and done.add(
            e["data"]["id"]) is None and done == set(ids), timeout=30)
        # Both nodes number the same changes alike: each task's last event carries the number of
        # its last change (an earlier event may already show D when it was read after the commit,
        # so the streams are read until they are quiet).
        def settle(stream, evs):
            quiet_until = time.monotonic() + 1.5
            while time.monotonic() < quiet_until:
                ev = stream.next(timeout=quiet_until - time.monotonic())
                if ev is not None and ev["event"] == "task":
                    evs.append(ev)
                    quiet_until = time.monotonic() + 1.5
            return {e["data"]["id"]: (e["id"], e["data"]["task_status"]) for e in evs}
        last1, last2 = settle(s1, e1), settle(s2, e2)
        self.assertEqual(last1, last2)
        self.assertEqual({st for _, st in last1.values()}, {"D"})
        # A client of node 1 that stopped after the first event resumes on node 2.
        first = e1[0]["id"]
        r = SSEClient(api2.host, api2.port, f"/tasks/events?tag={tag}",
                      headers={"Last-Event-ID": first})
        self.addCleanup(r.close)
        done = set()
        replay = r.events_until(lambda e: e["data"]["task_status"] == "D" and done.add(
            e["data"]["id"]) is None and done == set(ids), timeout=10)
        self.assertNotIn("reload", [e["event"] for e in replay])
        self.assertTrue(all(int(e["id"]) > int(first) for e in replay))


if __name__ == "__main__":
    unittest.main()
