"""A small OpenAI-compatible chat completions server on 127.0.0.1, for the tests, the Postman run
and the benchmark. By default it echoes the last user message; tests can make it fail in every
way the real service can. Run it alone with `python -m tests.fake_openai --port 8001`."""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


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


def echo_reply(request_json):
    last = request_json["messages"][-1]["content"]
    return 200, completion(f"Echo: {last}")


class FakeOpenAI:
    def __init__(self, host="127.0.0.1", port=0):
        self.requests = []  # each: {"path", "headers", "json"}
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
            self._handler = echo_reply

    def reply_with(self, text):
        """Answer every request with this text."""
        self.respond(lambda _request: (200, completion(text)))

    def fail_with(self, status, body=None):
        """Answer with this status and body (a dict is sent as JSON, bytes as they are)."""
        self.respond(lambda _request: (status, body if body is not None else
                                       {"error": {"message": f"fake failure {status}"}}))

    def delay(self, seconds, then=echo_reply):
        def slow(request_json):
            time.sleep(seconds)
            return then(request_json)
        self.respond(slow)

    def respond(self, handler):
        """handler(request_json) -> (status, body); the general form of the above."""
        with self._lock:
            self._handler = handler

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
            status, payload = fake._answer(self.path, dict(self.headers), body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n").encode()
            self.wfile.write(head + data)  # one write: headers and body in one segment

        def log_message(self, *args):
            pass

    return Handler


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    server = FakeOpenAI(port=parser.parse_args().port)
    print(f"Fake OpenAI at {server.url} (set OPENAI_BASE_URL to this)", flush=True)
    server._server.serve_forever()
