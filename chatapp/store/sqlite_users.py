"""Accounts in the SQLite store (see users.py for the contract): two tables beside the threads."""
from ..errors import UserExists
from ..models import User
from .owned import owned_id
from .users import UserStore, name_key

USERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,  -- the name casefolded: one user whatever the case
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens (user_id);
"""
USER_COLUMNS = "user_id, name, password_hash, created_at"


class SQLiteUsers(UserStore):
    """Mixed into SQLiteThreadStore, whose `_connection` it uses."""

    def create_user(self, user):
        with self._connection() as db:
            if not db.execute(
                    "INSERT INTO users (user_id, name, name_key, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name_key) DO NOTHING",
                    (user.user_id, user.name, name_key(user.name), user.password_hash,
                     user.created_at)).rowcount:
                raise UserExists(user.name)

    def user_named(self, name):
        return self._user("name_key = ?", name_key(name))

    def user_by_id(self, user_id):
        return self._user("user_id = ?", user_id)

    def list_users(self):
        with self._connection() as db:
            rows = db.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY name_key").fetchall()
        return [User(*row) for row in rows]

    def delete_user(self, user_id):
        with self._connection() as db:  # a thread's delete takes its messages (a trigger)
            db.execute("DELETE FROM threads WHERE owner = ?", (user_id,))
            return db.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount == 1

    def give_unowned_threads(self, user_id):
        prefix = owned_id(user_id, "")
        with self._connection() as db:
            # The three ids change in one transaction; the foreign keys are checked at its end.
            db.execute("PRAGMA defer_foreign_keys = ON")
            for table in ("messages", "search_keys"):
                db.execute(f"UPDATE {table} SET thread_id = ? || thread_id WHERE thread_id IN"
                           " (SELECT thread_id FROM threads WHERE owner IS NULL)", (prefix,))
            return db.execute("UPDATE threads SET thread_id = ? || thread_id, owner = ?"
                              " WHERE owner IS NULL", (prefix, user_id)).rowcount

    def add_token(self, user_id, token_hash, now):
        with self._connection() as db:
            db.execute("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?, ?, ?)",
                       (token_hash, user_id, now))

    def revoke_tokens(self, user_id):
        with self._connection() as db:
            return db.execute("DELETE FROM api_tokens WHERE user_id = ?", (user_id,)).rowcount

    def user_for_token(self, token_hash):
        return self._user("user_id = (SELECT user_id FROM api_tokens WHERE token_hash = ?)",
                          token_hash)

    def _user(self, where, value):
        with self._connection() as db:
            row = db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE {where}", (value,)).fetchone()
        return User(*row) if row else None
