"""With LOGIN_REQUIRED on, every way in (API, streams, pages, export, import) reaches only the
user's own conversations. Another user's conversation answers exactly as a missing one does,
and naming its id in POST /api/chat starts the sender's own conversation of that id."""
import json

import pytest

from tests.test_auth import sign_in, token_for_new_user
from tests.test_views import token_from


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_REQUIRED": True}


@pytest.fixture
def auth(app):
    """{name: headers} for alice and bob, each with a token of their own."""
    tokens = {name: token_for_new_user(app, name, "long enough") for name in ("alice", "bob")}
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


@pytest.fixture
def alices_trip(client, auth):
    response = client.post("/api/chat", json={"threadId": "trip", "message": "Alice's secret"},
                           headers=auth["alice"])
    assert response.status_code == 200
    return "trip"


def answer(response):
    """What a client can see of an answer, but the Date it was sent."""
    return response.status_code, response.get_data(), sorted(
        (k, v) for k, v in response.headers.items() if k != "Date")


REQUESTS = [
    ("get", "/api/thread/trip", None),
    ("delete", "/api/thread/trip", None),
    ("patch", "/api/thread/trip", {"title": "Mine"}),
    ("post", "/api/thread/trip/regenerate", {}),
    ("patch", "/api/thread/trip/messages/last", {"content": "Changed"}),
    ("get", "/api/thread/trip/export", None),
]


@pytest.mark.parametrize("method, path, body", REQUESTS)
def test_another_users_conversation_answers_exactly_as_a_missing_one(client, auth, alices_trip,
                                                                     method, path, body):
    def ask():
        return getattr(client, method)(path, json=body, headers=auth["bob"])

    while_alice_has_it = answer(ask())
    client.delete("/api/thread/trip", headers=auth["alice"])
    when_nobody_has_it = answer(ask())

    assert while_alice_has_it[0] == 404
    assert while_alice_has_it == when_nobody_has_it


def test_nothing_bob_tries_changes_alices_conversation(client, auth, alices_trip):
    for method, path, body in REQUESTS:
        getattr(client, method)(path, json=body, headers=auth["bob"])

    messages = client.get("/api/thread/trip", headers=auth["alice"]).json
    assert [m["content"] for m in messages] == ["Alice's secret", "Echo: Alice's secret"]
    assert client.get("/api/thread", headers=auth["alice"]).json[0]["title"] == "Alice's secret"


def test_posting_to_another_users_id_starts_the_senders_own_conversation(client, auth,
                                                                        alices_trip):
    whole = client.post("/api/chat", json={"threadId": "trip", "message": "Bob's question"},
                        headers=auth["bob"])
    streamed = client.post("/api/chat", headers=auth["bob"], json={
        "threadId": "trip", "message": "Bob again", "stream": True})

    assert whole.status_code == 200 and whole.json["threadId"] == "trip"
    assert whole.json["reply"] == "Echo: Bob's question"
    assert streamed.status_code == 200 and b"Echo: Bob again" in streamed.get_data()
    bobs = client.get("/api/thread/trip", headers=auth["bob"]).json
    assert [m["content"] for m in bobs][::2] == ["Bob's question", "Bob again"]
    alices = client.get("/api/thread/trip", headers=auth["alice"]).json
    assert [m["content"] for m in alices] == ["Alice's secret", "Echo: Alice's secret"]


def test_lists_and_searches_hold_only_the_users_own_conversations(client, auth, alices_trip):
    client.post("/api/chat", json={"message": "Bob's plans"}, headers=auth["bob"])

    assert [t["title"] for t in client.get("/api/thread", headers=auth["bob"]).json] == [
        "Bob's plans"]
    assert client.get("/api/thread", query_string={"q": "secret"}, headers=auth["bob"]).json == []
    found = client.get("/api/thread", query_string={"q": "secret"}, headers=auth["alice"]).json
    assert [t["threadId"] for t in found] == ["trip"]


def test_an_import_goes_into_the_importers_own_space(client, auth, alices_trip):
    exported = client.get("/api/thread/trip/export", headers=auth["alice"]).get_data()

    imported = client.post("/api/thread/import", data=exported, headers={
        **auth["bob"], "Content-Type": "application/json"})

    assert imported.status_code == 201 and imported.json["threadId"] == "trip"
    bobs = client.get("/api/thread/trip", headers=auth["bob"]).json
    assert [m["content"] for m in bobs] == ["Alice's secret", "Echo: Alice's secret"]
    assert json.loads(exported)["threadId"] == "trip"  # the exported id is the public one


def test_on_the_pages_another_users_conversation_is_not_found_and_never_listed(
        app, auth, alices_trip):
    bob = app.test_client()
    sign_in(bob, "bob", "long enough")

    page = bob.get("/thread/trip")
    home = bob.get("/")
    sidebar = home.text

    assert page.status_code == 404 and "Alice's secret" not in page.text
    assert "Alice's secret" not in sidebar and "No conversations yet." in sidebar
    token = token_from(home)
    assert bob.post("/thread/trip/delete", data={"csrf_token": token}).status_code in (302, 404)
    alice = app.test_client()
    sign_in(alice, "alice", "long enough")
    assert "Alice's secret" in alice.get("/thread/trip").text
