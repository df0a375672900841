"""Search in the SQLite store: one FTS5 index of every title and message, brought up to date in
batches, and the plan that reads it newest thread first.

Each thread has a number of its own (`search_keys`), and its rows in the index sit together:
its title at rowid key << 32, each message at (key << 32) + the message's id. The text is read
from the tables through a view, never copied. So "has this thread this word, in its title or any
message" is one lookup of the word in the index, bounded to the thread's rowids (a probe), and
the threads holding a word are its matches' rowids >> 32, without reading a table.

A turn writes nothing to the index: indexing each message in its own commit doubled the pages a
turn writes, and left the index in many small segments, each one more lookup for every probe.
`search_indexed` says how far the index goes (messages up to an id, titles up to a key); a
search first indexes whatever came after, in one batch, then lets FTS5 merge a little. Changes
to what is already indexed (an edit, a rename, a delete) go into the index at once, by trigger.

Results come newest thread first, and sorting every match would cost in proportion to how many
there are, which for common words is most of the database. So:
- when every word is common, walk the threads in sidebar order and probe each: most threads hold
  all the words, so a page fills after a few probes per row, whatever the size of the database;
- when a word is rare (or the walk finds few threads holding all), take the threads the index
  has for the rarest words, intersect them, and probe them, newest first, for the other words.
"""
import json
from contextlib import closing
from itertools import islice

# Whole words, in any case, with or without accents; `_` joins a word, as in code.
TOKENIZER = "unicode61 remove_diacritics 2 tokenchars '_'"
KEY = "(SELECT key FROM search_keys WHERE thread_id = {}.thread_id)"
KEY_INDEXED = f"{KEY} <= (SELECT thread_key FROM search_indexed)"
ID_INDEXED = "{}.id <= (SELECT message_id FROM search_indexed)"
SEARCH_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_keys (
    key       INTEGER PRIMARY KEY,  -- its index rows: key << 32, plus a message's id (< 2^32)
    thread_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS search_indexed (  -- one row: how far the index goes
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    message_id INTEGER NOT NULL,  -- every message up to this id is indexed, and none after
    thread_key INTEGER NOT NULL   -- so is every title up to this key
);
INSERT OR IGNORE INTO search_indexed VALUES (1, 0, 0);
CREATE VIEW IF NOT EXISTS search_source AS
    SELECT k.key << 32 AS search_rowid, t.title AS body
        FROM threads AS t JOIN search_keys AS k USING (thread_id)
    UNION ALL SELECT (k.key << 32) + m.id, m.content
        FROM messages AS m JOIN search_keys AS k USING (thread_id);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    body, content = 'search_source', content_rowid = 'search_rowid', tokenize = "{TOKENIZER}",
    columnsize = 0);  -- no ranking, so no per-row sizes to keep
-- A row id or key can come back after a delete: one the index counts as done is indexed now.
CREATE TRIGGER IF NOT EXISTS search_key_insert AFTER INSERT ON threads BEGIN
    INSERT INTO search_keys (thread_id) VALUES (new.thread_id);
    INSERT INTO search (rowid, body) SELECT {KEY.format("new")} << 32, new.title
        WHERE {KEY_INDEXED.format("new")};
END;
CREATE TRIGGER IF NOT EXISTS search_title_update AFTER UPDATE OF title ON threads
WHEN {KEY_INDEXED.format("old")} BEGIN
    INSERT INTO search (search, rowid, body) VALUES ('delete', {KEY.format("old")} << 32, old.title);
    INSERT INTO search (rowid, body) VALUES ({KEY.format("new")} << 32, new.title);
END;
-- Before: the messages leave the index while their thread still has its key.
CREATE TRIGGER IF NOT EXISTS search_key_delete BEFORE DELETE ON threads BEGIN
    DELETE FROM messages WHERE thread_id = old.thread_id;
    INSERT INTO search (search, rowid, body) SELECT 'delete', {KEY.format("old")} << 32, old.title
        WHERE {KEY_INDEXED.format("old")};
    DELETE FROM search_keys WHERE thread_id = old.thread_id;
END;
CREATE TRIGGER IF NOT EXISTS search_reused_id AFTER INSERT ON messages
WHEN {ID_INDEXED.format("new")} BEGIN
    INSERT INTO search (rowid, body) VALUES (({KEY.format("new")} << 32) + new.id, new.content);
END;
-- Of content only: a message's rows follow its thread's key, which a thread keeps for life
-- (even when its id changes, as a user adopting conversations changes it).
CREATE TRIGGER IF NOT EXISTS search_message_edit AFTER UPDATE OF content ON messages
WHEN {ID_INDEXED.format("old")} BEGIN
    INSERT INTO search (search, rowid, body)
        VALUES ('delete', ({KEY.format("old")} << 32) + old.id, old.content);
    INSERT INTO search (rowid, body) VALUES (({KEY.format("new")} << 32) + new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS search_message_gone AFTER DELETE ON messages
WHEN {ID_INDEXED.format("old")} BEGIN
    INSERT INTO search (search, rowid, body)
        VALUES ('delete', ({KEY.format("old")} << 32) + old.id, old.content);
END;
"""
# Migration 3: a database made before search gets its keys and its index filled (SEARCH_SCHEMA
# made them, empty). Both steps start from nothing, so doing them again is harmless.
SEARCH_BACKFILL = """
DELETE FROM search_keys;
INSERT INTO search_keys (thread_id) SELECT thread_id FROM threads ORDER BY updated_at, thread_id;
INSERT INTO search (search) VALUES ('rebuild');
"""
ALL_INDEXED = ("UPDATE search_indexed SET message_id = (SELECT coalesce(max(id), 0) FROM messages),"
               " thread_key = (SELECT coalesce(max(key), 0) FROM search_keys)")
# Migration 4: the index was kept by triggers at every write, so it holds everything, in many
# segments (one a write, merged now and then): made one. Their successors (SEARCH_SCHEMA) index
# only rows whose ids come back; a search indexes the rest.
SEARCH_IN_BATCHES = f"""
DROP TRIGGER IF EXISTS search_thread_insert;
DROP TRIGGER IF EXISTS search_thread_title;
DROP TRIGGER IF EXISTS search_thread_delete;
DROP TRIGGER IF EXISTS search_message_insert;
DROP TRIGGER IF EXISTS search_message_update;
DROP TRIGGER IF EXISTS search_message_delete;
{ALL_INDEXED};
INSERT INTO search (search) VALUES ('optimize');
"""
PENDING = ("SELECT (SELECT coalesce(max(id), 0) FROM messages) > message_id"
           " OR (SELECT coalesce(max(key), 0) FROM search_keys) > thread_key FROM search_indexed")
INDEX_PENDING = """
INSERT INTO search (rowid, body)
    SELECT k.key << 32, t.title FROM search_keys AS k JOIN threads AS t USING (thread_id)
        WHERE k.key > (SELECT thread_key FROM search_indexed)
    UNION ALL SELECT (k.key << 32) + m.id, m.content
        FROM messages AS m JOIN search_keys AS k USING (thread_id)
        WHERE m.id > (SELECT message_id FROM search_indexed)
    ORDER BY 1  -- rowids in order, or FTS5 would cut its batch into a segment at each step back
"""
# Each probe looks the word up in every segment of the index, so few segments keep it quick.
# After a small batch, FTS5 merges a little (where two segments share a level, at most this
# many pages); a large one (an import, a first search after many writes) is made one segment.
MERGE_PAGES = 200
MERGE_LEVEL = 2  # FTS5's `usermerge`: segments on one level that a merge joins (its default: 4)
LARGE_BATCH = 4  # a batch is large if it holds at least 1/4 of the messages


def tune_index(db):
    """Set the index's merge level, once: a setting FTS5 keeps in the database."""
    if not db.execute("SELECT 1 FROM search_config WHERE k = 'usermerge' AND v = ?",
                      (MERGE_LEVEL,)).fetchone():
        db.execute("INSERT INTO search (search, rank) VALUES ('usermerge', ?)", (MERGE_LEVEL,))
        db.commit()


def index_pending(db):
    """Index every title and message written since the last time; nothing if there is none.
    Takes the write lock only when there is something to do."""
    if not db.execute(PENDING).fetchone()[0]:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        batch = db.execute(INDEX_PENDING).rowcount
        db.execute(ALL_INDEXED)
        messages = db.execute("SELECT message_id FROM search_indexed").fetchone()[0]
        if batch * LARGE_BATCH >= messages:
            db.execute("INSERT INTO search (search) VALUES ('optimize')")
        else:
            db.execute("INSERT INTO search (search, rank) VALUES ('merge', ?)", (MERGE_PAGES,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


LISTED = "t.thread_id, t.title, t.created_at, t.updated_at"
# CROSS JOIN: threads first, read in the sidebar's index order, and each one's key looked up.
SIDEBAR = "FROM threads AS t CROSS JOIN search_keys AS k USING (thread_id)"
SIDEBAR_ORDER = "ORDER BY t.updated_at DESC, t.thread_id DESC"
BEFORE = "(t.updated_at, t.thread_id) < (?, ?)"
PROBE = ("EXISTS (SELECT 1 FROM search WHERE search MATCH ?"
         " AND rowid >= value << 32 AND rowid < (value + 1) << 32)")  # value: a thread's key
# Measured at 100,000 messages: a probe costs 30-100 µs (a lookup of the word in each of the
# index's 10-20 segments, as FTS5 keeps it while writes come in one by one); reading one match
# costs about 0.1 µs, and keeping its thread in a set about 0.3 µs more.
RARE_ROWS = 1000     # a word in at most this many rows: start from its threads, no walk
PROBE_ROWS = 100     # so read a word's threads only if it has under 100 matches per candidate
MAX_CHUNK = 500      # threads probed by one statement


def phrase(word):
    """A word as an FTS5 string: quoted, so that nothing in it is ever read as query syntax."""
    return '"' + word.replace('"', '""') + '"'


def find_threads(db, words, want, before=None, owner=None):
    """Rows (thread_id, title, created_at, updated_at) of the first `want` of `owner`'s threads
    holding every word, newest update first, after the sidebar position `before` (or from the
    top)."""
    phrases = [phrase(word) for word in words]
    counts = {p: _count(db, p, RARE_ROWS + 1) for p in phrases}
    found = []
    if min(counts.values()) > RARE_ROWS:
        with closing(_sidebar(db, before, owner)) as rows:
            found, before = _walk(db, rows, phrases, want, budget=2 * want)
        if len(found) >= want or before is None:
            return found
        counts = {p: _count(db, p) for p in phrases}  # the rarest of the common words
    keys, rest = _intersect(db, sorted(phrases, key=counts.get))
    if not keys:
        return found
    with closing(_in_sidebar_order(db, keys, before, owner)) as rows:
        more, _ = _walk(db, rows, rest, want - len(found))
    return found + more


def _count(db, phrase_, cap=-1):
    """How many index rows (titles and messages) hold the word: at most `cap` (-1: all)."""
    return db.execute("SELECT count(*) FROM (SELECT 1 FROM search WHERE search MATCH ? LIMIT ?)",
                      (phrase_, cap)).fetchone()[0]


def _intersect(db, rarest_first):
    """The keys of the threads holding the rarest words, and the words left to probe them for:
    a word's threads are read only when that costs less than probing every candidate."""
    keys, rest = _keys_holding(db, rarest_first[0]), []
    for p in rarest_first[1:]:
        if not keys:
            break
        most = PROBE_ROWS * len(keys)
        if _count(db, p, most + 1) > most:
            rest.append(p)
        else:
            keys &= _keys_holding(db, p)
    return keys, rest


def _keys_holding(db, phrase_):
    return {row[0] for row in db.execute(
        "SELECT DISTINCT rowid >> 32 FROM search WHERE search MATCH ?", (phrase_,))}


def _sidebar(db, before, owner):
    sql, args = f"SELECT {LISTED}, key {SIDEBAR} WHERE t.owner IS ?", [owner]
    if before:
        sql, args = f"{sql} AND {BEFORE}", args + list(before)
    return db.execute(f"{sql} {SIDEBAR_ORDER}", args)  # read lazily, only as far as needed


def _in_sidebar_order(db, keys, before, owner):
    # CROSS JOIN: the few keys first, each one's thread looked up (and its owner checked), not
    # every thread of the owner walked in order and checked against the keys.
    sql = (f"SELECT {LISTED}, key FROM search_keys AS k CROSS JOIN threads AS t"
           " USING (thread_id) WHERE key IN (SELECT value FROM json_each(?)) AND t.owner IS ?")
    args = [json.dumps(sorted(keys)), owner]
    if before:
        sql, args = f"{sql} AND {BEFORE}", args + list(before)
    return db.execute(f"{sql} {SIDEBAR_ORDER}", args)


def _walk(db, rows, phrases, want, budget=None):
    """The first `want` of `rows` (threads in sidebar order, each with its key) holding every
    phrase, probed a chunk at a time. Returns them and, if it stopped at `budget` rows looked
    at before finding enough, the sidebar position to go on from (else None)."""
    found, seen, size = [], 0, want
    while len(found) < want:
        chunk = list(islice(rows, min(size, MAX_CHUNK)))
        if not chunk:
            return found, None
        found += _holding(db, chunk, phrases)
        seen += len(chunk)
        if budget is not None and seen >= budget and len(found) < want:
            return found, (chunk[-1][3], chunk[-1][0])
        size = max(want - len(found), 2 * size)  # few held them all: look further at once
    return found[:want], None


def _holding(db, chunk, phrases):
    """The rows of `chunk` whose threads hold every phrase, in the chunk's order, keys dropped."""
    if phrases:
        sql = "SELECT value FROM json_each(?) WHERE " + " AND ".join(PROBE for _ in phrases)
        held = {row[0] for row in db.execute(sql, [json.dumps([row[4] for row in chunk]),
                                                   *phrases])}
        chunk = [row for row in chunk if row[4] in held]
    return [row[:4] for row in chunk]
