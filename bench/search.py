"""Search figures: GET /api/thread?q=<two words> at 10,000 threads / 100,000 messages and at
100 threads / 1,000 messages (SQLite), interleaved, each database served as the others are.

The words are the seed's common ones (bench/seed.py's WORDS), each in about half of all messages
and nearly every thread: the case where reading every match and sorting would cost most. Also
shown, as info: a query with a rare word, one with a word no message holds, the plain list of the
same database, and search_threads called directly (no HTTP).

The databases are filled with raw SQL, many messages to a statement, and indexed by the store as
the app indexes them: at a search, whatever was written since the last one, in one batch. The
targets are measured on a history indexed at once, as after `flask import` (or a first search on
a database an older chatapp made). Shown too, as info: the same histories indexed as they grew,
a search every GROWN_BATCH messages, which leaves the index in more segments (each probe looks a
word up in every segment)."""
import json
import random
import sqlite3
import time

from chatapp.store.sqlite import SQLiteThreadStore
from measure import fmt, interleaved, session
from seed import SET_TURNS, Seeder, assistant_text, user_text

SIZES = {"search100k": (10_000, 10), "search1k": (100, 10)}  # threads, messages each
GROWN = {"grown100k": "search100k", "grown1k": "search1k"}  # the same, indexed as they grew
GROWN_BATCH = 200
QUERIES = ["sqlite index", "python error", "cache token", "deploy server", "session cookie",
           "query table", "render template", "client response"]
N_SEARCH = 300
POOL = 4000  # distinct questions and replies drawn from (writing 100,000 would take ~10 s)


def seed(path, threads, per_thread, pool, batch=None):
    """`threads` threads as the sidebar's (Seeder.threads), each with `per_thread` messages
    drawn from `pool`, questions and replies in turn, indexed by the store at the end or, with
    `batch`, after every `batch` messages. Returns the index's segment count."""
    seeder = Seeder(path)
    rng = random.Random(5)
    thread_ids = seeder.threads(threads)
    rows = [[thread_id, "user" if i % 2 == 0 else "assistant", rng.choice(pool[i % 2]),
             "2024-06-01T00:00:00.000Z"] for thread_id in thread_ids for i in range(per_thread)]
    store, step = SQLiteThreadStore(path), batch or 10_000
    for at in range(0, len(rows), step):
        with seeder.db:
            seeder.db.execute(
                "INSERT INTO messages (thread_id, role, content, created_at)"
                " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)",
                (json.dumps(rows[at:at + step]),))
            seeder.db.execute(f"{SET_TURNS} WHERE turn IS NULL")
        if batch:
            store.index_for_search()
    store.index_for_search()
    segments = seeder.db.execute("SELECT count(DISTINCT segid) FROM search_idx").fetchone()[0]
    seeder.db.close()
    return segments


def matches(path, word):
    """How many messages and threads hold the word."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT count(*), count(DISTINCT rowid >> 32) FROM search"
                          " WHERE search MATCH ? AND rowid & 4294967295 != 0", (f'"{word}"',))
        return rows.fetchone()
    finally:
        db.close()


def figures(info, table):
    rng = random.Random(11)
    pool = ([user_text(rng) for _ in range(POOL)], [assistant_text(rng) for _ in range(POOL)])
    t0 = time.perf_counter()
    segments = {name: seed(info["db"][name], *size, pool) for name, size in SIZES.items()}
    seeded = time.perf_counter() - t0
    t0 = time.perf_counter()
    segments.update({name: seed(info["db"][name], *SIZES[like], pool, GROWN_BATCH)
                     for name, like in GROWN.items()})
    grown = time.perf_counter() - t0
    print(f"\n9. Search: GET /api/thread?q=<two common words>, interleaved across two databases "
          f"(seeded and indexed in {seeded:.1f} s; grown {GROWN_BATCH} messages a search in "
          f"{grown:.1f} s; index segments: " + ", ".join(f"{n} {c}" for n, c in segments.items())
          + ")")
    big = info["db"]["search100k"]
    for word in ("sqlite", "index", "error"):
        messages, threads = matches(big, word)
        print(f"   {word!r} is in {messages:,} messages of 100,000, "
              f"in {threads:,} threads of 10,000")

    s = session()
    turn = {name: 0 for name in (*SIZES, *GROWN)}

    def search(name, words=None):
        def get():
            turn[name] += 1
            q = words or QUERIES[turn[name] % len(QUERIES)]
            return s.get(info["apps"][name] + "/api/thread", params={"q": q})
        return get

    first = s.get(info["apps"]["search100k"] + "/api/thread", params={"q": QUERIES[0]})
    if len(first.json()) != info["threads_per_page"] or "Link" not in first.headers:
        raise RuntimeError(f"the search did not fill a page: {first.status_code} "
                           f"{first.text[:200]}")
    runs = interleaved({name: search(name) for name in SIZES}, N_SEARCH)
    for name, (threads, per) in SIZES.items():
        print(f"   {threads:>6,} threads, {threads * per:>7,} messages  {fmt(runs[name])}")
    at_big, at_small = runs["search100k"]["p50"], runs["search1k"]["p50"]
    table.add("search p50, 2 words, 10k threads / 100k msgs", at_big, "<= 20 ms", at_big <= 20)
    table.add("search p50, 100k / 1k messages", at_big / at_small, "<= 2x",
              at_big / at_small <= 2, "x", note=f"({at_small:.2f} ms at 1k)")

    grown_runs = interleaved({name: search(name) for name in GROWN}, N_SEARCH)
    for name, like in GROWN.items():
        print(f"   as grown, {like[6:]:>4} messages      {fmt(grown_runs[name])}")
    at_big, at_small = grown_runs["grown100k"]["p50"], grown_runs["grown1k"]["p50"]
    table.info(f"search p50 as grown ({GROWN_BATCH} msgs a search), 100k / 1k",
               f"{at_big:.2f} / {at_small:.2f} ms = {at_big / at_small:.2f}x")

    url = info["apps"]["search100k"] + "/api/thread"
    others = interleaved({
        "rare": search("search100k", "sqlite zebra_cache"),  # a word in no message
        "one": lambda: s.get(url, params={"q": "python"}),
        "list": lambda: s.get(url),
    }, N_SEARCH // 3)
    print(f"   100k, a word no message holds    {fmt(others['rare'])}")
    print(f"   100k, one common word            {fmt(others['one'])}")
    print(f"   100k, the plain list (no q)      {fmt(others['list'])}")
    table.info("search p50 at 100k: no match / 1 word / no q",
               " / ".join(f"{others[k]['p50']:.2f}" for k in ("rare", "one", "list")) + " ms")

    stores = {name: SQLiteThreadStore(info["db"][name]) for name in SIZES}
    direct = interleaved({name: (lambda st=st: st.search_threads("sqlite index", 50))
                          for name, st in stores.items()}, N_SEARCH)
    table.info("store.search_threads p50, 100k / 1k msgs",
               f"{direct['search100k']['p50']:.2f} / {direct['search1k']['p50']:.2f} ms")
