"""The SQLite store's schema, and the migrations that bring a database made by an older chatapp
up to date (PRAGMA user_version counts those done)."""
from .sqlite_search import SEARCH_BACKFILL, SEARCH_IN_BATCHES, SEARCH_SCHEMA, tune_index
from .sqlite_users import USERS_SCHEMA

# In Thread's field order. The sidebar reads only the first four: what a row shows.
LISTED_COLUMNS = "thread_id, title, created_at, updated_at"
THREAD_COLUMNS = f"{LISTED_COLUMNS}, model, title_set"

SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id  TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,  -- ISO 8601 UTC, fixed width, so text order is time order
    updated_at TEXT NOT NULL,
    model      TEXT,  -- NULL: the configured default
    title_set  INTEGER NOT NULL DEFAULT 0,  -- 1: named by the person
    owner      TEXT  -- a user's id (then thread_id begins with it: see store/owned.py); NULL:
                     -- made with sign-in off, or before accounts
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    turn       INTEGER,  -- a question's own id, or for a reply the id of its question
    finish_reason     TEXT,  -- replies only
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    claimed_until     TEXT   -- questions only: being answered until then
);
"""
# Databases made before replies streamed have messages without the last five columns. Their
# replies were complete, each after its question (or alone after a race, answering itself).
MIGRATIONS = ["""
ALTER TABLE messages ADD COLUMN turn INTEGER;
ALTER TABLE messages ADD COLUMN finish_reason TEXT;
ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE messages ADD COLUMN completion_tokens INTEGER;
ALTER TABLE messages ADD COLUMN claimed_until TEXT;
UPDATE messages SET turn = id WHERE role = 'user';
UPDATE messages SET finish_reason = 'stop', turn = coalesce((
    SELECT q.id FROM messages AS q WHERE q.id = (
        SELECT max(p.id) FROM messages AS p WHERE p.thread_id = messages.thread_id
        AND p.id < messages.id) AND q.role = 'user'), id) WHERE role = 'assistant';
DROP INDEX IF EXISTS messages_by_thread;
""", """
ALTER TABLE threads ADD COLUMN model TEXT;
ALTER TABLE threads ADD COLUMN title_set INTEGER NOT NULL DEFAULT 0;
""", SEARCH_BACKFILL,  # 3: the search index filled (SEARCH_SCHEMA made it, empty)
    SEARCH_IN_BATCHES,  # 4: the index kept in batches, no longer at each write
    """
ALTER TABLE threads ADD COLUMN owner TEXT;
DROP INDEX IF EXISTS threads_by_update;
"""]  # 5: threads have owners; the sidebar's index leads with the owner
INDEXES = """
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (thread_id, turn, id);
CREATE INDEX IF NOT EXISTS threads_by_owner ON threads (owner, updated_at DESC, thread_id DESC);
"""


def ensure_schema(db):
    """Create what is missing, then migrate; once per process, before the first query."""
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(SCHEMA + SEARCH_SCHEMA + USERS_SCHEMA)
    _migrate(db)
    db.executescript(INDEXES)
    tune_index(db)


def _migrate(db):
    """Bring a database made by an older chatapp up to date (PRAGMA user_version counts
    the migrations done). A new database has the current schema, so it skips them all.
    Under the write lock: processes starting together on an old file migrate it once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
        if version == 0 and "turn" in columns:
            version = len(MIGRATIONS)
        for script in MIGRATIONS[version:]:
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
