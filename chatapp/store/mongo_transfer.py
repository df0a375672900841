"""A whole conversation into the MongoDB store at once (chatapp.transfer's import). Mixed into
MongoThreadStore, whose collections and `_guard` it uses."""
from bson import ObjectId
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..errors import ThreadExists
from ..models import from_iso
from .base import imported_turns


def _message_doc(thread_id, message, seq, turn):
    """An imported message as append_message stores one (its _id made here, so that a failed
    import can take out exactly what it put in)."""
    doc = {"_id": ObjectId(), "threadId": thread_id, "seq": seq, "turn": turn,
           "role": message.role, "content": message.content,
           "timestamp": from_iso(message.timestamp)}
    if message.finish_reason:
        doc["finishReason"] = message.finish_reason
    if message.usage:
        doc["usage"] = message.usage
    return doc


def _duplicate(error):
    """A unique index refused a write (alone, or within a bulk insert)."""
    details = getattr(error, "details", None) or {}
    return isinstance(error, DuplicateKeyError) or any(
        failure.get("code") == 11000 for failure in details.get("writeErrors", []))



class MongoTransfer:
    def import_thread(self, thread, messages, owner=None):
        """A standalone server has no transactions, so the order gives all or nothing: the
        messages go in first (unlisted), then the thread; if it cannot go in, they come out."""
        seqs = range(1, len(messages) + 1)
        docs = [_message_doc(thread.thread_id, m, seq, turn)
                for m, seq, turn in zip(messages, seqs, imported_turns(messages, seqs))]
        with self._guard():
            if self.threads.count_documents({"threadId": thread.thread_id}, limit=1):
                raise ThreadExists(thread.thread_id)
            try:
                if docs:
                    self.messages_.insert_many(docs)
                self.threads.insert_one({
                    "threadId": thread.thread_id, "title": thread.title,
                    "createdAt": from_iso(thread.created_at),
                    "updatedAt": from_iso(thread.updated_at),
                    "messageCount": len(messages),  # the next message appended takes seq n + 1
                    "model": thread.model, "titleSet": thread.title_set, "owner": owner})
            except PyMongoError as error:
                self.messages_.delete_many({"_id": {"$in": [doc["_id"] for doc in docs]}})
                if _duplicate(error):
                    raise ThreadExists(thread.thread_id) from None  # created meanwhile
                raise
        return thread
