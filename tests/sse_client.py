"""A client for our own event stream, over real HTTP: `POST /api/chat` with "stream": true read
event by event as each arrives, so a test can act midway (read three tokens, then hang up).
Shared by test_streaming.py (waitress in-process) and test_serving.py (`make run`'s server).
`sse_events` reads a whole stream already received (as Flask's test client gives it)."""
import json
import time

import pytest
import requests

TIMEOUT = (5, 10)  # connect, and the longest wait for the next bytes: a hung stream fails the test


def http_session():
    """A requests session that talks straight to 127.0.0.1 whatever proxy the environment names."""
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def http():
    with http_session() as session:
        yield session


def events_in(lines, parse=json.loads):
    """(event, data) of each event in these lines of an event stream (without their line ends),
    `data` given to `parse` (None: the text as it is)."""
    name, data = None, []
    for line in lines:
        if not line:  # a blank line ends the event
            if data:
                text = "\n".join(data)
                yield name or "message", parse(text) if parse else text
            name, data = None, []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def sse_events(body, parse=json.loads):
    """The (event, data) pairs of a whole event stream: its text, or a Flask response."""
    text = body if isinstance(body, str) else body.get_data(as_text=True)
    return list(events_in((line.rstrip("\r") for line in text.split("\n")), parse))


class EventStream:
    """One streamed answer: iterate it for (event, data) pairs, `data` parsed from its JSON line.
    `received` keeps the raw bytes, for checking the wire format itself."""

    def __init__(self, response):
        self.response = response
        self.received = bytearray()

    def __iter__(self):
        return events_in(self._lines())

    def _lines(self):
        buffer = b""
        # chunk_size=None: each HTTP chunk as soon as it arrives, never waiting to fill a size.
        for piece in self.response.iter_content(chunk_size=None):
            self.received += piece
            *lines, buffer = (buffer + piece).split(b"\n")
            for raw in lines:
                yield raw.rstrip(b"\r").decode("utf-8")  # a whole line: no character is split

    def close(self):
        """Hang up: close the connection, as a browser tab that goes away."""
        self.response.close()

    def hang_up_after(self, count):
        """Read `count` tokens, then hang up; returns the text read."""
        read = []
        for name, data in self:
            if name == "token":
                read.append(data["delta"])
                if len(read) == count:
                    break
        self.close()
        return "".join(read)


def post_chat(session, base_url, body, timeout=TIMEOUT):
    """POST /api/chat; the response is left unread (stream=True) for EventStream or .json()."""
    return session.post(f"{base_url}/api/chat", json=body, stream=True, timeout=timeout)


def open_stream(session, base_url, message, thread_id=None, timeout=TIMEOUT):
    """Start a streamed turn; fails the test unless the answer is an event stream."""
    body = {"message": message, "stream": True}
    if thread_id is not None:
        body["threadId"] = thread_id
    response = post_chat(session, base_url, body, timeout)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream"), response.headers
    return EventStream(response)


def stream_turn(session, base_url, message, thread_id=None):
    """A whole streamed turn: (the EventStream, its events as a list)."""
    stream = open_stream(session, base_url, message, thread_id)
    with stream.response:
        return stream, list(stream)


def names(events):
    return [name for name, _data in events]


def deltas(events):
    return [data["delta"] for name, data in events if name == "token"]


def roles_and_contents(messages):
    """(role, content) of each message as the API gives them."""
    return [(m["role"], m["content"]) for m in messages]


def thread_messages(session, base_url, thread_id):
    response = session.get(f"{base_url}/api/thread/{thread_id}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(condition, timeout=5.0, interval=0.02, message="condition"):
    """Poll `condition` until it gives something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: not true within {timeout:g} s (last: {value!r})")
        time.sleep(interval)
