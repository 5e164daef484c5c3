"""Helpers shared by the datasets e2e tests: multipart bodies, the test data, a server per
backend (SQLite always; PostgreSQL in a schema of its own when VECTORIZE_TEST_PG_URL is set)."""

import glob
import os
import shutil
import subprocess
import unittest
import uuid

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.normpath(os.path.join(HERE, "..", "testdata", "datasets"))


def data_path(rel):
    return os.path.join(TESTDATA, rel)


def read(rel):
    with open(data_path(rel), "rb") as f:
        return f.read()


def multipart(files, fields=(), boundary=None):
    """files: [(field, filename, bytes)]; fields: [(name, text)]. Returns (body, content_type)."""
    boundary = boundary or "vz" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                .encode())
        out += value.encode() + b"\r\n"
    for field, filename, content in files:
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                f"filename=\"{quoted}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                .encode("utf-8"))
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def upload(srv, files, query=None, fields=(), timeout=60):
    """POST /datasets with these files [(filename, bytes)]; returns (status, headers, body)."""
    body, ctype = multipart([("files", n, c) for n, c in files], fields)
    return srv.request("POST", harness.with_query("/datasets", query), body=body,
                       headers={"Content-Type": ctype}, timeout=timeout)


def _psql():
    found = shutil.which("psql")
    if found:
        return found
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True):
        return cand
    raise unittest.SkipTest("psql not found")


class PgSchema:
    """A schema of its own on VECTORIZE_TEST_PG_URL; .url selects it through search_path."""

    def __init__(self):
        base = os.environ["VECTORIZE_TEST_PG_URL"]
        self.base = base
        self.name = "vz_e2e_ds_" + uuid.uuid4().hex[:12]
        subprocess.run([_psql(), base, "-qAtc", f"CREATE SCHEMA {self.name}"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options=-csearch_path%3D{self.name}"

    def drop(self):
        subprocess.run([_psql(), self.base, "-qAtc", f"DROP SCHEMA IF EXISTS {self.name} CASCADE"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


class Backend:
    """Mixin: BACKEND = "sqlite" or "postgres" picks the database of the servers a test starts."""
    BACKEND = "sqlite"

    @classmethod
    def backend_setup(cls):
        cls.pg = None
        if cls.BACKEND == "postgres":
            if not os.environ.get("VECTORIZE_TEST_PG_URL"):
                raise unittest.SkipTest("VECTORIZE_TEST_PG_URL is not set (no PostgreSQL)")
            cls.pg = PgSchema()

    @classmethod
    def backend_teardown(cls):
        if cls.pg:
            cls.pg.drop()

    @classmethod
    def backend_args(cls):
        return ["--database-url", cls.pg.url] if cls.pg else []

    @classmethod
    def enqueue(cls, srv, task_type, inputs):
        args = ["enqueue", "--type", task_type, "--count", "1", "--inputs",
                __import__("json").dumps(inputs)]
        args += ["--database-url", cls.pg.url] if cls.pg else ["--data-dir", srv.data_dir]
        ids = harness._run_testkit(args)
        assert len(ids) == 1, ids
        return ids[0]


def files_in(path):
    """Regular files under path (recursively), relative to it, sorted."""
    out = []
    for root, _, names in os.walk(path):
        out += [os.path.relpath(os.path.join(root, n), path) for n in names]
    return sorted(out)
