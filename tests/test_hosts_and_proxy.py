"""Links never echo a forged Host; behind a trusted TLS proxy the app knows it is on HTTPS; every
response, error pages included, carries the security headers."""
import http.client
import re

import pytest

from tests.helpers import seed_threads
from tests.live_server import LiveServer
from tests.test_views import token_from

FORGED = "evil.example"
NEXT_LINK = re.compile(r'<([^>]+)>; rel="next"')


def next_link(response):
    match = NEXT_LINK.fullmatch(response.headers["Link"])
    assert match, response.headers["Link"]
    return match.group(1)


def assert_security_headers(response):
    assert "script-src 'self'" in response.headers["Content-Security-Policy"], response.status
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


# --- Host and links ---------------------------------------------------------------------------

def test_local_use_gets_absolute_next_links_as_before(app, client):
    seed_threads(app, 3)
    link = next_link(client.get("/api/thread?limit=2"))
    assert link.startswith("http://localhost/api/thread?limit=2&cursor=")


def test_a_forged_host_never_reaches_the_link_header(app, client):
    seed_threads(app, 3)
    response = client.get("/api/thread?limit=2", headers={"Host": FORGED})
    link = next_link(response)
    assert FORGED not in link
    assert link.startswith("/api/thread?limit=2&cursor=")  # relative: the client's own address
    assert len(client.get(link, headers={"Host": FORGED}).get_json()) == 1


def test_public_url_builds_every_link_whatever_the_host(make_app):
    app = make_app(PUBLIC_URL="https://chat.example.com/")
    seed_threads(app, 3)
    for host in (FORGED, "localhost"):
        link = next_link(app.test_client().get("/api/thread?limit=2", headers={"Host": host}))
        assert link.startswith("https://chat.example.com/api/thread?limit=2&cursor="), link


def test_public_url_may_mount_the_app_under_a_path(make_app):
    app = make_app(PUBLIC_URL="https://example.com/chat")
    seed_threads(app, 3)
    link = next_link(app.test_client().get("/api/thread?limit=2", headers={"Host": FORGED}))
    assert link.startswith("https://example.com/chat/api/thread?limit=2&cursor=")


def test_a_public_url_that_is_no_address_stops_the_app_at_start(make_app):
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        make_app(PUBLIC_URL="chat.example.com")


def test_trusted_hosts_answer_other_hosts_400_with_no_link_to_them(make_app):
    app = make_app(TRUSTED_HOSTS=["chat.example.com"])
    seed_threads(app, 3)
    client = app.test_client()
    link = next_link(client.get("/api/thread?limit=2", headers={"Host": "chat.example.com"}))
    assert link.startswith("http://chat.example.com/api/thread?")

    api = client.get("/api/thread?limit=2", headers={"Host": FORGED})
    assert api.status_code == 400 and "Link" not in api.headers
    assert api.get_json()["error"]["code"] == "untrusted_host"
    page = client.get("/", headers={"Host": FORGED})
    assert page.status_code == 400 and FORGED not in page.get_data(as_text=True)
    assert_security_headers(api)
    assert_security_headers(page)


def test_redirects_after_a_form_never_name_the_host(client):
    token = token_from(client.get("/", headers={"Host": FORGED}))
    response = client.post("/", data={"csrf_token": token, "message": "hello"},
                           headers={"Host": FORGED})
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/thread/")


def test_over_real_http_a_loopback_address_links_absolutely_and_a_forged_one_does_not(app):
    seed_threads(app, 3)
    with LiveServer(app) as server:
        host_and_port = server.url.removeprefix("http://")
        link = _link_over_http(host_and_port, host_and_port)
        assert link.startswith(f"{server.url}/api/thread?limit=2&cursor=")
        assert _link_over_http(host_and_port, FORGED).startswith("/api/thread?limit=2&cursor=")


def _link_over_http(address, host_header):
    connection = http.client.HTTPConnection(address, timeout=5)
    try:
        connection.request("GET", "/api/thread?limit=2", headers={"Host": host_header})
        response = connection.getresponse()
        response.read()
        return NEXT_LINK.fullmatch(response.getheader("Link")).group(1)
    finally:
        connection.close()


# --- HTTPS and the proxy ----------------------------------------------------------------------

def test_https_gets_hsts_and_a_secure_session_cookie(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]


def test_plain_http_gets_no_hsts_and_a_cookie_that_still_comes_back(client):
    response = client.get("/")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_forwarded_https_is_ignored_unless_a_proxy_is_configured(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_behind_a_trusted_tls_proxy_the_app_knows_it_is_on_https(make_app):
    app = make_app(PROXY_COUNT=1)
    seed_threads(app, 3)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example.com"}
    page = client.get("/", headers=forwarded)
    assert "Strict-Transport-Security" in page.headers
    assert "Secure" in page.headers["Set-Cookie"]
    # The proxy's host is a name, so the link stays relative; its scheme is believed.
    app.config["TRUSTED_HOSTS"] = ["chat.example.com"]
    link = next_link(client.get("/api/thread?limit=2", headers=forwarded))
    assert link.startswith("https://chat.example.com/api/thread?")


def test_only_as_many_forwarded_values_as_proxies_are_believed(make_app):
    # The TLS proxy said https; a second proxy behind it, speaking plain HTTP, appended http.
    forwarded = {"X-Forwarded-Proto": "https, http"}
    one = make_app(PROXY_COUNT=1).test_client().get("/", headers=forwarded)
    two = make_app(PROXY_COUNT=2).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in one.headers
    assert "Strict-Transport-Security" in two.headers


# --- Security headers on every response -------------------------------------------------------

@pytest.fixture
def failing_app(app):
    """The app with one view that fails the way an unforeseen bug would."""
    def broken():
        raise RuntimeError("an unforeseen bug")

    app.add_url_rule("/broken", view_func=broken)
    app.add_url_rule("/api/broken", view_func=broken)
    return app


@pytest.mark.parametrize("method, path, status, body", [
    ("GET", "/", 200, None),
    ("GET", "/static/app.css", 200, None),
    ("GET", "/highlight.css", 200, None),
    ("GET", "/api/thread", 200, None),
    ("GET", "/no/such/page", 404, None),
    ("GET", "/api/thread/no-such-thread", 404, None),
    ("DELETE", "/", 405, None),
    ("GET", "/api/chat", 405, None),
    ("POST", "/", 400, {"message": "no CSRF token"}),
    ("POST", "/api/chat", 413, {"message": "x" * 1_100_000}),
    ("POST", "/", 413, {"message": "x" * 1_100_000}),
    ("GET", "/broken", 500, None),
    ("GET", "/api/broken", 500, None),
])
def test_every_response_carries_the_security_headers(failing_app, method, path, status, body):
    client = failing_app.test_client()
    kwargs = {"json": body} if path.startswith("/api/") else {"data": body}
    response = client.open(path, method=method, **(kwargs if body else {}))
    assert response.status_code == status
    assert_security_headers(response)
    secure = client.open(path, method=method, base_url="https://localhost",
                         **(kwargs if body else {}))
    assert secure.status_code == status
    assert "Strict-Transport-Security" in secure.headers
