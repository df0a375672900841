"""Hostile content (tests/hostile_corpus.py) as questions and as replies: through the API (whole
and streamed) and the page's form (with and without JavaScript). Every request answers without a
5xx, and in Chromium nothing runs, nothing from a payload is live HTML, and the layout holds.

The browser ignores the Content-Security-Policy here (bypass_csp): the policy would stop an
inline script that got through, and these tests are about the escaping, the wall in front of it."""
import pytest

from tests.fake_openai import answer
from tests.hostile_corpus import CORPUS, NOT_UNICODE
from tests.hostile_page import markup_problems, page_problems
from tests.sse_client import sse_events
from tests.test_browser import (DESKTOP, PHONE, browser, dialogs,  # noqa: F401 (fixtures)
                                new_page, send, server)
from tests.test_hostile_input import every_stored_text
from tests.test_views import csrf_token

NAMES = [name for name, _text in CORPUS]
TEXTS = [text for _name, text in CORPUS]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SYSTEM_PROMPT": ""}  # the question is the prompt's last message


@pytest.fixture
def parrot(fake_openai):
    """The fake model answers each question with the question itself, whole or streamed."""
    fake_openai.respond(lambda request: answer(request, request["messages"][-1]["content"]))
    return fake_openai


def stored(text):
    """The text as the app keeps a question: line breaks as LF, trimmed."""
    return text.replace("\r\n", "\n").strip()


def typed(text):
    """The text as a textarea holds it: every line break (CR, LF or both) an LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def events_of(response):
    return [data for _name, data in sse_events(response)]


# --- the API and the pages, without a browser ---------------------------------------------

@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_hostile_content_through_the_api_is_kept_as_sent_and_nothing_answers_5xx(
        client, parrot, text):
    whole = client.post("/api/chat", json={"message": text})
    assert whole.status_code == 200, whole.get_data(as_text=True)
    thread_id = whole.get_json()["threadId"]
    streamed = client.post("/api/chat", json={"message": text, "threadId": thread_id,
                                              "stream": True})
    assert streamed.status_code == 200
    assert events_of(streamed)[-1]["reply"] == stored(text)
    messages = client.get(f"/api/thread/{thread_id}").get_json()
    assert [m["content"] for m in messages] == [stored(text)] * 4

    renamed = client.patch(f"/api/thread/{thread_id}", json={"title": text[:200]})
    assert renamed.status_code in (200, 400)  # a title is one line: some texts are refused
    for path in ["/", f"/thread/{thread_id}", f"/thread/{thread_id}?edit=last",
                 f"/thread/{thread_id}?rename=1", "/api/thread",
                 f"/api/thread/{thread_id}/export?format=md",
                 f"/api/thread/{thread_id}/export?format=json"]:
        response = client.get(path)
        assert response.status_code == 200, path
        if response.mimetype == "text/html":
            # The edit and rename forms hold the text too; the browser tests open neither.
            assert markup_problems(response.get_data(as_text=True)) == [], path
    for path in ["/", "/api/thread"]:
        assert client.get(path, query_string={"q": text[:50]}).status_code < 500, path


BODIES = [  # (method, path, a JSON body with VALUE where the raw bytes go)
    ("POST", "/api/chat", b'{"message": VALUE}'),
    ("POST", "/api/chat", b'{"message": VALUE, "stream": true}'),
    ("PATCH", "/api/thread/t1", b'{"title": VALUE}'),
    ("PATCH", "/api/thread/t1/messages/last", b'{"content": VALUE}'),
]


@pytest.mark.parametrize("raw", NOT_UNICODE.values(), ids=NOT_UNICODE.keys())
def test_json_that_is_not_unicode_text_is_refused_with_400_and_stores_nothing(client, parrot,
                                                                               raw):
    client.post("/api/chat", json={"message": "Kept", "threadId": "t1"})
    before = client.get("/api/thread/t1").get_json()
    for method, path, body in BODIES:
        response = client.open(path, method=method, data=body.replace(b"VALUE", raw),
                               content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code)
    assert client.get("/api/thread/t1").get_json() == before
    assert [t["threadId"] for t in client.get("/api/thread").get_json()] == ["t1"]


def form_bodies(token, message):
    """The same form, URL-encoded and as multipart, its message field raw bytes."""
    boundary = b"hostile-boundary"
    part = b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
    return {
        "application/x-www-form-urlencoded": b"csrf_token=%s&message=%s" % (token, message),
        "multipart/form-data; boundary=hostile-boundary": (
            part % (boundary, b"csrf_token", token) + part % (boundary, b"message", message)
            + b"--%s--\r\n" % boundary),
    }


@pytest.mark.parametrize("raw", NOT_UNICODE.values(), ids=NOT_UNICODE.keys())
def test_a_form_with_bytes_that_are_not_unicode_stores_only_unicode_text(app, client, parrot,
                                                                         raw):
    token = csrf_token(client).encode()
    for content_type, body in form_bodies(token, b"Hi " + raw.strip(b'"')).items():
        response = client.post("/", data=body, content_type=content_type)
        # Werkzeug reads a URL-encoded body with raw malformed bytes as an empty form (so a
        # 400: no CSRF token); a multipart one, with U+FFFD for them.
        assert response.status_code in (302, 303, 400), (content_type, response.status_code)
    for text in every_stored_text(app):
        text.encode("utf-8")  # raises if anything but Unicode text got in


# --- in Chromium ----------------------------------------------------------------------------

def open_checked(new_page, server, **options):
    """A page that ignores the CSP, answers nothing off the site, and notes any 5xx."""
    page = new_page(bypass_csp=True, **options)
    page.route(lambda url: not url.startswith(server.url), lambda route: route.abort())
    page.server_errors = []
    page.on("response", lambda response: response.status >= 500 and page.server_errors.append(
        f"{response.status} {response.url}"))
    return page


def assert_safe_and_whole(page, dialogs, where):
    page.wait_for_load_state("load")
    problems = page_problems(page)
    assert problems == [], f"{where}: {problems}"
    assert page.server_errors == [], where
    assert dialogs.seen == [], where


def test_hostile_content_from_the_api_runs_nothing_and_keeps_every_layout(
        app, client, new_page, server, parrot, dialogs):
    for text in TEXTS:  # a thread named by each, and one thread holding them all
        client.post("/api/chat", json={"message": text})
        client.post("/api/chat", json={"message": text, "threadId": "all"})
    for viewport in (DESKTOP, PHONE):
        page = open_checked(new_page, server, viewport=viewport)
        page.goto("/thread/all")
        assert_safe_and_whole(page, dialogs, f"/thread/all at {viewport['width']} px")
        if viewport is PHONE:
            page.locator("label[for=sidebar-toggle]").filter(has_text="Conversations").click()
            assert_safe_and_whole(page, dialogs, "the phone's sidebar opened")


def test_hostile_content_typed_into_the_page_runs_nothing_and_keeps_the_layout(
        app, new_page, server, parrot, dialogs):
    page = open_checked(new_page, server)
    page.goto("/")
    for text in TEXTS:
        send(page, text)
    assert_safe_and_whole(page, dialogs, "the thread as the page's script built it")


def test_hostile_content_sent_by_the_form_without_javascript_is_kept_and_runs_nothing(
        app, new_page, server, parrot, dialogs):
    page = open_checked(new_page, server, java_script_enabled=False)
    page.goto("/")
    for text in TEXTS:
        # Chromium's own form submission; the text put in at once (typing it is the slow part).
        with page.expect_navigation():
            page.locator("form.composer").evaluate(
                "(form, text) => { form.message.value = text; form.requestSubmit(); }", text)
    assert_safe_and_whole(page, dialogs, "the thread without JavaScript")
    store = app.extensions["thread_store"]
    thread = store.list_threads(1).threads[0]
    questions = [m.content for m in store.messages(thread.thread_id)][::2]
    assert questions == [stored(typed(text)) for text in TEXTS]
