"""The HTML pages: sidebar, composer, thread view, forms with CSRF, errors, safe Markdown."""
import re
import time
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from chatapp.models import seconds_after, utc_now
from chatapp.store import SQLiteThreadStore
from tests.conftest import TEST_API_KEY
from tests.db_faults import unopenable_path
from tests.helpers import seed_threads, stepping_clock

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- helpers ---------------------------------------------------------------------------------

class PageParser(HTMLParser):
    """Collects the chat messages (role, text, tags inside), the composer and the sidebar links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.messages = []  # {"role", "text", "tags": [(tag, attrs)]}
        self._message = None
        self.sidebar = []  # {"href", "title", "current"}
        self._in_nav = False
        self._sidebar_link = None
        self.older_links = []
        self.forms = []  # {"id", "action", "class", "fields": {name: value}}
        self.buttons = []  # {"form", "formaction", "label"}: buttons that submit a form by its id
        self._form = None
        self.textareas = {}  # id -> text
        self._textarea = None
        self.notices = []  # text of p.notice
        self._notice = None
        self._in_time = False

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        if tag == "article" and "data-role" in attrs_d:
            self._message = {"role": attrs_d["data-role"], "text": "", "tags": []}
            self.messages.append(self._message)
        elif self._message is not None:
            self._message["tags"].append((tag, attrs))
        if tag == "time":
            self._in_time = True
        if tag == "nav":
            self._in_nav = True
        if self._in_nav and tag == "a":
            href = attrs_d.get("href", "")
            if "older" in (attrs_d.get("class") or "").split():  # paging, not a conversation
                if attrs_d.get("rel") == "next":
                    self.older_links.append(href)
            elif href.startswith("/thread/"):
                self._sidebar_link = {"href": href, "title": "",
                                      "current": attrs_d.get("aria-current")}
                self.sidebar.append(self._sidebar_link)
        if tag == "form":
            self._form = {"id": attrs_d.get("id"), "action": attrs_d.get("action"),
                          "class": attrs_d.get("class", ""), "fields": {}}
            self.forms.append(self._form)
        if tag == "input" and self._form is not None and attrs_d.get("name"):
            self._form["fields"][attrs_d["name"]] = attrs_d.get("value", "")
        if tag == "button" and attrs_d.get("form"):
            self.buttons.append({"form": attrs_d["form"], "formaction": attrs_d.get("formaction"),
                                 "label": attrs_d.get("aria-label")})
        if tag == "textarea":
            self._textarea = attrs_d.get("id") or attrs_d.get("name")
            self.textareas[self._textarea] = ""
            if self._form is not None:
                self._form["fields"][attrs_d.get("name")] = ""
        if tag == "p" and "notice" in (attrs_d.get("class") or "").split():
            self._notice = ""

    def handle_endtag(self, tag):
        if tag == "article":
            self._message = None
        if tag == "time":
            self._in_time = False
        if tag == "nav":
            self._in_nav = False
        if tag == "a":
            self._sidebar_link = None
        if tag == "form":
            self._form = None
        if tag == "textarea":
            self._textarea = None
        if tag == "p" and self._notice is not None:
            self.notices.append(" ".join(self._notice.split()))
            self._notice = None

    def handle_data(self, data):
        if self._message is not None and not self._in_time:  # the text, not its timestamp
            self._message["text"] += data
        if self._sidebar_link is not None:
            self._sidebar_link["title"] += data
        if self._textarea is not None:
            self.textareas[self._textarea] += data
        if self._notice is not None:
            self._notice += data


def parse(response):
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    return parser


def message_list(response):
    return [(m["role"], " ".join(m["text"].split())) for m in parse(response).messages]


def sidebar_ids(response):
    return [link["href"].rsplit("/", 1)[1] for link in parse(response).sidebar]


def token_from(response):
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


def csrf_token(client, path="/"):
    return token_from(client.get(path))


def assert_redirect(response, path):
    assert response.status_code in (302, 303), response.status_code
    assert urlsplit(response.headers["Location"]).path == path


def thread_path(response):
    assert response.status_code in (302, 303), response.status_code
    path = urlsplit(response.headers["Location"]).path
    assert re.fullmatch(r"/thread/[A-Za-z0-9_-]+", path), path
    return path


def api_threads(client):
    return [t["threadId"] for t in client.get("/api/thread").get_json()]






def assert_html(response, status):
    assert response.status_code == status, response.status_code
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)


# --- pages -----------------------------------------------------------------------------------

def test_home_page_has_sidebar_and_empty_composer(client):
    response = client.get("/")
    assert_html(response, 200)
    page = parse(response)
    html = response.get_data(as_text=True)
    assert "<nav" in html
    assert "No conversations yet." in html
    composer = [f for f in page.forms if "composer" in f["class"]]
    assert len(composer) == 1
    assert composer[0]["action"] == "/"
    assert composer[0]["fields"]["csrf_token"]
    assert composer[0]["fields"]["message"] == ""
    assert page.textareas["message"] == ""
    assert page.messages == []


def test_highlight_css(client):
    response = client.get("/highlight.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert ".md pre" in css and "{" in css and "color" in css
    assert "<html" not in css


def test_pages_forbid_inline_and_foreign_scripts_and_framing(client):
    headers = client.get("/").headers
    policy = dict(part.strip().split(" ", 1) for part in
                  headers["Content-Security-Policy"].split(";"))

    assert policy["script-src"] == "'self'"  # an injected <script> or onerror= would not run
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in client.get("/").get_data(as_text=True)  # the policy costs us nothing


def test_thread_page_shows_messages_in_order(client, fake_openai):
    client.post("/api/chat", json={"threadId": "story", "message": "first question"})
    fake_openai.reply_with("second answer")
    client.post("/api/chat", json={"threadId": "story", "message": "second question"})
    response = client.get("/thread/story")
    assert_html(response, 200)
    assert message_list(response) == [
        ("user", "first question"), ("assistant", "Echo: first question"),
        ("user", "second question"), ("assistant", "second answer")]
    # The composer on a thread page continues that thread.
    composer = [f for f in parse(response).forms if "composer" in f["class"]][0]
    assert composer["action"] == "/thread/story"
    assert "<title>first question" in response.get_data(as_text=True)


def test_thread_times_are_iso_utc(client):
    client.post("/api/chat", json={"threadId": "when", "message": "hi"})
    html = client.get("/thread/when").get_data(as_text=True)
    stamps = re.findall(r'<time datetime="([^"]+)"', html)
    assert len(stamps) == 2
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)


@pytest.mark.parametrize("path", ["/thread/does-not-exist", "/thread/bad%20id!", "/no/such/page"])
def test_unknown_thread_or_page_is_404_page(client, path):
    response = client.get(path)
    assert_html(response, 404)
    assert "Not found" in response.get_data(as_text=True)


def test_unknown_thread_says_so(client):
    assert "does not exist" in client.get("/thread/gone-away").get_data(as_text=True)


# --- the composer ----------------------------------------------------------------------------

def test_posting_the_composer_starts_a_thread(client, fake_openai):
    token = csrf_token(client)
    response = client.post("/", data={"csrf_token": token, "message": "Hi from the form"})
    path = thread_path(response)
    page = client.get(path)
    assert_html(page, 200)
    assert message_list(page) == [("user", "Hi from the form"), ("assistant", "Echo: Hi from the form")]
    # It shows up in the sidebar, marked as the current one.
    links = parse(page).sidebar
    assert [link["href"] for link in links] == [path]
    assert links[0]["current"] == "page"
    assert links[0]["title"] == "Hi from the form"


def test_posting_in_a_thread_continues_it(client, fake_openai):
    token = csrf_token(client)
    path = thread_path(client.post("/", data={"csrf_token": token, "message": "one"}))
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "message": "two"})
    assert_redirect(response, path)
    assert message_list(client.get(path)) == [
        ("user", "one"), ("assistant", "Echo: one"), ("user", "two"), ("assistant", "Echo: two")]
    assert len(api_threads(client)) == 1
    # The model saw the whole conversation.
    assert [m["content"] for m in fake_openai.requests[-1]["json"]["messages"]] == [
        "one", "Echo: one", "two"]


def test_posting_to_an_unknown_thread_address_creates_it(client):
    token = csrf_token(client)
    response = client.post("/thread/fresh-one", data={"csrf_token": token, "message": "hello"})
    assert_redirect(response, "/thread/fresh-one")
    assert message_list(client.get("/thread/fresh-one"))[0] == ("user", "hello")


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_post_without_valid_token_is_400_and_stores_nothing(client, fake_openai, token):
    client.get("/")  # a session exists, as for a real visitor
    data = {"message": "please keep <this> text"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/", data=data)
    assert_html(response, 400)
    assert fake_openai.requests == []
    assert api_threads(client) == []
    # The error page keeps what the person typed.
    assert parse(response).textareas["draft"] == "please keep <this> text"


def test_post_to_a_thread_without_token_adds_nothing(client, fake_openai):
    client.post("/api/chat", json={"threadId": "quiet", "message": "hi"})
    fake_openai.requests.clear()
    response = client.post("/thread/quiet", data={"message": "sneaky"})
    assert_html(response, 400)
    assert fake_openai.requests == []
    assert len(client.get("/api/thread/quiet").get_json()) == 2


def test_token_from_another_session_is_refused(app, client, fake_openai):
    other = app.test_client()
    token = csrf_token(other)
    client.get("/")
    response = client.post("/", data={"csrf_token": token, "message": "hi"})
    assert response.status_code == 400
    assert api_threads(client) == []


@pytest.mark.parametrize("message", ["", "   ", " \n\t \r\n "])
def test_empty_message_is_400_and_stores_nothing(client, fake_openai, message):
    token = csrf_token(client)
    response = client.post("/", data={"csrf_token": token, "message": message})
    assert_html(response, 400)
    html = response.get_data(as_text=True)
    assert "must not be empty" in html
    # The composer is shown again, ready to use.
    assert [f for f in parse(response).forms if "composer" in f["class"]]
    assert fake_openai.requests == []
    assert api_threads(client) == []


def test_missing_message_field_is_400(client, fake_openai):
    response = client.post("/", data={"csrf_token": csrf_token(client)})
    assert_html(response, 400)
    assert fake_openai.requests == []
    assert api_threads(client) == []


def test_overlong_message_is_400_and_keeps_the_text(client, fake_openai):
    limit = client.application.config["MAX_MESSAGE_CHARS"]
    text = "<b>my long draft</b> & more " + "z" * limit
    response = client.post("/", data={"csrf_token": csrf_token(client), "message": text})
    assert_html(response, 400)
    page = parse(response)
    assert page.textareas["message"] == text
    assert f"{limit:,}" in response.get_data(as_text=True)
    assert "<b>my long draft</b>" not in response.get_data(as_text=True)  # kept as text, escaped
    assert fake_openai.requests == []
    assert api_threads(client) == []


def test_empty_message_in_a_thread_keeps_the_conversation_on_screen(client, fake_openai):
    client.post("/api/chat", json={"threadId": "chat", "message": "earlier"})
    fake_openai.requests.clear()
    response = client.post("/thread/chat", data={"csrf_token": csrf_token(client), "message": "  "})
    assert_html(response, 400)
    assert message_list(response) == [("user", "earlier"), ("assistant", "Echo: earlier")]
    assert fake_openai.requests == []
    assert len(client.get("/api/thread/chat").get_json()) == 2


# --- upstream failure and retry --------------------------------------------------------------

def test_upstream_failure_shows_error_message_and_retry(client, fake_openai):
    fake_openai.fail_with(500)
    response = client.post("/", data={"csrf_token": csrf_token(client), "message": "Are you there?"})
    path = thread_path(response)
    page = client.get(path)
    assert_html(page, 200)
    html = page.get_data(as_text=True)
    assert "The model service had a problem (HTTP 500)" in html
    assert message_list(page) == [("user", "Are you there?")]
    retry_forms = [f for f in parse(page).forms if f["action"] == f"{path}/retry"]
    assert len(retry_forms) == 1 and retry_forms[0]["fields"]["csrf_token"]
    # The error is shown once, not on every later visit.
    assert "HTTP 500" not in client.get(path).get_data(as_text=True)

    fake_openai.reset()
    retried = client.post(f"{path}/retry", data={"csrf_token": token_from(page)})
    assert_redirect(retried, path)
    after = client.get(path)
    assert message_list(after) == [("user", "Are you there?"), ("assistant", "Echo: Are you there?")]
    assert not [f for f in parse(after).forms if f["action"] == f"{path}/retry"]


def test_retry_that_fails_again_keeps_the_retry_form(client, fake_openai):
    fake_openai.fail_with(503)
    path = thread_path(client.post("/", data={"csrf_token": csrf_token(client), "message": "hm"}))
    token = csrf_token(client, path)
    fake_openai.respond(lambda _request: (200, b"garbage"))
    assert_redirect(client.post(f"{path}/retry", data={"csrf_token": token}), path)
    page = client.get(path)
    assert "could not be read" in page.get_data(as_text=True)
    assert message_list(page) == [("user", "hm")]
    assert [f for f in parse(page).forms if f["action"] == f"{path}/retry"]


def test_retry_needs_a_token(client, fake_openai):
    fake_openai.fail_with(500)
    path = thread_path(client.post("/", data={"csrf_token": csrf_token(client), "message": "x"}))
    fake_openai.reset()
    response = client.post(f"{path}/retry")
    assert response.status_code == 400
    assert fake_openai.requests == []
    assert message_list(client.get(path)) == [("user", "x")]


def test_retry_on_an_answered_thread_changes_nothing(client, fake_openai):
    client.post("/api/chat", json={"threadId": "done", "message": "q"})
    fake_openai.requests.clear()
    response = client.post("/thread/done/retry", data={"csrf_token": csrf_token(client)})
    assert_redirect(response, "/thread/done")
    assert "no unanswered message" in client.get("/thread/done").get_data(as_text=True)
    assert fake_openai.requests == []
    assert len(client.get("/api/thread/done").get_json()) == 2


def test_a_question_being_answered_elsewhere_offers_reload_not_retry(app, client, fake_openai):
    # Another tab's turn holds the question while its reply is written.
    store = app.extensions["thread_store"]
    store.create_thread_if_missing("busy", "Busy", utc_now())
    store.append_message("busy", "user", "Still thinking?", utc_now(),
                         claim_until=seconds_after(utc_now(), 60))
    page = client.get("/thread/busy")
    text = page.get_data(as_text=True)
    assert "A reply to this message is being written." in text
    assert not [f for f in parse(page).forms if f["action"] == "/thread/busy/retry"]

    # Retry pressed there anyway asks nothing and says why.
    response = client.post("/thread/busy/retry", data={"csrf_token": token_from(page)})
    assert_redirect(response, "/thread/busy")
    assert "being answered right now" in client.get("/thread/busy").get_data(as_text=True)
    assert fake_openai.requests == []


def test_a_cut_short_reply_is_marked_and_offers_retry(app, client, fake_openai):
    store = app.extensions["thread_store"]
    store.create_thread_if_missing("cut", "Cut", utc_now())
    store.append_message("cut", "user", "Tell me all", utc_now())
    store.append_message("cut", "assistant", "Part of it", utc_now(), finish_reason="interrupted")
    page = client.get("/thread/cut")
    assert "Stopped: this reply was cut short." in page.get_data(as_text=True)
    assert [f for f in parse(page).forms if f["action"] == "/thread/cut/retry"]

    client.post("/thread/cut/retry", data={"csrf_token": token_from(page)})
    messages = client.get("/api/thread/cut").get_json()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Tell me all"), ("assistant", "Echo: Tell me all")]
    assert messages[1]["finishReason"] == "stop"
    assert "cut short" not in client.get("/thread/cut").get_data(as_text=True)


def test_retry_on_unknown_thread_is_404(client):
    response = client.post("/thread/nope/retry", data={"csrf_token": csrf_token(client)})
    assert_html(response, 404)


# --- delete ----------------------------------------------------------------------------------

def test_delete_form_removes_the_thread(client):
    client.post("/api/chat", json={"threadId": "keep", "message": "keep"})
    client.post("/api/chat", json={"threadId": "drop", "message": "drop"})
    page = client.get("/thread/drop")
    parsed = parse(page)
    # What a browser does: the row's button submits the shared form to the button's address.
    [button] = [b for b in parsed.buttons if b["label"] == "Delete “drop”"]
    [form] = [f for f in parsed.forms if f["id"] == button["form"]]
    assert button["formaction"] == "/thread/drop/delete"
    response = client.post(button["formaction"], data=form["fields"])
    assert_redirect(response, "/")
    home = client.get("/")
    assert "Conversation deleted." in home.get_data(as_text=True)
    assert sidebar_ids(home) == ["keep"]
    assert client.get("/thread/drop").status_code == 404
    assert api_threads(client) == ["keep"]


def test_delete_without_token_keeps_the_thread(client):
    client.post("/api/chat", json={"threadId": "stay", "message": "stay"})
    client.get("/")
    response = client.post("/thread/stay/delete")
    assert response.status_code == 400
    assert api_threads(client) == ["stay"]


# --- sidebar ---------------------------------------------------------------------------------

def test_sidebar_is_newest_update_first_and_marks_current(app, client):
    stepping_clock(app)
    for name in ("alpha", "beta", "gamma"):
        client.post("/api/chat", json={"threadId": name, "message": f"about {name}"})
    client.post("/api/chat", json={"threadId": "alpha", "message": "alpha again"})
    page = client.get("/thread/beta")
    links = parse(page).sidebar
    assert [link["href"] for link in links] == ["/thread/alpha", "/thread/gamma", "/thread/beta"]
    assert [link["title"] for link in links] == ["about alpha", "about gamma", "about beta"]
    assert [link["current"] for link in links] == [None, None, "page"]
    # On the new-chat page nothing is current.
    assert [link["current"] for link in parse(client.get("/")).sidebar] == [None, None, None]


def test_sidebar_pages_past_50_threads_without_repeats(app, client):
    newest_first = seed_threads(app, 57)
    first = client.get("/")
    first_page = parse(first)
    assert sidebar_ids(first) == newest_first[:50]
    assert len(first_page.older_links) == 1
    second = client.get(first_page.older_links[0])
    assert_html(second, 200)
    assert sidebar_ids(second) == newest_first[50:]
    assert not parse(second).older_links
    assert set(sidebar_ids(first)).isdisjoint(sidebar_ids(second))
    assert "Newest conversations" in second.get_data(as_text=True)


def test_older_link_on_a_thread_page_keeps_the_thread_open(app, client):
    newest_first = seed_threads(app, 53)
    current = newest_first[0]
    page = parse(client.get(f"/thread/{current}"))
    older = client.get(page.older_links[0])
    assert urlsplit(page.older_links[0]).path == f"/thread/{current}"
    assert message_list(older) == [("user", "hello 52")]
    assert sidebar_ids(older) == newest_first[50:]


# --- safe rendering --------------------------------------------------------------------------

HOSTILE_REPLY = """Here you go:

<script>alert("xss")</script>

<img src=x onerror="alert(1)">

<a href="javascript:alert(2)" onclick="alert(3)">click me</a>

[markdown link](javascript:alert(4))

[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)

<div onmouseover="alert(6)">hover</div> <iframe src="https://evil.example"></iframe>

Inline <svg onload=alert(7)> and [ok link](https://example.com).
"""


def test_hostile_reply_is_escaped(client, fake_openai):
    fake_openai.reply_with(HOSTILE_REPLY)
    client.post("/api/chat", json={"threadId": "xss", "message": "<script>alert('user')</script>"})
    response = client.get("/thread/xss")
    messages = parse(response).messages
    assert [m["role"] for m in messages] == ["user", "assistant"]
    for message in messages:
        for tag, attrs in message["tags"]:
            assert tag not in ("script", "iframe", "img", "svg", "object", "embed"), (tag, attrs)
            for name, value in attrs:
                assert not name.lower().startswith("on"), (tag, name, value)
                if name.lower() in ("href", "src"):
                    assert not unescape(value or "").strip().lower().startswith(
                        ("javascript:", "data:", "vbscript:")), (tag, name, value)
    # The text is still there for the reader to see, as text.
    assert '<script>alert("xss")</script>' in messages[1]["text"]
    assert "<script>alert('user')</script>" in messages[0]["text"]
    # The safe link still works and cannot take over the opener.
    links = [dict(attrs) for tag, attrs in messages[1]["tags"] if tag == "a"]
    assert [link["href"] for link in links] == ["https://example.com"]
    assert "noopener" in links[0]["rel"]
    # And, as raw markup: the only live scripts on the page are the app's own files.
    scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True), re.I)
    assert scripts and all(re.fullmatch(r'<script src="/static/[\w.-]+"( defer)?>', s) for s in scripts)


def test_hostile_title_is_escaped_in_sidebar_and_title(client):
    client.post("/api/chat", json={"threadId": "t", "message": '<img src=x onerror=alert(1)>"'})
    html = client.get("/thread/t").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert parse(client.get("/")).sidebar[0]["title"] == '<img src=x onerror=alert(1)>"'


def test_fenced_code_is_highlighted(client, fake_openai):
    fake_openai.reply_with("Try this:\n\n```python\ndef greet(name):\n    return f\"hi {name}\"\n```\n")
    client.post("/api/chat", json={"threadId": "code", "message": "show code"})
    html = client.get("/thread/code").get_data(as_text=True)
    block = re.search(r'<div class="md">(.*?)</div>', html, re.S).group(1)
    assert '<code class="language-python">' in block
    assert '<span class="k">def</span>' in block
    assert '<span class="nf">greet</span>' in block


def test_code_with_html_inside_is_escaped_not_run(client, fake_openai):
    fake_openai.reply_with("```html\n<script>alert(1)</script>\n```\n\n```\n<b>plain</b>\n```")
    client.post("/api/chat", json={"threadId": "code2", "message": "html please"})
    assistant = parse(client.get("/thread/code2")).messages[1]
    assert "script" not in [tag for tag, _ in assistant["tags"]]
    assert "b" not in [tag for tag, _ in assistant["tags"]]
    assert "<script>alert(1)</script>" in assistant["text"]
    assert "<b>plain</b>" in assistant["text"]


def test_markdown_basics_render(client, fake_openai):
    fake_openai.reply_with("**bold** and `code`\n\n- one\n- two")
    client.post("/api/chat", json={"threadId": "md", "message": "format"})
    tags = [tag for tag, _ in parse(client.get("/thread/md")).messages[1]["tags"]]
    assert {"strong", "code", "ul", "li"} <= set(tags)


def test_user_message_is_shown_as_typed_not_as_markdown(client):
    client.post("/api/chat", json={"threadId": "plain", "message": "**not bold**\n<i>x</i>"})
    user = parse(client.get("/thread/plain")).messages[0]
    assert "strong" not in [tag for tag, _ in user["tags"]]
    assert "**not bold**" in user["text"] and "<i>x</i>" in user["text"]


# --- the API key -----------------------------------------------------------------------------

class TestNoApiKey:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "OPENAI_API_KEY": ""}

    def test_page_explains_how_to_set_the_key(self, client):
        page = parse(client.get("/"))
        assert any("No OpenAI API key is set" in notice and "OPENAI_API_KEY=" in notice
                   and ".env" in notice for notice in page.notices)

    def test_sending_keeps_the_message_and_says_what_is_wrong(self, client, fake_openai):
        response = client.post("/", data={"csrf_token": csrf_token(client), "message": "hello?"})
        path = thread_path(response)
        page = client.get(path)
        assert message_list(page) == [("user", "hello?")]
        assert "Put OPENAI_API_KEY=" in page.get_data(as_text=True)
        assert fake_openai.requests == []
        assert TEST_API_KEY not in page.get_data(as_text=True)


class TestWithApiKey:
    def test_no_setup_notice(self, client):
        assert not any("No OpenAI API key" in notice for notice in parse(client.get("/")).notices)

    def test_key_never_appears_in_any_page(self, client, fake_openai):
        pages = []
        token = csrf_token(client)
        path = thread_path(client.post("/", data={"csrf_token": token, "message": "hello"}))
        pages.append(client.get(path))
        fake_openai.fail_with(401, {"error": {"message": f"Incorrect API key {TEST_API_KEY}"}})
        client.post(path, data={"csrf_token": token, "message": "again"})
        pages.append(client.get(path))
        fake_openai.fail_with(400, {"error": {"message": f"bad request for {TEST_API_KEY}"}})
        client.post(path, data={"csrf_token": token, "message": "third"})
        after_400 = client.get(path)
        pages.append(after_400)
        assert "HTTP 400" in after_400.get_data(as_text=True)  # the error was shown, key scrubbed
        pages += [client.get("/"), client.get("/thread/nope"), client.post("/", data={"message": "x"}),
                  client.post("/", data={"csrf_token": token, "message": " "}), client.get("/highlight.css")]
        # The key really is in use: the fake model server received it.
        assert fake_openai.requests[0]["headers"]["Authorization"] == f"Bearer {TEST_API_KEY}"
        for response in pages:
            assert TEST_API_KEY not in response.get_data(as_text=True)
            assert all(TEST_API_KEY not in value for value in response.headers.values())


# --- errors on form posts and database trouble ------------------------------------------------

def test_database_failure_on_post_keeps_the_message(app, client, tmp_path, fake_openai):
    token = csrf_token(client)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    broken = SQLiteThreadStore(str(blocker / "chat.sqlite3"))  # the database goes away
    app.extensions["thread_store"] = broken
    app.extensions["chat_service"].store = broken
    response = client.post("/", data={"csrf_token": token, "message": "my precious words"})
    assert_html(response, 503)
    assert parse(response).textareas["draft"] == "my precious words"
    assert fake_openai.requests == []


class TestBodyLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 2048}

    def test_oversized_form_post_is_413_page(self, client, fake_openai):
        token = csrf_token(client)
        response = client.post("/", data={"csrf_token": token, "message": "q" * 5000})
        assert_html(response, 413)
        assert "2,048" in response.get_data(as_text=True)
        assert fake_openai.requests == []
        assert api_threads(client) == []


class TestSQLiteUnusable:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SQLITE_PATH": unopenable_path(tmp_path)}

    def test_pages_are_503_html(self, client):
        for path in ("/", "/thread/anything"):
            response = client.get(path)
            assert_html(response, 503)
            assert "database" in response.get_data(as_text=True).lower()


class TestMongoUnreachable:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp", "MONGO_TIMEOUT_MS": 500}

    def test_home_page_is_503_promptly(self, client):
        started = time.monotonic()
        response = client.get("/")
        assert time.monotonic() - started < 5
        assert_html(response, 503)
