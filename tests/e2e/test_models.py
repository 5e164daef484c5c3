"""Models and uploads end to end (SPEC §3.2): the real binary, a fake Hugging Face Hub and GitHub
(tests/fixtures/fake_hub.py, addressed through HF_ENDPOINT / GITHUB_API_URL) and random test
models made by tests/fixtures/make_test_model.py.

Covers: Hub, GitHub and local-zip imports; 404/409/422 answers; resume after a dropped
connection; a checksum mismatch (F, nothing registered); cancel mid-download (C, no partial
files); kill -9 of the server mid-download (the rescued task resumes and completes); the
original's local_models cases; the registry's list/get/rename/delete protocol.
"""

import json
import os
import shutil
import tempfile
import time
import unittest

import harness
from harness import E2ETestCase, wait_until
from models_fixtures import FakeHub, TEST_DATA, make_model, multipart, zip_dir

ENGINE_ENV = {
    "VECTORIZE_LEASE_SECONDS": "1",
    "VECTORIZE_HEARTBEAT_SECONDS": "0.3",
    "VECTORIZE_RESCUE_INTERVAL_SECONDS": "0.2",
    "VECTORIZE_RETRY_BASE_SECONDS": "0.05",
}


class ModelsTestBase(E2ETestCase):
    """One fake Hub (with GitHub) per class over a directory of copies of one test model."""

    HUB_MODELS = ()      # org/name repos: copies of the base model
    GITHUB = {}          # "owner/repo" → {ref: [subfolders holding a model]} ("" = root)

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="vz-hub-")
        cls.base = make_model(os.path.join(cls.root, "base"), "--normalize",
                              "--max-seq-length", "64")
        for repo in cls.HUB_MODELS:
            shutil.copytree(cls.base, os.path.join(cls.root, "models", *repo.split("/")))
        for repo, refs in cls.GITHUB.items():
            for ref, folders in refs.items():
                for folder in folders:
                    dst = os.path.join(cls.root, "github", *repo.split("/"), ref, folder)
                    shutil.copytree(cls.base, dst)
                # a README so that the tarball has more than the model
                os.makedirs(os.path.join(cls.root, "github", *repo.split("/"), ref),
                            exist_ok=True)
                with open(os.path.join(cls.root, "github", *repo.split("/"), ref,
                                       "README.md"), "w") as f:
                    f.write("# models\n")
        cls.hub = FakeHub(cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.hub.clear()

    def env(self, **extra):
        return {"HF_ENDPOINT": self.hub.url, "GITHUB_API_URL": self.hub.github, **ENGINE_ENV,
                **extra}

    def server(self, **kw):
        return self.start_server(harness.vectorize_bin(), env=self.env(), **kw)

    def wait_task(self, srv, task_id, statuses=("D", "F", "C"), timeout=60):
        seen = []

        def done():
            t = srv.task(task_id)
            seen[:] = [t]
            return t if t["task_status"] in statuses else None
        try:
            return wait_until(done, timeout, interval=0.1, message=f"task {task_id} in {statuses}")
        except AssertionError as e:
            raise AssertionError(f"{e}; the task then: {seen[0] if seen else None}") from None

    def upload_hub(self, srv, repo, **extra):
        return srv.post("/uploads/huggingface", {"model_tag": repo, **extra})

    def assert_error(self, resp, status, code=None):
        st, _, body = resp
        self.assertEqual(st, status, body)
        if code:
            self.assertEqual(body["code"], code, body)
        return body

    def model_files(self, srv, tag):
        d = os.path.join(srv.data_dir, "models", tag)
        return sorted(os.path.relpath(os.path.join(b, f), d)
                      for b, _, fs in os.walk(d) for f in fs)

    def work_dirs(self, srv):
        tmp = os.path.join(srv.data_dir, "tmp")
        return [d for d in os.listdir(tmp) if d.startswith("model-")] if os.path.isdir(tmp) else []


class HubUploadTest(ModelsTestBase):
    HUB_MODELS = ("org/tiny", "org/tiny-drop", "org/tiny-corrupt", "org/tiny-cancel",
                  "org/tiny-conflict", "org/tiny-kill", "org/tiny-flaky")

    def test_import_registers_the_model(self):
        srv = self.server()
        st, hdrs, body = self.upload_hub(srv, "org/tiny")
        self.assertEqual(st, 201, body)
        task_id = body["id"]
        self.assertEqual(hdrs["location"], f"/uploads/{task_id}")
        self.assertEqual(body["source"], "H")
        task = self.wait_task(srv, task_id)
        self.assertEqual(task["task_status"], "D", task)
        self.assertEqual(task["result"]["model_tag"], "org--tiny")
        up = srv.get_ok(hdrs["location"])
        self.assertEqual((up["source"], up["task_type"], up["tag"]), ("H", "model_upload", "org--tiny"))
        st, h, model = srv.get("/models/org--tiny")
        self.assertEqual(st, 200, model)
        self.assertEqual(h["etag"], '"0"')
        self.assertEqual((model["source"], model["hub_repo"], model["dimensions"],
                          model["pooling"], model["normalize"], model["max_seq_length"]),
                         ("H", "org/tiny", 32, "mean", True, 64))
        self.assertEqual(self.model_files(srv, "org--tiny"), sorted(
            os.path.relpath(os.path.join(b, f), self.base)
            for b, _, fs in os.walk(self.base) for f in fs))
        with open(os.path.join(srv.data_dir, "models", "org--tiny", "model.safetensors"), "rb") as a, \
                open(os.path.join(self.base, "model.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(self.work_dirs(srv), [])
        # the weights went through the CDN redirect without the token-bearing header
        self.assertTrue(any(r["server"] == "cdn" for r in self.hub.log()))
        # in the task list, and the same registry through the API prefix
        self.assertIn(task_id, [t["id"] for t in srv.get_ok("/tasks", {"task_type": "model_upload"})])
        self.assertEqual(srv.get_ok("/v1/api/models")["items"][0]["model_tag"], "org--tiny")

    def test_unknown_repository_or_revision_is_404(self):
        srv = self.server()
        body = self.assert_error(self.upload_hub(srv, "org/nothing"), 404, "NOT_FOUND")
        self.assertIn("org/nothing", body["message"])
        body = self.assert_error(self.upload_hub(srv, "org/tiny", revision="v9"), 404, "NOT_FOUND")
        self.assertIn("v9", body["message"])
        self.assertEqual(srv.get_ok("/tasks", {"task_type": "model_upload"}), [])

    def test_invalid_requests_are_422(self):
        srv = self.server()
        for body, loc in [({}, ["body", "model_tag"]),
                          ({"model_tag": 5}, ["body", "model_tag"]),
                          ({"model_tag": "a/b/c"}, ["body", "model_tag"]),
                          ({"model_tag": "../etc"}, ["body", "model_tag"]),
                          ({"model_tag": "org/tiny", "revision": "a b"}, ["body", "revision"]),
                          ({"model_tag": "org/tiny", "tag": "x/y"}, ["body", "tag"])]:
            st, _, resp = srv.post("/uploads/huggingface", body)
            self.assertEqual(st, 422, (body, resp))
            self.assertEqual(resp["detail"][0]["loc"], loc, resp)
        st, _, resp = srv.post("/uploads/huggingface", "not json")
        self.assertEqual(st, 422, resp)

    def test_already_registered_or_importing_is_409(self):
        srv = self.server()
        self.hub.fault(match="/cdn/models/org/tiny-conflict/", kind="slow", bytes_per_sec=400000)
        st, _, body = self.upload_hub(srv, "org/tiny-conflict")
        self.assertEqual(st, 201, body)
        first = body["id"]
        busy = self.assert_error(self.upload_hub(srv, "org/tiny-conflict"), 409,
                                 "MODEL_ALREADY_EXISTS")
        self.assertIn("being imported", busy["message"])
        self.assertEqual(self.wait_task(srv, first)["task_status"], "D")
        body = self.assert_error(self.upload_hub(srv, "org/tiny-conflict"), 409,
                                 "MODEL_ALREADY_EXISTS")
        self.assertIn("already exists", body["message"])
        # the same repository under another tag is a new model
        st, _, body = self.upload_hub(srv, "org/tiny-conflict", tag="second-copy")
        self.assertEqual(st, 201, body)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")

    def test_dropped_connection_resumes_with_range(self):
        srv = self.server()
        self.hub.fault(match="/cdn/models/org/tiny-drop/model.safetensors", kind="drop",
                       after_bytes=1_000_000, count=1)
        st, _, body = self.upload_hub(srv, "org/tiny-drop")
        self.assertEqual(st, 201, body)
        task = self.wait_task(srv, body["id"])
        self.assertEqual(task["task_status"], "D", task)
        ranges = [r["range"] for r in self.hub.log()
                  if r["server"] == "cdn" and r["path"].endswith("tiny-drop/model.safetensors")]
        self.assertEqual(len(ranges), 2, ranges)
        self.assertIsNone(ranges[0])
        self.assertEqual(ranges[1], "bytes=1000000-")
        with open(os.path.join(srv.data_dir, "models", "org--tiny-drop", "model.safetensors"), "rb") as a, \
                open(os.path.join(self.base, "model.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_hub_errors_are_retried(self):
        srv = self.server()
        self.hub.fault(match="/api/models/org/tiny-flaky", kind="status", status=503, count=2)
        st, _, body = self.upload_hub(srv, "org/tiny-flaky")
        self.assertEqual(st, 201, body)
        self.hub.fault(match="/org/tiny-flaky/resolve/", kind="status", status=429, count=1,
                       retry_after=0)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")

    def test_checksum_mismatch_fails_and_registers_nothing(self):
        srv = self.server()
        self.hub.fault(match="/cdn/models/org/tiny-corrupt/", kind="corrupt", count=-1)
        st, _, body = self.upload_hub(srv, "org/tiny-corrupt")
        self.assertEqual(st, 201, body)
        task = self.wait_task(srv, body["id"])
        self.assertEqual(task["task_status"], "F", task)
        self.assertIn("sha256", task["error_msg"])
        self.assertIn("model.safetensors", task["error_msg"])
        self.assert_error(srv.get("/models/org--tiny-corrupt"), 404, "NOT_FOUND")
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "models", "org--tiny-corrupt")))
        self.assertEqual(self.work_dirs(srv), [])
        # the tag is free again: a retry once the Hub is fixed succeeds
        self.hub.clear()
        st, _, retried = srv.post(f"/tasks/{body['id']}/retry")
        self.assertEqual(st, 202, retried)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")
        self.assertEqual(srv.get("/models/org--tiny-corrupt")[0], 200)

    def test_cancel_mid_download_removes_partial_files(self):
        srv = self.server()
        self.hub.fault(match="/cdn/models/org/tiny-cancel/", kind="slow", bytes_per_sec=200000)
        st, _, body = self.upload_hub(srv, "org/tiny-cancel")
        self.assertEqual(st, 201, body)
        tid = body["id"]
        wait_until(lambda: (srv.task(tid).get("progress") or 0) > 0.05, 20,
                   message="download progress")
        self.assertTrue(self.work_dirs(srv))
        t0 = time.monotonic()
        st, _, c = srv.post(f"/tasks/{tid}/cancel")
        self.assertEqual(st, 202, c)
        task = self.wait_task(srv, tid, timeout=5)
        self.assertEqual(task["task_status"], "C", task)
        self.assertLess(time.monotonic() - t0, 2.0)
        wait_until(lambda: self.work_dirs(srv) == [], 3, message="work folder removed")
        self.assert_error(srv.get("/models/org--tiny-cancel"), 404)
        # the tag is free again
        self.hub.clear()
        st, _, body = self.upload_hub(srv, "org/tiny-cancel")
        self.assertEqual(st, 201, body)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")

    def test_kill9_mid_download_resumes_after_restart(self):
        srv = self.server()
        self.hub.fault(match="/cdn/models/org/tiny-kill/model.safetensors", kind="slow",
                       bytes_per_sec=500000, count=1)
        st, _, body = self.upload_hub(srv, "org/tiny-kill")
        self.assertEqual(st, 201, body)
        tid = body["id"]
        wait_until(lambda: (srv.task(tid).get("progress") or 0) > 0.2, 20,
                   message="download progress")
        srv.kill()
        parts = [os.path.join(b, f) for b, _, fs in os.walk(os.path.join(srv.data_dir, "tmp"))
                 for f in fs if f.endswith(".part")]
        self.assertEqual(len(parts), 1, parts)
        have = os.path.getsize(parts[0])
        self.assertGreater(have, 0)
        srv2 = self.server(data_dir=srv.data_dir)
        task = self.wait_task(srv2, tid, timeout=30)
        self.assertEqual(task["task_status"], "D", task)
        self.assertEqual(task["attempts"], 2)
        ranges = [r["range"] for r in self.hub.log()
                  if r["server"] == "cdn" and r["path"].endswith("tiny-kill/model.safetensors")]
        self.assertEqual(len(ranges), 2, ranges)
        self.assertTrue(ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) >= have, ranges)
        with open(os.path.join(srv2.data_dir, "models", "org--tiny-kill", "model.safetensors"), "rb") as a, \
                open(os.path.join(self.base, "model.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(self.work_dirs(srv2), [])


class GitHubUploadTest(ModelsTestBase):
    GITHUB = {"octo/models": {"main": [""], "v1": ["nested/model"]},
              "octo/multi": {"main": ["a", "b"]},
              "octo/empty": {"main": []}}

    def post(self, srv, **body):
        return srv.post("/uploads/github", body)

    def test_import_from_repository_root(self):
        srv = self.server()
        st, hdrs, body = self.post(srv, owner="octo", repo_name="models", tag="main")
        self.assertEqual(st, 201, body)
        self.assertEqual(hdrs["location"], f"/uploads/{body['id']}")
        task = self.wait_task(srv, body["id"])
        self.assertEqual(task["task_status"], "D", task)
        self.assertEqual(srv.get_ok(f"/uploads/{body['id']}")["source"], "G")
        model = srv.get_ok("/models/octo--models")
        self.assertEqual((model["source"], model["github_owner"], model["github_ref"]),
                         ("G", "octo", "main"))
        self.assertNotIn("README.md", self.model_files(srv, "octo--models"))
        self.assertIn("model.safetensors", self.model_files(srv, "octo--models"))
        self.assertEqual(self.work_dirs(srv), [])

    def test_nested_folder_found_and_tag_given(self):
        srv = self.server()
        st, _, body = self.post(srv, owner="octo", repo_name="models", tag="v1",
                                model_tag="octo-v1")
        self.assertEqual(st, 201, body)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")
        self.assertEqual(srv.get_ok("/models/octo-v1")["github_ref"], "v1")

    def test_several_models_need_a_path(self):
        srv = self.server()
        st, _, body = self.post(srv, owner="octo", repo_name="multi")
        self.assertEqual(st, 422, body)
        self.assertEqual(body["detail"][0]["loc"], ["body", "path"])
        self.assertIn("a, b", body["detail"][0]["msg"])
        self.assert_error(self.post(srv, owner="octo", repo_name="multi", path="c"), 404)
        self.assertEqual(srv.get_ok("/tasks", {"task_type": "model_upload"}), [])
        st, _, body = self.post(srv, owner="octo", repo_name="multi", path="b")
        self.assertEqual(st, 201, body)
        self.assertEqual(self.wait_task(srv, body["id"])["task_status"], "D")
        self.assertEqual(srv.get_ok("/models/octo--multi--b")["github_path"], "b")
        # a repository without any model is refused at once too
        st, _, body = self.post(srv, owner="octo", repo_name="empty")
        self.assertEqual(st, 422, body)
        self.assertEqual(body["detail"][0]["loc"], ["body", "repo_name"])

    def test_unknown_repository_or_ref_is_404_and_bad_input_422(self):
        srv = self.server()
        self.assert_error(self.post(srv, owner="octo", repo_name="nothing"), 404, "NOT_FOUND")
        body = self.assert_error(self.post(srv, owner="octo", repo_name="models", tag="v7"), 404)
        self.assertIn("v7", body["message"])
        for req, loc in [({"repo_name": "models"}, ["body", "owner"]),
                         ({"owner": "octo"}, ["body", "repo_name"]),
                         ({"owner": "../x", "repo_name": "models"}, ["body", "owner"]),
                         ({"owner": "octo", "repo_name": "models", "path": "../../etc"},
                          ["body", "path"])]:
            st, _, resp = srv.post("/uploads/github", req)
            self.assertEqual(st, 422, (req, resp))
            self.assertEqual(resp["detail"][0]["loc"], loc, resp)


class LocalUploadTest(ModelsTestBase):

    def upload(self, srv, filename, content, query=""):
        body, ctype = multipart("file", filename, content)
        return srv.request("POST", "/uploads/local" + query, body=body,
                           headers={"Content-Type": ctype}, timeout=60)

    def test_zip_with_one_model_folder(self):
        srv = self.server()
        st, hdrs, body = self.upload(srv, "my-model.zip", zip_dir(self.base, "my-model"))
        self.assertEqual(st, 201, body)
        self.assertEqual(hdrs["location"], "/models/my-model")
        self.assertEqual([m["model_tag"] for m in body["models"]], ["my-model"])
        model = srv.get_ok("/models/my-model")
        self.assertEqual((model["source"], model["dimensions"]), ("L", 32))
        up = srv.get_ok(f"/uploads/{body['task_id']}")
        self.assertEqual((up["task_status"], up["source"], up["tag"]), ("D", "L", "my-model"))
        self.assert_error(self.upload(srv, "my-model.zip", zip_dir(self.base, "my-model")), 409,
                          "MODEL_ALREADY_EXISTS")
        self.assertEqual(os.listdir(os.path.join(srv.data_dir, "tmp", "uploads")), [])

    def test_zip_with_files_at_root_and_several_models(self):
        srv = self.server()
        st, _, body = self.upload(srv, "root model.zip", zip_dir(self.base), "?model_name=rooted")
        self.assertEqual(st, 201, body)
        self.assertEqual(body["models"][0]["model_tag"], "rooted")
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        for name in ("alpha", "beta"):
            shutil.copytree(self.base, os.path.join(d, name))
        os.makedirs(os.path.join(d, "broken"))
        shutil.copy(os.path.join(self.base, "config.json"), os.path.join(d, "broken"))
        st, _, body = self.upload(srv, "many.zip", zip_dir(d))
        self.assertEqual(st, 201, body)
        self.assertEqual(sorted(m["model_tag"] for m in body["models"]), ["alpha", "beta"])
        self.assertEqual([f["directory"] for f in body["failed"]], ["broken"])
        self.assert_error(srv.get("/models/broken"), 404)

    def test_model_that_does_not_load_is_refused(self):
        # Valid layout and shapes, but every weight NaN: only loading it and running it shows it.
        import struct
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        bad = os.path.join(d, "nan-model")
        shutil.copytree(self.base, bad)
        path = os.path.join(bad, "model.safetensors")
        with open(path, "r+b") as f:
            header_len = struct.unpack("<Q", f.read(8))[0]
            f.seek(0, 2)
            end = f.tell()
            f.seek(8 + header_len)
            f.write(struct.pack("<f", float("nan")) * ((end - 8 - header_len) // 4))
        srv = self.server()
        body = self.assert_error(self.upload(srv, "nan-model.zip", zip_dir(bad, "nan-model")),
                                 400, "INVALID_FILE")
        self.assertIn("does not load", body["message"])
        self.assert_error(srv.get("/models/nan-model"), 404)
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "models", "nan-model")))

    def test_original_local_models_cases(self):
        srv = self.server()
        lm = os.path.join(TEST_DATA, "local_models")
        cases = [("invalid_file.txt", 400, "INVALID_FILE"),
                 ("empty_model.zip", 400, "EMPTY_FILE"),
                 ("no_model.zip", 400, "INVALID_FILE")]
        for name, status, code in cases:
            with open(os.path.join(lm, name), "rb") as f:
                body = self.assert_error(self.upload(srv, name, f.read()), status, code)
            if name == "no_model.zip":
                self.assertIn("weights", body["message"])
        self.assertEqual(srv.get_ok("/models")["items"], [])
        failed = srv.get_ok("/tasks", {"task_type": "model_upload", "status": "F"})
        self.assertEqual(len(failed), 3)
        self.assertEqual(os.listdir(os.path.join(srv.data_dir, "models"))
                         if os.path.isdir(os.path.join(srv.data_dir, "models")) else [], [])

    def test_hostile_zips_are_refused(self):
        import io
        import zipfile
        srv = self.server()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("m/config.json", "{}")
            z.writestr("../../evil.txt", "x")
        body = self.assert_error(self.upload(srv, "slip.zip", buf.getvalue()), 400, "INVALID_FILE")
        self.assertIn("slip", body["message"])
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "..", "evil.txt")))
        self.assert_error(self.upload(srv, "garbage.zip", b"PK\x03\x04 not really"), 400,
                          "INVALID_FILE")
        self.assert_error(self.upload(srv, "empty.zip", b""), 400, "EMPTY_FILE")
        st, _, resp = srv.request("POST", "/uploads/local", body=b"{}",
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(st, 422, resp)
        self.assertEqual(resp["detail"][0]["loc"], ["body", "file"])


class RegistryTest(ModelsTestBase):

    def add_local(self, srv, tag):
        body, ctype = multipart("file", f"{tag}.zip", zip_dir(self.base, tag))
        st, _, resp = srv.request("POST", "/uploads/local", body=body,
                                  headers={"Content-Type": ctype})
        self.assertEqual(st, 201, resp)
        return resp["models"][0]

    def test_list_pages_newest_first(self):
        srv = self.server()
        self.assertEqual(srv.get_ok("/models"),
                         {"page": 1, "size": 5, "total": 0, "totalpages": 0, "items": []})
        for i in range(7):
            self.add_local(srv, f"m{i}")
        page1 = srv.get_ok("/models", {"size": 5})
        self.assertEqual((page1["total"], page1["totalpages"]), (7, 2))
        self.assertEqual([m["model_tag"] for m in page1["items"]], ["m6", "m5", "m4", "m3", "m2"])
        page2 = srv.get_ok("/models", {"page": 2, "size": 5})
        self.assertEqual([m["model_tag"] for m in page2["items"]], ["m1", "m0"])
        self.assertEqual(srv.get_ok("/models", {"page": 3})["items"], [])
        for q, loc in [({"page": 0}, "page"), ({"size": 101}, "size"), ({"size": 0}, "size"),
                       ({"page": "x"}, "page")]:
            st, _, body = srv.get("/models", q)
            self.assertEqual(st, 422, body)
            self.assertEqual(body["detail"][0]["loc"], ["query", loc])

    def test_get_rename_delete(self):
        srv = self.server()
        m = self.add_local(srv, "crud")
        st, h, _ = srv.get("/models/crud", headers={"If-None-Match": '"0"'})
        self.assertEqual((st, h["etag"]), (304, '"0"'))
        path = f"/models/{m['id']}"
        self.assert_error(srv.request("PUT", path, {"name": "renamed"}), 428, "VERSION_MISSING")
        st, h, body = srv.request("PUT", path, {"name": "renamed"}, headers={"If-Match": '"3"'})
        self.assertEqual((st, body["code"], h["etag"]), (412, "VERSION_MISMATCH", '"0"'))
        st, _, body = srv.request("PUT", path, {"name": ""}, headers={"If-Match": '"0"'})
        self.assertEqual(st, 422, body)
        st, h, _ = srv.request("PUT", path, {"name": "renamed"}, headers={"If-Match": '"0"'})
        self.assertEqual((st, h["etag"], h["location"]), (204, '"1"', "/models/crud"))
        st, h, body = srv.get("/models/crud", headers={"If-None-Match": '"0"'})
        self.assertEqual((st, body["name"], h["etag"]), (200, "renamed", '"1"'))
        self.assert_error(srv.get("/models/nope"), 404, "NOT_FOUND")
        self.assertEqual(srv.get("/models/a%20b")[0], 422)
        self.assertEqual(srv.request("DELETE", "/models/not-a-uuid")[0], 422)
        # a queued training task that names the model keeps it
        srv.enqueue(task_type="training", inputs={"model_tag": "crud"})
        body = self.assert_error(srv.request("DELETE", path), 409, "CONFLICT")
        self.assertIn("training", body["message"])

    def test_delete_removes_files(self):
        srv = self.server()
        m = self.add_local(srv, "gone")
        self.assertTrue(os.path.isdir(os.path.join(srv.data_dir, "models", "gone")))
        st, _, _ = srv.request("DELETE", f"/models/{m['id']}")
        self.assertEqual(st, 204)
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "models", "gone")))
        self.assert_error(srv.get("/models/gone"), 404)
        self.assert_error(srv.request("DELETE", f"/models/{m['id']}"), 404)
        # the tag can be used again
        self.add_local(srv, "gone")


if __name__ == "__main__":
    unittest.main()
