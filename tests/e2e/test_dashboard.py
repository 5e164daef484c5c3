"""The web dashboard (GET /, /dashboard and its static files) against the real `vectorize` binary.

The page is served at the root and under the API prefix, as HTML with a Content-Security-Policy
that allows only this server; nothing served refers to another host; every file the page refers
to is served; and the page and its files are open without an API key while the API is not.
The browser-driven check lives in tests/browser (not run by CTest).
"""

import re
import unittest
import urllib.parse

import harness
from harness import E2ETestCase

PAGES = ("/", "/dashboard", "/v1/api/", "/v1/api/dashboard")
STATIC = {"/static/app.js": "text/javascript", "/static/style.css": "text/css"}
_ABSOLUTE_URL = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}")
_REFS = re.compile(r"""(?i)\b(?:src|href)\s*=\s*["']([^"'#]+)["']""")


def referenced_assets(html):
    """The same-server files the page loads (relative src/href values)."""
    return [ref for ref in _REFS.findall(html) if not ref.startswith(("#", "data:", "mailto:"))]


class DashboardTest(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(harness.vectorize_bin(), args=["--no-workers"])
        cls.class_servers = [cls.server]
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    def check_headers(self, path, headers, ctype):
        self.assertTrue(headers.get("content-type", "").startswith(ctype), (path, headers))
        self.assertEqual(headers.get("cache-control"), "no-cache", path)
        csp = headers.get("content-security-policy", "")
        self.assertIn("default-src 'none'", csp, path)
        self.assertIn("script-src 'self'", csp, path)
        self.assertIn("connect-src 'self'", csp, path)
        self.assertNotIn("unsafe-inline", csp, path)
        self.assertNotIn("*", csp, path)

    def test_page_at_root_dashboard_and_under_the_prefix(self):
        bodies = set()
        for path in PAGES:
            with self.subTest(path=path):
                status, headers, html = self.server.get(path)
                self.assertEqual(status, 200, html)
                self.check_headers(path, headers, "text/html")
                self.assertIn("<!doctype html>", html.lower())
                self.assertIn('id="tasks-table"', html)
                bodies.add(html)
        self.assertEqual(len(bodies), 1, "every path serves the same page")

    def test_every_asset_the_page_refers_to_is_served_from_every_page_url(self):
        _, _, html = self.server.get("/")
        refs = referenced_assets(html)
        self.assertTrue(refs, "the page loads its script and style")
        self.assertEqual(set(refs), set(p.lstrip("/") for p in STATIC),
                         "the page refers to exactly the static files the server has")
        for page in PAGES:
            for ref in refs:
                self.assertFalse(ref.startswith("/"), f"{ref}: relative, so it works under a prefix")
                url = urllib.parse.urljoin(f"http://127.0.0.1{page}", ref)
                path = urllib.parse.urlsplit(url).path
                with self.subTest(page=page, ref=ref, path=path):
                    status, headers, body = self.server.get(path)
                    self.assertEqual(status, 200, body)
                    self.check_headers(path, headers, STATIC["/" + ref])
                    self.assertTrue(body)

    def test_nothing_served_points_at_another_host(self):
        for path in ("/", *STATIC):
            with self.subTest(path=path):
                _, _, body = self.server.get(path)
                self.assertIsNone(_ABSOLUTE_URL.search(body), _ABSOLUTE_URL.search(body))
                self.assertNotIn("http://", body)
                self.assertNotIn("https://", body)

    def test_the_script_uses_relative_api_urls_and_the_session_key(self):
        _, _, js = self.server.get("/static/app.js")
        self.assertNotRegex(js, r"""fetch\(\s*["'`]/""", "API URLs are relative")
        self.assertIn('"tasks?"', js)
        self.assertIn("sessionStorage", js)
        self.assertIn('"Bearer "', js)


class DashboardWithApiKeysTest(E2ETestCase):
    def test_page_is_open_while_the_api_needs_a_key(self):
        srv = self.start_server(harness.vectorize_bin(), args=["--no-workers"],
                                env={"VECTORIZE_API_KEYS": "alpha-key"})
        for path in (*PAGES, *STATIC, "/v1/api/static/app.js"):
            with self.subTest(path=path):
                status, headers, _ = srv.get(path)
                self.assertEqual(status, 200, path)
        for path in ("/tasks", "/v1/api/tasks", "/tasks/stats"):
            with self.subTest(path=path):
                status, _, body = srv.get(path)
                self.assertEqual(status, 401, path)
                self.assertEqual(body["code"], "UNAUTHORIZED")
        # Only GET of the exact page paths is open: nothing below them.
        for path in ("/static/other.js", "/dashboard/x"):
            status, _, _ = srv.get(path)
            self.assertEqual(status, 401, path)
        status, _, body = srv.get("/tasks", headers={"Authorization": "Bearer alpha-key"})
        self.assertEqual((status, body), (200, []))


if __name__ == "__main__":
    unittest.main()
