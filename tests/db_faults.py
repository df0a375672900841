"""Database faults made for real, for the tests of what the app does meanwhile and after: each is
a context manager taking the app and yielding the app that meets the fault (the same one, or a
new one on the same file where the fault must be there when the app starts)."""
import os
import sqlite3
import subprocess
from contextlib import contextmanager

import pytest

from chatapp import create_app
from tests import helpers

closed_port = helpers.closed_port  # test_health and test_db_faults import it from here


@contextmanager
def locked(app):
    """Another process writing for longer than SQLITE_BUSY_TIMEOUT: a connection of our own holds
    SQLite's write lock (BEGIN EXCLUSIVE), as that process would."""
    other = sqlite3.connect(app.config["SQLITE_PATH"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield app
    finally:
        other.execute("ROLLBACK")
        other.close()


def unopenable_path(tmp_path):
    """A database path SQLite cannot open: a file stands where its folder should be."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's folder should be")
    return str(blocker / "chat.sqlite3")


def fill_the_disk(app):
    """Make every write that needs room fail as on a full disk; returns what frees it again.

    SQLite fails a write that needs a page past `max_page_count` with SQLITE_FULL, the very error
    (and the same rollback) it gives when the disk has no room left. The limit is a setting of each
    connection, so it is set on the store's own: those waiting in its pool for the next request."""
    connections = list(app.extensions["thread_store"]._pool._idle)
    assert connections, "make a request first, so the store has a connection to fill"
    limits = []
    for db in connections:
        limits.append(db.execute("PRAGMA max_page_count").fetchone()[0])
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # not one page more

    def free():
        for db, limit in zip(connections, limits):
            db.execute(f"PRAGMA max_page_count = {limit}")
    return free


@contextmanager
def disk_full(app):
    free = fill_the_disk(app)
    try:
        yield app
    finally:
        free()


@contextmanager
def read_only(app):
    """The database file cannot be written (a restore that left the wrong owner or mode, a volume
    mounted read-only) while the app starts. SQLite then opens it read-only without a word, and
    that connection stays read-only after the file is fixed: the fault the pool must heal.

    Made with chmod 0444; as root, whom file modes do not stop, with `chattr +i`, which the kernel
    enforces on root too: opening the file for writing fails, and SQLite falls back to read-only
    exactly as it does for a 0444 file (its writes then fail with SQLITE_READONLY). Yields a new
    app on the same file, started during the fault (the given one keeps connections it opened
    before, which can still write, as a running process's would)."""
    path = app.config["SQLITE_PATH"]
    undo = _write_protect(path)
    try:
        yield create_app(dict(app.config), instance_path=app.instance_path)
    finally:
        undo()


def _write_protect(path):
    if os.geteuid() != 0:
        mode = os.stat(path).st_mode
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, mode)
    made = subprocess.run(["chattr", "+i", path], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.fail("As root, a read-only file is made with `chattr +i`, which failed here "
                    f"({made.stderr.strip()}): run the tests as another user, or on a filesystem "
                    "and with the capability (CAP_LINUX_IMMUTABLE) that allow it.")
    return lambda: subprocess.run(["chattr", "-i", path], check=True)
