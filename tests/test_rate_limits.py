"""RATELIMIT_CHAT: one budget for every way a message reaches the model (a question, a retry, a
regenerate, an edit; by the API or the page), per signed-in user, else per address. Over it: a
429 with Retry-After, the page's note keeping the typed text, and nothing stored."""
import time

import pytest

from tests.test_auth import token_for_new_user
from tests.test_views import csrf_token


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_CHAT": "2/minute"}


def threads(app):
    return app.extensions["thread_store"].list_threads(50).threads


def test_over_the_limit_the_api_answers_429_with_retry_after_and_stores_nothing(app, client,
                                                                               fake_openai):
    for n in range(2):
        assert client.post("/api/chat", json={"message": f"Question {n}"}).status_code == 200

    over = client.post("/api/chat", json={"message": "One too many", "stream": True})

    assert over.status_code == 429
    assert over.json["error"]["code"] == "too_many_requests"
    assert "2/minute" in over.json["error"]["message"]
    assert 0 < int(over.headers["Retry-After"]) <= 60
    assert len(threads(app)) == 2 and len(fake_openai.requests) == 2


def test_the_page_and_the_api_share_one_budget_and_the_page_keeps_the_text(app, client):
    client.post("/api/chat", json={"message": "By the API"})
    token = csrf_token(client)
    client.post("/", data={"csrf_token": token, "message": "By the page"})

    over = client.post("/", data={"csrf_token": token, "message": "Words I typed"})

    assert over.status_code == 429
    assert "Slow down" in over.text and "Words I typed" in over.text
    assert int(over.headers["Retry-After"]) > 0
    assert len(threads(app)) == 2


def test_a_retry_counts_like_a_question(app, client):
    thread_id = client.post("/api/chat", json={"message": "First"}).json["threadId"]
    client.post(f"/api/thread/{thread_id}/regenerate", json={})

    assert client.post(f"/api/thread/{thread_id}/regenerate", json={}).status_code == 429


def test_each_address_has_its_own_budget_when_nobody_signs_in(client):
    here, there = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(2):
        client.post("/api/chat", json={"message": "Hi"}, environ_base=here)

    assert client.post("/api/chat", json={"message": "Hi"}, environ_base=here).status_code == 429
    assert client.post("/api/chat", json={"message": "Hi"}, environ_base=there).status_code == 200


def test_each_user_has_their_own_budget_whatever_their_address(app, client):
    tokens = {name: token_for_new_user(app, name, "long enough") for name in ("alice", "bob")}

    def send(name):
        return client.post("/api/chat", json={"message": "Hi"},
                           headers={"Authorization": f"Bearer {tokens[name]}"}).status_code

    assert [send("alice"), send("alice"), send("alice")] == [200, 200, 429]
    assert send("bob") == 200


def test_an_edit_counts_like_a_question(app, client):
    thread_id = client.post("/api/chat", json={"message": "First"}).json["threadId"]
    client.patch(f"/api/thread/{thread_id}/messages/last", json={"content": "Second"})

    over = client.patch(f"/api/thread/{thread_id}/messages/last", json={"content": "Third"})

    assert over.status_code == 429
    messages = client.get(f"/api/thread/{thread_id}").json
    assert messages[0]["content"] == "Second"


def test_limits_can_be_turned_off(make_app):
    client = make_app(RATELIMIT_ENABLED=False).test_client()

    assert [client.post("/api/chat", json={"message": "Hi"}).status_code
            for _ in range(3)] == [200, 200, 200]


def test_the_local_count_starts_again_when_its_window_ends():
    from chatapp.limits import LocalStorage

    storage = LocalStorage()
    assert [storage.incr("k", expiry=0.05) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("other", expiry=60) == 1  # each key counts apart

    time.sleep(0.06)

    assert storage.get("k") == 0 and storage.incr("k", expiry=60) == 1
    assert storage.get("other") == 1


def test_counts_nobody_touches_again_are_swept_away():
    from chatapp.limits import LocalStorage

    storage = LocalStorage()
    for n in range(LocalStorage.SWEEP_EVERY - 1):
        storage.incr(f"address:{n}", expiry=0.01)
    time.sleep(0.02)

    storage.incr("address:last", expiry=60)  # the write that sweeps

    assert set(storage.storage) == {"address:last"}
