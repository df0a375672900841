"""The model picker, renaming in place, and generated titles, in Chromium: with JavaScript (the
reply streams, the title is edited where it stands) and without (forms post, pages come back)."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import seed_threads
from tests.sse_client import wait_until
from tests.test_browser import (bubbles, browser, composer, dialogs, new_page, page,  # noqa: F401
                                requests_get, send, server, sidebar, thread_links)
from tests.test_models_titles import answer_titles, chat_requests, title_requests

MODELS = ["model-a", "model-b", "model-c"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SYSTEM_PROMPT": "", "OPENAI_MODELS": MODELS}


def picker(page):
    return page.get_by_label("Model", exact=True)


def rename_button(page, title):
    return sidebar(page).get_by_role("button", name=f"Rename “{title}”", exact=True)


def title_box(page):
    return sidebar(page).get_by_role("textbox", name="New title")


def listed_titles(server):
    return [thread["title"] for thread in requests_get(server, "/api/thread")]


# --- the model picker -----------------------------------------------------------------------------

@pytest.mark.parametrize("scripted", [True, False], ids=["js", "no-js"])
def test_the_picked_model_answers_and_stays_with_the_conversation(new_page, fake_openai, scripted):
    page = new_page(java_script_enabled=scripted)
    page.goto("/")
    expect(picker(page)).to_have_value("model-a")
    picker(page).select_option("model-b")
    send(page, "First question", click=True, scripted=scripted)
    expect(bubbles(page, "assistant")).to_have_text(["Echo: First question"])
    thread_url = page.url.split("#")[0]

    page.goto(thread_url)  # the conversation's model, as stored
    expect(picker(page)).to_have_value("model-b")
    send(page, "Second question", click=True, scripted=scripted)
    picker(page).select_option("model-c")
    send(page, "Third question", click=True, scripted=scripted)
    expect(bubbles(page, "assistant")).to_have_count(3)
    assert [r["model"] for r in chat_requests(fake_openai)] == ["model-b", "model-b", "model-c"]

    page.goto("/")  # a new chat starts on the default
    expect(picker(page)).to_have_value("model-a")
    page.goto(thread_url)
    expect(picker(page)).to_have_value("model-c")


def test_the_picker_is_in_the_composer_and_reachable_by_keyboard(page, fake_openai):
    page.goto("/")
    composer(page).focus()
    for _ in range(4):  # from the message box, a few Tabs reach the picker
        page.keyboard.press("Tab")
        if picker(page).evaluate("el => el === document.activeElement"):
            break
    expect(picker(page)).to_be_focused()
    expect(picker(page).locator("option")).to_have_text(MODELS)


# --- renaming with JavaScript ---------------------------------------------------------------------

def test_rename_in_place_enter_saves_and_escape_cancels(page, server, fake_openai):
    page.goto("/")
    send(page, "Original question")  # the row is made by the page as the reply streams
    url = page.url
    expect(thread_links(page)).to_have_text(["Original question"])

    thread_links(page).first.focus()
    page.keyboard.press("Tab")  # the current row's Rename button, right after its link
    expect(rename_button(page, "Original question")).to_be_focused()
    page.keyboard.press("Enter")
    expect(title_box(page)).to_be_focused()
    expect(title_box(page)).to_have_value("Original question")
    expect(thread_links(page)).to_be_hidden()
    page.keyboard.type("  My own name ")  # the whole old title was selected: typing replaces it
    page.keyboard.press("Enter")

    expect(thread_links(page)).to_have_text(["My own name"])
    expect(title_box(page)).to_have_count(0)
    expect(rename_button(page, "My own name")).to_be_focused()
    expect(page).to_have_title("My own name · chatapp")
    assert page.url == url  # no page load
    assert listed_titles(server) == ["My own name"]

    page.keyboard.press("Enter")
    page.keyboard.type("Not this one")
    page.keyboard.press("Escape")
    expect(title_box(page)).to_have_count(0)
    expect(thread_links(page)).to_have_text(["My own name"])
    assert listed_titles(server) == ["My own name"]

    page.reload()
    expect(thread_links(page)).to_have_text(["My own name"])
    expect(bubbles(page, "assistant")).to_have_text(["Echo: Original question"])


def test_a_blank_title_says_what_is_wrong_and_keeps_the_box_open(page, app, server):
    seed_threads(app, 2)
    page.goto("/thread/t001")
    rename_button(page, "Thread 1").click()
    title_box(page).fill("   ")
    title_box(page).press("Enter")
    expect(sidebar(page).get_by_role("alert")).to_have_text("title must not be empty.")
    expect(title_box(page)).to_be_focused()
    title_box(page).fill("Thread one")
    title_box(page).press("Enter")
    expect(sidebar(page).get_by_role("alert")).to_have_count(0)
    expect(thread_links(page)).to_have_text(["Thread one", "Thread 0"])
    assert listed_titles(server) == ["Thread one", "Thread 0"]


def test_leaving_the_box_cancels_and_only_the_current_row_can_be_renamed(page, app, server):
    seed_threads(app, 3)
    page.goto("/thread/t000")
    expect(sidebar(page).locator(".rename-button")).to_have_count(1)
    rename_button(page, "Thread 0").click()
    title_box(page).fill("Half typed")
    composer(page).click()
    expect(title_box(page)).to_have_count(0)
    expect(thread_links(page)).to_have_text(["Thread 2", "Thread 1", "Thread 0"])
    assert listed_titles(server) == ["Thread 2", "Thread 1", "Thread 0"]


# --- renaming without JavaScript ------------------------------------------------------------------

def test_without_javascript_rename_opens_a_form_that_saves(new_page, app, server):
    seed_threads(app, 2)
    page = new_page(java_script_enabled=False)
    page.goto("/thread/t000")
    with page.expect_navigation():
        rename_button(page, "Thread 0").click()
    expect(page).to_have_url(re.compile(r"/thread/t000\?rename=1$"))
    box = page.get_by_role("textbox", name="Rename this conversation")
    expect(box).to_be_focused()
    expect(box).to_have_value("Thread 0")
    box.fill("Renamed without script")
    with page.expect_navigation():
        box.press("Enter")

    expect(page).to_have_url(re.compile(r"/thread/t000$"))
    expect(page.get_by_role("status")).to_have_text("Conversation renamed.")
    expect(thread_links(page)).to_have_text(["Thread 1", "Renamed without script"])
    expect(page.get_by_role("textbox", name="Rename this conversation")).to_have_count(0)
    assert listed_titles(server) == ["Thread 1", "Renamed without script"]


def test_without_javascript_cancel_leaves_the_title(new_page, app, server):
    seed_threads(app, 1)
    page = new_page(java_script_enabled=False)
    page.goto("/thread/t000?rename=1")
    page.get_by_role("textbox", name="Rename this conversation").fill("Never saved")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/thread/t000$"))
    expect(thread_links(page)).to_have_text(["Thread 0"])
    assert listed_titles(server) == ["Thread 0"]


# --- generated titles -----------------------------------------------------------------------------

class TestGeneratedTitles:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TITLE_GENERATION": True}

    def test_the_first_exchange_names_the_conversation(self, page, server, fake_openai):
        answer_titles(fake_openai, title="Rainy Day in Paris")
        page.goto("/")
        send(page, "What should I see in Paris when it rains?")
        expect(thread_links(page)).to_have_text(["What should I see in Paris when it rains?"])
        wait_until(lambda: listed_titles(server) == ["Rainy Day in Paris"],
                   message="the conversation is named")
        page.reload()
        expect(thread_links(page)).to_have_text(["Rainy Day in Paris"])
        send(page, "And when the sun shines?")
        assert len(title_requests(fake_openai)) == 1
