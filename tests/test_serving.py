"""The server `make run` starts (`python wsgi.py`, gevent), run as its own process against the
fake upstream: streams reach the client as they are written, stalled streams hold up no page,
and a client that hangs up midway still leaves its partial reply."""
import signal
import threading
import time

import pytest
import requests

from chatapp.serving import SHUTDOWN_GRACE_SECONDS
from chatapp.store import SQLiteThreadStore
from tests.fake_openai import stream_of
from tests.server_processes import server_env, start_make_run, stop
from tests.sse_client import (TIMEOUT, http, http_session, names,  # noqa: F401 (http)
                              open_stream, thread_messages, wait_until)


@pytest.fixture
def server_process(tmp_path, fake_openai):
    """`python wsgi.py`, as `make run` starts it, on a free port: (the process, its URL)."""
    # Forty streams at once from one address: server_env's limit allows them.
    env = server_env(fake_openai, str(tmp_path / "chat.sqlite3"), OPENAI_TIMEOUT="10")
    process, url = start_make_run(env, tmp_path / "server.log")
    try:
        yield process, url
    finally:
        stop(process, timeout=5)


@pytest.fixture
def served(server_process):
    """The URL of `python wsgi.py` serving."""
    return server_process[1]


def test_tokens_reach_the_client_as_the_upstream_writes_them(served, http, fake_openai):
    text = "one two three four five six seven eight"
    fake_openai.stream_with(stream_of(text, delay=0.1))  # 0.1 s a piece: 0.7 s first to last
    arrived = []
    stream = open_stream(http, served, "Count to eight", "slow")
    with stream.response:
        for name, data in stream:
            arrived.append((name, time.monotonic()))
    token_times = [when for name, when in arrived if name == "token"]
    assert len(token_times) == 8 and [name for name, _ in arrived][-1] == "done"
    # Buffered, they would all come together at the end.
    assert token_times[-1] - token_times[0] > 0.4, token_times


def test_forty_stalled_streams_hold_up_neither_page(served, fake_openai):
    release = threading.Event()

    def stalled(request):  # the upstream says nothing until the test lets it
        release.wait(15)
        return 200, stream_of("Finally here")

    fake_openai.respond(stalled)
    sessions, streams = [http_session() for _ in range(40)], []
    try:
        # Each answer starts (its `thread` event) before the upstream has said anything.
        for n, session in enumerate(sessions):
            try:
                streams.append(open_stream(session, served, f"Stalled {n}", timeout=(5, 2)))
            except requests.Timeout:
                pytest.fail(f"stream {n + 1} did not start: {n} stalled streams hold the server")
        events = [iter(stream) for stream in streams]
        assert all(next(each)[0] == "thread" for each in events)
        wait_until(lambda: len(fake_openai.requests) == 40, timeout=10,
                   message="all 40 turns waiting on the upstream")

        with http_session() as pages:
            for _ in range(3):
                for path in ("/", "/api/thread"):
                    started = time.monotonic()
                    response = pages.get(served + path, timeout=TIMEOUT)
                    took = time.monotonic() - started
                    assert response.status_code == 200
                    assert took < 1.0, f"GET {path} took {took:.2f} s with 40 streams stalled"
            assert len(pages.get(f"{served}/api/thread", timeout=TIMEOUT).json()) == 40

        release.set()
        for rest in events:
            finished = list(rest)
            assert names(finished)[-1] == "done" and finished[-1][1]["reply"] == "Finally here"
    finally:
        release.set()
        for stream in streams:
            stream.close()
        for session in sessions:
            session.close()


def test_a_client_hanging_up_midway_under_make_run_leaves_an_interrupted_reply(
        served, http, fake_openai):
    text = " ".join(f"word{n}" for n in range(200))  # 10 s: far longer than the test
    fake_openai.stream_with(stream_of(text, delay=0.05))
    read = open_stream(http, served, "Count slowly", "gone").hang_up_after(3)

    def interrupted():
        messages = thread_messages(http, served, "gone")
        return messages if messages[-1].get("finishReason") == "interrupted" else None

    messages = wait_until(interrupted, message="the partial reply stored as interrupted")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    partial = messages[1]["content"]
    assert partial.startswith(read) and text.startswith(partial) and partial != text
    wait_until(lambda: fake_openai.hung_up >= 1, message="the server hung up on the upstream")


def test_a_stopping_server_ends_its_streams_keeping_what_they_wrote(server_process, tmp_path,
                                                                    http, fake_openai):
    process, url = server_process
    text = " ".join(f"word{n}" for n in range(100))  # 25 s: longer than the grace period
    fake_openai.stream_with(stream_of(text, delay=0.25))
    stream = open_stream(http, url, "Count slowly", "stopping")
    events, read = iter(stream), []  # held, not left by a break: that would hang up
    while len(read) < 3:
        name, data = next(events)
        read += [data["delta"]] if name == "token" else []

    process.send_signal(signal.SIGTERM)  # as a service manager stops it
    started = time.monotonic()
    process.wait(timeout=SHUTDOWN_GRACE_SECONDS + 5)
    # The stream went on through the grace period, then was ended, not left hanging.
    assert SHUTDOWN_GRACE_SECONDS - 1 < time.monotonic() - started < SHUTDOWN_GRACE_SECONDS + 5
    after = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # then the body is cut
        after.extend(events)
    assert len(names(after)) > 10 and set(names(after)[:-1]) == {"token"}  # more came meanwhile
    assert after[-1] == ("error", {"error": {"code": "server_stopping", "message": (
        "The server is restarting, so this reply was cut short.")}, "threadId": "stopping"})

    messages = SQLiteThreadStore(str(tmp_path / "chat.sqlite3")).messages("stopping")
    assert [(m.role, m.finish_reason) for m in messages] == [
        ("user", None), ("assistant", "interrupted")]
    partial = messages[1].content
    assert partial.startswith("".join(read)) and text.startswith(partial) and partial != text
