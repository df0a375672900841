"""The MongoDB store: a `threads` and a `messages` collection (messages are not embedded, so a
long conversation never rewrites or outgrows one document)."""
import logging
import threading
from contextlib import contextmanager
from datetime import timezone

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..errors import StoreUnavailable, ThreadNotFound, TurnInProgress
from ..models import Message, Thread, from_iso, to_iso
from .base import (ThreadPage, ThreadStore, decode_cursor,
                   page_of, question_and_reply, search_words, take_within_budget)
from .mongo_schema import IN_ORDER, SIDEBAR_ORDER, prepare_collections
from .mongo_search import threads_holding
from .mongo_transfer import MongoTransfer
from .mongo_users import MongoUsers, prepare_user_collections

log = logging.getLogger(__name__)
LISTED_FIELDS = {"_id": 0, "threadId": 1, "title": 1, "createdAt": 1, "updatedAt": 1}
THREAD_FIELDS = {**LISTED_FIELDS, "model": 1, "titleSet": 1}
MESSAGE_FIELDS = {"_id": 0, "role": 1, "content": 1, "timestamp": 1, "finishReason": 1,
                  "usage": 1, "turn": 1, "claimedUntil": 1}
NEWEST_FIRST = [("turn", DESCENDING), ("seq", DESCENDING)]


def _time(moment):
    """A BSON date as a time the app keeps (PyMongo hands back naive datetimes in UTC)."""
    return to_iso(moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment)


def _thread(doc):
    return Thread(doc["threadId"], doc["title"], _time(doc["createdAt"]), _time(doc["updatedAt"]),
                  doc.get("model"), bool(doc.get("titleSet")))


def _message(doc):
    claim = doc.get("claimedUntil")
    return Message(doc["role"], doc["content"], _time(doc["timestamp"]), doc.get("finishReason"),
                   doc.get("usage"), doc.get("turn"), _time(claim) if claim else None)


def _unclaimed(moment):
    """The query for a question free to claim at `moment`: never claimed, or its claim ended."""
    return {"$or": [{"claimedUntil": None}, {"claimedUntil": {"$lte": moment}}]}


def _after(cursor):
    """The query for threads after a sidebar cursor (everything without one)."""
    if not cursor:
        return {}
    stamp, thread_id = decode_cursor(cursor)
    updated_at = from_iso(stamp)
    return {"$or": [{"updatedAt": {"$lt": updated_at}},
                    {"updatedAt": updated_at, "threadId": {"$lt": thread_id}}]}


class MongoThreadStore(MongoUsers, MongoTransfer, ThreadStore):
    def __init__(self, db):
        self.threads = db["threads"]
        self.messages_ = db["messages"]
        self.users, self.tokens = db["users"], db["api_tokens"]
        self._indexes_lock = threading.Lock()
        self._indexes_ready = False

    def prepare(self):
        """Idempotent; run on first use (never at import or app creation, which may precede a
        fork) and by `flask init-db`."""
        with self._guard(check_indexes=False):
            prepare_collections(self.threads, self.messages_)
            prepare_user_collections(self.users, self.tokens)
        self._indexes_ready = True

    def check(self):
        with self._guard(check_indexes=False):  # a command needs the primary: one that writes
            self.threads.database.command("ping")

    def get_thread(self, thread_id):
        with self._guard():
            doc = self.threads.find_one({"threadId": thread_id}, THREAD_FIELDS)
        return _thread(doc) if doc else None

    def list_threads(self, limit, cursor=None, owner=None):
        query = {"owner": owner, **_after(cursor)}  # None matches threads without an owner
        with self._guard():
            docs = list(self.threads.find(query, LISTED_FIELDS).sort(SIDEBAR_ORDER).limit(limit + 1))
        return page_of([_thread(doc) for doc in docs], limit)

    def search_threads(self, query, limit, cursor=None, owner=None):
        after, words = {"owner": owner, **_after(cursor)}, search_words(query)
        with self._guard():
            ids = threads_holding(self.threads, self.messages_, words) if words else set()
            if not ids:
                return ThreadPage([], None)
            docs = list(self.threads.find({**after, "threadId": {"$in": sorted(ids)}},
                                          LISTED_FIELDS).sort(SIDEBAR_ORDER).limit(limit + 1))
        return page_of([_thread(doc) for doc in docs], limit)

    def create_thread_if_missing(self, thread_id, title, now, model=None, owner=None):
        stamp = from_iso(now)  # stored as a BSON date
        insert = {"threadId": thread_id, "title": title, "createdAt": stamp, "updatedAt": stamp,
                  "messageCount": 0, "model": model, "owner": owner}
        with self._guard():
            try:
                doc = self.threads.find_one_and_update(
                    {"threadId": thread_id}, {"$setOnInsert": insert}, THREAD_FIELDS,
                    upsert=True, return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # a racing first message created it a moment ago
                doc = self.threads.find_one({"threadId": thread_id}, THREAD_FIELDS)
        return _thread(doc)

    def rename_thread(self, thread_id, title):
        with self._guard():
            doc = self.threads.find_one_and_update(
                {"threadId": thread_id}, {"$set": {"title": title, "titleSet": True}},
                THREAD_FIELDS, return_document=ReturnDocument.AFTER)
        return _thread(doc) if doc else None

    def set_generated_title(self, thread_id, title):
        with self._guard():
            return self.threads.update_one({"threadId": thread_id, "titleSet": {"$ne": True}},
                                           {"$set": {"title": title}}).matched_count == 1

    def set_thread_model(self, thread_id, model):
        with self._guard():
            self.threads.update_one({"threadId": thread_id}, {"$set": {"model": model}})

    def append_message(self, thread_id, role, content, now, *, reply_to=None, finish_reason=None,
                       usage=None, claim_until=None):
        stamp = from_iso(now)  # stored as a BSON date
        turn = None
        with self._guard():
            if reply_to is not None:
                # Still there, and not a new question under a number reused by a new thread
                # (seq starts again at 1): matched by its time too. Answering ends its claim.
                turn = reply_to.turn
                if not self.messages_.update_one(
                        {"threadId": thread_id, "turn": turn, "role": "user",
                         "timestamp": from_iso(reply_to.timestamp)},
                        {"$unset": {"claimedUntil": ""}}).matched_count:
                    raise ThreadNotFound(thread_id)
            # One atomic step bumps updatedAt and hands out the message's sequence number.
            doc = self.threads.find_one_and_update(
                {"threadId": thread_id},
                {"$inc": {"messageCount": 1}, "$set": {"updatedAt": stamp}},
                {"_id": 0, "messageCount": 1},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                raise ThreadNotFound(thread_id)
            seq = doc["messageCount"]
            if role == "user":
                turn = seq
            elif turn is None:
                question = self.messages_.find_one({"threadId": thread_id, "role": "user"},
                                                   {"turn": 1}, sort=NEWEST_FIRST)
                turn = question["turn"] if question else seq
            message = {"threadId": thread_id, "seq": seq, "turn": turn, "role": role,
                       "content": content, "timestamp": stamp}
            if finish_reason:
                message["finishReason"] = finish_reason
            if usage:
                message["usage"] = usage
            if claim_until:
                message["claimedUntil"] = from_iso(claim_until)
            self.messages_.insert_one(message)
            if role == "assistant":  # the new reply replaces any earlier one to its question
                # Earlier by seq, not every other: two replies racing must not delete each other.
                self.messages_.delete_many({"threadId": thread_id, "turn": turn,
                                            "role": "assistant", "seq": {"$lt": seq}})
            # A delete may have run between the two steps above; then this message must go too,
            # or it would outlive its thread (see delete_thread).
            if self.threads.count_documents({"threadId": thread_id}, limit=1) == 0:
                self.messages_.delete_one({"_id": message["_id"]})
                raise ThreadNotFound(thread_id)
        return Message(role, content, now, finish_reason, usage or None, turn, claim_until)

    def messages(self, thread_id):
        with self._guard():
            docs = self.messages_.find({"threadId": thread_id}, MESSAGE_FIELDS).sort(IN_ORDER)
            return [_message(doc) for doc in docs]

    def recent_messages(self, thread_id, max_chars, through_turn=None):
        query = {"threadId": thread_id}
        if through_turn is not None:
            query["$or"] = [{"turn": {"$lt": through_turn}}, {"turn": through_turn, "role": "user"}]
        with self._guard():
            docs = self.messages_.find(query, MESSAGE_FIELDS).sort(NEWEST_FIRST).batch_size(64)
            return take_within_budget(map(_message, docs), max_chars)

    def last_turn(self, thread_id):
        with self._guard():
            docs = self.messages_.find({"threadId": thread_id}, MESSAGE_FIELDS).sort(
                NEWEST_FIRST).limit(2)
            return question_and_reply([_message(doc) for doc in docs])

    def claim_turn(self, thread_id, turn, now, until):
        with self._guard():
            return self.messages_.update_one(
                {"threadId": thread_id, "turn": turn, "role": "user", **_unclaimed(from_iso(now))},
                {"$set": {"claimedUntil": from_iso(until)}},
            ).modified_count == 1

    def release_turn(self, thread_id, turn):
        with self._guard():
            self.messages_.update_one({"threadId": thread_id, "turn": turn, "role": "user"},
                                      {"$unset": {"claimedUntil": ""}})

    def edit_last_question(self, thread_id, content, now, claim_until):
        """Without transactions, the claim is the step that decides: one update of the
        question document edits and claims it, or changes nothing if it is claimed. Only then
        does its reply go, so no other turn can act on it in between, and a reply to the old
        wording cannot land (its question's time no longer matches). A question sent in the
        same instant may come after the edited one, as if sent just after the edit."""
        stamp = from_iso(now)
        with self._guard():
            last = self.messages_.find_one({"threadId": thread_id, "role": "user"},
                                           {"turn": 1}, sort=NEWEST_FIRST)
            if last is None:
                if not self.threads.count_documents({"threadId": thread_id}, limit=1):
                    raise ThreadNotFound(thread_id)
                return None
            if not self.messages_.update_one(
                    {"_id": last["_id"], **_unclaimed(stamp)},
                    {"$set": {"content": content, "timestamp": stamp,
                              "claimedUntil": from_iso(claim_until)}}).matched_count:
                if not self.threads.count_documents({"threadId": thread_id}, limit=1):
                    raise ThreadNotFound(thread_id)  # deleted a moment ago
                raise TurnInProgress()
            self.messages_.delete_many({"threadId": thread_id, "turn": last["turn"],
                                        "role": "assistant"})
            if not self.threads.update_one({"threadId": thread_id},
                                           {"$set": {"updatedAt": stamp}}).matched_count:
                raise ThreadNotFound(thread_id)
        return Message("user", content, now, None, None, last["turn"], claim_until)

    def delete_thread(self, thread_id):
        """Messages, then the thread, then messages again: an append racing this either lands
        before the second sweep or finds its thread gone and removes its own message. If this
        stops half way, the thread is still listed and deleting it again finishes the job."""
        with self._guard():
            self.messages_.delete_many({"threadId": thread_id})
            deleted = self.threads.delete_one({"threadId": thread_id}).deleted_count
            self.messages_.delete_many({"threadId": thread_id})
        return bool(deleted)

    def threads_after(self, thread_id, limit):
        with self._guard():
            docs = self.threads.find({"threadId": {"$gt": thread_id or ""}}, THREAD_FIELDS).sort(
                "threadId", ASCENDING).limit(limit)
            return [_thread(doc) for doc in docs]

    def count_threads(self):
        with self._guard():
            return self.threads.estimated_document_count()

    @contextmanager
    def _guard(self, check_indexes=True):
        """Create indexes on first use, and turn any driver failure into StoreUnavailable."""
        if check_indexes and not self._indexes_ready:
            with self._indexes_lock:
                if not self._indexes_ready:
                    self.prepare()
        try:
            yield
        except PyMongoError as error:
            log.error("MongoDB error: %s", error)
            raise StoreUnavailable() from error
