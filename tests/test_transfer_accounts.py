"""`flask export` and `flask import` of a store with accounts: the users move with their
passwords (not their tokens), each user's conversations land in their own space under the ids
they know, nobody's stay nobody's; and the API's import of one conversation ignores an "owner"."""
import json
import os
import stat

import pytest

from chatapp import accounts
from chatapp.models import Message, Thread, utc_now
from chatapp.store import OwnedStore
from tests.test_auth import token_for_new_user
from tests.test_transfer_cli import (at, conversations, export_file, mongo_target,  # noqa: F401
                                     run, sqlite_target)

PASSWORDS = {"alice": "alice's password", "bob": "bob's password"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_REQUIRED": True}


def store_of(app):
    return app.extensions["thread_store"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(app):
    """alice and bob in the app's SQLite store, each with an API token."""
    return {name: token_for_new_user(app, name, password) for name, password in PASSWORDS.items()}


@pytest.fixture
def source(app, client, tokens):
    """Both users with a conversation `plans` each (written through the API), alice with a
    second one, and two conversations of nobody (from before accounts)."""
    for name in ("alice", "bob"):
        response = client.post("/api/chat", headers=bearer(tokens[name]),
                               json={"threadId": "plans", "message": f"{name}'s plans"})
        assert response.status_code == 200, response.data
    store = store_of(app)
    alice = store.user_named("alice")
    OwnedStore(store, alice.user_id).import_thread(
        Thread("trip", "Alice's trip", at(0), at(3), "gpt-4o", True),
        [Message("user", "Where to?", at(1)), Message("assistant", "Lisb", at(2), "interrupted"),
         Message("user", "Unanswered", at(3))])
    store.import_thread(Thread("old", "From before accounts", at(4), at(5)),
                        [Message("user", "q", at(4)), Message("assistant", "a", at(5), "stop")])
    store.import_thread(Thread("empty", "Nothing said yet", at(6), at(6)), [])
    return app


def by_owner(app):
    """{user name, or None for nobody: that space's conversations}."""
    store = store_of(app)
    spaces = {user.name: OwnedStore(store, user.user_id) for user in store.list_users()}
    return {owner: conversations(space) for owner, space in {**spaces, None: store}.items()}


def documents(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- export ------------------------------------------------------------------------------------

def test_the_users_come_first_then_conversations_under_their_own_ids_and_owners_names(
        source, tokens, tmp_path):
    path = tmp_path / "all.jsonl"

    result = run(source, "export", str(path))

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Exported 2 users and 5 conversations (9 messages) to {path}.\n"
        "API tokens do not move: `flask --app wsgi users token NAME` gives a user a new one.\n")
    users, threads = documents(path)[:2], documents(path)[2:]
    store = store_of(source)
    assert users == [{"format": "chatapp.user", "version": 1, "name": name,
                      "passwordHash": store.user_named(name).password_hash,
                      "createdAt": store.user_named(name).created_at} for name in ("alice", "bob")]
    assert {(d.get("owner"), d["threadId"]) for d in threads} == {
        ("alice", "plans"), ("alice", "trip"), ("bob", "plans"), (None, "empty"), (None, "old")}
    assert all(token not in path.read_text() for token in tokens.values())
    assert "\"owner\": null" not in path.read_text()  # nobody's have no owner field at all


def test_the_export_file_is_readable_by_its_owner_only(source, tmp_path):
    fresh, existing = tmp_path / "fresh.jsonl", tmp_path / "existing.jsonl"
    existing.write_text("old contents")
    existing.chmod(0o644)

    for path in (fresh, existing):
        assert run(source, "export", str(path)).exit_code == 0
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert existing.read_text() == fresh.read_text()


def test_a_conversation_whose_owner_is_gone_is_left_out_and_said(source, tmp_path):
    store_of(source).import_thread(Thread("gone-user-id:lost", "Lost", at(0), at(0)), [],
                                   owner="gone-user-id")  # its user deleted mid-export

    result = run(source, "export", str(tmp_path / "all.jsonl"))

    assert "Exported 2 users and 5 conversations" in result.output
    assert "Left out 1 conversation of users deleted meanwhile." in result.output
    assert "lost" not in (tmp_path / "all.jsonl").read_text()


# --- import ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target_name", ["mongo_target", "sqlite_target"])
def test_users_and_their_conversations_move_with_passwords_but_not_tokens(
        source, tokens, tmp_path, request, target_name):
    target = request.getfixturevalue(target_name)

    result = run(target, "import", str(export_file(source, tmp_path)))

    assert result.exit_code == 0, result.output
    assert result.output == (
        "2 users imported, 0 already there (left as they were). API tokens do not move: "
        "`flask --app wsgi users token NAME` gives a user a new one.\n"
        "5 imported (9 messages), 0 already there (left as they were), 0 invalid lines.\n")
    moved = store_of(target)
    for name, password in PASSWORDS.items():
        assert accounts.signed_in_user(moved, name, password).name == name
        assert accounts.signed_in_user(moved, name, "not the password") is None
        assert accounts.user_for_token(moved, tokens[name]) is None
    assert by_owner(target) == by_owner(source)
    assert [(t.thread_id, [m.content for m in ms]) for t, ms in by_owner(target)["bob"]] == [
        ("plans", ["bob's plans", "Echo: bob's plans"])]


def test_a_moved_user_reaches_their_own_conversations_through_the_api(source, mongo_target,
                                                                     tmp_path):
    run(mongo_target, "import", str(export_file(source, tmp_path)))
    store = store_of(mongo_target)
    alice = bearer(accounts.new_token(store, store.user_named("alice"), utc_now()))
    client = mongo_target.test_client()

    listed = client.get("/api/thread", headers=alice).get_json()
    plans = client.get("/api/thread/plans", headers=alice).get_json()

    assert sorted(t["threadId"] for t in listed) == ["plans", "trip"]
    assert [m["content"] for m in plans] == ["alice's plans", "Echo: alice's plans"]


def test_importing_twice_changes_nothing(source, sqlite_target, tmp_path):
    path = export_file(source, tmp_path)
    run(sqlite_target, "import", str(path))
    before = by_owner(sqlite_target), store_of(sqlite_target).list_users()

    result = run(sqlite_target, "import", str(path))

    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("0 users imported, 2 already there")
    assert result.output.splitlines()[1].startswith("0 imported (0 messages), 5 already there")
    assert (by_owner(sqlite_target), store_of(sqlite_target).list_users()) == before


def test_a_user_already_there_keeps_their_password_and_gets_their_conversations(
        source, sqlite_target, tmp_path):
    accounts.create_user(store_of(sqlite_target), "Alice", "the new server's", utc_now())

    result = run(sqlite_target, "import", str(export_file(source, tmp_path)))

    assert result.output.startswith("1 user imported, 1 already there (left as they were).")
    moved = store_of(sqlite_target)
    assert accounts.signed_in_user(moved, "alice", "the new server's").name == "Alice"
    assert accounts.signed_in_user(moved, "alice", PASSWORDS["alice"]) is None
    assert by_owner(sqlite_target)["Alice"] == by_owner(source)["alice"]


def test_an_unknown_owner_or_a_broken_user_line_is_an_invalid_line(source, sqlite_target,
                                                                  tmp_path):
    lines = export_file(source, tmp_path).read_text().splitlines()
    bobs_plans = next(line for line in lines if json.loads(line).get("owner") == "bob")
    no_hash = {**json.loads(lines[0]), "passwordHash": "plain text"}
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join([
        json.dumps(no_hash), lines[1], bobs_plans.replace('"owner": "bob"', '"owner": "carol"'),
        bobs_plans.replace('"owner": "bob"', '"owner": 42'), bobs_plans]) + "\n")

    result = run(sqlite_target, "import", str(path))

    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "1 imported (2 messages), 0 already there (left as they were), 3 invalid lines:",
        "  line 1: passwordHash must be a password hash as chatapp keeps it (method$salt$hash), "
        "as `flask export` writes it.",
        '  line 3: owner "carol" is not a user here: a user line before it, or '
        "`flask --app wsgi users create carol`, makes one.",
        "  line 4: owner must be null or a user's name, as `flask export` writes it."]
    assert [user.name for user in store_of(sqlite_target).list_users()] == ["bob"]
    assert by_owner(sqlite_target)["bob"] == by_owner(source)["bob"]


# --- the API: one conversation, always the caller's own ----------------------------------------

def test_the_api_import_ignores_an_owner_and_its_export_names_none(source, tokens):
    client = source.test_client()
    exported = client.get("/api/thread/plans/export", headers=bearer(tokens["alice"])).get_json()
    sent = {**exported, "threadId": "gift", "owner": "alice"}

    response = client.post("/api/thread/import", json=sent, headers=bearer(tokens["bob"]))

    assert "owner" not in exported
    assert response.status_code == 201
    assert client.get("/api/thread/gift", headers=bearer(tokens["alice"])).status_code == 404
    gift = client.get("/api/thread/gift", headers=bearer(tokens["bob"])).get_json()
    assert [m["content"] for m in gift] == ["alice's plans", "Echo: alice's plans"]
