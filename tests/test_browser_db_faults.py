"""A question sent while the database is locked, in Chromium: with JavaScript and without, the
person's text is still there to send again, and sending it once the database is back works."""
import re

import pytest
from playwright.sync_api import expect

from tests.db_faults import locked
from tests.test_browser import (bubbles, browser, composer, dialogs,  # noqa: F401 (fixtures)
                                new_page, page, send, send_button, server)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT": 0.2, "SYSTEM_PROMPT": ""}


def test_with_javascript_the_text_stays_in_the_composer_with_the_reason(app, page):
    page.goto("/")
    with locked(app):
        composer(page).fill("Written while the database was busy")
        composer(page).press("Enter")
        expect(page.locator(".composer-error")).to_contain_text("database")
        expect(composer(page)).to_have_value("Written while the database was busy")
        expect(bubbles(page, "user")).to_have_count(0)  # nothing shown as sent
    send(page, composer(page).input_value())
    expect(bubbles(page, "assistant")).to_have_text("Echo: Written while the database was busy")


def test_without_javascript_the_error_page_holds_the_text_to_send_again(app, new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    with locked(app):
        composer(page).fill("Written while the database was busy")
        with page.expect_navigation():
            send_button(page).click()
        expect(page.get_by_role("heading")).to_have_text("Something went wrong")
        expect(page.locator("#draft")).to_have_value("Written while the database was busy")
    with page.expect_navigation():
        page.get_by_role("button", name="Send again").click()
    expect(page).to_have_url(re.compile(r"/thread/[A-Za-z0-9_-]+#latest$"))
    expect(bubbles(page, "assistant")).to_have_text("Echo: Written while the database was busy")
