"""Search in the sidebar, in Chromium: with JavaScript and without (the box is a plain GET form,
so both take the same path), paging through results, and a search kept while reading one."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import conversation
from tests.test_browser import (PHONE, bubbles, browser, dialogs,  # noqa: F401 (fixtures)
                                has_no_horizontal_scroll, new_page, page, send, server,
                                sidebar, thread_links, wait_until_seen)



@pytest.fixture
def trips(app):
    conversation(app, "rome", "Trip to Rome", "Where to stay?", "Near the Pantheon.", minute=0)
    conversation(app, "paris", "Paris", "Croissants?", "At the corner bakery.", minute=1)
    conversation(app, "lisbon", "Weekend", "Trams in Lisbon?", "Take the 28 to Rome street.",
                 minute=2)


def search_box(page):
    return sidebar(page).get_by_role("searchbox", name="Search conversations")


def search_for(page, words):
    search_box(page).fill(words)
    with page.expect_navigation():
        search_box(page).press("Enter")


@pytest.mark.parametrize("scripted", [True, False], ids=["js", "no-js"])
def test_the_search_box_shows_only_matching_conversations_until_cleared(new_page, trips,
                                                                        scripted):
    page = new_page(java_script_enabled=scripted)
    page.goto("/")
    expect(thread_links(page)).to_have_text(["Weekend", "Paris", "Trip to Rome"])

    search_for(page, "rome")

    expect(thread_links(page)).to_have_text(["Weekend", "Trip to Rome"])  # a reply, a title
    expect(search_box(page)).to_have_value("rome")
    expect(sidebar(page).get_by_text("Conversations with “rome”")).to_be_visible()

    search_for(page, "pantheon STAY")  # every word, anywhere in the conversation, any case
    expect(thread_links(page)).to_have_text(["Trip to Rome"])

    sidebar(page).get_by_role("link", name="Clear search").click()
    expect(thread_links(page)).to_have_text(["Weekend", "Paris", "Trip to Rome"])
    expect(search_box(page)).to_have_value("")


@pytest.mark.parametrize("scripted", [True, False], ids=["js", "no-js"])
def test_a_search_with_no_match_says_so(new_page, trips, scripted):
    page = new_page(java_script_enabled=scripted)
    page.goto("/")

    search_for(page, 'berlin "trams" OR *')

    expect(thread_links(page)).to_have_count(0)
    expect(sidebar(page).get_by_text("No conversations match.")).to_be_visible()


def test_searching_on_a_conversation_keeps_it_open_and_results_keep_the_search(page, trips):
    page.goto("/thread/paris")
    expect(bubbles(page, "user")).to_have_text(["Croissants?"])

    search_for(page, "rome")

    expect(bubbles(page, "user")).to_have_text(["Croissants?"])  # still reading Paris
    thread_links(page).filter(has_text="Trip to Rome").click()
    expect(bubbles(page, "user")).to_have_text(["Where to stay?"])
    expect(search_box(page)).to_have_value("rome")
    expect(thread_links(page)).to_have_text(["Weekend", "Trip to Rome"])
    expect(sidebar(page).locator("li.current a")).to_have_text("Trip to Rome")


def test_a_reply_just_written_is_found(page, fake_openai):
    page.goto("/")
    fake_openai.reply_with("Knead it for ten minutes, then let it proof overnight.")
    send(page, "How do I make bread?")

    search_for(page, "proof overnight")

    expect(thread_links(page)).to_have_text(["How do I make bread?"])
    # The conversation begun on this page (its address set by script) stays open.
    expect(page).to_have_url(re.compile(r"/thread/[A-Za-z0-9_-]+\?q=proof\+overnight$"))
    expect(bubbles(page, "user")).to_have_text(["How do I make bread?"])


def test_sending_while_results_are_shown_leaves_the_results_alone(page, trips, fake_openai):
    page.goto("/thread/paris?q=rome")
    expect(thread_links(page)).to_have_text(["Weekend", "Trip to Rome"])

    send(page, "And macarons?")  # streamed: the page would raise Paris in the plain list

    expect(thread_links(page)).to_have_text(["Weekend", "Trip to Rome"])


@pytest.mark.parametrize("scripted", [True, False], ids=["js", "no-js"])
def test_results_page_on_with_the_search_kept(new_page, app, scripted):
    app.config["THREADS_PER_PAGE"] = 2
    for n in range(5):
        conversation(app, f"hit{n}", f"Match {n}", minute=2 * n)
        conversation(app, f"miss{n}", f"Other {n}", minute=2 * n + 1)
    page = new_page(java_script_enabled=scripted)
    page.goto("/?q=match")
    expect(thread_links(page)).to_have_text(["Match 4", "Match 3"])

    for expected in (["Match 2", "Match 1"], ["Match 0"]):
        sidebar(page).get_by_role("link", name="Older conversations →").click()
        expect(thread_links(page)).to_have_text(expected)
        expect(search_box(page)).to_have_value("match")
    expect(sidebar(page).get_by_role("link", name="Older conversations →")).to_have_count(0)

    sidebar(page).get_by_role("link", name="← Newest conversations").click()
    expect(thread_links(page)).to_have_text(["Match 4", "Match 3"])


def test_on_a_phone_the_search_box_is_in_the_menu_and_fits(new_page, trips):
    page = new_page(viewport=PHONE)
    page.goto("/")
    box = sidebar(page).locator("#search-q")  # by CSS: the folded sidebar is out of the a11y tree
    wait_until_seen(page, box, "before the menu is opened, the search box", seen=False)
    open_menu = page.locator("label[for=sidebar-toggle]").filter(has_text="Conversations")
    open_menu.click()
    wait_until_seen(page, box, "after the menu is opened, the search box")
    # Wholly on screen once the sidebar has slid in (it moves for a moment).
    page.wait_for_function("el => { const r = el.getBoundingClientRect();"
                           " return r.left >= 0 && r.right <= innerWidth; }",
                           arg=box.element_handle())

    search_for(page, "lisbon")

    open_menu.click()
    expect(thread_links(page)).to_have_text(["Weekend"])
    has_no_horizontal_scroll(page)
