"""The flow of one turn, as in the reference design: validate, create the thread if new, store the
user's message, call the model, store the reply. Knows nothing of Flask requests."""
import logging
import re
import uuid
from dataclasses import dataclass

from .errors import InvalidInput, ModelError, ThreadNotFound
from .models import Message, Thread, utc_now

log = logging.getLogger(__name__)
THREAD_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
TITLE_MAX_CHARS = 60


def validate_thread_id(value):
    if not isinstance(value, str) or not THREAD_ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            "threadId must be a string of 1 to 64 letters, digits, '-' or '_'."
        )
    return value


def validate_message(value, max_chars):
    if not isinstance(value, str):
        raise InvalidInput("message must be a string.")
    # Browsers send a textarea's line breaks as CRLF; keep one form whatever the client.
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("message must not be empty.")
    if len(text) > max_chars:
        raise InvalidInput(
            f"message is {len(text):,} characters long; the limit is {max_chars:,}."
        )
    return text


def make_title(message):
    """The first message on one line, cut at a word near TITLE_MAX_CHARS."""
    line = " ".join(message.split())
    if len(line) <= TITLE_MAX_CHARS:
        return line
    cut = line[: TITLE_MAX_CHARS - 1]
    if " " in cut[TITLE_MAX_CHARS // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"


@dataclass(frozen=True)
class TurnResult:
    thread: Thread  # as it was when the turn began (its updatedAt is not the new one)
    reply: Message | None  # None when the model call failed; `error` says why
    error: ModelError | None = None


class ChatService:
    def __init__(self, store, model, *, max_message_chars, history_max_chars, system_prompt="",
                 clock=utc_now):
        self.store = store
        self.model = model
        self.max_message_chars = max_message_chars
        self.history_max_chars = history_max_chars
        self.system_prompt = system_prompt
        self.clock = clock

    def send(self, message, thread_id=None):
        """Run a turn. Bad input raises InvalidInput and stores nothing; a model failure comes
        back in TurnResult.error with the user's message already stored."""
        thread_id = str(uuid.uuid4()) if thread_id is None else validate_thread_id(thread_id)
        text = validate_message(message, self.max_message_chars)
        now = self.clock()
        thread = self.store.create_thread_if_missing(thread_id, make_title(text), now)
        self.store.append_message(thread_id, "user", text, now)
        return self._answer(thread)

    def retry(self, thread_id):
        """Ask the model again for a thread whose last message has no reply yet."""
        thread = self.store.get_thread(validate_thread_id(thread_id))
        if thread is None:
            raise ThreadNotFound(thread_id)
        last = self.store.recent_messages(thread_id, 0)
        if not last or last[-1].role != "user":
            raise InvalidInput("This conversation has no unanswered message to retry.")
        return self._answer(thread)

    def _answer(self, thread):
        history = self.store.recent_messages(thread.thread_id, self.history_max_chars)
        prompt = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        prompt += [{"role": m.role, "content": m.content} for m in history]
        try:
            reply_text = self.model.complete(prompt)
        except ModelError as error:
            log.warning("No reply for thread %s: %s (%s)", thread.thread_id, error.message, error.kind)
            return TurnResult(thread, None, error)
        reply = self.store.append_message(thread.thread_id, "assistant", reply_text, self.clock())
        return TurnResult(thread, reply)
