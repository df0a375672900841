"""Realistic text and databases filled with raw SQL (much faster than through the app): threads
with titles as the app makes them, and threads of user questions (~200 characters) and replies
(~800 characters of Markdown)."""
import random
import sqlite3
from datetime import datetime, timedelta, timezone

WORDS = """the a to of and in is it you that for on with as this be are can do not your have
at how use what if or by from my but we an will when there which so one all would should about
file data function error server request thread message model python flask sqlite query index
page cache value list string number test build deploy config option user client response time
table column row key token session cookie template render code example issue problem result
because then just also like more some need want make sure check run first next each other new
set get call return read write open close start stop update delete create change without into
""".split()


def _words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng, lo=6, hi=16, end="."):
    text = _words(rng, rng.randint(lo, hi))
    return text[0].upper() + text[1:] + end


def user_text(rng, target=200):
    parts = []
    while sum(len(p) + 1 for p in parts) < target - 40:
        parts.append(_sentence(rng))
    parts.append(_sentence(rng, 5, 9, "?"))
    return " ".join(parts)


def assistant_text(rng, target=800):
    """About `target` characters of typical reply Markdown: a heading, paragraphs, a list with
    bold and inline code, and every third reply a fenced Python block."""
    parts = [f"### {_sentence(rng, 3, 6, '')}",
             " ".join(_sentence(rng) for _ in range(3)),
             "\n".join(f"- **{_words(rng, 2)}**: {_words(rng, 6)} `{rng.choice(WORDS)}()`"
                       for _ in range(3))]
    if rng.random() < 1 / 3:
        parts.append("```python\ndef {0}(x):\n    return x.{1}({2!r})\n```".format(
            rng.choice(WORDS) + "_" + rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)))
    while sum(len(p) + 2 for p in parts) < target:
        parts.append(" ".join(_sentence(rng) for _ in range(2)))
    return "\n\n".join(parts)[: target + 150]


# Turns as the app keeps them, for messages written in order a thread at a time (consecutive
# ids, question then reply): a question is its own turn, a reply its question's.
SET_TURNS = "UPDATE messages SET turn = CASE role WHEN 'user' THEN id ELSE id - 1 END"


def iso(moment):
    from chatapp.models import to_iso
    return to_iso(moment)


class Seeder:
    def __init__(self, db_path):
        self.db = sqlite3.connect(db_path, timeout=10)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.rng = random.Random(42)
        self.clock = datetime(2025, 1, 1, tzinfo=timezone.utc)
        self.serial = 0

    def thread_count(self):
        return self.db.execute("SELECT count(*) FROM threads").fetchone()[0]

    def threads(self, count):
        """`count` threads with titles as the app makes them and distinct updatedAt values
        (older than anything the app writes during the run)."""
        from chatapp.chat import make_title

        rows = []
        for _ in range(count):
            self.serial += 1
            created = self.clock + timedelta(minutes=self.serial, milliseconds=self.rng.randint(0, 59_999))
            updated = created + timedelta(seconds=self.rng.randint(1, 3_000_000), milliseconds=self.serial % 1000)
            rows.append((f"seed-{self.serial:06d}", make_title(user_text(self.rng)),
                         iso(created), iso(updated)))
        with self.db:
            self.db.executemany("INSERT INTO threads (thread_id, title, created_at, updated_at)"
                                " VALUES (?, ?, ?, ?)", rows)  # model, title_set: defaults
        return [row[0] for row in rows]

    def thread_with_messages(self, n_messages):
        """A thread of n messages, user (~200 chars) and assistant (~800, Markdown) in turn,
        every one distinct (so no render cache is warm for it): (its id, its last message's id)."""
        thread_id = self.conversations(1, n_messages)[0]
        last = self.db.execute("SELECT max(id) FROM messages WHERE thread_id = ?",
                               (thread_id,)).fetchone()[0]
        return thread_id, last

    def conversations(self, count, per_thread, batch=500):
        """`count` threads of `per_thread` messages each, user (~200 chars) and assistant (~800,
        Markdown) in turn (turns set as the app sets them), written `batch` threads at a time
        so the text is never all in memory. Returns the thread ids."""
        thread_ids = self.threads(count)
        start = datetime(2024, 6, 1, tzinfo=timezone.utc)
        times = [iso(start + timedelta(seconds=30 * i)) for i in range(per_thread)]
        with self.db:
            first = self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0]
            for at in range(0, count, batch):
                self.db.executemany(
                    "INSERT INTO messages (thread_id, role, content, created_at, finish_reason)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(thread_id, *(("user", user_text(self.rng), times[i], None) if i % 2 == 0
                                   else ("assistant", assistant_text(self.rng), times[i], "stop")))
                     for thread_id in thread_ids[at:at + batch] for i in range(per_thread)])
            self.db.execute(f"{SET_TURNS} WHERE id >= ?", (first,))
        return thread_ids

    def trim(self, thread_id, last_id):
        """Put a thread back to its seeded size (drop what a turn appended)."""
        with self.db:
            self.db.execute("DELETE FROM messages WHERE thread_id = ? AND id > ?", (thread_id, last_id))
