"""The store contract both implementations keep (tests/test_store_contract.py checks it)."""
import base64
import binascii
import re
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..errors import InvalidInput
from ..models import parse_time
from .users import UserStore


@dataclass(frozen=True)
class ThreadPage:
    threads: list
    next_cursor: str | None  # opaque; pass back to list_threads for the following page


def encode_cursor(thread):
    """Sidebar position after `thread`: its (updatedAt, threadId), the sort key with its tie-breaker."""
    raw = f"{thread.updated_at}|{thread.thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        updated_at, thread_id = raw.split("|", 1)
        return parse_time(updated_at), thread_id  # checked, in the form times are kept
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("The page cursor is not valid; start again from the first page.") from None


def page_of(threads, limit):
    """A ThreadPage from up to limit + 1 threads in sidebar order (one more: there is a next page)."""
    shown = threads[:limit]
    return ThreadPage(shown, encode_cursor(shown[-1]) if len(threads) > limit else None)


WORD = re.compile(r"\w+")  # letters, digits and _; anything else only separates words


def search_words(query):
    """The words search_threads looks for in `query`, each once (whatever its case)."""
    words = {}
    for word in WORD.findall(unicodedata.normalize("NFC", query)):
        words.setdefault(word.casefold(), word)
    return list(words.values())


def take_within_budget(newest_first, max_chars):
    """Newest messages whose contents fit in `max_chars`, oldest first; the newest always kept."""
    kept, used = [], 0
    for message in newest_first:
        used += len(message.content)
        if kept and used > max_chars:
            break
        kept.append(message)
    kept.reverse()
    return kept


def question_and_reply(newest_first):
    """last_turn's answer from a thread's newest two messages."""
    if not newest_first:
        return None, None
    if newest_first[0].role == "user":
        return newest_first[0], None
    if len(newest_first) > 1 and newest_first[1].role == "user" \
            and newest_first[1].turn == newest_first[0].turn:
        return newest_first[1], newest_first[0]
    return None, None  # a reply with no question: only in databases older than turns


def imported_turns(messages, numbers):
    """The turn of each imported message stored under these numbers (row ids or seqs): a
    reply right after a question answers it and shares its number; any other is its own."""
    turns, previous = [], None
    for message, number in zip(messages, numbers):
        answers = message.role == "assistant" and previous is not None and previous.role == "user"
        turns.append(turns[-1] if answers else number)
        previous = message
    return turns


class ThreadStore(UserStore, ABC):
    """Threads and their messages, and the users (UserStore). Knows nothing of Flask; raises StoreUnavailable when down.
    Times in and out (`now`, createdAt...) are ISO 8601 text, as chatapp.models keeps them."""

    @abstractmethod
    def prepare(self):
        """Create the schema or indexes now (otherwise done lazily on first use)."""

    @abstractmethod
    def check(self):
        """Raise StoreUnavailable unless the database answers now and would take a write (for
        /healthz); as quick as the store's own timeouts."""

    @abstractmethod
    def get_thread(self, thread_id):
        """The Thread, or None."""

    @abstractmethod
    def list_threads(self, limit, cursor=None, owner=None):
        """A ThreadPage of `owner`'s threads (None: the threads of nobody), newest update first
        (ties by threadId), never loading messages."""

    @abstractmethod
    def search_threads(self, query, limit, cursor=None, owner=None):
        """A ThreadPage of `owner`'s threads (as list_threads) holding every word of `query` (see search_words), each
        word in the title or in any message (one word may be in the title, another in a reply),
        as a whole word, in any case and with or without accents: "deploy" finds "Deploy" and
        "déploy", not "deployed" or "redeploy". Ordered and paged as list_threads is (its
        cursors work here too). A query with no words finds nothing; nothing in it is ever read
        as search syntax (quotes, `*`, `-`, `OR`, `NEAR`... are only separators or words)."""

    @abstractmethod
    def create_thread_if_missing(self, thread_id, title, now, model=None, owner=None):
        """Atomically create the thread, `owner`'s (a user id; None: nobody's), unless it
        exists; return the stored Thread."""

    def add_question(self, thread_id, title, content, now, *, model=None, claim_until=None,
                     owner=None):
        """create_thread_if_missing, then append_message of a question: (the Thread as it was
        before the question, the question). A store that can does both in one transaction."""
        thread = self.create_thread_if_missing(thread_id, title, now, model, owner)
        return thread, self.append_message(thread_id, "user", content, now, claim_until=claim_until)

    @abstractmethod
    def rename_thread(self, thread_id, title):
        """Give the thread the person's title (a generated one never replaces it); the Thread,
        or None if there is no such thread. Its place in the list does not change."""

    @abstractmethod
    def set_generated_title(self, thread_id, title):
        """Set a title made by the model, unless the person named the thread; True if set."""

    @abstractmethod
    def set_thread_model(self, thread_id, model):
        """The model the conversation asks from now on (None: the default)."""

    @abstractmethod
    def append_message(self, thread_id, role, content, now, *, reply_to=None, finish_reason=None,
                       usage=None, claim_until=None):
        """Store a Message and set the thread's updatedAt to `now`; return it (with its `turn`).

        A user message is a new question at the end of the thread; `claim_until` claims it for
        answering at once (see claim_turn). An assistant message is the reply to the question
        `reply_to` (a Message this store gave back; default: the newest question) and sits
        right after it, replacing any earlier reply to it and ending its claim, in one atomic
        step. Raises ThreadNotFound if the thread does not exist (e.g. was just deleted), or
        if `reply_to` is no longer in it (even if a new thread has taken the id since)."""

    @abstractmethod
    def messages(self, thread_id):
        """All the thread's messages, each question followed by its reply, oldest first."""

    @abstractmethod
    def recent_messages(self, thread_id, max_chars, through_turn=None):
        """The newest messages within `max_chars` (see take_within_budget), oldest first. With
        `through_turn`, only what came before that question, and the question itself: the
        prompt for answering it, whatever was asked after it or already answered to it."""

    @abstractmethod
    def last_turn(self, thread_id):
        """(the newest question, its reply or None); (None, None) in a thread without one."""

    @abstractmethod
    def claim_turn(self, thread_id, turn, now, until):
        """Claim question `turn` for answering until `until`, unless another claim on it runs
        past `now`. True if this call got it: of claims made at once, exactly one wins."""

    @abstractmethod
    def release_turn(self, thread_id, turn):
        """End the claim on question `turn` (its answer is stored, or none will come)."""

    @abstractmethod
    def edit_last_question(self, thread_id, content, now, claim_until):
        """Give the thread's newest question new `content`, as one step: its time becomes
        `now`, its reply (if any) is deleted, it is claimed until `claim_until` (see
        claim_turn), and the thread's updatedAt becomes `now`. Returns the edited question;
        None if the thread has no question. Raises TurnInProgress if the question is claimed
        past `now` (changing nothing), ThreadNotFound if there is no such thread.

        The new time also tells the old wording from the new: a reply to the question as it
        was (append_message's `reply_to`, matched by time) is refused from now on."""

    @abstractmethod
    def delete_thread(self, thread_id):
        """Delete the thread and its messages; False if there was no such thread."""

    # --- export and import (chatapp.transfer) ---

    @abstractmethod
    def import_thread(self, thread, messages, owner=None):
        """Store a whole conversation as exported: the Thread as it is (times, model,
        title_set) and its Messages in order (times, finish reasons, usage kept). A reply
        answers the question right before it; any other message is a turn of its own. All or
        nothing: the thread is listed only with all its messages. Raises ThreadExists if its
        id is taken. Returns the stored Thread."""

    def index_for_search(self):
        """Bring the search index up to date now, rather than at the next search (SQLite
        indexes in batches; MongoDB as it writes, so there is nothing to do)."""

    @abstractmethod
    def threads_after(self, thread_id, limit):
        """Up to `limit` whole Threads in threadId order, after `thread_id` (None: from the
        first). A walk through every thread by a key that no update changes, so a
        conversation active during an export is never skipped, as it could be by the sidebar's
        order."""

    @abstractmethod
    def count_threads(self):
        """How many threads there are (for a progress bar; may be approximate while writes run)."""
