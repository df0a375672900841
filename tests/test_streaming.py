"""Streamed replies (POST /api/chat with "stream": true) over real HTTP, read event by event:
the events and what is stored, however the turn ends (done, upstream cut, client gone, upstream
error), every oddity of the upstream's wire format, input errors, concurrent turns and Retry."""
import json
import re
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest

from chatapp.markdown import render_markdown
from tests.conftest import TEST_API_KEY
from tests.fake_openai import Stream, chunk, echo_reply, sse, stream_of, tokens
from tests.live_server import LiveServer
from tests.sse_client import (TIMEOUT, deltas, http, http_session, names,  # noqa: F401 (http)
                              open_stream, post_chat, roles_and_contents, stream_turn,
                              thread_messages, wait_until)
from tests.test_views import CSRF
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DONE_FIELDS = {"threadId", "title", "reply", "timestamp", "html", "finishReason", "usage"}
LONG_TEXT = " ".join(f"word{n}" for n in range(200))  # 10 s at 0.05 s a piece: never done


@pytest.fixture(scope="module")
def server():
    """One waitress server for the module (stopping one takes a second), serving the app of
    whichever test is running."""
    current = {}

    def dispatch(environ, start_response):
        return current["app"](environ, start_response)

    with LiveServer(dispatch) as running:
        yield running.url, current


@pytest.fixture
def live(server, app):
    url, current = server
    current["app"] = app
    yield url
    current.clear()


def replies(messages):
    return [m for m in messages if m["role"] == "assistant"]


def assert_error_event(events, thread_id, code="upstream_error"):
    """The stream ended with one error event, and it is the only one."""
    assert names(events).count("error") == 1 and names(events)[-1] == "error", names(events)
    assert "done" not in names(events)
    name, data = events[-1]
    assert set(data) == {"error", "threadId"} and data["threadId"] == thread_id
    assert set(data["error"]) == {"code", "message"}
    assert data["error"]["code"] == code
    assert isinstance(data["error"]["message"], str) and len(data["error"]["message"]) > 10
    return data["error"]["message"]


def stored_reply(http, live, thread_id, finish_reason):
    """Wait for the thread's one reply to be stored with this finish reason; return it."""
    def reply():
        found = replies(thread_messages(http, live, thread_id))
        return found if found and found[-1]["finishReason"] == finish_reason else None
    found = wait_until(reply, message=f"a reply stored as {finish_reason}")
    assert len(found) == 1, found
    return found[0]


def retry_form(http, live, thread_id):
    """POST the page's Retry form with its CSRF token, as a browser does; follow the redirect."""
    page = http.get(f"{live}/thread/{thread_id}", timeout=TIMEOUT)
    token = CSRF.search(page.text).group(1)
    return http.post(f"{live}/thread/{thread_id}/retry", data={"csrf_token": token},
                     timeout=TIMEOUT)


# --- A whole streamed turn --------------------------------------------------------------------

def test_a_streamed_reply_comes_as_thread_then_tokens_then_done_and_is_stored(live, http,
                                                                              fake_openai):
    text = "Here is **bold** and `code`:\n\n- one\n- two"
    fake_openai.reply_with(text)
    stream, events = stream_turn(http, live, "Show me Markdown", "md-thread")

    headers = stream.response.headers
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Accel-Buffering"] == "no"
    # Each event is its name and one line of JSON, nothing else on the wire.
    assert re.fullmatch(rb"(event: (thread|token|done)\ndata: \{[^\n]*\}\n\n)+", stream.received)

    assert names(events) == ["thread"] + ["token"] * len(tokens(text)) + ["done"]
    assert events[0][1] == {"threadId": "md-thread", "title": "Show me Markdown"}
    assert deltas(events) == tokens(text)
    done = events[-1][1]
    assert set(done) == DONE_FIELDS
    assert (done["threadId"], done["title"]) == ("md-thread", "Show me Markdown")
    assert done["reply"] == text
    assert done["html"] == str(render_markdown(text))
    assert "<strong>bold</strong>" in done["html"] and "<li>two</li>" in done["html"]
    assert done["finishReason"] == "stop"
    assert done["usage"] == {"prompt_tokens": 7, "completion_tokens": len(tokens(text))}
    assert ISO_UTC.fullmatch(done["timestamp"])

    question, reply = thread_messages(http, live, "md-thread")
    assert (question["role"], question["content"]) == ("user", "Show me Markdown")
    assert reply == {"role": "assistant", "content": text, "timestamp": done["timestamp"],
                     "finishReason": "stop", "usage": done["usage"]}
    sent = fake_openai.requests[-1]["json"]
    assert sent["stream"] is True
    assert sent["messages"][-1] == {"role": "user", "content": "Show me Markdown"}


@pytest.mark.parametrize("extra", [{}, {"stream": False}], ids=["no stream", "stream false"])
def test_without_stream_the_answer_is_the_plain_json_of_before(live, http, fake_openai, extra):
    response = post_chat(http, live, {"message": "Hello there", "threadId": "plain", **extra})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["threadId", "title", "reply", "timestamp"]
    assert (body["threadId"], body["title"], body["reply"]) == ("plain", "Hello there",
                                                                 "Echo: Hello there")
    assert not fake_openai.requests[-1]["json"].get("stream")


# --- Ending early -----------------------------------------------------------------------------

def test_an_upstream_cut_midway_sends_one_error_and_keeps_the_partial_once_as_failed(
        live, http, fake_openai):
    pieces = [sse(chunk("Partial")), sse(chunk(" answer")), sse(chunk(" that"))]
    fake_openai.stream_with(Stream(pieces, delay=0.01, cut=True))
    _, events = stream_turn(http, live, "Tell me everything", "cut")

    assert names(events) == ["thread", "token", "token", "token", "error"]
    assert "".join(deltas(events)) == "Partial answer that"
    assert "broke off" in assert_error_event(events, "cut")
    messages = thread_messages(http, live, "cut")
    assert roles_and_contents(messages) == [("user", "Tell me everything"),
                                            ("assistant", "Partial answer that")]
    assert messages[1]["finishReason"] == "failed"
    assert "usage" not in messages[1]


def test_a_client_that_hangs_up_midway_leaves_an_interrupted_partial_and_the_app_hangs_up(
        live, http, fake_openai):
    fake_openai.stream_with(stream_of(LONG_TEXT, delay=0.05))
    read = open_stream(http, live, "Count slowly", "gone").hang_up_after(3)

    reply = stored_reply(http, live, "gone", "interrupted")
    assert reply["content"].startswith(read) and LONG_TEXT.startswith(reply["content"])
    assert len(reply["content"]) < len(LONG_TEXT)
    wait_until(lambda: fake_openai.hung_up >= 1, message="the app hung up on the upstream")
    # Stored once, and nothing more arrived after the hang-up.
    assert roles_and_contents(thread_messages(http, live, "gone")) == [
        ("user", "Count slowly"), ("assistant", reply["content"])]


# --- The upstream's wire format, as real servers send it -------------------------------------

UNICODE = "Grüße, 世界! ✓ fine"
USAGE = {"prompt_tokens": 7, "completion_tokens": len(tokens(UNICODE))}


def utf8_pieces(**kwargs):
    """stream_of(UNICODE)'s pieces with the text as raw UTF-8 (not \\u escapes), as OpenAI sends."""
    def unescaped(piece):
        data = piece.decode().removeprefix("data: ").rstrip("\n")
        return piece if data == "[DONE]" else sse(json.dumps(json.loads(data), ensure_ascii=False))
    return [unescaped(piece) for piece in stream_of(UNICODE, **kwargs).pieces]


def split_at(body, *cuts):
    """`body` in pieces, cut at each of these byte offsets."""
    bounds = [0, *cuts, len(body)]
    return [body[start:end] for start, end in zip(bounds, bounds[1:])]


def awkward_splits():
    body = b"".join(utf8_pieces())
    inside_json = body.index(b'"conte') + 4
    inside_char = body.index("世".encode()) + 1  # between the bytes of one character
    inside_another = body.index("✓".encode()) + 2
    return split_at(body, 3, inside_json, inside_char, inside_char + 1, inside_another)


def split_between_cr_and_lf():
    body = b"".join(utf8_pieces()).replace(b"\n", b"\r\n")
    return split_at(body, *[n + 1 for n, byte in enumerate(body) if byte == ord("\r")][:-1])


def with_comments_and_blank_lines():
    noisy = [b": keep-alive\n\n", b"\n\n\n"]
    for piece in utf8_pieces():
        noisy += [piece, b": OPENROUTER PROCESSING\n\n", b"\n",
                  b"event: ping\nid: 3\nretry: 10\n\n"]
    return noisy


def with_empty_choices_first():
    filters = {"id": "", "object": "", "choices": [], "prompt_filter_results": [
        {"prompt_index": 0, "content_filter_results": {}}]}
    return [sse(filters)] + utf8_pieces()


WIRE_CASES = {
    "data lines split inside the JSON and inside UTF-8 characters": (
        Stream(awkward_splits(), delay=0.01), "stop", USAGE),
    "lines split between CR and LF": (Stream(split_between_cr_and_lf(), delay=0.01), "stop", USAGE),
    "CRLF line endings": (Stream([p.replace(b"\n", b"\r\n") for p in utf8_pieces()]), "stop",
                          USAGE),
    "comments, other fields and extra blank lines": (Stream(with_comments_and_blank_lines()),
                                                     "stop", USAGE),
    "a first chunk with empty choices": (Stream(with_empty_choices_first()), "stop", USAGE),
    "no usage chunk": (Stream(utf8_pieces(usage=False)), "stop", None),
    "no [DONE] after the finish reason": (Stream(utf8_pieces(done=False)), "stop", USAGE),
    "data: without a space": (Stream([p.replace(b"data: ", b"data:") for p in utf8_pieces()]),
                              "stop", USAGE),
    "a body that is not chunked": (Stream(utf8_pieces(), delay=0.01, chunked=False), "stop", USAGE),
    "finish reason length": (Stream(utf8_pieces(finish_reason="length")), "length", USAGE),
    "finish reason content_filter": (Stream(utf8_pieces(finish_reason="content_filter")),
                                     "content_filter", USAGE),
}


@pytest.mark.parametrize("stream, finish_reason, usage", WIRE_CASES.values(), ids=WIRE_CASES)
def test_every_wire_format_oddity_gives_the_whole_reply(live, http, fake_openai, stream,
                                                        finish_reason, usage):
    fake_openai.stream_with(stream)
    _, events = stream_turn(http, live, "Say it in Unicode", "wire")

    assert names(events)[0] == "thread" and names(events)[-1] == "done", names(events)
    assert "".join(deltas(events)) == UNICODE
    done = events[-1][1]
    assert (done["reply"], done["finishReason"], done["usage"]) == (UNICODE, finish_reason, usage)
    _, reply = thread_messages(http, live, "wire")
    assert (reply["content"], reply["finishReason"]) == (UNICODE, finish_reason)
    assert reply.get("usage") == usage
    if usage is None:
        assert "usage" not in reply


def stream_error(message):
    return sse({"error": {"message": message, "type": "server_error", "code": None}})


NOTHING_TO_KEEP = {
    "an error object": ([sse(chunk("")), stream_error("The server had an error.")],
                        "The server had an error."),
    "an empty answer": (stream_of("").pieces, "empty answer"),
    "a data line that is not JSON": ([b"data: {not json\n\n"], "could not be read"),
}


@pytest.mark.parametrize("pieces, says", NOTHING_TO_KEEP.values(), ids=NOTHING_TO_KEEP)
def test_a_stream_failing_before_any_token_is_one_error_and_stores_no_reply(live, http,
                                                                           fake_openai, pieces,
                                                                           says):
    fake_openai.stream_with(Stream(pieces))
    _, events = stream_turn(http, live, "Anyone?", "early-error")

    assert names(events) == ["thread", "error"]
    assert says in assert_error_event(events, "early-error")
    assert roles_and_contents(thread_messages(http, live, "early-error")) == [("user", "Anyone?")]


CUT_AFTER_TOKENS = {
    "an error object": ([stream_error(f"Overloaded; key {TEST_API_KEY} was fine")],
                        "Overloaded"),
    "an end with neither finish reason nor [DONE]": ([], "broke off"),
}


@pytest.mark.parametrize("ending, says", CUT_AFTER_TOKENS.values(), ids=CUT_AFTER_TOKENS)
def test_a_stream_failing_after_tokens_keeps_the_partial_as_failed(live, http, fake_openai,
                                                                  ending, says):
    fake_openai.stream_with(Stream([sse(chunk("Half")), sse(chunk(" way")), *ending]))
    stream, events = stream_turn(http, live, "Go on", "late-error")

    assert names(events) == ["thread", "token", "token", "error"]
    assert says in assert_error_event(events, "late-error")
    assert TEST_API_KEY.encode() not in stream.received
    messages = thread_messages(http, live, "late-error")
    assert roles_and_contents(messages) == [("user", "Go on"), ("assistant", "Half way")]
    assert messages[1]["finishReason"] == "failed"


# --- Failing before the first token -----------------------------------------------------------

@pytest.mark.parametrize("status, says", [(500, "HTTP 500"), (401, "API key"), (429, "HTTP 429")])
def test_an_upstream_error_before_any_token_is_one_error_event_and_retry_then_works(
        live, http, fake_openai, status, says):
    fake_openai.fail_with(status)
    _, events = stream_turn(http, live, "Are you up?", "refused")

    assert names(events) == ["thread", "error"]
    assert events[0][1] == {"threadId": "refused", "title": "Are you up?"}
    assert says in assert_error_event(events, "refused")
    assert roles_and_contents(thread_messages(http, live, "refused")) == [("user", "Are you up?")]

    fake_openai.reset()
    assert retry_form(http, live, "refused").status_code == 200
    assert roles_and_contents(thread_messages(http, live, "refused")) == [
        ("user", "Are you up?"), ("assistant", "Echo: Are you up?")]
    _, events = stream_turn(http, live, "And now?", "refused")
    assert events[-1][1]["reply"] == "Echo: And now?"


class TestSlowUpstream:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_TIMEOUT": 0.3}

    def test_an_upstream_silent_past_the_timeout_is_one_timeout_error(self, live, http,
                                                                     fake_openai):
        fake_openai.stream_with(Stream([sse(chunk("late"))], delay=1.0))
        _, events = stream_turn(http, live, "Hello?", "silent")

        assert names(events) == ["thread", "error"]
        assert "0.3 seconds" in assert_error_event(events, "silent", "upstream_timeout")
        assert roles_and_contents(thread_messages(http, live, "silent")) == [("user", "Hello?")]


class TestNoApiKey:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_API_KEY": ""}

    def test_a_model_not_configured_is_an_error_event_and_the_question_is_kept(self, live, http,
                                                                               fake_openai):
        _, events = stream_turn(http, live, "Is there a key?", "no-key")

        assert names(events) == ["thread", "error"]
        assert "OPENAI_API_KEY" in assert_error_event(events, "no-key", "model_not_configured")
        assert roles_and_contents(thread_messages(http, live, "no-key")) == [
            ("user", "Is there a key?")]
        assert fake_openai.requests == []


# --- Input errors come before any stream ------------------------------------------------------

def assert_plain_json_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


BAD_STREAM_BODIES = {
    "empty message": {"message": "  ", "stream": True},
    "no message": {"stream": True},
    "bad threadId": {"message": "hi", "threadId": "no spaces allowed", "stream": True},
    "stream as a string": {"message": "hi", "stream": "yes"},
    "stream as a number": {"message": "hi", "stream": 1},
    "stream null": {"message": "hi", "stream": None},
}


@pytest.mark.parametrize("body", BAD_STREAM_BODIES.values(), ids=BAD_STREAM_BODIES)
def test_bad_input_is_a_json_400_before_any_stream(live, http, fake_openai, body):
    assert_plain_json_error(post_chat(http, live, body), 400, "bad_request")
    assert fake_openai.requests == []
    assert http.get(f"{live}/api/thread", timeout=TIMEOUT).json() == []


def test_a_body_not_sent_as_json_is_a_json_415_before_any_stream(live, http, fake_openai):
    response = http.post(f"{live}/api/chat", data='{"message": "hi", "stream": true}',
                         headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)
    assert_plain_json_error(response, 415, "unsupported_media_type")
    assert fake_openai.requests == []
    assert http.get(f"{live}/api/thread", timeout=TIMEOUT).json() == []


class TestBodyLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 2048}

    def test_a_body_over_the_limit_is_a_json_413_before_any_stream(self, live, http,
                                                                    fake_openai):
        response = post_chat(http, live, {"message": "b" * 5000, "stream": True})
        assert_plain_json_error(response, 413, "payload_too_large")
        assert fake_openai.requests == []
        assert http.get(f"{live}/api/thread", timeout=TIMEOUT).json() == []


# --- Turns at once ----------------------------------------------------------------------------

def test_concurrent_turns_on_one_thread_each_answer_their_own_question(live, fake_openai):
    questions = [f"Question number {n}" for n in range(12)]
    all_asked = threading.Barrier(len(questions), timeout=10)

    def echo_once_all_are_asked(request):  # so every turn is under way at once
        all_asked.wait()
        return 200, stream_of("Echo: " + request["messages"][-1]["content"], delay=0.02)

    fake_openai.respond(echo_once_all_are_asked)

    def ask(question):
        with http_session() as session:
            return stream_turn(session, live, question, "busy")[1]

    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(ask, questions))

    for question, events in zip(questions, answers):
        assert names(events)[-1] == "done", events
        assert events[-1][1]["reply"] == f"Echo: {question}"
    with http_session() as session:
        messages = thread_messages(session, live, "busy")
    assert len(messages) == 2 * len(questions)
    pairs = list(zip(messages[0::2], messages[1::2]))
    for question, reply in pairs:  # each reply right after its own question
        assert (question["role"], reply["role"]) == ("user", "assistant")
        assert reply["content"] == f"Echo: {question['content']}"
        assert reply["finishReason"] == "stop"
    assert sorted(q["content"] for q, _ in pairs) == sorted(questions)
    # Each turn's prompt ended at its own question, whatever was asked meanwhile.
    sent = [request["json"]["messages"] for request in fake_openai.requests]
    assert sorted(prompt[-1]["content"] for prompt in sent) == sorted(questions)
    assert all(prompt[-1]["role"] == "user" for prompt in sent)
    assert all(m["role"] == "user" for prompt in sent for m in prompt)  # no reply was in yet


# --- Retry ------------------------------------------------------------------------------------

def test_retry_pressed_twice_at_once_makes_one_call_and_stores_one_reply(live, fake_openai):
    fake_openai.fail_with(500)
    with http_session() as session:
        assert names(stream_turn(session, live, "Still there?", "twice")[1])[-1] == "error"
    gate = threading.Event()

    def held_echo(request):  # answers once the test lets it
        gate.wait(10)
        return echo_reply(request)

    fake_openai.requests.clear()
    fake_openai.respond(held_echo)
    sessions = [http_session(), http_session()]
    try:
        with ThreadPoolExecutor(2) as pool:
            presses = [pool.submit(retry_form, session, live, "twice") for session in sessions]
            # Both are pressed while the upstream holds the first; one must come back at once.
            first, _ = wait(presses, timeout=5, return_when=FIRST_COMPLETED)
            gate.set()
            assert first, "neither Retry came back while the upstream was answering"
            refused = first.pop().result()
            assert "being answered right now" in refused.text
            assert all(press.result().status_code == 200 for press in presses)
        assert len(fake_openai.requests) == 1
        messages = thread_messages(sessions[0], live, "twice")
    finally:
        gate.set()
        for session in sessions:
            session.close()
    assert roles_and_contents(messages) == [("user", "Still there?"),
                                            ("assistant", "Echo: Still there?")]


def test_retry_after_an_interrupted_reply_replaces_it_with_a_whole_one(live, http, fake_openai):
    fake_openai.stream_with(stream_of(LONG_TEXT, delay=0.05))
    open_stream(http, live, "Count for me", "again").hang_up_after(3)
    stored_reply(http, live, "again", "interrupted")
    wait_until(lambda: fake_openai.hung_up >= 1, message="the app hung up on the upstream")

    fake_openai.reset()
    assert retry_form(http, live, "again").status_code == 200
    messages = thread_messages(http, live, "again")
    assert roles_and_contents(messages) == [("user", "Count for me"),
                                            ("assistant", "Echo: Count for me")]
    assert messages[1]["finishReason"] == "stop"


def held_after(pieces, count, gate):
    """`pieces` as a Stream's body that stops after the first `count` until `gate` is set."""
    yield from pieces[:count]
    gate.wait(10)
    yield from pieces[count:]


def test_retry_while_the_reply_is_still_streaming_is_refused(live, http, fake_openai):
    gate = threading.Event()
    fake_openai.stream_with(Stream(held_after(stream_of("All of it").pieces, 2, gate)))
    stream = open_stream(http, live, "Take your time", "busy-retry")
    try:
        with stream.response:
            events = iter(stream)
            assert [next(events)[0], next(events)[0]] == ["thread", "token"]
            with http_session() as other_tab:
                assert "being answered right now" in retry_form(other_tab, live, "busy-retry").text
            gate.set()
            assert names(events)[-1] == "done"
    finally:
        gate.set()
    assert len(fake_openai.requests) == 1
    assert roles_and_contents(thread_messages(http, live, "busy-retry")) == [
        ("user", "Take your time"), ("assistant", "All of it")]


# --- A conversation deleted while its reply streams -------------------------------------------

def delete_and_reuse_midway(http, live, gate):
    """Start a streamed turn in "reused", delete the conversation while the reply is being
    written, ask in a new one with the same id, then let the old reply end (`gate`). Returns
    the old stream's last events. (A function of its own, so that a failing test keeps none of
    these connections open.)"""
    stream = open_stream(http, live, "Old question", "reused")
    with stream.response:
        events = iter(stream)
        assert [next(events)[0], next(events)[0]] == ["thread", "token"]
        assert http.delete(f"{live}/api/thread/reused", timeout=TIMEOUT).status_code == 200
        fresh = post_chat(http, live, {"message": "New question", "threadId": "reused"})
        assert fresh.json()["reply"] == "Echo: New question"
        gate.set()
        return list(events)


def test_a_reply_to_a_deleted_conversation_never_lands_in_a_new_one_with_its_id(live, http,
                                                                                fake_openai):
    gate = threading.Event()
    stale = Stream(held_after(stream_of("Answer to the old question").pieces, 2, gate))
    fake_openai.respond(lambda request: (200, stale) if request.get("stream")
                        else echo_reply(request))
    try:
        rest = delete_and_reuse_midway(http, live, gate)
    finally:
        gate.set()
    # The new conversation keeps its own reply; the old one had nowhere to go.
    assert roles_and_contents(thread_messages(http, live, "reused")) == [
        ("user", "New question"), ("assistant", "Echo: New question")]
    assert names(rest)[-1] == "error", rest
