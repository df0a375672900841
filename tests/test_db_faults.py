"""The database failing under a running app: SQLite locked by another writer, its file read-only,
its disk full; MongoDB unreachable. Each answers 503 within seconds (JSON under /api, a page with
no traceback elsewhere), loses nothing the person typed, and the very next request after the
fault is gone succeeds, without a restart. (The faults are made for real: tests/db_faults.py.)"""
import time
from html import unescape

import pytest

from tests.db_faults import closed_port, disk_full, fill_the_disk, locked, read_only
from tests.fake_openai import answer
from tests.test_api import assert_json_error
from tests.test_views import assert_html, csrf_token, parse

# Long enough to need new pages in the file, which a full disk refuses (a short one may fit in
# the room a page has left).
QUESTION = "Please keep every word of this question. " * 300
BUSY_TIMEOUT = 0.2


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT": BUSY_TIMEOUT}


@pytest.fixture
def first_exchange(client):
    """A conversation "t1" with one exchange (and a connection in the store's pool)."""
    assert client.post("/api/chat", json={"threadId": "t1", "message": "First"}).status_code == 200


def contents(client, thread_id="t1"):
    return [m["content"] for m in client.get(f"/api/thread/{thread_id}").get_json()]


def send_form(client, thread_id, text):
    token = csrf_token(client, f"/thread/{thread_id}")
    return client.post(f"/thread/{thread_id}", data={"csrf_token": token, "message": text})


def assert_says_nothing_inside(response, app):
    text = response.get_data(as_text=True)
    for inside in ("Traceback", "sqlite3", "OperationalError", app.instance_path,
                   str(app.config.get("SQLITE_PATH")), str(app.config.get("MONGO_URI"))):
        assert inside not in text


def assert_draft_to_send_again(response, thread_path, text):
    """The error page holds the text in a form that posts it again where it was sent."""
    page = parse(response)
    assert page.textareas["draft"] == text
    again = next(form for form in page.forms if "send-again" in form["class"])
    assert again["action"] == thread_path
    assert {"csrf_token", "message"} <= set(again["fields"])


# --- SQLite: a question the database cannot take -----------------------------------------------

@pytest.mark.parametrize("fault, told", [(locked, "The database is busy right now."),
                                         (read_only, "The database cannot be written to"),
                                         (disk_full, "The database's disk is full")])
def test_a_question_refused_by_the_database_is_a_503_and_the_next_one_after_works(
        app, first_exchange, fault, told):
    with fault(app) as faulty_app:
        client = faulty_app.test_client()
        started = time.monotonic()
        response = client.post("/api/chat", json={"threadId": "t1", "message": QUESTION})
        assert time.monotonic() - started < BUSY_TIMEOUT + 2
        assert assert_json_error(response, 503, "database_unavailable")["message"].startswith(told)
        assert_says_nothing_inside(response, app)

        page = send_form(client, "t1", QUESTION)
        assert_html(page, 503)
        assert told in unescape(page.get_data(as_text=True))
        assert_draft_to_send_again(page, "/thread/t1", QUESTION)
        assert_says_nothing_inside(page, app)
        # Reading goes on meanwhile, and nothing was half stored.
        assert contents(client) == ["First", "Echo: First"]

    after = client.post("/api/chat", json={"threadId": "t1", "message": "Second"})
    assert after.status_code == 200, after.get_json()
    assert contents(client) == ["First", "Echo: First", "Second", "Echo: Second"]


def test_a_page_sent_again_from_the_error_page_goes_through_once_the_lock_is_gone(
        app, client, first_exchange):
    with locked(app):
        page = send_form(client, "t1", "Sent twice")
    again = next(form for form in parse(page).forms if "send-again" in form["class"])
    response = client.post(again["action"], data={**again["fields"], "message": "Sent twice"})
    assert response.status_code == 302
    assert contents(client)[-2:] == ["Sent twice", "Echo: Sent twice"]


# --- SQLite: a reply the database cannot take -------------------------------------------------

LONG_REPLY = "A long answer that needs room. " * 400


@pytest.fixture
def full_while_answering(app, fake_openai):
    """The disk fills up while the model answers, after the question was stored; call it to
    free the disk again."""
    frees = []

    def answer_into_a_full_disk(request_json):
        frees.append(fill_the_disk(app))
        return answer(request_json, LONG_REPLY)

    def free_the_disk():
        while frees:
            frees.pop()()
    fake_openai.respond(answer_into_a_full_disk)
    yield free_the_disk
    free_the_disk()


def ask_whole(client):
    response = client.post("/api/chat", json={"threadId": "t1", "message": "Keep me"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert error["threadId"] == "t1"  # so a client can show the question, and ask again there


def ask_streamed(client):
    response = client.post("/api/chat", json={"threadId": "t1", "message": "Keep me",
                                              "stream": True})
    events = response.get_data(as_text=True)
    assert "event: token" in events
    assert events.count("event: error") == 1 and "event: done" not in events
    assert '"code":"database_unavailable"' in events.replace(" ", "")


def ask_by_form(client):
    response = send_form(client, "t1", "Keep me")
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    assert any("database" in notice for notice in page.notices)
    assert [m["text"].strip() for m in page.messages][-1] == "Keep me"
    assert any(form["action"] == "/thread/t1/retry" for form in page.forms)


@pytest.mark.parametrize("ask", [ask_whole, ask_streamed, ask_by_form])
def test_a_reply_refused_by_the_database_leaves_the_question_to_ask_again(
        app, client, first_exchange, full_while_answering, fake_openai, ask):
    ask(client)
    full_while_answering()  # the disk has room again
    fake_openai.reset()  # and the model answers as usual
    assert contents(client)[-1] == "Keep me"
    again = client.post("/api/thread/t1/regenerate", json={})
    assert again.status_code == 200, again.get_json()
    assert contents(client)[-2:] == ["Keep me", "Echo: Keep me"]


# --- MongoDB unreachable ------------------------------------------------------------------------

MONGO_TIMEOUT_MS = 400


class TestMongoDBUnreachable:
    """A real PyMongo client pointed at a local port nothing listens on."""

    @pytest.fixture
    def app_config(self, app_config):
        # No CSRF token to be had from pages that cannot load; the token is not what is tested.
        return {**app_config, "MONGO_URI": f"mongodb://127.0.0.1:{closed_port()}/chatapp",
                "MONGO_TIMEOUT_MS": MONGO_TIMEOUT_MS, "WTF_CSRF_ENABLED": False}

    @staticmethod
    def timed(call):
        started = time.monotonic()
        response = call()
        # One wait for a server, as MONGO_TIMEOUT_MS says, and not many in a row.
        assert time.monotonic() - started < MONGO_TIMEOUT_MS / 1000 + 1.5
        return response

    def test_the_api_answers_503_within_the_timeout(self, app, client, fake_openai):
        response = self.timed(lambda: client.post("/api/chat", json={"message": QUESTION}))
        assert_json_error(response, 503, "database_unavailable")
        assert_says_nothing_inside(response, app)
        assert fake_openai.requests == []

    def test_the_pages_answer_503_within_the_timeout_keeping_the_text(self, app, client):
        page = self.timed(lambda: client.get("/"))
        assert_html(page, 503)
        assert_says_nothing_inside(page, app)
        sent = self.timed(lambda: client.post("/", data={"message": QUESTION}))
        assert_html(sent, 503)
        assert_draft_to_send_again(sent, "/", QUESTION)
        assert_says_nothing_inside(sent, app)
