"""Plain request/response figures: the stall check, the sidebar at 10 to 10,000 threads, a turn's
overhead over the upstream it calls, a turn into a long thread, and the thread page."""
import json
import random
import time

from measure import (API_KEY, SIDEBAR_SIZES, WARMUP, ConnectionCounter, fmt, interleaved, session,
                     timed)
from seed import Seeder, assistant_text, user_text

# How many timed requests per series (after WARMUP untimed ones).
N_TURN = 500
N_SIDEBAR = 300
N_APPEND = 300
N_STORE_APPEND = 500
N_PAGE = 150
N_NAGLE = 200
TURNS = (WARMUP + N_TURN) + 2 * (WARMUP + N_APPEND)  # the turns that call the upstream


def request_figures(info, table):
    from chatapp.models import utc_now
    from chatapp.store.sqlite import SQLiteThreadStore

    connects = ConnectionCounter()
    main = info["apps"]["main"]
    seed = Seeder(info["db"]["main"])
    upstream = info["upstream"] + "/chat/completions"
    rng = random.Random(1)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    own_upstream = 0

    def upstream_body(messages):
        return {"model": info["model"], "messages": messages}

    # --- 1. Nagle / delayed-ACK check ------------------------------------------------------
    print("1. Stall check (Nagle against delayed ACK; a stall shows as ~40 ms on loopback)")
    seed.threads(10)
    s = session()
    small = upstream_body([{"role": "user", "content": user_text(rng)}])
    big = upstream_body([{"role": "user" if i % 2 == 0 else "assistant",
                          "content": user_text(rng) if i % 2 == 0 else assistant_text(rng)}
                         for i in range(96)])  # ~48 kB of history, as a long thread sends
    up, conns = connects.during(lambda: interleaved({
        "small": lambda: s.post(upstream, json=small, headers=auth),
        "big": lambda: s.post(upstream, json=big, headers=auth),
    }, N_NAGLE, warmup=10))
    own_upstream += conns
    print(f"   upstream POST, 1-message body     {fmt(up['small'])}")
    print(f"   upstream POST, {len(json.dumps(big)) // 1000} kB body         {fmt(up['big'])}")
    print(f"   upstream keep-alive: {conns} TCP connection(s) for {2 * (N_NAGLE + 10)} requests")
    s = session()
    keep_alive = s.get(main + "/api/thread").headers.get("Connection", "keep-alive")
    app_get, conns = connects.during(
        lambda: interleaved({"get": lambda: s.get(main + "/api/thread")}, N_NAGLE, warmup=10))
    app_get = app_get["get"]
    print(f"   app GET /api/thread (gevent)      {fmt(app_get)}")
    print(f"      answers Connection: {keep_alive!r}; {conns} TCP connection(s) for "
          f"{N_NAGLE + 10} requests")
    table.info("upstream direct POST, n >= 30 ms",
               f"{up['small']['stalls'] + up['big']['stalls']} of {2 * N_NAGLE}")
    table.info("app server (gevent), n >= 30 ms", f"{app_get['stalls']} of {N_NAGLE}")
    table.info("app server keep-alive", f"Connection: {keep_alive}; {conns} connection(s)")

    # --- 2. Sidebar at 10, 50 and 10,000 threads -------------------------------------------
    s = session()
    t0 = time.perf_counter()
    for name, size in SIDEBAR_SIZES.items():
        Seeder(info["db"][name]).threads(size)
    print(f"\n2. Sidebar: GET / and GET /api/thread, interleaved across three databases "
          f"(seeded in {time.perf_counter() - t0:.1f} s)")
    series = {}
    for name in SIDEBAR_SIZES:
        url = info["apps"][name]
        series[(name, "page")] = lambda url=url: s.get(url + "/")
        series[(name, "api")] = lambda url=url: s.get(url + "/api/thread")
    side = interleaved(series, N_SIDEBAR)
    for name, size in SIDEBAR_SIZES.items():
        print(f"   {size:>6,} threads  GET /            {fmt(side[(name, 'page')])}")
        print(f"   {'':>6}          GET /api/thread  {fmt(side[(name, 'api')])}")
    for key, label in (("page", "GET /"), ("api", "GET /api/thread")):
        at10k, at10, at50 = (side[(name, key)]["p50"] for name in ("side10k", "side10", "side50"))
        table.add(f"sidebar {label} p50 at 10k threads", at10k, "<= 10 ms", at10k <= 10)
        table.add(f"sidebar {label} p50 10k / 10 threads", at10k / at10, "<= 1.3x",
                  at10k / at10 <= 1.3, "x")
        table.info(f"sidebar {label} p50 10k / 50 threads",
                   f"{at10k / at50:.2f}x (both a full page)")

    # --- 3. Turn overhead ------------------------------------------------------------------
    print("\n3. Turn overhead: POST /api/chat (new thread) vs the same upstream directly")
    turn_text = user_text(rng)
    direct = session()
    direct.post(upstream, json=small, headers=auth)  # its connection, counted once here
    own_upstream += 1
    t0 = time.perf_counter()
    turn = interleaved({
        "direct": lambda: direct.post(upstream, headers=auth, json=upstream_body(
            [{"role": "user", "content": turn_text}])),
        "chat": lambda: s.post(main + "/api/chat", json={"message": turn_text}),
    }, N_TURN)
    print(f"   direct upstream POST   {fmt(turn['direct'])}")
    print(f"   POST /api/chat         {fmt(turn['chat'])}   ({time.perf_counter() - t0:.1f} s)")
    over50 = turn["chat"]["p50"] - turn["direct"]["p50"]
    over99 = turn["chat"]["p99"] - turn["direct"]["p99"]
    print(f"   overhead p50 {over50:.2f} ms, p99 {over99:.2f} ms")
    table.add("turn overhead p50 (chat - upstream)", over50, "<= 3 ms", over50 <= 3)
    table.add("turn overhead p99 (chat - upstream)", over99, "<= 15 ms", over99 <= 15)
    # The same call's time from run to run shows how fast the machine was during this one.
    table.info("direct upstream POST p50 (machine speed)", f"{turn['direct']['p50']:.2f} ms")

    # --- 4. Append: a turn into a thread of 2,000 vs 10 messages ---------------------------
    print("\n4. Append: POST /api/chat into a thread of 10 vs 2,000 messages "
          "(each turn's two new messages removed again, untimed)")
    threads = {n: seed.thread_with_messages(n) for n in (10, 2000)}
    msg = {n: user_text(rng) for n in threads}
    app_series = {str(n): (lambda n=n: s.post(main + "/api/chat",
                                              json={"message": msg[n], "threadId": threads[n][0]}))
                  for n in threads}
    t0 = time.perf_counter()
    app_append = interleaved(app_series, N_APPEND,
                             before=lambda name, i: seed.trim(*threads[int(name)]))
    print(f"   thread of    10   {fmt(app_append['10'])}")
    print(f"   thread of 2,000   {fmt(app_append['2000'])}   ({time.perf_counter() - t0:.1f} s)")
    for n in threads:
        seed.trim(*threads[n])
    ratio = app_append["2000"]["p50"] / app_append["10"]["p50"]
    table.add("append turn p50, 2,000 / 10 messages", ratio, "<= 1.3x", ratio <= 1.3, "x")
    table.info("append turn p50 at 10 / 2,000 messages",
               f"{app_append['10']['p50']:.2f} / {app_append['2000']['p50']:.2f} ms")

    store = SQLiteThreadStore(info["db"]["main"])
    store_series = {str(n): (lambda n=n: store.append_message(threads[n][0], "user", msg[n], utc_now()))
                    for n in threads}
    hist_series = {f"h{n}": (lambda n=n: store.recent_messages(threads[n][0], info["history_max_chars"]))
                   for n in threads}
    st_append = interleaved(store_series, N_STORE_APPEND,
                            before=lambda name, i: seed.trim(*threads[int(name)]))
    st_hist = interleaved(hist_series, N_STORE_APPEND)
    for n in threads:
        seed.trim(*threads[n])
    print(f"   store.append_message, 10 msgs    {fmt(st_append['10'])}")
    print(f"   store.append_message, 2,000 msgs {fmt(st_append['2000'])}")
    print(f"   store.recent_messages, 10        {fmt(st_hist['h10'])}")
    print(f"   store.recent_messages, 2,000     {fmt(st_hist['h2000'])}")
    ratio = st_append["2000"]["p50"] / st_append["10"]["p50"]
    table.add("store.append_message p50, 2,000 / 10", ratio, "<= 1.3x", ratio <= 1.3, "x")
    table.info("store.recent_messages p50, 2,000 / 10",
               f"{st_hist['h2000']['p50'] / st_hist['h10']['p50']:.2f}x "
               f"({st_hist['h10']['p50']:.2f} / {st_hist['h2000']['p50']:.2f} ms)")

    # --- 5. Thread page at 2,000 messages --------------------------------------------------
    print("\n5. Thread page GET /thread/<id> at 2,000 messages (fresh thread, distinct messages)")
    page_id, _ = seed.thread_with_messages(2000)
    url = f"{main}/thread/{page_id}"
    cold = timed(lambda: s.get(url))
    size = len(s.get(url).content)
    page = interleaved({"page": lambda: s.get(url)}, N_PAGE, warmup=5)["page"]
    print(f"   first (cold) view {cold:.1f} ms; page is {size / 1e6:.2f} MB")
    print(f"   warm              {fmt(page)}")
    table.add("thread page p50, 2,000 msgs (warm)", page["p50"], "<= 50 ms", page["p50"] <= 50)
    table.info("thread page first (cold) view", f"{cold:.1f} ms")
    return own_upstream
