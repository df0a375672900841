"""Every error a client can bring about from the JSON API is one its OpenAPI description
documents for that operation, in status, content type, headers and body: bad input, no such
conversation, a question being answered, wrong or oversized bodies, the rate limit, the model and
the database failing, no credentials, a cross-site cookie write, an untrusted Host. Real requests
through the test client, on a real SQLite file, with the fake model server over HTTP."""
import pytest

from chatapp.models import seconds_after, utc_now
from tests.db_faults import unopenable_path
from tests.helpers import conversation
from tests.openapi_calls import (BODY_OPS, STORE_OPS, THREAD_OPS, TURN_OPS, WRITE_OPS,  # noqa: F401
                                 call, described, documented, error_code, export_of, nested)
from tests.openapi_conformance import Description
from tests.test_auth import alice, sign_in, token_for  # noqa: F401 (`alice`)

OUT_OF_CREDIT = {"error": {"message": "quota", "type": "insufficient_quota",
                           "code": "insufficient_quota"}}


BAD_INPUT = [
    ("askInThread", {"json": {"message": "  "}}),
    ("askInThread", {"json": {"message": "Hi", "model": "not-offered"}}),
    ("listThreads", {"query_string": {"limit": "0"}}),
    ("listThreads", {"query_string": {"cursor": "not-a-cursor"}}),
    ("threadMessages", {"thread_id": "no spaces"}),
    ("deleteThread", {"thread_id": "é"}),
    ("renameThread", {"json": {"title": " "}}),
    ("regenerate", {"json": {"stream": "yes"}}),
    ("editLastMessage", {"json": {"content": ""}}),
    ("exportThread", {"query_string": {"format": "pdf"}}),
    ("importThread", {"json": {"threadId": "t1"}}),
    ("importThread", {"json": {**export_of("t2"), "nested": nested(40)}}),
]


@pytest.mark.parametrize("name, how", BAD_INPUT)
def test_bad_input_is_a_documented_400(app, client, documented, name, how):
    conversation(app, "t1", "Title", "Question", "Answer")
    response = documented(call(client, name, **how))
    assert response.status_code == 400 and error_code(response) == "bad_request"


@pytest.mark.parametrize("name", THREAD_OPS)
def test_a_missing_conversation_is_a_documented_404(client, documented, name):
    response = documented(call(client, name, thread_id="nobody-has-this"))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["regenerate", "editLastMessage"])
def test_a_question_being_answered_is_a_documented_409(app, client, documented, name):
    conversation(app, "t1", "Title", "Question")
    store = app.extensions["thread_store"]
    question, _ = store.last_turn("t1")
    assert store.claim_turn("t1", question.turn, utc_now(), seconds_after(utc_now(), 60))

    response = documented(call(client, name))
    assert response.status_code == 409 and error_code(response) == "turn_in_progress"


def test_importing_a_taken_id_is_a_documented_409(client, documented):
    assert call(client, "importThread").status_code == 201
    response = documented(call(client, "importThread"))
    assert response.status_code == 409 and error_code(response) == "thread_exists"


@pytest.mark.parametrize("name", BODY_OPS)
def test_a_body_not_sent_as_json_is_a_documented_415(client, documented, name):
    response = documented(call(client, name, data="{}", content_type="text/plain"))
    assert response.status_code == 415


class TestSmallBodies:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 1000}

    @pytest.mark.parametrize("name", BODY_OPS)
    def test_a_body_over_the_limit_is_a_documented_413(self, client, documented, name):
        response = documented(call(client, name, json={"message": "x" * 2000}))
        assert response.status_code == 413


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_CHAT": "1/minute"}

    # (Not editLastMessage yet: limits.py counts POSTs only, and an edit is a PATCH.)
    @pytest.mark.parametrize("name", ["askInThread", "regenerate"])
    def test_over_the_limit_is_a_documented_429(self, app, client, documented, name):
        conversation(app, "t1", "Title", "Question", "Answer")
        assert call(client, name).status_code == 200

        response = documented(call(client, name))
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


class TestModelFailures:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_TIMEOUT": 0.3}

    @pytest.mark.parametrize("name", TURN_OPS)
    @pytest.mark.parametrize("status, code, fail", [
        (502, "upstream_error", lambda fake: fake.fail_with(500)),
        (503, "model_out_of_credit", lambda fake: fake.fail_with(429, OUT_OF_CREDIT)),
        (504, "upstream_timeout", lambda fake: fake.delay(1.0)),
    ])
    def test_a_model_failure_is_documented(self, app, client, documented, fake_openai, name,
                                           status, code, fail):
        conversation(app, "t1", "Title", "Question", "Answer")
        fail(fake_openai)

        response = documented(call(client, name))
        assert response.status_code == status and error_code(response) == code
        assert response.get_json()["error"]["threadId"] == "t1"

    def test_streamed_it_is_a_documented_error_event(self, client, documented, fake_openai):
        fake_openai.fail_with(500)
        response = documented(client.post("/api/chat", json={"message": "Hi", "stream": True}))
        assert response.status_code == 200 and b"event: error" in response.data


def test_no_api_key_is_a_documented_503(make_app):
    client = make_app(OPENAI_API_KEY="").test_client()

    response = described(client).check(call(client, "askInThread"))
    assert response.status_code == 503 and error_code(response) == "model_not_configured"


class TestDatabaseDown:
    """A database that cannot be opened (a file where its folder should be): every call."""

    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SQLITE_PATH": unopenable_path(tmp_path)}

    @pytest.mark.parametrize("name", [*STORE_OPS, "health"])
    def test_every_call_is_a_documented_503(self, client, documented, name):
        response = documented(call(client, name))
        assert response.status_code == 503


class TestSignInRequired:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LOGIN_REQUIRED": True, "RATELIMIT_SIGNIN": "1000/minute"}

    @pytest.mark.parametrize("name", STORE_OPS)
    def test_no_credentials_is_a_documented_401(self, client, documented, name):
        response = documented(call(client, name))
        assert response.status_code == 401 and error_code(response) == "unauthorized"

    def test_a_revoked_token_is_a_documented_401(self, client, documented):
        response = documented(call(client, "listThreads",
                                   headers={"Authorization": "Bearer chat_revoked"}))
        assert response.status_code == 401

    @pytest.mark.parametrize("name", WRITE_OPS)
    def test_a_cookie_write_from_another_site_is_a_documented_403(self, client, documented,
                                                                  alice, name):
        sign_in(client)
        response = documented(call(client, name, headers={"Origin": "https://evil.example"}))
        assert response.status_code == 403 and error_code(response) == "cross_site"

    def test_a_token_gets_the_documented_answers(self, app, client, documented, alice):
        bearer = {"Authorization": f"Bearer {token_for(app, alice)}"}
        assert documented(call(client, "askInThread", headers=bearer)).status_code == 200
        assert documented(call(client, "threadMessages", headers=bearer)).status_code == 200


class TestUntrustedHost:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TRUSTED_HOSTS": ["chat.example.com"]}

    @pytest.mark.parametrize("name", ["listThreads", "askInThread", "health"])
    def test_another_host_is_a_documented_400(self, client, name):
        trusted = {"base_url": "http://chat.example.com"}
        document = client.get("/api/openapi.json", **trusted).get_json()
        response = Description(document).check(call(client, name))
        assert response.status_code == 400
