"""Sign-in with LOGIN_REQUIRED on: every page asks for it, every API call needs a token or the
signed-in session, and the ways in are guarded (a safe return address, a new session, cookie
writes from this site only, failed attempts limited). Over real HTTP-level requests through the
test client, on a real SQLite file."""
import statistics
import time

import pytest

from chatapp import accounts
from chatapp.models import utc_now
from tests.test_views import csrf_token, token_from

PASSWORD = "correct horse"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_REQUIRED": True, "RATELIMIT_SIGNIN": "1000/minute"}


@pytest.fixture
def alice(app):
    return accounts.create_user(app.extensions["thread_store"], "alice", PASSWORD, utc_now())


def sign_in(client, name="alice", password=PASSWORD, next_path=None, **kwargs):
    form = {"csrf_token": token_from(client.get("/signin", **kwargs)), "name": name,
            "password": password}
    if next_path is not None:
        form["next"] = next_path
    return client.post("/signin", data=form, **kwargs)


def token_for(app, user):
    return accounts.new_token(app.extensions["thread_store"], user, utc_now())


def token_for_new_user(app, name, password=PASSWORD):
    """Make user `name` in the app's store; an API token of theirs."""
    user = accounts.create_user(app.extensions["thread_store"], name, password, utc_now())
    return token_for(app, user)


# --- everything asks for a sign-in ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/thread/abc", "/?q=rome"])
def test_every_page_sends_a_stranger_to_sign_in_and_back(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("method, path", [("get", "/api/thread"), ("get", "/api/thread/abc"),
                                          ("delete", "/api/thread/abc"), ("post", "/api/chat")])
def test_every_api_call_without_credentials_is_a_401_json(client, method, path):
    response = getattr(client, method)(path, json={"message": "hi"} if method == "post" else None)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json["error"]["message"]


def test_the_sign_in_page_and_static_files_need_no_sign_in(client):
    assert client.get("/signin").status_code == 200
    assert client.get("/static/app.css").status_code == 200


# --- signing in and out --------------------------------------------------------------------------

def test_signing_in_leads_back_to_the_page_asked_for_and_shows_who_is_signed_in(client, alice):
    response = sign_in(client, next_path="/?q=rome")

    assert response.status_code == 302 and response.headers["Location"] == "/?q=rome"
    page = client.get("/")
    assert page.status_code == 200
    assert "alice" in page.text and "Sign out" in page.text
    assert client.get("/api/thread").status_code == 200  # the page's own calls: by the cookie


def test_the_session_cookie_is_httponly_and_samesite_lax(client, alice):
    cookie = sign_in(client).headers["Set-Cookie"]

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "evil.example", "/\t/evil.example"])
def test_the_return_address_never_leads_off_the_site(client, alice, target):
    response = sign_in(client, next_path=target)

    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_new_session_begins_at_sign_in(client, alice):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"  # as a fixed session would carry

    sign_in(client)

    with client.session_transaction() as session:
        assert "planted" not in session and "user_id" in session


def test_a_wrong_name_and_a_wrong_password_answer_the_same(client, alice):
    wrong_password = sign_in(client, "alice", "wrong horse")
    wrong_name = sign_in(client, "alicia", "wrong horse")

    for response in (wrong_password, wrong_name):
        assert response.status_code == 401
        assert "Wrong name or password." in response.text
    assert client.get("/").status_code == 302  # neither signed anyone in


def test_a_wrong_name_takes_as_long_as_a_wrong_password(app, alice):
    store = app.extensions["thread_store"]

    def median_seconds(name):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            accounts.signed_in_user(store, name, "wrong horse")
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median_seconds("alice"), median_seconds("nobody-here")
    assert 0.5 < unknown / known < 2  # both are one scrypt check; without it, 1000x apart


def test_signing_out_ends_the_session(client, alice):
    sign_in(client)

    response = client.post("/signout", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 302 and response.headers["Location"] == "/signin"
    assert client.get("/").status_code == 302
    assert client.get("/api/thread").status_code == 401


def test_a_deleted_users_session_lets_nothing_in(app, client, alice):
    sign_in(client)
    app.extensions["thread_store"].delete_user(alice.user_id)

    assert client.get("/").status_code == 302
    assert client.get("/api/thread").status_code == 401


# --- tokens --------------------------------------------------------------------------------------

def test_a_token_opens_the_api_and_a_revoked_or_wrong_one_does_not(app, client, alice):
    token = token_for(app, alice)
    auth = {"Authorization": f"Bearer {token}"}

    assert client.get("/api/thread", headers=auth).status_code == 200
    assert client.post("/api/chat", json={"message": "Hi"}, headers=auth).status_code == 200
    assert client.get("/api/thread", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    app.extensions["thread_store"].revoke_tokens(alice.user_id)
    assert client.get("/api/thread", headers=auth).status_code == 401


def test_another_scheme_in_authorization_is_not_a_sign_in(client, alice):
    response = client.get("/api/thread", headers={"Authorization": "Basic YWxpY2U6Y29ycmVjdA=="})

    assert response.status_code == 401


# --- writes by cookie come from this site only ---------------------------------------------------

def test_a_cookie_write_from_another_site_is_refused_and_changes_nothing(app, client, alice):
    sign_in(client)

    refused = client.post("/api/chat", json={"message": "Hi"},
                          headers={"Origin": "https://evil.example"})
    fetched = client.post("/api/chat", json={"message": "Hi"},
                          headers={"Sec-Fetch-Site": "cross-site"})

    assert refused.status_code == fetched.status_code == 403
    assert app.extensions["thread_store"].list_threads(10).threads == []


def test_a_cookie_write_from_this_site_and_a_token_write_from_anywhere_go_through(app, client, alice):
    sign_in(client)
    own = client.post("/api/chat", json={"message": "Hi"}, headers={"Origin": "http://localhost"})
    by_token = client.post("/api/chat", json={"message": "Hi"}, headers={
        "Origin": "https://elsewhere.example", "Authorization": f"Bearer {token_for(app, alice)}"})

    assert own.status_code == by_token.status_code == 200


# --- failed sign-ins are limited -----------------------------------------------------------------

def test_failed_sign_ins_to_one_account_are_limited_from_any_address(make_app):
    app = make_app(RATELIMIT_SIGNIN="3/minute")
    accounts.create_user(app.extensions["thread_store"], "alice", PASSWORD, utc_now())
    for n in range(3):
        client = app.test_client()
        address = {"environ_base": {"REMOTE_ADDR": f"10.0.0.{n}"}}
        assert sign_in(client, password="guess", **address).status_code == 401

    client = app.test_client()
    blocked = sign_in(client, environ_base={"REMOTE_ADDR": "10.0.0.9"})  # even the right one

    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0


def test_failed_sign_ins_from_one_address_are_limited_for_any_account(make_app):
    app = make_app(RATELIMIT_SIGNIN="3/minute")
    store = app.extensions["thread_store"]
    accounts.create_user(store, "alice", PASSWORD, utc_now())
    client = app.test_client()
    for name in ("bob", "carol", "dave"):
        assert sign_in(client, name, "guess").status_code == 401

    assert sign_in(client).status_code == 429
    other = app.test_client()
    assert sign_in(other, environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 302


def test_successful_sign_ins_do_not_count_against_the_limit(make_app):
    app = make_app(RATELIMIT_SIGNIN="2/minute")
    accounts.create_user(app.extensions["thread_store"], "alice", PASSWORD, utc_now())

    for _ in range(4):
        assert sign_in(app.test_client()).status_code == 302
