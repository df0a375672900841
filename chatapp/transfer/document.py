"""One conversation as an export: a JSON document that keeps everything the store keeps (so a
round trip loses nothing), a Markdown transcript for reading, and a safe file name for either;
and a user as a line of a whole-store export.

The JSON document (format "chatapp.thread", version 1) is also one line of a whole-store export:
    {"format": "chatapp.thread", "version": 1, "threadId", "title", "createdAt", "updatedAt",
     "model", "titleSet", "messages": [{"role", "content", "timestamp", "finishReason", "usage"}]}
Messages are in the store's order: each question followed by its reply. A claim on a question
being answered is not exported: it is a lease of a few seconds, not part of the conversation.
In a whole-store export a user's conversation also has "owner": the user's name (ids are each
store's own; a name is how people know a user). The API's export of one conversation never has it.

A user (format "chatapp.user", version 1) is {"format", "version", "name", "passwordHash",
"createdAt"}: the hash moves, so people keep their passwords; API tokens do not (`flask users
token` issues new ones). Reading a document back is chatapp.transfer.validate."""
import re
import unicodedata
from urllib.parse import quote

from ..models import FAILED, INTERRUPTED

FORMAT = "chatapp.thread"
USER_FORMAT = "chatapp.user"
VERSION = 1
FILE_STEM_MAX_CHARS = 80
ROLE_NAMES = {"user": "You", "assistant": "Assistant"}
CUT_SHORT_WORDS = {INTERRUPTED: "stopped: cut short", FAILED: "the model broke off: incomplete",
                   "length": "cut at the length limit"}


def to_document(thread, messages, owner=None):
    """The conversation as a JSON-ready dict, every stored field kept as stored; `owner`, a
    user's name, only in a whole-store export."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "threadId": thread.thread_id,
        "title": thread.title,
        "createdAt": thread.created_at,
        "updatedAt": thread.updated_at,
        "model": thread.model,
        "titleSet": thread.title_set,
        "messages": [{"role": m.role, "content": m.content, "timestamp": m.timestamp,
                      "finishReason": m.finish_reason, "usage": m.usage} for m in messages],
    }
    if owner is not None:
        document["owner"] = owner
    return document


def to_user_document(user):
    """A user as a JSON-ready dict: what signing in needs, under the name (not the store's id)."""
    return {"format": USER_FORMAT, "version": VERSION, "name": user.name,
            "passwordHash": user.password_hash, "createdAt": user.created_at}


def _when(timestamp):
    """A kept time as a person reads it on the page: 2026-11-26 21:34 UTC."""
    return timestamp[:16].replace("T", " ") + " UTC"


def to_markdown(thread, messages):
    """A readable transcript: the title, the times, then each message under who wrote it."""
    about = f"Started {_when(thread.created_at)} · last active {_when(thread.updated_at)}"
    if thread.model:
        about += f" · model {thread.model}"
    parts = [f"# {_one_line(thread.title)}", about]
    for message in messages:
        heading = f"## {ROLE_NAMES[message.role]} · {_when(message.timestamp)}"
        note = CUT_SHORT_WORDS.get(message.finish_reason)
        parts.append(f"{heading} ({note})" if note else heading)
        parts.append(message.content if message.content.strip() else "*(no text)*")
    return "\n\n".join(parts) + "\n"


def _one_line(text):
    return " ".join(text.split())


def download_name(thread, extension):
    """A file name made of the title's words (any script), safe on every system: no path
    separators, quotes, dots or control characters. `conversation` if the title has no word."""
    stem = "-".join(re.findall(r"\w+", thread.title))[:FILE_STEM_MAX_CHARS].strip("-_")
    return f"{stem or 'conversation'}.{extension}"


def content_disposition(filename):
    """An attachment header: an ASCII name for every client, and the full one (RFC 6266's
    filename*) when the title is not plain ASCII."""
    stem, extension = filename.rsplit(".", 1)
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    plain = "-".join(re.findall(r"[A-Za-z0-9]+", plain)) or "conversation"
    header = f'attachment; filename="{plain}.{extension}"'
    if plain != stem:
        header += f"; filename*=UTF-8''{quote(filename)}"
    return header
