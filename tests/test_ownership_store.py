"""Each user's conversations, through OwnedStore over every store: nobody reads, changes, finds
or deletes another's, even by naming its id, and a thread of the same id is simply their own."""
import pytest

from chatapp import accounts
from chatapp.errors import ThreadExists, ThreadNotFound
from chatapp.models import Thread
from chatapp.store.owned import OwnedStore
from tests.test_search_store import store as searchable  # noqa: F401  (a fixture)
from tests.test_store_contract import T0, at, store  # noqa: F401  (`store`)


@pytest.fixture
def alice(store):
    return OwnedStore(store, accounts.create_user(store, "alice", "long enough", T0).user_id)


@pytest.fixture
def bob(store):
    return OwnedStore(store, accounts.create_user(store, "bob", "long enough", T0).user_id)


def ask(view, thread_id, text, second):
    thread, question = view.add_question(thread_id, text, text, at(second))
    view.append_message(thread_id, "assistant", f"Re: {text}", at(second), reply_to=question)
    return thread


def test_a_users_threads_are_theirs_alone(alice, bob):
    ask(alice, "trip", "Alice's secret plan", 1)

    assert bob.get_thread("trip") is None
    assert bob.messages("trip") == []
    assert bob.last_turn("trip") == (None, None)
    assert bob.list_threads(10).threads == []
    assert bob.rename_thread("trip", "Mine now") is None
    assert bob.delete_thread("trip") is False
    assert [m.content for m in alice.messages("trip")] == ["Alice's secret plan", "Re: Alice's secret plan"]
    assert alice.get_thread("trip").title == "Alice's secret plan"


def test_the_same_id_is_a_different_conversation_for_each_user(alice, bob):
    ask(alice, "trip", "Alice asks", 1)

    thread = ask(bob, "trip", "Bob asks", 2)  # as POST /api/chat with Alice's id would

    assert thread.thread_id == "trip"
    assert [m.content for m in bob.messages("trip")][0] == "Bob asks"
    assert [m.content for m in alice.messages("trip")][0] == "Alice asks"
    assert [t.thread_id for t in alice.list_threads(10).threads] == ["trip"]
    assert [t.thread_id for t in bob.list_threads(10).threads] == ["trip"]


def test_writes_to_another_users_thread_fail_as_for_a_missing_one(alice, bob):
    ask(alice, "trip", "Alice asks", 1)

    with pytest.raises(ThreadNotFound) as caught:
        bob.append_message("trip", "user", "Sneaking in", at(5))

    assert caught.value.message == "No conversation has the id 'trip'."
    assert len(alice.messages("trip")) == 2


def test_nobodys_threads_are_apart_from_every_users(store, alice):
    store.create_thread_if_missing("open", "Made with sign-in off", T0)
    ask(alice, "mine", "Alice asks", 1)

    assert [t.thread_id for t in store.list_threads(10).threads] == ["open"]
    assert alice.get_thread("open") is None
    assert [t.thread_id for t in alice.list_threads(10).threads] == ["mine"]


def test_pages_and_searches_of_a_user_page_through_their_threads_only(alice, bob):
    for n in range(5):
        ask(alice, f"a{n}", f"common words {n}", n)
        ask(bob, f"b{n}", f"common words {n}", n)

    first = alice.list_threads(2)
    rest = alice.list_threads(10, first.next_cursor)

    assert [t.thread_id for t in first.threads + rest.threads] == ["a4", "a3", "a2", "a1", "a0"]


def test_an_import_lands_in_the_importers_space_even_under_a_taken_id(alice, bob):
    ask(alice, "trip", "Alice asks", 1)
    thread = Thread("trip", "Imported", T0, at(1))

    assert bob.import_thread(thread, []).thread_id == "trip"
    with pytest.raises(ThreadExists) as caught:
        bob.import_thread(thread, [])
    assert "'trip'" in caught.value.message and ":" not in caught.value.message


def test_deleting_a_user_deletes_their_conversations_only(store, alice, bob):
    ask(alice, "trip", "Alice asks", 1)
    ask(bob, "trip", "Bob asks", 2)

    store.delete_user(alice.owner)

    assert alice.get_thread("trip") is None and alice.messages("trip") == []
    assert [m.content for m in bob.messages("trip")][0] == "Bob asks"


def test_conversations_from_before_accounts_can_be_given_to_a_user(store, alice, bob):
    store.create_thread_if_missing("old", "From before accounts", T0)
    store.append_message("old", "user", "An old question", at(1))

    assert store.give_unowned_threads(alice.owner) == 1

    assert [m.content for m in alice.messages("old")] == ["An old question"]
    assert store.list_threads(10).threads == [] and bob.get_thread("old") is None
    assert store.give_unowned_threads(bob.owner) == 0


# --- search: SQLite, and MongoDB on a real server (mongomock has no $text) -----------------------

def test_a_search_finds_the_searchers_threads_only(searchable):
    alice = OwnedStore(searchable, "alice-id")
    bob = OwnedStore(searchable, "bob-id")
    for n in range(5):
        ask(alice, f"a{n}", f"common words {n}", n)
        ask(bob, f"b{n}", f"common words {n} secret", n)
    searchable.create_thread_if_missing("open", "common words", T0)

    found = alice.search_threads("common words", 3)
    rest = alice.search_threads("common words", 10, found.next_cursor)

    assert [t.thread_id for t in found.threads + rest.threads] == ["a4", "a3", "a2", "a1", "a0"]
    assert alice.search_threads("secret", 10).threads == []
    assert [t.thread_id for t in searchable.search_threads("common", 10).threads] == ["open"]


def test_given_conversations_are_found_by_their_new_owner(searchable):
    searchable.create_thread_if_missing("old", "From before accounts", T0)
    searchable.append_message("old", "user", "An old question", at(1))
    searchable.search_threads("old", 10)  # indexed under its old id

    searchable.give_unowned_threads("alice-id")

    alice = OwnedStore(searchable, "alice-id")
    assert [t.thread_id for t in alice.search_threads("old question", 10).threads] == ["old"]
    assert searchable.search_threads("old", 10).threads == []
