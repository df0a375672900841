"""Upstream retries as the official OpenAI client makes them, whole and streamed: over real HTTP
against the fake server, scripted answer by answer, with the waits recorded instead of slept."""
import logging
from email.utils import formatdate

import pytest

from chatapp.config import Config
from chatapp.errors import ModelError
from chatapp.model_client import ModelClient
from chatapp.retry_policy import RetryPolicy
from tests.fake_openai import HANG_UP, Stream, chunk, failure, slow, sse
from tests.helpers import closed_port
from tests.sse_client import sse_events
from tests.test_views import csrf_token

API_KEY = "sk-retries-secret-0123456789abcdef"
HELLO = [{"role": "user", "content": "Hello"}]
NOW = 1_800_000_000  # the policy's clock, for retry-after dates
OUT_OF_CREDIT = {"error": {"message": "You exceeded your current quota, please check your plan "
                                      "and billing details.",
                           "type": "insufficient_quota", "code": "insufficient_quota"}}
CUT_MIDWAY = Stream([sse(chunk("Half")), sse(chunk(" way"))], cut=True)


@pytest.fixture
def waits():
    return []


@pytest.fixture
def make_client(fake_openai, waits):
    def make(max_retries=2, jitter=0.0, timeout=5.0, base_url=None):
        policy = RetryPolicy(max_retries, sleep=waits.append, random=lambda: jitter,
                             clock=lambda: NOW)
        return ModelClient(API_KEY, base_url or fake_openai.url, "test-model", timeout,
                           retries=policy)
    return make


@pytest.fixture
def model(make_client):
    """A model client with 2 retries, its waits recorded, no jitter."""
    return make_client()


def failure_of(call):
    with pytest.raises(ModelError) as caught:
        call()
    return caught.value


# --- whole replies -----------------------------------------------------------------------------

def test_failures_that_pass_are_asked_again_and_the_reply_comes(model, fake_openai, waits,
                                                                caplog):
    caplog.set_level(logging.DEBUG)
    fake_openai.answer_in_turn(failure(503), failure(429, headers={"retry-after-ms": "250"}))

    assert model.complete(HELLO).text == "Echo: Hello"
    assert len(fake_openai.requests) == 3
    assert [r["json"] for r in fake_openai.requests] == [fake_openai.requests[0]["json"]] * 3
    assert waits == [0.5, 0.25]
    assert "retry 2 of 2" in caplog.text and API_KEY not in caplog.text


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_each_status_that_may_pass_is_retried(model, fake_openai, waits, status):
    fake_openai.answer_in_turn(failure(status))

    assert model.complete(HELLO).text == "Echo: Hello"
    assert len(fake_openai.requests) == 2 and waits == [0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_request_that_would_fail_again_is_sent_once(model, fake_openai, waits, status):
    fake_openai.fail_with(status)

    assert f"HTTP {status}" in failure_of(lambda: model.complete(HELLO)).message
    assert len(fake_openai.requests) == 1 and waits == []


def test_out_of_credit_is_sent_once_and_says_the_account_needs_credit(model, fake_openai, waits):
    fake_openai.fail_with(429, OUT_OF_CREDIT)

    error = failure_of(lambda: model.complete(HELLO))

    assert (error.kind, error.status, error.code) == ("out_of_credit", 503, "model_out_of_credit")
    assert error.message.startswith("The OpenAI account has run out of credit")
    assert len(fake_openai.requests) == 1 and waits == []


@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
def test_after_its_retries_the_last_failure_is_the_error(make_client, fake_openai, waits,
                                                         max_retries):
    fake_openai.fail_with(503)

    error = failure_of(lambda: make_client(max_retries).complete(HELLO))

    assert error.kind == "upstream" and "HTTP 503" in error.message
    assert len(fake_openai.requests) == max_retries + 1 and len(waits) == max_retries


@pytest.mark.parametrize("jitter, expected", [
    (0.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]),  # doubling from half a second, at most 8 s
    (1.0, [0.375, 0.75, 1.5, 3.0, 6.0, 6.0]),  # less at most a quarter, at random
])
def test_waits_double_to_at_most_8_seconds_with_jitter(make_client, fake_openai, waits, jitter,
                                                       expected):
    fake_openai.fail_with(500)

    failure_of(lambda: make_client(max_retries=6, jitter=jitter).complete(HELLO))

    assert waits == expected


@pytest.mark.parametrize("headers, wait", [
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": formatdate(NOW + 30, usegmt=True)}, 30.0),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the finer one first
    ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
    ({"retry-after": "60"}, 60.0),
    # Over 60 s, none, in the past or unreadable: the computed wait.
    ({"retry-after": "61"}, 0.5),
    ({"retry-after-ms": "90000"}, 0.5),
    ({"retry-after": formatdate(NOW + 3600, usegmt=True)}, 0.5),
    ({"retry-after": formatdate(NOW - 10, usegmt=True)}, 0.5),
    ({"retry-after": "0"}, 0.5),
    ({"retry-after": "after lunch"}, 0.5),
])
def test_the_wait_the_service_asks_for_is_honoured_up_to_60_seconds(model, fake_openai, waits,
                                                                    headers, wait):
    fake_openai.answer_in_turn(failure(429, headers=headers))

    assert model.complete(HELLO).text == "Echo: Hello"
    assert waits == [wait]


def test_a_connection_dropped_before_the_answer_is_retried(model, fake_openai, waits):
    fake_openai.answer_in_turn(HANG_UP)

    assert model.complete(HELLO).text == "Echo: Hello"
    assert len(fake_openai.requests) == 2 and waits == [0.5]


def test_a_whole_answer_cut_off_midway_is_retried(model, fake_openai, waits):
    fake_openai.answer_in_turn((200, Stream([b'{"choices": [{"mess'], cut=True)))

    assert model.complete(HELLO).text == "Echo: Hello"
    assert len(fake_openai.requests) == 2 and waits == [0.5]


def test_a_refused_connection_is_tried_three_times_then_said(make_client, waits):
    model = make_client(base_url=f"http://127.0.0.1:{closed_port()}/v1")

    assert failure_of(lambda: model.complete(HELLO)).kind == "unreachable"
    assert waits == [0.5, 1.0]


def test_a_timeout_is_retried(make_client, fake_openai, waits):
    fake_openai.answer_in_turn(slow(0.6))

    assert make_client(timeout=0.2).complete(HELLO).text == "Echo: Hello"
    assert len(fake_openai.requests) == 2 and waits == [0.5]


def test_a_timeout_every_time_ends_as_the_timeout_error(make_client, fake_openai, waits):
    fake_openai.delay(0.5)

    error = failure_of(lambda: make_client(max_retries=1, timeout=0.2).complete(HELLO))

    assert (error.kind, error.status) == ("timeout", 504)
    assert len(fake_openai.requests) == 2 and waits == [0.5]


# --- streamed replies --------------------------------------------------------------------------

def test_a_stream_refused_at_its_start_is_asked_again_and_flows_whole(make_client, fake_openai,
                                                                      waits):
    fake_openai.answer_in_turn(failure(503), HANG_UP, failure(429, headers={"retry-after": "4"}))

    assert "".join(make_client(max_retries=3).stream(HELLO)) == "Echo: Hello"
    assert [r["json"]["stream"] for r in fake_openai.requests] == [True] * 4
    assert waits == [0.5, 1.0, 4.0]


def test_a_stream_refused_every_time_fails_at_its_start(model, fake_openai, waits):
    fake_openai.fail_with(502)

    assert "HTTP 502" in failure_of(lambda: model.stream(HELLO)).message
    assert len(fake_openai.requests) == 3 and waits == [0.5, 1.0]


def test_a_stream_out_of_credit_is_sent_once(model, fake_openai, waits):
    fake_openai.fail_with(429, OUT_OF_CREDIT)

    assert failure_of(lambda: model.stream(HELLO)).kind == "out_of_credit"
    assert len(fake_openai.requests) == 1 and waits == []


def test_a_stream_broken_off_after_its_first_text_is_never_retried(model, fake_openai, waits):
    fake_openai.stream_with(CUT_MIDWAY)
    received = []

    def read_all():
        for delta in model.stream(HELLO):
            received.append(delta)

    assert failure_of(read_all).kind == "broken"
    assert received == ["Half", " way"]
    assert len(fake_openai.requests) == 1 and waits == []


# --- through the app ---------------------------------------------------------------------------

class TestThroughTheApp:
    @pytest.fixture
    def app_config(self, app_config, monkeypatch):
        monkeypatch.delenv("OPENAI_MAX_RETRIES", raising=False)
        return {key: value for key, value in app_config.items() if key != "OPENAI_MAX_RETRIES"}

    @pytest.fixture
    def app(self, app, waits):
        """The app as configured by default, its waits recorded."""
        retries = app.extensions["chat_service"].model.retries
        retries.sleep, retries.random = waits.append, lambda: 0.0
        return app

    def test_the_setting_defaults_to_2_and_is_read_from_the_environment(self, monkeypatch):
        assert Config().OPENAI_MAX_RETRIES == 2
        monkeypatch.setenv("OPENAI_MAX_RETRIES", "5")
        assert Config().OPENAI_MAX_RETRIES == 5

    def test_a_turn_outlasts_two_passing_failures(self, client, fake_openai, waits):
        fake_openai.answer_in_turn(failure(503), HANG_UP)

        response = client.post("/api/chat", json={"threadId": "t1", "message": "Still there?"})

        assert response.status_code == 200 and response.get_json()["reply"] == "Echo: Still there?"
        assert len(fake_openai.requests) == 3 and len(waits) == 2
        assert [m["role"] for m in client.get("/api/thread/t1").get_json()] == ["user", "assistant"]

    def test_a_third_failure_is_the_answer(self, client, fake_openai):
        fake_openai.fail_with(500)

        response = client.post("/api/chat", json={"threadId": "t1", "message": "Up?"})

        assert response.status_code == 502 and len(fake_openai.requests) == 3

    def test_out_of_credit_is_said_plainly_by_the_api_and_the_page(self, client, fake_openai):
        fake_openai.fail_with(429, OUT_OF_CREDIT)

        api = client.post("/api/chat", json={"threadId": "t1", "message": "Hi"})
        assert api.status_code == 503
        assert api.get_json()["error"]["code"] == "model_out_of_credit"
        assert api.get_json()["error"]["threadId"] == "t1"

        token = csrf_token(client)
        form = client.post("/thread/t2", data={"csrf_token": token, "message": "Hi"},
                           follow_redirects=True)
        assert "The OpenAI account has run out of credit" in form.get_data(as_text=True)
        assert len(fake_openai.requests) == 2  # one each, never asked again

    def test_a_streamed_turn_refused_at_its_start_is_answered(self, client, fake_openai, waits):
        fake_openai.answer_in_turn(failure(500))

        events = sse_events(client.post("/api/chat", json={"message": "Hi", "stream": True}))

        assert events[-1][0] == "done" and events[-1][1]["reply"] == "Echo: Hi"
        assert len(fake_openai.requests) == 2 and waits == [0.5]

    def test_a_streamed_turn_broken_off_midway_is_never_asked_again(self, client, fake_openai,
                                                                    waits):
        fake_openai.stream_with(CUT_MIDWAY)

        events = sse_events(client.post("/api/chat", json={"threadId": "t1", "message": "Go",
                                                          "stream": True}))

        assert [name for name, _ in events] == ["thread", "token", "token", "error"]
        assert len(fake_openai.requests) == 1 and waits == []
        reply = client.get("/api/thread/t1").get_json()[-1]
        assert (reply["content"], reply["finishReason"]) == ("Half way", "failed")
