"""ModelClient over real HTTP against the fake OpenAI server (nothing in `requests` is patched)."""
import logging
import socket

import pytest

from chatapp.errors import ModelError
from chatapp.model_client import ModelClient
from tests.fake_openai import completion

API_KEY = "sk-model-client-secret-0123456789abcdef"
HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


@pytest.fixture
def make_client(fake_openai):
    def make(api_key=API_KEY, base_url=None, timeout=5.0):
        return ModelClient(api_key, base_url or fake_openai.url, "test-model", timeout)
    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def closed_port():
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def header(request, name):
    return {key.lower(): value for key, value in request["headers"].items()}[name.lower()]


def failure(client, messages=HELLO):
    with pytest.raises(ModelError) as caught:
        client.complete(messages)
    return caught.value


def assert_readable_and_keyless(error, client, logs):
    """The message is a sentence a person can act on, and the key shows up nowhere."""
    message = error.message
    assert message == str(error)
    assert message[0].isupper() and len(message.split()) >= 5, message
    for junk in ("Traceback", "HTTPConnectionPool", "Max retries", "object at 0x", "Bearer"):
        assert junk not in message
    for text in (str(error), error.message, repr(error), repr(client)):
        assert API_KEY not in text
    for record in logs.records:
        assert API_KEY not in record.getMessage()
    assert API_KEY not in logs.text


# --- success -----------------------------------------------------------------------------------

def test_complete_returns_the_reply_text(client, fake_openai):
    fake_openai.reply_with("Hi there! 👋")

    assert client.complete(HELLO).text == "Hi there! 👋"


def test_request_carries_bearer_key_model_and_messages_exactly(client, fake_openai):
    client.complete(HELLO)

    [request] = fake_openai.requests
    assert request["path"] == "/v1/chat/completions"
    assert header(request, "Authorization") == f"Bearer {API_KEY}"
    assert request["json"] == {"model": "test-model", "messages": HELLO}


def test_base_url_with_trailing_slash_still_reaches_the_endpoint(make_client, fake_openai):
    client = make_client(base_url=fake_openai.url + "/")

    assert client.complete(HELLO).text == "Echo: Hello"
    assert fake_openai.requests[0]["path"] == "/v1/chat/completions"


def test_proxy_from_the_environment_is_used(make_client, fake_openai, monkeypatch):
    # The fake server stands in for the proxy; the model's host itself does not resolve.
    monkeypatch.setenv("HTTP_PROXY", fake_openai.url.removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_client(base_url="http://model.invalid/v1")

    assert client.complete(HELLO).text == "Echo: Hello"
    assert fake_openai.requests[0]["path"] == "http://model.invalid/v1/chat/completions"


def test_successful_call_logs_nothing_secret(client, debug_logs):
    client.complete(HELLO)

    assert any(r.name.startswith("urllib3") for r in debug_logs.records)  # HTTP was logged...
    assert API_KEY not in debug_logs.text  # ...without the key
    assert API_KEY not in repr(client)


# --- failures ----------------------------------------------------------------------------------

def test_no_api_key_is_not_configured_and_sends_nothing(make_client, fake_openai, debug_logs):
    client = make_client(api_key="")

    error = failure(client)

    assert (error.kind, error.status) == ("not_configured", 503)
    assert "OPENAI_API_KEY" in error.message
    assert fake_openai.requests == []
    assert not client.configured
    assert_readable_and_keyless(error, client, debug_logs)


@pytest.mark.parametrize("status, kind", [
    (401, "auth"),
    (403, "auth"),
    (429, "rate_limited"),
    (500, "upstream"),
    (503, "upstream"),
])
def test_http_errors_map_to_kinds(client, fake_openai, debug_logs, status, kind):
    # Real services echo (part of) a rejected key back; it must not reach the user.
    fake_openai.fail_with(status, {"error": {"message": f"Incorrect API key provided: {API_KEY}"}})

    error = failure(client)

    assert error.kind == kind
    assert f"HTTP {status}" in error.message
    assert_readable_and_keyless(error, client, debug_logs)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_answer_bad_gateway(client, fake_openai, status):
    fake_openai.fail_with(status)

    assert failure(client).status == 502


def test_bad_request_includes_the_upstream_message(client, fake_openai, debug_logs):
    fake_openai.fail_with(400, {"error": {"message": "This model's maximum context length is 8192 tokens.",
                                          "type": "invalid_request_error"}})

    error = failure(client)

    assert error.kind == "upstream"
    assert "HTTP 400" in error.message
    assert "maximum context length is 8192 tokens" in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_bad_request_without_an_error_body_is_still_a_sentence(client, fake_openai, debug_logs):
    fake_openai.fail_with(400, b"<html>Bad Request</html>")

    error = failure(client)

    assert error.kind == "upstream" and "<html>" not in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_upstream_message_echoing_the_key_is_scrubbed(client, fake_openai, debug_logs):
    fake_openai.fail_with(400, {"error": {"message": f"Key {API_KEY} may not use model test-model."}})

    error = failure(client)

    assert "Key *** may not use model test-model." in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_slow_upstream_times_out(make_client, fake_openai, debug_logs):
    client = make_client(timeout=0.3)
    fake_openai.delay(1.0)

    error = failure(client)

    assert (error.kind, error.status) == ("timeout", 504)
    assert "0.3 seconds" in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_refused_connection_is_unreachable(make_client, debug_logs):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}/v1")

    error = failure(client)

    assert (error.kind, error.status) == ("unreachable", 502)
    assert_readable_and_keyless(error, client, debug_logs)


@pytest.mark.parametrize("body", [
    b"this is not JSON",
    {"id": "chatcmpl-1", "object": "chat.completion"},  # no choices
    {"choices": []},
    completion(None),  # content null
    completion(""),
], ids=["not-json", "no-choices", "empty-choices", "null-content", "empty-content"])
def test_unreadable_success_body_is_bad_response(client, fake_openai, debug_logs, body):
    fake_openai.respond(lambda _request: (200, body))

    error = failure(client)

    assert (error.kind, error.status) == ("bad_response", 502)
    assert_readable_and_keyless(error, client, debug_logs)


def test_client_works_again_after_a_failure(client, fake_openai):
    fake_openai.fail_with(500)
    failure(client)
    fake_openai.reset()

    assert client.complete(HELLO).text == "Echo: Hello"


def test_client_works_again_after_a_timeout(make_client, fake_openai):
    client = make_client(timeout=0.3)
    fake_openai.delay(1.0)
    assert failure(client).kind == "timeout"
    fake_openai.reset()

    assert client.complete(HELLO).text == "Echo: Hello"
