"""The two records the app keeps, as the reference design names them.

A time is kept as the text the API shows: ISO 8601 in UTC to the millisecond, such as
`2026-11-26T21:34:37.123Z` (the form JavaScript's Date.toISOString gives). Its width is fixed, so
text order is time order. Nothing in the app does arithmetic on times; holding datetimes would
only parse and format them again on every row of every page. SQLite stores the text as it is;
MongoDB stores a BSON date, converted at its boundary with `to_iso`/`from_iso`.
"""
from dataclasses import dataclass
from datetime import datetime, timezone


def to_iso(moment):
    """An aware datetime as a time the app keeps (cut to the millisecond)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def from_iso(text):
    """A time's text as an aware UTC datetime; ValueError if it is not ISO 8601."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)  # 3.11+ reads the "Z"


def utc_now():
    """Now, as a time the app keeps."""
    return to_iso(datetime.now(timezone.utc))


@dataclass(frozen=True)
class Thread:
    thread_id: str
    title: str
    created_at: str  # times as described above
    updated_at: str

    def to_json(self):
        return {"threadId": self.thread_id, "title": self.title,
                "createdAt": self.created_at, "updatedAt": self.updated_at}


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str
    timestamp: str

    def to_json(self):
        return {"role": self.role, "content": self.content, "timestamp": self.timestamp}
