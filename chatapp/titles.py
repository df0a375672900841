"""A conversation's title: at first its first message, shortened (chat.make_title); after the
first exchange, a short one the model suggests, asked for in the background so the reply never
waits for it; and at any time the person's own (`rename`), which a suggestion never replaces.
Knows nothing of Flask."""
import logging
import re
import threading
import time

from .chat import make_title, validate_thread_id
from .errors import ChatAppError, InvalidInput, ThreadNotFound

log = logging.getLogger(__name__)
RENAME_MAX_CHARS = 200
PROMPT_CLIP_CHARS = 500  # of the question and of the reply: enough to name them, and cheap
# The request starts with this, so it reads as what it is in the upstream's logs (and the
# tests' fake model server tells it from a chat by it).
TITLE_REQUEST = "Reply with a title of at most 6 words for the conversation below"
WRAPPING = " \t\"'`*#_“”‘’«»"  # quotes and Markdown a model may put around a title


def validate_title(value):
    """A title a person gave: 1 to RENAME_MAX_CHARS characters, on one line, trimmed."""
    if value is None:
        raise InvalidInput('title is required, e.g. {"title": "Trip to Rome"}.')
    if not isinstance(value, str):
        raise InvalidInput("title must be a string.")
    title = " ".join(value.split())  # one line: a title is shown in a single row
    if not title:
        raise InvalidInput("title must not be empty.")
    if len(title) > RENAME_MAX_CHARS:
        raise InvalidInput(f"title is {len(title):,} characters long (after trimming); "
                           f"the limit is {RENAME_MAX_CHARS}.")
    return title


def rename(store, thread_id, title):
    """Give a thread the person's title; the Thread. Raises InvalidInput or ThreadNotFound."""
    thread = store.rename_thread(validate_thread_id(thread_id), validate_title(title))
    if thread is None:
        raise ThreadNotFound(thread_id)
    return thread


def title_prompt(question, reply):
    """The small request for a title: one user message with the start of the exchange."""
    return [{"role": "user", "content": (
        f"{TITLE_REQUEST}, in the language it is written in. Reply with the title only: no "
        f"quotes, no full stop.\n\nQuestion: {_clip(question)}\n\nAnswer: {_clip(reply)}")}]


def clean_title(text):
    """The model's answer as a title (its first line, unwrapped, ≤ 60 characters), or None."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^\W*title\W*:", "", line.strip(), flags=re.IGNORECASE)
    line = " ".join(line.strip(WRAPPING).rstrip(".").strip(WRAPPING).split())
    return make_title(line) if line else None


def _clip(text):
    return text if len(text) <= PROMPT_CLIP_CHARS else text[:PROMPT_CLIP_CHARS] + "…"


class TitleMaker:
    """Asks the model to name each new conversation once its first reply is stored."""

    def __init__(self, client, title_model=None):
        self.client = client
        self.title_model = title_model  # None: ask the conversation's own model
        self._tasks = set()
        self._lock = threading.Lock()

    def after_reply(self, store, turn, reply, model):
        """Start naming the thread if this reply ends its first exchange; the background
        task, or None. A daemon thread (a greenlet under `make run`), so nothing waits.
        `store`: the one the turn ran on (one user's conversations, or nobody's)."""
        thread, question = turn.thread, turn.question
        # The title is still the placeholder this very question gave it: the first exchange
        # (or its Retry). Named by the person, or named already: nothing to do.
        if thread.title_set or thread.title != make_title(question.content):
            return None
        task = threading.Thread(target=self._name, daemon=True, name="title",
                                args=(store, thread.thread_id, question.content,
                                      reply.content, self.title_model or model))
        with self._lock:
            self._tasks.add(task)
        task.start()
        return task

    def wait(self, timeout=10.0):
        """Wait until the titles being asked for are stored or given up; True if they are."""
        deadline = time.monotonic() + timeout
        with self._lock:
            tasks = list(self._tasks)
        for task in tasks:
            task.join(max(0.0, deadline - time.monotonic()))
        return not any(task.is_alive() for task in tasks)

    def _name(self, store, thread_id, question, reply, model):
        # Under gevent a new thread runs at once, until it first waits: yield first, so the
        # reply is written out before any of this work is done.
        time.sleep(0)
        try:
            title = clean_title(self.client.complete(title_prompt(question, reply), model).text)
            if title:  # else the shortened first message stays
                store.set_generated_title(thread_id, title)
        except ChatAppError as error:  # the model or the database failed: keep the placeholder
            log.info("No title for thread %s: %s", thread_id, error.message)
        except Exception:
            log.exception("Naming thread %s failed", thread_id)
        finally:
            with self._lock:
                self._tasks.discard(threading.current_thread())
