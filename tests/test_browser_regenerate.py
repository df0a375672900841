"""Regenerate and Edit in a real browser (Chromium), with JavaScript (streamed in place) and
without (plain forms, the page coming back with the new reply)."""
import re

from playwright.sync_api import expect

from tests.fake_openai import Stream, stream_of
from tests.test_browser import (app_config, browser, bubbles, composer, dialogs,  # noqa: F401
                                messages, new_page, page, requests_get, send, send_button,
                                server, slow_stream, stop_button, thread_id_of)

SLOW_REPLY = "one two three four five six seven eight nine ten eleven twelve"


def regenerate_button(page):
    return page.get_by_role("button", name="Regenerate", exact=True)


def edit_link(page):
    return page.get_by_role("link", name="Edit", exact=True)


def editor(page):
    return page.get_by_role("textbox", name="Edit your message")


def stored(server, page):
    return [(m["role"], m["content"])
            for m in requests_get(server, f"/api/thread/{thread_id_of(page)}")]


def wait_for_turn(page):
    expect(page.locator("#messages .streaming")).to_have_count(0)
    expect(stop_button(page)).to_be_hidden()


# --- with JavaScript ------------------------------------------------------------------------------

def test_regenerate_writes_the_new_reply_in_place_of_the_old(page, server, fake_openai):
    page.goto("/")
    send(page, "Tell me a joke")
    expect(regenerate_button(page)).to_have_count(1)
    slow_stream(fake_openai, "A better joke, " + SLOW_REPLY, delay=0.1)

    regenerate_button(page).click()

    reply = page.locator('#messages [data-role="assistant"]')
    expect(reply).to_have_class(re.compile("streaming"))
    expect(stop_button(page)).to_be_visible()
    expect(reply).to_have_count(1)  # the old reply's place, not a second one
    expect(reply.locator(".md")).not_to_contain_text("Echo: Tell me a joke")
    expect(reply.locator(".md")).to_contain_text("A better joke")
    expect(regenerate_button(page)).to_have_count(0)  # no second press while it is written
    wait_for_turn(page)
    expect(bubbles(page, "assistant")).to_have_text("A better joke, " + SLOW_REPLY)
    expect(regenerate_button(page)).to_have_count(1)
    expect(composer(page)).to_be_focused()
    assert fake_openai.requests[-1]["json"]["messages"] == [
        {"role": "user", "content": "Tell me a joke"}]
    assert stored(server, page) == [("user", "Tell me a joke"),
                                    ("assistant", "A better joke, " + SLOW_REPLY)]
    page.reload()
    expect(bubbles(page, "assistant")).to_have_text("A better joke, " + SLOW_REPLY)


def test_stop_while_regenerating_keeps_the_partial_cut_short(page, server, fake_openai):
    page.goto("/")
    send(page, "Count for me")
    slow_stream(fake_openai, SLOW_REPLY, delay=0.2)
    regenerate_button(page).click()
    expect(bubbles(page, "assistant")).to_contain_text("three")

    page.keyboard.press("Escape")

    expect(page.get_by_text("Stopped: this reply was cut short.")).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(regenerate_button(page)).to_have_count(0)  # Retry is the offer for a cut reply
    shown = bubbles(page, "assistant").inner_text()
    assert shown.startswith("one two three") and "twelve" not in shown, shown
    for _ in range(50):  # the server learns of the Stop when its next write fails
        kept = requests_get(server, f"/api/thread/{thread_id_of(page)}")
        if kept[-1].get("finishReason") == "interrupted":
            break
        page.wait_for_timeout(100)
    assert len(kept) == 2 and kept[1]["finishReason"] == "interrupted", kept
    page.reload()
    expect(page.get_by_text("Stopped: this reply was cut short.")).to_be_visible()


def test_a_regenerate_that_gets_no_text_brings_the_old_reply_back(page, server, fake_openai):
    page.goto("/")
    send(page, "Keep this answer")
    fake_openai.fail_with(500)

    regenerate_button(page).click()

    expect(page.get_by_role("alert").filter(has_text="HTTP 500")).to_be_visible()
    expect(bubbles(page, "assistant")).to_have_text("Echo: Keep this answer")
    expect(regenerate_button(page)).to_have_count(1)
    assert stored(server, page) == [("user", "Keep this answer"),
                                    ("assistant", "Echo: Keep this answer")]


def test_edit_rewords_the_last_message_and_streams_a_new_reply(page, server, fake_openai):
    page.goto("/")
    send(page, "First question")
    send(page, "Secnod question")
    expect(edit_link(page)).to_have_count(1)  # on the last question only

    edit_link(page).click()
    expect(editor(page)).to_be_focused()
    expect(editor(page)).to_have_value("Secnod question")
    slow_stream(fake_openai, "Echo: Second question", delay=0.1)
    editor(page).fill("Second question")
    editor(page).press("Enter")

    expect(editor(page)).to_have_count(0)
    expect(bubbles(page, "user").last).to_have_text("Second question")
    expect(stop_button(page)).to_be_visible()
    wait_for_turn(page)
    expect(messages(page).locator(".bubble")).to_have_text(
        ["First question", "Echo: First question", "Second question", "Echo: Second question"])
    assert fake_openai.requests[-1]["json"]["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "Echo: First question"},
        {"role": "user", "content": "Second question"}]
    assert stored(server, page) == [
        ("user", "First question"), ("assistant", "Echo: First question"),
        ("user", "Second question"), ("assistant", "Echo: Second question")]
    page.reload()
    expect(messages(page).locator(".bubble")).to_have_text(
        ["First question", "Echo: First question", "Second question", "Echo: Second question"])


def test_escape_or_cancel_leaves_the_message_as_it_was(page, server, fake_openai):
    page.goto("/")
    send(page, "Leave me be")
    calls = len(fake_openai.requests)

    edit_link(page).click()
    editor(page).fill("Something else")
    editor(page).press("Escape")
    expect(editor(page)).to_have_count(0)
    expect(bubbles(page, "user")).to_have_text("Leave me be")

    edit_link(page).click()
    expect(editor(page)).to_have_value("Leave me be")  # what is stored, not the cancelled text
    page.get_by_role("button", name="Cancel").click()
    expect(editor(page)).to_have_count(0)
    expect(bubbles(page, "user")).to_have_text("Leave me be")
    expect(edit_link(page)).to_have_count(1)
    assert len(fake_openai.requests) == calls
    assert stored(server, page) == [("user", "Leave me be"), ("assistant", "Echo: Leave me be")]


def test_a_refused_edit_keeps_the_editor_with_the_text_and_the_reason(page, server, fake_openai):
    page.goto("/")
    send(page, "Original")

    edit_link(page).click()
    editor(page).fill("   ")  # passes the browser's `required`, not the server's check
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").filter(has_text="must not be empty")).to_be_visible()
    expect(editor(page)).to_have_value("   ")
    assert stored(server, page) == [("user", "Original"), ("assistant", "Echo: Original")]


def test_after_each_turn_edit_and_regenerate_sit_on_the_newest_messages(page, fake_openai):
    page.goto("/")
    send(page, "One")
    send(page, "Two")

    expect(edit_link(page)).to_have_count(1)
    expect(regenerate_button(page)).to_have_count(1)
    assert right_after_the_last_question_and_reply(page) == ["Edit", "Regenerate"]
    page.reload()  # as the server places them
    assert right_after_the_last_question_and_reply(page) == ["Edit", "Regenerate"]


def right_after_the_last_question_and_reply(page):
    return page.evaluate("""() => ["user", "assistant"].map((role) => {
      const last = [...document.querySelectorAll(`#messages [data-role="${role}"]`)].at(-1);
      return last.nextElementSibling?.textContent.trim();
    })""")


def test_a_reply_cut_off_by_the_model_offers_retry_not_regenerate(page, fake_openai):
    page.goto("/")
    fake_openai.stream_with(lambda request: Stream(stream_of("Half an answer").pieces[:3], 0.05,
                                                   cut=True))
    send(page, "Break please")

    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(regenerate_button(page)).to_have_count(0)
    expect(edit_link(page)).to_have_count(1)  # the question can still be reworded


# --- without JavaScript ---------------------------------------------------------------------------

def test_without_javascript_regenerate_and_edit_are_plain_forms(new_page, server, fake_openai):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    send(page, "No script", click=True, scripted=False)
    fake_openai.reply_with("Regenerated without a script")

    with page.expect_navigation():
        regenerate_button(page).click()
    expect(bubbles(page, "assistant")).to_have_text("Regenerated without a script")
    expect(messages(page)).to_have_count(2)

    fake_openai.reset()
    with page.expect_navigation():
        edit_link(page).click()
    expect(page).to_have_url(re.compile(r"\?edit=last#edit-form$"))
    expect(editor(page)).to_have_value("No script")
    editor(page).fill("Edited, no script")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/thread/[A-Za-z0-9_-]+#latest$"))
    expect(messages(page).locator(".bubble")).to_have_text(
        ["Edited, no script", "Echo: Edited, no script"])
    assert stored(server, page) == [("user", "Edited, no script"),
                                    ("assistant", "Echo: Edited, no script")]


def test_without_javascript_cancel_and_a_bad_edit_keep_the_message(new_page, server, fake_openai):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    send(page, "Keep it", click=True, scripted=False)

    with page.expect_navigation():
        edit_link(page).click()
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()
    expect(editor(page)).to_have_count(0)
    expect(bubbles(page, "user")).to_have_text("Keep it")

    with page.expect_navigation():
        edit_link(page).click()
    editor(page).fill("   ")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="must not be empty")).to_be_visible()
    expect(editor(page)).to_be_visible()
    assert stored(server, page) == [("user", "Keep it"), ("assistant", "Echo: Keep it")]
