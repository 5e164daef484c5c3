"""GET /tasks and the rest of the Tasks API against the real `vectorize` binary.

Every example of the user's guide (seed/tasks-guide.md) is exercised on a data set inserted
through the storage layer (`vectorize_testkit insert`), with times relative to now so that the
time windows are meaningful. Expected results are written out by name for each guide example, and
also cross-checked against a small reference model of the contract (SPEC §2.2).

The server runs with --no-workers: nothing touches the inserted tasks (inserted R tasks also get a
one-hour lease, so no rescuer would re-queue them either).
"""

import datetime as dt
import re
import unittest
import uuid

import harness
from harness import E2ETestCase, rfc3339, parse_rfc3339_z

TYPES = ["model_upload", "dataset_upload", "training", "evaluation", "synthesis"]
STATUSES = ["Q", "R", "D", "F", "C"]
RECORD_KEYS = {"id", "task_type", "task_status", "tag", "created_at", "end_date", "error_msg",
               "progress", "progress_msg"}
GUIDE_KEYS = {"id", "task_type", "task_status", "tag", "created_at", "end_date"}

MIN = 60
HOUR = 3600
DAY = 86400


class TasksApiTest(E2ETestCase):
    """One server and one data set for the whole class; no test modifies the data set."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(harness.vectorize_bin(), args=["--no-workers"])
        cls.class_servers = [cls.server]
        try:
            cls.server.start()
            cls._build_dataset()
        except BaseException:
            if cls.server.proc is not None:
                harness.dump_log(cls.server, cls.__name__)
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    # ------------------------------------------------------------------ data set

    @classmethod
    def _build_dataset(cls):
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        cls.now = now
        cls.tasks = {}  # label → dict(id, task_type, task_status, tag, created, ended, error_msg)
        rows = []

        def add(label, ttype, status, created_ago, ended_ago=None, tag=None, error_msg=None,
                task_id=None, created_at=None):
            created = created_at or now - dt.timedelta(seconds=created_ago)
            ended = None if ended_ago is None else now - dt.timedelta(seconds=ended_ago)
            t = {"id": task_id or str(uuid.uuid4()), "task_type": ttype, "task_status": status,
                 "tag": tag, "created": created, "ended": ended, "error_msg": error_msg}
            assert label not in cls.tasks, label
            cls.tasks[label] = t
            row = {"id": t["id"], "task_type": ttype, "task_status": status,
                   "created_at": rfc3339(created)}
            if tag is not None:
                row["tag"] = tag
            if ended is not None:
                row["end_date"] = rfc3339(ended)
            if error_msg is not None:
                row["error_msg"] = error_msg
            rows.append(row)

        pm = "production-model-v2"
        # training
        add("tr_q_old", "training", "Q", 10 * DAY, tag=pm)
        for i in range(10):
            add(f"tr_q_pm{i}", "training", "Q", 100 * MIN + i * 7 * MIN, tag=pm)
        for i, ago in enumerate([5 * DAY, 2 * HOUR, 30 * MIN, 22 * MIN, 18 * MIN, 12 * MIN,
                                 3 * MIN]):
            add(f"tr_r_exp1_{i}", "training", "R", ago, tag="experiment-1")
        add("tr_r_exp2", "training", "R", 25 * MIN, tag="experiment-2")
        add("tr_d_recent", "training", "D", 40 * MIN, 35 * MIN)
        add("tr_d_3h", "training", "D", 3 * HOUR, 150 * MIN, tag=pm)
        add("tr_f_5h", "training", "F", 300 * MIN, 290 * MIN, error_msg="CUDA out of memory")
        add("tr_f_20h", "training", "F", 21 * HOUR, 20 * HOUR, error_msg="dataset missing")
        add("tr_f_30h", "training", "F", 31 * HOUR, 30 * HOUR, error_msg="too old to show")
        add("tr_c_recent", "training", "C", 50 * MIN, 45 * MIN, error_msg="cancelled by user")
        add("tr_d_400d", "training", "D", 400 * DAY, 30 * MIN)  # longest lifetime class
        add("tr_d_30d", "training", "D", 30 * DAY, 10 * MIN)
        add("tr_d_old", "training", "D", 3 * DAY, 2 * DAY)
        # evaluation
        add("ev_q", "evaluation", "Q", 2 * HOUR, tag=pm)
        add("ev_r", "evaluation", "R", 15 * MIN, tag=pm)
        add("ev_d", "evaluation", "D", 90 * MIN, 50 * MIN, tag=pm)  # created before, ended inside
        add("ev_f", "evaluation", "F", 200 * MIN, 180 * MIN, tag=pm, error_msg="metric NaN")
        add("ev_r_exp1", "evaluation", "R", 8 * MIN, tag="experiment-1")
        add("ev_f_10h", "evaluation", "F", 11 * HOUR, 10 * HOUR, error_msg="model not found")
        add("ev_d_5h", "evaluation", "D", 330 * MIN, 300 * MIN)
        # synthesis
        add("sy_q", "synthesis", "Q", 6 * HOUR)
        add("sy_d", "synthesis", "D", 20 * MIN, 19 * MIN)
        add("sy_c", "synthesis", "C", 100 * MIN, 55 * MIN)
        add("sy_c_old", "synthesis", "C", 130 * MIN, 120 * MIN)
        # model_upload
        add("mu_d", "model_upload", "D", 6 * MIN, 5 * MIN, tag="my-model")
        add("mu_f", "model_upload", "F", 130 * MIN, 125 * MIN, error_msg="repo not found")
        add("mu_f_12h", "model_upload", "F", 13 * HOUR, 12 * HOUR, error_msg="HTTP 503")
        # dataset_upload
        add("du_q", "dataset_upload", "Q", 1 * MIN)
        add("du_r", "dataset_upload", "R", 70 * MIN)
        for i in range(12):  # filler so that the default window spans several pages
            add(f"du_d{i}", "dataset_upload", "D", (2 + 5 * i) * MIN + 17, (1 + 5 * i) * MIN + 17)
        # identical created_at across tables and within one table
        tie = now - dt.timedelta(seconds=45 * MIN)
        cls.tie_labels = ["tie_tr_q", "tie_ev_d", "tie_sy_r", "tie_mu_c", "tie_du_d1", "tie_du_d2"]
        add("tie_tr_q", "training", "Q", None, created_at=tie, tag="tie")
        add("tie_ev_d", "evaluation", "D", None, 44 * MIN, created_at=tie, tag="tie")
        add("tie_sy_r", "synthesis", "R", None, created_at=tie, tag="tie")
        add("tie_mu_c", "model_upload", "C", None, 44 * MIN, created_at=tie, tag="tie")
        add("tie_du_d1", "dataset_upload", "D", None, 44 * MIN, created_at=tie, tag="tie")
        add("tie_du_d2", "dataset_upload", "D", None, 44 * MIN, created_at=tie, tag="tie")
        # tags at the length limit
        cls.tag100 = "t" * 100
        add("tag100", "synthesis", "D", 9 * MIN, 8 * MIN, tag=cls.tag100)

        ids = cls.server.insert(rows)
        assert ids == [r["id"] for r in rows], "testkit insert did not keep the given ids"
        cls.by_id = {t["id"]: label for label, t in cls.tasks.items()}

    # ------------------------------------------------------------------ reference model

    def ref(self, types=(), statuses=(), tag=None, within_hours=1, limit=None, offset=0):
        cutoff = self.now - dt.timedelta(hours=within_hours)
        out = []
        for label, t in self.tasks.items():
            if types and t["task_type"] not in types:
                continue
            if statuses and t["task_status"] not in statuses:
                continue
            if tag is not None and t["tag"] != tag:
                continue
            if t["task_status"] in ("D", "F", "C") and t["ended"] < cutoff:
                continue
            out.append(t)
        out.sort(key=lambda t: (t["created"], t["id"]), reverse=True)
        out = out[offset:]
        if limit is not None:
            out = out[:limit]
        return [self.label(t["id"]) for t in out]

    def label(self, task_id):
        return self.by_id.get(task_id, f"<unknown {task_id}>")

    def ids(self, *labels):
        return [self.tasks[l]["id"] for l in labels]

    def list_labels(self, params=None, path="/tasks"):
        status, headers, body = self.server.get(path, params)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertIsInstance(body, list)
        for rec in body:
            self.assert_record(rec)
        return [self.label(r["id"]) for r in body]

    def assert_record(self, rec):
        """Every record matches what was inserted, field by field."""
        self.assertEqual(set(rec), RECORD_KEYS, rec)
        self.assertIn(rec["id"], self.by_id, rec)
        t = self.tasks[self.by_id[rec["id"]]]
        self.assertEqual(rec["task_type"], t["task_type"], rec)
        self.assertEqual(rec["task_status"], t["task_status"], rec)
        self.assertEqual(rec["tag"], t["tag"], rec)
        self.assertEqual(parse_rfc3339_z(rec["created_at"]), t["created"], rec)
        if t["ended"] is None:
            self.assertIsNone(rec["end_date"], rec)
        else:
            self.assertEqual(parse_rfc3339_z(rec["end_date"]), t["ended"], rec)
        self.assertEqual(rec["error_msg"], t["error_msg"], rec)
        self.assertIsNone(rec["progress"], rec)
        self.assertIsNone(rec["progress_msg"], rec)

    def assertNewestFirst(self, labels):
        keys = [(self.tasks[l]["created"], self.tasks[l]["id"]) for l in labels]
        self.assertEqual(keys, sorted(keys, reverse=True), labels)

    # ------------------------------------------------------------------ guide: basic usage

    def test_guide_bare_tasks_default_window_is_one_hour(self):
        # curl "http://localhost:8000/tasks"
        got = self.list_labels()
        self.assertEqual(got, self.ref(within_hours=1))
        self.assertNewestFirst(got)
        # Active work of any age is never hidden by the window.
        for label in ["tr_q_old", "tr_r_exp1_0", "tr_r_exp1_1", "sy_q", "ev_q", "du_r",
                      "tie_tr_q", "tie_sy_r"]:
            self.assertIn(label, got)
        # Ended within the hour, whatever their age.
        for label in ["tr_d_recent", "tr_c_recent", "tr_d_400d", "tr_d_30d", "ev_d", "sy_c",
                      "sy_d", "mu_d", "tie_ev_d", "tie_mu_c", "du_d11"]:
            self.assertIn(label, got)
        # Ended before the hour.
        for label in ["tr_d_3h", "tr_f_5h", "tr_f_20h", "tr_f_30h", "tr_d_old", "ev_f",
                      "ev_f_10h", "ev_d_5h", "sy_c_old", "mu_f", "mu_f_12h"]:
            self.assertNotIn(label, got)
        # The guide's Python snippet prints len(tasks): every task in the window, no implicit cap.
        self.assertEqual(len(got), 52)

    def test_guide_filter_by_task_type(self):
        # curl "http://localhost:8000/tasks?task_type=training&task_type=evaluation"
        got = self.list_labels("task_type=training&task_type=evaluation")
        self.assertEqual(got, self.ref(types=["training", "evaluation"]))
        self.assertEqual({self.tasks[l]["task_type"] for l in got}, {"training", "evaluation"})
        self.assertNotIn("tr_d_3h", got)
        self.assertNotIn("ev_d_5h", got)
        # The Python snippet: params={"task_type": [...], "within_hours": 6}
        got6 = self.list_labels({"task_type": ["training", "evaluation"], "within_hours": 6})
        self.assertEqual(got6, self.ref(types=["training", "evaluation"], within_hours=6))
        for label in ["tr_d_3h", "tr_f_5h", "ev_f", "ev_d_5h"]:
            self.assertIn(label, got6)
        for label in ["tr_f_20h", "ev_f_10h", "tr_d_old", "sy_c_old", "mu_f"]:
            self.assertNotIn(label, got6)

    def test_guide_filter_running(self):
        # curl "http://localhost:8000/tasks?status=R"
        got = self.list_labels("status=R")
        expected = ["tr_r_exp1_6", "ev_r_exp1", "tr_r_exp1_5", "ev_r", "tr_r_exp1_4",
                    "tr_r_exp1_3", "tr_r_exp2", "tr_r_exp1_2", "tie_sy_r", "du_r",
                    "tr_r_exp1_1", "tr_r_exp1_0"]
        self.assertEqual(got, expected)
        self.assertEqual(got, self.ref(statuses=["R"]))

    def test_guide_failures_last_24_hours(self):
        # params={"status": ["F"], "within_hours": 24}
        status, _, body = self.server.get("/tasks", {"status": ["F"], "within_hours": 24})
        self.assertEqual(status, 200)
        got = [self.label(r["id"]) for r in body]
        self.assertEqual(got, ["mu_f", "ev_f", "tr_f_5h", "ev_f_10h", "mu_f_12h", "tr_f_20h"])
        msgs = {self.label(r["id"]): r["error_msg"] for r in body}
        self.assertEqual(msgs["tr_f_5h"], "CUDA out of memory")
        self.assertEqual(msgs["mu_f_12h"], "HTTP 503")
        for r in body:
            self.assertEqual(r["task_status"], "F")
            self.assertIsNotNone(r["end_date"])
        # The default window shows none of them.
        self.assertEqual(self.list_labels("status=F"), [])

    def test_guide_combined_filters_curl(self):
        # curl "http://localhost:8000/tasks?task_type=training&status=R&tag=experiment-1&limit=5"
        got = self.list_labels("task_type=training&status=R&tag=experiment-1&limit=5")
        self.assertEqual(got, ["tr_r_exp1_6", "tr_r_exp1_5", "tr_r_exp1_4", "tr_r_exp1_3",
                               "tr_r_exp1_2"])
        # Without the limit: all seven, including the five-day-old one (still running).
        got_all = self.list_labels("task_type=training&status=R&tag=experiment-1")
        self.assertEqual(got_all, [f"tr_r_exp1_{i}" for i in range(6, -1, -1)])

    def test_guide_combined_filters_python(self):
        params = {"task_type": ["training", "evaluation"], "status": ["Q", "R"],
                  "tag": "production-model-v2", "within_hours": 4, "limit": 10}
        status, _, body = self.server.get("/tasks", params)
        self.assertEqual(status, 200, body)
        got = [self.label(r["id"]) for r in body]
        # 13 tasks match (Q/R never leave the window); the newest ten come back.
        matching = ["ev_r", "tr_q_pm0", "tr_q_pm1", "tr_q_pm2", "ev_q", "tr_q_pm3", "tr_q_pm4",
                    "tr_q_pm5", "tr_q_pm6", "tr_q_pm7", "tr_q_pm8", "tr_q_pm9", "tr_q_old"]
        self.assertEqual(got, matching[:10])
        self.assertEqual(got, self.ref(types=["training", "evaluation"], statuses=["Q", "R"],
                                       tag="production-model-v2", within_hours=4, limit=10))
        lines = [f"{t['task_type']}: {t['task_status']} ({t['tag']})" for t in body]
        self.assertEqual(lines[0], "evaluation: R (production-model-v2)")
        self.assertEqual(lines[1], "training: Q (production-model-v2)")
        # Its D and F tasks with the same tag stay out because of the status filter.
        for label in ["ev_d", "ev_f", "tr_d_3h"]:
            self.assertNotIn(label, got)

    def test_guide_pagination(self):
        full = self.list_labels()
        self.assertGreater(len(full), 20)
        page1 = self.list_labels("limit=10&offset=0")
        page2 = self.list_labels("limit=10&offset=10")
        self.assertEqual(len(page1), 10)
        self.assertEqual(len(page2), 10)
        self.assertEqual(page1, full[:10])
        self.assertEqual(page2, full[10:20])
        self.assertFalse(set(page1) & set(page2))
        # Walk every page: no overlap, no gap, the union is the unpaginated list in order.
        walked, offset = [], 0
        while True:
            page = self.list_labels({"limit": 10, "offset": offset})
            walked.extend(page)
            if len(page) < 10:
                break
            offset += 10
        self.assertEqual(walked, full)
        self.assertEqual(len(set(walked)), len(walked))
        # offset alone skips that many; past the end is an empty page.
        self.assertEqual(self.list_labels("offset=7"), full[7:])
        self.assertEqual(self.list_labels({"limit": 10, "offset": len(full)}), [])
        self.assertEqual(self.list_labels({"limit": 100, "offset": 10 ** 9}), [])

    def test_pagination_with_filters_and_ties(self):
        full = self.list_labels("task_type=dataset_upload&task_type=model_upload&within_hours=24")
        walked = []
        for offset in range(0, len(full) + 3, 3):
            walked += self.list_labels(f"task_type=dataset_upload&task_type=model_upload"
                                       f"&within_hours=24&limit=3&offset={offset}")
        self.assertEqual(walked, full)
        # Walk the six tasks that share one created_at two at a time.
        tie_pages = []
        for offset in (0, 2, 4):
            tie_pages += self.list_labels(f"tag=tie&limit=2&offset={offset}")
        self.assertEqual(tie_pages, self.list_labels("tag=tie"))
        self.assertEqual(sorted(tie_pages), sorted(self.tie_labels))

    # ------------------------------------------------------------------ response shape, order

    def test_response_fields(self):
        status, _, body = self.server.get("/tasks")
        self.assertEqual(status, 200)
        recs = {self.label(r["id"]): r for r in body}
        for rec in body:
            self.assertEqual(set(rec), RECORD_KEYS)
            self.assertTrue(GUIDE_KEYS <= set(rec))
            self.assertEqual(str(uuid.UUID(rec["id"])), rec["id"])  # canonical lower-case UUID
            self.assertIn(rec["task_type"], TYPES)
            self.assertIn(rec["task_status"], STATUSES)
            parse_rfc3339_z(rec["created_at"])
            if rec["task_status"] in ("Q", "R"):
                self.assertIsNone(rec["end_date"], rec)
            else:
                self.assertGreaterEqual(parse_rfc3339_z(rec["end_date"]),
                                        parse_rfc3339_z(rec["created_at"]))
        q = recs["tr_q_old"]
        self.assertEqual(q["id"], self.tasks["tr_q_old"]["id"])
        self.assertEqual(q["task_type"], "training")
        self.assertEqual(q["task_status"], "Q")
        self.assertEqual(q["tag"], "production-model-v2")
        self.assertEqual(parse_rfc3339_z(q["created_at"]), self.tasks["tr_q_old"]["created"])
        self.assertIsNone(q["end_date"])
        r = recs["du_r"]
        self.assertIsNone(r["tag"])  # untagged → null, and the key is present
        self.assertIsNone(r["end_date"])
        d = recs["tr_d_recent"]
        self.assertEqual(d["task_status"], "D")
        self.assertIsNone(d["tag"])
        self.assertEqual(parse_rfc3339_z(d["end_date"]), self.tasks["tr_d_recent"]["ended"])
        c = recs["tr_c_recent"]
        self.assertEqual(c["error_msg"], "cancelled by user")

    def test_order_newest_first_ties_by_id_descending(self):
        got = self.list_labels({"within_hours": 100000})
        self.assertNewestFirst(got)
        ties = [l for l in got if l.startswith("tie_")]
        expected = sorted(self.tie_labels, key=lambda l: self.tasks[l]["id"], reverse=True)
        self.assertEqual(ties, expected)
        # They are adjacent in the listing.
        first = got.index(ties[0])
        self.assertEqual(got[first:first + len(ties)], ties)
        self.assertEqual(self.list_labels("tag=tie"), expected)

    def test_huge_window_returns_everything(self):
        got = self.list_labels({"within_hours": 1000000})
        self.assertEqual(sorted(got), sorted(self.tasks))
        self.assertEqual(got, self.ref(within_hours=1000000))

    # ------------------------------------------------------------------ filters

    def test_cancelled_status_included_and_filterable(self):
        got = self.list_labels()
        for label in ["tr_c_recent", "sy_c", "tie_mu_c"]:
            self.assertIn(label, got)
        self.assertEqual(self.list_labels("status=C"), ["tie_mu_c", "tr_c_recent", "sy_c"])
        self.assertEqual(self.list_labels("status=C&within_hours=3"),
                         ["tie_mu_c", "tr_c_recent", "sy_c", "sy_c_old"])
        self.assertEqual(self.list_labels("status=C&task_type=synthesis&within_hours=3"),
                         ["sy_c", "sy_c_old"])

    def test_repeatable_task_type_and_status(self):
        got = self.list_labels("status=Q&status=R")
        self.assertEqual(got, self.ref(statuses=["Q", "R"]))
        self.assertEqual({self.tasks[l]["task_status"] for l in got}, {"Q", "R"})
        got = self.list_labels("status=D&status=F&status=C&within_hours=24")
        self.assertEqual(got, self.ref(statuses=["D", "F", "C"], within_hours=24))
        got = self.list_labels("task_type=synthesis&task_type=model_upload&task_type=dataset_upload")
        self.assertEqual(got, self.ref(types=["synthesis", "model_upload", "dataset_upload"]))
        # Repeating a value, or listing every value, changes nothing.
        self.assertEqual(self.list_labels("task_type=training&task_type=training"),
                         self.list_labels("task_type=training"))
        self.assertEqual(self.list_labels("&".join(f"task_type={t}" for t in TYPES)),
                         self.list_labels())
        self.assertEqual(self.list_labels("&".join(f"status={s}" for s in STATUSES)),
                         self.list_labels())
        # Order of the values does not matter.
        self.assertEqual(self.list_labels("status=R&status=Q&task_type=evaluation&task_type=training"),
                         self.list_labels("status=Q&status=R&task_type=training&task_type=evaluation"))

    def test_every_type_status_and_window_combination_matches_the_contract(self):
        for ttype in TYPES:
            for st in STATUSES:
                for hours in (1, 24):
                    with self.subTest(task_type=ttype, status=st, within_hours=hours):
                        got = self.list_labels({"task_type": ttype, "status": st,
                                                "within_hours": hours})
                        self.assertEqual(got, self.ref(types=[ttype], statuses=[st],
                                                       within_hours=hours))

    def test_tag_filter(self):
        self.assertEqual(self.list_labels("tag=my-model"), ["mu_d"])
        self.assertEqual(self.list_labels("tag=no-such-tag"), [])
        self.assertEqual(self.list_labels({"tag": "production-model-v2", "within_hours": 24}),
                         self.ref(tag="production-model-v2", within_hours=24))

    def test_tag_length_limit(self):
        # 100 characters is allowed, and finds the task tagged with it.
        self.assertEqual(self.list_labels({"tag": self.tag100}), ["tag100"])
        status, _, body = self.server.get("/tasks", {"tag": "x" * 100})
        self.assertEqual((status, body), (200, []))
        # 101 characters is not.
        status, _, body = self.server.get("/tasks", {"tag": "t" * 101})
        self.assertEqual(status, 422, body)
        self.assertValidationError(body, "tag")

    def test_unknown_params_ignored(self):
        base = self.list_labels()
        self.assertEqual(self.list_labels("foo=bar&page=3&size=1&sort=asc"), base)
        self.assertEqual(self.list_labels("status=R&unknown=1"), self.list_labels("status=R"))

    def test_prefixed_path_equals_root(self):
        for params in [None, "status=R", "task_type=training&task_type=evaluation&within_hours=6",
                       "limit=10&offset=10", "tag=tie"]:
            with self.subTest(params=params):
                s1, _, b1 = self.server.get("/tasks", params)
                s2, _, b2 = self.server.get("/v1/api/tasks", params)
                self.assertEqual((s1, s2), (200, 200))
                self.assertEqual(b2, b1)
        s, _, b = self.server.get("/v1/api/tasks", "limit=0")
        self.assertEqual(s, 422)
        self.assertValidationError(b, "limit")

    # ------------------------------------------------------------------ validation

    def assertValidationError(self, body, name):
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), {"detail"}, body)
        self.assertIsInstance(body["detail"], list, body)
        self.assertGreaterEqual(len(body["detail"]), 1, body)
        for item in body["detail"]:
            self.assertEqual(set(item), {"loc", "msg", "type"}, body)
            self.assertEqual(item["loc"], ["query", name], body)
            self.assertIsInstance(item["msg"], str)
            self.assertTrue(item["msg"], body)
            self.assertIsInstance(item["type"], str)
            self.assertTrue(item["type"], body)

    def test_invalid_values_are_422_naming_the_parameter(self):
        cases = [
            ("status=RUNNING", "status"),
            ("status=", "status"),
            ("status=1", "status"),
            ("status=r", "status"),
            ("limit=0", "limit"),
            ("limit=999", "limit"),
            ("limit=101", "limit"),
            ("limit=-5", "limit"),
            ("limit=abc", "limit"),
            ("limit=", "limit"),
            ("limit=1.5", "limit"),
            ("offset=-1", "offset"),
            ("offset=abc", "offset"),
            ("within_hours=0", "within_hours"),
            ("within_hours=-1", "within_hours"),
            ("within_hours=", "within_hours"),
            ("within_hours=abc", "within_hours"),
            ("task_type=UPLOAD", "task_type"),
            ("task_type=", "task_type"),
            ("task_type=training&task_type=invalid_type", "task_type"),
            ("tag=" + "a" * 256, "tag"),
            ("tag=" + "a" * 101, "tag"),
            ("limit=5&status=RUNNING", "status"),
        ]
        for query, name in cases:
            with self.subTest(query=query[:60]):
                for path in ("/tasks", "/v1/api/tasks"):
                    status, headers, body = self.server.get(path, query)
                    self.assertEqual(status, 422, f"{path}?{query} → {status} {body}")
                    self.assertTrue(headers.get("content-type", "").startswith("application/json"))
                    self.assertValidationError(body, name)

    def test_validation_messages_are_specific(self):
        _, _, body = self.server.get("/tasks", "limit=999")
        self.assertEqual(body, {"detail": [{"loc": ["query", "limit"],
                                            "msg": "must be between 1 and 100",
                                            "type": "value_error"}]})
        _, _, body = self.server.get("/tasks", "status=RUNNING")
        self.assertIn("RUNNING", body["detail"][0]["msg"])
        _, _, body = self.server.get("/tasks", "task_type=training&task_type=invalid_type")
        self.assertEqual(len(body["detail"]), 1, body)
        self.assertIn("invalid_type", body["detail"][0]["msg"])
        _, _, body = self.server.get("/tasks", "tag=" + "a" * 256)
        self.assertIn("100", body["detail"][0]["msg"])

    def test_several_invalid_parameters_are_all_named(self):
        status, _, body = self.server.get("/tasks", "limit=0&offset=-1&status=X&task_type=Y")
        self.assertEqual(status, 422)
        locs = sorted(tuple(d["loc"]) for d in body["detail"])
        self.assertEqual(locs, [("query", "limit"), ("query", "offset"), ("query", "status"),
                                ("query", "task_type")])

    def test_boundary_values_accepted(self):
        for query in ["limit=1", "limit=100", "offset=0", "within_hours=1", "within_hours=168"]:
            with self.subTest(query=query):
                status, _, body = self.server.get("/tasks", query)
                self.assertEqual(status, 200, body)
        self.assertEqual(len(self.list_labels("limit=1")), 1)
        self.assertEqual(self.list_labels("limit=100"), self.list_labels()[:100])

    # ------------------------------------------------------------------ detail, stats, system

    def test_task_detail(self):
        # A task queued through the store, on a server of its own (the shared data set stays
        # as inserted).
        srv = self.start_server(harness.vectorize_bin(), ["--no-workers"])
        [tid] = srv.enqueue(task_type="evaluation", count=1,
                            inputs={"ms": 50, "note": "detail test"}, tag="detail-tag",
                            max_attempts=4)
        status, _, d = srv.get(f"/tasks/{tid}")
        self.assertEqual(status, 200, d)
        for key in RECORD_KEYS | {"started_at", "updated_at", "attempts", "max_attempts",
                                  "worker_id", "inputs", "result"}:
            self.assertIn(key, d)
        self.assertEqual(d["id"], tid)
        self.assertEqual(d["task_type"], "evaluation")
        self.assertEqual(d["task_status"], "Q")
        self.assertEqual(d["tag"], "detail-tag")
        self.assertIsNone(d["end_date"])
        self.assertIsNone(d["started_at"])
        self.assertIsNone(d["worker_id"])
        self.assertEqual(d["attempts"], 1)
        self.assertEqual(d["max_attempts"], 4)
        self.assertEqual(d["inputs"], {"ms": 50, "note": "detail test"})
        self.assertIsNone(d["result"])
        created = parse_rfc3339_z(d["created_at"])
        self.assertLess(abs((created - dt.datetime.now(dt.timezone.utc)).total_seconds()), 60)
        parse_rfc3339_z(d["updated_at"])
        # The detail and the list agree on the common fields.
        [rec] = srv.get_ok("/tasks", "tag=detail-tag")
        self.assertEqual({k: d[k] for k in RECORD_KEYS}, rec)
        # An inserted finished task, through the prefix too.
        t = self.tasks["ev_f"]
        for path in (f"/tasks/{t['id']}", f"/v1/api/tasks/{t['id']}"):
            status, _, d = self.server.get(path)
            self.assertEqual(status, 200, d)
            self.assertEqual(d["task_status"], "F")
            self.assertEqual(d["error_msg"], "metric NaN")
            self.assertEqual(parse_rfc3339_z(d["end_date"]), t["ended"])
            self.assertEqual(d["inputs"], {})
        # Upper-case UUID is the same task.
        status, _, d = self.server.get(f"/tasks/{t['id'].upper()}")
        self.assertEqual((status, d["id"]), (200, t["id"]))

    def test_task_detail_unknown_and_malformed(self):
        unknown = str(uuid.uuid4())
        status, headers, body = self.server.get(f"/tasks/{unknown}")
        self.assertEqual(status, 404, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(body["code"], "NOT_FOUND")
        self.assertIsInstance(body["message"], str)
        for bad in ["not-a-uuid", "12345", "123e4567-e89b-12d3-a456-42661417400Z"]:
            with self.subTest(id=bad):
                status, _, body = self.server.get(f"/tasks/{bad}")
                self.assertEqual(status, 422, body)
                self.assertEqual(body["detail"][0]["loc"], ["path", "id"], body)
        for action in ("cancel", "retry"):
            status, _, body = self.server.post(f"/tasks/{unknown}/{action}")
            self.assertEqual(status, 404, body)
            self.assertEqual(body["code"], "NOT_FOUND")
            status, _, body = self.server.post(f"/tasks/nope/{action}")
            self.assertEqual(status, 422, body)

    def _expected_stats(self, within_hours, **filters):
        by_type = {t: {s: 0 for s in STATUSES} for t in TYPES}
        for label in self.ref(within_hours=within_hours, **filters):
            t = self.tasks[label]
            by_type[t["task_type"]][t["task_status"]] += 1
        by_status = {s: sum(by_type[t][s] for t in TYPES) for s in STATUSES}
        return {"within_hours": within_hours, "total": sum(by_status.values()),
                "by_status": by_status, "by_type": by_type}

    def test_stats(self):
        status, _, body = self.server.get("/tasks/stats")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, self._expected_stats(1))
        self.assertEqual(body["by_type"]["training"]["R"], 8)
        self.assertEqual(body["by_type"]["training"]["F"], 0)
        self.assertEqual(body["total"], len(self.list_labels()))
        for hours in (4, 24):
            status, _, body = self.server.get("/tasks/stats", {"within_hours": hours})
            self.assertEqual(status, 200, body)
            self.assertEqual(body, self._expected_stats(hours))
        status, _, body = self.server.get("/tasks/stats", "within_hours=24")
        self.assertEqual(body["by_status"]["F"], 6)
        self.assertEqual(body["by_type"]["model_upload"]["F"], 2)
        status, _, body = self.server.get("/v1/api/tasks/stats")
        self.assertEqual(status, 200)
        for bad in ("within_hours=0", "within_hours=-3", "within_hours=x", "within_hours="):
            with self.subTest(query=bad):
                status, _, body = self.server.get("/tasks/stats", bad)
                self.assertEqual(status, 422, body)
                self.assertValidationError(body, "within_hours")
        # The filters of GET /tasks: the counts are those of what the list shows.
        for filters in ({"types": ["training", "evaluation"]}, {"statuses": ["F", "C"]},
                        {"tag": "production-model-v2"},
                        {"types": ["model_upload"], "statuses": ["Q", "F"]}):
            params = {"task_type": filters.get("types", []), "status": filters.get("statuses", []),
                      "within_hours": 24}
            if "tag" in filters:
                params["tag"] = filters["tag"]
            with self.subTest(filters=filters):
                status, _, body = self.server.get("/tasks/stats", params)
                self.assertEqual(status, 200, body)
                self.assertEqual(body, self._expected_stats(24, **filters))
                self.assertEqual(body["total"], len(self.ref(within_hours=24, **filters)))
        for bad, name in (("task_type=nope", "task_type"), ("status=X", "status"),
                          ("tag=" + "x" * 101, "tag")):
            status, _, body = self.server.get("/tasks/stats", bad)
            self.assertEqual(status, 422, body)
            self.assertValidationError(body, name)

    def test_stdout_is_exactly_the_listening_line(self):
        srv = self.start_server(harness.vectorize_bin(), ["--no-workers"])
        self.assertRegex(f"http://{srv.host}:{srv.port}", r"^http://127\.0\.0\.1:[1-9]\d*$")
        self.assertEqual(srv.get("/health")[0], 200)
        self.assertEqual(srv.get("/tasks", "limit=0")[0], 422)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(srv.extra_stdout, [])
        self.assertIn("listening", srv.log_text())  # logs go to stderr

    def test_health(self):
        for path in ("/health", "/v1/api/health"):
            status, headers, body = self.server.get(path)
            self.assertEqual(status, 200, body)
            self.assertTrue(headers.get("content-type", "").startswith("application/json"))
            self.assertEqual(body["status"], "ok")

    def _metric(self, text, name, labels):
        pat = re.compile(r"^" + re.escape(name + "{" + labels + "}") + r" (\S+)$", re.M)
        m = pat.search(text)
        return None if m is None else float(m.group(1))

    def test_metrics(self):
        status, headers, text = self.server.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        self.assertIn("# TYPE vectorize_tasks gauge", text)
        # Metrics count active tasks and those ended in the last 24 hours.
        expected = self._expected_stats(24)["by_type"]
        for ttype in TYPES:
            for st in STATUSES:
                self.assertEqual(
                    self._metric(text, "vectorize_tasks", f'task_type="{ttype}",status="{st}"'),
                    expected[ttype][st], f"{ttype}/{st}")
        self.assertEqual(
            self._metric(text, "vectorize_tasks", 'task_type="training",status="D"'), 4)
        self.assertEqual(
            self._metric(text, "vectorize_queue_depth", 'task_type="training"'),
            expected["training"]["Q"])
        # HTTP request counter: three more /health requests add exactly three.
        labels = 'method="GET",route="/health",status="200"'
        before = self._metric(text, "vectorize_http_requests_total", labels) or 0
        for _ in range(3):
            self.assertEqual(self.server.get("/health")[0], 200)
        text = self.server.get("/metrics")[2]
        self.assertIn("# TYPE vectorize_http_requests_total counter", text)
        self.assertEqual(self._metric(text, "vectorize_http_requests_total", labels), before + 3)

    def test_unknown_route_and_wrong_method(self):
        status, headers, body = self.server.get("/no/such/route")
        self.assertEqual(status, 404, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(body["code"], "NOT_FOUND")
        status, headers, body = self.server.request("DELETE", "/tasks")
        self.assertEqual(status, 405, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(body["code"], "METHOD_NOT_ALLOWED")
        self.assertIn("GET", headers.get("allow", ""))
        status, _, body = self.server.request("POST", "/tasks/stats")
        self.assertEqual(status, 405, body)
        status, _, body = self.server.request("GET", f"/tasks/{self.tasks['tr_q_old']['id']}/cancel")
        self.assertEqual(status, 405, body)

    def test_cancel_done_and_retry_queued_conflict(self):
        done = self.tasks["tr_d_recent"]["id"]
        status, headers, body = self.server.post(f"/tasks/{done}/cancel")
        self.assertEqual(status, 409, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(body["code"], "CONFLICT")
        self.assertIsInstance(body["message"], str)
        for label in ("tr_f_5h", "tr_c_recent"):  # F and C cannot be cancelled either
            status, _, body = self.server.post(f"/tasks/{self.tasks[label]['id']}/cancel")
            self.assertEqual((status, body["code"]), (409, "CONFLICT"), label)
        queued = self.tasks["tr_q_old"]["id"]
        status, _, body = self.server.post(f"/tasks/{queued}/retry")
        self.assertEqual(status, 409, body)
        self.assertEqual(body["code"], "CONFLICT")
        for label in ("tr_d_recent", "du_r"):  # D and R cannot be retried either
            status, _, body = self.server.post(f"/tasks/{self.tasks[label]['id']}/retry")
            self.assertEqual((status, body["code"]), (409, "CONFLICT"), label)
        # Nothing changed.
        self.assertEqual(self.server.task(done)["task_status"], "D")
        q = self.server.task(queued)
        self.assertEqual((q["task_status"], q["attempts"]), ("Q", 1))


if __name__ == "__main__":
    unittest.main()
