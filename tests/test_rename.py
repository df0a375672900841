"""Renaming a conversation: PATCH /api/thread/<threadId> {"title"}, and the pages' form for when
JavaScript is off (the current row's Rename button opens it; it posts with CSRF, then redirects)."""
import pytest

from tests.helpers import seed_threads
from tests.test_api import assert_json_error
from tests.test_views import assert_html, assert_redirect, csrf_token, parse

LISTED = ["threadId", "title", "createdAt", "updatedAt"]


def patch(client, thread_id, body, **options):
    return client.patch(f"/api/thread/{thread_id}", json=body, **options)


def listed(client):
    return client.get("/api/thread").get_json()


def error_message(response, status=400):
    error = assert_json_error(response, status)
    assert response.mimetype == "application/json"  # exactly: is_json takes any +json type too
    return error["message"]


# --- the API --------------------------------------------------------------------------------------

def test_rename_answers_the_thread_as_the_list_shows_it_and_keeps_its_place(app, client):
    seed_threads(app, 3)
    before = listed(client)
    response = patch(client, "t000", {"title": "The oldest, renamed"})

    assert response.status_code == 200
    thread = response.get_json()
    assert list(thread) == LISTED
    assert thread["title"] == "The oldest, renamed"
    after = listed(client)
    assert after[-1] == thread  # the same object the list gives, still last: not "updated"
    assert [t["threadId"] for t in after] == [t["threadId"] for t in before]
    assert thread["updatedAt"] == before[-1]["updatedAt"]
    assert thread["createdAt"] == before[-1]["createdAt"]


@pytest.mark.parametrize("sent, kept", [
    ("  Trip to Rome \n", "Trip to Rome"),
    ("Two\nlines\tand   gaps", "Two lines and gaps"),
    ("x", "x"),
    ("é" * 200, "é" * 200),
    ("   " + "a" * 200 + "   ", "a" * 200),
    ("<b>not bold</b> & “quotes”", "<b>not bold</b> & “quotes”"),
])
def test_the_title_is_trimmed_onto_one_line(app, client, sent, kept):
    seed_threads(app, 1)
    assert patch(client, "t000", {"title": sent}).get_json()["title"] == kept
    assert listed(client)[0]["title"] == kept


@pytest.mark.parametrize("body, message", [
    ({}, 'title is required, e.g. {"title": "Trip to Rome"}.'),
    ({"title": None}, 'title is required, e.g. {"title": "Trip to Rome"}.'),
    ({"title": 42}, "title must be a string."),
    ({"title": ["Rome"]}, "title must be a string."),
    ({"title": True}, "title must be a string."),
    ({"title": ""}, "title must not be empty."),
    ({"title": " \n\t "}, "title must not be empty."),
    ({"title": "a" * 201}, "title is 201 characters long (after trimming); the limit is 200."),
    (["title"], 'The body must be a JSON object, e.g. {"title": "Trip to Rome"}.'),
    ("Rome", 'The body must be a JSON object, e.g. {"title": "Trip to Rome"}.'),
])
def test_a_bad_title_is_a_400_that_says_what_is_wrong_and_changes_nothing(app, client, body,
                                                                          message):
    seed_threads(app, 1)
    assert error_message(patch(client, "t000", body)) == message
    assert listed(client)[0]["title"] == "Thread 0"


def test_malformed_json_and_other_media_types_are_refused(app, client):
    seed_threads(app, 1)
    broken = client.patch("/api/thread/t000", data='{"title": ', content_type="application/json")
    assert broken.status_code == 400
    form = client.patch("/api/thread/t000", data={"title": "x"})
    assert error_message(form, 415) == "Send the body as JSON with Content-Type: application/json."
    assert listed(client)[0]["title"] == "Thread 0"


def test_renaming_a_missing_or_badly_named_thread(client):
    assert patch(client, "nope", {"title": "x"}).status_code == 404
    assert error_message(patch(client, "bad id!", {"title": "x"})).startswith("threadId must be")
    assert error_message(patch(client, "x" * 65, {"title": "x"})).startswith("threadId must be")


def test_the_persons_title_stays_through_later_turns(client, fake_openai):
    thread_id = client.post("/api/chat", json={"message": "hello"}).get_json()["threadId"]
    patch(client, thread_id, {"title": "Greetings"})
    turn = client.post("/api/chat", json={"threadId": thread_id, "message": "again"}).get_json()
    assert turn["title"] == "Greetings"
    assert listed(client)[0]["title"] == "Greetings"


# --- the pages, without JavaScript ----------------------------------------------------------------

def rename_button(page):
    return [b for b in page.buttons if b["form"] == "rename-thread"]


def test_only_the_current_row_has_a_rename_button_and_it_opens_the_form(app, client):
    seed_threads(app, 3)
    assert rename_button(parse(client.get("/"))) == []
    page = parse(client.get("/thread/t001"))
    [button] = rename_button(page)
    assert button == {"form": "rename-thread", "formaction": "/thread/t001",
                      "label": "Rename “Thread 1”"}
    [form] = [f for f in page.forms if f["id"] == "rename-thread"]
    assert form["fields"] == {"rename": "1"}  # a GET: /thread/t001?rename=1

    opened = client.get("/thread/t001", query_string=form["fields"])
    assert_html(opened, 200)
    [rename] = [f for f in parse(opened).forms if "rename-form" in f["class"]]
    assert rename["action"] == "/thread/t001/rename"
    assert rename["fields"]["title"] == "Thread 1"
    assert rename["fields"]["csrf_token"]
    assert 'id="rename-title" name="title" value="Thread 1" maxlength="200" required autofocus' \
        in opened.get_data(as_text=True)
    assert "rename-form" not in client.get("/thread/t001").get_data(as_text=True)


def test_the_form_renames_then_redirects_to_the_conversation(app, client):
    seed_threads(app, 2)
    token = csrf_token(client, "/thread/t000?rename=1")
    response = client.post("/thread/t000/rename", data={"csrf_token": token,
                                                        "title": "  Renamed by form  "})
    assert_redirect(response, "/thread/t000")
    page = parse(client.get("/thread/t000"))
    assert "Conversation renamed." in page.notices
    assert [link["title"] for link in page.sidebar] == ["Thread 1", "Renamed by form"]
    assert listed(client)[1]["title"] == "Renamed by form"


@pytest.mark.parametrize("title, message", [
    ("   ", "title must not be empty."),
    ("b" * 250, "title is 250 characters long (after trimming); the limit is 200."),
])
def test_a_bad_title_shows_the_form_again_with_what_was_typed(app, client, title, message):
    seed_threads(app, 1)
    token = csrf_token(client, "/thread/t000?rename=1")
    response = client.post("/thread/t000/rename", data={"csrf_token": token, "title": title})
    assert_html(response, 400)
    html = response.get_data(as_text=True)
    assert message in html
    [form] = [f for f in parse(response).forms if "rename-form" in f["class"]]
    assert form["action"] == "/thread/t000/rename"
    assert form["fields"]["title"] == title
    assert listed(client)[0]["title"] == "Thread 0"


def test_the_form_needs_its_token_and_a_thread(app, client):
    seed_threads(app, 1)
    assert client.post("/thread/t000/rename", data={"title": "No token"}).status_code == 400
    assert listed(client)[0]["title"] == "Thread 0"
    token = csrf_token(client)
    assert client.post("/thread/gone/rename", data={"csrf_token": token,
                                                    "title": "x"}).status_code == 404
    assert client.get("/thread/gone?rename=1").status_code == 404
