"""A whole conversation into the SQLite store at once (chatapp.transfer's import). Mixed into
SQLiteThreadStore, whose pooled `_connection` it uses."""
from ..errors import ThreadExists
from .base import imported_turns
from .sqlite_schema import THREAD_COLUMNS


class SQLiteTransfer:
    def import_thread(self, thread, messages, owner=None):
        with self._connection() as db:  # one transaction: the thread and all its messages
            if not db.execute(
                    f"INSERT INTO threads ({THREAD_COLUMNS}, owner) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (thread_id) DO NOTHING",
                    (thread.thread_id, thread.title, thread.created_at, thread.updated_at,
                     thread.model, int(thread.title_set), owner)).rowcount:
                raise ThreadExists(thread.thread_id)
            # The insert above holds the write lock, so these ids stay free until the commit;
            # giving them here lets a reply's turn (its question's id) go in with the same row.
            first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0]
            ids = range(first, first + len(messages))
            db.executemany(
                "INSERT INTO messages (id, thread_id, role, content, created_at, turn, finish_reason,"
                " prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row_id, thread.thread_id, m.role, m.content, m.timestamp, turn, m.finish_reason,
                  (m.usage or {}).get("prompt_tokens"), (m.usage or {}).get("completion_tokens"))
                 for m, row_id, turn in zip(messages, ids, imported_turns(messages, ids))])
        return thread
