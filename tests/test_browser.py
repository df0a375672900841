"""The chat pages in a real browser (Debian's Chromium driven by Playwright), served over real HTTP
by tests.live_server with the fake model server behind them. Each test checks what a person sees.

Chromium is never downloaded: set CHROMIUM_PATH, or have `chromium` on PATH (/usr/bin/chromium).
Screenshots for a human to look at go to /tmp/chatapp-shots/ (not committed)."""
import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright

from tests.fake_openai import Stream, stream_of
from tests.live_server import LiveServer

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/chatapp-shots")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
THREAD_URL = re.compile(r"/thread/[A-Za-z0-9_-]+(#latest)?$")
HOME_URL = re.compile(r"^http://[^/]+/$")

expect.set_options(timeout=TIMEOUT_MS)


# --- fixtures -------------------------------------------------------------------------------------

def _chromium_path():
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"CHROMIUM_PATH={configured!r} is not an executable file.", pytrace=False)
        return configured
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("No Chromium found for the browser tests: install Debian's `chromium` package "
                "or set CHROMIUM_PATH to a Chromium binary. (Do not run `playwright install`.)",
                pytrace=False)


_CHROMIUM = {"users": 0}  # one Playwright and one Chromium for the whole run


@pytest.fixture(scope="session")
def browser():
    # Each test module that imports this fixture gets its own session-scoped copy of it, and
    # Playwright's sync API cannot start twice in one thread: the copies share one browser,
    # closed by the last.
    if not _CHROMIUM["users"]:
        executable = _chromium_path()
        playwright = sync_playwright().start()
        _CHROMIUM.update(playwright=playwright, browser=playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS))
    _CHROMIUM["users"] += 1
    yield _CHROMIUM["browser"]
    _CHROMIUM["users"] -= 1
    if not _CHROMIUM["users"]:
        _CHROMIUM["browser"].close()
        _CHROMIUM["playwright"].stop()


@pytest.fixture
def app_config(app_config):
    """conftest's config, with no system prompt so the history sent upstream is exactly the chat."""
    return {**app_config, "SYSTEM_PROMPT": ""}


@pytest.fixture
def server(app):
    with LiveServer(app) as live:
        yield live


class Dialogs:
    """Records every alert/confirm/prompt; answers OK when `accept` is set, else Cancel."""

    def __init__(self):
        self.seen = []
        self.accept = False

    def __call__(self, dialog):
        self.seen.append((dialog.type, dialog.message))
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


@pytest.fixture
def dialogs():
    return Dialogs()


@pytest.fixture
def new_page(browser, server, dialogs):
    """new_page(**context_options) -> a page in a fresh context pointed at the live server."""
    contexts, page_errors = [], []

    def open_page(**options):
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", dialogs)
        page.on("pageerror", lambda error: page_errors.append(error))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not page_errors, f"JavaScript errors on the page: {page_errors}"


@pytest.fixture
def page(new_page):
    return new_page()


# --- helpers --------------------------------------------------------------------------------------

def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def send_button(page):
    # Not by its name: without JavaScript the label changes to "Sending…" while a reply comes.
    return page.locator("form.composer button[type=submit]")


def stop_button(page):
    return page.get_by_role("button", name="Stop", exact=True)


def messages(page):
    return page.locator("#messages [data-role]")


def bubbles(page, role):
    return page.locator(f'#messages [data-role="{role}"] .bubble')


def sidebar(page):
    # By CSS, not by role: on a phone the collapsed sidebar is hidden from the accessibility tree.
    return page.locator('nav[aria-label="Conversations"]')


def thread_links(page):
    return sidebar(page).locator(".threads a")


def send(page, text, *, click=False, scripted=True):
    """Type into the composer and send with Enter (or the Send button); wait until the turn is
    over. With JavaScript the reply streams into this page; without, the form post loads the next."""
    composer(page).fill(text)
    press = (lambda: send_button(page).click()) if click else (lambda: composer(page).press("Enter"))
    if not scripted:
        with page.expect_navigation():
            press()
        return
    asked = bubbles(page, "user").count()
    press()
    expect(bubbles(page, "user")).to_have_count(asked + 1)
    expect(page.locator("#messages .streaming")).to_have_count(0)
    expect(stop_button(page)).to_be_hidden()


def slow_stream(fake_openai, text, delay=0.2):
    """The fake model streams `text` a word every `delay` seconds."""
    fake_openai.stream_with(lambda request: stream_of(text, delay=delay))


def thread_id_of(page):
    return re.search(r"/thread/([A-Za-z0-9_-]+)", page.url).group(1)


def delete_button(page, title):
    return sidebar(page).get_by_role("button", name=f"Delete “{title}”", exact=True)


def has_no_horizontal_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"page is {width}px wide in a {viewport}px viewport"
    pane = page.evaluate("(() => { const m = document.getElementById('messages');"
                         " return [m.scrollWidth, m.clientWidth]; })()")
    assert pane[0] <= pane[1] + 1, f"the message pane scrolls sideways: {pane}"


# True when a person could see the element: on screen, not hidden or transparent, and not
# covered or clipped away (the browser's own hit test at a point inside it finds it).
SEEN = """el => {
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return false;
  const x = r.left + Math.min(r.width / 2, 10), y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
  if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
  const hit = document.elementFromPoint(x, y);
  return !!hit && (hit === el || el.contains(hit));
}"""


def wait_until_seen(page, locator, what, seen=True):
    check = SEEN if seen else f"el => !({SEEN})(el)"
    try:
        page.wait_for_function(check, arg=locator.element_handle())
    except PlaywrightTimeoutError:
        pytest.fail(f"{what} should {'' if seen else 'not '}be visible to a person "
                    f"at {page.viewport_size['width']}px wide", pytrace=False)


# --- sending --------------------------------------------------------------------------------------

def test_enter_sends_and_the_reply_appears(page, fake_openai):
    page.goto("/")
    expect(page.get_by_role("heading", name="What can I help with?")).to_be_visible()

    send(page, "Hello, browser!")

    expect(page).to_have_url(THREAD_URL)
    expect(messages(page)).to_have_count(2)
    expect(bubbles(page, "user")).to_have_text("Hello, browser!")
    expect(bubbles(page, "assistant")).to_have_text("Echo: Hello, browser!")
    expect(thread_links(page)).to_have_text(["Hello, browser!"])
    expect(composer(page)).to_have_value("")


def test_second_turn_keeps_the_thread_and_sends_the_history(page, fake_openai):
    page.goto("/")
    send(page, "First question")
    thread_url = page.url
    send(page, "Second question")

    assert page.url == thread_url
    expect(messages(page)).to_have_count(4)
    roles = [m.get_attribute("data-role") for m in messages(page).all()]
    assert roles == ["user", "assistant", "user", "assistant"]
    expect(messages(page).locator(".bubble")).to_have_text(
        ["First question", "Echo: First question", "Second question", "Echo: Second question"])
    assert fake_openai.requests[-1]["json"]["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "Echo: First question"},
        {"role": "user", "content": "Second question"},
    ]


def test_shift_enter_makes_a_new_line_and_does_not_send(page, fake_openai):
    page.goto("/")
    box = composer(page)
    box.fill("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")

    expect(box).to_have_value("line one\nline two")
    expect(page).to_have_url(HOME_URL)
    expect(messages(page)).to_have_count(0)

    box.press("Enter")
    expect(bubbles(page, "assistant")).to_contain_text("Echo: line one")
    # One request only, carrying both lines: Shift+Enter sent nothing on its own.
    sent = [r["json"]["messages"][-1]["content"] for r in fake_openai.requests]
    assert sent == ["line one\nline two"]


def test_while_a_reply_streams_stop_replaces_send_and_enter_sends_nothing_more(page, fake_openai):
    page.goto("/")
    fake_openai.reply_with("\n\n".join(f"Paragraph {n} of a long answer." for n in range(1, 61)))
    send(page, "Tell me a long story")
    slow_stream(fake_openai, "Echo: What is newest? " + "word " * 12, delay=0.1)
    before = len(fake_openai.requests)

    composer(page).fill("What is newest?")
    page.keyboard.press("Enter")
    expect(stop_button(page)).to_be_visible()
    expect(send_button(page)).to_be_hidden()
    composer(page).fill("Not now")
    page.keyboard.press("Enter")  # while a reply is being written, Enter does not send

    newest = bubbles(page, "assistant").last
    expect(newest).to_have_text("Echo: What is newest? " + " ".join(["word"] * 12))
    expect(send_button(page)).to_be_visible()
    expect(stop_button(page)).to_be_hidden()
    assert len(fake_openai.requests) == before + 1
    expect(composer(page)).to_have_value("Not now")  # kept for the person to send next
    expect(newest).to_be_in_viewport()
    top, visible, total = page.evaluate(
        "(() => { const m = document.getElementById('messages');"
        " return [m.scrollTop, m.clientHeight, m.scrollHeight]; })()")
    assert total > visible + 100, (
        f"#messages should be the scrolling pane and overflow here: "
        f"clientHeight={visible}, scrollHeight={total}")
    assert abs(top + visible - total) <= 2, (
        f"#messages is not scrolled to the end: scrollTop={top}, clientHeight={visible}, "
        f"scrollHeight={total}")


def test_without_javascript_the_send_button_waits_disabled(new_page, fake_openai):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    fake_openai.delay(1.0)
    composer(page).fill("Plain form")
    with page.expect_navigation():
        send_button(page).click()
    expect(bubbles(page, "assistant")).to_have_text("Echo: Plain form")
    expect(page).to_have_url(re.compile(r"/thread/[A-Za-z0-9_-]+#latest$"))  # a new page, as today


# --- streaming ------------------------------------------------------------------------------------

REPLY = "Here is **bold** text and a list:\n\n- one\n- two\n- three four five six seven eight"


def test_the_question_shows_at_once_and_the_reply_grows_while_it_is_written(page, fake_openai):
    page.goto("/")
    slow_stream(fake_openai, REPLY, delay=0.25)
    composer(page).fill("Show me streaming")
    composer(page).press("Enter")

    expect(bubbles(page, "user")).to_have_text("Show me streaming", timeout=1000)
    expect(composer(page)).to_have_value("")
    reply = page.locator('#messages [data-role="assistant"]')
    expect(reply).to_have_class(re.compile("streaming"))
    expect(reply.locator(".md")).to_contain_text("Here is", timeout=3000)
    # Still being written: raw text so far, not yet the rest nor the rendered Markdown.
    partial = reply.locator(".md").inner_text()
    assert "eight" not in partial and reply.locator("strong").count() == 0, partial
    expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
    expect(page).to_have_url(THREAD_URL)  # the new conversation's address, at once
    expect(thread_links(page)).to_have_text(["Show me streaming"])

    # Done: the server's HTML replaces the raw text.
    expect(reply.locator("strong")).to_have_text("bold")
    expect(reply.locator("li")).to_have_count(3)
    expect(reply).not_to_have_class(re.compile("streaming"))
    expect(reply.locator("time")).to_be_visible()
    streamed = reply.locator(".md").inner_html()
    page.reload()
    assert page.locator('#messages [data-role="assistant"] .md').inner_html() == streamed


def _stop_midway(page, fake_openai, how):
    page.goto("/")
    slow_stream(fake_openai, "one two three four five six seven eight nine ten eleven twelve", 0.2)
    composer(page).fill("Count slowly")
    composer(page).press("Enter")
    reply = page.locator('#messages [data-role="assistant"] .md')
    expect(reply).to_contain_text("three")
    how(page)
    expect(page.get_by_text("Stopped: this reply was cut short.")).to_be_visible()
    expect(stop_button(page)).to_be_hidden()
    shown = reply.inner_text()
    assert shown.startswith("one two three") and "twelve" not in shown, shown
    return shown


def _after_reload_the_reply_is_cut_short(page, server, shown):
    thread_id = page.url.rsplit("/", 1)[1]
    # The server learns of the Stop when its next write fails; poll until it has stored the reply.
    for _ in range(50):
        stored = requests_get(server, f"/api/thread/{thread_id}")
        if len(stored) == 2:
            break
        page.wait_for_timeout(100)
    assert stored[1]["finishReason"] == "interrupted"
    assert stored[1]["content"].startswith(shown.strip()), (stored[1]["content"], shown)
    page.reload()
    expect(page.get_by_text("Stopped: this reply was cut short.")).to_be_visible()
    expect(bubbles(page, "assistant")).to_contain_text(shown.strip())
    expect(page.get_by_role("button", name="Retry")).to_be_visible()


def requests_get(server, path):
    import requests

    session = requests.Session()
    session.trust_env = False
    return session.get(server.url + path, timeout=5).json()


def test_stop_button_keeps_the_partial_reply_shown_cut_short_after_a_reload(page, server,
                                                                            fake_openai):
    shown = _stop_midway(page, fake_openai, lambda p: stop_button(p).click())
    _after_reload_the_reply_is_cut_short(page, server, shown)

    fake_openai.reset()  # Retry asks again and the whole reply replaces the cut one
    with page.expect_navigation():
        page.get_by_role("button", name="Retry").click()
    expect(bubbles(page, "assistant")).to_have_text("Echo: Count slowly")
    expect(page.get_by_text("Stopped: this reply was cut short.")).to_have_count(0)
    expect(messages(page)).to_have_count(2)


def test_escape_stops_the_reply_and_keeps_it(page, server, fake_openai):
    shown = _stop_midway(page, fake_openai, lambda p: p.keyboard.press("Escape"))
    _after_reload_the_reply_is_cut_short(page, server, shown)


def test_an_upstream_that_breaks_midway_leaves_the_partial_marked_incomplete(page, fake_openai):
    page.goto("/")
    fake_openai.stream_with(lambda request: Stream(stream_of("Half an answer").pieces[:3], 0.1,
                                                   cut=True))
    send(page, "Break please")
    expect(bubbles(page, "assistant")).to_have_text("Half an")
    expect(page.get_by_text("The model service broke off its answer.")).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator(".cut-note")).to_have_count(1)
    page.reload()
    expect(page.get_by_text("The model broke off: this reply is incomplete.")).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()


# --- sidebar --------------------------------------------------------------------------------------

def test_sidebar_puts_the_latest_conversation_first_and_marks_the_current_one(page, fake_openai):
    page.goto("/")
    send(page, "Thread A first")
    thread_a = page.url.split("#")[0]  # after a send the address ends in #latest
    sidebar(page).get_by_role("link", name="New chat").click()
    expect(page).to_have_url(HOME_URL)
    send(page, "Thread B first")
    expect(thread_links(page)).to_have_text(["Thread B first", "Thread A first"])

    sidebar(page).get_by_role("link", name="Thread A first", exact=True).click()
    page.wait_for_url(thread_a)
    send(page, "Thread A again")

    assert page.url.split("#")[0] == thread_a
    expect(thread_links(page)).to_have_text(["Thread A first", "Thread B first"])
    expect(thread_links(page).first).to_have_attribute("aria-current", "page")
    expect(sidebar(page).locator("a[aria-current]")).to_have_count(1)
    expect(page.locator(".topbar-title")).to_have_text("Thread A first")


def test_delete_after_confirming_goes_home_without_the_thread(page, fake_openai, dialogs):
    page.goto("/")
    send(page, "Keep me")
    page.goto("/")
    send(page, "Delete me")
    doomed = page.url

    dialogs.accept = True
    with page.expect_navigation():
        delete_button(page, "Delete me").click()

    assert dialogs.seen == [("confirm", "Delete “Delete me”? This cannot be undone.")]
    expect(page).to_have_url(HOME_URL)
    expect(page.get_by_role("status").filter(has_text="Conversation deleted.")).to_be_visible()
    expect(thread_links(page)).to_have_text(["Keep me"])
    page.goto(doomed)
    expect(page.get_by_text("This conversation does not exist.")).to_be_visible()


def test_delete_cancelled_keeps_the_thread(page, fake_openai, dialogs):
    page.goto("/")
    send(page, "Do not delete me")
    here = page.url

    delete_button(page, "Do not delete me").click()  # the Dialogs fixture answers Cancel

    assert dialogs.seen == [("confirm", "Delete “Do not delete me”? This cannot be undone.")]
    page.reload()
    assert page.url == here
    expect(thread_links(page)).to_have_text(["Do not delete me"])
    expect(bubbles(page, "assistant")).to_have_text("Echo: Do not delete me")


# --- without JavaScript ---------------------------------------------------------------------------

def test_everything_works_without_javascript(new_page, fake_openai, dialogs):
    page = new_page(java_script_enabled=False)
    page.goto("/")

    send(page, "No script here", click=True, scripted=False)
    expect(page).to_have_url(THREAD_URL)
    expect(bubbles(page, "user")).to_have_text("No script here")
    expect(bubbles(page, "assistant")).to_have_text("Echo: No script here")

    fake_openai.reply_with("\n\n".join(f"Paragraph {n} of a long answer." for n in range(1, 61)))
    send(page, "Still no script", click=True, scripted=False)
    expect(messages(page).locator(".bubble")).to_have_count(4)
    expect(bubbles(page, "user").last).to_have_text("Still no script")
    expect(bubbles(page, "assistant").last).to_be_in_viewport()  # the newest, without a script
    expect(page.get_by_text("Enter sends")).to_be_hidden()  # no promise of keys that need JS

    with page.expect_navigation():
        delete_button(page, "No script here").click()
    assert dialogs.seen == []
    expect(page).to_have_url(HOME_URL)
    expect(page.get_by_text("Conversation deleted.")).to_be_visible()
    expect(sidebar(page).get_by_text("No conversations yet.")).to_be_visible()


# --- untrusted text -------------------------------------------------------------------------------

XSS_REPLY = textwrap.dedent("""\
    Payloads follow.

    <script>window.__xss=1</script>

    <img src=x onerror="window.__xss=1">

    [click me](javascript:window.__xss=1)

    [mixed case](JaVaScRiPt:window.__xss=1)

    [entity](&#106;avascript:window.__xss=1)

    [spaced]( javascript:window.__xss=1 )

    [data url](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTwvc2NyaXB0Pg==)

    <javascript:window.__xss=1>

    ![picture](javascript:window.__xss=1)

    <svg onload="window.__xss=1"></svg>

    <iframe srcdoc="<script>parent.__xss=1</script>"></iframe>

    <a href="jAvAsCrIpT:window.__xss=1">html link</a>

    <details open ontoggle="window.__xss=1">details</details>

    <form action="javascript:window.__xss=1"><button>form button</button></form>

    A [safe link](https://example.com/safe) and `<b>inline code</b>`.
    """)
USER_PAYLOAD = ('<img src=x onerror="window.__xss=1"> <script>window.__xss=1</script> '
                '[x](javascript:window.__xss=1) <svg onload="window.__xss=1">')


def test_markup_in_messages_is_shown_as_text_and_runs_nothing(page, server, fake_openai, dialogs):
    # A link that leaves the app gets an empty answer, so clicking it keeps this page.
    page.route(lambda url: not url.startswith(server.url), lambda route: route.fulfill(status=204))
    page.goto("/")
    send(page, USER_PAYLOAD)
    fake_openai.reply_with(XSS_REPLY)
    send(page, "Show me the payloads")
    page.wait_for_load_state("load")

    expect(bubbles(page, "user").first).to_have_text(USER_PAYLOAD)
    expect(thread_links(page)).to_contain_text(['<img src=x onerror="window.__xss=1">'])
    reply = bubbles(page, "assistant").last
    for visible_text in ["<script>window.__xss=1</script>",
                         '<img src=x onerror="window.__xss=1">',
                         "[click me](javascript:window.__xss=1)",
                         "<javascript:window.__xss=1>",
                         '<svg onload="window.__xss=1"></svg>',
                         '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
                         '<a href="jAvAsCrIpT:window.__xss=1">html link</a>',
                         "<b>inline code</b>"]:
        expect(reply).to_contain_text(visible_text)
    expect(reply.get_by_role("link", name="safe link")).to_have_attribute(
        "href", "https://example.com/safe")

    found = page.evaluate("""() => {
      const inBubbles = (selector) => [...document.querySelectorAll('#messages .bubble')]
        .flatMap(bubble => [...bubble.querySelectorAll(selector)]);
      const tags = inBubbles('script, iframe, svg, img, object, embed, details, form')
        .map(el => el.tagName);
      const handlers = inBubbles('*').flatMap(el => [...el.attributes]
        .filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name));
      const hrefs = inBubbles('[href], [src], [action]')
        .map(el => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action'));
      return {tags, handlers, hrefs};
    }""")
    assert found["tags"] == [], found
    assert found["handlers"] == [], found
    for href in found["hrefs"]:
        assert re.match(r"https?://", href), f"a link with an unsafe address: {href!r}"

    here = page.url
    links = page.locator("#messages .bubble a")
    for n in range(links.count()):
        links.nth(n).click()
        assert page.url == here
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs.seen == []


# --- small screens and a look for a human ---------------------------------------------------------

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 8
WIDE_CODE_REPLY = (f"A long word: {LONG_WORD}\n\n"
                   "```python\n"
                   f"wide = {list(range(120))!r}  # {'x' * 120}\n"
                   "```\n\nAnd a short line after it.")


def _wide_thread(page, fake_openai):
    page.goto("/")
    fake_openai.reply_with(WIDE_CODE_REPLY)
    send(page, f"Please show something wide: {LONG_WORD}")
    expect(bubbles(page, "assistant")).to_contain_text("And a short line after it.")
    page.wait_for_load_state("load")


def test_phone_width_has_no_sideways_scroll_and_a_collapsible_sidebar(new_page, fake_openai):
    page = new_page(viewport=PHONE)
    page.goto("/")
    has_no_horizontal_scroll(page)
    expect(composer(page)).to_be_in_viewport()
    expect(send_button(page)).to_be_in_viewport()

    _wide_thread(page, fake_openai)  # typed and sent from the phone-sized page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-thread.png"))
    has_no_horizontal_scroll(page)
    expect(composer(page)).to_be_in_viewport()
    expect(send_button(page)).to_be_in_viewport()
    wait_until_seen(page, composer(page), "the message box")
    wait_until_seen(page, send_button(page), "the Send button")

    link = thread_links(page).first
    wait_until_seen(page, link, "before the menu is opened, the sidebar's thread link", seen=False)
    page.locator("label[for=sidebar-toggle]").filter(has_text="Conversations").click()
    wait_until_seen(page, link, "after the menu is opened, the sidebar's thread link")
    page.screenshot(path=str(SHOTS / "phone-sidebar-open.png"))
    has_no_horizontal_scroll(page)
    sidebar(page).get_by_role("link", name="New chat").click()
    expect(page).to_have_url(HOME_URL)


def test_code_block_copy_button_puts_the_code_on_the_clipboard(page, fake_openai):
    code = 'def greet(name):\n    return f"Hello, {name}!"'
    fake_openai.reply_with(f"Here you go:\n\n```python\n{code}\n```\n")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    send(page, "Write a greeting function")

    copy = page.locator(".md .code-block .copy-button")  # its label changes when clicked
    expect(copy).to_have_text("Copy")
    copy.click()

    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code + "\n"


def test_desktop_thread_page_fits_and_shows_the_sidebar(page, fake_openai):
    _wide_thread(page, fake_openai)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "desktop-thread.png"))
    has_no_horizontal_scroll(page)
    wait_until_seen(page, thread_links(page).first, "the sidebar's thread link")
    wait_until_seen(page, composer(page), "the message box")
    wait_until_seen(page, send_button(page), "the Send button")


# --- upstream failure -----------------------------------------------------------------------------

def test_upstream_failure_shows_a_notice_and_retry_gets_the_reply(page, fake_openai):
    page.goto("/")
    fake_openai.fail_with(500)
    send(page, "Will this work?")

    alert = page.get_by_role("alert").filter(has_text="The model service had a problem")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("HTTP 500")
    expect(bubbles(page, "user")).to_have_text("Will this work?")
    expect(bubbles(page, "assistant")).to_have_count(0)
    expect(page.get_by_text("This message has no reply yet.")).to_be_visible()

    fake_openai.reset()
    with page.expect_navigation():
        page.get_by_role("button", name="Retry").click()

    expect(bubbles(page, "assistant")).to_have_text("Echo: Will this work?")
    expect(messages(page)).to_have_count(2)
    expect(alert).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    assert fake_openai.requests[-1]["json"]["messages"] == [
        {"role": "user", "content": "Will this work?"}]


# --- a single-page client on another origin ------------------------------------------------------

def _blank_page(environ, start_response):
    """A stand-in for the reference design's front end, served from its own origin."""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>reference client</title>"]


CALL_API = """async ([api, method, path, body]) => {
  try {
    const response = await fetch(api + path, {
      method, headers: body ? {"Content-Type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return {status: response.status, json: await response.json()};
  } catch (error) {
    return {blocked: String(error)};
  }
}"""


def test_cross_origin_client_works_only_from_cors_origins(browser, make_app, tmp_path,
                                                          fake_openai):
    with LiveServer(_blank_page) as client_origin:
        allowed = make_app(CORS_ORIGINS=[client_origin.url])
        closed = make_app(SQLITE_PATH=str(tmp_path / "closed.sqlite3"))
        with LiveServer(allowed) as allowed_api, LiveServer(closed) as closed_api:
            context = browser.new_context()
            page = context.new_page()
            page.goto(client_origin.url)

            def call(api, method, path, body=None):
                return page.evaluate(CALL_API, [api.url, method, path, body])

            # The reference client's whole flow, across origins.
            chat = call(allowed_api, "POST", "/api/chat", {"message": "Hello from the SPA"})
            assert chat["status"] == 200 and chat["json"]["reply"] == "Echo: Hello from the SPA"
            thread_id = chat["json"]["threadId"]
            listed = call(allowed_api, "GET", "/api/thread")
            assert [t["threadId"] for t in listed["json"]] == [thread_id]
            history = call(allowed_api, "GET", f"/api/thread/{thread_id}")
            assert [m["role"] for m in history["json"]] == ["user", "assistant"]
            assert call(allowed_api, "DELETE", f"/api/thread/{thread_id}")["status"] == 200

            # Without CORS_ORIGINS the browser refuses, and the request never runs.
            assert "blocked" in call(closed_api, "POST", "/api/chat", {"message": "Sneaky"})
            assert "blocked" in call(closed_api, "GET", "/api/thread")
            assert closed.extensions["thread_store"].list_threads(10).threads == []
            context.close()
    assert [r["json"]["messages"][-1]["content"] for r in fake_openai.requests] == [
        "Hello from the SPA"]
