"""ThreadStore.search_threads on every store that can run it, and how the SQLite store keeps its
index in step with every write.

Stores: SQLite on a real file, and MongoDB on a real server when TEST_MONGO_URI is set (a fresh
database per test). mongomock cannot run MongoDB's `$text`, so it has no part here; the contract
suite (tests/test_store_contract.py) checks that the text indexes leave it working otherwise."""
import os
import random
import re
import sqlite3

import pytest

from chatapp.errors import InvalidInput
from chatapp.store import MongoThreadStore, SQLiteThreadStore
from chatapp.store.sqlite_schema import MIGRATIONS
from chatapp.store.sqlite_search import RARE_ROWS
from tests.test_store_contract import (at, mongo_database, mongo_db, open_store,  # noqa: F401
                                       old_sqlite_database, raw_connection, sqlite_path,
                                       without_owners)

SEARCH_KINDS = ["sqlite"] + (["mongodb"] if os.environ.get("TEST_MONGO_URI") else [])


@pytest.fixture(params=SEARCH_KINDS)
def store(request, tmp_path):
    """Each store that can run a search (other modules import it under a name of their own)."""
    with open_store(request.param, tmp_path) as store:
        yield store


def found(store, query, limit=50, cursor=None):
    return [t.thread_id for t in store.search_threads(query, limit, cursor).threads]


def all_found(store, query, limit):
    """Every thread found, following next_cursor to the last page."""
    ids, cursor = [], None
    while True:
        page = store.search_threads(query, limit, cursor)
        ids += [t.thread_id for t in page.threads]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def titled(store, thread_id, title, *contents, start=0):
    store.create_thread_if_missing(thread_id, title, at(start))
    for i, content in enumerate(contents):
        store.append_message(thread_id, "user" if i % 2 == 0 else "assistant", content,
                             at(start + i + 1))


# --- what matches --------------------------------------------------------------------------------

def test_a_word_finds_threads_by_title_or_by_any_message_newest_first(store):
    titled(store, "by-title", "Trip to Rome", "Where should we stay?", start=0)
    titled(store, "by-question", "Dinner", "Best pasta in Rome?", start=10)
    titled(store, "by-reply", "Travel", "Which city?", "Rome, in spring.", start=20)
    titled(store, "other", "Paris", "Best croissant?", "Try the bakery.", start=30)

    assert found(store, "rome") == ["by-reply", "by-question", "by-title"]


def test_every_word_must_be_in_the_thread_each_anywhere_in_it(store):
    titled(store, "spread", "Deploy notes", "Which server?", "Use gunicorn behind nginx.")
    titled(store, "half", "Deploy plans", "Which server?", "Use a VPS.", start=10)

    assert found(store, "deploy gunicorn nginx") == ["spread"]  # title, then one reply
    assert found(store, "deploy server") == ["half", "spread"]
    assert found(store, "deploy kubernetes") == []


def test_words_match_whole_in_any_case_and_with_or_without_accents(store):
    titled(store, "cafe", "Notes", "A CAFÉ near the Station")
    titled(store, "parts", "Other", "concatenate the stations", start=10)

    assert found(store, "café") == found(store, "cafe") == found(store, "Cafe") == ["cafe"]
    assert found(store, "station") == ["cafe"]  # not "stations"
    assert found(store, "cat") == []  # not inside "concatenate"


def test_code_names_with_underscores_are_one_word(store):
    titled(store, "code", "Code", "Call append_message(thread_id) here")

    assert found(store, "append_message") == ["code"]
    assert found(store, "append") == []


def test_a_word_repeated_or_in_other_case_counts_once(store):
    titled(store, "t1", "Apples", "apples and pears")

    assert found(store, "apples APPLES Apples") == ["t1"]


@pytest.mark.parametrize("query, finds", [
    ('"', False), ('""', False), ("'", False), ("*", False), (":", False), ("\\", False),
    ("%", False), ("\x00", False), ("😀", False), ("a" * 200, False),
    ("apples*", True), ("-apples", True), ("^apples", True), ("(apples", True),
    ("apples)", True), ("apples + pears", True), ('"apples" pears', True),
    ("NOT apples", True),  # "not" is a word of the text, not an operator
    ("apples AND", True),
    ("apples OR pears", False),  # "or" is a word the text lacks
    ("NEAR(apples pears)", False), ("title:apples", False), ("{title}: apples", False),
    ("_", False),  # a word of its own, which no text here holds
])
def test_a_query_is_only_ever_words_never_search_syntax(store, query, finds):
    titled(store, "t1", "Apples", "apples and pears, NOT plums")

    assert found(store, query) == (["t1"] if finds else [])


def test_a_query_without_words_finds_nothing(store):
    titled(store, "t1", "Apples", "apples")

    assert store.search_threads("  ?! -- ", 10) == store.search_threads("", 10)
    assert found(store, " ?! -- ") == []


# --- order and paging ----------------------------------------------------------------------------

def test_a_new_message_moves_a_found_thread_to_the_top(store):
    titled(store, "older", "Garden", "tomatoes", start=0)
    titled(store, "newer", "Garden too", "tomatoes", start=10)
    assert found(store, "tomatoes") == ["newer", "older"]

    store.append_message("older", "user", "more about soil", at(50))

    assert found(store, "tomatoes") == ["older", "newer"]


def test_paging_through_results_with_equal_times_never_skips_or_repeats(store):
    for i in range(7):
        store.create_thread_if_missing(f"t{i}", f"match number {i}", at(0))  # all one time
    store.create_thread_if_missing("miss", "something else", at(0))

    for limit in (1, 2, 3, 7, 50):
        assert all_found(store, "match", limit) == [f"t{i}" for i in range(6, -1, -1)]


def test_the_last_page_of_results_has_no_cursor(store):
    for i in range(3):
        titled(store, f"t{i}", "Match", start=i)

    first = store.search_threads("match", 2)
    last = store.search_threads("match", 2, first.next_cursor)

    assert first.next_cursor and [t.thread_id for t in last.threads] == ["t0"]
    assert last.next_cursor is None


def test_results_are_threads_as_the_list_shows_them(store):
    titled(store, "t1", "Match", "text", start=0)

    assert store.search_threads("match", 5).threads == store.list_threads(5).threads


@pytest.mark.parametrize("cursor", ["not-base64!", "bm90IGEgY3Vyc29y", "MjAyNHx4"])
def test_a_bad_cursor_raises_invalid_input(store, cursor):
    with pytest.raises(InvalidInput):
        store.search_threads("anything", 10, cursor)


# --- every write is searchable at once ------------------------------------------------------------

def test_a_deleted_thread_is_not_found(store):
    titled(store, "gone", "Lemons", "lemon tart")
    titled(store, "kept", "Limes", "lemon curd", start=10)

    store.delete_thread("gone")

    assert found(store, "lemon") == ["kept"] and found(store, "tart") == []


def test_a_renamed_thread_is_found_by_its_new_title_only(store):
    titled(store, "t1", "Old name", "body text")

    store.rename_thread("t1", "Brand new")

    assert found(store, "brand") == ["t1"] and found(store, "old") == []
    assert store.set_generated_title("t1", "Generated") is False  # the person's title stays
    assert found(store, "generated") == []


def test_a_generated_title_is_found(store):
    titled(store, "t1", "first words of the question", "first words of the question")

    store.set_generated_title("t1", "Sourdough starter")

    assert found(store, "sourdough") == ["t1"]


def test_a_replaced_reply_is_no_longer_found(store):
    titled(store, "t1", "Bread", "How long to knead?")
    question, _ = store.last_turn("t1")
    store.append_message("t1", "assistant", "Ten minutes", at(5), reply_to=question)

    store.append_message("t1", "assistant", "Eight minutes", at(6), reply_to=question)

    assert found(store, "eight") == ["t1"] and found(store, "ten") == []


# --- MongoDB: the text indexes --------------------------------------------------------------------

def text_fields(collection):
    """The fields of the collection's text index (a server names them in `weights`)."""
    info = collection.index_information()["search"]
    return sorted(info["weights"]) if "weights" in info else [
        field for field, kind in info["key"] if kind == "text"]


def test_mongo_makes_its_text_indexes_on_first_use_and_still_works_on_mongomock(mongo_db):
    store = MongoThreadStore(mongo_db)
    titled(store, "t1", "Title", "question", "reply")  # every other call works (mongomock too)

    assert text_fields(mongo_db["threads"]) == ["title"]
    assert text_fields(mongo_db["messages"]) == ["content"]
    for name in ("threads", "messages"):  # no stemming, no stop words: as SQLite matches
        assert mongo_db[name].index_information()["search"].get("default_language",
                                                                 "none") == "none"
    assert [m.content for m in store.messages("t1")] == ["question", "reply"]


# --- SQLite: the index and the tables never disagree ----------------------------------------------

def integrity_check(path):
    """FTS5's own check that the index holds exactly what its content (the tables) holds, once
    the store has indexed what was written since its last search."""
    SQLiteThreadStore(path).index_for_search()
    with raw_connection(path) as db:
        db.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)")


def test_sqlite_index_matches_the_tables_after_every_kind_of_write(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "First", "question one", "answer one", "question two")
    titled(store, "t2", "Second", "question", start=10)
    store.index_for_search()  # what follows changes rows already indexed, and rows not yet
    question, _ = store.last_turn("t1")
    store.append_message("t1", "assistant", "answer two", at(20), reply_to=question)
    store.append_message("t1", "assistant", "answer two again", at(21), reply_to=question)
    store.rename_thread("t1", "Renamed")
    store.set_generated_title("t2", "Generated")
    titled(store, "t3", "Third", "question three", start=30)
    store.rename_thread("t3", "Third renamed")
    store.edit_last_question("t3", "question three edited", at(40), at(41))
    integrity_check(sqlite_path)

    titled(store, "t4", "Fourth", "question four", start=50)
    store.delete_thread("t2")  # indexed
    store.delete_thread("t4")  # not yet
    integrity_check(sqlite_path)
    with raw_connection(sqlite_path) as db:
        assert db.execute("SELECT thread_id FROM search_keys").fetchall() == [("t1",), ("t3",)]
    assert found(store, "edited") == ["t3"] and found(store, "four") == []


def test_sqlite_ids_that_come_back_after_a_delete_are_searchable(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "Kept", "kept words")
    titled(store, "gone", "Alpha", "alpha words", start=10)
    store.index_for_search()
    store.delete_thread("gone")  # the newest thread, key and message ids: the next ones reuse them

    titled(store, "new", "Beta", "beta words", start=20)

    assert found(store, "beta") == ["new"]
    assert found(store, "alpha") == []
    integrity_check(sqlite_path)


def test_sqlite_a_search_finds_what_was_written_since_the_last_one(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "First", "older words")
    assert found(store, "older") == ["t1"]

    titled(store, "t2", "Second", "newer words", start=10)
    store.append_message("t1", "assistant", "newer reply", at(20))

    assert found(store, "newer") == ["t1", "t2"]
    assert found(store, "second") == ["t2"]


def test_sqlite_writes_by_other_tools_keep_the_index_in_step(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "Title", "original words")
    titled(store, "t2", "Other", "doomed words", start=10)

    with raw_connection(sqlite_path) as db:  # as an edit, or a tool of someone's own, writes
        db.execute("UPDATE messages SET content = 'edited text' WHERE thread_id = 't1'")
        db.execute("UPDATE threads SET title = 'Changed' WHERE thread_id = 't1'")
        db.execute("DELETE FROM threads WHERE thread_id = 't2'")  # its messages go by cascade
        db.commit()

    integrity_check(sqlite_path)
    assert found(store, "edited changed") == ["t1"]
    assert found(store, "original") == found(store, "doomed") == found(store, "title") == []


def test_sqlite_a_write_that_fails_leaves_the_index_as_it_was(sqlite_path):
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "Title", "kept words")

    with raw_connection(sqlite_path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO messages (thread_id, role, content, created_at)"
                   " VALUES ('t1', 'user', 'lost words', ?)", (at(9),))
        db.execute("INSERT INTO messages (thread_id, role, content, created_at)"
                   " VALUES ('t1', 'nobody', 'bad role', ?)", (at(9),))  # fails: rolled back

    integrity_check(sqlite_path)
    assert found(store, "lost") == [] and found(store, "kept") == ["t1"]


def test_sqlite_database_from_before_turns_is_searchable(sqlite_path):
    old_sqlite_database(sqlite_path)

    store = SQLiteThreadStore(sqlite_path)

    assert found(store, "unanswered") == ["asked"]
    assert found(store, "q1") == ["asked", "race", "plain"]
    assert found(store, "plain") == ["plain"]  # its title
    integrity_check(sqlite_path)


def database_from_before_search(path):
    """A database as the store made it just before search (migration 2), with a conversation."""
    SQLiteThreadStore(path).prepare()
    with raw_connection(path) as db:
        for (kind, name) in db.execute("SELECT type, name FROM sqlite_master"
                                       " WHERE name LIKE 'search%'").fetchall():
            if kind in ("table", "view", "trigger"):
                db.execute(f"DROP {kind.upper()} IF EXISTS {name}")
        without_owners(db)
        db.execute("PRAGMA user_version = 2")
        db.execute("INSERT INTO threads (thread_id, title, created_at, updated_at)"
                   " VALUES ('t1', 'Old trip', ?, ?)", (at(0), at(1)))
        db.execute("INSERT INTO messages (thread_id, role, content, created_at, turn)"
                   " VALUES ('t1', 'user', 'Flights to Lisbon?', ?, 1)", (at(1),))
        db.commit()


def test_sqlite_database_from_before_search_is_searchable_and_stays_in_step(sqlite_path):
    database_from_before_search(sqlite_path)

    store = SQLiteThreadStore(sqlite_path)

    assert found(store, "lisbon trip") == ["t1"]
    store.append_message("t1", "assistant", "Daily from Porto", at(5))
    assert found(store, "porto lisbon") == ["t1"]
    integrity_check(sqlite_path)
    with raw_connection(sqlite_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_sqlite_database_indexed_at_each_write_is_indexed_in_batches_from_then_on(sqlite_path):
    """A database from when triggers indexed each write as it came (migration 3): all of it is
    indexed already, so nothing of it is indexed twice, and the old triggers are gone."""
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "Old title", "old words")
    store.index_for_search()
    with raw_connection(sqlite_path) as db:
        without_owners(db)
        db.execute("DROP TABLE search_indexed")
        db.execute("CREATE TRIGGER search_message_insert AFTER INSERT ON messages BEGIN"
                   " INSERT INTO search (rowid, body) VALUES (((SELECT key FROM search_keys"
                   " WHERE thread_id = new.thread_id) << 32) + new.id, new.content); END")
        db.execute("PRAGMA user_version = 3")
        db.commit()

    store = SQLiteThreadStore(sqlite_path)
    store.append_message("t1", "assistant", "new words", at(5))

    assert found(store, "old title") == found(store, "new words") == ["t1"]
    integrity_check(sqlite_path)
    with raw_connection(sqlite_path) as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_message_insert'"
                              ).fetchone()


def test_sqlite_migrated_database_has_what_a_new_one_has(sqlite_path, tmp_path):
    database_from_before_search(sqlite_path)
    SQLiteThreadStore(sqlite_path).prepare()
    fresh = str(tmp_path / "fresh.sqlite3")
    SQLiteThreadStore(fresh).prepare()

    def schema(path):
        """Each table's columns (ALTER TABLE writes its CREATE statement differently), and the
        statements of everything else."""
        with raw_connection(path) as db:
            rows = db.execute("SELECT type, name, sql FROM sqlite_master"
                              " WHERE name NOT LIKE 'sqlite_%'").fetchall()
            return sorted((kind, name, str(db.execute(f"PRAGMA table_xinfo({name})").fetchall())
                           if kind == "table" else sql) for kind, name, sql in rows)

    assert schema(sqlite_path) == schema(fresh)


# --- SQLite: every plan gives what a plain scan gives ---------------------------------------------

def corpus(path, rng):
    """400 threads of 6 messages, written with raw SQL as another tool would: "red" and "green"
    in most messages (common: the store walks the sidebar), "left" only in the first half of
    the threads and "right" only in the second (each common, together rare: the walk gives up
    and intersects), and rare words here and there (the store starts from their threads).
    Returns {thread_id: (updated_at, set of words)}."""
    SQLiteThreadStore(path).prepare()
    threads = {}
    with raw_connection(path) as db:
        for n in range(400):
            thread_id, updated = f"t{n:03d}", at(rng.randrange(300))  # many equal times
            side = "left" if n < 200 else "right"
            texts = [f"Title {n}"] + [
                " ".join([side] + rng.sample(["red", "green", "blue", "the", "a"], 3)
                         + ([f"rare{rng.randrange(40)}"] if rng.random() < 0.05 else []))
                for _ in range(6)]
            if n in (17, 230, 391):
                texts[3] += " left right"
            db.execute("INSERT INTO threads (thread_id, title, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?)", (thread_id, texts[0], at(0), updated))
            db.executemany("INSERT INTO messages (thread_id, role, content, created_at)"
                           " VALUES (?, 'user', ?, ?)", [(thread_id, t, at(0)) for t in texts[1:]])
            words = {w.lower() for text in texts for w in re.findall(r"\w+", text)}
            threads[thread_id] = (updated, words)
        db.commit()
    SQLiteThreadStore(path).index_for_search()
    with raw_connection(path) as db:
        rows = {w: db.execute("SELECT count(*) FROM search WHERE search MATCH ?",
                              (w,)).fetchone()[0] for w in ("red", "left", "right")}
    assert min(rows.values()) > RARE_ROWS, "the corpus must make these words common"
    return threads


@pytest.mark.parametrize("query", [
    "red green", "red", "left right", "right left red", "rare3", "rare3 rare7", "red rare11",
    "left rare5", "title 123", "blue rare0 green", "nothing",
])
def test_sqlite_search_finds_what_a_plain_scan_finds_page_after_page(sqlite_path, query):
    threads = corpus(sqlite_path, random.Random(8))
    store = SQLiteThreadStore(sqlite_path)
    words = {w.lower() for w in re.findall(r"\w+", query)}
    expected = [t for t, _ in sorted(((t, u) for t, (u, held) in threads.items()
                                      if words <= held), key=lambda p: (p[1], p[0]), reverse=True)]

    for limit in (5, 50):
        assert all_found(store, query, limit) == expected


def test_sqlite_a_rare_word_reads_its_threads_not_the_whole_sidebar(sqlite_path, monkeypatch):
    """The threads holding a rare word are looked up by key, each thread then checked for its
    owner: never every thread of the owner walked and checked against the keys."""
    statements = []
    real_connect = sqlite3.connect

    def traced_connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    store = SQLiteThreadStore(sqlite_path)
    titled(store, "t1", "Rare", "zanzibar trip")
    titled(store, "t2", "Common", "other words", start=10)

    assert found(store, "zanzibar") == ["t1"]

    monkeypatch.undo()
    by_key = [s for s in statements if "json_each" in s and "search_keys AS k" in s]
    assert by_key
    with raw_connection(sqlite_path) as db:
        plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {by_key[0]}"))
    assert plan.startswith("SEARCH k USING INTEGER PRIMARY KEY"), plan
