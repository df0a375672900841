"""Crash safety: the server `make run` starts, killed with SIGKILL (no handler runs, as in a crash
or the kernel's OOM killer) midway through turns and streams, then started again on the same
SQLite file. The file is whole, every question stored before the kill is there, at most the
replies being written are lost, and once a killed turn's claim lapses it can be asked again."""
import itertools
import sqlite3
import threading
from contextlib import closing

import requests

from tests.fake_openai import HANG_UP, stream_of
from tests.server_processes import kill_now, server_env, start_make_run, stop
from tests.sse_client import (EventStream, http, http_session, names,  # noqa: F401 (http)
                              open_stream, post_chat, thread_messages, wait_until)
from tests.sse_client import roles_and_contents as said
from tests.test_search_store import integrity_check
from tests.test_streaming import retry_form

# OPENAI_TIMEOUT in the first test. With no retries a question is claimed for it plus 30 s
# (claim_seconds, set in chatapp/__init__.py): how long a killed turn's question waits for Retry.
TIMEOUT = 2
CLAIM_SECONDS = TIMEOUT + 30
BEING_WRITTEN = "A reply to this message is being written."
NO_REPLY_YET = "This message has no reply yet."


def assert_database_whole(path):
    """SQLite's own check of the file, its foreign keys, and FTS5's check of the search index."""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    integrity_check(path)


def test_a_server_killed_mid_turn_and_mid_stream_keeps_both_questions_to_ask_again(
        tmp_path, fake_openai, http):
    path = str(tmp_path / "chat.sqlite3")
    env = server_env(fake_openai, path, OPENAI_TIMEOUT=str(TIMEOUT), OPENAI_MAX_RETRIES="0")
    release = threading.Event()

    def streams_or_stalls(request):
        if request.get("stream"):  # 30 s of words: far longer than the test
            return 200, stream_of(" ".join(f"word{n}" for n in range(300)), delay=0.1)
        release.wait(10)  # the whole answer is still awaited when the server dies
        return HANG_UP

    fake_openai.respond(streams_or_stalls)
    process, url = start_make_run(env, tmp_path / "server.log")
    try:
        stream = open_stream(http, url, "Tell me a long story", "streamed")
        events = iter(stream)  # held open: the stream is being written when the server dies
        assert [next(events)[0] for _ in range(4)] == ["thread", "token", "token", "token"]
        awaited = _ask_in_background(url, "awaited", "Wait for my answer")
        wait_until(lambda: len(fake_openai.requests) == 2, message="both turns asking the model")
        kill_now(process)
    finally:
        release.set()
        stop(process)
    awaited.join(10)
    assert isinstance(awaited.outcome, requests.ConnectionError)  # no answer ever came
    assert_database_whole(path)

    fake_openai.reset()  # echoing, at once
    process, url = start_make_run(env, tmp_path / "server.log")
    try:
        listed = http.get(f"{url}/api/thread", timeout=5).json()
        assert sorted(t["threadId"] for t in listed) == ["awaited", "streamed"]
        # Each question is kept; what the stream had written (it was never stored) is lost.
        assert said(thread_messages(http, url, "awaited")) == [("user", "Wait for my answer")]
        assert said(thread_messages(http, url, "streamed")) == [("user", "Tell me a long story")]

        # Until the dead turn's claim lapses, the page says its reply is being written, and
        # asking again is refused as for a turn still running.
        assert BEING_WRITTEN in http.get(f"{url}/thread/awaited", timeout=5).text
        refused = http.post(f"{url}/api/thread/awaited/regenerate", json={}, timeout=5)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "turn_in_progress"

        wait_until(lambda: NO_REPLY_YET in http.get(f"{url}/thread/awaited", timeout=5).text,
                   timeout=CLAIM_SECONDS + 10, interval=0.5, message="the Retry offered")
        again = http.post(f"{url}/api/thread/awaited/regenerate", json={}, timeout=5)
        assert again.status_code == 200 and again.json()["reply"] == "Echo: Wait for my answer"
        _press_retry(http, url, "streamed")
        assert said(thread_messages(http, url, "streamed")) == [
            ("user", "Tell me a long story"), ("assistant", "Echo: Tell me a long story")]
    finally:
        stop(process)
    assert_database_whole(path)


def test_a_server_killed_while_turns_pour_in_keeps_every_answered_turn_whole(
        tmp_path, fake_openai):
    path = str(tmp_path / "chat.sqlite3")
    env = server_env(fake_openai, path)
    process, url = start_make_run(env, tmp_path / "server.log")
    traffic = Traffic()
    try:  # eight clients, half streaming, into one shared thread and each its own
        clients = [threading.Thread(target=traffic.keep_asking, args=(url, n)) for n in range(8)]
        for client in clients:
            client.start()
        wait_until(lambda: len(traffic.answered) >= 300, timeout=30, message="300 turns answered")
        kill_now(process)
        for client in clients:
            client.join(15)
    finally:
        stop(process)
    assert traffic.failures == []
    assert_database_whole(path)

    process, url = start_make_run(env, tmp_path / "server.log")
    try:
        with http_session() as http:
            stored = {t["threadId"]: thread_messages(http, url, t["threadId"])
                      for t in http.get(f"{url}/api/thread?limit=100", timeout=5).json()}
    finally:
        stop(process)
    questions = [(thread_id, m["content"]) for thread_id, messages in stored.items()
                 for m in messages if m["role"] == "user"]
    assert len(questions) == len(set(questions)) and set(questions) <= set(traffic.sent)
    replies = {}
    for thread_id, messages in stored.items():
        for before, message in itertools.pairwise([None, *messages]):
            if message["role"] == "assistant":  # right after its own question, whole
                assert before is not None and before["role"] == "user"
                assert message["content"] == "Echo: " + before["content"]
                replies[(thread_id, before["content"])] = message["content"]
    for thread_id, question, reply in traffic.answered:  # every answer a client got is kept
        assert replies[(thread_id, question)] == reply
    # Only the turns in flight when it died (one a client) may have lost their replies.
    assert len(set(questions) - set(replies)) <= len(clients)


class Traffic:
    """Clients sending turns one after another until the server is gone: what each sent, the
    answers they got, and anything else that went wrong (a thread cannot fail the test)."""

    def __init__(self):
        self.sent, self.answered, self.failures = [], [], []

    def keep_asking(self, url, n):
        """Client `n`, streaming if `n` is odd."""
        with http_session() as http:
            for i in itertools.count():
                thread_id, question = ("shared" if i % 2 else f"own-{n}"), f"question {n}-{i}"
                self.sent.append((thread_id, question))
                try:
                    reply = _ask(http, url, thread_id, question, stream=n % 2 == 1)
                except requests.RequestException:  # the server died
                    return
                except Exception as error:  # noqa: BLE001 (reported by the test)
                    self.failures.append(repr(error))
                    return
                self.answered.append((thread_id, question, reply))


def _ask_in_background(url, thread_id, message):
    """POST /api/chat (whole) in a thread; `.outcome` is then the response or the exception."""
    def ask():
        with http_session() as session:
            try:
                worker.outcome = post_chat(session, url, {"threadId": thread_id,
                                                          "message": message}, timeout=(5, 20))
            except requests.RequestException as error:
                worker.outcome = error

    worker = threading.Thread(target=ask)
    worker.outcome = None
    worker.start()
    return worker


def _press_retry(http, url, thread_id):
    """The page's Retry button, as a browser without JavaScript sends it."""
    page = http.get(f"{url}/thread/{thread_id}", timeout=5).text
    assert NO_REPLY_YET in page
    response = retry_form(http, url, thread_id)
    assert response.status_code == 200, response.text


def _ask(http, url, thread_id, question, stream):
    response = post_chat(http, url, {"threadId": thread_id, "message": question,
                                     "stream": stream}, timeout=(5, 10))
    with response:
        assert response.status_code == 200, response.text
        if not stream:
            return response.json()["reply"]
        events = list(EventStream(response))  # raises if the server dies midway
    assert names(events)[-1] == "done", events
    return events[-1][1]["reply"]

