"""Regenerate the last reply and Edit the last message: the service, the API whole and streamed
(over real HTTP, read event by event), the plain forms, and pressing either twice at once.

What a person would notice: the old reply is replaced (never doubled), the model is asked with
the conversation up to the (edited) question, a failed regenerate loses nothing, and two presses
make one call and one reply."""
import re
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest

from chatapp.errors import InvalidInput, ThreadNotFound, TurnInProgress
from chatapp.markdown import render_markdown
from tests.fake_openai import Stream, echo_reply, stream_of
from tests.sse_client import (TIMEOUT, EventStream, deltas, http_session, names,
                              roles_and_contents, thread_messages, wait_until)
from tests.test_streaming import LONG_TEXT, held_after, http, live, server  # noqa: F401 (fixtures)
from tests.test_views import CSRF, csrf_token


@pytest.fixture
def service(app):
    return app.extensions["chat_service"]


@pytest.fixture
def store(app):
    return app.extensions["thread_store"]


def stored(store, thread_id):
    return [(m.role, m.content) for m in store.messages(thread_id)]


def sent_prompt(fake_openai, index=-1):
    return fake_openai.requests[index]["json"]["messages"]


def two_turns(service, thread_id="t1"):
    """A thread "First" / "Echo: First" / "Second" / "Echo: Second"."""
    service.send("First", thread_id)
    service.send("Second", thread_id)


# --- the service --------------------------------------------------------------------------------

def test_regenerate_replaces_the_last_reply_asking_with_the_history_up_to_its_question(
        service, store, fake_openai):
    two_turns(service)
    fake_openai.reply_with("Another answer")

    result = service.regenerate("t1")

    assert result.error is None and result.reply.content == "Another answer"
    assert stored(store, "t1") == [("user", "First"), ("assistant", "Echo: First"),
                                   ("user", "Second"), ("assistant", "Another answer")]
    assert sent_prompt(fake_openai) == [
        {"role": "user", "content": "First"}, {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second"}]  # the old reply is not in it


def test_regenerate_answers_a_question_left_without_a_reply(service, store, fake_openai):
    fake_openai.fail_with(500)
    assert service.send("Hello?", "t1").error is not None
    fake_openai.reset()

    assert service.regenerate("t1").reply.content == "Echo: Hello?"
    assert stored(store, "t1") == [("user", "Hello?"), ("assistant", "Echo: Hello?")]


def test_a_failed_regenerate_keeps_the_old_reply_and_can_be_tried_again(service, store,
                                                                        fake_openai):
    two_turns(service)
    before = store.messages("t1")
    fake_openai.fail_with(503)

    result = service.regenerate("t1")

    assert result.reply is None and result.error.status == 502
    assert store.messages("t1") == before
    fake_openai.reply_with("Now it works")
    assert service.regenerate("t1").reply.content == "Now it works"  # the claim was released
    assert stored(store, "t1")[-1] == ("assistant", "Now it works")


def test_edit_rewords_the_last_question_and_replaces_its_reply(service, store, fake_openai):
    two_turns(service)

    result = service.edit("t1", "  Second, reworded\r\nover two lines  ")

    assert result.reply.content == "Echo: Second, reworded\nover two lines"
    assert stored(store, "t1") == [
        ("user", "First"), ("assistant", "Echo: First"),
        ("user", "Second, reworded\nover two lines"),
        ("assistant", "Echo: Second, reworded\nover two lines")]
    assert sent_prompt(fake_openai) == [
        {"role": "user", "content": "First"}, {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second, reworded\nover two lines"}]


def test_an_edited_question_takes_the_time_of_the_edit(service, store, fake_openai):
    two_turns(service)
    asked_at = store.messages("t1")[2].timestamp

    service.edit("t1", "Second, reworded")

    question, reply = store.messages("t1")[2:]
    assert question.timestamp > asked_at
    assert reply.timestamp >= question.timestamp
    assert store.get_thread("t1").updated_at == reply.timestamp


def test_an_edit_whose_model_call_fails_keeps_the_new_words_without_a_reply(service, store,
                                                                            fake_openai):
    two_turns(service)
    fake_openai.fail_with(500)

    result = service.edit("t1", "Second, reworded")

    assert result.reply is None and result.error is not None
    assert stored(store, "t1")[2:] == [("user", "Second, reworded")]
    fake_openai.reset()
    assert service.retry("t1").reply.content == "Echo: Second, reworded"


@pytest.mark.parametrize("content, says", [
    (None, "content must be a string"), (42, "content must be a string"),
    ("   \n ", "content must not be empty"), ("x" * 20_001, "the limit is 20,000"),
])
def test_edit_checks_the_words_like_a_message_and_changes_nothing(service, store, fake_openai,
                                                                 content, says):
    two_turns(service)
    before, calls = store.messages("t1"), len(fake_openai.requests)

    with pytest.raises(InvalidInput, match=says):
        service.begin_edit("t1", content)

    assert store.messages("t1") == before
    assert len(fake_openai.requests) == calls


@pytest.mark.parametrize("begin", ["begin_regenerate", "begin_edit"])
def test_regenerate_and_edit_need_a_known_thread_with_a_question(service, store, begin):
    args = ("New words",) if begin == "begin_edit" else ()
    with pytest.raises(ThreadNotFound):
        getattr(service, begin)("ghost", *args)
    with pytest.raises(InvalidInput, match="threadId"):
        getattr(service, begin)("bad id!", *args)
    store.create_thread_if_missing("empty", "Nothing yet", "2026-01-01T00:00:00.000Z")
    with pytest.raises(InvalidInput, match="no message"):
        getattr(service, begin)("empty", *args)


@pytest.mark.parametrize("begin", ["begin_regenerate", "begin_edit"])
def test_regenerate_and_edit_wait_for_a_question_being_answered(service, store, fake_openai,
                                                                begin):
    turn = service.begin("Still being answered", "t1")  # claimed, not answered yet
    args = ("New words",) if begin == "begin_edit" else ()

    with pytest.raises(TurnInProgress):
        getattr(service, begin)("t1", *args)

    assert stored(store, "t1") == [("user", "Still being answered")]
    service.answer(turn)
    assert stored(store, "t1") == [("user", "Still being answered"),
                                   ("assistant", "Echo: Still being answered")]


# --- the API, whole -----------------------------------------------------------------------------

def assert_error(response, status, code, says=""):
    assert response.status_code == status, response.data
    error = response.get_json()["error"]
    assert error["code"] == code and says in error["message"], error
    return response.get_json()


def test_regenerate_answers_like_post_api_chat(client, fake_openai):
    client.post("/api/chat", json={"message": "Tell me a joke", "threadId": "t1"})
    fake_openai.reply_with("A better joke")

    response = client.post("/api/thread/t1/regenerate", json={})

    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["threadId", "title", "reply", "timestamp"]
    assert (body["threadId"], body["title"], body["reply"]) == ("t1", "Tell me a joke",
                                                                "A better joke")
    messages = client.get("/api/thread/t1").get_json()
    assert roles_and_contents(messages) == [("user", "Tell me a joke"),
                                            ("assistant", "A better joke")]
    assert messages[1]["timestamp"] == body["timestamp"]


@pytest.mark.parametrize("send", [
    {"json": {"stream": False}},
    {"data": b"", "content_type": "application/json"},  # no body, still sent as JSON
], ids=["stream false", "empty JSON body"])
def test_regenerate_takes_an_empty_or_false_stream_body(client, fake_openai, send):
    client.post("/api/chat", json={"message": "Hi", "threadId": "t1"})
    fake_openai.reply_with("Hello again")

    response = client.post("/api/thread/t1/regenerate", **send)

    assert response.status_code == 200 and response.get_json()["reply"] == "Hello again"


def test_edit_answers_like_post_api_chat(client, fake_openai):
    client.post("/api/chat", json={"message": "Frist", "threadId": "t1"})

    response = client.patch("/api/thread/t1/messages/last", json={"content": "First"})

    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["threadId", "title", "reply", "timestamp"]
    assert (body["threadId"], body["reply"]) == ("t1", "Echo: First")
    assert roles_and_contents(client.get("/api/thread/t1").get_json()) == [
        ("user", "First"), ("assistant", "Echo: First")]


def test_a_failed_regenerate_is_the_chat_error_with_the_thread_id_and_keeps_the_reply(
        client, fake_openai):
    client.post("/api/chat", json={"message": "Hi", "threadId": "t1"})
    before = client.get("/api/thread/t1").get_json()
    fake_openai.fail_with(500)

    body = assert_error(client.post("/api/thread/t1/regenerate", json={}), 502, "upstream_error")

    assert body["error"]["threadId"] == "t1"
    assert client.get("/api/thread/t1").get_json() == before


def test_a_failed_edit_is_the_chat_error_with_the_thread_id_and_keeps_the_new_words(
        client, fake_openai):
    client.post("/api/chat", json={"message": "Hi", "threadId": "t1"})
    fake_openai.fail_with(500)

    response = client.patch("/api/thread/t1/messages/last", json={"content": "Hello"})

    assert assert_error(response, 502, "upstream_error")["error"]["threadId"] == "t1"
    assert roles_and_contents(client.get("/api/thread/t1").get_json()) == [("user", "Hello")]


REGENERATE_ERRORS = {
    "unknown thread": ("/api/thread/ghost/regenerate", {"json": {}}, 404, "not_found", "ghost"),
    "bad thread id": ("/api/thread/a.b/regenerate", {"json": {}}, 400, "bad_request", "threadId"),
    "stream not a boolean": ("/api/thread/t1/regenerate", {"json": {"stream": "yes"}}, 400,
                             "bad_request", "stream must be true or false"),
    "body not an object": ("/api/thread/t1/regenerate", {"json": [1]}, 400, "bad_request",
                           "JSON object"),
    "malformed JSON": ("/api/thread/t1/regenerate",
                       {"data": b"{", "content_type": "application/json"}, 400, "bad_request",
                       "JSON object"),
    "no body and no type": ("/api/thread/t1/regenerate", {}, 415, "unsupported_media_type",
                            "application/json"),
    "a form": ("/api/thread/t1/regenerate", {"data": {"stream": "true"}}, 415,
               "unsupported_media_type", "application/json"),
}
EDIT_ERRORS = {
    "unknown thread": ("/api/thread/ghost/messages/last", {"json": {"content": "x"}}, 404,
                       "not_found", "ghost"),
    "no content": ("/api/thread/t1/messages/last", {"json": {}}, 400, "bad_request",
                   "content must be a string"),
    "content not text": ("/api/thread/t1/messages/last", {"json": {"content": ["x"]}}, 400,
                         "bad_request", "content must be a string"),
    "empty content": ("/api/thread/t1/messages/last", {"json": {"content": " "}}, 400,
                      "bad_request", "content must not be empty"),
    "content too long": ("/api/thread/t1/messages/last", {"json": {"content": "y" * 20_001}},
                         400, "bad_request", "the limit is 20,000"),
    "stream not a boolean": ("/api/thread/t1/messages/last",
                             {"json": {"content": "x", "stream": 1}}, 400, "bad_request",
                             "stream must be true or false"),
    "not JSON": ("/api/thread/t1/messages/last", {"data": {"content": "x"}}, 415,
                 "unsupported_media_type", "application/json"),
}


@pytest.mark.parametrize("path, send, status, code, says",
                         [*REGENERATE_ERRORS.values(), *EDIT_ERRORS.values()],
                         ids=[f"regenerate: {k}" for k in REGENERATE_ERRORS]
                         + [f"edit: {k}" for k in EDIT_ERRORS])
def test_bad_requests_are_json_errors_that_change_nothing(client, fake_openai, path, send,
                                                         status, code, says):
    client.post("/api/chat", json={"message": "Hi", "threadId": "t1"})
    before, calls = client.get("/api/thread/t1").get_json(), len(fake_openai.requests)
    method = client.patch if path.endswith("/last") else client.post

    assert_error(method(path, **send), status, code, says)

    assert client.get("/api/thread/t1").get_json() == before
    assert len(fake_openai.requests) == calls


@pytest.mark.parametrize("path, send", [
    ("/api/thread/empty/regenerate", {"json": {}}),
    ("/api/thread/empty/messages/last", {"json": {"content": "x"}}),
], ids=["regenerate", "edit"])
def test_a_thread_without_a_message_has_nothing_to_regenerate_or_edit(app, client, path, send):
    app.extensions["thread_store"].create_thread_if_missing("empty", "Empty",
                                                            "2026-01-01T00:00:00.000Z")
    method = client.patch if path.endswith("/last") else client.post
    assert_error(method(path, **send), 400, "bad_request", "no message")


@pytest.mark.parametrize("path, send", [
    ("/api/thread/t1/regenerate", {"json": {}}),
    ("/api/thread/t1/messages/last", {"json": {"content": "Changed"}}),
], ids=["regenerate", "edit"])
def test_regenerate_or_edit_while_the_question_is_answered_is_409(service, client, path, send):
    service.begin("Being answered", "t1")  # claimed, as by a reply streaming in another tab
    method = client.patch if path.endswith("/last") else client.post

    assert_error(method(path, **send), 409, "turn_in_progress", "being answered")
    assert roles_and_contents(client.get("/api/thread/t1").get_json()) == [
        ("user", "Being answered")]


# --- the API, streamed over real HTTP -----------------------------------------------------------

def open_redo(http, live, path, body, method="POST"):
    """A streamed regenerate or edit: fails unless the answer is an event stream."""
    response = http.request(method, f"{live}{path}", json={**body, "stream": True}, stream=True,
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    return EventStream(response)


def redo_events(http, live, path, body, method="POST"):
    stream = open_redo(http, live, path, body, method)
    with stream.response:
        return list(stream)


def ask(http, live, message, thread_id):
    response = http.post(f"{live}/api/chat", json={"message": message, "threadId": thread_id},
                         timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def assert_done_and_stored(http, live, events, thread_id, text):
    """The stream was thread, tokens, done; the done reply is the thread's last message."""
    assert names(events) == ["thread"] + ["token"] * len(deltas(events)) + ["done"]
    assert events[0][1]["threadId"] == thread_id
    assert "".join(deltas(events)) == text
    done = events[-1][1]
    assert (done["threadId"], done["reply"], done["finishReason"]) == (thread_id, text, "stop")
    assert done["html"] == str(render_markdown(text))
    messages = thread_messages(http, live, thread_id)
    assert messages[-1]["content"] == text and messages[-1]["timestamp"] == done["timestamp"]
    return messages


def test_a_streamed_regenerate_replaces_the_reply_as_the_chat_streams_it(live, http,
                                                                        fake_openai):
    ask(http, live, "First", "s1")
    ask(http, live, "Second", "s1")
    fake_openai.reply_with("A **new** second answer")

    events = redo_events(http, live, "/api/thread/s1/regenerate", {})

    messages = assert_done_and_stored(http, live, events, "s1", "A **new** second answer")
    assert roles_and_contents(messages) == [
        ("user", "First"), ("assistant", "Echo: First"),
        ("user", "Second"), ("assistant", "A **new** second answer")]
    assert sent_prompt(fake_openai)[-1] == {"role": "user", "content": "Second"}
    assert len(sent_prompt(fake_openai)) == 3


def test_a_streamed_edit_rewords_the_question_and_streams_its_new_reply(live, http,
                                                                        fake_openai):
    ask(http, live, "First", "s2")
    ask(http, live, "Secnod", "s2")

    events = redo_events(http, live, "/api/thread/s2/messages/last", {"content": "Second"},
                         "PATCH")

    messages = assert_done_and_stored(http, live, events, "s2", "Echo: Second")
    assert roles_and_contents(messages) == [
        ("user", "First"), ("assistant", "Echo: First"),
        ("user", "Second"), ("assistant", "Echo: Second")]
    assert sent_prompt(fake_openai) == [
        {"role": "user", "content": "First"}, {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second"}]


def test_a_streamed_regenerate_that_fails_before_any_text_keeps_the_old_reply(live, http,
                                                                             fake_openai):
    ask(http, live, "Hi", "s3")
    before = thread_messages(http, live, "s3")
    fake_openai.fail_with(500)

    events = redo_events(http, live, "/api/thread/s3/regenerate", {})

    assert names(events) == ["thread", "error"]
    assert events[-1][1]["threadId"] == "s3"
    assert events[-1][1]["error"]["code"] == "upstream_error"
    assert thread_messages(http, live, "s3") == before


def test_a_regenerate_stopped_midway_keeps_what_was_written_in_the_old_ones_place(
        live, http, fake_openai):
    ask(http, live, "Count", "s4")
    fake_openai.stream_with(stream_of(LONG_TEXT, delay=0.05))

    read = open_redo(http, live, "/api/thread/s4/regenerate", {}).hang_up_after(3)

    def interrupted():
        messages = thread_messages(http, live, "s4")
        return messages if messages[-1].get("finishReason") == "interrupted" else None
    messages = wait_until(interrupted, message="the partial reply stored as interrupted")
    assert roles_and_contents(messages)[0] == ("user", "Count") and len(messages) == 2
    assert messages[1]["content"].startswith(read)


def test_streamed_bad_requests_are_json_before_any_stream(live, http, fake_openai):
    ask(http, live, "Hi", "s5")
    for method, path, body, status in [
            ("POST", "/api/thread/nobody/regenerate", {"stream": True}, 404),
            ("PATCH", "/api/thread/s5/messages/last", {"content": "", "stream": True}, 400)]:
        response = http.request(method, f"{live}{path}", json=body, timeout=TIMEOUT)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/json"


# --- pressed twice at once ----------------------------------------------------------------------

def held(gate):
    """An upstream that answers (echoing) only once the test lets it."""
    def answer(request):
        gate.wait(10)
        return echo_reply(request)
    return answer


def press_twice(live, fake_openai, presses):
    """Run both presses at once while the upstream holds the first call; the one refused
    must come back at once. Returns (the refused response, the other)."""
    gate = threading.Event()
    fake_openai.requests.clear()
    fake_openai.respond(held(gate))
    sessions = [http_session(), http_session()]
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(press, session) for press, session in zip(presses, sessions)]
            first, _ = wait(futures, timeout=5, return_when=FIRST_COMPLETED)
            gate.set()
            assert first, "neither press came back while the upstream was answering"
            refused = first.pop()
            other = next(future for future in futures if future is not refused)
            return refused.result(), other.result()
    finally:
        gate.set()
        for session in sessions:
            session.close()


def regenerate_press(live):
    return lambda session: session.post(f"{live}/api/thread/twice/regenerate", json={},
                                        timeout=TIMEOUT)


def edit_press(live, words):
    return lambda session: session.patch(f"{live}/api/thread/twice/messages/last",
                                         json={"content": words}, timeout=TIMEOUT)


@pytest.mark.parametrize("kinds", [("regenerate", "regenerate"), ("edit", "edit"),
                                   ("regenerate", "edit")], ids="+".join)
def test_two_presses_at_once_make_one_call_and_leave_one_reply(live, http, fake_openai, kinds):
    ask(http, live, "Question", "twice")
    presses = [regenerate_press(live) if kind == "regenerate" else edit_press(live, f"Words {n}")
               for n, kind in enumerate(kinds)]

    refused, answered = press_twice(live, fake_openai, presses)

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "turn_in_progress"
    assert answered.status_code == 200, answered.text
    assert len(fake_openai.requests) == 1
    messages = thread_messages(http, live, "twice")
    question = messages[0]["content"]
    assert roles_and_contents(messages) == [("user", question), ("assistant", f"Echo: {question}")]
    assert answered.json()["reply"] == f"Echo: {question}"


def test_a_regenerate_while_a_streamed_edit_is_written_is_refused(live, http, fake_openai):
    ask(http, live, "Question", "busy")
    gate = threading.Event()
    pieces = stream_of("All of the new answer").pieces
    fake_openai.stream_with(Stream(held_after(pieces, 2, gate)))
    stream = open_redo(http, live, "/api/thread/busy/messages/last", {"content": "Better"},
                       "PATCH")
    try:
        with stream.response:
            events = iter(stream)
            assert [next(events)[0], next(events)[0]] == ["thread", "token"]
            with http_session() as other_tab:
                response = other_tab.post(f"{live}/api/thread/busy/regenerate", json={},
                                          timeout=TIMEOUT)
                assert response.status_code == 409
            gate.set()
            assert names(events)[-1] == "done"
    finally:
        gate.set()
    assert roles_and_contents(thread_messages(http, live, "busy")) == [
        ("user", "Better"), ("assistant", "All of the new answer")]


# --- the plain forms (no JavaScript) -------------------------------------------------------------

def test_the_thread_page_offers_regenerate_under_the_last_reply_and_edit_on_the_last_question(
        client):
    client.post("/api/chat", json={"message": "One", "threadId": "f1"})
    client.post("/api/chat", json={"message": "Two", "threadId": "f1"})

    page = client.get("/thread/f1").get_data(as_text=True)

    assert page.count('action="/thread/f1/regenerate"') == 1
    assert page.index(">Echo: Two<") < page.index('action="/thread/f1/regenerate"')
    assert page.count('href="/thread/f1?edit=last#edit-form"') == 1
    assert page.index(">Two<") < page.index("?edit=last") < page.index(">Echo: Two<")


def test_the_regenerate_form_needs_its_token_then_replaces_the_reply(client, fake_openai):
    client.post("/api/chat", json={"message": "One", "threadId": "f2"})
    assert client.post("/thread/f2/regenerate").status_code == 400  # no CSRF token
    fake_openai.reply_with("Fresh")

    response = client.post("/thread/f2/regenerate",
                           data={"csrf_token": csrf_token(client, "/thread/f2")})

    assert response.status_code == 302 and response.location == "/thread/f2#latest"
    assert roles_and_contents(client.get("/api/thread/f2").get_json()) == [
        ("user", "One"), ("assistant", "Fresh")]


def test_the_edit_form_shows_the_words_then_saves_them_and_the_new_reply(client):
    client.post("/api/chat", json={"message": "Tpyo", "threadId": "f3"})

    page = client.get("/thread/f3?edit=last").get_data(as_text=True)
    assert 'action="/thread/f3/edit"' in page
    assert re.search(r'<textarea id="edit-message" name="message"[^>]*>Tpyo</textarea>', page)
    token = CSRF.search(page).group(1)

    response = client.post("/thread/f3/edit", data={"csrf_token": token, "message": "Typo"})

    assert response.status_code == 302 and response.location == "/thread/f3#latest"
    assert roles_and_contents(client.get("/api/thread/f3").get_json()) == [
        ("user", "Typo"), ("assistant", "Echo: Typo")]


def test_a_bad_edit_comes_back_with_what_was_typed_and_what_is_wrong(client, fake_openai):
    client.post("/api/chat", json={"message": "Short", "threadId": "f4"})
    calls = len(fake_openai.requests)

    response = client.post("/thread/f4/edit", data={
        "csrf_token": csrf_token(client, "/thread/f4"), "message": "z" * 20_001})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "the limit is 20,000" in page
    assert "z" * 20_001 + "</textarea>" in page
    assert len(fake_openai.requests) == calls
    assert roles_and_contents(client.get("/api/thread/f4").get_json()) == [
        ("user", "Short"), ("assistant", "Echo: Short")]


def test_a_form_pressed_while_the_question_is_answered_says_so(service, client):
    service.begin("Being answered", "f5")
    token = csrf_token(client, "/thread/f5")

    for path, data in [("/thread/f5/regenerate", {}), ("/thread/f5/edit", {"message": "New"})]:
        response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
        assert "being answered right now" in response.get_data(as_text=True)
    assert roles_and_contents(client.get("/api/thread/f5").get_json()) == [
        ("user", "Being answered")]


def test_while_a_reply_is_regenerated_the_page_says_so_and_offers_no_second_press(service,
                                                                                client):
    client.post("/api/chat", json={"message": "One", "threadId": "f6"})
    service.begin_regenerate("f6")  # claimed, as by a Regenerate streaming in another tab

    page = client.get("/thread/f6").get_data(as_text=True)

    assert "A reply to this message is being written." in page
    assert "/thread/f6/regenerate" not in page and "edit=last" not in page
    assert ">Echo: One<" in page  # the old reply, until the new one is stored
