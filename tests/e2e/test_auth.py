"""Optional API keys (VECTORIZE_API_KEYS) against the real binary: every route but GET /health
needs a key, given as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""

import unittest

import harness
from harness import E2ETestCase


class ApiKeyTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.start_server(harness.vectorize_bin(), args=["--no-workers"],
                                     env={"VECTORIZE_API_KEYS": "alpha-key,beta-key"})

    def test_without_a_key_everything_but_health_is_401(self):
        for method, path in [("GET", "/tasks"), ("GET", "/v1/api/tasks"), ("GET", "/metrics"),
                             ("GET", "/tasks/stats"), ("GET", "/no-such-route"),
                             ("POST", "/tasks/123e4567-e89b-12d3-a456-426614174000/cancel")]:
            status, headers, body = self.srv.request(method, path)
            self.assertEqual(status, 401, path)
            self.assertEqual(body["code"], "UNAUTHORIZED", path)
            self.assertEqual(headers.get("www-authenticate"), "Bearer")
        status, _, body = self.srv.request("GET", "/tasks", headers={"X-API-Key": "gamma"})
        self.assertEqual((status, body["message"]), (401, "invalid API key"))
        status, _, body = self.srv.request("GET", "/health")
        self.assertEqual((status, body["status"]), (200, "ok"))

    def test_either_header_with_either_key_works(self):
        for headers in [{"Authorization": "Bearer alpha-key"}, {"X-API-Key": "beta-key"}]:
            status, _, body = self.srv.request("GET", "/tasks", headers=headers)
            self.assertEqual(status, 200, headers)
            self.assertEqual(body, [])

    def test_keys_never_appear_in_logs(self):
        self.srv.request("GET", "/tasks", headers={"Authorization": "Bearer alpha-key"})
        self.srv.request("GET", "/tasks", headers={"X-API-Key": "wrong-secret"})
        log = self.srv.log_text()
        self.assertNotIn("alpha-key", log)
        self.assertNotIn("beta-key", log)
        self.assertNotIn("wrong-secret", log)


if __name__ == "__main__":
    unittest.main()
