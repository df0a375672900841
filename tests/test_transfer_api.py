"""Export one conversation (GET /api/thread/<threadId>/export?format=md|json) and import one back
(POST /api/thread/import): the files, their headers, the round trip, and every refusal."""
import json

import pytest

from tests.helpers import stepping_clock, use_mongomock
from tests.test_api import assert_json_error


def chat(client, message, thread_id=None):
    body = {"message": message, **({"threadId": thread_id} if thread_id else {})}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 200, response.data
    return response.get_json()["threadId"]


@pytest.fixture
def conversation(app, client):
    """A three-turn conversation written through the API (the fake model echoes), one second
    per step from 2026-01-01; the last reply cut short as Stop leaves it. Returns its id."""
    stepping_clock(app)
    thread_id = chat(client, "What is a **closure**?")
    chat(client, "Show me one in Python", thread_id)
    store = app.extensions["thread_store"]
    question = store.append_message(thread_id, "user", "And in JavaScript?",
                                    "2026-01-01T00:01:00.000Z")
    store.append_message(thread_id, "assistant", "A closure in JS is", "2026-01-01T00:01:01.000Z",
                         reply_to=question, finish_reason="interrupted")
    return thread_id


def export(client, thread_id, fmt="json"):
    response = client.get(f"/api/thread/{thread_id}/export?format={fmt}")
    assert response.status_code == 200, response.data
    return response


def listed(client, thread_id):
    return next(t for t in client.get("/api/thread").get_json() if t["threadId"] == thread_id)


# --- export ----------------------------------------------------------------------------------

def test_json_export_holds_everything_the_store_keeps(client, conversation):
    response = export(client, conversation)

    assert response.mimetype == "application/json"
    document = json.loads(response.data)
    assert list(document) == ["format", "version", "threadId", "title", "createdAt", "updatedAt",
                              "model", "titleSet", "messages"]
    assert document["format"] == "chatapp.thread" and document["version"] == 1
    assert {k: document[k] for k in ("threadId", "title", "createdAt", "updatedAt")} == listed(
        client, conversation)
    assert (document["model"], document["titleSet"]) == (None, False)
    assert document["messages"] == [
        {"role": "user", "content": "What is a **closure**?",
         "timestamp": "2026-01-01T00:00:01.000Z", "finishReason": None, "usage": None},
        {"role": "assistant", "content": "Echo: What is a **closure**?",
         "timestamp": "2026-01-01T00:00:02.000Z", "finishReason": "stop",
         "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        {"role": "user", "content": "Show me one in Python",
         "timestamp": "2026-01-01T00:00:03.000Z", "finishReason": None, "usage": None},
        {"role": "assistant", "content": "Echo: Show me one in Python",
         "timestamp": "2026-01-01T00:00:04.000Z", "finishReason": "stop",
         "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        {"role": "user", "content": "And in JavaScript?", "timestamp": "2026-01-01T00:01:00.000Z",
         "finishReason": None, "usage": None},
        {"role": "assistant", "content": "A closure in JS is",
         "timestamp": "2026-01-01T00:01:01.000Z", "finishReason": "interrupted", "usage": None},
    ]


def test_markdown_export_is_a_readable_transcript(client, conversation):
    response = export(client, conversation, "md")

    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("# What is a **closure**?\n\n"
                           "Started 2026-01-01 00:00 UTC · last active 2026-01-01 00:01 UTC\n")
    assert ("## You · 2026-01-01 00:00 UTC\n\nWhat is a **closure**?\n\n"
            "## Assistant · 2026-01-01 00:00 UTC\n\nEcho: What is a **closure**?\n") in text
    assert text.endswith("## Assistant · 2026-01-01 00:01 UTC (stopped: cut short)\n\n"
                         "A closure in JS is\n")
    assert text.count("## You") == 3 and text.count("## Assistant") == 3


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_exports_download_as_files_named_after_the_title(client, conversation, fmt):
    response = export(client, conversation, fmt)

    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="What-is-a-closure.{fmt}"')
    assert response.headers["Cache-Control"] == "no-store"


def test_json_is_the_export_format_when_none_is_named(client, conversation):
    response = client.get(f"/api/thread/{conversation}/export")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()["threadId"] == conversation


@pytest.mark.parametrize("title, ascii_name, full_name", [
    ('../../etc/passwd "x"; rm -rf', "etc-passwd-x-rm-rf.md", None),
    ("Crème brûlée für 2 Personen", "Creme-brulee-fur-2-Personen.md",
     "Cr%C3%A8me-br%C3%BBl%C3%A9e-f%C3%BCr-2-Personen.md"),
    ("日本語のタイトル", "conversation.md",
     "%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E3%82%BF%E3%82%A4%E3%83%88%E3%83%AB.md"),
    ("?!… ¿¡", "conversation.md", None),
])
def test_a_download_name_is_safe_whatever_the_title(app, client, title, ascii_name, full_name):
    store = app.extensions["thread_store"]
    store.create_thread_if_missing("t1", title, "2026-01-01T00:00:00.000Z")

    header = export(client, "t1", "md").headers["Content-Disposition"]

    expected = f'attachment; filename="{ascii_name}"'
    if full_name:
        expected += f"; filename*=UTF-8''{full_name}"
    assert header == expected


def test_exporting_an_unknown_conversation_is_404(client):
    assert_json_error(client.get("/api/thread/nope/export?format=md"), 404, "not_found")


@pytest.mark.parametrize("query", ["format=pdf", "format=", "format=JSON"])
def test_an_unknown_export_format_is_400(client, conversation, query):
    error = assert_json_error(client.get(f"/api/thread/{conversation}/export?{query}"), 400)
    assert error["message"] == 'format must be "md" (Markdown) or "json".'


def test_exporting_a_bad_thread_id_is_400(client):
    assert_json_error(client.get("/api/thread/bad%20id/export"), 400, "bad_request")


# --- import ------------------------------------------------------------------------------------

def test_export_delete_import_gives_back_the_same_conversation(client, conversation):
    document = export(client, conversation).data
    before = (listed(client, conversation), client.get(f"/api/thread/{conversation}").get_json())
    assert client.delete(f"/api/thread/{conversation}").status_code == 200

    response = client.post("/api/thread/import", data=document, content_type="application/json")

    assert response.status_code == 201
    assert response.get_json() == before[0]  # the thread as in the list, keeping its id
    assert response.headers["Location"] == f"/api/thread/{conversation}"
    after = (listed(client, conversation), client.get(f"/api/thread/{conversation}").get_json())
    assert after == before
    assert export(client, conversation).data == document  # byte for byte


def test_an_imported_conversation_goes_on_with_its_history(client, conversation, fake_openai):
    document = export(client, conversation).get_json()
    client.delete(f"/api/thread/{conversation}")
    client.post("/api/thread/import", json=document)

    chat(client, "Thanks!", conversation)

    sent = [m["content"] for m in fake_openai.requests[-1]["json"]["messages"]]
    assert sent == [m["content"] for m in document["messages"]] + ["Thanks!"]


def test_importing_an_id_that_exists_is_409_and_changes_nothing(client, conversation):
    document = export(client, conversation).get_json()
    changed = {**document, "title": "Other", "messages": document["messages"][:2]}

    error = assert_json_error(client.post("/api/thread/import", json=changed), 409, "thread_exists")

    assert conversation in error["message"]
    assert export(client, conversation).get_json() == document


def test_a_hand_written_conversation_can_be_imported(client):
    # format, version, model, titleSet, finishReason and usage may be left out.
    response = client.post("/api/thread/import", json={
        "threadId": "from-elsewhere", "title": "Notes", "createdAt": "2025-05-01T10:00:00+02:00",
        "updatedAt": "2025-05-01T08:05:00Z", "messages": [
            {"role": "user", "content": "Hi", "timestamp": "2025-05-01T08:00:00Z"},
            {"role": "assistant", "content": "Hello", "timestamp": "2025-05-01T08:00:01.5Z"}]})

    assert response.status_code == 201
    assert response.get_json() == {"threadId": "from-elsewhere", "title": "Notes",
                                   "createdAt": "2025-05-01T08:00:00.000Z",  # kept in UTC
                                   "updatedAt": "2025-05-01T08:05:00.000Z"}
    assert client.get("/api/thread/from-elsewhere").get_json()[1] == {
        "role": "assistant", "content": "Hello", "timestamp": "2025-05-01T08:00:01.500Z",
        "finishReason": "stop"}


def valid_document():
    return {"format": "chatapp.thread", "version": 1, "threadId": "new-one", "title": "A title",
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:02.000Z",
            "model": None, "titleSet": False, "messages": [
                {"role": "user", "content": "q", "timestamp": "2026-01-01T00:00:01.000Z",
                 "finishReason": None, "usage": None},
                {"role": "assistant", "content": "a", "timestamp": "2026-01-01T00:00:02.000Z",
                 "finishReason": "stop", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}]}


def changed(path, value):
    """valid_document() with the field at `path` set to `value` (or removed, for DELETE)."""
    document = valid_document()
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return document


DELETE = object()
ID_RULE = "threadId must be a string of 1 to 64 letters, digits, '-' or '_'."
TIME_RULE = "must be a time in ISO 8601 with its time zone, e.g. 2026-11-26T21:34:37.123Z."
BAD_DOCUMENTS = [
    (["threadId"], DELETE, "threadId is missing."),
    (["threadId"], "has space", ID_RULE),
    (["threadId"], "x" * 65, ID_RULE),
    (["threadId"], 42, ID_RULE),
    (["format"], "something.else", 'format must be "chatapp.thread".'),
    (["version"], 2, "version must be 1; this chatapp reads no other."),
    (["version"], True, "version must be 1; this chatapp reads no other."),
    (["title"], DELETE, "title is missing."),
    (["title"], "   ", "title must be a string of 1 to 200 characters."),
    (["title"], "x" * 201, "title must be a string of 1 to 200 characters."),
    (["title"], ["A", "list"], "title must be a string of 1 to 200 characters."),
    (["createdAt"], DELETE, "createdAt is missing."),
    (["createdAt"], "yesterday", f"createdAt {TIME_RULE}"),
    (["createdAt"], "2026-01-01T00:00:00", f"createdAt {TIME_RULE}"),  # no zone: whose midnight?
    (["updatedAt"], 1767225600, f"updatedAt {TIME_RULE}"),
    (["model"], 7, "model must be null or a string of 1 to 200 characters."),
    (["model"], "", "model must be null or a string of 1 to 200 characters."),
    (["titleSet"], "yes", "titleSet must be true or false."),
    (["messages"], DELETE, "messages is missing."),
    (["messages"], {"role": "user"}, "messages must be a list (it may be empty)."),
    (["messages", 1], "a reply", "messages[1] must be an object with role, content and timestamp."),
    (["messages", 1, "role"], "system", 'messages[1].role must be "user" or "assistant".'),
    (["messages", 1, "role"], DELETE, "messages[1].role is missing."),
    (["messages", 0, "content"], DELETE, "messages[0].content is missing."),
    (["messages", 0, "content"], 5, "messages[0].content must be a string."),
    (["messages", 0, "content"], " \n ",
     "messages[0].content must not be empty: it is a question."),
    (["messages", 0, "content"], "x" * 20_001,
     "messages[0].content is 20,001 characters long; the limit is 20,000."),
    (["messages", 1, "timestamp"], DELETE, "messages[1].timestamp is missing."),
    (["messages", 1, "timestamp"], "2026-13-01T00:00:00Z", f"messages[1].timestamp {TIME_RULE}"),
    (["messages", 0, "finishReason"], "stop",
     "messages[0] is a question: finishReason and usage belong to replies."),
    (["messages", 1, "finishReason"], 1,
     'messages[1].finishReason must be null or a word such as "stop".'),
    (["messages", 1, "usage"], {"total_tokens": 3},
     "messages[1].usage must be null or an object of prompt_tokens and completion_tokens."),
    (["messages", 1, "usage"], {"prompt_tokens": -1},
     "messages[1].usage.prompt_tokens must be null or a whole number, 0 or more."),
    (["messages", 1, "usage"], {"completion_tokens": 1.5},
     "messages[1].usage.completion_tokens must be null or a whole number, 0 or more."),
]


@pytest.mark.parametrize("path, value, message", BAD_DOCUMENTS, ids=[
    f"{'.'.join(map(str, path))}={str(value)[:20]}" for path, value, _ in BAD_DOCUMENTS])
def test_a_bad_conversation_is_400_saying_what_is_wrong_and_stores_nothing(client, path, value,
                                                                          message):
    error = assert_json_error(client.post("/api/thread/import", json=changed(path, value)), 400,
                              "bad_request")

    assert error["message"] == message
    assert client.get("/api/thread").get_json() == []


def test_a_long_reply_is_fine_where_a_long_question_is_not(client):
    # Replies are the model's: MAX_MESSAGE_CHARS limits what a person sends.
    document = changed(["messages", 1, "content"], "x" * 30_000)

    response = client.post("/api/thread/import", json=document)

    assert response.status_code == 201
    assert len(client.get("/api/thread/new-one").get_json()[1]["content"]) == 30_000


@pytest.mark.parametrize("body, message", [
    ("[]", "The conversation must be a JSON object, as "
           "GET /api/thread/<threadId>/export?format=json gives it."),
    ("null", "The conversation must be a JSON object, as "
             "GET /api/thread/<threadId>/export?format=json gives it."),
    ('{"threadId": ', "The body is not valid JSON."),
])
def test_a_body_that_is_no_conversation_is_400(client, body, message):
    response = client.post("/api/thread/import", data=body, content_type="application/json")

    assert assert_json_error(response, 400, "bad_request")["message"] == message


@pytest.mark.parametrize("kwargs", [
    {"data": json.dumps(valid_document()), "content_type": "text/plain"},
    {"data": {"file": "x"}},
    {},
])
def test_an_import_not_sent_as_json_is_415(client, kwargs):
    assert_json_error(client.post("/api/thread/import", **kwargs), 415, "unsupported_media_type")
    assert client.get("/api/thread").get_json() == []


class TestSizeLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 4096}

    def test_a_body_over_max_content_length_is_413(self, client):
        document = changed(["messages", 1, "content"], "x" * 5000)

        response = client.post("/api/thread/import", json=document)

        assert_json_error(response, 413, "payload_too_large")
        assert client.get("/api/thread").get_json() == []


class TestOnMongo:
    """The same round trip on MongoDB (mongomock), and extended JSON, which the Mongo app decodes
    into BSON types ({"$date": ...} becomes a datetime), refused like any other wrong type."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp", "MONGO_TIMEOUT_MS": 500}

    @pytest.fixture
    def app(self, app):
        return use_mongomock(app)

    def test_export_delete_import_gives_back_the_same_conversation(self, client, conversation):
        document = export(client, conversation).data
        before = client.get(f"/api/thread/{conversation}").get_json()
        client.delete(f"/api/thread/{conversation}")

        assert client.post("/api/thread/import", data=document,
                           content_type="application/json").status_code == 201
        assert client.get(f"/api/thread/{conversation}").get_json() == before
        assert export(client, conversation).data == document

    @pytest.mark.parametrize("path, value, message", [
        (["createdAt"], {"$date": 0}, f"createdAt {TIME_RULE}"),
        (["threadId"], {"$oid": "5f0000000000000000000001"},
         ID_RULE),
        (["messages", 0, "content"], {"$oid": "5f0000000000000000000001"},
         "messages[0].content must be a string."),
    ], ids=["date", "oid", "content-oid"])
    def test_bson_typed_values_are_400(self, app, client, path, value, message):
        error = assert_json_error(client.post("/api/thread/import", json=changed(path, value)), 400)

        assert error["message"] == message
        assert app.extensions["thread_store"].messages_.count_documents({}) == 0

