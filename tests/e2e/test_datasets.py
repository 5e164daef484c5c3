"""Datasets over HTTP against the real binary (SPEC §3.1): every file of the original's test data
with its outcome, hostile names, nothing left behind on failure (rows, files, temp files), a
connection dropped mid-upload, concurrent uploads of one name, the ETag/If-Match protocol,
deletes while a task uses a dataset, and the tasks view of every upload. The same suite runs on
SQLite and, with VECTORIZE_TEST_PG_URL, on PostgreSQL."""

import json
import os
import socket
import threading
import time
import unittest

import harness
from harness import E2ETestCase
from datasets_support import Backend, files_in, read, upload

DEFAULT_FIRST_QUESTION = "Wie kann ich mein Passwort zurücksetzen?"


class DatasetsApiBase(Backend):

    @classmethod
    def setUpClass(cls):
        cls.backend_setup()
        cls.server = harness.Server(harness.vectorize_bin(),
                                    args=["--no-workers", *cls.backend_args()],
                                    env={"VECTORIZE_MAX_UPLOAD_BYTES": str(8 << 20)})
        cls.class_servers = [cls.server]
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()
        cls.backend_teardown()

    # -- helpers

    def datasets_dir(self):
        return os.path.join(self.server.data_dir, "datasets")

    def tmp_dir(self):
        return os.path.join(self.server.data_dir, "tmp")

    def all_datasets(self):
        out, offset = [], 0
        while True:
            page = self.server.get_ok("/datasets", {"limit": 500, "offset": offset})
            out += page["items"]
            offset += 500
            if offset >= page["total"]:
                return out

    def snapshot(self):
        return ({d["id"] for d in self.all_datasets()}, files_in(self.datasets_dir()))

    def assert_nothing_left(self, before):
        """No new row, no new file under datasets/, no temp file."""
        ids, files = self.snapshot()
        self.assertEqual(ids, before[0])
        self.assertEqual(files, before[1])
        harness.wait_until(lambda: files_in(self.tmp_dir()) == [], 3, message="tmp/ empty")

    def upload_one(self, filename, content, query=None, timeout=60):
        return upload(self.server, [(filename, content)], query, timeout=timeout)

    def dataset_lines(self, dataset_id):
        with open(os.path.join(self.datasets_dir(), dataset_id + ".jsonl"), encoding="utf-8") as f:
            return [json.loads(l) for l in f]

    # -- valid files

    def test_every_valid_format_gives_five_triples(self):
        for rel in ["valid/default.csv", "valid/default.json", "valid/default.jsonl",
                    "valid/default.xml", "valid/default.xlsx", "valid/custom_fields.csv",
                    "valid/infer_fields.csv"]:
            with self.subTest(rel):
                status, headers, body = self.upload_one(os.path.basename(rel), read(rel))
                self.assertEqual(status, 201, body)
                self.assertEqual(headers["location"], "/datasets/" + body["id"])
                self.assertEqual(headers["etag"], '"1"')
                self.assertEqual(body["rows"], 5)
                self.assertEqual(body["classification"], "T")
                self.assertEqual(body["source"], "U")
                self.assertEqual(body["version"], 1)
                self.assertTrue(body["name"].startswith(os.path.basename(rel).split(".")[0]))
                lines = self.dataset_lines(body["id"])
                self.assertEqual(len(lines), 5)
                self.assertEqual(lines[0]["question"], DEFAULT_FIRST_QUESTION)
                self.assertEqual(set(lines[0]), {"question", "positive", "negative"})
                got = self.server.get_ok(headers["location"])
                self.assertEqual(got, body)

    def test_real_xls(self):
        status, _, body = self.upload_one("questions.xls", read("generated/questions.xls"))
        self.assertEqual(status, 201, body)
        self.assertGreater(body["rows"], 0)

    def test_explicit_column_names(self):
        csv = b"frage,antwort,falsch\nq1,a1,n1\nq2,a2,n2\n"
        status, _, body = self.upload_one(
            "explicit.csv", csv, {"question_name": "frage", "positive_name": "antwort"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["classification"], "D")
        status, _, body = self.upload_one(
            "explicit3.csv", csv,
            {"question_name": "frage", "positive_name": "antwort", "negative_name": "falsch"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["classification"], "T")
        self.assertEqual(self.dataset_lines(body["id"])[1],
                         {"question": "q2", "positive": "a2", "negative": "n2"})
        before = self.snapshot()
        status, _, body = self.upload_one("explicit4.csv", csv, {"question_name": "nope"})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["code"], "INVALID_CSV_FORMAT")
        self.assertIn("nope", body["message"])
        self.assert_nothing_left(before)
        status, _, body = self.upload_one("x.csv", csv, {"sheet_index": "-1"})
        self.assertEqual(status, 422)
        self.assertEqual(body["detail"][0]["loc"], ["query", "sheet_index"])

    def test_zips(self):
        status, _, body = self.upload_one("default.zip", read("valid/default.zip"))
        self.assertEqual(status, 201, body)
        self.assertEqual(body, {"successful_uploads": 5, "failed": []})

        status, _, body = self.upload_one("partial.zip", read("valid/partial.zip"))
        self.assertEqual(status, 201, body)
        self.assertEqual(body["successful_uploads"], 4)
        self.assertEqual(sorted(f["filename"].split("/")[-1] for f in body["failed"]),
                         ["invalid_format.csv", "invalid_format.json", "invalid_format.jsonl"])
        for f in body["failed"]:
            self.assertTrue(f["error"].startswith("INVALID_CSV_FORMAT: "), f)

        before = self.snapshot()
        status, _, body = self.upload_one("invalid.zip", read("invalid/invalid.zip"))
        self.assertEqual(status, 422, body)
        self.assertEqual(body["successful_uploads"], 0)
        self.assertEqual(len(body["failed"]), 7)
        self.assert_nothing_left(before)

        status, _, body = self.upload_one("big.zip", read("valid/big.zip"))
        self.assertEqual(status, 201)
        self.assertEqual(body, {"successful_uploads": 400, "failed": []})

    def test_very_big_zip_is_streamed(self):
        # 10 entries of 25 MB each, compressed 205:1: real data under the ratio limit, and above
        # this server's 8 MB upload limit only once decompressed (the limit is on the upload).
        status, _, body = self.upload_one("very_big.zip", read("valid/very_big.zip"),
                                          timeout=120)
        self.assertEqual(status, 201, body)
        self.assertEqual(body, {"successful_uploads": 10, "failed": []})
        harness.wait_until(lambda: files_in(self.tmp_dir()) == [], 3, message="tmp/ empty")

    def test_memory_stays_flat_for_a_large_upload(self):
        def peak_mb():
            with open(f"/proc/{self.server.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
            raise AssertionError("no VmHWM")

        row = b'"How do I reset my password, and what happens then?","Open the settings",no\n'
        small = b"question,answer,negative\n" + row * 20000            # ~1.6 MB
        self.assertEqual(self.upload_one("mem-small.csv", small)[0], 201)
        before = peak_mb()
        big = b"question,answer,negative\n" + row * 90000                 # ~7.3 MB
        status, _, body = self.upload_one("mem-big.csv", big, timeout=120)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["rows"], 90000)
        # Whole-body buffering would add at least the body (7 MB) several times over (body,
        # parts, rows); streaming stays within a few MB of the small upload's peak.
        self.assertLess(peak_mb() - before, 6.0, f"peak {before:.1f} → {peak_mb():.1f} MB")

    # -- invalid and hostile input

    def test_invalid_files_are_refused_and_leave_nothing(self):
        cases = [("empty.csv", "invalid/empty.csv", 400, "EMPTY_FILE"),
                 (".csv", "invalid/.csv", 400, "INVALID_FILE"),
                 ("unsupported.txt", "invalid/unsupported.txt", 422, "UNSUPPORTED_FORMAT"),
                 ("invalid_format.csv", "invalid/invalid_format.csv", 422, "INVALID_CSV_FORMAT"),
                 ("invalid_format.json", "invalid/invalid_format.json", 422, "INVALID_CSV_FORMAT"),
                 ("invalid_format.jsonl", "invalid/invalid_format.jsonl", 422,
                  "INVALID_CSV_FORMAT"),
                 ("invalid_format.xml", "invalid/invalid_format.xml", 422, "INVALID_CSV_FORMAT"),
                 ("invalid_format.xlsx", "invalid/invalid_format.xlsx", 422,
                  "INVALID_CSV_FORMAT"),
                 ("formula_injection.csv", "malicious/formula_injection.csv", 422,
                  "INVALID_CSV_FORMAT"),
                 ("nul.csv", None, 400, "INVALID_FILE"),
                 ("corrupt.zip", None, 400, "INVALID_FILE")]
        before = self.snapshot()
        for filename, rel, status_want, code in cases:
            with self.subTest(filename):
                if rel:
                    content = read(rel)
                elif filename == "nul.csv":
                    content = b"question,answer\nq\x00,a\n"
                else:
                    content = b"PK\x03\x04 this is not really a zip"
                status, _, body = self.upload_one(filename, content)
                self.assertEqual(status, status_want, body)
                self.assertEqual(body["code"], code, body)
                self.assertTrue(body["message"])
        self.assert_nothing_left(before)

    def test_hostile_names_are_sanitised(self):
        for filename, rel, stem in [("%00nullbyte.csv", "malicious/%00nullbyte.csv", "00nullbyte"),
                                    ("; rm -rf %2F.csv", "malicious/; rm -rf %2F.csv",
                                     "rm_-rf_2F"),
                                    ("../../etc/passwd.csv", "valid/default.csv", "passwd"),
                                    ("a\\b\\..\\c$(reboot).csv", "valid/default.csv",
                                     "c_reboot")]:
            with self.subTest(filename):
                status, _, body = self.upload_one(filename, read(rel))
                self.assertEqual(status, 201, body)
                self.assertTrue(body["name"] == stem or body["name"].startswith(stem + "_"),
                                body["name"])
                self.assertEqual(body["rows"], 5)
        # Only <uuid>.jsonl files under datasets/, nothing anywhere else in the data dir.
        for name in files_in(self.datasets_dir()):
            self.assertRegex(name, r"^[0-9a-f-]{36}\.jsonl$")
        self.assertNotIn("etc", os.listdir(self.server.data_dir))

    def test_quoted_separators_and_newlines(self):
        status, _, body = self.upload_one("field_separator.csv",
                                          read("malicious/field_separator.csv"))
        self.assertEqual(status, 201, body)
        lines = self.dataset_lines(body["id"])
        self.assertEqual(lines[3]["question"], "Newline\nInjection")

    def test_formula_cells_are_neutralised(self):
        csv = b"question,answer\n=1+2,+SUM(A1)\n-3,@x\n"
        status, _, body = self.upload_one("formula.csv", csv)
        self.assertEqual(status, 201, body)
        self.assertEqual(self.dataset_lines(body["id"]),
                         [{"question": "'=1+2", "positive": "'+SUM(A1)"},
                          {"question": "'-3", "positive": "'@x"}])

    def test_several_files_answer_the_summary(self):
        status, _, body = upload(self.server, [("default.csv", read("valid/default.csv")),
                                               ("empty.csv", b"")])
        self.assertEqual(status, 201, body)
        self.assertEqual(body["successful_uploads"], 1)
        self.assertEqual(len(body["failed"]), 1)
        self.assertEqual(body["failed"][0]["filename"], "empty.csv")
        self.assertTrue(body["failed"][0]["error"].startswith("EMPTY_FILE: "))
        before = self.snapshot()
        status, _, body = upload(self.server, [("a.txt", b"x"), ("b.csv", b"")])
        self.assertEqual(status, 422, body)
        self.assertEqual(body["successful_uploads"], 0)
        self.assertEqual([f["filename"] for f in body["failed"]], ["a.txt", "b.csv"])
        self.assert_nothing_left(before)

    def test_malformed_requests(self):
        before = self.snapshot()
        body, ctype = b"", "multipart/form-data; boundary=xyz"
        status, _, out = self.server.request("POST", "/datasets", body=b"--xyz--\r\n",
                                             headers={"Content-Type": ctype})
        self.assertEqual(status, 422, out)
        self.assertEqual(out["detail"][0]["loc"], ["body", "files"])
        self.assertEqual(out["detail"][0]["type"], "missing")
        status, _, out = self.server.request("POST", "/datasets", body=b"{}",
                                             headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, out)
        self.assertIn("multipart/form-data", out["message"])
        status, _, out = self.server.request(
            "POST", "/datasets",
            body=b"--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.csv\""
                 b"\r\n\r\nquestion,answer\nq,a\n",
            headers={"Content-Type": ctype})
        self.assertEqual(status, 400, out)
        self.assertIn("closing boundary", out["message"])
        status, _, out = upload(self.server, [], fields=[("files", "not a file")])
        self.assertEqual(status, 422, out)
        self.assert_nothing_left(before)

    def test_oversize_upload_is_413_and_leaves_nothing(self):
        before = self.snapshot()
        big = b"question,answer\n" + b"q,a\n" * (3 << 20)  # 12 MB > 8 MB limit
        status, _, body = self.upload_one("big.csv", big)
        self.assertEqual(status, 413, body)
        self.assertEqual(body["code"], "PAYLOAD_TOO_LARGE")
        self.assert_nothing_left(before)
        # Chunked, so the limit is only known as the stream passes it.
        conn = socket.create_connection((self.server.host, self.server.port), timeout=10)
        try:
            payload, ctype = __import__("datasets_support").multipart([("files", "c.csv", big)])
            head = (f"POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n").encode()
            conn.sendall(head)
            try:
                for i in range(0, len(payload), 1 << 20):
                    part = payload[i:i + (1 << 20)]
                    conn.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                conn.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed early
            answer = conn.recv(4096).decode("utf-8", "replace")
            self.assertTrue(answer.startswith("HTTP/1.1 413"), answer[:200])
        finally:
            conn.close()
        self.assert_nothing_left(before)

    def test_connection_dropped_mid_upload_leaves_nothing(self):
        before = self.snapshot()
        conn = socket.create_connection((self.server.host, self.server.port), timeout=10)
        head = ("POST /datasets HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: multipart/form-data; boundary=zz\r\n"
                "Content-Length: 6000000\r\n\r\n").encode()
        conn.sendall(head + b"--zz\r\nContent-Disposition: form-data; name=\"files\"; "
                     b"filename=\"cut.csv\"\r\n\r\nquestion,answer\n" + b"q,a\n" * 200000)
        harness.wait_until(lambda: files_in(self.tmp_dir()), 5, message="the body spooling")
        conn.close()
        self.assert_nothing_left(before)

    def test_concurrent_uploads_of_one_name(self):
        results = []

        def one():
            results.append(self.upload_one("same.csv", read("valid/default.csv")))

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([r[0] for r in results], [201] * 6, [r[2] for r in results])
        names = sorted(r[2]["name"] for r in results)
        self.assertEqual(len(set(names)), 6, names)
        self.assertIn("same", names)
        for r in results:
            self.assertTrue(os.path.exists(os.path.join(self.datasets_dir(),
                                                        r[2]["id"] + ".jsonl")))

    # -- read, rename, delete

    def test_list_and_get(self):
        ids = [self.upload_one(f"list{i}.csv", read("valid/default.csv"))[2]["id"]
               for i in range(3)]
        page = self.server.get_ok("/datasets", {"limit": 2})
        self.assertEqual(page["limit"], 2)
        self.assertEqual(page["offset"], 0)
        self.assertEqual([d["id"] for d in page["items"]], ids[::-1][:2])
        self.assertEqual(set(page["items"][0]),
                         {"id", "name", "classification", "version", "rows", "created_at"})
        page2 = self.server.get_ok("/datasets", {"limit": 2, "offset": 1})
        self.assertEqual(page2["items"][0]["id"], ids[1])
        self.assertGreaterEqual(page["total"], 3)
        self.assertEqual(len(self.server.get_ok("/datasets")["items"]), min(10, page["total"]))
        for params, loc in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                            ({"limit": "x"}, "limit"), ({"offset": -1}, "offset")]:
            status, _, body = self.server.get("/datasets", params)
            self.assertEqual(status, 422, params)
            self.assertEqual(body["detail"][0]["loc"], ["query", loc])
        status, _, body = self.server.get("/datasets/not-a-uuid")
        self.assertEqual(status, 422)
        status, _, body = self.server.get("/datasets/0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c00")
        self.assertEqual(status, 404)
        self.assertEqual(body["code"], "NOT_FOUND")
        status, _, body = self.server.get("/v1/api/datasets/" + ids[0])
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"id", "name", "classification", "version", "rows",
                                     "created_at", "updated_at", "synthesis_id", "source"})

    def test_etag_and_if_match(self):
        _, _, d = self.upload_one("etag.csv", read("valid/default.csv"))
        path = "/datasets/" + d["id"]
        status, headers, _ = self.server.get(path)
        self.assertEqual(headers["etag"], '"1"')
        status, headers, body = self.server.request("GET", path, headers={"If-None-Match": '"1"'})
        self.assertEqual((status, body, headers["etag"]), (304, None, '"1"'))
        status, _, _ = self.server.request("GET", path, headers={"If-None-Match": '"7"'})
        self.assertEqual(status, 200)

        put = lambda body, hdrs: self.server.request("PUT", path, body=body, headers=hdrs)
        status, _, body = put({"name": "renamed"}, {})
        self.assertEqual((status, body["code"]), (428, "VERSION_MISSING"))
        status, _, body = put({"name": "renamed"}, {"If-Match": "1"})
        self.assertEqual((status, body["code"]), (428, "VERSION_MISSING"))
        status, headers, body = put({"name": "renamed"}, {"If-Match": '"5"'})
        self.assertEqual((status, body["code"], headers["etag"]), (412, "VERSION_MISMATCH", '"1"'))
        for bad in [{}, {"name": ""}, {"name": "x" * 129}, {"name": 5}, [1]]:
            status, _, body = put(bad, {"If-Match": '"1"'})
            self.assertEqual(status, 422, bad)
            self.assertIn("body", body["detail"][0]["loc"])
        status, headers, body = put({"name": "renamed-" + d["id"][:8]}, {"If-Match": '"1"'})
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["location"], path)
        self.assertEqual(headers["etag"], '"2"')
        got = self.server.get_ok(path)
        self.assertEqual((got["name"], got["version"]), ("renamed-" + d["id"][:8], 2))
        self.assertGreater(got["updated_at"], got["created_at"])
        status, headers, body = put({"name": "again"}, {"If-Match": '"1"'})
        self.assertEqual((status, headers["etag"]), (412, '"2"'))
        _, _, other = self.upload_one("taken.csv", read("valid/default.csv"))
        status, _, body = put({"name": other["name"]}, {"If-Match": '"2"'})
        self.assertEqual((status, body["code"]), (409, "DATASET_ALREADY_EXISTS"))
        status, _, body = self.server.request(
            "PUT", "/datasets/0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c00", body={"name": "x"},
            headers={"If-Match": '"1"'})
        self.assertEqual(status, 404)

    def test_delete_refused_while_a_task_uses_it(self):
        _, _, d = self.upload_one("busy.csv", read("valid/default.csv"))
        path = "/datasets/" + d["id"]
        file = os.path.join(self.datasets_dir(), d["id"] + ".jsonl")
        task_id = self.enqueue(self.server, "training", {"dataset_id": d["id"]})
        status, _, body = self.server.request("DELETE", path)
        self.assertEqual((status, body["code"]), (409, "CONFLICT"))
        self.assertIn(task_id, body["message"])
        self.assertTrue(os.path.exists(file))
        status, _, _ = self.server.post(f"/tasks/{task_id}/cancel")
        self.assertEqual(status, 200)
        status, _, body = self.server.request("DELETE", path)
        self.assertEqual(status, 204, body)
        self.assertFalse(os.path.exists(file))
        self.assertEqual(self.server.get(path)[0], 404)
        self.assertEqual(self.server.request("DELETE", path)[0], 404)

    def test_tasks_view_shows_every_upload(self):
        status, _, ok = self.upload_one("tracked.csv", read("valid/default.csv"))
        self.assertEqual(status, 201)
        status, _, bad = self.upload_one("tracked.txt", b"hello")
        self.assertEqual(status, 422)
        tasks = self.server.get_ok("/tasks", {"task_type": "dataset_upload", "within_hours": 1})
        details = [self.server.task(t["id"]) for t in tasks]
        done = [t for t in details if t["inputs"].get("filename") == "tracked.csv"]
        failed = [t for t in details if t["inputs"].get("filename") == "tracked.txt"]
        self.assertEqual(len(done), 1)
        self.assertEqual(len(failed), 1)
        self.assertEqual(done[0]["task_status"], "D")
        self.assertEqual(done[0]["result"]["dataset_id"], ok["id"])
        self.assertEqual(done[0]["result"]["rows"], 5)
        self.assertIsNotNone(done[0]["end_date"])
        self.assertEqual(failed[0]["task_status"], "F")
        self.assertTrue(failed[0]["error_msg"].startswith("UNSUPPORTED_FORMAT"))
        self.assertEqual(done[0]["inputs"]["source"], "upload")
        # Tagged with the dataset's base name, so ?tag= finds every upload of the file, the
        # failed one too, and a second upload of it (stored as tracked_2).
        self.assertEqual((done[0]["tag"], failed[0]["tag"]), ("tracked", "tracked"))
        status, _, again = self.upload_one("tracked.csv", read("valid/default.csv"))
        self.assertEqual((status, again["name"]), (201, "tracked_2"))
        tagged = self.server.get_ok("/tasks", {"tag": "tracked", "task_type": "dataset_upload"})
        self.assertEqual(len(tagged), 3)


class DatasetsApiSqliteTest(DatasetsApiBase, E2ETestCase):
    BACKEND = "sqlite"


class DatasetsApiPostgresTest(DatasetsApiBase, E2ETestCase):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
