"""The default store: one SQLite file, no server needed."""
import logging
import os
import queue
import sqlite3
import threading
from contextlib import contextmanager

from ..errors import StoreUnavailable, ThreadNotFound
from ..models import Message, Thread
from .base import ThreadPage, ThreadStore, decode_cursor, encode_cursor, take_within_budget

SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id  TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,  -- ISO 8601 UTC, fixed width, so text order is time order
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_by_update ON threads (updated_at DESC, thread_id DESC);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (thread_id, id);
"""

log = logging.getLogger(__name__)
THREAD_COLUMNS = "thread_id, title, created_at, updated_at"  # in Thread's field order
MESSAGE_COLUMNS = "role, content, created_at"  # in Message's field order


def _thread(row):
    return Thread(*row)


def _select_thread(db, thread_id):
    row = db.execute(
        f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    return _thread(row) if row else None


def _message(row):
    return Message(*row)


class SQLiteThreadStore(ThreadStore):
    def __init__(self, path, busy_timeout=5.0):
        self.path = path
        self.busy_timeout = busy_timeout
        self._idle = queue.LifoQueue()
        self._pid = os.getpid()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def prepare(self):
        with self._connection():
            pass

    def get_thread(self, thread_id):
        with self._connection() as db:
            return _select_thread(db, thread_id)

    def list_threads(self, limit, cursor=None):
        sql, args = f"SELECT {THREAD_COLUMNS} FROM threads", []
        if cursor:
            updated_at, thread_id = decode_cursor(cursor)
            sql += " WHERE (updated_at, thread_id) < (?, ?)"
            args += [updated_at, thread_id]
        sql += " ORDER BY updated_at DESC, thread_id DESC LIMIT ?"
        with self._connection() as db:
            rows = db.execute(sql, args + [limit + 1]).fetchall()
        threads = [_thread(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ThreadPage(threads, encode_cursor(threads[-1]) if more else None)

    def create_thread_if_missing(self, thread_id, title, now):
        with self._connection() as db:
            db.execute(
                "INSERT INTO threads (thread_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (thread_id) DO NOTHING",
                (thread_id, title, now, now),
            )
            return _select_thread(db, thread_id)

    def append_message(self, thread_id, role, content, now):
        with self._connection() as db:
            bumped = db.execute(
                "UPDATE threads SET updated_at = ? WHERE thread_id = ?", (now, thread_id)
            ).rowcount
            if not bumped:
                raise ThreadNotFound(thread_id)
            db.execute(
                "INSERT INTO messages (thread_id, role, content, created_at) VALUES (?, ?, ?, ?)",
                (thread_id, role, content, now),
            )
        return Message(role, content, now)

    def messages(self, thread_id):
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY id",
                (thread_id,),
            ).fetchall()
        return [_message(row) for row in rows]

    def recent_messages(self, thread_id, max_chars):
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?"
                " ORDER BY id DESC",
                (thread_id,),
            )
            # The cursor is read lazily, so a long thread is read only as far as the budget.
            return take_within_budget(map(_message, rows), max_chars)

    def delete_thread(self, thread_id):
        with self._connection() as db:
            deleted = db.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,)).rowcount
        return bool(deleted)

    @contextmanager
    def _connection(self):
        """A pooled connection inside a transaction (committed on success, else rolled back)."""
        if self._pid != os.getpid():  # forked: the parent's connections are not ours to use
            self._idle, self._pid = queue.LifoQueue(), os.getpid()
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = self._open()
        try:
            with db:
                yield db
        except sqlite3.Error as error:
            log.error("SQLite error on %s: %s", self.path, error)
            raise StoreUnavailable() from error
        finally:
            self._idle.put(db)

    def _open(self):
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
            db.execute("PRAGMA foreign_keys = ON")
            # With WAL, NORMAL never corrupts and survives an app crash; only a power cut can
            # lose the last instants. It halves the cost of a write (no fsync per commit).
            db.execute("PRAGMA synchronous = NORMAL")
            self._ensure_schema(db)
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            log.error("Cannot open the SQLite database %s: %s", self.path, error)
            raise StoreUnavailable() from error
        return db

    def _ensure_schema(self, db):
        with self._schema_lock:
            if not self._schema_ready:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(SCHEMA)
                self._schema_ready = True
