"""The two records the app keeps, as the reference design names them."""
from dataclasses import dataclass
from datetime import datetime, timezone


def utc_now():
    """Now in UTC, to the millisecond: the precision both stores (and MongoDB's dates) keep."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_iso(moment):
    """`2026-11-26T21:34:37.123Z`, the form JavaScript's Date.toISOString gives."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def from_iso(text):
    return datetime.fromisoformat(text).astimezone(timezone.utc)  # 3.11+ reads the "Z"


@dataclass(frozen=True)
class Thread:
    thread_id: str
    title: str
    created_at: datetime
    updated_at: datetime

    def to_json(self):
        return {
            "threadId": self.thread_id,
            "title": self.title,
            "createdAt": to_iso(self.created_at),
            "updatedAt": to_iso(self.updated_at),
        }


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str
    timestamp: datetime

    def to_json(self):
        return {"role": self.role, "content": self.content, "timestamp": to_iso(self.timestamp)}
