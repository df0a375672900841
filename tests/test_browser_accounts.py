"""Sign-in in Chromium, with LOGIN_REQUIRED on: the sign-in page, a conversation streamed by a
signed-in user (the page's own API calls go by the session cookie), each user's own sidebar,
and signing out; with JavaScript and without."""
import pytest
from playwright.sync_api import expect

from chatapp import accounts
from chatapp.models import utc_now
from tests.test_browser import (bubbles, browser, dialogs, new_page, send,  # noqa: F401
                                server, thread_links)

PASSWORD = "correct horse"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_REQUIRED": True}


@pytest.fixture
def users(app):
    store = app.extensions["thread_store"]
    for name in ("alice", "bob"):
        accounts.create_user(store, name, PASSWORD, utc_now())


def sign_in(page, name, password=PASSWORD):
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("scripted", [True, False], ids=["javascript", "no-javascript"])
def test_a_user_signs_in_chats_and_signs_out(new_page, users, fake_openai, scripted):
    page = new_page(java_script_enabled=scripted)
    page.goto("/")
    expect(page).to_have_url("/signin?next=/")

    sign_in(page, "alice", "wrong horse")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    sign_in(page, "alice")

    expect(page.locator(".account-name")).to_have_text("alice")
    send(page, "Hello as Alice", click=True, scripted=scripted)
    expect(bubbles(page, "assistant").last).to_have_text("Echo: Hello as Alice")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/")
    expect(page).to_have_url("/signin?next=/")


def test_each_user_sees_only_their_own_conversations(new_page, users, fake_openai):
    alice, bob = new_page(), new_page()
    for page, name in ((alice, "alice"), (bob, "bob")):
        page.goto("/")
        sign_in(page, name)
        send(page, f"A secret of {name}")

    expect(thread_links(alice)).to_have_text(["A secret of alice"])
    expect(thread_links(bob)).to_have_text(["A secret of bob"])
    bob.goto(alice.url.split("#")[0])
    expect(bob.get_by_role("heading", name="Not found")).to_be_visible()
    expect(bob.locator("body")).not_to_contain_text("A secret of alice")
