"""The store contract for export and import (import_thread, threads_after, count_threads), run on
every store through the contract suite's `store` fixture, plus what only one store can show."""
import sqlite3

import pytest

from chatapp.errors import StoreUnavailable, ThreadExists
from chatapp.models import Message, Thread
from chatapp.store import MongoThreadStore, SQLiteThreadStore
from tests.test_search_store import store as searchable_store  # noqa: F401  (a fixture)
from tests.test_store_contract import (at, mongo_database, mongo_db,  # noqa: F401
                                       sqlite_path,
                                       store, thread_with)

USAGE = {"prompt_tokens": 31, "completion_tokens": 12}


def conversation(thread_id="imported", *, model="gpt-4o", title_set=True):
    """A conversation as an export holds it: a cut-short reply, usage, a model, a named title."""
    thread = Thread(thread_id, "Named by me", at(0), at(50), model, title_set)
    messages = [
        Message("user", "First question", at(10)),
        Message("assistant", "First answer", at(11), "stop", USAGE),
        Message("user", "Second question", at(20)),
        Message("assistant", "Half an ans", at(21), "interrupted"),
        Message("user", "Third, unanswered", at(30)),
    ]
    return thread, messages


def test_an_imported_thread_comes_back_exactly_as_it_was_exported(store):
    thread, messages = conversation()

    assert store.import_thread(thread, messages) == thread

    assert store.get_thread("imported") == thread  # times, model and titleSet as given
    assert store.messages("imported") == messages  # order, times, finish reasons, usage
    assert [m.claimed_until for m in store.messages("imported")] == [None] * 5


def test_an_imported_thread_takes_its_place_in_the_list_by_its_own_update_time(store):
    thread_with(store, "older", "q", start=0)     # updatedAt at(1)
    thread_with(store, "newer", "q", start=100)   # updatedAt at(101)

    store.import_thread(*conversation())          # updatedAt at(50), not now

    assert [t.thread_id for t in store.list_threads(10).threads] == ["newer", "imported", "older"]


def test_imported_replies_answer_the_question_before_them(store):
    thread, messages = conversation()
    store.import_thread(thread, messages[:4])  # ends with a reply cut short

    question, reply = store.last_turn("imported")

    assert (question.content, reply.content, reply.cut_short) == (
        "Second question", "Half an ans", True)
    prompt = store.recent_messages("imported", 10_000, through_turn=question.turn)
    assert [m.content for m in prompt] == ["First question", "First answer", "Second question"]


def test_a_conversation_goes_on_after_import_as_if_it_had_been_written_here(store):
    thread, messages = conversation()
    store.import_thread(thread, messages[:4])
    question, _ = store.last_turn("imported")

    store.append_message("imported", "assistant", "A whole answer", at(60), reply_to=question,
                         finish_reason="stop")
    new_question = store.append_message("imported", "user", "Fourth", at(70))
    store.append_message("imported", "assistant", "Fourth answer", at(71), reply_to=new_question,
                         finish_reason="stop")

    assert [m.content for m in store.messages("imported")] == [
        "First question", "First answer", "Second question", "A whole answer", "Fourth",
        "Fourth answer"]
    assert store.get_thread("imported").updated_at == at(71)


def test_a_reply_after_a_reply_is_a_turn_of_its_own_and_keeps_its_place(store):
    # Databases older than turns can hold a reply with no question; an export keeps it.
    thread = Thread("lone", "Old", at(0), at(3))
    messages = [Message("user", "q", at(1)), Message("assistant", "a", at(2), "stop"),
                Message("assistant", "a reply on its own", at(3), "stop")]
    store.import_thread(thread, messages)

    assert store.messages("lone") == messages
    new_question = store.append_message("lone", "user", "next", at(4))
    store.append_message("lone", "assistant", "next answer", at(5), reply_to=new_question,
                         finish_reason="stop")
    assert [m.content for m in store.messages("lone")] == [
        "q", "a", "a reply on its own", "next", "next answer"]


def test_an_empty_conversation_can_be_imported(store):
    thread = Thread("empty", "Nothing said", at(0), at(0))

    store.import_thread(thread, [])

    assert store.get_thread("empty") == thread and store.messages("empty") == []
    store.append_message("empty", "user", "first", at(1))
    assert [m.content for m in store.messages("empty")] == ["first"]


def test_importing_a_taken_id_raises_thread_exists_and_changes_nothing(store):
    thread_with(store, "imported", "mine", "my answer")
    before = (store.get_thread("imported"), store.messages("imported"))

    with pytest.raises(ThreadExists) as raised:
        store.import_thread(*conversation())

    assert raised.value.status == 409
    assert (store.get_thread("imported"), store.messages("imported")) == before


def test_imported_messages_stay_in_their_own_thread(store):
    thread_with(store, "other", "q1", "a1", "q2")
    store.import_thread(*conversation())

    assert [m.content for m in store.messages("other")] == ["q1", "a1", "q2"]
    assert len(store.messages("imported")) == 5


def test_an_imported_title_the_person_set_is_never_replaced_by_a_generated_one(store):
    store.import_thread(*conversation(title_set=True))
    store.import_thread(*conversation("unnamed", title_set=False))

    assert store.set_generated_title("imported", "Generated") is False
    assert store.set_generated_title("unnamed", "Generated") is True
    assert store.get_thread("imported").title == "Named by me"


def test_deleting_an_imported_thread_removes_its_messages(store):
    store.import_thread(*conversation())

    assert store.delete_thread("imported") is True

    assert store.get_thread("imported") is None and store.messages("imported") == []
    store.import_thread(*conversation())  # and the id is free again
    assert len(store.messages("imported")) == 5


# --- threads_after / count_threads -------------------------------------------------------------

def test_threads_after_walks_every_thread_whole_in_id_order(store):
    for thread_id in ("c", "a", "d", "b", "e"):
        store.import_thread(*conversation(thread_id, model=f"model-{thread_id}"))

    first = store.threads_after(None, 2)
    rest = store.threads_after(first[-1].thread_id, 10)

    assert [t.thread_id for t in first + rest] == ["a", "b", "c", "d", "e"]
    assert rest[0] == store.get_thread("c")  # whole: model and titleSet too
    assert rest[0].model == "model-c" and rest[0].title_set is True
    assert store.threads_after("e", 10) == []


def test_a_thread_updated_during_the_walk_is_not_skipped(store):
    for i in range(6):
        thread_with(store, f"t{i}", "q", start=i)
    seen = [t.thread_id for t in store.threads_after(None, 3)]

    store.append_message("t5", "user", "moves it to the top of the sidebar", at(100))
    seen += [t.thread_id for t in store.threads_after(seen[-1], 3)]

    assert seen == [f"t{i}" for i in range(6)]


def test_count_threads(store):
    assert store.count_threads() == 0
    for i in range(3):
        thread_with(store, f"t{i}", "q", start=i)
    store.import_thread(*conversation())

    assert store.count_threads() == 4


# --- one store only ------------------------------------------------------------------------------

def test_sqlite_a_failed_import_leaves_nothing(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    thread, messages = conversation()
    broken = messages + [Message("system", "refused by the schema's CHECK", at(40))]

    with pytest.raises(StoreUnavailable):
        store.import_thread(thread, broken)

    assert store.get_thread("imported") is None
    assert sqlite3.connect(sqlite_path).execute("SELECT count(*) FROM messages").fetchone() == (0,)
    store.import_thread(thread, messages)  # nothing half-done stands in the way
    assert store.messages("imported") == messages


def test_sqlite_imported_messages_take_ids_after_every_other(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    thread_with(store, "before", "q", "a")
    store.import_thread(*conversation())
    thread_with(store, "after", "q", "a", start=100)

    rows = sqlite3.connect(sqlite_path).execute(
        "SELECT thread_id, id, turn, role FROM messages ORDER BY id").fetchall()
    assert [row[0] for row in rows] == ["before"] * 2 + ["imported"] * 5 + ["after"] * 2
    imported = [row for row in rows if row[0] == "imported"]
    first = imported[0][1]
    assert [(row[2] - first, row[3]) for row in imported] == [
        (0, "user"), (0, "assistant"), (2, "user"), (2, "assistant"), (4, "user")]


def test_mongo_an_import_that_fails_half_way_takes_its_messages_out_again(mongo_db):
    store = MongoThreadStore(mongo_db)
    store.prepare()
    # A stray message under the id (as a thread being created right now would have) makes the
    # second of the imported messages collide with it.
    mongo_db.messages.insert_one({"threadId": "imported", "seq": 2, "turn": 2, "role": "user",
                                  "content": "stray", "timestamp": None})

    with pytest.raises(ThreadExists):
        store.import_thread(*conversation())

    assert store.get_thread("imported") is None
    assert [d["content"] for d in mongo_db.messages.find({"threadId": "imported"})] == ["stray"]


def test_mongo_appends_after_an_import_take_the_next_sequence_numbers(mongo_db):
    store = MongoThreadStore(mongo_db)
    store.import_thread(*conversation())

    store.append_message("imported", "user", "next", at(60))

    seqs = [d["seq"] for d in mongo_db.messages.find({"threadId": "imported"}).sort("seq")]
    assert seqs == [1, 2, 3, 4, 5, 6]


# --- search: on the stores that can run it (mongomock cannot run $text: see test_search_store) ----

def test_an_imported_conversation_is_found_by_search(searchable_store):
    store = searchable_store
    thread_with(store, "other", "nothing to see")
    store.import_thread(*conversation())

    assert [t.thread_id for t in store.search_threads("half ans", 10).threads] == ["imported"]
    assert [t.thread_id for t in store.search_threads("named", 10).threads] == ["imported"]
