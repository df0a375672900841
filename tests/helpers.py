"""Small helpers shared by the API and page tests."""
from datetime import datetime, timedelta, timezone

from chatapp.models import to_iso

BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


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
