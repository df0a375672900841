"""The SQLite store's connections: opened as needed, kept for the next request, each used inside
one transaction. A connection that has gone bad is closed rather than kept, so the store heals by
itself once the fault is fixed, without a restart. Every SQLite failure becomes StoreUnavailable."""
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager

from ..errors import StoreUnavailable
from .sqlite_schema import ensure_schema

log = logging.getLogger(__name__)
# Errors that condemn the connection, not just the statement: SQLite opens a file it cannot write
# read-only without a word, and the connection stays so after the file is fixed; after an I/O
# error or corruption its cache cannot be trusted. "database is locked" (another writer held on
# past the busy timeout) and a full disk leave the connection as good as it was.
BAD_CONNECTION = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT,
                  sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB}
# What a person is told, when plainer than "not reachable" (no path, no SQLite words).
MESSAGES = {
    sqlite3.SQLITE_BUSY: "The database is busy right now. Try again in a moment.",
    sqlite3.SQLITE_FULL: "The database's disk is full, so nothing new can be kept. Try again later.",
    sqlite3.SQLITE_READONLY: "The database cannot be written to right now. Try again later.",
}
# A statement that asks for the write lock and writes nothing: SQLite refuses it at once on a
# connection that cannot write. (In a new file, before the schema, it fails for want of the table.)
WRITE_PROBE = "DELETE FROM threads WHERE 0"


def _primary_code(error):
    return (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF  # extended codes share it


def _unavailable(code):
    return StoreUnavailable(MESSAGES[code]) if code in MESSAGES else StoreUnavailable()


class _Connection(sqlite3.Connection):
    read_only = False  # opened while the file could not be written: used once, never kept


class ConnectionPool:
    def __init__(self, path, busy_timeout):
        self.path = path
        self.busy_timeout = busy_timeout  # seconds a write waits for another writer
        # Idle connections, the most recent last: a plain list, whose append and pop are each
        # atomic, so no lock (a queue.Queue's locks cost more than the query, under gevent).
        self._idle = []
        self._pid = os.getpid()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    @contextmanager
    def connection(self):
        """A connection inside a transaction (committed on success, else rolled back)."""
        if self._pid != os.getpid():  # forked: the parent's connections are not ours to use
            self._idle, self._pid = [], os.getpid()
        try:
            db = self._idle.pop()
        except IndexError:
            db = self._open()
        keep = not db.read_only
        try:
            with db:
                yield db
        except sqlite3.Error as error:
            log.error("SQLite error on %s: %s", self.path, error)
            code = _primary_code(error)
            if code in BAD_CONNECTION:
                keep = False
                self._close_idle()  # opened before the fault, they may share it
            raise _unavailable(code) from error
        finally:
            if keep:
                self._idle.append(db)
            else:
                db.close()

    def check(self):
        """Raise StoreUnavailable unless the file can be read and would take a write now."""
        with self.connection() as db:
            db.execute(WRITE_PROBE)

    def _close_idle(self):
        while True:
            try:
                self._idle.pop().close()
            except IndexError:
                return

    def _open(self):
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False,
                                 factory=_Connection)
            db.execute("PRAGMA foreign_keys = ON")
            # With WAL, NORMAL never corrupts and survives an app crash; only a power cut can
            # lose the last instants. It halves the cost of a write (no fsync per commit).
            db.execute("PRAGMA synchronous = NORMAL")
            # The search triggers must see every row that goes, including one an INSERT OR
            # REPLACE takes out (those fire delete triggers only with this on).
            db.execute("PRAGMA recursive_triggers = ON")
            db.read_only = self._opened_read_only(db)
            if not db.read_only:  # a file that cannot be written is read as it is
                self._ensure_schema(db)
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            log.error("Cannot open the SQLite database %s: %s", self.path, error)
            raise StoreUnavailable() from error
        return db

    def _opened_read_only(self, db):
        """Whether SQLite opened the file read-only (it does when the file cannot be written:
        permissions, a read-only mount). Such a connection would stay read-only for good."""
        db.execute("PRAGMA busy_timeout = 0")  # a writer at work says the file is writable
        try:
            db.execute(WRITE_PROBE)
            return False
        except sqlite3.OperationalError as error:  # or busy, or no table yet: not read-only
            return _primary_code(error) == sqlite3.SQLITE_READONLY
        finally:
            db.rollback()
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def _ensure_schema(self, db):
        with self._schema_lock:
            if not self._schema_ready:
                ensure_schema(db)
                self._schema_ready = True
