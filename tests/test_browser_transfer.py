"""The "Export: Markdown · JSON" links in Chromium: each downloads the conversation shown, as a
file named after its title, with JavaScript and without."""
import json

from playwright.sync_api import expect

from tests.test_browser import (THREAD_URL, app_config, browser, bubbles, dialogs,  # noqa: F401
                                new_page, page, send, server, thread_id_of)


def export_link(page, name):
    return page.locator(".export-links").get_by_role("link", name=name, exact=True)


def download(page, name):
    """Click an export link; the file's suggested name and its text."""
    with page.expect_download() as caught:
        export_link(page, name).click()
    file = caught.value
    return file.suggested_filename, open(file.path(), encoding="utf-8").read()


def test_a_new_chat_offers_no_export_until_it_is_a_conversation(page, fake_openai):
    page.goto("/")
    expect(page.locator(".export-links")).to_be_hidden()

    send(page, "Export me, please")  # the reply streams in; the page is not reloaded

    expect(page).to_have_url(THREAD_URL)
    expect(export_link(page, "Markdown")).to_be_visible()
    name, text = download(page, "Markdown")
    assert name == "Export-me-please.md"
    assert text.startswith("# Export me, please\n")
    assert "## You · " in text and "\n\nExport me, please\n" in text
    assert "## Assistant · " in text and "\n\nEcho: Export me, please\n" in text


def test_the_json_link_downloads_the_whole_conversation(page, fake_openai):
    page.goto("/")
    send(page, "First question")
    send(page, "Second question")

    name, text = download(page, "JSON")

    assert name == "First-question.json"
    document = json.loads(text)
    assert document["threadId"] == thread_id_of(page)
    assert [(m["role"], m["content"]) for m in document["messages"]] == [
        ("user", "First question"), ("assistant", "Echo: First question"),
        ("user", "Second question"), ("assistant", "Echo: Second question")]


def test_export_links_work_without_javascript(new_page, fake_openai):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    expect(page.locator(".export-links")).to_be_hidden()  # nothing to export on a new chat
    send(page, "No script, still exportable", click=True, scripted=False)
    expect(bubbles(page, "assistant")).to_have_text("Echo: No script, still exportable")

    md_name, md_text = download(page, "Markdown")
    json_name, json_text = download(page, "JSON")

    assert md_name == "No-script-still-exportable.md"
    assert "\n\nEcho: No script, still exportable\n" in md_text
    assert json_name == "No-script-still-exportable.json"
    assert json.loads(json_text)["threadId"] == thread_id_of(page)
    expect(page).to_have_url(THREAD_URL)  # a download, not a page left behind


def test_the_links_follow_the_conversation_shown(page, fake_openai):
    page.goto("/")
    send(page, "The first conversation")
    page.goto("/")
    send(page, "The second conversation")

    page.locator("nav .threads a", has_text="The first conversation").click()
    expect(bubbles(page, "user")).to_have_text("The first conversation")

    name, text = download(page, "JSON")
    assert name == "The-first-conversation.json"
    assert json.loads(text)["title"] == "The first conversation"
