"""Hostile input: whatever a client sends, in a JSON body, a form or a query string, the app
answers it without a 5xx, a refusal is a 400 that names the problem, and a refused request has
written nothing (no thread left without its message, no half-made edit or import)."""
import base64
import json

import pytest

from tests.helpers import conversation, use_mongomock
from tests.test_views import csrf_token

LONE = "\\ud800"  # a JSON escape for a lone surrogate: not Unicode text, and no database stores it


def send_json(client, method, path, raw):
    return client.open(path, method=method, data=raw, content_type="application/json")


def assert_refused(response, *words):
    assert response.status_code == 400, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    for word in words:
        assert word in message, message


def snapshot(client):
    """Everything a client can read back: the list, and each thread's messages."""
    threads = client.get("/api/thread").get_json()
    return threads, {t["threadId"]: client.get(f"/api/thread/{t['threadId']}").get_json()
                     for t in threads}


def document(**fields):
    """An import document for thread "imported" with one exchange, `fields` replaced."""
    return json.dumps({
        "format": "chatapp.thread", "version": 1, "threadId": "imported", "title": "Imported",
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:02.000Z",
        "messages": [{"role": "user", "content": "Hi", "timestamp": "2026-01-01T00:00:01.000Z"},
                     {"role": "assistant", "content": "Hello", "timestamp":
                      "2026-01-01T00:00:02.000Z", "usage": {"prompt_tokens": 3}}],
        **fields})


@pytest.fixture
def existing(app):
    conversation(app, "t1", "Kept as it was", "First question", "First reply")
    return "t1"


# --- JSON bodies: one check where every body is parsed -------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("on_mongo", [False, True], ids=["sqlite", "mongomock"])
def test_a_lone_surrogate_in_a_new_message_is_400_and_leaves_no_thread(
        app, client, fake_openai, stream, on_mongo):
    if on_mongo:
        use_mongomock(app)
    # Past the 60 characters a title takes: a title was stored, then the message failed.
    raw = '{"message": "%s%s", "stream": %s}' % ("a" * 80, LONE, json.dumps(stream))
    assert_refused(send_json(client, "POST", "/api/chat", raw), "message", "surrogate")
    assert client.get("/api/thread").get_json() == []
    assert fake_openai.requests == []


REFUSED_BODIES = [  # (method, path, body, the field the error names)
    ("POST", "/api/chat", '{"threadId": "t1", "message": "Hi %s"}' % LONE, "message"),
    ("POST", "/api/chat", '{"threadId": "t1", "message": "Hi", "model": "%s"}' % LONE, "model"),
    ("PATCH", "/api/thread/t1", '{"title": "Trip %s"}' % LONE, "title"),
    ("PATCH", "/api/thread/t1/messages/last", '{"content": "%s"}' % LONE, "content"),
    ("PATCH", "/api/thread/t1/messages/last", '{"content": "x%s", "stream": true}' % LONE,
     "content"),
    ("POST", "/api/thread/t1/regenerate", '{"stream": true, "%s": 1}' % LONE, "a key in the JSON"),
    ("POST", "/api/thread/import",
     document().replace('"Hello"', f'"Hello {LONE}"'), "messages[1].content"),
    ("POST", "/api/thread/import", document().replace('"Imported"', '"\\udfff"'), "title"),
]


@pytest.mark.parametrize("method, path, raw, field", REFUSED_BODIES)
def test_a_lone_surrogate_anywhere_in_a_body_is_400_naming_it_and_changes_nothing(
        client, fake_openai, existing, method, path, raw, field):
    before = snapshot(client)
    assert_refused(send_json(client, method, path, raw), field, "not valid Unicode text")
    assert snapshot(client) == before
    assert fake_openai.requests == []


JSON_ROUTES = [("POST", "/api/chat", "message"), ("PATCH", "/api/thread/t1", "title"),
               ("PATCH", "/api/thread/t1/messages/last", "content"),
               ("POST", "/api/thread/t1/regenerate", "stream"),
               ("POST", "/api/thread/import", "messages")]


@pytest.mark.parametrize("levels", [33, 100_000])
@pytest.mark.parametrize("method, path, field", JSON_ROUTES)
def test_deeply_nested_json_is_400_and_changes_nothing(
        client, fake_openai, existing, method, path, field, levels):
    before = snapshot(client)
    raw = '{"%s": %s%s}' % (field, "[" * levels, "]" * levels)
    assert_refused(send_json(client, method, path, raw), "nested more than 32 levels")
    assert snapshot(client) == before


def test_nesting_within_the_limit_is_read_as_usual(client, fake_openai):
    raw = '{"message": "Hi", "extra": %s1%s}' % ("[" * 31, "]" * 31)
    response = send_json(client, "POST", "/api/chat", raw)
    assert response.status_code == 200
    assert response.get_json()["reply"] == "Echo: Hi"


@pytest.mark.parametrize("count, problem", [
    ("18446744073709551616", "messages[1].usage.prompt_tokens is a number too large"),
    ("1e999", "messages[1].usage.prompt_tokens is a number too large"),
    ("NaN", "not valid JSON"), ("Infinity", "not valid JSON"),
])
def test_numbers_no_database_can_hold_are_400_and_import_nothing(client, count, problem):
    raw = document().replace('"prompt_tokens": 3', f'"prompt_tokens": {count}')
    assert_refused(send_json(client, "POST", "/api/thread/import", raw), problem)
    assert client.get("/api/thread/imported").status_code == 404


@pytest.mark.parametrize("fields, field", [
    ({"createdAt": "0001-01-01T00:00:00+01:00"}, "createdAt"),  # in year 0 in UTC
    ({"updatedAt": "9999-12-31T23:30:00-01:00"}, "updatedAt"),  # in year 10000 in UTC
    ({"createdAt": "2026-01-01T00:00:00"}, "createdAt"),  # whose time zone?
])
def test_an_import_with_a_time_out_of_range_is_400_naming_it(client, fields, field):
    response = send_json(client, "POST", "/api/thread/import", document(**fields))
    assert_refused(response, f"{field} must be a time in ISO 8601")
    assert client.get("/api/thread/imported").status_code == 404


# --- query strings: the page cursor and the rest -------------------------------------------

def cursor_of(text):
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = {
    "year 0 in UTC": cursor_of("0001-01-01T00:00:00.000+01:00|t1"),
    "year 10000 in UTC": cursor_of("9999-12-31T23:59:59.999-01:00|t1"),
    "no time zone": cursor_of("2026-01-01T00:00:00|t1"),
    "not a time": cursor_of("yesterday|t1"),
    "no thread id": cursor_of("2026-01-01T00:00:00.000Z"),
    "not UTF-8": cursor_of(b"\xff\xfe|t1"),
    "a lone surrogate": cursor_of("2026-01-01T00:00:00.000Z|\ud800"),
    "not base64": "**~~",
}


@pytest.mark.parametrize("search", [None, "question"], ids=["list", "search"])
@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_cursor_that_names_no_position_is_400_in_the_api(client, existing, cursor, search):
    response = client.get("/api/thread", query_string={"cursor": cursor, "q": search})
    assert_refused(response, "page cursor is not valid")


@pytest.mark.parametrize("path, search", [("/", None), ("/thread/t1", None), ("/", "question")])
@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_cursor_that_names_no_position_is_a_400_page_leading_back(client, existing, path,
                                                                     search, cursor):
    response = client.get(path, query_string={"cursor": cursor, "q": search})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The page cursor is not valid; start again from the first page." in page
    assert 'href="/"' in page


def test_a_cursor_at_the_edge_of_time_still_pages(client, existing):
    cursor = cursor_of("9999-12-31T23:59:59.999Z|zzz")
    response = client.get("/api/thread", query_string={"cursor": cursor})
    assert response.status_code == 200
    assert [t["threadId"] for t in response.get_json()] == ["t1"]


@pytest.mark.parametrize("url, status", [
    ("/api/thread?limit=" + "1" * 5000, 400),
    ("/api/thread?limit=%D9%A1", 400),  # an Arabic-Indic one: a digit, but not ours
    ("/api/thread?q=%ED%A0%80", 200),  # a surrogate's UTF-8 bytes: not text
    ("/api/thread?q=%FF%00", 200),
    ("/?q=%ED%A0%80", 200),
    ("/thread/t1?rename=%ED%A0%80", 200),
    ("/thread/t1?edit=%FF", 200),
    ("/api/thread/t1/export?format=%ED%A0%80", 400),
    ("/thread/%ED%A0%80", 404),
    ("/api/thread/%ED%A0%80", 400),
])
def test_malformed_query_strings_and_paths_never_answer_5xx(client, existing, url, status):
    assert client.get(url).status_code == status


# --- forms ---------------------------------------------------------------------------------

def every_stored_text(app):
    store = app.extensions["thread_store"]
    for thread in store.list_threads(100).threads:
        yield thread.title
        yield from (message.content for message in store.messages(thread.thread_id))


@pytest.mark.parametrize("path, field", [
    ("/", "message"), ("/thread/t1", "message"), ("/thread/t1/rename", "title"),
    ("/thread/t1/edit", "message"),
])
@pytest.mark.parametrize("bad_bytes", ["%ED%A0%80", "%FF%FE", "%C0%80"])
def test_malformed_utf8_in_a_form_is_answered_and_stores_only_unicode_text(
        app, client, fake_openai, existing, path, field, bad_bytes):
    body = f"csrf_token={csrf_token(client, '/thread/t1')}&{field}=Hi{bad_bytes}"
    response = client.post(path, data=body.encode(),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 303), response.status_code
    for text in every_stored_text(app):
        text.encode("utf-8")  # raises if a surrogate got in


# --- flask import: the same check, line by line --------------------------------------------

def test_flask_import_reports_hostile_lines_and_imports_the_rest(app, runner, tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join([
        document(threadId="nested")[:-1] + ', "extra": %s%s}' % ("[" * 5000, "]" * 5000),
        document(threadId="surrogate").replace('"Imported"', f'"Bad {LONE}"'),
        document(threadId="ancient", createdAt="0001-01-01T00:00:00+05:00"),
        document(threadId="fine"),
    ]), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("1 imported (2 messages)")
    assert lines[1] == "  line 1: The JSON is nested more than 32 levels deep."
    assert lines[2] == ("  line 2: title is not valid Unicode text: it holds a lone surrogate "
                        "(such as \\ud800 without its pair), which cannot be stored.")
    assert lines[3].startswith("  line 3: createdAt must be a time in ISO 8601")
    threads = app.extensions["thread_store"].list_threads(10).threads
    assert [t.thread_id for t in threads] == ["fine"]
