"""chatapp benchmark: one command, prints a table of figures against their targets.

    .venv/bin/python bench/bench.py          (or `make bench`)

The fake model upstream (tests/fake_openai.FakeOpenAI, which answers at once) runs in one child
process and the app (SQLite in a temp dir, served by waitress as `make run` and
tests/live_server.py do) in another: a real upstream never shares the app's interpreter, and
here it would take the GIL from the app in the middle of every turn. This process is the client
(keep-alive requests.Session). Everything listens on and talks to 127.0.0.1 only. The script
reports, it does not assert: it exits 0 when a target is missed, and a watchdog stops it if it
ever hangs.
"""
import argparse
import faulthandler
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

HOST = "127.0.0.1"
STALL_MS = 30.0          # a response this slow on loopback is a Nagle/delayed-ACK stall
WATCHDOG_SECONDS = 300   # the whole run takes well under 2 minutes; this only stops a hang

# How many timed requests per series (after WARMUP untimed ones).
WARMUP = 30
N_TURN = 500
N_SIDEBAR = 300
N_APPEND = 300
N_STORE_APPEND = 500
N_PAGE = 150
N_NAGLE = 200

# Settings the app reads from the environment; removed so the app's defaults apply.
APP_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_TIMEOUT", "SYSTEM_PROMPT",
           "MONGO_URI", "SQLITE_PATH", "MAX_MESSAGE_CHARS", "HISTORY_MAX_CHARS",
           "MAX_CONTENT_LENGTH", "CORS_ORIGINS", "SECRET_KEY")
API_KEY = "sk-bench-not-a-real-key"
SIDEBAR_SIZES = {"side10": 10, "side50": 50, "side10k": 10_000}
DATABASES = ("main", *SIDEBAR_SIZES)

# ----------------------------------------------------------------------------- realistic text

WORDS = """the a to of and in is it you that for on with as this be are can do not your have
at how use what if or by from my but we an will when there which so one all would should about
file data function error server request thread message model python flask sqlite query index
page cache value list string number test build deploy config option user client response time
table column row key token session cookie template render code example issue problem result
because then just also like more some need want make sure check run first next each other new
set get call return read write open close start stop update delete create change without into
""".split()


def _words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng, lo=6, hi=16, end="."):
    text = _words(rng, rng.randint(lo, hi))
    return text[0].upper() + text[1:] + end


def user_text(rng, target=200):
    parts = []
    while sum(len(p) + 1 for p in parts) < target - 40:
        parts.append(_sentence(rng))
    parts.append(_sentence(rng, 5, 9, "?"))
    return " ".join(parts)


def assistant_text(rng, target=800):
    """About `target` characters of typical reply Markdown: a heading, paragraphs, a list with
    bold and inline code, and every third reply a fenced Python block."""
    parts = [f"### {_sentence(rng, 3, 6, '')}",
             " ".join(_sentence(rng) for _ in range(3)),
             "\n".join(f"- **{_words(rng, 2)}**: {_words(rng, 6)} `{rng.choice(WORDS)}()`"
                       for _ in range(3))]
    if rng.random() < 1 / 3:
        parts.append("```python\ndef {0}(x):\n    return x.{1}({2!r})\n```".format(
            rng.choice(WORDS) + "_" + rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)))
    while sum(len(p) + 2 for p in parts) < target:
        parts.append(" ".join(_sentence(rng) for _ in range(2)))
    return "\n\n".join(parts)[: target + 150]


# ----------------------------------------------------------------------------- child: servers

def serve_upstream():
    """Run the fake upstream, print its URL, and stop when stdin closes (then print how many
    TCP connections it accepted, to show whether the app reuses its connection)."""
    from tests.fake_openai import FakeOpenAI, completion

    fake = FakeOpenAI(host=HOST)
    connections = [0]
    accept = fake._server.process_request

    def counting(request, client_address):
        connections[0] += 1
        return accept(request, client_address)

    fake._server.process_request = counting  # to see whether the app reuses its connection
    fake.start()
    reply = assistant_text(random.Random(7))

    def answer(_request_json):
        fake.requests.clear()  # the fake records every request; keep memory flat
        return 200, completion(reply)

    fake.respond(answer)
    print(json.dumps({"upstream": fake.url}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    print(json.dumps({"upstream_connections": connections[0]}), flush=True)
    fake.stop()


def serve_apps(folder, upstream):
    """Run the apps, print their URLs, and stop when stdin closes.

    One app per database, each on its own server as in tests/live_server.py (waitress, as
    `make run` serves): "main" (turns, appends, the thread page) and three for the sidebar at
    10, 50 and 10,000 threads, so the sidebar figures can be measured interleaved."""
    from chatapp import create_app
    from tests.live_server import LiveServer

    for name in APP_ENV:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    apps, servers, info = {}, [], {"upstream": upstream, "apps": {}, "db": {}}
    for name in DATABASES:
        path = os.path.join(folder, f"{name}.sqlite3")
        app = create_app({
            "SECRET_KEY": "bench-secret", "SQLITE_PATH": path, "MONGO_URI": None,
            "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": upstream, "OPENAI_TIMEOUT": 10.0,
        })
        app.extensions["thread_store"].prepare()
        server = LiveServer(app, host=HOST).start()
        servers.append(server)
        apps[name] = app
        info["apps"][name], info["db"][name] = server.url, path
    config = apps["main"].config
    info.update(model=config["OPENAI_MODEL"],
                history_max_chars=config["HISTORY_MAX_CHARS"],
                threads_per_page=config["THREADS_PER_PAGE"])
    print(json.dumps(info), flush=True)

    sys.stdin.read()  # until the parent closes our stdin (or dies)
    for server in servers:
        server.stop()


# ----------------------------------------------------------------------------- measuring

def pct(samples, q):
    """Nearest-rank percentile of a list of numbers."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def stats(samples):
    return {"p50": pct(samples, 50), "p99": pct(samples, 99), "max": max(samples),
            "n": len(samples), "stalls": sum(1 for s in samples if s >= STALL_MS)}


def timed(fn):
    start = time.perf_counter()
    response = fn()
    elapsed = (time.perf_counter() - start) * 1000
    if getattr(response, "status_code", 200) != 200:
        raise RuntimeError(f"{response.request.method} {response.url} answered "
                           f"{response.status_code}: {response.text[:300]}")
    return elapsed


def interleaved(series, n, warmup=WARMUP, before=None):
    """Run each named callable n times (after `warmup` untimed rounds), alternating between them
    so that drift on the machine affects all alike. `before(name, i)` runs untimed first."""
    out = {name: [] for name in series}
    for i in range(warmup + n):
        for name, fn in series.items():
            if before:
                before(name, i)
            ms = timed(fn)
            if i >= warmup:
                out[name].append(ms)
    return {name: stats(values) for name, values in out.items()}


def session():
    import requests

    s = requests.Session()
    s.trust_env = False  # never a proxy: 127.0.0.1 only
    return s


class ConnectionCounter:
    """Counts the TCP connections this process opens (urllib3 makes each in _new_conn)."""

    def __init__(self):
        import urllib3.connection

        self.count = 0
        original = urllib3.connection.HTTPConnection._new_conn
        counter = self

        def counting(conn):
            counter.count += 1
            return original(conn)

        urllib3.connection.HTTPConnection._new_conn = counting

    def during(self, fn):
        before = self.count
        result = fn()
        return result, self.count - before


class MachineLoad:
    """CPU used on this machine by processes other than the benchmark's own, during the run."""

    def __init__(self, child_pids):
        self.child_pids = child_pids
        self.start = self._sample()

    def _sample(self):
        if not os.path.exists("/proc/stat"):  # not Linux: nothing to report
            return None
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait, in clock ticks
        ticks = os.sysconf("SC_CLK_TCK")
        own = os.times()
        ours = (own.user + own.system) * ticks
        for pid in self.child_pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read().rsplit(")", 1)[1].split()
                ours += int(stat[11]) + int(stat[12])  # the child's utime and stime
            except OSError:
                pass
        return time.monotonic(), busy, ours, ticks

    def report(self):
        if self.start is None:
            return 0.0, 0.0
        t0, busy0, ours0, ticks = self.start
        t1, busy1, ours1, _ = self._sample()
        seconds = (t1 - t0) * ticks * (os.cpu_count() or 1)
        others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / seconds
        return others, (ours1 - ours0) / seconds


# ----------------------------------------------------------------------------- seeding (raw SQL)

def iso(moment):
    from chatapp.models import to_iso
    return to_iso(moment)


class Seeder:
    def __init__(self, db_path):
        self.db = sqlite3.connect(db_path, timeout=10)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.rng = random.Random(42)
        self.clock = datetime(2025, 1, 1, tzinfo=timezone.utc)
        self.serial = 0

    def thread_count(self):
        return self.db.execute("SELECT count(*) FROM threads").fetchone()[0]

    def threads(self, count):
        """`count` threads with titles as the app makes them and distinct updatedAt values
        (older than anything the app writes during the run)."""
        from chatapp.chat import make_title

        rows = []
        for _ in range(count):
            self.serial += 1
            created = self.clock + timedelta(minutes=self.serial, milliseconds=self.rng.randint(0, 59_999))
            updated = created + timedelta(seconds=self.rng.randint(1, 3_000_000), milliseconds=self.serial % 1000)
            rows.append((f"seed-{self.serial:06d}", make_title(user_text(self.rng)),
                         iso(created), iso(updated)))
        with self.db:
            self.db.executemany("INSERT INTO threads VALUES (?, ?, ?, ?)", rows)
        return [row[0] for row in rows]

    def thread_with_messages(self, n_messages):
        """A thread of n messages, user (~200 chars) and assistant (~800, Markdown) in turn,
        every one distinct (so no render cache is warm for it)."""
        thread_id = self.threads(1)[0]
        start = datetime(2024, 6, 1, tzinfo=timezone.utc)
        rows = []
        for i in range(n_messages):
            text = user_text(self.rng) if i % 2 == 0 else assistant_text(self.rng)
            rows.append((thread_id, "user" if i % 2 == 0 else "assistant", text,
                         iso(start + timedelta(seconds=30 * i))))
        with self.db:
            self.db.executemany("INSERT INTO messages (thread_id, role, content, created_at)"
                                " VALUES (?, ?, ?, ?)", rows)
        last = self.db.execute("SELECT max(id) FROM messages WHERE thread_id = ?",
                               (thread_id,)).fetchone()[0]
        return thread_id, last

    def trim(self, thread_id, last_id):
        """Put a thread back to its seeded size (drop what a turn appended)."""
        with self.db:
            self.db.execute("DELETE FROM messages WHERE thread_id = ? AND id > ?", (thread_id, last_id))


# ----------------------------------------------------------------------------- the run

class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, target, ok, unit="ms"):
        shown = f"{value:.2f} {unit}" if unit == "ms" else f"{value:.2f}{unit}"
        self.rows.append((figure, shown, target, "PASS" if ok else "MISS"))

    def info(self, figure, shown):
        self.rows.append((figure, shown, "", "info"))

    def print(self):
        widths = [max(len(r[i]) for r in self.rows + [("Figure", "Value", "Target", "")])
                  for i in range(4)]
        line = "  ".join(["-" * w for w in widths])
        print(line)
        print("  ".join(h.ljust(w) for h, w in zip(("Figure", "Value", "Target", "Result"), widths)))
        print(line)
        for row in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        print(line)


def fmt(st):
    return (f"p50 {st['p50']:7.2f}  p99 {st['p99']:7.2f}  max {st['max']:7.2f} ms"
            f"  (n={st['n']}, >= {STALL_MS:.0f} ms: {st['stalls']})")


def run():
    import importlib.metadata as meta

    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    t_start = time.perf_counter()
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"SQLite {sqlite3.sqlite_version}, {cores} cores ({usable} usable), "
          f"{platform.system()} {platform.machine()}")
    print(f"Flask {meta.version('flask')}, waitress {meta.version('waitress')}, "
          f"requests {meta.version('requests')}, urllib3 {meta.version('urllib3')}")
    if hasattr(os, "getloadavg"):
        print("Load average before the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    tmp = tempfile.mkdtemp(prefix="chatapp-bench-")
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    children = []

    def start(*args):
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), *args],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 env=env, cwd=ROOT)
        children.append(child)
        started = json.loads(child.stdout.readline() or "null")
        if not started:
            raise RuntimeError(f"the {args[0]} process did not start (see its error above)")
        return child, started

    try:
        upstream, started = start("--upstream")
        apps, info = start("--serve", tmp, started["upstream"])
        print(f"Fake upstream in process {upstream.pid}; apps in process {apps.pid} (waitress, "
              f"as make run); SQLite in {tmp}; HISTORY_MAX_CHARS={info['history_max_chars']:,}, "
              f"THREADS_PER_PAGE={info['threads_per_page']}")
        print()
        load = MachineLoad([upstream.pid, apps.pid])
        table, turns, own_upstream = measure(info)
        others, ours = load.report()
        upstream.stdin.close()
        final = json.loads(upstream.stdout.readline() or "{}")
        if "upstream_connections" in final:
            table.info("app -> upstream TCP connections",
                       f"{final['upstream_connections'] - own_upstream} for {turns} turns")
        table.info("CPU used by other processes",
                   f"{others:.0%} of the machine (the benchmark: {ours:.0%})")
        print()
        table.print()
        if others > 0.15:
            print(f"Note: other processes used {others:.0%} of the CPU during this run, so the "
                  "figures (p99 above all) include their noise. Run again on a quiet machine.")
    finally:
        for child in children:
            if not child.stdin.closed:
                child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nTotal run time {time.perf_counter() - t_start:.1f} s. "
          "Targets missed are reported, not asserted (exit status 0).")


def measure(info):
    from chatapp.models import utc_now
    from chatapp.store.sqlite import SQLiteThreadStore

    table = Table()
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
    print(f"   app GET /api/thread (waitress)    {fmt(app_get)}")
    print(f"      answers Connection: {keep_alive!r}; {conns} TCP connection(s) for "
          f"{N_NAGLE + 10} requests")
    table.info("upstream direct POST, n >= 30 ms",
               f"{up['small']['stalls'] + up['big']['stalls']} of {2 * N_NAGLE}")
    table.info("app server (waitress), n >= 30 ms", f"{app_get['stalls']} of {N_NAGLE}")
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
        big, small, page = (side[(name, key)]["p50"] for name in ("side10k", "side10", "side50"))
        table.add(f"sidebar {label} p50 at 10k threads", big, "<= 10 ms", big <= 10)
        table.add(f"sidebar {label} p50 10k / 10 threads", big / small, "<= 1.3x",
                  big / small <= 1.3, "x")
        table.info(f"sidebar {label} p50 10k / 50 threads",
                   f"{big / page:.2f}x (both a full page)")

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
    turns = (WARMUP + N_TURN) + 2 * (WARMUP + N_APPEND)
    return table, turns, own_upstream


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="chatapp benchmark")
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "UPSTREAM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        serve_upstream()
    elif args.serve:
        serve_apps(*args.serve)
    else:
        run()
    sys.exit(0)
