"""Search in the MongoDB store: a text index on each collection (threads' titles, messages'
content) and a `$text` query per word. The indexes have no language, so a word matches only
itself, in any case and with or without accents, with no stemming and no stop words: as the
SQLite store matches. (mongomock cannot run `$text`; tests run it on a real server.)

A text query finds documents in one collection, and a thread holds a word if its title or any
of its messages does, so each word's threads are gathered from both, intersected, and the
result read in sidebar order. This costs in proportion to the matches, which is fine for the
sizes MongoDB is chosen for here; the SQLite store reads its index newest thread first."""
from pymongo import TEXT

TEXT_INDEX = {"default_language": "none", "name": "search"}


def create_text_indexes(threads, messages):
    threads.create_index([("title", TEXT)], **TEXT_INDEX)
    messages.create_index([("content", TEXT)], **TEXT_INDEX)


def threads_holding(threads, messages, words):
    """The ids of the threads holding every word, in a title or any message."""
    ids = None
    for word in words:
        found = _thread_ids(threads, word) | _thread_ids(messages, word)
        ids = found if ids is None else ids & found
        if not ids:
            break
    return ids or set()


def _thread_ids(collection, word):
    # A word is letters, digits and _ only (search_words), so nothing in it is text syntax.
    stages = [{"$match": {"$text": {"$search": word}}}, {"$group": {"_id": "$threadId"}}]
    return {doc["_id"] for doc in collection.aggregate(stages)}
