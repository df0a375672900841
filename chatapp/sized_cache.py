"""A least-recently-used cache bounded by the memory its entries take, not by their number: a
count bound lets a few thousand very long values hold gigabytes."""
import sys
import threading
from collections import OrderedDict

# What an entry costs beyond its key and value (the dict slot, the ordering links, the tuple).
ENTRY_OVERHEAD_BYTES = 200


class SizedCache:
    """Holds at most `budget_bytes` of keys and values (as `sys.getsizeof` counts them), evicting
    the least recently used first. A value too big for the whole budget is not kept at all."""

    def __init__(self, budget_bytes):
        self.budget_bytes = budget_bytes
        self._entries = OrderedDict()  # key -> (value, its cost in bytes); least recent first
        self._bytes = 0
        self._lock = threading.Lock()  # gunicorn's threaded workers may share one cache

    @property
    def bytes_held(self):
        return self._bytes

    def __len__(self):
        return len(self._entries)

    def get(self, key):
        """The value kept for `key` (now the most recently used), or None. No lock: each
        OrderedDict step is atomic, and a page reads thousands of entries (the lock tripled the
        cost of a long thread's page); only put's bookkeeping needs one."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:  # pushed out by another thread's put just now: still a good value
            pass
        return entry[0]

    def put(self, key, value):
        cost = sys.getsizeof(key) + sys.getsizeof(value) + ENTRY_OVERHEAD_BYTES
        if cost > self.budget_bytes:
            return
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._bytes -= replaced[1]
            self._entries[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.budget_bytes:
                _, (_, evicted_cost) = self._entries.popitem(last=False)
                self._bytes -= evicted_cost
