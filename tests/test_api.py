"""The JSON API: shapes, paging, every error status, CORS, and the MongoDB-specific input checks."""
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from tests.conftest import TEST_API_KEY
from tests.db_faults import unopenable_path
from tests.helpers import seed_threads, stepping_clock, use_mongomock

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.data
    assert response.is_json, response.headers.get("Content-Type")
    body = response.get_json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def assert_iso_utc(value):
    assert isinstance(value, str) and ISO_UTC.match(value), value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    # A real moment, not the epoch or a far-off default.
    assert abs(parsed - datetime.now(timezone.utc)) < timedelta(days=1)
    return parsed


def assert_iso_utc_loose(value):
    """ISO 8601 UTC, any date (the stepping clock starts in 2026)."""
    assert isinstance(value, str) and ISO_UTC.match(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))






def path_of(link_header):
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link_header)
    assert match, link_header
    url = urlsplit(match.group(1))
    return f"{url.path}?{url.query}"


# --- POST /api/chat ---------------------------------------------------------------------------

def test_chat_starts_a_thread_and_replies(client, fake_openai):
    response = client.post("/api/chat", json={"message": "Hello there"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["reply"] == "Echo: Hello there"
    assert isinstance(body["threadId"], str) and body["threadId"]
    assert_iso_utc(body["timestamp"])
    # The model was given the user's message, with the configured key.
    assert len(fake_openai.requests) == 1
    sent = fake_openai.requests[0]
    assert sent["json"]["messages"][-1] == {"role": "user", "content": "Hello there"}
    assert sent["headers"]["Authorization"] == f"Bearer {TEST_API_KEY}"


def test_chat_continues_a_thread_with_its_history(client, fake_openai):
    thread_id = client.post("/api/chat", json={"message": "first"}).get_json()["threadId"]
    response = client.post("/api/chat", json={"threadId": thread_id, "message": "second"})
    assert response.status_code == 200
    assert response.get_json()["threadId"] == thread_id
    assert response.get_json()["reply"] == "Echo: second"
    prompt = fake_openai.requests[-1]["json"]["messages"]
    assert [(m["role"], m["content"]) for m in prompt] == [
        ("user", "first"), ("assistant", "Echo: first"), ("user", "second")]


def test_unknown_thread_id_creates_that_thread(client):
    response = client.post("/api/chat", json={"threadId": "my-own_id-42", "message": "hi"})
    assert response.status_code == 200
    assert response.get_json()["threadId"] == "my-own_id-42"
    listed = client.get("/api/thread").get_json()
    assert [t["threadId"] for t in listed] == ["my-own_id-42"]
    assert listed[0]["title"] == "hi"
    messages = client.get("/api/thread/my-own_id-42").get_json()
    assert [(m["role"], m["content"]) for m in messages] == [("user", "hi"), ("assistant", "Echo: hi")]


def test_api_needs_no_csrf_token_though_forms_do(client):
    client.get("/")
    assert client.post("/", data={"message": "form without token"}).status_code == 400
    assert client.get("/api/thread").get_json() == []
    assert client.post("/api/chat", json={"message": "no token"}).status_code == 200
    assert [t["title"] for t in client.get("/api/thread").get_json()] == ["no token"]


# --- GET /api/thread ------------------------------------------------------------------------

def test_thread_list_is_empty_array_at_first(client):
    response = client.get("/api/thread")
    assert response.status_code == 200
    assert response.get_json() == []
    assert "Link" not in response.headers


def test_thread_list_shape_and_newest_update_first(app, client):
    stepping_clock(app)
    ids = [client.post("/api/chat", json={"message": f"topic {n}"}).get_json()["threadId"]
           for n in range(3)]
    # Writing in the oldest thread moves it to the top.
    client.post("/api/chat", json={"threadId": ids[0], "message": "again"})
    listed = client.get("/api/thread").get_json()
    assert [t["threadId"] for t in listed] == [ids[0], ids[2], ids[1]]
    for thread in listed:
        assert set(thread) >= {"threadId", "title", "createdAt", "updatedAt"}
        created = assert_iso_utc_loose(thread["createdAt"])
        updated = assert_iso_utc_loose(thread["updatedAt"])
        assert updated >= created
    assert listed[0]["title"] == "topic 0"
    assert listed[0]["updatedAt"] > listed[0]["createdAt"]


def test_thread_list_gives_50_at_most_and_pages_with_link_next(app, client):
    newest_first = seed_threads(app, 55)
    first = client.get("/api/thread")
    assert first.status_code == 200
    assert [t["threadId"] for t in first.get_json()] == newest_first[:50]
    second = client.get(path_of(first.headers["Link"]))
    assert second.status_code == 200
    assert [t["threadId"] for t in second.get_json()] == newest_first[50:]
    assert "Link" not in second.headers


def test_thread_list_limit_pages_through_everything_once(app, client):
    newest_first = seed_threads(app, 7)
    seen, url, pages = [], "/api/thread?limit=3", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = [t["threadId"] for t in response.get_json()]
        assert 1 <= len(page) <= 3
        seen += page
        pages += 1
        url = path_of(response.headers["Link"]) if "Link" in response.headers else None
    assert seen == newest_first
    assert pages == 3


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "101", "2.5"])
def test_thread_list_rejects_bad_limit(client, limit):
    assert_json_error(client.get(f"/api/thread?limit={limit}"), 400)


def test_thread_list_rejects_bad_cursor(client):
    assert_json_error(client.get("/api/thread?cursor=%25%25not-a-cursor"), 400)


# --- GET /api/thread/<id> -------------------------------------------------------------------

def test_thread_messages_oldest_first_with_iso_times(client):
    thread_id = client.post("/api/chat", json={"message": "one"}).get_json()["threadId"]
    client.post("/api/chat", json={"threadId": thread_id, "message": "two"})
    response = client.get(f"/api/thread/{thread_id}")
    assert response.status_code == 200
    messages = response.get_json()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "one"), ("assistant", "Echo: one"), ("user", "two"), ("assistant", "Echo: two")]
    times = [assert_iso_utc(m["timestamp"]) for m in messages]
    assert times == sorted(times)
    # The reference design's three fields; replies add how they ended and what they cost.
    for message in messages[0::2]:
        assert set(message) == {"role", "content", "timestamp"}
    for message in messages[1::2]:
        assert set(message) == {"role", "content", "timestamp", "finishReason", "usage"}
        assert message["finishReason"] == "stop"
        assert message["usage"] == {"prompt_tokens": 1, "completion_tokens": 1}


def test_thread_messages_unknown_thread_is_404(client):
    assert_json_error(client.get("/api/thread/no-such-thread"), 404, "not_found")


# --- DELETE /api/thread/<id> ----------------------------------------------------------------

def test_delete_thread(client):
    keep = client.post("/api/chat", json={"message": "keep me"}).get_json()["threadId"]
    gone = client.post("/api/chat", json={"message": "delete me"}).get_json()["threadId"]
    response = client.delete(f"/api/thread/{gone}")
    assert response.status_code == 200
    assert response.is_json and isinstance(response.get_json(), dict)
    assert_json_error(client.get(f"/api/thread/{gone}"), 404)
    assert [t["threadId"] for t in client.get("/api/thread").get_json()] == [keep]
    assert len(client.get(f"/api/thread/{keep}").get_json()) == 2


def test_delete_unknown_thread_is_404(client):
    assert_json_error(client.delete("/api/thread/never-was"), 404, "not_found")
    thread_id = client.post("/api/chat", json={"message": "x"}).get_json()["threadId"]
    assert client.delete(f"/api/thread/{thread_id}").status_code == 200
    assert_json_error(client.delete(f"/api/thread/{thread_id}"), 404)


def test_a_deleted_thread_id_can_start_afresh(client):
    client.post("/api/chat", json={"threadId": "reuse", "message": "old"})
    client.delete("/api/thread/reuse")
    client.post("/api/chat", json={"threadId": "reuse", "message": "new"})
    messages = client.get("/api/thread/reuse").get_json()
    assert [m["content"] for m in messages] == ["new", "Echo: new"]


# --- Errors: every one is JSON ---------------------------------------------------------------

def test_unknown_api_route_is_json_404(client):
    assert_json_error(client.get("/api/nothing-here"), 404)
    assert_json_error(client.get("/api"), 404)
    assert_json_error(client.post("/api/chat/extra", json={}), 404)


def test_wrong_method_under_api_is_json(client):
    assert_json_error(client.get("/api/chat"), 405)
    assert_json_error(client.put("/api/thread"), 405)


BAD_BODIES = [
    {},
    {"message": None},
    {"message": 42},
    {"message": ["hi"]},
    {"message": {"text": "hi"}},
    {"message": {"$ne": None}},
    {"message": ""},
    {"message": "   \n\t "},
    {"message": "hi", "threadId": 7},
    {"message": "hi", "threadId": ""},
    {"message": "hi", "threadId": "has space"},
    {"message": "hi", "threadId": "../etc/passwd"},
    {"message": "hi", "threadId": "x" * 65},
    {"message": "hi", "threadId": {"$ne": None}},
    {"message": "hi", "threadId": {"$gt": ""}},
    {"message": "hi", "threadId": ["a"]},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=[str(b)[:40] for b in BAD_BODIES])
def test_bad_input_is_400_reaches_no_model_and_stores_nothing(client, fake_openai, body):
    assert_json_error(client.post("/api/chat", json=body), 400, "bad_request")
    assert fake_openai.requests == []
    assert client.get("/api/thread").get_json() == []


@pytest.mark.parametrize("raw", ['{"message": "hi"', "not json", "[1, 2]", '"hello"', "null", ""])
def test_malformed_or_non_object_json_is_400(client, fake_openai, raw):
    response = client.post("/api/chat", data=raw, content_type="application/json")
    assert_json_error(response, 400)
    assert fake_openai.requests == []
    assert client.get("/api/thread").get_json() == []


def test_operator_object_cannot_reach_an_existing_thread(client, fake_openai):
    client.post("/api/chat", json={"threadId": "existing", "message": "mine"})
    fake_openai.requests.clear()
    response = client.post("/api/chat", json={"threadId": {"$ne": None}, "message": "sneak"})
    assert_json_error(response, 400)
    assert fake_openai.requests == []
    assert [m["content"] for m in client.get("/api/thread/existing").get_json()] == ["mine", "Echo: mine"]


def test_overlong_message_is_400(client, fake_openai):
    limit = client.application.config["MAX_MESSAGE_CHARS"]
    error = assert_json_error(client.post("/api/chat", json={"message": "a" * (limit + 1)}), 400)
    assert f"{limit:,}" in error["message"]
    assert fake_openai.requests == []
    assert client.get("/api/thread").get_json() == []


@pytest.mark.parametrize("kwargs", [
    {"data": {"message": "hi"}},  # an HTML form post
    {"data": '{"message": "hi"}', "content_type": "text/plain"},
    {"data": '{"message": "hi"}'},  # no Content-Type at all
])
def test_non_json_body_is_415(client, fake_openai, kwargs):
    assert_json_error(client.post("/api/chat", **kwargs), 415, "unsupported_media_type")
    assert fake_openai.requests == []
    assert client.get("/api/thread").get_json() == []


class TestBodyLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 2048}

    def test_body_over_limit_is_413_json(self, client, fake_openai):
        response = client.post("/api/chat", json={"message": "b" * 5000})
        error = assert_json_error(response, 413)
        assert "2,048" in error["message"]
        assert fake_openai.requests == []
        assert client.get("/api/thread").get_json() == []

    def test_body_under_limit_is_fine(self, client):
        assert client.post("/api/chat", json={"message": "b" * 1000}).status_code == 200


# --- Upstream failures -----------------------------------------------------------------------

def assert_user_message_kept(client, thread_id, text):
    messages = client.get(f"/api/thread/{thread_id}").get_json()
    assert [(m["role"], m["content"]) for m in messages] == [("user", text)]


@pytest.mark.parametrize("status", [500, 503, 429, 401, 400])
def test_upstream_http_error_is_502_and_keeps_user_message(client, fake_openai, status):
    fake_openai.fail_with(status)
    response = client.post("/api/chat", json={"message": "will it fail?"})
    assert_json_error(response, 502, "upstream_error")
    thread_id = response.get_json()["error"]["threadId"]
    assert_user_message_kept(client, thread_id, "will it fail?")


@pytest.mark.parametrize("garbage", [
    b"this is not json",
    b'{"choices": []}',
    b'{"choices": [{"message": {"role": "assistant", "content": null}}]}',
    b'{"choices": [{"message": {"role": "assistant", "content": ""}}]}',
    b"[]",
])
def test_upstream_garbage_is_502(client, fake_openai, garbage):
    fake_openai.respond(lambda _request: (200, garbage))
    response = client.post("/api/chat", json={"threadId": "garbage", "message": "hello?"})
    error = assert_json_error(response, 502)
    assert error["threadId"] == "garbage"
    assert_user_message_kept(client, "garbage", "hello?")


def test_upstream_failure_then_success_in_same_thread(client, fake_openai):
    fake_openai.fail_with(500)
    thread_id = client.post("/api/chat", json={"message": "first try"}).get_json()["error"]["threadId"]
    fake_openai.reset()
    response = client.post("/api/chat", json={"threadId": thread_id, "message": "second try"})
    assert response.status_code == 200
    contents = [m["content"] for m in client.get(f"/api/thread/{thread_id}").get_json()]
    assert contents == ["first try", "second try", "Echo: second try"]


def test_upstream_error_never_echoes_the_api_key(client, fake_openai):
    fake_openai.fail_with(400, {"error": {"message": f"Incorrect API key provided: {TEST_API_KEY}"}})
    response = client.post("/api/chat", json={"message": "hi"})
    assert_json_error(response, 502)
    assert TEST_API_KEY not in response.get_data(as_text=True)
    assert "Incorrect API key provided" in response.get_json()["error"]["message"]


class TestUnreachableUpstream:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}

    def test_unreachable_model_is_502(self, client):
        response = client.post("/api/chat", json={"threadId": "offline", "message": "anyone?"})
        assert_json_error(response, 502)
        assert_user_message_kept(client, "offline", "anyone?")


class TestUpstreamTimeout:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_TIMEOUT": 0.3}

    def test_slow_model_is_504(self, client, fake_openai):
        fake_openai.delay(2)
        started = time.monotonic()
        response = client.post("/api/chat", json={"threadId": "slow", "message": "take your time"})
        assert time.monotonic() - started < 5
        assert_json_error(response, 504, "upstream_timeout")
        assert_user_message_kept(client, "slow", "take your time")


class TestNoApiKey:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_API_KEY": ""}

    def test_chat_without_key_is_503_and_never_calls_model(self, client, fake_openai):
        response = client.post("/api/chat", json={"threadId": "nokey", "message": "hello"})
        error = assert_json_error(response, 503, "model_not_configured")
        assert "OPENAI_API_KEY" in error["message"]
        assert fake_openai.requests == []
        assert_user_message_kept(client, "nokey", "hello")

    def test_other_endpoints_still_work(self, client):
        client.post("/api/chat", json={"threadId": "nokey", "message": "hello"})
        assert [t["threadId"] for t in client.get("/api/thread").get_json()] == ["nokey"]
        assert client.delete("/api/thread/nokey").status_code == 200


def test_api_responses_never_contain_the_key(client, fake_openai):
    bodies = []
    ok = client.post("/api/chat", json={"threadId": "k", "message": "hi"})
    assert ok.status_code == 200
    bodies.append(ok)
    fake_openai.fail_with(401, {"error": {"message": f"bad key {TEST_API_KEY}"}})
    bodies.append(client.post("/api/chat", json={"threadId": "k", "message": "again"}))
    bodies += [client.get("/api/thread"), client.get("/api/thread/k"), client.get("/api/missing"),
               client.post("/api/chat", json={"message": 1})]
    for response in bodies:
        assert TEST_API_KEY not in response.get_data(as_text=True)
        assert all(TEST_API_KEY not in value for value in response.headers.values())


# --- Database down ---------------------------------------------------------------------------

class TestSQLiteUnusable:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SQLITE_PATH": unopenable_path(tmp_path)}

    def test_reads_are_503_json(self, client):
        assert_json_error(client.get("/api/thread"), 503, "database_unavailable")
        assert_json_error(client.get("/api/thread/some-id"), 503, "database_unavailable")
        assert_json_error(client.delete("/api/thread/some-id"), 503, "database_unavailable")

    def test_chat_is_503_and_model_not_called(self, client, fake_openai):
        assert_json_error(client.post("/api/chat", json={"message": "hi"}), 503,
                          "database_unavailable")
        assert fake_openai.requests == []


class TestMongoUnreachable:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp",
                "MONGO_TIMEOUT_MS": 500}

    def test_thread_list_is_503_promptly(self, client):
        started = time.monotonic()
        response = client.get("/api/thread")
        assert time.monotonic() - started < 5
        assert_json_error(response, 503, "database_unavailable")

    def test_chat_is_503_promptly_and_model_not_called(self, client, fake_openai):
        started = time.monotonic()
        response = client.post("/api/chat", json={"message": "hi"})
        assert time.monotonic() - started < 5
        assert_json_error(response, 503, "database_unavailable")
        assert fake_openai.requests == []


class TestMongoBSONInput:
    """flask-pymongo makes request JSON go through BSON's decoder, so {"$oid": ...} and
    {"$date": ...} arrive as ObjectId and datetime. They must be refused like any non-string."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp",
                "MONGO_TIMEOUT_MS": 500}

    @pytest.fixture
    def app(self, app):
        return use_mongomock(app)

    @pytest.mark.parametrize("body", [
        {"threadId": {"$oid": "5f0000000000000000000001"}, "message": "hi"},
        {"message": {"$date": 0}},
        {"threadId": "ok-id", "message": {"$date": 0}},
        {"threadId": {"$date": 0}, "message": "hi"},
        {"message": {"$oid": "5f0000000000000000000001"}},
        {"threadId": {"$ne": None}, "message": "hi"},
        {"threadId": {"$regex": ".*"}, "message": "hi"},
    ])
    def test_bson_typed_values_are_400_and_store_nothing(self, app, client, fake_openai, body):
        # The premise: this app really turns extended JSON into BSON types.
        decoded = app.json.loads('{"a": {"$oid": "5f0000000000000000000001"}, "b": {"$date": 0}}')
        assert not isinstance(decoded["a"], (str, dict)) and isinstance(decoded["b"], datetime)
        response = client.post("/api/chat", json=body)
        assert_json_error(response, 400, "bad_request")
        assert fake_openai.requests == []
        assert client.get("/api/thread").get_json() == []
        assert app.extensions["thread_store"].messages_.count_documents({}) == 0

    def test_bson_values_cannot_touch_an_existing_thread(self, client, fake_openai):
        client.post("/api/chat", json={"threadId": "existing", "message": "mine"})
        fake_openai.requests.clear()
        for thread_id in ({"$ne": None}, {"$oid": "5f0000000000000000000001"}):
            assert_json_error(client.post("/api/chat", json={"threadId": thread_id, "message": "x"}), 400)
        assert fake_openai.requests == []
        assert len(client.get("/api/thread/existing").get_json()) == 2

    def test_normal_chat_works_with_plain_iso_strings(self, client):
        response = client.post("/api/chat", json={"message": "hello mongo"})
        assert response.status_code == 200
        body = response.get_json()
        assert body["reply"] == "Echo: hello mongo"
        assert_iso_utc(body["timestamp"])
        thread_id = body["threadId"]
        assert isinstance(thread_id, str)

        listed = client.get("/api/thread").get_json()
        assert [t["threadId"] for t in listed] == [thread_id]
        assert_iso_utc(listed[0]["createdAt"])
        assert_iso_utc(listed[0]["updatedAt"])
        assert "$date" not in client.get("/api/thread").get_data(as_text=True)

        messages = client.get(f"/api/thread/{thread_id}").get_json()
        assert [(m["role"], m["content"]) for m in messages] == [
            ("user", "hello mongo"), ("assistant", "Echo: hello mongo")]
        for message in messages:
            assert_iso_utc(message["timestamp"])
        assert client.delete(f"/api/thread/{thread_id}").status_code == 200
        assert client.get("/api/thread").get_json() == []


# --- CORS ------------------------------------------------------------------------------------

FRONTEND = "http://localhost:5173"
PREFLIGHT = {"Origin": FRONTEND, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "Content-Type"}


class TestCorsUnset:
    @pytest.fixture
    def app_config(self, app_config, monkeypatch):
        monkeypatch.delenv("CORS_ORIGINS", raising=False)
        return app_config

    def test_no_cross_origin_access(self, client):
        simple = client.get("/api/thread", headers={"Origin": FRONTEND})
        assert simple.status_code == 200
        assert "Access-Control-Allow-Origin" not in simple.headers
        preflight = client.options("/api/chat", headers=PREFLIGHT)
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert "Access-Control-Allow-Methods" not in preflight.headers


class TestCorsConfigured:
    @pytest.fixture
    def app_config(self, app_config, monkeypatch):
        monkeypatch.setenv("CORS_ORIGINS", FRONTEND)  # read from the environment, as in .env
        return app_config

    def test_simple_request_from_allowed_origin(self, client):
        response = client.get("/api/thread", headers={"Origin": FRONTEND})
        assert response.status_code == 200
        assert response.headers.get("Access-Control-Allow-Origin") == FRONTEND

    def test_preflight_for_json_post(self, client):
        response = client.options("/api/chat", headers=PREFLIGHT)
        assert response.status_code in (200, 204)
        assert response.headers.get("Access-Control-Allow-Origin") == FRONTEND
        assert "POST" in response.headers.get("Access-Control-Allow-Methods", "")
        assert "content-type" in response.headers.get("Access-Control-Allow-Headers", "").lower()
        # And the POST that follows works and is readable cross-origin.
        post = client.post("/api/chat", json={"message": "from the SPA"}, headers={"Origin": FRONTEND})
        assert post.status_code == 200
        assert post.headers.get("Access-Control-Allow-Origin") == FRONTEND

    def test_errors_are_readable_cross_origin(self, client):
        response = client.get("/api/thread/missing", headers={"Origin": FRONTEND})
        assert_json_error(response, 404)
        assert response.headers.get("Access-Control-Allow-Origin") == FRONTEND

    def test_other_origins_get_nothing(self, client):
        evil = "http://evil.example"
        simple = client.get("/api/thread", headers={"Origin": evil})
        assert simple.headers.get("Access-Control-Allow-Origin") in (None, "")
        preflight = client.options("/api/chat", headers={**PREFLIGHT, "Origin": evil})
        assert preflight.headers.get("Access-Control-Allow-Origin") in (None, "")
        assert client.get("/api/thread", headers={"Origin": "http://localhost:5174"}).headers.get(
            "Access-Control-Allow-Origin") in (None, "")

    def test_pages_never_get_cors_headers(self, client):
        for path in ("/", "/highlight.css", "/thread/none", "/static/app.css"):
            response = client.get(path, headers={"Origin": FRONTEND})
            assert response.status_code in (200, 404), path
            assert not any(h.lower().startswith("access-control-") for h in response.headers.keys()), path
        form_preflight = client.options("/", headers={**PREFLIGHT})
        assert "Access-Control-Allow-Origin" not in form_preflight.headers
