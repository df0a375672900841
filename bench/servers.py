"""The benchmark's two server processes, each started by bench.py and stopped when its stdin closes:

    python bench/servers.py apps FOLDER UPSTREAM_URL   the app, served as `make run` serves it
    python bench/servers.py upstream                   a lean OpenAI-compatible model upstream

Both run on gevent, patched before anything else is imported, as wsgi.py does for `make run`.

The upstream answers every request at once, a greenlet per connection: 200 open streams cost it
little CPU beside the app on a 2-core machine (tests/fake_openai.FakeOpenAI's thread per
connection would cost more). A whole answer (no "stream") is a ~800-character reply. A stream
is the fake's wire format (tests/fake_openai: `sse`, `chunk`, `stream_of`: a role
chunk, content chunks, a finish chunk, a usage chunk, [DONE]), each chunk one write, sent as the
last message of the request asks:

    "#stream tokens=N every_ms=E gap_ms=G"

N content chunks, E ms apart (on a fixed schedule, so the stream lasts (N-1)*E ms), the first
G ms after the headers and role chunk (G=0: in the same write as them). Each chunk's text is
" @<time.perf_counter() when it was sent>", so the client can tell how long each took to reach
it through the app: perf_counter is CLOCK_MONOTONIC, one clock for all processes on Linux. Any
other streamed request gets the reply text in word-sized chunks, all at once.
"""
if __name__ == "__main__":  # first of all: sockets, ssl and threading must be gevent's
    from gevent import monkey

    monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from measure import API_KEY, APP_ENV, DATABASES, HOST  # noqa: E402


def stdin_lines():
    """Lines from the parent, without blocking the other greenlets; ends when stdin closes."""
    from gevent.socket import wait_read

    fd, pending = sys.stdin.fileno(), b""
    while True:
        wait_read(fd)
        data = os.read(fd, 4096)
        if not data:
            return
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode().strip()


# ----------------------------------------------------------------------------- the app

def serve_apps(folder, upstream):
    """Serve one app per database, each on its own port, all in this one process and on
    chatapp.serving.make_server (gevent's WSGI server, TCP_NODELAY, a pool of 1000 connections),
    as `make run` does; print their URLs and stop when stdin closes."""
    for name in APP_ENV:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    from chatapp import create_app
    from chatapp.serving import make_server

    apps, servers, info = {}, [], {"upstream": upstream, "apps": {}, "db": {}}
    for name in DATABASES:
        path = os.path.join(folder, f"{name}.sqlite3")
        app = create_app({
            "SECRET_KEY": "bench-secret", "SQLITE_PATH": path, "MONGO_URI": None,
            "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": upstream, "OPENAI_TIMEOUT": 10.0,
            # A title is a second, background request after a new conversation's first reply;
            # the figures here are of turns (section 3 alone makes 530 new conversations).
            "TITLE_GENERATION": False,
            # The limiter still runs each turn, so its cost is in the figures, but never says no
            # to the thousands of turns this one address sends.
            "RATELIMIT_CHAT": "1000000/minute",
        })
        app.extensions["thread_store"].prepare()
        server = make_server(app, HOST, 0)
        server.start()
        servers.append(server)
        apps[name] = app
        info["apps"][name], info["db"][name] = f"http://{HOST}:{server.server_port}", path
    config = apps["main"].config
    info.update(model=config["OPENAI_MODEL"],
                history_max_chars=config["HISTORY_MAX_CHARS"],
                threads_per_page=config["THREADS_PER_PAGE"])
    print(json.dumps(info), flush=True)
    for _ in stdin_lines():  # until the parent closes our stdin (or dies)
        pass
    for server in servers:
        server.stop(timeout=2)


# ----------------------------------------------------------------------------- the upstream

def frame(piece):
    """One piece of a chunked HTTP body."""
    return b"%x\r\n%s\r\n" % (len(piece), piece)


class Upstream:
    STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")

    def __init__(self):
        from seed import assistant_text
        from tests.fake_openai import completion, stream_of

        self.connections = 0
        self.requests = 0
        reply = assistant_text(random.Random(7))
        body = json.dumps(completion(reply)).encode()
        self.whole = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.plain_stream = b"".join(map(frame, stream_of(reply).pieces)) + b"0\r\n\r\n"
        role, marked, *tail = stream_of("@MARK").pieces  # role, "@MARK", finish, usage, [DONE]
        self.role = frame(role)
        self.marked = marked.replace(b"@MARK", b"@%.7f")  # filled in with the time it is sent
        self.tail = b"".join(map(frame, tail)) + b"0\r\n\r\n"
        self.not_found = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 2\r\n\r\n{}")
        self.not_json = self.not_found.replace(b"404 Not Found", b"400 Bad Request")

    def handle(self, sock, _address):
        """One keep-alive connection: read each request (Content-Length bodies), answer it."""
        self.connections += 1
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        try:
            while True:
                while b"\r\n\r\n" not in pending:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(pending) < length:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pending += data
                body, pending = pending[:length], pending[length:]
                self.requests += 1
                if b" /v1/chat/completions " not in lines[0]:
                    sock.sendall(self.not_found)
                    continue
                try:
                    request = json.loads(body)
                except ValueError:
                    request = None
                if not isinstance(request, dict):
                    sock.sendall(self.not_json)
                elif request.get("stream"):
                    self.stream(sock, request["messages"][-1]["content"])
                else:
                    sock.sendall(self.whole)
        except OSError:  # the app hung up
            pass
        finally:
            sock.close()

    def stream(self, sock, text):
        import gevent

        if not text.startswith("#stream"):
            sock.sendall(self.STREAM_HEAD + self.plain_stream)
            return
        options = dict(word.split("=", 1) for word in text.split()[1:])
        tokens = int(options.get("tokens", 5))
        every = float(options.get("every_ms", 0)) / 1000
        gap = float(options.get("gap_ms", 0)) / 1000
        head = self.STREAM_HEAD + self.role
        if gap:
            sock.sendall(head)
            head = b""
            gevent.sleep(gap)
        start = time.perf_counter()
        for i in range(tokens):
            if i and every:
                gevent.sleep(max(0.0, start + i * every - time.perf_counter()))
            sock.sendall(head + frame(self.marked % time.perf_counter()))
            head = b""
        sock.sendall(self.tail)


def serve_upstream():
    """Serve the upstream (a greenlet per connection), print its URL; on each line "counts" from
    stdin print how many connections and requests it has had; stop when stdin closes."""
    from gevent.server import StreamServer

    upstream = Upstream()
    server = StreamServer((HOST, 0), upstream.handle, backlog=1024)
    server.start()
    print(json.dumps({"upstream": f"http://{HOST}:{server.server_port}/v1"}), flush=True)
    for line in stdin_lines():
        if line == "counts":
            print(json.dumps({"connections": upstream.connections,
                              "requests": upstream.requests}), flush=True)
    server.stop(timeout=1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["apps"] and len(sys.argv) == 4:
        serve_apps(*sys.argv[2:])
    elif sys.argv[1:] == ["upstream"]:
        serve_upstream()
    else:
        sys.exit(__doc__)
