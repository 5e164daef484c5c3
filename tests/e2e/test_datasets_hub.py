"""Hugging Face Hub dataset imports against the real binary and the local fake Hub
(tests/fixtures/fake_hub.py, HF_ENDPOINT pointed at it): the happy path over JSONL and CSV
files of two splits, Parquet-only datasets through the dataset-viewer rows API, 404 for an
unknown dataset, 409 when imported or importing, a 503 that succeeds on retry, and a cancel
mid-download that leaves nothing behind. SQLite, and PostgreSQL with VECTORIZE_TEST_PG_URL."""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest

import harness
from harness import E2ETestCase
from datasets_support import Backend, files_in

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_HUB = os.path.normpath(os.path.join(HERE, "..", "fixtures", "fake_hub.py"))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_hub_root(root):
    qa_train = "".join(json.dumps({"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}",
                                   "id": i}) + "\n" for i in range(30))
    qa_test = "prompt,chosen,rejected\n" + "".join(f"t{i},tg{i},tb{i}\n" for i in range(7))
    for name in ("qa", "qa2", "qa3"):
        d = os.path.join(root, "datasets", "acme", name)
        write(os.path.join(d, "README.md"), "# a dataset\n")
        write(os.path.join(d, ".gitattributes"), "*.parquet filter=lfs\n")
        write(os.path.join(d, "data", "train.jsonl"), qa_train)
        write(os.path.join(d, "data", "test.csv"), qa_test)
    # Big enough that a slow download is still running when the test cancels it.
    big = "".join(json.dumps({"question": f"question number {i}", "answer": "x" * 200}) + "\n"
                  for i in range(20000))
    write(os.path.join(root, "datasets", "acme", "big", "train.jsonl"), big)
    # Parquet only: the repository holds the Parquet file; the dataset viewer serves its rows.
    d = os.path.join(root, "datasets", "acme", "pq")
    write(os.path.join(d, "README.md"), "# parquet\n")
    with open(os.path.join(d, "data-train.parquet"), "wb") as f:
        f.write(b"PAR1 not read by the importer PAR1")
    write(os.path.join(root, "datasets-server", "acme", "pq", "default", "train.jsonl"),
          "".join(json.dumps({"human": f"h{i}", "assistant": f"a{i}"}) + "\n"
                  for i in range(250)))
    write(os.path.join(root, "datasets-server", "acme", "pq", "default", "validation.jsonl"),
          "".join(json.dumps({"human": f"v{i}", "assistant": f"va{i}"}) + "\n"
                  for i in range(3)))
    # Columns outside the allowed schemas.
    write(os.path.join(root, "datasets", "acme", "odd", "data.jsonl"),
          json.dumps({"foo": "1", "bar": "2"}) + "\n")


class FakeHub:
    def __init__(self, root):
        self.proc = subprocess.Popen(
            [sys.executable, FAKE_HUB, "--root", root, "--port", "0",
             "--lfs-threshold", str(1 << 30)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"fake hub did not start: {line!r}")
        self.url = m.group(1)
        host, port = self.url[len("http://"):].split(":")
        self.ctl = harness.Server.__new__(harness.Server)
        self.ctl.host, self.ctl.port = host, int(port)

    def fault(self, **spec):
        status, _, _ = self.ctl.request("POST", "/_control/faults", body=spec)
        assert status == 200

    def clear(self):
        self.ctl.request("DELETE", "/_control/faults")
        self.ctl.request("DELETE", "/_control/log")

    def log(self):
        return self.ctl.request("GET", "/_control/log")[2]["requests"]

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)


class HubImportBase(Backend):

    @classmethod
    def setUpClass(cls):
        cls.backend_setup()
        cls.root = tempfile.mkdtemp(prefix="vz-fake-hub-")
        make_hub_root(cls.root)
        cls.hub = FakeHub(cls.root)
        cls.server = harness.Server(
            harness.vectorize_bin(), args=cls.backend_args(),
            env={"HF_ENDPOINT": cls.hub.url,
                 "VECTORIZE_HF_DATASETS_SERVER": cls.hub.url + "/datasets-server",
                 "VECTORIZE_RETRY_BASE_SECONDS": "0.2"})
        cls.class_servers = [cls.server]
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()
        cls.hub.stop()
        import shutil
        shutil.rmtree(cls.root, ignore_errors=True)
        cls.backend_teardown()

    def setUp(self):
        super().setUp()
        self.hub.clear()

    def submit(self, body):
        return self.server.post("/datasets/huggingface", body)

    def wait_status(self, task_id, states, timeout=30):
        def done():
            t = self.server.get_ok(f"/datasets/huggingface/status/{task_id}")
            return t if t["task_status"] in states else None
        return harness.wait_until(done, timeout, message=f"task {task_id} in {states}")

    def dataset_lines(self, dataset_id):
        path = os.path.join(self.server.data_dir, "datasets", dataset_id + ".jsonl")
        with open(path, encoding="utf-8") as f:
            return [json.loads(l) for l in f]

    def test_import_every_split(self):
        status, headers, task = self.submit({"dataset_tag": "acme/qa"})
        self.assertEqual(status, 201, task)
        self.assertEqual(headers["location"], "/datasets/huggingface/status/" + task["id"])
        self.assertEqual(task["task_type"], "dataset_upload")
        self.assertEqual(task["inputs"], {"source": "huggingface", "dataset_tag": "acme/qa",
                                          "revision": "main"})
        self.assertEqual(task["tag"], "acme/qa")
        t = self.wait_status(task["id"], {"D", "F"})
        self.assertEqual(t["task_status"], "D", t)
        self.assertEqual(t["progress"], 1.0)
        result = t["result"]
        self.assertEqual(result["rows"], 37)
        self.assertEqual(result["classification"], "T")
        d = self.server.get_ok("/datasets/" + result["dataset_id"])
        self.assertEqual((d["name"], d["source"], d["rows"]), ("acme_qa", "H", 37))
        lines = self.dataset_lines(d["id"])
        self.assertEqual(len(lines), 37)
        self.assertIn({"question": "t0", "positive": "tg0", "negative": "tb0"}, lines)
        self.assertIn({"question": "q29", "positive": "good 29", "negative": "bad 29"}, lines)
        paths = {r["path"] for r in self.hub.log()}
        self.assertFalse(any(p.endswith("README.md") for p in paths), paths)
        # The same tag again: already imported.
        status, _, body = self.submit({"dataset_tag": "acme/qa", "revision": "main"})
        self.assertEqual((status, body["code"]), (409, "DATASET_ALREADY_EXISTS"))
        self.assertEqual([f for f in files_in(os.path.join(self.server.data_dir, "tmp"))
                          if task["id"] in f], [])

    def test_unknown_dataset_is_404_and_queues_nothing(self):
        before = len(self.server.get_ok("/tasks", {"task_type": "dataset_upload"}))
        status, _, body = self.submit({"dataset_tag": "acme/nope"})
        self.assertEqual((status, body["code"]), (404, "NOT_FOUND"))
        self.assertIn("acme/nope", body["message"])
        status, _, body = self.submit({"dataset_tag": "acme/qa", "revision": "v9"})
        self.assertEqual(status, 404, body)
        self.assertEqual(len(self.server.get_ok("/tasks", {"task_type": "dataset_upload"})),
                         before)

    def test_invalid_bodies(self):
        for body, loc in [({}, ["body", "dataset_tag"]), ({"dataset_tag": 5}, ["body", "dataset_tag"]),
                          ({"dataset_tag": "a/../b"}, ["body", "dataset_tag"]),
                          ({"dataset_tag": "acme/qa", "revision": 3}, ["body", "revision"]),
                          ([], ["body"])]:
            status, _, out = self.submit(body)
            self.assertEqual(status, 422, body)
            self.assertEqual(out["detail"][0]["loc"], loc, body)
        status, _, _ = self.server.get("/datasets/huggingface/status/not-a-uuid")
        self.assertEqual(status, 422)
        status, _, out = self.server.get(
            "/datasets/huggingface/status/0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c00")
        self.assertEqual((status, out["code"]), (404, "NOT_FOUND"))

    def test_503_succeeds_on_retry(self):
        self.hub.fault(match="/datasets/acme/qa2/resolve/", kind="status", status=503, count=2)
        status, _, task = self.submit({"dataset_tag": "acme/qa2"})
        self.assertEqual(status, 201, task)
        t = self.wait_status(task["id"], {"D", "F"})
        self.assertEqual(t["task_status"], "D", t)
        self.assertEqual(t["result"]["rows"], 37)
        resolves = [r for r in self.hub.log() if "/acme/qa2/resolve/" in r["path"]]
        self.assertGreaterEqual(len(resolves), 4, resolves)  # 2 files + 2 refused tries

    def test_cancel_mid_download_leaves_nothing(self):
        self.hub.fault(match="/datasets/acme/big/resolve/", kind="slow", bytes_per_sec=200000,
                       count=-1)
        status, _, task = self.submit({"dataset_tag": "acme/big"})
        self.assertEqual(status, 201, task)
        harness.wait_until(
            lambda: "of" in (self.server.task(task["id"]).get("progress_msg") or "")
            and self.server.task(task["id"])["task_status"] == "R", 15,
            message="the download under way")
        # Importing: a second request is refused.
        status, _, body = self.submit({"dataset_tag": "acme/big"})
        self.assertEqual((status, body["code"]), (409, "CONFLICT"))
        status, _, _ = self.server.post(f"/tasks/{task['id']}/cancel")
        self.assertEqual(status, 202)
        t = self.wait_status(task["id"], {"C", "D", "F"}, timeout=3)
        self.assertEqual(t["task_status"], "C", t)
        harness.wait_until(
            lambda: files_in(os.path.join(self.server.data_dir, "tmp")) == [], 3,
            message="no partial download left")
        names = [d["name"] for d in self.server.get_ok("/datasets", {"limit": 500})["items"]]
        self.assertNotIn("acme_big", names)
        # A cancelled import does not block the next one.
        self.hub.clear()
        status, _, again = self.submit({"dataset_tag": "acme/big"})
        self.assertEqual(status, 201, again)
        t = self.wait_status(again["id"], {"D", "F"}, timeout=60)
        self.assertEqual(t["task_status"], "D", t)
        self.assertEqual(t["result"]["rows"], 20000)
        self.assertEqual(t["result"]["classification"], "D")

    def test_parquet_through_the_rows_api(self):
        status, _, task = self.submit({"dataset_tag": "acme/pq"})
        self.assertEqual(status, 201, task)
        t = self.wait_status(task["id"], {"D", "F"})
        self.assertEqual(t["task_status"], "D", t)
        self.assertEqual(t["result"]["rows"], 253)
        lines = self.dataset_lines(t["result"]["dataset_id"])
        self.assertEqual(lines[0], {"question": "h0", "positive": "a0"})
        rows_calls = [r for r in self.hub.log() if r["path"] == "/datasets-server/rows"]
        self.assertEqual(len(rows_calls), 4)  # 100 + 100 + 50, then 3

    def test_columns_outside_the_schemas_fail_with_a_message(self):
        status, _, task = self.submit({"dataset_tag": "acme/odd"})
        self.assertEqual(status, 201, task)
        t = self.wait_status(task["id"], {"D", "F"})
        self.assertEqual(t["task_status"], "F", t)
        self.assertIn("allowed schemas", t["error_msg"])
        self.assertEqual(t["attempts"], 1, "a permanent error is not retried")

    def test_retrying_a_local_upload_fails_with_advice(self):
        from datasets_support import upload
        status, _, _ = upload(self.server, [("nope.txt", b"hello")])
        self.assertEqual(status, 422)
        tasks = self.server.get_ok("/tasks", {"task_type": "dataset_upload", "status": "F"})
        task = next(t for t in tasks
                    if self.server.task(t["id"])["inputs"].get("filename") == "nope.txt")
        status, _, _ = self.server.post(f"/tasks/{task['id']}/retry")
        self.assertEqual(status, 202)
        t = self.wait_status(task["id"], {"D", "F", "C"})
        self.assertEqual(t["task_status"], "F", t)
        self.assertIn("upload the file again", t["error_msg"])
        self.assertEqual(t["attempts"], 2)

    def test_concurrent_submissions_start_one_import(self):
        self.hub.fault(match="/datasets/acme/qa3/resolve/", kind="slow", bytes_per_sec=2000,
                       count=-1)
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.submit({"dataset_tag": "acme/qa3"}))) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(r[0] for r in results)
        self.assertEqual(codes, [201, 409, 409, 409, 409], [r[2] for r in results])
        winner = next(r[2] for r in results if r[0] == 201)
        self.server.post(f"/tasks/{winner['id']}/cancel")
        self.wait_status(winner["id"], {"C", "D", "F"}, timeout=5)
        harness.wait_until(
            lambda: files_in(os.path.join(self.server.data_dir, "tmp")) == [], 5,
            message="the cancelled import's work dir removed")


class HubImportSqliteTest(HubImportBase, E2ETestCase):
    BACKEND = "sqlite"


class HubImportPostgresTest(HubImportBase, E2ETestCase):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
