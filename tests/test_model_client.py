"""ModelClient over real HTTP against the fake OpenAI server (nothing in `requests` is patched)."""
import json
import logging
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chatapp.errors import ModelError
from chatapp.model_client import ModelClient
from chatapp.sse import SSEDecoder
from tests.fake_openai import Stream, chunk, completion, sse, stream_of, tokens
from tests.helpers import closed_port

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


HTTP_ERROR_KINDS = [(401, "auth"), (403, "auth"), (429, "rate_limited"), (500, "upstream"),
                    (503, "upstream")]


@pytest.mark.parametrize("status, kind", HTTP_ERROR_KINDS)
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


@pytest.mark.parametrize("base_url", ["api.example.com/v1", "http://exa mple.com/v1", "http://"])
def test_a_malformed_address_is_said_at_each_call_not_a_crash_at_start(make_client, base_url):
    client = make_client(base_url=base_url)

    error = failure(client)

    assert (error.kind, error.status) == ("unreachable", 502)
    assert base_url.rstrip("/") in error.message


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


def test_complete_returns_the_finish_reason_and_usage(client, fake_openai):
    body = completion("Cut at the limit")
    body["choices"][0]["finish_reason"] = "length"
    body["usage"] = {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}
    fake_openai.respond(lambda _request: (200, body))

    reply = client.complete(HELLO)

    assert (reply.text, reply.finish_reason) == ("Cut at the limit", "length")
    assert reply.usage == {"prompt_tokens": 12, "completion_tokens": 34}


@pytest.mark.parametrize("prompt_tokens, completion_tokens, expected", [
    (True, 34, {"prompt_tokens": None, "completion_tokens": 34}),
    (-5, 34, {"prompt_tokens": None, "completion_tokens": 34}),
    ("12", False, None),
])
def test_usage_keeps_only_counts_that_are_whole_numbers(client, fake_openai, prompt_tokens,
                                                       completion_tokens, expected):
    """A count the service got wrong is dropped, not stored: a stored one must export and
    import back (an import refuses negative or non-number counts)."""
    body = completion("Hi")
    body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    fake_openai.respond(lambda _request: (200, body))

    assert client.complete(HELLO).usage == expected


def test_complete_without_usage_or_finish_reason_says_stop_and_none(client, fake_openai):
    body = completion("Hi")
    del body["usage"]
    body["choices"][0]["finish_reason"] = None
    fake_openai.respond(lambda _request: (200, body))

    reply = client.complete(HELLO)

    assert (reply.text, reply.finish_reason, reply.usage) == ("Hi", "stop", None)


# --- stream ------------------------------------------------------------------------------------

def streamed(client, messages=HELLO):
    """Every piece of a streamed reply, and the stream (for finish_reason and usage)."""
    stream = client.stream(messages)
    return list(stream), stream


def stream_failure(client, messages=HELLO):
    """The ModelError a stream raises, and the pieces it gave before it."""
    pieces = []
    with pytest.raises(ModelError) as caught:
        for piece in client.stream(messages):
            pieces.append(piece)
    return caught.value, pieces


def raw(*pieces, delay=0.02, **options):
    """A Stream of raw wire bytes, each piece written (and so read) on its own."""
    return Stream([p.encode() if isinstance(p, str) else p for p in pieces], delay, **options)


def test_stream_asks_for_a_stream_with_usage_and_the_bearer_key(client, fake_openai):
    streamed(client)

    [request] = fake_openai.requests
    assert request["path"] == "/v1/chat/completions"
    assert header(request, "Authorization") == f"Bearer {API_KEY}"
    assert request["json"] == {"model": "test-model", "messages": HELLO, "stream": True,
                               "stream_options": {"include_usage": True}}


def test_stream_yields_the_pieces_in_order_then_says_how_it_ended(client, fake_openai):
    text = "The quick brown fox, 🦊 über alles,\njumps."
    fake_openai.stream_with(stream_of(text))

    pieces, stream = streamed(client)

    assert pieces == tokens(text) and "".join(pieces) == text
    assert stream.finish_reason == "stop"
    assert stream.usage == {"prompt_tokens": 7, "completion_tokens": len(tokens(text))}


def test_stream_hands_on_each_piece_as_it_arrives(client, fake_openai):
    # 5 words + role, finish, usage and [DONE] chunks: 9 pieces 0.2 s apart, ~1.8 s in all.
    fake_openai.stream_with(stream_of("one two three four five", delay=0.2))
    start = time.monotonic()
    arrivals = []

    for piece in client.stream(HELLO):
        arrivals.append((piece, time.monotonic() - start))
    total = time.monotonic() - start

    assert [piece for piece, _ in arrivals] == ["one", " two", " three", " four", " five"]
    assert total >= 1.6
    first = arrivals[0][1]
    assert first < 0.8 and total - first > 1.0, (arrivals, total)  # not held back to the end
    assert all(later - earlier > 0.1 for (_, earlier), (_, later) in zip(arrivals, arrivals[1:]))


def test_stream_with_a_length_finish_reason_reports_it(client, fake_openai):
    fake_openai.stream_with(stream_of("Cut at the", finish_reason="length"))

    pieces, stream = streamed(client)

    assert "".join(pieces) == "Cut at the" and stream.finish_reason == "length"


def test_stream_without_a_usage_chunk_has_no_usage(client, fake_openai):
    fake_openai.stream_with(stream_of("No counts here", usage=False))

    pieces, stream = streamed(client)

    assert "".join(pieces) == "No counts here"
    assert (stream.finish_reason, stream.usage) == ("stop", None)


def test_stream_before_the_loop_has_no_finish_reason_or_usage(client, fake_openai):
    stream = client.stream(HELLO)

    assert (stream.finish_reason, stream.usage) == (None, None)
    stream.close()


# --- stream: the wire as servers really send it --------------------------------------------------

def test_stream_reassembles_a_line_split_inside_its_json(client, fake_openai):
    event = sse(chunk("Hello, world"))
    middle = event.index(b"Hello") + 3
    fake_openai.stream_with(raw(event[:7], event[7:middle], event[middle:],
                                sse(chunk(finish_reason="stop")), "data: [DONE]\n\n"))

    pieces, stream = streamed(client)

    assert pieces == ["Hello, world"] and stream.finish_reason == "stop"


def test_stream_reassembles_a_character_split_between_reads(client, fake_openai):
    # Raw UTF-8 in the JSON, as real servers send it (sse() would escape it as \uXXXX).
    event = f"data: {json.dumps(chunk('Grüße 👋 done'), ensure_ascii=False)}\n\n".encode()
    emoji = event.index("👋".encode())
    cuts = [0, event.index("ü".encode()) + 1, emoji + 1, emoji + 3, len(event)]
    parts = [event[a:b] for a, b in zip(cuts, cuts[1:])]  # each cut falls inside a character
    fake_openai.stream_with(raw(*parts, sse(chunk(finish_reason="stop")), "data: [DONE]\n\n"))

    pieces, _ = streamed(client)

    assert pieces == ["Grüße 👋 done"]


@pytest.mark.parametrize("ending", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_stream_reads_every_line_ending(client, fake_openai, ending):
    def event(data):
        return f"data: {json.dumps(data) if isinstance(data, dict) else data}{ending}{ending}"

    fake_openai.stream_with(raw(event(chunk("one")), event(chunk(" two")),
                                event(chunk(finish_reason="stop")), event("[DONE]")))

    pieces, stream = streamed(client)

    assert pieces == ["one", " two"] and stream.finish_reason == "stop"


def test_stream_reads_a_crlf_split_between_its_cr_and_lf(client, fake_openai):
    one = f"data: {json.dumps(chunk('one'))}"
    two = f"data: {json.dumps(chunk(' two'))}"
    fake_openai.stream_with(raw(one + "\r", "\n\r", "\n" + two + "\r\n\r", "\n",
                                f"data: {json.dumps(chunk(finish_reason='stop'))}\r\n\r\n",
                                "data: [DONE]\r\n\r\n"))

    pieces, stream = streamed(client)

    assert pieces == ["one", " two"] and stream.finish_reason == "stop"


def test_stream_skips_comments_blank_lines_other_fields_and_empty_choices(client, fake_openai):
    filters = {"id": "", "object": "", "choices": [],  # Azure's first chunk
               "prompt_filter_results": [{"prompt_index": 0}]}
    fake_openai.stream_with(raw(
        ": OPENROUTER PROCESSING\n\n", "\n\n\n", sse(filters), ":keep-alive\n",
        "event: message\nid: 7\nretry: 1000\n" + sse(chunk("one")).decode(),
        sse(chunk()),  # a delta with no content
        sse(chunk(" two")), ": still here\n\n", sse(chunk(finish_reason="stop")),
        "data: [DONE]\n\n"))

    pieces, stream = streamed(client)

    assert pieces == ["one", " two"] and stream.finish_reason == "stop"


def test_stream_reads_a_refusal_as_text(client, fake_openai):
    refusal = chunk()
    refusal["choices"][0]["delta"] = {"refusal": "I can't help with that."}
    fake_openai.stream_with(raw(sse(refusal), sse(chunk(finish_reason="stop")), "data: [DONE]\n\n"))

    pieces, _ = streamed(client)

    assert pieces == ["I can't help with that."]


def test_an_error_inside_the_stream_raises_its_message_without_the_key(
        client, fake_openai, debug_logs):
    fake_openai.stream_with(raw(sse(chunk("Partial")), sse(
        {"error": {"message": f"Server overloaded for key {API_KEY}", "type": "server_error"}})))

    error, pieces = stream_failure(client)

    assert pieces == ["Partial"]
    assert error.kind == "upstream" and error.status == 502
    assert "Server overloaded for key ***" in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_a_stream_ending_without_done_after_its_finish_reason_is_complete(client, fake_openai):
    fake_openai.stream_with(stream_of("All here", done=False))

    pieces, stream = streamed(client)

    assert "".join(pieces) == "All here"
    assert stream.finish_reason == "stop" and stream.usage["prompt_tokens"] == 7


def test_a_stream_ending_without_done_or_finish_reason_is_broken(client, fake_openai, debug_logs):
    fake_openai.stream_with(raw(sse(chunk("Half")), sse(chunk(" a"))))

    error, pieces = stream_failure(client)

    assert pieces == ["Half", " a"]
    assert (error.kind, error.status) == ("broken", 502)
    assert_readable_and_keyless(error, client, debug_logs)


def test_a_cut_connection_is_broken(client, fake_openai, debug_logs):
    pieces = stream_of("one two three", done=False).pieces[:3]  # role chunk, "one", " two"
    fake_openai.stream_with(Stream(pieces, 0.02, cut=True))

    error, got = stream_failure(client)

    assert got == ["one", " two"]
    assert (error.kind, error.status) == ("broken", 502)
    assert_readable_and_keyless(error, client, debug_logs)


def test_a_cut_connection_after_the_finish_reason_is_still_broken(client, fake_openai):
    # The chunked body never ended: something was lost, whatever the last event said.
    fake_openai.stream_with(Stream(stream_of("one two", usage=False, done=False).pieces, cut=True))

    error, got = stream_failure(client)

    assert error.kind == "broken" and got == ["one", " two"]


def test_a_stream_ended_by_closing_the_connection_is_read(client, fake_openai):
    fake_openai.stream_with(Stream(stream_of("Old style server").pieces, 0.02, chunked=False))

    pieces, stream = streamed(client)

    assert "".join(pieces) == "Old style server" and stream.finish_reason == "stop"
    fake_openai.reset()
    assert client.complete(HELLO).text == "Echo: Hello"  # a fresh connection serves the next


def test_a_stream_of_unreadable_json_is_bad_response(client, fake_openai, debug_logs):
    fake_openai.stream_with(raw("data: {not json\n\n"))

    error, _ = stream_failure(client)

    assert (error.kind, error.status) == ("bad_response", 502)
    assert_readable_and_keyless(error, client, debug_logs)


@pytest.mark.parametrize("status, kind", HTTP_ERROR_KINDS)
def test_stream_http_errors_map_to_the_same_kinds_as_complete(
        client, fake_openai, debug_logs, status, kind):
    fake_openai.fail_with(status, {"error": {"message": f"Incorrect API key provided: {API_KEY}"}})

    with pytest.raises(ModelError) as caught:
        client.stream(HELLO)  # raised before any iterating

    error = caught.value
    assert (error.kind, error.status) == (kind, failure(client).status)
    assert f"HTTP {status}" in error.message
    assert_readable_and_keyless(error, client, debug_logs)


def test_stream_bad_request_includes_the_upstream_message(client, fake_openai, debug_logs):
    fake_openai.fail_with(400, {"error": {"message": f"Context too long for {API_KEY}."}})

    with pytest.raises(ModelError) as caught:
        client.stream(HELLO)

    assert caught.value.kind == "upstream"
    assert "HTTP 400" in caught.value.message
    assert "Context too long for ***." in caught.value.message
    assert_readable_and_keyless(caught.value, client, debug_logs)


def test_stream_without_a_key_is_not_configured(make_client, fake_openai):
    with pytest.raises(ModelError) as caught:
        make_client(api_key="").stream(HELLO)

    assert caught.value.kind == "not_configured" and fake_openai.requests == []


def test_stream_to_a_refused_port_is_unreachable(make_client):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}/v1")

    with pytest.raises(ModelError) as caught:
        client.stream(HELLO)

    assert caught.value.kind == "unreachable"


def wait_for(condition, seconds=3.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def paused(before, pause, after):
    """Stream pieces: `before`, then silence for `pause` seconds, then `after` (0.02 s apart)."""
    yield from before
    time.sleep(pause)
    for piece in after:
        yield piece
        time.sleep(0.02)


def test_a_stall_midway_longer_than_the_timeout_is_a_timeout(make_client, fake_openai, debug_logs):
    client = make_client(timeout=0.3)
    pieces = stream_of("one two three").pieces
    fake_openai.stream_with(lambda _request: Stream(paused(pieces[:2], 1.0, pieces[2:])))

    error, got = stream_failure(client)

    assert got == ["one"]
    assert (error.kind, error.status) == ("timeout", 504)
    assert "0.3 seconds" in error.message
    assert_readable_and_keyless(error, client, debug_logs)
    assert wait_for(lambda: fake_openai.hung_up >= 1)  # the late rest found the line dropped


def test_pauses_shorter_than_the_timeout_are_fine(make_client, fake_openai):
    client = make_client(timeout=0.5)
    fake_openai.stream_with(stream_of("slow but steady", delay=0.2))

    pieces, _ = streamed(client)

    assert "".join(pieces) == "slow but steady"


def test_the_reply_ends_at_done_even_if_the_body_ends_late(client, fake_openai):
    # [DONE] says the reply is whole; a server or proxy slow to close the body (here 3 s,
    # within the 5 s timeout) must not hold the reply back.
    pieces = stream_of("All done").pieces
    fake_openai.stream_with(lambda _request: Stream(paused(pieces, 3.0, [])))
    start = time.monotonic()

    text = "".join(client.stream(HELLO))

    assert text == "All done"
    assert time.monotonic() - start < 1.5


def test_close_midway_hangs_up_on_the_upstream(client, fake_openai):
    fake_openai.stream_with(stream_of("word " * 200, delay=0.02))
    stream = client.stream(HELLO)
    pieces = iter(stream)

    assert [next(pieces), next(pieces)] == ["word", " word"]
    stream.close()

    assert wait_for(lambda: fake_openai.hung_up >= 1), "the upstream kept writing to us"
    fake_openai.reset()
    assert client.complete(HELLO).text == "Echo: Hello"  # the client works again
    pieces, stream = streamed(client)
    assert "".join(pieces) == "Echo: Hello" and stream.finish_reason == "stop"


def test_leaving_the_loop_early_hangs_up_too(client, fake_openai):
    fake_openai.stream_with(stream_of("word " * 200, delay=0.02))

    for _ in client.stream(HELLO):
        break  # the generator is dropped here, which closes it

    assert wait_for(lambda: fake_openai.hung_up >= 1)


def test_close_twice_or_after_the_end_is_harmless(client, fake_openai):
    stream = client.stream(HELLO)
    assert "".join(stream) == "Echo: Hello"

    stream.close()
    stream.close()

    assert client.complete(HELLO).text == "Echo: Hello"


def test_streams_reuse_the_keep_alive_connection(client, fake_openai, debug_logs):
    for _ in range(3):
        pieces, _ = streamed(client)
        assert "".join(pieces) == "Echo: Hello"

    opened = [r for r in debug_logs.records if "Starting new HTTP connection" in r.getMessage()]
    assert len(opened) == 1


def test_a_failed_stream_leaves_the_client_working(client, fake_openai):
    fake_openai.stream_with(raw(sse(chunk("Half"))))
    stream_failure(client)
    fake_openai.fail_with(500)
    with pytest.raises(ModelError):
        client.stream(HELLO)
    fake_openai.reset()

    pieces, _ = streamed(client)
    assert "".join(pieces) == "Echo: Hello"


@pytest.fixture
def gzip_server():
    """An upstream that compresses its event stream when the request says it accepts gzip, as
    a server or proxy with compression on for every type does: each event flushed as it goes."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            packer = zlib.compressobj(wbits=31)  # the gzip format
            for piece in stream_of("Squeezed but whole").pieces:
                if gzipped:
                    piece = packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if gzipped:
                tail = packer.flush()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_stream_the_upstream_compressed_is_read(make_client, gzip_server):
    # requests says "Accept-Encoding: gzip, deflate" on every call, the stream's too.
    pieces, stream = streamed(make_client(base_url=gzip_server))

    assert "".join(pieces) == "Squeezed but whole" and stream.finish_reason == "stop"


# --- SSEDecoder --------------------------------------------------------------------------------

SAMPLE = (b": a comment first\r\n"
          b"data: {\"a\": \"\xc3\xa9t\xc3\xa9 \xf0\x9f\x91\x8b\"}\r\n\r\n"
          b"event: message\nid: 1\ndata:no space\n\n"
          b"data: line one\rdata: line two\r\r"
          b"\n\n"
          b"data: [DONE]\n\n")
SAMPLE_EVENTS = ['{"a": "été 👋"}', "no space", "line one\nline two", "[DONE]"]


def decode(*parts):
    decoder = SSEDecoder()
    events = []
    for part in parts:
        events += decoder.feed(part)
    return events + decoder.close()


def test_sse_decoder_reads_a_whole_stream():
    assert decode(SAMPLE) == SAMPLE_EVENTS


def test_sse_decoder_gives_the_same_events_however_the_bytes_are_split_in_two():
    for i in range(len(SAMPLE) + 1):
        assert decode(SAMPLE[:i], SAMPLE[i:]) == SAMPLE_EVENTS, i


def test_sse_decoder_gives_the_same_events_however_the_bytes_are_split_in_three():
    for i in range(len(SAMPLE) + 1):
        for j in range(i, len(SAMPLE) + 1):
            assert decode(SAMPLE[:i], SAMPLE[i:j], SAMPLE[j:]) == SAMPLE_EVENTS, (i, j)


def test_sse_decoder_byte_by_byte():
    assert decode(*(SAMPLE[i:i + 1] for i in range(len(SAMPLE)))) == SAMPLE_EVENTS


@pytest.mark.parametrize("ending", [b"\n", b"\r", b"\r\n"], ids=["lf", "cr", "crlf"])
def test_sse_decoder_reads_each_line_ending(ending):
    stream = ending.join([b"data: one", b"", b"data: two", b"data: more", b"", b""])

    assert decode(stream) == ["one", "two\nmore"]


def test_sse_decoder_hands_back_an_event_as_soon_as_its_blank_line_arrives():
    decoder = SSEDecoder()

    assert decoder.feed(b"data: one\n") == []
    assert decoder.feed(b"\ndata: tw") == ["one"]
    assert decoder.feed(b"o\n\n") == ["two"]
    assert decoder.close() == []


def test_sse_decoder_close_returns_an_event_left_without_its_blank_line():
    for tail in (b"data: last", b"data: last\n", b"data: last\r", b"data: last\r\n"):
        decoder = SSEDecoder()
        assert decoder.feed(b"data: first\n\n" + tail) == ["first"]
        assert decoder.close() == ["last"], tail


def test_sse_decoder_close_on_nothing_pending_returns_nothing():
    decoder = SSEDecoder()
    decoder.feed(b": just a comment\n\n")

    assert decoder.close() == []
    assert SSEDecoder().close() == []


def test_sse_decoder_ignores_blank_lines_and_comments_between_events():
    assert decode(b"\n\n\r\n: ping\n\n:\n\ndata: x\n\n\n\n") == ["x"]
