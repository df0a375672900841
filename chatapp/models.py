"""The records the app keeps: threads and messages, as the reference design names them, and users.

A time is kept as the text the API shows: ISO 8601 in UTC to the millisecond, such as
`2026-11-26T21:34:37.123Z` (the form JavaScript's Date.toISOString gives). Its width is fixed, so
text order is time order. Nothing in the app does arithmetic on times; holding datetimes would
only parse and format them again on every row of every page. SQLite stores the text as it is;
MongoDB stores a BSON date, converted at its boundary with `to_iso`/`from_iso`.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


def to_iso(moment):
    """An aware datetime as a time the app keeps (cut to the millisecond)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def from_iso(text):
    """A time's text as an aware UTC datetime; ValueError if it is not ISO 8601."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)  # 3.11+ reads the "Z"


def parse_time(text):
    """A time from outside (ISO 8601 with its zone) as a time the app keeps; ValueError if it is
    not one, or has no UTC time the app can keep (0001-01-01T00:00+01:00 is in year 0 in UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # a local time, but whose?
        raise ValueError(f"{text!r} has no time zone")
    try:
        return to_iso(moment)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range in UTC") from None


def utc_now():
    """Now, as a time the app keeps."""
    return to_iso(datetime.now(timezone.utc))


def seconds_after(moment, seconds):
    """A time the app keeps, `seconds` after another."""
    return to_iso(from_iso(moment) + timedelta(seconds=seconds))


# Why an assistant message ended: the upstream's own reasons, or one of ours.
FINISHED_WHOLE = ("stop", "length", "content_filter", "tool_calls", "function_call")
INTERRUPTED = "interrupted"  # the person pressed Stop, or the client went away
FAILED = "failed"  # the upstream broke off midway
CUT_SHORT = (INTERRUPTED, FAILED)


@dataclass(frozen=True)
class Thread:
    thread_id: str
    title: str
    created_at: str  # times as described above
    updated_at: str
    model: str | None = None  # the model this conversation asks; None: the configured default
    title_set: bool = False  # named by the person: a generated title never replaces it

    def to_json(self):
        return {"threadId": self.thread_id, "title": self.title,
                "createdAt": self.created_at, "updatedAt": self.updated_at}


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str
    timestamp: str
    finish_reason: str | None = None  # assistant only: see FINISHED_WHOLE and CUT_SHORT
    usage: dict | None = None  # {"prompt_tokens", "completion_tokens"} when the upstream said
    # The store's key for the question a message belongs to (a question's own, or the one a
    # reply answers). A reply sits right after its question whatever was asked meanwhile.
    turn: int | None = field(default=None, compare=False, repr=False)
    # A question only: until when it is claimed by a turn answering it (see ChatService).
    claimed_until: str | None = field(default=None, compare=False, repr=False)

    @property
    def cut_short(self):
        return self.finish_reason in CUT_SHORT

    def to_json(self):
        data = {"role": self.role, "content": self.content, "timestamp": self.timestamp}
        if self.role == "assistant":
            data["finishReason"] = self.finish_reason or "stop"
            if self.usage:
                data["usage"] = self.usage
        return data


@dataclass(frozen=True)
class User:
    user_id: str  # fixed for life (a name could be reused after a delete; an id never is)
    name: str
    password_hash: str = field(repr=False)  # werkzeug's scrypt hash; the password is never kept
    created_at: str = ""
