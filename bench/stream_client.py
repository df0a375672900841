"""The benchmark's streaming client: raw sockets, not `requests`, so that a stream's events are
seen the moment they arrive and 200 streams cost the client little CPU on a machine the app
shares. `SSEResponse` parses an HTTP/1.1 response of server-sent events as its bytes arrive;
`Client` runs streams one after another on a keep-alive connection; run as a process,

    python bench/stream_client.py URL STREAMS TOKENS EVERY_MS

it runs STREAMS streams at once (asyncio, a connection each), each asking the upstream for TOKENS
tokens EVERY_MS apart, and prints a summary as one line of JSON.
"""
import asyncio
import json
import os
import re
import socket
import sys
import time
from urllib.parse import urlsplit

from measure import pct

STAMP = re.compile(r"@(\d+\.\d+)")  # the upstream's send time in a token's text


def stamp_of(data):
    """The upstream's send time carried by a token event's data."""
    return float(STAMP.search(json.loads(data)["delta"]).group(1))


def request_bytes(url, body):
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    return (f"POST /api/chat HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nAccept: text/event-stream\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


class SSEResponse:
    """An HTTP/1.1 response carrying server-sent events, parsed as its bytes arrive: `feed` returns
    the (event, data) pairs they complete. Chunked, Content-Length or close-delimited bodies."""

    def __init__(self):
        self.status = None
        self.complete = False
        self.keep_alive = True
        self._raw = b""
        self._body = b""
        self._chunked = False
        self._length = None  # Content-Length still to read; None: chunked or until close
        self._size = None  # the current chunk's size, once its size line is read

    def feed(self, data):
        self._raw += data
        if self.status is None and not self._head():
            return []
        if self._chunked:
            self._dechunk()
        else:
            self._body += self._raw
            if self._length is not None:
                self._length -= len(self._raw)
                self.complete = self._length <= 0
            self._raw = b""
        return self._events()

    def end(self):
        """The server closed the connection."""
        self.keep_alive = False
        self.complete = self.complete or (self.status is not None and self._length is None
                                          and not self._chunked)
        return self._events()

    def text(self):
        return self._body.decode("utf-8", "replace")

    def _head(self):
        end = self._raw.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = self._raw[:end].decode("latin-1").split("\r\n")
        self._raw = self._raw[end + 4:]
        self.status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        self._chunked = "chunked" in headers.get("transfer-encoding", "")
        if "content-length" in headers and not self._chunked:
            self._length = int(headers["content-length"])
        self.keep_alive = headers.get("connection") != "close" and (
            self._chunked or self._length is not None)
        return True

    def _dechunk(self):
        while not self.complete:
            if self._size is None:
                end = self._raw.find(b"\r\n")
                if end < 0:
                    return
                self._size = int(self._raw[:end].split(b";")[0], 16)
                self._raw = self._raw[end + 2:]
            if self._size == 0:  # the last chunk (no trailers are sent here)
                self.complete = self._raw.startswith(b"\r\n")
                return
            if len(self._raw) < self._size + 2:
                return
            self._body += self._raw[:self._size]
            self._raw = self._raw[self._size + 2:]
            self._size = None

    def _events(self):
        if self.status != 200:
            return []
        events = []
        while b"\n\n" in self._body:
            block, self._body = self._body.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode().split("\n"):
                field, _, value = line.partition(":")
                if field == "event":
                    name = value.strip()
                elif field == "data":
                    data.append(value.removeprefix(" "))
            events.append((name, "\n".join(data)))
        return events


class Client:
    """One keep-alive connection to the app, for streams one after another."""

    def __init__(self, url):
        self.url = url
        parts = urlsplit(url)
        self.address = (parts.hostname, parts.port)
        self.sock = None

    def stream(self, body, on_event):
        """POST /api/chat with `body`; on_event(name, data) for each event as it is parsed."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request_bytes(self.url, body))
        response = SSEResponse()
        while not response.complete:
            data = self.sock.recv(65536)
            events = response.feed(data) if data else response.end()
            for name, text in events:
                on_event(name, text)
            if not data:
                break
        if not response.keep_alive:
            self.close()
        return response

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# ----------------------------------------------------------------------------- many at once

async def _one(url, tokens, every_ms):
    parts = urlsplit(url)
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connected = time.perf_counter()
    writer.write(request_bytes(url, {"message": f"#stream tokens={tokens} every_ms={every_ms}",
                                     "stream": True}))
    response, names, lags, first, error = SSEResponse(), [], [], None, None
    try:
        while not response.complete:
            data = await reader.read(65536)
            events = response.feed(data) if data else response.end()
            for name, text in events:
                names.append(name)
                if name == "token":
                    now = time.perf_counter()
                    lags.append((now - stamp_of(text)) * 1000)
                    if first is None:
                        first = (now - start) * 1000
                elif name == "error":
                    error = text
            if not data:
                break
    finally:
        writer.close()
    ok = (response.status == 200 and names[:1] == ["thread"] and names[-1:] == ["done"]
          and len(lags) == tokens)
    if not ok and error is None:
        error = f"HTTP {response.status}, {len(lags)} tokens, last event {names[-1:]}"
    return {"ok": ok, "error": error, "seconds": time.perf_counter() - start,
            "connect_ms": (connected - start) * 1000, "first_ms": first, "lags": lags}


async def _many(url, streams, tokens, every_ms):
    async def guarded():
        try:
            return await asyncio.wait_for(_one(url, tokens, every_ms), timeout=30)
        except Exception as error:  # reported as a failed stream, not raised
            return {"ok": False, "error": repr(error), "lags": []}

    return await asyncio.gather(*(guarded() for _ in range(streams)))


def load_client(url, streams, tokens, every_ms):
    """Run the streams at once; print a summary as one line of JSON."""
    results = asyncio.run(_many(url, int(streams), int(tokens), int(every_ms)))
    good = [r for r in results if r["ok"]]
    lags = [lag for r in results for lag in r["lags"]]
    seconds = [r["seconds"] for r in good] or [0.0]
    firsts = [r["first_ms"] for r in good] or [0.0]
    own = os.times()
    print(json.dumps({
        "done": len(good), "failed": len(results) - len(good),
        "first_error": next((r["error"] for r in results if not r["ok"]), None),
        "seconds_p50": pct(seconds, 50), "seconds_max": max(seconds),
        "connect_max_ms": max([r["connect_ms"] for r in good] or [0.0]),
        "first_p50_ms": pct(firsts, 50), "first_max_ms": max(firsts),
        "tokens": len(lags), "lag_p50_ms": pct(lags or [0.0], 50),
        "lag_p99_ms": pct(lags or [0.0], 99), "lag_max_ms": max(lags or [0.0]),
        "cpu_seconds": own.user + own.system,
    }), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5:
        load_client(*sys.argv[1:])
    else:
        sys.exit(__doc__)
