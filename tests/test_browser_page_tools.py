"""Page conveniences in Chromium: Copy on each reply, the sidebar's date groups in the reader's
time zone, the keyboard (Ctrl+Shift+O, focus in the composer), and the page without JavaScript."""
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from chatapp.models import to_iso
from tests.test_browser import (HOME_URL, app_config, bubbles, browser, composer, dialogs,  # noqa: F401
                                new_page, page, send, server, sidebar, slow_stream, stop_button,
                                thread_links)

MARKDOWN = "## Steps\n\n1. Open **the file**\n2. Run `make test`\n\n> done & dusted <ok>"
OTHER_MARKDOWN = "Plain *second* reply with a [link](https://example.com)."


def copy_buttons(page):
    return page.locator("#messages .copy-reply")


def clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def sidebar_entries(page):
    """The sidebar list as ("heading", text) and ("thread", title), top to bottom."""
    entries = page.evaluate("""() => [...document.querySelectorAll("ul.threads > li")]
        .filter((li) => li.matches(".group, .thread-item"))
        .map((li) => li.matches(".group") ? ["heading", li.textContent.trim()]
                                          : ["thread", li.querySelector("a").textContent])""")
    return [tuple(entry) for entry in entries]


def seed(app, threads):
    """Threads straight in the store: {title: last updated (aware datetime)}."""
    store = app.extensions["thread_store"]
    for i, (title, when) in enumerate(threads.items()):
        store.create_thread_if_missing(f"z{i:03d}", title, to_iso(when))
        store.append_message(f"z{i:03d}", "user", title, to_iso(when))


# --- Copy on each reply ---------------------------------------------------------------------------

def test_copy_on_a_streamed_reply_copies_its_markdown_source(page, fake_openai):
    fake_openai.reply_with(MARKDOWN)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    send(page, "How do I run the tests?")

    copy = copy_buttons(page)
    expect(copy).to_have_count(1)  # on the reply only, not on the question
    expect(page.locator('#messages [data-role="assistant"] .copy-reply')).to_have_text("Copy")
    copy.click()

    expect(copy).to_have_text("Copied")
    assert clipboard(page) == MARKDOWN  # the source, not the rendered text
    expect(copy).to_have_text("Copy")  # ready again after a moment


def test_copy_on_replies_the_server_rendered_copies_each_ones_own_source(page, fake_openai):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    fake_openai.reply_with(MARKDOWN)
    send(page, "First question")
    fake_openai.reply_with(OTHER_MARKDOWN)
    send(page, "Second question")
    page.reload()  # now both replies come from the server's HTML

    expect(copy_buttons(page)).to_have_count(2)
    copy_buttons(page).first.click()
    expect(copy_buttons(page).first).to_have_text("Copied")
    assert clipboard(page) == MARKDOWN
    copy_buttons(page).last.click()
    expect(copy_buttons(page).last).to_have_text("Copied")
    assert clipboard(page) == OTHER_MARKDOWN


def test_a_stopped_reply_copies_what_was_written(page, fake_openai):
    slow_stream(fake_openai, "one two three four five six seven eight nine ten", delay=0.15)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    composer(page).fill("Count slowly")
    composer(page).press("Enter")
    reply = page.locator('#messages [data-role="assistant"]')
    expect(reply.locator(".md")).to_contain_text("three")
    stop_button(page).click()
    expect(reply).to_have_class("message cut-short")

    reply.locator(".copy-reply").click()

    expect(reply.locator(".copy-reply")).to_have_text("Copied")
    written = reply.locator(".md").text_content()
    assert written.startswith("one two three") and clipboard(page) == written


# --- date groups in the reader's time zone --------------------------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)  # 02:00 on 11 March in Kiritimati (+14)
NEAR_MIDNIGHT = {
    "An hour ago": NOW - timedelta(hours=1),             # today, in UTC and in Kiritimati
    "Three hours ago": NOW - timedelta(hours=3),         # today in UTC; 23:00 yesterday in Kiritimati
    "Yesterday morning UTC": datetime(2026, 3, 9, 5, 0, tzinfo=timezone.utc),  # 19:00 on the 8th there
    "New Year": datetime(2026, 1, 1, tzinfo=timezone.utc),
}
BY_UTC_DAYS = [("heading", "Today"), ("thread", "An hour ago"), ("thread", "Three hours ago"),
               ("heading", "Yesterday"), ("thread", "Yesterday morning UTC"),
               ("heading", "Older"), ("thread", "New Year")]


@pytest.fixture
def near_midnight(app):
    """NEAR_MIDNIGHT's threads, and the server's clock (grouping by UTC days) at NOW."""
    seed(app, NEAR_MIDNIGHT)
    app.extensions["chat_service"].clock = lambda: to_iso(NOW)


@pytest.mark.parametrize("zone, expected", [
    ("Pacific/Kiritimati", [("heading", "Today"), ("thread", "An hour ago"),
                            ("heading", "Yesterday"), ("thread", "Three hours ago"),
                            ("heading", "Previous 7 days"), ("thread", "Yesterday morning UTC"),
                            ("heading", "Older"), ("thread", "New Year")]),
    ("UTC", BY_UTC_DAYS),
])
def test_the_sidebar_groups_by_the_readers_own_days(new_page, near_midnight, zone, expected):
    page = new_page(timezone_id=zone)
    page.clock.set_fixed_time(NOW)
    page.goto("/")

    expect(thread_links(page)).to_have_count(4)
    assert sidebar_entries(page) == expected
    expect(sidebar(page).get_by_role("heading", name="Yesterday")).to_be_visible()


def test_without_javascript_the_sidebar_groups_by_utc_days(new_page, near_midnight):
    page = new_page(java_script_enabled=False, timezone_id="Pacific/Kiritimati")
    page.goto("/")

    assert sidebar_entries(page) == BY_UTC_DAYS
    expect(sidebar(page).get_by_role("heading", name="Today")).to_be_visible()


def test_a_new_conversation_goes_under_today_above_older_ones(page, app, fake_openai):
    seed(app, {"From last year": datetime.now(timezone.utc) - timedelta(days=365)})
    page.goto("/")
    assert sidebar_entries(page) == [("heading", "Older"), ("thread", "From last year")]

    send(page, "Something new")

    assert sidebar_entries(page) == [("heading", "Today"), ("thread", "Something new"),
                                     ("heading", "Older"), ("thread", "From last year")]


# --- keyboard -------------------------------------------------------------------------------------

@pytest.mark.parametrize("keys", ["Control+Shift+O", "Meta+Shift+O"])
def test_ctrl_shift_o_opens_a_new_chat_with_the_composer_focused(page, fake_openai, keys):
    page.goto("/")
    send(page, "An old conversation")
    page.get_by_role("heading", name="Today").click()  # focus away from the composer

    page.keyboard.press(keys)

    expect(page).to_have_url(HOME_URL)
    expect(page.get_by_role("heading", name="What can I help with?")).to_be_visible()
    expect(composer(page)).to_be_focused()


def test_the_composer_has_focus_on_a_thread_page_and_after_each_reply(page, fake_openai):
    page.goto("/")
    send(page, "Hello", click=True)  # the click takes focus to the Send button
    expect(composer(page)).to_be_focused()

    page.goto(page.url.split("#")[0] + "#latest")  # as a send without JavaScript lands
    page.reload()
    expect(composer(page)).to_be_focused()
    expect(page.locator(".hint")).to_contain_text("Ctrl+Shift+O for a new chat")


# --- without JavaScript ---------------------------------------------------------------------------

def test_without_javascript_replies_have_no_copy_button_and_groups_show(new_page, fake_openai):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    send(page, "No script here", click=True, scripted=False)

    expect(bubbles(page, "assistant")).to_have_text("Echo: No script here")
    expect(copy_buttons(page)).to_have_count(0)
    assert sidebar_entries(page) == [("heading", "Today"), ("thread", "No script here")]
