"""The MongoDB store's indexes, and what brings messages stored by an older chatapp up to date.
Run by MongoThreadStore.prepare: on first use, or by `flask init-db`."""
from pymongo import ASCENDING, DESCENDING, UpdateOne

from .mongo_search import create_text_indexes

SIDEBAR_ORDER = [("updatedAt", DESCENDING), ("threadId", DESCENDING)]
SIDEBAR_INDEX = [("owner", ASCENDING)] + SIDEBAR_ORDER  # each owner's sidebar, read in order
IN_ORDER = [("turn", ASCENDING), ("seq", ASCENDING)]


def prepare_collections(threads, messages):
    """The indexes every query needs (idempotent), then old messages given their turns."""
    threads.create_index("threadId", unique=True)
    threads.create_index(SIDEBAR_INDEX)
    if "updatedAt_-1_threadId_-1" in threads.index_information():  # the sidebar's before owners
        threads.drop_index("updatedAt_-1_threadId_-1")
    messages.create_index([("threadId", ASCENDING), ("seq", ASCENDING)], unique=True)
    messages.create_index([("threadId", ASCENDING)] + IN_ORDER)
    create_text_indexes(threads, messages)
    add_turns(messages)


def add_turns(messages):
    """Messages stored before replies streamed have no `turn`: each reply answered the message
    before it (or, alone after a race, itself). Done once, then noted in `meta`: the search
    for messages without a turn reads every message, too much for each process's start."""
    done = messages.database["meta"]
    if done.find_one({"_id": "turns"}):
        return
    old = messages.find({"turn": {"$exists": False}}, {"threadId": 1, "seq": 1, "role": 1}).sort(
        [("threadId", ASCENDING), ("seq", ASCENDING)])
    updates, previous = [], None
    for doc in old:
        turn = doc["seq"]
        if doc["role"] == "assistant" and previous and previous["threadId"] == doc["threadId"] \
                and previous["role"] == "user" and previous["seq"] == doc["seq"] - 1:
            turn = previous["seq"]
        change = {"turn": turn, **({"finishReason": "stop"} if doc["role"] == "assistant" else {})}
        updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": change}))
        previous = doc
    if updates:
        messages.bulk_write(updates, ordered=False)
    done.update_one({"_id": "turns"}, {"$set": {"done": True}}, upsert=True)
