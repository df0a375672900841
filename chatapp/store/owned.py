"""One user's view of a store: every thread they name is theirs, whoever else has a thread of
that name. A user's thread `abc` is kept as `<their id>:abc`, and a thread id a client sends
cannot hold `:` (THREAD_ID_PATTERN), so no request can name another user's thread: it names one
of its own, existing or not. Another user's conversation therefore answers exactly as a missing
one does (the same code, the same answer, the same time), and `POST /api/chat` with its id
starts the sender's own conversation of that id. Lists and searches read the owner's threads
through the store's `owner` argument (an index leads with it).

Threads made with sign-in off, or before accounts, have no owner and plain ids; the store is
used directly for them (no OwnedStore), as before accounts existed."""
from dataclasses import replace

from ..errors import ThreadExists, ThreadNotFound
from .base import ThreadPage

SEPARATOR = ":"


def owned_id(owner, thread_id):
    return f"{owner}{SEPARATOR}{thread_id}"


def split_owned_id(stored_id):
    """(owner, the id its owner knows) of a stored thread id: (None, the id) for nobody's."""
    owner, separator, thread_id = stored_id.partition(SEPARATOR)
    return (owner, thread_id) if separator else (None, stored_id)


class OwnedStore:
    """The ThreadStore methods of one owner's threads, over the whole store (`store`)."""

    def __init__(self, store, owner):
        self.store, self.owner = store, owner
        self._prefix = owned_id(owner, "")

    def _in(self, thread_id):
        return self._prefix + thread_id

    def _out(self, thread):
        return replace(thread, thread_id=thread.thread_id[len(self._prefix):]) if thread else None

    def _page(self, page):
        return ThreadPage([self._out(thread) for thread in page.threads], page.next_cursor)

    def _on(self, method, thread_id, *args, **kwargs):
        """The store's `method` on the owner's thread `thread_id`; an error names it as they do."""
        try:
            return getattr(self.store, method)(self._in(thread_id), *args, **kwargs)
        except ThreadNotFound:
            raise ThreadNotFound(thread_id) from None

    def get_thread(self, thread_id):
        return self._out(self._on("get_thread", thread_id))

    def list_threads(self, limit, cursor=None):
        return self._page(self.store.list_threads(limit, cursor, owner=self.owner))

    def search_threads(self, query, limit, cursor=None):
        return self._page(self.store.search_threads(query, limit, cursor, owner=self.owner))

    def create_thread_if_missing(self, thread_id, title, now, model=None):
        return self._out(self._on("create_thread_if_missing", thread_id, title, now, model,
                                  owner=self.owner))

    def add_question(self, thread_id, title, content, now, **options):
        thread, question = self._on("add_question", thread_id, title, content, now,
                                    owner=self.owner, **options)
        return self._out(thread), question

    def rename_thread(self, thread_id, title):
        return self._out(self._on("rename_thread", thread_id, title))

    def set_generated_title(self, thread_id, title):
        return self._on("set_generated_title", thread_id, title)

    def set_thread_model(self, thread_id, model):
        return self._on("set_thread_model", thread_id, model)

    def append_message(self, thread_id, role, content, now, **options):
        return self._on("append_message", thread_id, role, content, now, **options)

    def messages(self, thread_id):
        return self._on("messages", thread_id)

    def recent_messages(self, thread_id, max_chars, through_turn=None):
        return self._on("recent_messages", thread_id, max_chars, through_turn)

    def last_turn(self, thread_id):
        return self._on("last_turn", thread_id)

    def claim_turn(self, thread_id, turn, now, until):
        return self._on("claim_turn", thread_id, turn, now, until)

    def release_turn(self, thread_id, turn):
        return self._on("release_turn", thread_id, turn)

    def edit_last_question(self, thread_id, content, now, claim_until):
        return self._on("edit_last_question", thread_id, content, now, claim_until)

    def delete_thread(self, thread_id):
        return self._on("delete_thread", thread_id)

    def import_thread(self, thread, messages):
        try:
            stored = self.store.import_thread(
                replace(thread, thread_id=self._in(thread.thread_id)), messages, owner=self.owner)
        except ThreadExists:
            raise ThreadExists(thread.thread_id) from None
        return self._out(stored)

    def index_for_search(self):
        self.store.index_for_search()
