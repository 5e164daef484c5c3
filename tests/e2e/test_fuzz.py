"""Hostile and random inputs to the Tasks API: the server answers every one with a JSON 4xx (or a
200 when the input happens to be valid), never crashes, never 500s, and keeps serving.

Deterministic (seeded) and bounded: a few thousand requests over loopback.
"""

import random
import socket
import urllib.parse
import unittest

import harness
from harness import E2ETestCase

PARAMS = ["limit", "offset", "within_hours", "task_type", "status", "tag", "x", ""]
VALUES = ["", "0", "1", "-1", "100", "101", "abc", "1e3", " 5", "5 ", "+5", "0x10",
          "99999999999999999999999999", "-99999999999999999999", "%00", "%ff%fe", "%",
          "%zz", "R", "Q", "r", "RUNNING", "training", "TRAINING", "model_upload,training",
          "\u00fc" * 101, "x" * 5000, "'; DROP TABLE training_task; --", "\\", "\"", "{}", "[]",
          "%E2%82%AC", "..%2F..%2Fetc%2Fpasswd", "null", "true"]


class FuzzTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.start_server(harness.vectorize_bin(), args=["--no-workers"])

    def assert_sane(self, path, status, body):
        self.assertNotEqual(status, 500, f"{path} → 500: {body}")
        self.assertIn(status, (200, 400, 404, 405, 413, 414, 422, 431), f"{path} → {status}")
        if status != 200 or path.startswith("/tasks"):
            self.assertIsInstance(body, (dict, list), f"{path} → non-JSON body {body!r}")
        if status == 422:
            self.assertTrue(body["detail"], body)
            for d in body["detail"]:
                self.assertEqual(d["loc"][0] in ("query", "path", "body"), True, d)
                self.assertTrue(d["msg"])

    def test_random_query_strings(self):
        rng = random.Random(20261129)
        for _ in range(1500):
            parts = []
            for _ in range(rng.randint(0, 6)):
                k = rng.choice(PARAMS)
                v = rng.choice(VALUES)
                parts.append(f"{k}={v}" if rng.random() < 0.9 else k)
            query = "&".join(parts)
            if rng.random() < 0.1:
                query = "".join(rng.choice("&=%?#;+ab1") for _ in range(rng.randint(1, 30)))
            # Non-ASCII and spaces percent-encoded; '%' kept raw so malformed escapes get through.
            path = "/tasks?" + urllib.parse.quote(query, safe="%&=+;?/:,'\"\\[]{}!$()*@~")
            status, _, body = self.srv.request("GET", path)
            self.assert_sane(path, status, body)
        self.assertEqual(self.srv.get_ok("/health")["status"], "ok")

    def test_random_task_ids_and_methods(self):
        rng = random.Random(7)
        ids = ["", "x", "0" * 36, "123e4567-e89b-12d3-a456-426614174000",
               "123E4567-E89B-12D3-A456-426614174000", "%2e%2e", "..", "a" * 300,
               "123e4567-e89b-12d3-a456-42661417400", "123e4567e89b12d3a456426614174000"]
        for _ in range(400):
            tid = rng.choice(ids)
            sub = rng.choice(["", "/cancel", "/retry", "/nope"])
            method = rng.choice(["GET", "POST", "DELETE", "PUT", "PATCH"])
            body = rng.choice([None, "", "{", '{"reason": 5}', '{"reason": "ok"}', "[]"])
            path = f"/tasks/{tid}{sub}"
            status, _, resp = self.srv.request(method, path, body=body)
            self.assert_sane(path, status, resp)
        self.assertEqual(self.srv.get_ok("/health")["status"], "ok")

    def test_raw_garbage_on_the_socket(self):
        rng = random.Random(99)
        junk = [b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"POST /tasks/x/cancel HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                b"GET /tasks HTTP/1.1\r\nHost: x\r\n" + b"A: " + b"b" * 70000 + b"\r\n\r\n",
                bytes(rng.getrandbits(8) for _ in range(2000))]
        for payload in junk:
            with socket.create_connection((self.srv.host, self.srv.port), timeout=5) as s:
                try:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(65536):
                        pass
                except OSError:
                    pass  # a reset is an acceptable answer to garbage
        self.assertEqual(self.srv.get_ok("/health")["status"], "ok")
        self.assertIsInstance(self.srv.get_ok("/tasks"), list)


if __name__ == "__main__":
    unittest.main()
