"""The ThreadStore contract, run against every store, plus checks only one store can have.

Stores: SQLite on a real file, MongoDB on mongomock, and MongoDB on a real server when
TEST_MONGO_URI is set (a fresh database per test, dropped afterwards)."""
import base64
import os
import socket
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import mongomock
import pymongo
import pytest

from chatapp.errors import InvalidInput, StoreUnavailable, ThreadNotFound
from chatapp.models import to_iso, utc_now
from chatapp.store import MongoThreadStore, SQLiteThreadStore

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


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        yield SQLiteThreadStore(str(tmp_path / "chat.sqlite3"))
    else:
        with mongo_database(request.param) as db:
            yield MongoThreadStore(db)


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

def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def index_keys(collection):
    """{(field, direction), ...: unique?} for each index of the collection."""
    return {tuple((field, int(direction)) for field, direction in info["key"]): bool(info.get("unique"))
            for info in collection.index_information().values()}


def test_mongo_indexes_exist_after_first_use(mongo_db):
    MongoThreadStore(mongo_db).get_thread("anything")

    threads, messages = index_keys(mongo_db["threads"]), index_keys(mongo_db["messages"])
    assert threads[(("threadId", 1),)] is True
    assert (("updatedAt", -1), ("threadId", -1)) in threads
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
            assert "threads_by_update" in plan, plan
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
