"""The accounts part of the store contract (chatapp/store/users.py), on every store: SQLite on a
real file, MongoDB on mongomock, and on a real server when TEST_MONGO_URI is set."""
import pytest

from chatapp import accounts
from chatapp.errors import InvalidInput, UserExists
from tests.test_store_contract import T0, at, store  # noqa: F401  (the `store` fixture)


def test_a_user_is_found_by_name_in_any_case_and_by_id(store):
    alice = accounts.create_user(store, "Alice", "correct horse", T0)

    assert store.user_named("alice") == store.user_named("ALICE") == alice
    assert store.user_by_id(alice.user_id) == alice
    assert store.user_named("bob") is None and store.user_by_id("nobody") is None


def test_a_name_is_taken_whatever_its_case(store):
    accounts.create_user(store, "Alice", "correct horse", T0)

    with pytest.raises(UserExists):
        accounts.create_user(store, "ALICE", "another password", at(1))
    assert [user.name for user in store.list_users()] == ["Alice"]


def test_the_password_is_kept_only_as_a_slow_hash(store):
    user = accounts.create_user(store, "alice", "correct horse", T0)

    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse" not in repr(user)


def test_users_are_listed_by_name(store):
    for name in ("carol", "Alice", "bob"):
        accounts.create_user(store, name, "a long password", T0)

    assert [user.name for user in store.list_users()] == ["Alice", "bob", "carol"]


def test_a_token_finds_its_user_until_revoked(store):
    alice = accounts.create_user(store, "alice", "correct horse", T0)
    bob = accounts.create_user(store, "bob", "battery staple", T0)
    first, second = accounts.new_token(store, alice, at(1)), accounts.new_token(store, alice, at(2))
    bobs = accounts.new_token(store, bob, at(3))

    assert accounts.user_for_token(store, first) == accounts.user_for_token(store, second) == alice
    assert accounts.user_for_token(store, first + "x") is None
    assert store.revoke_tokens(alice.user_id) == 2
    assert accounts.user_for_token(store, first) is None
    assert accounts.user_for_token(store, bobs) == bob


def test_a_token_is_kept_only_as_its_hash(store):
    alice = accounts.create_user(store, "alice", "correct horse", T0)
    token = accounts.new_token(store, alice, at(1))

    assert token.startswith("chatapp_") and len(token) > 40
    assert store.user_for_token(token) is None  # the store is asked by hash, never by token
    assert store.user_for_token(accounts.token_hash(token)) == alice


def test_a_deleted_user_and_their_tokens_are_gone(store):
    alice = accounts.create_user(store, "alice", "correct horse", T0)
    token = accounts.new_token(store, alice, at(1))

    assert store.delete_user(alice.user_id) is True
    assert store.delete_user(alice.user_id) is False
    assert store.user_by_id(alice.user_id) is None and store.user_named("alice") is None
    assert accounts.user_for_token(store, token) is None
    assert accounts.create_user(store, "alice", "a new password", at(2)).user_id != alice.user_id


def test_sign_in_checks_the_password_and_answers_alike_for_unknown_names(store):
    alice = accounts.create_user(store, "alice", "correct horse", T0)

    assert accounts.signed_in_user(store, "Alice", "correct horse") == alice
    assert accounts.signed_in_user(store, "alice", "wrong horse") is None
    assert accounts.signed_in_user(store, "nobody", "correct horse") is None
    assert accounts.signed_in_user(store, "alice", None) is None
    assert accounts.signed_in_user(store, "alice", "x" * 5000) is None
    assert accounts.signed_in_user(store, "../../etc", "correct horse") is None


@pytest.mark.parametrize("name", ["", "a b", "-dash", "x" * 41, "ünïcode", "a/b", None, 7])
def test_a_name_must_be_short_and_plain(store, name):
    with pytest.raises(InvalidInput):
        accounts.create_user(store, name, "correct horse", T0)


@pytest.mark.parametrize("password", ["", "short", "x" * 1025, None])
def test_a_password_must_be_8_to_1024_characters(store, password):
    with pytest.raises(InvalidInput):
        accounts.create_user(store, "alice", password, T0)
    assert store.list_users() == []
