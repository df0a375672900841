"""The default store: one SQLite file, no server needed (its connections: sqlite_pool.py)."""
from ..errors import ThreadNotFound, TurnInProgress
from ..models import Message, Thread
from .base import (ThreadPage, ThreadStore, decode_cursor, page_of, question_and_reply,
                   search_words, take_within_budget)
from .sqlite_pool import ConnectionPool
from .sqlite_schema import LISTED_COLUMNS, THREAD_COLUMNS
from .sqlite_search import find_threads, index_pending
from .sqlite_transfer import SQLiteTransfer
from .sqlite_users import SQLiteUsers

MESSAGE_COLUMNS = ("role, content, created_at, finish_reason, prompt_tokens, completion_tokens, turn,"
                   " claimed_until")
IN_ORDER = "ORDER BY turn, id"
NEWEST_FIRST = "ORDER BY turn DESC, id DESC"


def _thread(row):
    if len(row) > 4:
        return Thread(*row[:5], bool(row[5]))
    return Thread(*row)


def _select_thread(db, thread_id):
    row = db.execute(
        f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    return _thread(row) if row else None


def _message(row):
    role, content, created_at, finish_reason, prompt_tokens, completion_tokens, turn, claim = row
    usage = None
    if prompt_tokens is not None or completion_tokens is not None:
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    return Message(role, content, created_at, finish_reason, usage, turn, claim)


def _bump(db, thread_id, now):
    if not db.execute("UPDATE threads SET updated_at = ? WHERE thread_id = ?",
                      (now, thread_id)).rowcount:
        raise ThreadNotFound(thread_id)


def _delete_reply(db, thread_id, turn):
    """Take out the reply to question `turn` (a new one takes its place, or it answered other
    words)."""
    db.execute("DELETE FROM messages WHERE thread_id = ? AND turn = ? AND role = 'assistant'",
               (thread_id, turn))


class SQLiteThreadStore(SQLiteUsers, SQLiteTransfer, ThreadStore):
    def __init__(self, path, busy_timeout=5.0):
        self.path = path
        self._pool = ConnectionPool(path, busy_timeout)

    def prepare(self):
        with self._connection():
            pass

    def get_thread(self, thread_id):
        with self._connection() as db:
            return _select_thread(db, thread_id)

    def list_threads(self, limit, cursor=None, owner=None):
        sql, args = f"SELECT {LISTED_COLUMNS} FROM threads WHERE owner IS ?", [owner]
        if cursor:
            updated_at, thread_id = decode_cursor(cursor)
            sql += " AND (updated_at, thread_id) < (?, ?)"
            args += [updated_at, thread_id]
        sql += " ORDER BY updated_at DESC, thread_id DESC LIMIT ?"
        with self._connection() as db:
            rows = db.execute(sql, args + [limit + 1]).fetchall()
        return page_of([_thread(row) for row in rows], limit)

    def search_threads(self, query, limit, cursor=None, owner=None):
        before, words = decode_cursor(cursor) if cursor else None, search_words(query)
        if not words:
            return ThreadPage([], None)
        with self._connection() as db:
            index_pending(db)
            db.execute("BEGIN")  # one snapshot for the whole walk (committed on the way out)
            rows = find_threads(db, words, limit + 1, before, owner)
        return page_of([_thread(row) for row in rows], limit)

    def index_for_search(self):
        with self._connection() as db:
            index_pending(db)

    def create_thread_if_missing(self, thread_id, title, now, model=None, owner=None):
        with self._connection() as db:
            return self._create(db, thread_id, title, now, model, owner)

    @staticmethod
    def _create(db, thread_id, title, now, model, owner):
        db.execute("INSERT INTO threads (thread_id, title, created_at, updated_at, model, owner)"
                   " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING",
                   (thread_id, title, now, now, model, owner))
        return _select_thread(db, thread_id)

    def rename_thread(self, thread_id, title):
        with self._connection() as db:
            db.execute("UPDATE threads SET title = ?, title_set = 1 WHERE thread_id = ?",
                       (title, thread_id))
            return _select_thread(db, thread_id)

    def set_generated_title(self, thread_id, title):
        with self._connection() as db:
            return db.execute("UPDATE threads SET title = ? WHERE thread_id = ? AND title_set = 0",
                              (title, thread_id)).rowcount == 1

    def set_thread_model(self, thread_id, model):
        with self._connection() as db:
            db.execute("UPDATE threads SET model = ? WHERE thread_id = ?", (model, thread_id))

    def add_question(self, thread_id, title, content, now, *, model=None, claim_until=None,
                     owner=None):
        with self._connection() as db:  # one transaction, so one commit, where there were two
            thread = self._create(db, thread_id, title, now, model, owner)
            # A thread made just now was made with updatedAt `now`: nothing to bump.
            return thread, self._append(db, thread_id, "user", content, now,
                                        claim_until=claim_until, bump=thread.updated_at != now)

    def append_message(self, thread_id, role, content, now, *, reply_to=None, finish_reason=None,
                       usage=None, claim_until=None):
        with self._connection() as db:
            return self._append(db, thread_id, role, content, now, reply_to=reply_to,
                                finish_reason=finish_reason, usage=usage, claim_until=claim_until)

    def _append(self, db, thread_id, role, content, now, *, reply_to=None, finish_reason=None,
                usage=None, claim_until=None, bump=True):
        usage, turn = usage or {}, None
        if bump:
            _bump(db, thread_id, now)
        if role == "assistant":
            turn = self._question_answered(db, thread_id, reply_to)
            _delete_reply(db, thread_id, turn)
        # A question (or a reply with none to answer) is its own turn: its id, given here so
        # that one statement writes the row whole. (The transaction holds the write lock.)
        row_id = db.execute(
            "INSERT INTO messages (id, thread_id, role, content, created_at, turn, finish_reason,"
            " prompt_tokens, completion_tokens, claimed_until) SELECT next_id, ?, ?, ?, ?,"
            " coalesce(?, next_id), ?, ?, ?, ? FROM (SELECT coalesce(max(id), 0) + 1 AS next_id"
            " FROM messages)",
            (thread_id, role, content, now, turn, finish_reason, usage.get("prompt_tokens"),
             usage.get("completion_tokens"), claim_until),
        ).lastrowid
        return Message(role, content, now, finish_reason, usage or None, turn or row_id,
                       claim_until)

    @staticmethod
    def _question_answered(db, thread_id, question):
        """The turn of the question a reply answers, its claim ended. Matched by its time too:
        a row id can come back after a delete, under a new question in a new thread."""
        if question is None:
            return db.execute("SELECT max(turn) FROM messages WHERE thread_id = ?"
                              " AND role = 'user'", (thread_id,)).fetchone()[0]
        if not db.execute("UPDATE messages SET claimed_until = NULL WHERE id = ? AND thread_id = ?"
                          " AND role = 'user' AND created_at = ?",
                          (question.turn, thread_id, question.timestamp)).rowcount:
            raise ThreadNotFound(thread_id)
        return question.turn

    def messages(self, thread_id):
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? {IN_ORDER}",
                (thread_id,),
            ).fetchall()
        return [_message(row) for row in rows]

    def recent_messages(self, thread_id, max_chars, through_turn=None):
        sql, args = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?", [thread_id]
        if through_turn is not None:
            sql += " AND (turn < ? OR id = ?)"
            args += [through_turn, through_turn]
        with self._connection() as db:
            # The cursor is read lazily, so a long thread is read only as far as the budget.
            rows = db.execute(f"{sql} {NEWEST_FIRST}", args)
            return take_within_budget(map(_message, rows), max_chars)

    def last_turn(self, thread_id):
        with self._connection() as db:
            rows = db.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?"
                              f" {NEWEST_FIRST} LIMIT 2", (thread_id,)).fetchall()
        return question_and_reply([_message(row) for row in rows])

    def claim_turn(self, thread_id, turn, now, until):
        with self._connection() as db:
            return db.execute(
                "UPDATE messages SET claimed_until = ? WHERE id = ? AND thread_id = ?"
                " AND role = 'user' AND (claimed_until IS NULL OR claimed_until <= ?)",
                (until, turn, thread_id, now),
            ).rowcount == 1

    def release_turn(self, thread_id, turn):
        with self._connection() as db:
            db.execute("UPDATE messages SET claimed_until = NULL WHERE id = ? AND thread_id = ?",
                       (turn, thread_id))

    def edit_last_question(self, thread_id, content, now, claim_until):
        with self._connection() as db:
            # One statement finds the newest question and claims it, so nothing can come
            # between; it takes the write lock, which the rest of the transaction keeps.
            rows = db.execute(
                "UPDATE messages SET content = ?, created_at = ?, claimed_until = ?"
                " WHERE thread_id = ? AND role = 'user' AND turn = (SELECT max(turn) FROM"
                " messages WHERE thread_id = ? AND role = 'user')"
                " AND (claimed_until IS NULL OR claimed_until <= ?)"
                f" RETURNING {MESSAGE_COLUMNS}",
                (content, now, claim_until, thread_id, thread_id, now)).fetchall()
            if not rows:
                return self._why_not_edited(db, thread_id)
            question = _message(rows[0])
            _delete_reply(db, thread_id, question.turn)
            _bump(db, thread_id, now)
        return question

    @staticmethod
    def _why_not_edited(db, thread_id):
        if db.execute("SELECT 1 FROM messages WHERE thread_id = ? AND role = 'user' LIMIT 1",
                      (thread_id,)).fetchone():
            raise TurnInProgress()
        if _select_thread(db, thread_id) is None:
            raise ThreadNotFound(thread_id)
        return None

    def delete_thread(self, thread_id):
        with self._connection() as db:
            deleted = db.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,)).rowcount
        return bool(deleted)

    def threads_after(self, thread_id, limit):
        with self._connection() as db:
            rows = db.execute(f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id > ?"
                              " ORDER BY thread_id LIMIT ?", (thread_id or "", limit)).fetchall()
        return [_thread(row) for row in rows]

    def count_threads(self):
        with self._connection() as db:
            return db.execute("SELECT count(*) FROM threads").fetchone()[0]

    def check(self):
        self._pool.check()

    def _connection(self):
        """A pooled connection inside a transaction (committed on success, else rolled back)."""
        return self._pool.connection()
