"""Search in the SQLite store: one FTS5 index, kept in step with every write by triggers (so in
the writer's own transaction, whoever writes), and the plan that reads it newest thread first.

Each thread has a number of its own (`search_keys`), and its rows in the index sit together:
its title at rowid key << 32, each message at (key << 32) + the message's id. The text is read
from the tables through a view, never copied. So "has this thread this word, in its title or any
message" is one lookup of the word in the index, bounded to the thread's rowids (a probe), and
the threads holding a word are its matches' rowids >> 32, without reading a table.

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
KEY = "((SELECT key FROM search_keys WHERE thread_id = {}.thread_id) << 32)"
SEARCH_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_keys (
    key       INTEGER PRIMARY KEY,  -- its index rows: key << 32, plus a message's id (< 2^32)
    thread_id TEXT NOT NULL UNIQUE
);
CREATE VIEW IF NOT EXISTS search_source AS
    SELECT k.key << 32 AS search_rowid, t.title AS body
        FROM threads AS t JOIN search_keys AS k USING (thread_id)
    UNION ALL SELECT (k.key << 32) + m.id, m.content
        FROM messages AS m JOIN search_keys AS k USING (thread_id);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    body, content = 'search_source', content_rowid = 'search_rowid', tokenize = "{TOKENIZER}",
    columnsize = 0);  -- no ranking, so no per-row sizes to keep
CREATE TRIGGER IF NOT EXISTS search_thread_insert AFTER INSERT ON threads BEGIN
    INSERT INTO search_keys (thread_id) VALUES (new.thread_id);
    INSERT INTO search (rowid, body) VALUES ({KEY.format("new")}, new.title);
END;
CREATE TRIGGER IF NOT EXISTS search_thread_title AFTER UPDATE OF title ON threads BEGIN
    INSERT INTO search (search, rowid, body) VALUES ('delete', {KEY.format("old")}, old.title);
    INSERT INTO search (rowid, body) VALUES ({KEY.format("new")}, new.title);
END;
-- Before: the messages leave the index while their thread still has its key.
CREATE TRIGGER IF NOT EXISTS search_thread_delete BEFORE DELETE ON threads BEGIN
    DELETE FROM messages WHERE thread_id = old.thread_id;
    INSERT INTO search (search, rowid, body) VALUES ('delete', {KEY.format("old")}, old.title);
    DELETE FROM search_keys WHERE thread_id = old.thread_id;
END;
CREATE TRIGGER IF NOT EXISTS search_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search (rowid, body) VALUES ({KEY.format("new")} + new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS search_message_update AFTER UPDATE OF thread_id, content ON messages
BEGIN
    INSERT INTO search (search, rowid, body)
        VALUES ('delete', {KEY.format("old")} + old.id, old.content);
    INSERT INTO search (rowid, body) VALUES ({KEY.format("new")} + new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS search_message_delete AFTER DELETE ON messages BEGIN
    INSERT INTO search (search, rowid, body)
        VALUES ('delete', {KEY.format("old")} + old.id, old.content);
END;
"""
# Migration 3: a database made before search gets its keys and its index filled (SEARCH_SCHEMA
# made them, empty). Both steps start from nothing, so doing them again is harmless.
SEARCH_BACKFILL = """
DELETE FROM search_keys;
INSERT INTO search_keys (thread_id) SELECT thread_id FROM threads ORDER BY updated_at, thread_id;
INSERT INTO search (search) VALUES ('rebuild');
"""

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


def find_threads(db, words, want, before=None):
    """Rows (thread_id, title, created_at, updated_at) of the first `want` threads holding
    every word, newest update first, after the sidebar position `before` (or from the top)."""
    phrases = [phrase(word) for word in words]
    counts = {p: _count(db, p, RARE_ROWS + 1) for p in phrases}
    found = []
    if min(counts.values()) > RARE_ROWS:
        with closing(_sidebar(db, before)) as rows:
            found, before = _walk(db, rows, phrases, want, budget=2 * want)
        if len(found) >= want or before is None:
            return found
        counts = {p: _count(db, p) for p in phrases}  # the rarest of the common words
    keys, rest = _intersect(db, sorted(phrases, key=counts.get))
    if not keys:
        return found
    with closing(_in_sidebar_order(db, keys, before)) as rows:
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


def _sidebar(db, before):
    sql, args = f"SELECT {LISTED}, key {SIDEBAR}", []
    if before:
        sql, args = f"{sql} WHERE {BEFORE}", list(before)
    return db.execute(f"{sql} {SIDEBAR_ORDER}", args)  # read lazily, only as far as needed


def _in_sidebar_order(db, keys, before):
    sql = (f"SELECT {LISTED}, key FROM search_keys AS k JOIN threads AS t USING (thread_id)"
           " WHERE key IN (SELECT value FROM json_each(?))")
    args = [json.dumps(sorted(keys))]
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
