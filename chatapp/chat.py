"""The flow of one turn, as in the reference design: validate, create the thread if new, store the
user's message, call the model, store the reply. Knows nothing of Flask requests. (The same turn
streamed is chatapp.streaming; it uses `begin`, `prompt` and `save_reply` from here.)

A question is claimed while it is being answered, so that one answer is asked for at a time
(Retry pressed twice makes one call). The claim is a lease in the store, not a lock in this
process: it holds across processes and lapses by itself if the process dies mid-turn."""
import copy
import logging
import re
import uuid
from dataclasses import dataclass, replace

from .errors import InvalidInput, ModelError, StoreUnavailable, ThreadNotFound, TurnInProgress
from .models import Message, Thread, seconds_after, utc_now

log = logging.getLogger(__name__)
THREAD_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
TITLE_MAX_CHARS = 60


def validate_thread_id(value):
    if not isinstance(value, str) or not THREAD_ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            "threadId must be a string of 1 to 64 letters, digits, '-' or '_'."
        )
    return value


def validate_message(value, max_chars, name="message"):
    """The text of a question (`name` is its field, for the error), trimmed; else InvalidInput."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string.")
    # Browsers send a textarea's line breaks as CRLF; keep one form whatever the client.
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(f"{name} must not be empty.")
    if len(text) > max_chars:
        raise InvalidInput(
            f"{name} is {len(text):,} characters long; the limit is {max_chars:,}."
        )
    return text


def existing_thread(store, thread_id):
    """The Thread with this id; InvalidInput if the id is malformed, ThreadNotFound if none."""
    thread = store.get_thread(validate_thread_id(thread_id))
    if thread is None:
        raise ThreadNotFound(thread_id)
    return thread


def make_title(message):
    """The first message on one line, cut at a word near TITLE_MAX_CHARS."""
    line = " ".join(message.split())
    if len(line) <= TITLE_MAX_CHARS:
        return line
    cut = line[: TITLE_MAX_CHARS - 1]
    if " " in cut[TITLE_MAX_CHARS // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"


@dataclass
class Turn:
    """A question stored and claimed for answering (the claim's end moves on: extend_claim)."""
    thread: Thread  # as it was when the turn began (its updatedAt is not the new one)
    question: Message
    claimed_until: str


@dataclass(frozen=True)
class TurnResult:
    thread: Thread  # as it was when the turn began
    reply: Message | None  # None when no reply was stored; `error` says why
    error: ModelError | StoreUnavailable | None = None  # the question is stored either way


class ChatService:
    def __init__(self, store, model, *, max_message_chars, history_max_chars, system_prompt="",
                 claim_seconds=120.0, clock=utc_now, models=None, titles=None):
        self.store = store
        self.model = model
        self.models = list(models or [model.model])  # a person may pick one; the first is default
        self.titles = titles  # a chatapp.titles.TitleMaker; None: a title stays the first message
        self.max_message_chars = max_message_chars
        self.history_max_chars = history_max_chars
        self.system_prompt = system_prompt
        self.claim_seconds = claim_seconds  # longer than any pause in a reply (OPENAI_TIMEOUT)
        self.clock = clock

    def using(self, store):
        """The same service on another store: one user's conversations (store.OwnedStore)."""
        service = copy.copy(self)
        service.store = store
        return service

    def send(self, message, thread_id=None, model=None):
        """Run a turn. Bad input raises InvalidInput and stores nothing; a model failure, or a
        reply the database would not take, comes back in TurnResult.error with the user's
        message already stored."""
        return self.answer(self.begin(message, thread_id, model))

    def retry(self, thread_id):
        """Ask the model again for a thread's last question (unanswered, or its reply cut short)."""
        return self.answer(self.begin_retry(thread_id))

    def regenerate(self, thread_id):
        """Ask again for the last question's reply, whatever it was; see begin_regenerate."""
        return self.answer(self.begin_regenerate(thread_id))

    def edit(self, thread_id, content):
        """Reword the last question and answer it anew; see begin_edit."""
        return self.answer(self.begin_edit(thread_id, content))

    def begin(self, message, thread_id=None, model=None):
        """Validate, create the thread if new (or note the model picked for it), and store the
        question, claimed."""
        thread_id = str(uuid.uuid4()) if thread_id is None else validate_thread_id(thread_id)
        text = validate_message(message, self.max_message_chars)
        model = self.validate_model(model)
        now = self.clock()
        until = self._claim_end(now)
        thread, question = self.store.add_question(thread_id, make_title(text), text, now,
                                                   model=model, claim_until=until)
        if model is not None and thread.model != model:
            self.store.set_thread_model(thread_id, model)
            thread = replace(thread, model=model)
        return Turn(thread, question, until)

    def begin_retry(self, thread_id):
        """Claim the last question of a thread whose reply is missing or cut short. Raises
        TurnInProgress if it is being answered already (e.g. Retry pressed twice)."""
        thread = self._thread(thread_id)
        question, reply = self.store.last_turn(thread_id)
        if question is None or (reply is not None and not reply.cut_short):
            raise InvalidInput("This conversation has no unanswered message to retry.")
        return self._claim(thread, question)

    def begin_regenerate(self, thread_id):
        """Claim the last question, answered or not, to be answered again. Its old reply stays
        until the new one is stored in its place, so a call that fails loses nothing."""
        thread = self._thread(thread_id)
        question, _reply = self.store.last_turn(thread_id)
        if question is None:
            raise InvalidInput("This conversation has no message to answer again.")
        return self._claim(thread, question)

    def begin_edit(self, thread_id, content):
        """Give the last question new words (and the time of the edit) and claim it; its old
        reply goes in the same step, as it answered other words. Raises TurnInProgress while
        the question is being answered."""
        thread = self._thread(thread_id)
        text = validate_message(content, self.max_message_chars, "content")
        now = self.clock()
        until = self._claim_end(now)
        question = self.store.edit_last_question(thread_id, text, now, until)
        if question is None:
            raise InvalidInput("This conversation has no message to edit.")
        return Turn(thread, question, until)

    def _thread(self, thread_id):
        return existing_thread(self.store, thread_id)

    def _claim(self, thread, question):
        """The question claimed for a turn, or TurnInProgress (e.g. a button pressed twice)."""
        now = self.clock()
        until = self._claim_end(now)
        if not self.store.claim_turn(thread.thread_id, question.turn, now, until):
            raise TurnInProgress()
        return Turn(thread, question, until)

    def prompt(self, turn):
        """What the model is sent: the system prompt, then the thread up to this question."""
        history = self.store.recent_messages(turn.thread.thread_id, self.history_max_chars,
                                             through_turn=turn.question.turn)
        prompt = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return prompt + [{"role": m.role, "content": m.content} for m in history]

    def answer(self, turn):
        """Ask the model for the whole reply and store it."""
        try:
            reply = self.model.complete(self.prompt(turn), self.model_for(turn.thread),
                                        on_retry=lambda: self.extend_claim(turn))
        except ModelError as error:
            self.give_up(turn, error)
            return TurnResult(turn.thread, None, error)
        try:
            saved = self.save_reply(turn, reply.text, reply.finish_reason, reply.usage)
        except StoreUnavailable as error:  # the reply is lost; the question stays, for a Retry
            return TurnResult(turn.thread, None, error)
        return TurnResult(turn.thread, saved)

    def save_reply(self, turn, text, finish_reason, usage=None):
        """Store the reply right after its question, which ends the claim (and, after a new
        thread's first exchange, start naming it in the background). Raises ThreadNotFound if
        the thread was deleted meanwhile, StoreUnavailable if the database failed (the
        question then freed for a Retry, if the database allows)."""
        try:
            reply = self.store.append_message(turn.thread.thread_id, "assistant", text,
                                              self.clock(), reply_to=turn.question,
                                              finish_reason=finish_reason, usage=usage)
        except StoreUnavailable:
            self._release_if_possible(turn)
            raise
        if self.titles:
            self.titles.after_reply(self.store, turn, reply, self.model_for(turn.thread))
        return reply

    def validate_model(self, model):
        """A model picked by the person (one of `models`), or None for none picked."""
        if model is not None and (not isinstance(model, str) or model not in self.models):
            raise InvalidInput(f"model must be one of: {', '.join(self.models)}.")
        return model

    def model_for(self, thread):
        """The model a thread asks: its own, unless none was picked or it is no longer offered."""
        return thread.model if thread.model in self.models else self.models[0]

    def extend_claim(self, turn):
        """Keep the turn's claim from lapsing while the turn is alive (a long reply still being
        written, a retry waiting): it ends claim_seconds from now. (Our own claim ends at
        turn.claimed_until, so it can be taken again from then.)"""
        until = self._claim_end(self.clock())
        if self.store.claim_turn(turn.thread.thread_id, turn.question.turn, turn.claimed_until,
                                 until):
            turn.claimed_until = until

    def give_up(self, turn, error):
        """No reply will be stored: say why in the log and free the question for a Retry."""
        log.warning("No reply for thread %s: %s (%s)", turn.thread.thread_id, error.message,
                    getattr(error, "kind", error.code))
        self.store.release_turn(turn.thread.thread_id, turn.question.turn)

    def _release_if_possible(self, turn):
        try:
            self.store.release_turn(turn.thread.thread_id, turn.question.turn)
        except StoreUnavailable:  # the claim lapses by itself, claim_seconds on
            pass

    def _claim_end(self, now):
        return seconds_after(now, self.claim_seconds)
