"""One conversation as an export: a JSON document that keeps everything the store keeps (so a
round trip loses nothing), a Markdown transcript for reading, and a safe file name for either.

The JSON document (format "chatapp.thread", version 1) is also one line of a whole-store export:
    {"format": "chatapp.thread", "version": 1, "threadId", "title", "createdAt", "updatedAt",
     "model", "titleSet", "messages": [{"role", "content", "timestamp", "finishReason", "usage"}]}
Messages are in the store's order: each question followed by its reply. A claim on a question
being answered is not exported: it is a lease of a few seconds, not part of the conversation.
Reading a document back is chatapp.transfer.validate."""
import re
import unicodedata
from urllib.parse import quote

from ..models import FAILED, INTERRUPTED

FORMAT = "chatapp.thread"
VERSION = 1
FILE_STEM_MAX_CHARS = 80
ROLE_NAMES = {"user": "You", "assistant": "Assistant"}
CUT_SHORT_WORDS = {INTERRUPTED: "stopped: cut short", FAILED: "the model broke off: incomplete",
                   "length": "cut at the length limit"}


def to_document(thread, messages):
    """The conversation as a JSON-ready dict, every stored field kept as stored."""
    return {
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
