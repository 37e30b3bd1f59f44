"""The web app's files at "/": SPA fallback, caching, precompressed variants, CSP, and the page that
says the app is not built (while the API keeps working)."""

import gzip

import pytest

from todo_harness import assert_problem

INDEX = b"<!doctype html><html><head><script type=module src=/assets/app-1a2b3c.js></script></head><body><div id=root></div></body></html>"
SCRIPT = b"console.log('the app');" * 100
BROTLI = b"pretend-brotli-bytes"  # never decoded by the server: it only picks the file


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    (root / "index.html").write_bytes(INDEX)
    (root / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assets = root / "assets"
    assets.mkdir()
    (assets / "app-1a2b3c.js").write_bytes(SCRIPT)
    (assets / "app-1a2b3c.js.gz").write_bytes(gzip.compress(SCRIPT))
    (assets / "app-1a2b3c.js.br").write_bytes(BROTLI)
    (assets / "orphan.css.gz").write_bytes(gzip.compress(b"body{}"))
    return root


@pytest.fixture(scope="module")
def web(module_servers, dist):
    return module_servers(args=["--web-dir", str(dist)])


def assert_page_headers(h):
    csp = h["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, csp
    assert h["x-content-type-options"] == "nosniff"


def test_root_serves_index_not_cached_with_csp(web):
    st, h, b = web.get("/", headers={"Accept": "text/html"})
    assert st == 200 and b == INDEX
    assert h["content-type"] == "text/html; charset=utf-8"
    assert h["cache-control"] == "no-cache"
    assert_page_headers(h)
    etag = h["etag"]
    st, h, b = web.get("/", headers={"If-None-Match": etag})
    assert st == 304 and b == b""
    head = web.request("HEAD", "/")
    assert head.status == 200 and head.raw == b"" and head.headers["content-length"] == str(len(INDEX))


@pytest.mark.parametrize("route", ["/tasks", "/tasks/0190c0de-0000-7000-8000-000000000000", "/login", "/settings/notifications", "/healthy", "/apis"])
def test_client_routes_get_index(web, route):
    st, h, b = web.get(route)
    assert st == 200 and b == INDEX, route
    assert h["cache-control"] == "no-cache"


def test_hashed_assets_are_immutable_and_precompressed(web):
    path = "/assets/app-1a2b3c.js"
    st, h, b = web.get(path, headers={"Accept-Encoding": "identity"})
    assert st == 200 and b == SCRIPT
    assert h["content-type"] == "text/javascript; charset=utf-8"
    assert h["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in h and h["vary"] == "Accept-Encoding"
    st, h, b = web.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert st == 200 and h["content-encoding"] == "br" and b == BROTLI
    st, h, b = web.get(path, headers={"Accept-Encoding": "gzip"})
    assert st == 200 and h["content-encoding"] == "gzip" and gzip.decompress(b) == SCRIPT
    st, h, b = web.get(path, headers={"Accept-Encoding": "br;q=0, gzip;q=0.8"})
    assert st == 200 and h["content-encoding"] == "gzip"
    st, h, b = web.get("/favicon.svg")
    assert st == 200 and h["content-type"] == "image/svg+xml" and h["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/missing-123.js", "/assets/nothing", "/robots.txt", "/assets/orphan.css", "/../index.html/x.js"])
def test_missing_files_are_404_problems(web, path):
    assert_problem(web.get(path), 404, "not-found", instance=web.get(path).body["instance"])


@pytest.mark.parametrize("path", ["/api/nope", "/api", "/ws/nope", "/health/x", "/metrics/x", "/openapi.json/x", "/ready/x"])
def test_server_paths_never_fall_back_to_the_app(web, path):
    assert_problem(web.get(path, headers={"Accept": "text/html"}), 404, "not-found")


def test_api_and_operations_still_answer(web):
    assert web.get("/health").status == 200
    assert web.get("/openapi.json").status == 200
    assert_problem(web.get("/api/tasks"), 401, "token-missing")
    # Other methods on client routes are not the app's business.
    assert web.post("/tasks", body={}).status in (404, 405)


def test_without_a_built_app_the_root_says_so_and_the_api_works(make_server, tmp_path):
    srv = make_server(args=["--web-dir", str(tmp_path / "no-such-dist")])
    st, h, b = srv.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert st == 503 and h["content-type"] == "text/html; charset=utf-8"
    assert b"The web app is not built" in b and b"make run" in b
    assert_page_headers(h)
    body = assert_problem(srv.get("/", headers={"Accept": "application/json"}), 503, "ui-not-built")
    assert "make run" in body["detail"]
    # Without an app there are no client routes: other paths stay plain unknown routes.
    assert_problem(srv.get("/tasks", headers={"Accept": "text/html"}), 404, "not-found")
    assert srv.get("/health").status == 200
    st, _, b = srv.post("/api/auth/register", body={"email": "web@example.com", "password": "a fine passphrase"})
    assert st == 201, b
    assert srv.wait_for_log(lambda e: "not built" in str(e.get("msg", e.get("message", ""))))
