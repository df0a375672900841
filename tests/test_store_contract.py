"""The ThreadStore contract, run against every store, plus checks only one store can have.

Stores: SQLite on a real file, MongoDB on mongomock, and MongoDB on a real server when
TEST_MONGO_URI is set (a fresh database per test, dropped afterwards)."""
import base64
import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import mongomock
import pymongo
import pytest

from chatapp.errors import InvalidInput, StoreUnavailable, ThreadNotFound
from chatapp.models import to_iso, utc_now
from chatapp.store import MongoThreadStore, SQLiteThreadStore
from chatapp.store.sqlite_schema import MIGRATIONS
from tests.helpers import closed_port

START = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
T0 = to_iso(START)  # "2024-03-01T12:00:00.123Z": stores take and give times as this text

MONGO_KINDS = ["mongomock"] + (["mongodb"] if os.environ.get("TEST_MONGO_URI") else [])
STORE_KINDS = ["sqlite"] + MONGO_KINDS


def at(seconds):
    """The time `seconds` after T0, as the stores keep times."""
    return to_iso(START + timedelta(seconds=seconds))


@contextmanager
def mongo_database(kind):
    if kind == "mongomock":
        yield mongomock.MongoClient().db
        return
    client = pymongo.MongoClient(os.environ["TEST_MONGO_URI"], serverSelectionTimeoutMS=3000)
    name = f"chatapp_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@contextmanager
def open_store(kind, tmp_path):
    """A store of this kind, new and empty: SQLite on a file in tmp_path, or MongoDB."""
    if kind == "sqlite":
        yield SQLiteThreadStore(str(tmp_path / "chat.sqlite3"))
    else:
        with mongo_database(kind) as db:
            yield MongoThreadStore(db)


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    with open_store(request.param, tmp_path) as store:
        yield store


@pytest.fixture(params=MONGO_KINDS)
def mongo_db(request):
    with mongo_database(request.param) as db:
        yield db


@pytest.fixture
def sqlite_path(tmp_path):
    return str(tmp_path / "chat.sqlite3")


def thread_with(store, thread_id, *contents, start=0):
    """Create a thread and append alternating user/assistant messages, one second apart."""
    store.create_thread_if_missing(thread_id, f"Title of {thread_id}", at(start))
    for i, content in enumerate(contents):
        role = "user" if i % 2 == 0 else "assistant"
        store.append_message(thread_id, role, content, at(start + i + 1))


def contents(messages):
    return [m.content for m in messages]


def all_pages(store, limit):
    """Every thread, following next_cursor until the last page."""
    threads, cursor = [], None
    while True:
        page = store.list_threads(limit, cursor)
        threads += page.threads
        if page.next_cursor is None:
            return threads
        cursor = page.next_cursor


# --- create_thread_if_missing / get_thread -------------------------------------------------

def test_create_thread_stores_title_and_times(store):
    thread = store.create_thread_if_missing("t1", "Hello", T0)

    assert (thread.thread_id, thread.title, thread.created_at, thread.updated_at) == (
        "t1", "Hello", T0, T0)
    assert store.get_thread("t1") == thread


def test_create_thread_twice_returns_the_existing_thread_unchanged(store):
    first = store.create_thread_if_missing("t1", "First title", at(0))

    second = store.create_thread_if_missing("t1", "Other title", at(60))

    assert second == first
    assert store.get_thread("t1") == first
    assert [t.thread_id for t in store.list_threads(10).threads] == ["t1"]


def test_get_thread_of_unknown_id_is_none(store):
    store.create_thread_if_missing("t1", "Hello", T0)

    assert store.get_thread("nope") is None


def test_concurrent_creates_of_one_new_id_make_exactly_one_thread(store):
    workers, barrier, results, errors = 8, threading.Barrier(8), [], []

    def create(i):
        barrier.wait()
        try:
            results.append(store.create_thread_if_missing("same", f"Title {i}", at(i)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(results) == workers and len(set(results)) == 1  # all saw the same thread
    assert store.list_threads(10).threads == [results[0]]


# --- append_message / messages ---------------------------------------------------------------

def test_messages_come_back_oldest_first_in_append_order(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    for text in ["one", "two", "three", "four"]:
        store.append_message("t1", "user", text, T0)  # same timestamp: order is append order

    assert contents(store.messages("t1")) == ["one", "two", "three", "four"]


def test_message_role_content_and_timestamp_round_trip_to_the_millisecond(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    now = utc_now()
    text = 'Ünïcödé 🎉\nline two with "quotes", {"$ne": null} and `code`'
    store.append_message("t1", "user", text, now)
    store.append_message("t1", "assistant", "Reply", "2024-03-01T12:00:02.007Z")
    store.append_message("t1", "user", "Third", "1999-12-31T23:59:59.999Z")

    stored = store.messages("t1")

    assert [(m.role, m.content, m.timestamp) for m in stored] == [
        ("user", text, now),
        ("assistant", "Reply", "2024-03-01T12:00:02.007Z"),
        ("user", "Third", "1999-12-31T23:59:59.999Z"),
    ]


def test_append_message_bumps_updated_at_but_not_created_at(store):
    store.create_thread_if_missing("t1", "Hello", at(0))

    returned = store.append_message("t1", "user", "Hi", at(30))

    assert (returned.role, returned.content, returned.timestamp) == ("user", "Hi", at(30))
    thread = store.get_thread("t1")
    assert (thread.created_at, thread.updated_at) == (at(0), at(30))


def test_append_message_to_unknown_thread_raises_thread_not_found(store):
    with pytest.raises(ThreadNotFound):
        store.append_message("ghost", "user", "Hi", T0)

    assert store.messages("ghost") == []
    assert store.get_thread("ghost") is None


def test_messages_of_unknown_thread_are_empty(store):
    assert store.messages("ghost") == []
    assert store.recent_messages("ghost", 100) == []


def test_messages_stay_in_their_own_thread(store):
    thread_with(store, "a", "in a")
    thread_with(store, "b", "in b")

    assert contents(store.messages("a")) == ["in a"]
    assert contents(store.messages("b")) == ["in b"]


# --- recent_messages ---------------------------------------------------------------------------

@pytest.mark.parametrize("max_chars, expected", [
    (1000, ["aaaa", "bbb", "cc", "d"]),  # everything fits
    (10, ["aaaa", "bbb", "cc", "d"]),    # exactly fits
    (9, ["bbb", "cc", "d"]),              # the oldest is dropped first
    (3, ["cc", "d"]),
    (0, ["d"]),                           # the newest is always kept
])
def test_recent_messages_keeps_the_newest_within_budget_oldest_first(store, max_chars, expected):
    thread_with(store, "t1", "aaaa", "bbb", "cc", "d")

    assert contents(store.recent_messages("t1", max_chars)) == expected


def test_recent_messages_keeps_the_newest_even_when_it_alone_is_over_budget(store):
    thread_with(store, "t1", "a", "b" * 100)

    assert contents(store.recent_messages("t1", 5)) == ["b" * 100]


def test_recent_messages_never_skips_a_message_to_fit_an_older_one(store):
    thread_with(store, "t1", "a", "bbbbbb", "c")

    # "a" would fit in what is left, but history must be an unbroken run of the newest.
    assert contents(store.recent_messages("t1", 3)) == ["c"]


def test_recent_messages_round_trip_roles_and_timestamps(store):
    thread_with(store, "t1", "question", "answer")

    assert [(m.role, m.timestamp) for m in store.recent_messages("t1", 100)] == [
        ("user", at(1)), ("assistant", at(2))]


# --- turns: a reply after its question --------------------------------------------------------

def roles_and_contents(messages):
    return [(m.role, m.content) for m in messages]


def test_a_question_is_its_own_turn_and_a_reply_defaults_to_the_newest_question(store):
    store.create_thread_if_missing("t1", "Hello", T0)

    first = store.append_message("t1", "user", "First", at(1))
    second = store.append_message("t1", "user", "Second", at(2))
    reply = store.append_message("t1", "assistant", "Reply", at(3))

    assert first.turn is not None and second.turn is not None and first.turn != second.turn
    assert reply.turn == second.turn
    assert [m.turn for m in store.messages("t1")] == [first.turn, second.turn, second.turn]


def test_a_reply_sits_right_after_its_question_whatever_was_asked_meanwhile(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    store.append_message("t1", "user", "Second", at(2))
    store.append_message("t1", "user", "Third", at(3))

    reply = store.append_message("t1", "assistant", "Answer to first", at(4), reply_to=first)

    assert reply.turn == first.turn
    assert roles_and_contents(store.messages("t1")) == [
        ("user", "First"), ("assistant", "Answer to first"), ("user", "Second"), ("user", "Third")]
    assert store.get_thread("t1").updated_at == at(4)


def test_replies_stored_out_of_order_each_follow_their_own_question(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    second = store.append_message("t1", "user", "Second", at(2))

    store.append_message("t1", "assistant", "Answer to second", at(3), reply_to=second)
    store.append_message("t1", "assistant", "Answer to first", at(4), reply_to=first)

    assert contents(store.messages("t1")) == [
        "First", "Answer to first", "Second", "Answer to second"]


def test_a_second_reply_to_a_turn_replaces_the_first(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Question", at(1))
    store.append_message("t1", "user", "Later question", at(2))
    store.append_message("t1", "assistant", "Half an ans", at(3), reply_to=question,
                         finish_reason="interrupted", usage={"prompt_tokens": 5,
                                                            "completion_tokens": 3})

    store.append_message("t1", "assistant", "A whole answer", at(4), reply_to=question,
                         finish_reason="stop", usage={"prompt_tokens": 5, "completion_tokens": 9})

    stored = store.messages("t1")
    assert roles_and_contents(stored) == [
        ("user", "Question"), ("assistant", "A whole answer"), ("user", "Later question")]
    reply = stored[1]
    assert (reply.finish_reason, reply.usage, reply.timestamp) == (
        "stop", {"prompt_tokens": 5, "completion_tokens": 9}, at(4))


def test_replacing_a_reply_leaves_other_turns_and_threads_alone(store):
    thread_with(store, "other", "Q", "A")
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    store.append_message("t1", "assistant", "Answer 1", at(2), reply_to=first)
    second = store.append_message("t1", "user", "Second", at(3))
    store.append_message("t1", "assistant", "Answer 2", at(4), reply_to=second)

    store.append_message("t1", "assistant", "Answer 2 again", at(5), reply_to=second)

    assert contents(store.messages("t1")) == ["First", "Answer 1", "Second", "Answer 2 again"]
    assert contents(store.messages("other")) == ["Q", "A"]


def test_finish_reason_and_usage_round_trip(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Question", at(1))
    usage = {"prompt_tokens": 12, "completion_tokens": 345}

    returned = store.append_message("t1", "assistant", "Answer", at(2), reply_to=question,
                                    finish_reason="length", usage=usage)

    assert (returned.finish_reason, returned.usage) == ("length", usage)
    assert (question.finish_reason, question.usage) == (None, None)
    expected = [("user", None, None), ("assistant", "length", usage)]
    for got in (store.messages("t1"), store.recent_messages("t1", 1000),
                list(store.last_turn("t1"))):
        assert [(m.role, m.finish_reason, m.usage) for m in got] == expected


def test_a_reply_without_usage_has_none(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    store.append_message("t1", "user", "Question", at(1))

    returned = store.append_message("t1", "assistant", "Answer", at(2), finish_reason="failed")

    reply = store.messages("t1")[1]
    assert (returned.usage, reply.usage, reply.finish_reason) == (None, None, "failed")
    assert reply.cut_short


# --- recent_messages through a turn ----------------------------------------------------------

def test_recent_messages_through_a_turn_is_the_prompt_for_that_question(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    store.append_message("t1", "assistant", "Answer 1", at(2), reply_to=first)
    second = store.append_message("t1", "user", "Second", at(3))
    store.append_message("t1", "assistant", "Cut sh", at(4), reply_to=second,
                         finish_reason="interrupted")
    third = store.append_message("t1", "user", "Third", at(5))

    assert contents(store.recent_messages("t1", 1000, through_turn=second.turn)) == [
        "First", "Answer 1", "Second"]  # not its own old reply, not the later question
    assert contents(store.recent_messages("t1", 1000, through_turn=first.turn)) == ["First"]
    assert contents(store.recent_messages("t1", 1000, through_turn=third.turn)) == [
        "First", "Answer 1", "Second", "Cut sh", "Third"]
    assert contents(store.recent_messages("t1", 1000)) == [
        "First", "Answer 1", "Second", "Cut sh", "Third"]


def test_recent_messages_through_a_turn_keeps_its_question_whatever_the_budget(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "a" * 50, at(1))
    store.append_message("t1", "user", "b", at(2))

    assert contents(store.recent_messages("t1", 0, through_turn=first.turn)) == ["a" * 50]


def test_recent_messages_through_a_turn_while_a_later_question_waits(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    store.append_message("t1", "user", "Second", at(2))  # asked before First was answered

    assert contents(store.recent_messages("t1", 1000, through_turn=first.turn)) == ["First"]


# --- last_turn ---------------------------------------------------------------------------------

def test_last_turn_of_an_empty_or_unknown_thread_is_none_none(store):
    store.create_thread_if_missing("t1", "Hello", T0)

    assert store.last_turn("t1") == (None, None)
    assert store.last_turn("ghost") == (None, None)


def test_last_turn_of_an_unanswered_question(store):
    thread_with(store, "t1", "First", "Answer 1", "Second")

    question, reply = store.last_turn("t1")

    assert (question.role, question.content, reply) == ("user", "Second", None)


def test_last_turn_of_an_answered_question(store):
    thread_with(store, "t1", "First", "Answer 1", "Second", "Answer 2")

    question, reply = store.last_turn("t1")

    assert (question.content, reply.content) == ("Second", "Answer 2")
    assert reply.turn == question.turn


def test_last_turn_is_the_newest_question_even_if_an_older_one_was_answered_after_it(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    first = store.append_message("t1", "user", "First", at(1))
    store.append_message("t1", "user", "Second", at(2))
    store.append_message("t1", "assistant", "Answer 1", at(3), reply_to=first)

    question, reply = store.last_turn("t1")

    assert (question.content, reply) == ("Second", None)


# --- claim_turn / release_turn -------------------------------------------------------------------

def test_a_question_appended_with_a_claim_cannot_be_claimed_before_it_ends(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(60))

    assert store.claim_turn("t1", question.turn, at(1), at(61)) is False
    assert store.claim_turn("t1", question.turn, at(59), at(119)) is False


def test_a_lapsed_claim_can_be_taken_and_then_holds(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(60))

    assert store.claim_turn("t1", question.turn, at(61), at(121)) is True
    assert store.claim_turn("t1", question.turn, at(62), at(122)) is False
    assert store.claim_turn("t1", question.turn, at(121), at(181)) is True  # ends at `until`


def test_an_unclaimed_question_can_be_claimed_once(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0))

    assert store.claim_turn("t1", question.turn, at(1), at(61)) is True
    assert store.claim_turn("t1", question.turn, at(2), at(62)) is False


def test_release_turn_frees_a_claimed_question(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(60))

    store.release_turn("t1", question.turn)

    assert store.claim_turn("t1", question.turn, at(1), at(61)) is True
    store.release_turn("t1", question.turn)
    store.release_turn("t1", question.turn)  # twice: harmless
    assert store.claim_turn("t1", question.turn, at(2), at(62)) is True


def test_claims_are_per_question_and_per_thread(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    store.create_thread_if_missing("t2", "Other", T0)
    first = store.append_message("t1", "user", "First", at(0), claim_until=at(60))
    second = store.append_message("t1", "user", "Second", at(1))
    reply = store.append_message("t1", "assistant", "Answer 2", at(2), reply_to=second)

    assert store.claim_turn("t1", second.turn, at(3), at(63)) is True  # another question
    assert store.claim_turn("t2", first.turn, at(3), at(63)) is False  # not t2's question
    assert store.claim_turn("ghost", first.turn, at(3), at(63)) is False
    store.release_turn("t2", first.turn)  # another thread's release frees nothing here
    assert store.claim_turn("t1", first.turn, at(3), at(63)) is False
    assert reply.turn == second.turn


def test_storing_a_reply_keeps_the_question_and_ends_its_claim(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(60))

    store.append_message("t1", "assistant", "A", at(1), reply_to=question)

    assert contents(store.messages("t1")) == ["Q", "A"]
    assert store.messages("t1")[0].claimed_until is None
    assert store.claim_turn("t1", question.turn, at(2), at(62)) is True  # answered: free again


def test_a_reply_to_a_question_no_longer_there_is_refused(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0))
    store.delete_thread("t1")
    # A new thread under the same id, whose first question may get the same number.
    store.create_thread_if_missing("t1", "Hello again", at(5))
    newer = store.append_message("t1", "user", "New Q", at(6))
    store.append_message("t1", "assistant", "New A", at(7), reply_to=newer)

    with pytest.raises(ThreadNotFound):
        store.append_message("t1", "assistant", "Stale A", at(8), reply_to=question)
    assert contents(store.messages("t1")) == ["New Q", "New A"]


def test_a_questions_claim_is_handed_back_with_it(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(60))
    assert question.claimed_until == at(60)

    def stored_claim():
        return store.messages("t1")[0].claimed_until

    assert stored_claim() == at(60) == store.last_turn("t1")[0].claimed_until
    store.claim_turn("t1", question.turn, at(61), at(121))
    assert stored_claim() == at(121)
    store.release_turn("t1", question.turn)
    assert stored_claim() is None


@pytest.fixture
def atomic_mongomock_updates(monkeypatch):
    """A MongoDB server applies each single-document update atomically; mongomock does not
    (threads racing on one document can all match its filter, or fail mid-copy). Give it that
    atomicity, so the test checks the store's filter, not mongomock's locking."""
    lock = threading.Lock()
    update_one = mongomock.collection.Collection.update_one

    def atomic_update_one(self, *args, **kwargs):
        with lock:
            return update_one(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "update_one", atomic_update_one)


def test_of_claims_made_at_once_exactly_one_wins(store, atomic_mongomock_updates):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0))
    workers, barrier, results, errors = 8, threading.Barrier(8), [], []

    def claim():
        barrier.wait()
        try:
            results.append(store.claim_turn("t1", question.turn, at(1), at(61)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=claim) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(results) == [False] * (workers - 1) + [True]


def test_of_claims_on_a_lapsed_claim_made_at_once_exactly_one_wins(store,
                                                                   atomic_mongomock_updates):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(0), claim_until=at(10))
    results, barrier = [], threading.Barrier(8)

    def claim(i):
        barrier.wait()
        results.append(store.claim_turn("t1", question.turn, at(20 + i), at(80 + i)))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results.count(True) == 1 and len(results) == 8


# --- delete_thread -----------------------------------------------------------------------------

def test_delete_thread_removes_the_thread_and_its_messages(store):
    thread_with(store, "gone", "one", "two")
    thread_with(store, "kept", "three", "four")

    assert store.delete_thread("gone") is True

    assert store.get_thread("gone") is None
    assert store.messages("gone") == []
    assert [t.thread_id for t in store.list_threads(10).threads] == ["kept"]
    assert contents(store.messages("kept")) == ["three", "four"]


def test_a_thread_recreated_after_delete_starts_empty(store):
    thread_with(store, "t1", "old message")
    store.delete_thread("t1")

    store.create_thread_if_missing("t1", "New", at(100))

    assert store.messages("t1") == []
    assert store.get_thread("t1").title == "New"


def test_delete_unknown_thread_returns_false_and_touches_nothing(store):
    thread_with(store, "kept", "hello")

    assert store.delete_thread("ghost") is False

    assert contents(store.messages("kept")) == ["hello"]


def test_append_after_delete_raises_thread_not_found(store):
    thread_with(store, "t1", "hello")
    store.delete_thread("t1")

    with pytest.raises(ThreadNotFound):
        store.append_message("t1", "assistant", "late reply", at(10))
    assert store.messages("t1") == []


# --- list_threads ------------------------------------------------------------------------------

def test_list_threads_newest_update_first(store):
    store.create_thread_if_missing("old", "Old", at(0))
    store.create_thread_if_missing("newest", "Newest", at(20))
    store.create_thread_if_missing("middle", "Middle", at(10))

    assert [t.thread_id for t in store.list_threads(10).threads] == ["newest", "middle", "old"]


def test_a_new_message_moves_its_thread_to_the_top(store):
    store.create_thread_if_missing("old", "Old", at(0))
    store.create_thread_if_missing("new", "New", at(10))

    store.append_message("old", "user", "bump", at(20))

    page = store.list_threads(10)
    assert [t.thread_id for t in page.threads] == ["old", "new"]
    assert page.threads[0].updated_at == at(20)


def test_list_threads_on_an_empty_store(store):
    page = store.list_threads(10)

    assert page.threads == [] and page.next_cursor is None


def test_last_page_has_no_cursor(store):
    for i in range(4):
        store.create_thread_if_missing(f"t{i}", "T", at(i))

    first = store.list_threads(2)
    second = store.list_threads(2, first.next_cursor)

    assert [t.thread_id for t in first.threads] == ["t3", "t2"] and first.next_cursor
    assert [t.thread_id for t in second.threads] == ["t1", "t0"]
    assert second.next_cursor is None


def test_paging_through_threads_with_equal_updated_at_never_skips_or_repeats(store):
    tied = [f"tie-{i:02d}" for i in range(23)] + ["A", "a", "Z_z", "z-Z", "0"]
    for thread_id in reversed(tied):  # insertion order is not the listing order
        store.create_thread_if_missing(thread_id, "Tied", T0)
    for i in range(3):
        store.create_thread_if_missing(f"newer-{i}", "Newer", at(60))
        store.create_thread_if_missing(f"older-{i}", "Older", at(-60))

    listed = all_pages(store, limit=4)

    ids = [t.thread_id for t in listed]
    assert len(ids) == len(set(ids)) == len(tied) + 6
    expected = sorted(store.list_threads(100).threads,
                      key=lambda t: (t.updated_at, t.thread_id), reverse=True)
    assert listed == expected


@pytest.mark.parametrize("cursor", [
    "not a cursor!",
    "%%%",
    base64.urlsafe_b64encode(b"no separator here").decode(),
    base64.urlsafe_b64encode(b"yesterday|t1").decode(),
    base64.urlsafe_b64encode(b"\xff\xfe|t1").decode(),
])
def test_a_bad_cursor_raises_invalid_input(store, cursor):
    store.create_thread_if_missing("t1", "Hello", T0)

    with pytest.raises(InvalidInput):
        store.list_threads(10, cursor)


# --- MongoDB only ------------------------------------------------------------------------------

def index_keys(collection):
    """{(field, direction), ...: unique?} for each index of the collection (a text index's
    direction is "text", or on a server its keys are "_fts": "text", "_ftsx": 1)."""
    return {tuple((field, direction if isinstance(direction, str) else int(direction))
                  for field, direction in info["key"]): bool(info.get("unique"))
            for info in collection.index_information().values()}


def test_mongo_indexes_exist_after_first_use(mongo_db):
    MongoThreadStore(mongo_db).get_thread("anything")

    threads, messages = index_keys(mongo_db["threads"]), index_keys(mongo_db["messages"])
    assert threads[(("threadId", 1),)] is True
    assert (("owner", 1), ("updatedAt", -1), ("threadId", -1)) in threads
    assert (("updatedAt", -1), ("threadId", -1)) not in threads  # the sidebar's before owners
    assert messages[(("threadId", 1), ("seq", 1))] is True


def test_mongo_keeps_messages_in_their_own_collection(mongo_db):
    store = MongoThreadStore(mongo_db)
    thread_with(store, "t1", "one", "two")

    thread_doc = mongo_db["threads"].find_one({"threadId": "t1"})
    assert "messages" not in thread_doc
    docs = list(mongo_db["messages"].find({"threadId": "t1"}).sort("seq", 1))
    assert [(d["role"], d["content"]) for d in docs] == [("user", "one"), ("assistant", "two")]


def test_mongo_stores_times_as_dates_and_gives_them_back_as_text(mongo_db):
    store = MongoThreadStore(mongo_db)
    thread_with(store, "t1", "one")  # created at(0), message at(1)

    thread_doc = mongo_db["threads"].find_one({"threadId": "t1"})
    message_doc = mongo_db["messages"].find_one({"threadId": "t1"})
    # BSON dates, so MongoDB can sort, compare and expire on them ($lt, TTL indexes).
    assert [to_iso(d.replace(tzinfo=timezone.utc)) for d in (
        thread_doc["createdAt"], thread_doc["updatedAt"], message_doc["timestamp"])] == [at(0), at(1), at(1)]
    assert store.messages("t1")[0].timestamp == at(1)


def test_mongo_append_racing_a_delete_leaves_no_message_behind(mongo_db):
    store = MongoThreadStore(mongo_db)
    thread_with(store, "t", "hello")
    insert_one = store.messages_.insert_one

    def delete_then_insert(document):
        # The delete runs after this append took its sequence number, before the insert lands.
        store.delete_thread("t")
        return insert_one(document)

    store.messages_.insert_one = delete_then_insert
    with pytest.raises(ThreadNotFound):
        store.append_message("t", "assistant", "late reply", at(5))
    store.messages_.insert_one = insert_one

    assert mongo_db["messages"].count_documents({"threadId": "t"}) == 0
    store.create_thread_if_missing("t", "Again", at(6))  # the id can be used again, cleanly
    store.append_message("t", "user", "fresh", at(7))
    assert contents(store.messages("t")) == ["fresh"]


@pytest.fixture
def old_mongo_db(mongo_db, monkeypatch):
    """mongo_db, with mongomock able to run the bulk_write that gives old messages turns:
    pymongo >= 4.11 passes UpdateOne's `sort` on, which mongomock 4.3 does not take."""
    add_update = mongomock.collection.BulkOperationBuilder.add_update

    def without_sort(self, *args, sort=None, **kwargs):
        assert sort is None  # the store never sorts an update
        return add_update(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.BulkOperationBuilder, "add_update", without_sort)
    return mongo_db


def old_mongo_thread(db, thread_id, *roles_and_contents, start=0):
    """A thread as the store wrote it before replies streamed: messages without `turn`."""
    db["threads"].insert_one({"threadId": thread_id, "title": f"Title of {thread_id}",
                              "createdAt": START, "updatedAt": START + timedelta(seconds=start),
                              "messageCount": len(roles_and_contents)})
    db["messages"].insert_many([
        {"threadId": thread_id, "seq": seq, "role": role, "content": content,
         "timestamp": START + timedelta(seconds=start + seq)}
        for seq, (role, content) in enumerate(roles_and_contents, start=1)])


OLD_RACE = [("user", "Q1"), ("user", "Q2"), ("assistant", "A to Q1"), ("assistant", "A to Q2")]
OLD_PLAIN = [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2")]
OLD_ASKED = [("user", "Q1"), ("assistant", "A1"), ("user", "Unanswered")]


@pytest.mark.parametrize("first_use", ["prepare", "messages"])
def test_mongo_gives_turns_to_messages_stored_before_turns(old_mongo_db, first_use):
    old_mongo_thread(old_mongo_db, "plain", *OLD_PLAIN)
    old_mongo_thread(old_mongo_db, "race", *OLD_RACE)
    old_mongo_thread(old_mongo_db, "asked", *OLD_ASKED)
    store = MongoThreadStore(old_mongo_db)
    if first_use == "prepare":
        store.prepare()

    assert roles_and_contents(store.messages("plain")) == OLD_PLAIN
    assert roles_and_contents(store.messages("race")) == OLD_RACE
    assert old_mongo_db["messages"].count_documents({"turn": {"$exists": False}}) == 0
    plain = store.messages("plain")
    assert plain[0].turn == plain[1].turn != plain[2].turn == plain[3].turn
    assert [m.finish_reason for m in plain] == [None, "stop", None, "stop"]
    assert [m.to_json().get("finishReason") for m in store.messages("race")] == [
        None, None, "stop", "stop"]
    question, reply = store.last_turn("plain")
    assert (question.content, reply.content) == ("Q2", "A2")
    question, reply = store.last_turn("asked")
    assert (question.content, reply) == ("Unanswered", None)


def test_mongo_threads_from_before_turns_take_new_turns(old_mongo_db):
    old_mongo_thread(old_mongo_db, "race", *OLD_RACE)
    old_mongo_thread(old_mongo_db, "asked", *OLD_ASKED)
    store = MongoThreadStore(old_mongo_db)

    asked, _ = store.last_turn("asked")
    store.append_message("asked", "assistant", "Late answer", at(10), reply_to=asked)
    assert_old_threads_take_new_turns(store, at(11))


def assert_old_threads_take_new_turns(store, start, claim_until=None):
    """After "asked" got its late answer: "race" (old messages) takes new questions in order."""
    question = store.append_message("race", "user", "Q3", start, claim_until=claim_until)
    store.append_message("race", "user", "Q4", start)
    store.append_message("race", "assistant", "A to Q3", start, reply_to=question)

    assert contents(store.messages("asked")) == ["Q1", "A1", "Unanswered", "Late answer"]
    assert contents(store.messages("race")) == [
        "Q1", "Q2", "A to Q1", "A to Q2", "Q3", "A to Q3", "Q4"]
    assert contents(store.recent_messages("race", 1000, through_turn=question.turn)) == [
        "Q1", "Q2", "A to Q1", "A to Q2", "Q3"]
    return question


def test_mongo_giving_turns_twice_changes_nothing(old_mongo_db):
    old_mongo_thread(old_mongo_db, "race", *OLD_RACE)
    MongoThreadStore(old_mongo_db).prepare()
    before = list(old_mongo_db["messages"].find({}, {"_id": 0}).sort("seq", 1))

    MongoThreadStore(old_mongo_db).prepare()
    store = MongoThreadStore(old_mongo_db)
    store.messages("race")

    assert list(old_mongo_db["messages"].find({}, {"_id": 0}).sort("seq", 1)) == before


def test_mongo_two_replies_to_one_turn_racing_leave_exactly_one(mongo_db):
    store = MongoThreadStore(mongo_db)
    store.create_thread_if_missing("t", "Race", T0)
    question = store.append_message("t", "user", "Q", at(1))
    insert_one = store.messages_.insert_one
    racing = []

    def insert_then_let_the_other_reply_in(document):
        result = insert_one(document)
        if not racing:  # the first reply is in; the second is stored whole before it goes on
            racing.append(document)
            store.append_message("t", "assistant", "Second", at(3), reply_to=question)
        return result

    store.messages_.insert_one = insert_then_let_the_other_reply_in
    store.append_message("t", "assistant", "First", at(2), reply_to=question)
    store.messages_.insert_one = insert_one

    # Either may win (the one that took the later sequence number, here "Second"); never none.
    assert contents(store.messages("t")) == ["Q", "Second"]


def test_mongo_unreachable_server_raises_store_unavailable():
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{closed_port()}", serverSelectionTimeoutMS=200,
                                 connectTimeoutMS=200)
    store = MongoThreadStore(client.chatapp)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.get_thread("t1")
    finally:
        client.close()
    assert caught.value.message.startswith("The database is not reachable")


# --- SQLite only -------------------------------------------------------------------------------

@contextmanager
def raw_connection(path):
    """A connection of our own to the store's file, as another tool would open it."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    try:
        yield db
    finally:
        db.close()


def test_sqlite_uses_wal_journal_mode(sqlite_path):
    SQLiteThreadStore(sqlite_path).prepare()

    with raw_connection(sqlite_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_messages_reference_threads_with_cascade(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    thread_with(store, "t1", "one", "two")
    thread_with(store, "t2", "three")

    with raw_connection(sqlite_path) as db:
        keys = db.execute("PRAGMA foreign_key_list(messages)").fetchall()
        assert [(k[2], k[3], k[4], k[6]) for k in keys] == [
            ("threads", "thread_id", "thread_id", "CASCADE")]
        db.execute("DELETE FROM threads WHERE thread_id = 't1'")
        db.commit()
        left = db.execute("SELECT thread_id, COUNT(*) FROM messages GROUP BY thread_id").fetchall()

    assert left == [("t2", 1)]
    assert store.messages("t1") == [] and contents(store.messages("t2")) == ["three"]


def test_sqlite_delete_thread_leaves_no_orphan_message_rows(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    thread_with(store, "t1", "one", "two")

    store.delete_thread("t1")

    with raw_connection(sqlite_path) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_sqlite_sidebar_query_walks_the_index_without_sorting(sqlite_path, monkeypatch):
    statements = []
    real_connect = sqlite3.connect

    def traced_connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(statements.append)  # gets the SQL with its parameters filled in
        return db

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    store = SQLiteThreadStore(sqlite_path)
    for i in range(5):
        store.create_thread_if_missing(f"t{i}", "T", T0)
    statements.clear()

    store.list_threads(2, store.list_threads(2).next_cursor)

    list_queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(list_queries) == 2  # the first page and the page after the cursor
    monkeypatch.undo()
    with raw_connection(sqlite_path) as db:
        for query in list_queries:
            plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "threads_by_owner" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize("make_path", [
    lambda tmp_path: tmp_path,  # a directory
    lambda tmp_path: tmp_path / "a-file.txt" / "chat.sqlite3",  # a path under a file
    lambda tmp_path: tmp_path / "missing-dir" / "chat.sqlite3",
], ids=["directory", "under-a-file", "missing-directory"])
def test_sqlite_at_an_unusable_path_raises_store_unavailable(tmp_path, make_path):
    (tmp_path / "a-file.txt").write_text("not a directory")
    store = SQLiteThreadStore(str(make_path(tmp_path)))

    with pytest.raises(StoreUnavailable) as caught:
        store.list_threads(10)

    # A sentence a person can act on, without the server's file layout in it.
    assert "database" in caught.value.message
    assert str(tmp_path) not in caught.value.message


# --- SQLite: databases made before turns ---------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE threads (
    thread_id  TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX threads_by_update ON threads (updated_at DESC, thread_id DESC);
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_by_thread ON messages (thread_id, id);
"""
OLD_THREADS = {
    "plain": OLD_PLAIN,
    "race": OLD_RACE,  # two questions sent before either was answered
    "asked": OLD_ASKED,
}


def without_owners(db):
    """Take out of a database what migration 5 adds, so it is as a version before it made it."""
    db.execute("DROP INDEX threads_by_owner")
    db.execute("ALTER TABLE threads DROP COLUMN owner")
    db.execute("CREATE INDEX threads_by_update ON threads (updated_at DESC, thread_id DESC)")


def old_sqlite_database(path):
    """A database file exactly as the store made it before replies streamed."""
    with raw_connection(path) as db:
        db.execute("PRAGMA journal_mode = WAL")  # as the old store set it
        db.executescript(OLD_SCHEMA)
        for n, (thread_id, messages) in enumerate(OLD_THREADS.items()):
            db.execute("INSERT INTO threads VALUES (?, ?, ?, ?)",
                       (thread_id, f"Title of {thread_id}", at(n), at(n + 10)))
        # Interleaved across threads, as rows of a real database are.
        for i in range(max(len(messages) for messages in OLD_THREADS.values())):
            for thread_id, messages in OLD_THREADS.items():
                if i < len(messages):
                    db.execute("INSERT INTO messages (thread_id, role, content, created_at)"
                               " VALUES (?, ?, ?, ?)", (thread_id, *messages[i], at(i)))
        db.commit()


def test_sqlite_database_from_before_turns_keeps_every_message_in_order(sqlite_path):
    old_sqlite_database(sqlite_path)

    store = SQLiteThreadStore(sqlite_path)

    for thread_id, messages in OLD_THREADS.items():
        stored = store.messages(thread_id)
        assert roles_and_contents(stored) == messages, thread_id
        assert all(m.turn is not None for m in stored)
        assert [m.finish_reason for m in stored] == [
            "stop" if role == "assistant" else None for role, _ in messages]
        assert [m.timestamp for m in stored] == [at(i) for i in range(len(messages))]
    plain = store.messages("plain")
    assert plain[0].turn == plain[1].turn != plain[2].turn == plain[3].turn
    assert [t.thread_id for t in store.list_threads(10).threads] == ["asked", "race", "plain"]


def test_sqlite_database_from_before_turns_answers_last_turn(sqlite_path):
    old_sqlite_database(sqlite_path)
    store = SQLiteThreadStore(sqlite_path)

    question, reply = store.last_turn("plain")
    assert (question.content, reply.content, reply.finish_reason) == ("Q2", "A2", "stop")
    question, reply = store.last_turn("asked")
    assert (question.content, reply) == ("Unanswered", None)


def test_sqlite_database_from_before_turns_takes_new_turns(sqlite_path):
    old_sqlite_database(sqlite_path)
    store = SQLiteThreadStore(sqlite_path)

    asked, _ = store.last_turn("asked")
    assert store.claim_turn("asked", asked.turn, at(20), at(80)) is True
    store.append_message("asked", "assistant", "Late answer", at(21), reply_to=asked,
                         finish_reason="stop", usage={"prompt_tokens": 1, "completion_tokens": 2})
    question = assert_old_threads_take_new_turns(store, at(22), claim_until=at(82))
    assert store.claim_turn("race", question.turn, at(25), at(85)) is True  # answered: freed
    store.delete_thread("plain")
    assert store.messages("plain") == []


def test_sqlite_opening_a_migrated_database_again_changes_nothing(sqlite_path):
    old_sqlite_database(sqlite_path)
    SQLiteThreadStore(sqlite_path).prepare()
    with raw_connection(sqlite_path) as db:
        before = db.execute("SELECT * FROM messages ORDER BY id").fetchall()
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)

    store = SQLiteThreadStore(sqlite_path)
    store.prepare()

    with raw_connection(sqlite_path) as db:
        assert db.execute("SELECT * FROM messages ORDER BY id").fetchall() == before
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        indexes = {row[1] for row in db.execute("PRAGMA index_list(messages)")}
    assert "messages_by_thread" not in indexes and "messages_in_order" in indexes
    assert roles_and_contents(store.messages("race")) == OLD_RACE


def test_sqlite_a_new_database_starts_at_the_current_version(sqlite_path):
    SQLiteThreadStore(sqlite_path).prepare()

    with raw_connection(sqlite_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = [row[1] for row in db.execute("PRAGMA table_info(messages)")]
    assert columns == ["id", "thread_id", "role", "content", "created_at", "turn",
                       "finish_reason", "prompt_tokens", "completion_tokens", "claimed_until"]


def test_sqlite_migrated_database_has_the_same_columns_as_a_new_one(sqlite_path, tmp_path):
    old_sqlite_database(sqlite_path)
    SQLiteThreadStore(sqlite_path).prepare()
    fresh = str(tmp_path / "fresh.sqlite3")
    SQLiteThreadStore(fresh).prepare()

    def columns(path, table):
        with raw_connection(path) as db:
            return [row[1:3] for row in db.execute(f"PRAGMA table_info({table})")]

    for table in ("threads", "messages"):
        assert columns(sqlite_path, table) == columns(fresh, table)


def test_sqlite_two_processes_opening_an_old_database_at_once_both_work(sqlite_path):
    # Two stores stand for two processes (gunicorn workers): each has its own schema lock.
    # Another connection holds the write lock until both have looked at the schema and found
    # it old, so both try to migrate it.
    old_sqlite_database(sqlite_path)
    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    results = []

    def open_store():
        store = SQLiteThreadStore(sqlite_path)
        try:
            results.append(roles_and_contents(store.messages("race")))
        except StoreUnavailable as error:
            results.append(repr(error.__cause__))

    threads = [threading.Thread(target=open_store) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    blocker.execute("COMMIT")
    blocker.close()
    for t in threads:
        t.join()

    assert results == [OLD_RACE, OLD_RACE]
    with raw_connection(sqlite_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


# --- titles and models ----------------------------------------------------------------------------

def test_renaming_sets_the_title_marks_it_the_persons_and_keeps_the_thread_in_place(store):
    thread_with(store, "older", "q", start=0)
    thread_with(store, "newer", "q", start=10)

    renamed = store.rename_thread("older", "My own title")

    assert (renamed.title, renamed.title_set) == ("My own title", True)
    assert renamed.updated_at == store.get_thread("older").updated_at == at(1)
    assert [t.thread_id for t in store.list_threads(10).threads] == ["newer", "older"]
    assert store.rename_thread("missing", "x") is None


def test_a_generated_title_never_replaces_the_persons(store):
    thread_with(store, "t1", "q")
    assert store.set_generated_title("t1", "Made by the model") is True
    assert (store.get_thread("t1").title, store.get_thread("t1").title_set) == (
        "Made by the model", False)

    store.rename_thread("t1", "Mine")
    assert store.set_generated_title("t1", "Made again") is False
    assert store.get_thread("t1").title == "Mine"
    assert store.set_generated_title("missing", "x") is False


def test_a_thread_keeps_its_model(store):
    store.create_thread_if_missing("t1", "Title", T0, model="model-a")
    store.create_thread_if_missing("t2", "Title", T0)
    assert store.get_thread("t1").model == "model-a"
    assert store.get_thread("t2").model is None

    store.set_thread_model("t2", "model-b")
    assert store.get_thread("t2").model == "model-b"
    # Creating again changes nothing, the model included.
    assert store.create_thread_if_missing("t1", "Other", at(5), model="model-c").model == "model-a"
