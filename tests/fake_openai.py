"""A small OpenAI-compatible chat completions server on 127.0.0.1, for the tests, the Postman run
and the benchmark. By default it echoes the last user message; tests can make it fail in every
way the real service can. Run it alone with `python -m tests.fake_openai --port 8001`."""
import argparse
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


# An answer that closes the connection without a word: a failure before the response starts.
HANG_UP = "hang up"


def failure(status, body=None, headers=None):
    """A failed answer: `status`, `body` (else an error saying which), and these headers."""
    body = body if body is not None else {"error": {"message": f"fake failure {status}"}}
    return status, body, headers or {}


def completion(text, model="fake-model"):
    """The body of a successful chat completions answer."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@dataclass
class Stream:
    """A streamed answer: `pieces` of raw body written one at a time, `delay` seconds apart.
    `chunked=False` sends no length and ends the body by closing (as HTTP/1.0 servers do);
    `cut=True` drops the connection after the last piece, mid-body."""
    pieces: list = field(default_factory=list)
    delay: float = 0.0
    chunked: bool = True
    cut: bool = False


def sse(data):
    """One SSE event of the upstream's wire format (a dict is sent as JSON)."""
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def chunk(content=None, finish_reason=None, model="fake-model"):
    """A chat.completion.chunk carrying `content` (and/or a finish reason)."""
    delta = {"content": content} if content is not None else {}
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def tokens(text):
    """`text` in word-sized pieces, as a model streams it (joined, they give `text` back)."""
    return re.findall(r"\s*\S+|\s+", text)


def stream_of(text, delay=0.0, finish_reason="stop", usage=True, done=True):
    """The stream a well-behaved server sends for `text`: a role chunk, the pieces, a finish
    chunk, a usage chunk (when asked for) and [DONE]."""
    first = chunk()
    first["choices"][0]["delta"] = {"role": "assistant", "content": ""}
    pieces = [sse(first)] + [sse(chunk(piece)) for piece in tokens(text)]
    pieces.append(sse(chunk(finish_reason=finish_reason)))
    if usage:
        pieces.append(sse({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                           "choices": [], "usage": {"prompt_tokens": 7,
                                                    "completion_tokens": len(tokens(text)),
                                                    "total_tokens": 7 + len(tokens(text))}}))
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return Stream(pieces, delay)


def answer(request_json, text):
    """`text` as a whole answer or as a stream, as the request asked."""
    if request_json.get("stream"):
        include_usage = (request_json.get("stream_options") or {}).get("include_usage", False)
        return 200, stream_of(text, usage=include_usage)
    return 200, completion(text)


def echo_reply(request_json):
    return answer(request_json, f"Echo: {request_json['messages'][-1]['content']}")


def slow(seconds, then=echo_reply):
    """A handler that answers as `then` (the echo) does, but only after `seconds`."""
    def answer_late(request_json):
        time.sleep(seconds)
        return then(request_json)
    return answer_late


class FakeOpenAI:
    def __init__(self, host="127.0.0.1", port=0):
        self.requests = []  # each: {"path", "headers", "json"}
        self.hung_up = 0  # streams the app closed before their end
        self._handler = echo_reply
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = None

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def reset(self):
        with self._lock:
            self.requests.clear()
            self.hung_up = 0
            self._handler = echo_reply

    def reply_with(self, text):
        """Answer every request with this text (streamed when the request asks)."""
        self.respond(lambda request_json: answer(request_json, text))

    def stream_with(self, stream):
        """Answer every request with this Stream (or a function of the request giving one)."""
        self.respond(lambda request_json: (200, stream(request_json) if callable(stream) else stream))

    def fail_with(self, status, body=None, headers=None):
        """Answer with this status and body (a dict is sent as JSON, bytes as they are)."""
        self.respond(lambda _request: failure(status, body, headers))

    def delay(self, seconds, then=echo_reply):
        self.respond(slow(seconds, then))

    def respond(self, handler):
        """handler(request_json) -> (status, body), (status, body, headers) or HANG_UP; the
        general form of the above."""
        with self._lock:
            self._handler = handler

    def answer_in_turn(self, *answers):
        """Answer the next requests with these, one each, then as before. Each is an answer as
        a handler gives one, or a handler: e.g. failure(503), HANG_UP, (200, completion("Hi"))."""
        with self._lock:
            queued, then = deque(answers), self._handler

        def next_answer(request_json):
            with self._lock:
                answer = queued.popleft() if queued else then
            return answer(request_json) if callable(answer) else answer
        self.respond(next_answer)

    def _answer(self, path, headers, body):
        with self._lock:
            handler = self._handler
            try:
                request_json = json.loads(body)
            except ValueError:
                request_json = None
            self.requests.append({"path": path, "headers": headers, "json": request_json})
        # A request through a proxy names the whole URL; this server can play the proxy too.
        if urlsplit(path).path != "/v1/chat/completions" or request_json is None:
            return 404, {"error": {"message": "unknown route or bad JSON"}}
        return handler(request_json)


def _make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real service
        # Without TCP_NODELAY a keep-alive answer stalls ~40 ms (Nagle against delayed ACKs).
        disable_nagle_algorithm = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            answer = fake._answer(self.path, dict(self.headers), body)
            if answer == HANG_UP:
                self.close_connection = True
                return
            status, payload, *headers = answer
            if isinstance(payload, Stream):
                return self._stream(status, payload)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or [{}])[0].items())
            head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(data)}\r\n\r\n").encode()
            self.wfile.write(head + data)  # one write: headers and body in one segment

        def _stream(self, status, stream):
            framing = "Transfer-Encoding: chunked" if stream.chunked else "Connection: close"
            self.wfile.write(f"HTTP/1.1 {status} X\r\nContent-Type: text/event-stream\r\n"
                             f"{framing}\r\n\r\n".encode())
            try:
                for piece in stream.pieces:
                    if stream.delay:
                        time.sleep(stream.delay)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if stream.chunked else piece)
                if stream.chunked and not stream.cut:
                    self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                with fake._lock:
                    fake.hung_up += 1
            if stream.cut or not stream.chunked:
                self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds between streamed pieces, to watch a reply being written")
    args = parser.parse_args()
    server = FakeOpenAI(port=args.port)

    def slow_echo(request_json):
        text = "Echo: " + request_json["messages"][-1]["content"]
        question = re.search(r"a title of at most.*?\nQuestion: (.*?)\n", text, re.DOTALL)
        if question:  # chatapp naming a conversation: its question's first words will do
            text = " ".join(question.group(1).split()[:5])
        if request_json.get("stream"):
            return 200, stream_of(text, delay=args.delay)
        return 200, completion(text)

    server.respond(slow_echo)
    print(f"Fake OpenAI at {server.url} (set OPENAI_BASE_URL to this)", flush=True)
    server._server.serve_forever()
