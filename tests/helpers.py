"""Small helpers shared by the API and page tests."""
import socket
from datetime import datetime, timedelta, timezone

from chatapp.models import to_iso

BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


def free_port():
    """A local port nothing listens on (taken from the system, then let go): connecting to it is
    refused, and a server the test starts can listen on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


closed_port = free_port  # the name for a port to be refused on


def stepping_clock(app, start=BASE_TIME, step=timedelta(seconds=1)):
    """Give the chat service a clock that moves one second per call, so update order is exact."""
    state = {"now": start}

    def clock():
        state["now"] += step
        return to_iso(state["now"])

    app.extensions["chat_service"].clock = clock


def seed_threads(app, count):
    """`count` threads straight in the store, t000 oldest ... newest; returns ids newest first."""
    store = app.extensions["thread_store"]
    for i in range(count):
        when = to_iso(BASE_TIME + timedelta(minutes=i))
        store.create_thread_if_missing(f"t{i:03d}", f"Thread {i}", when)
        store.append_message(f"t{i:03d}", "user", f"hello {i}", when)
    return [f"t{i:03d}" for i in reversed(range(count))]


def conversation(app, thread_id, title, *contents, minute=0):
    """A thread straight in the store, its messages (user, assistant, ...) one second apart
    from BASE_TIME + `minute` on."""
    store = app.extensions["thread_store"]
    when = BASE_TIME + timedelta(minutes=minute)
    store.create_thread_if_missing(thread_id, title, to_iso(when))
    for i, content in enumerate(contents):
        store.append_message(thread_id, "user" if i % 2 == 0 else "assistant", content,
                             to_iso(when + timedelta(seconds=i + 1)))


def use_mongomock(app):
    """Make the app keep its conversations in mongomock (the same store class as MongoDB)."""
    import mongomock

    from chatapp.store import MongoThreadStore

    store = MongoThreadStore(mongomock.MongoClient()["chatapp"])
    app.extensions["thread_store"] = store
    app.extensions["chat_service"].store = store
    return app
