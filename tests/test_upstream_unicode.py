"""Text from the upstream that is not valid Unicode: its JSON may hold a lone surrogate (an escape
such as \\ud800 without its pair), which no database stores and no page encodes. The model
client reads it as U+FFFD, so a turn answers, stores its reply and ends its claim as usual, whole
or streamed, through the API or the page's form. Over real HTTP against tests/fake_openai.py."""
import json

import pytest

from chatapp.model_client import ModelClient
from tests.conftest import TEST_API_KEY
from tests.fake_openai import Stream, chunk, completion, sse
from tests.test_views import csrf_token

# As the upstream's JSON writes it: json.dumps escapes a lone surrogate as \ud800, and a pair
# (here the waving hand) as its two escapes, which a JSON reader joins into one character.
SENT = "Half a pair: \ud800, a stray low half: \udfff, a whole pair: \ud83d\udc4b."
READ = "Half a pair: \ufffd, a stray low half: \ufffd, a whole pair: 👋."


def stream_sending(*texts, finish_reason="stop"):
    """A stream whose pieces carry `texts` as they are, escapes and all."""
    pieces = [sse(chunk(text)) for text in texts] + [sse(chunk(finish_reason=finish_reason))]
    return Stream(pieces + [b"data: [DONE]\n\n"])


@pytest.fixture
def upstream_sends_lone_surrogates(fake_openai):
    """Every answer, whole or streamed, holds SENT (the stream splits it between pieces)."""
    def answer(request_json):
        if request_json.get("stream"):
            return 200, stream_sending(SENT[:14], SENT[14:])
        return 200, completion(SENT)
    fake_openai.respond(answer)
    return fake_openai


def form_post(client, path, **fields):
    """POST a page's form with its CSRF token, as a browser does; the page it leads to."""
    return client.post(path, data={"csrf_token": csrf_token(client), **fields},
                       follow_redirects=True)


# --- the model client ----------------------------------------------------------------------------

@pytest.fixture
def model_client(fake_openai):
    return ModelClient(TEST_API_KEY, fake_openai.url, "test-model", 5.0)


def test_the_model_client_reads_lone_surrogates_as_replacement_characters(model_client,
                                                                          fake_openai):
    body = completion(SENT)
    body["choices"][0]["finish_reason"] = "stop\udc80"
    fake_openai.respond(lambda _request: (200, body))
    whole = model_client.complete([{"role": "user", "content": "Hi"}])
    assert (whole.text, whole.finish_reason) == (READ, "stop\ufffd")

    fake_openai.stream_with(stream_sending(SENT[:14], SENT[14:], finish_reason="length\ud800"))
    stream = model_client.stream([{"role": "user", "content": "Hi"}])
    assert "".join(stream) == READ
    assert stream.finish_reason == "length\ufffd"


# --- a turn through the API ---------------------------------------------------------------

def test_a_whole_reply_with_lone_surrogates_is_answered_stored_and_its_turn_ended(
        client, upstream_sends_lone_surrogates):
    response = client.post("/api/chat", json={"message": "Say something odd", "threadId": "odd"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["reply"] == READ

    messages = client.get("/api/thread/odd").get_json()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Say something odd"), ("assistant", READ)]
    page = client.get("/thread/odd")
    assert page.status_code == 200 and READ in page.get_data(as_text=True)
    # Its question was not left claimed: Regenerate may claim it again.
    assert client.post("/api/thread/odd/regenerate", json={}).status_code == 200


def test_a_streamed_reply_with_lone_surrogates_is_done_and_stored(client,
                                                                  upstream_sends_lone_surrogates):
    response = client.post("/api/chat", json={"message": "Stream it", "threadId": "odd",
                                              "stream": True})
    events = [json.loads(line[6:]) for line in response.get_data(as_text=True).splitlines()
              if line.startswith("data: ")]
    assert "".join(event.get("delta", "") for event in events) == READ
    assert events[-1]["reply"] == READ and READ in events[-1]["html"]
    assert client.get("/api/thread/odd").get_json()[-1]["content"] == READ
    assert client.post("/api/thread/odd/regenerate", json={}).status_code == 200


def test_the_form_without_javascript_shows_a_reply_with_lone_surrogates(
        client, upstream_sends_lone_surrogates):
    page = form_post(client, "/", message="Through the form")
    assert page.status_code == 200
    assert READ in page.get_data(as_text=True)


# --- an upstream error's words --------------------------------------------------------------------

def test_an_upstream_error_with_lone_surrogates_is_shown_not_a_crash(client, fake_openai):
    fake_openai.fail_with(400, {"error": {"message": "Bad \ud800 request"}})

    response = client.post("/api/chat", json={"message": "Hi", "threadId": "refused"})
    assert response.status_code == 502
    assert "Bad \ufffd request" in response.get_json()["error"]["message"]

    streamed = client.post("/api/chat", json={"message": "Hi", "stream": True})
    assert streamed.status_code == 200 and "Bad \\ufffd request" in streamed.get_data(as_text=True)

    page = form_post(client, "/thread/refused", message="Again")
    assert page.status_code == 200
    assert "Bad \ufffd request" in page.get_data(as_text=True)
