"""Streamed turns: POST /api/chat with "stream": true, answered with server-sent events (`thread`,
a `token` per piece, then `done` or `error`), against the "streams" app and its own database.

- First-token delay: streams one after another; the upstream stamps each content chunk with its
  send time (time.perf_counter, which is CLOCK_MONOTONIC: one clock for all processes on Linux)
  and the client subtracts that from its own perf_counter when it parses the first `token` event.
- Many at once: a client process (bench/stream_client.py) runs N streams of T tokens, E ms
  apart, all at once, while this process samples the sidebar (GET /, GET /api/thread) and the
  app process's memory and CPU.
"""
import json
import os
import subprocess
import sys
import threading
import time

from measure import WARMUP, cpu_ticks, fmt, memory_kb, pct, reset_peak_memory, session, stats
from stream_client import Client, stamp_of

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stream_client.py")
N_FIRST = 300            # sequential streams per first-token series
FIRST_TOKEN_TURNS = 2 * (WARMUP + N_FIRST)  # both series, warm-up included
GAP_MS = 5               # the upstream's pause before the first token, in the "waiting" series
N_STREAMS, N_TOKENS, EVERY_MS = 200, 40, 50
STREAM_LIMIT_S = 5.0     # each of the many streams must be done within this
SAMPLE_EVERY_S = 0.02    # the sidebar sampler starts a request this often (or when the last ends)
IDLE_SAMPLE_S = 1.5      # the same sampler without the streams, for comparison


def one_stream(client, message):
    """Stream one turn; return (ms from the upstream's first chunk to the first token event,
    ms from the POST to the thread event)."""
    names, first, thread = [], [], []
    start = time.perf_counter()

    def on_event(name, data):
        if name == "token" and not first:
            first.append((time.perf_counter() - stamp_of(data)) * 1000)
        elif name == "thread":
            thread.append((time.perf_counter() - start) * 1000)
        names.append(name)

    response = client.stream({"message": message, "stream": True}, on_event)
    if response.status != 200 or not first or names[:1] != ["thread"] or names[-1:] != ["done"]:
        raise RuntimeError(f"a stream went wrong: HTTP {response.status}, events {names[:3]}"
                           f"...{names[-1:]}, {response.text()[:300]}")
    return first[0], thread[0]


def first_token(info, table):
    """First-token delay, two series interleaved: the upstream's first token comes GAP_MS after
    its headers (as a model thinks first: the app is waiting, so this is the pure relay), or in
    the same write as its headers (the delay then includes the app taking the upstream's answer
    in hand)."""
    print(f"\n6. First-token delay: the client's first `token` event minus the upstream's first "
          f"chunk ({N_FIRST} sequential streams per series, each a new thread)")
    client = Client(info["apps"]["streams"])
    series = {"waiting": f"#stream tokens=5 gap_ms={GAP_MS}", "with headers": "#stream tokens=5"}
    delays = {name: [] for name in series}
    to_thread = []
    t0 = time.perf_counter()
    for i in range(WARMUP + N_FIRST):
        for name, message in series.items():
            delay, thread_ms = one_stream(client, message)
            if i >= WARMUP:
                delays[name].append(delay)
                to_thread.append(thread_ms)
    client.close()
    waiting, immediate, thread = stats(delays["waiting"]), stats(delays["with headers"]), stats(to_thread)
    print(f"   first token {GAP_MS} ms after the headers  {fmt(waiting)}")
    print(f"   first token with the headers     {fmt(immediate)}   "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"   POST to the `thread` event       {fmt(thread)}")
    n = f"(n={waiting['n']})"
    table.add("stream first-token delay p50", waiting["p50"], "<= 1 ms", waiting["p50"] <= 1, note=n)
    table.add("stream first-token delay p99", waiting["p99"], "<= 10 ms", waiting["p99"] <= 10, note=n)
    table.info("first-token delay, token with headers",
               f"p50 {immediate['p50']:.2f} / p99 {immediate['p99']:.2f} ms")
    table.info("stream POST to `thread` event", f"p50 {thread['p50']:.2f} / p99 {thread['p99']:.2f} ms")


class Sampler:
    """GET / and GET /api/thread in turn, one starting every SAMPLE_EVERY_S (or as soon as the
    one before ends), on one keep-alive connection, until stopped."""

    def __init__(self, url):
        self.url = url
        self.session = session()

    def run(self, until):
        times = {"/": [], "/api/thread": []}
        failures = 0
        next_at = time.perf_counter()
        while not until():
            for path, samples in times.items():
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at = time.perf_counter() + SAMPLE_EVERY_S
                start = time.perf_counter()
                try:
                    ok = self.session.get(self.url + path, timeout=30).status_code == 200
                except Exception:
                    ok = False
                if ok:
                    samples.append((time.perf_counter() - start) * 1000)
                else:
                    failures += 1
        return times, failures


class MemoryWatch(threading.Thread):
    """The highest VmRSS of a process, read every 20 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = memory_kb(pid).get("VmRSS", 0)
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.02):
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid).get("VmRSS", 0))


def many_streams(info, table, app_pid, upstream, load):
    """N_STREAMS streams at once from a client process, while this one samples the sidebar and
    the app's memory. `upstream` is the upstream's process (its .pid, and .ask("counts"))."""
    print(f"\n7. {N_STREAMS} streams at once ({N_TOKENS} tokens {EVERY_MS} ms apart, "
          f"{(N_TOKENS - 1) * EVERY_MS / 1000:.2f} s each) from a client process, while this "
          f"process samples GET / and GET /api/thread every {SAMPLE_EVERY_S * 1000:.0f} ms")
    url = info["apps"]["streams"]
    sampler = Sampler(url)
    deadline = time.perf_counter() + IDLE_SAMPLE_S
    idle, _ = sampler.run(lambda: time.perf_counter() > deadline)

    connections_before = upstream.ask("counts")["connections"]
    memory_before = memory_kb(app_pid)
    hwm_reset = reset_peak_memory(app_pid)
    watch = MemoryWatch(app_pid)
    watch.start()
    cpu_before = {pid: cpu_ticks(pid) for pid in (app_pid, upstream.pid)}
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, CLIENT, url, str(N_STREAMS), str(N_TOKENS),
                              str(EVERY_MS)],
                             stdout=subprocess.PIPE, text=True)
    output = []
    reader = threading.Thread(target=lambda: output.append(child.stdout.read()), daemon=True)
    reader.start()
    busy, failures = sampler.run(lambda: child.poll() is not None)
    reader.join(timeout=30)
    child.wait(timeout=30)
    seconds = time.perf_counter() - t0
    cpu = {pid: (cpu_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK") / seconds
           for pid, ticks in cpu_before.items()}
    watch.stopped.set()
    watch.join()
    memory_after = memory_kb(app_pid)
    peak_kb = max(watch.peak_kb, memory_after.get("VmHWM", 0) if hwm_reset else 0)
    new_connections = upstream.ask("counts")["connections"] - connections_before
    result = json.loads(output[0] or "null") if output else None
    if not result:
        raise RuntimeError(f"the stream client failed (exit status {child.returncode})")
    load.add_own(result["cpu_seconds"])

    done, failed = result["done"], result["failed"]
    print(f"   {done} of {N_STREAMS} done, {failed} failed"
          + (f" (first: {result['first_error']})" if failed else ""))
    print(f"   each stream, POST to `done`       p50 {result['seconds_p50']:.2f}  "
          f"max {result['seconds_max']:.2f} s   (connect max {result['connect_max_ms']:.1f} ms)")
    print(f"   POST to the first token           p50 {result['first_p50_ms']:7.2f}  "
          f"max {result['first_max_ms']:7.2f} ms")
    print(f"   each token, upstream to client    p50 {result['lag_p50_ms']:7.2f}  "
          f"p99 {result['lag_p99_ms']:7.2f}  max {result['lag_max_ms']:7.2f} ms  "
          f"(n={result['tokens']})")
    print(f"   app process memory: VmRSS {memory_before.get('VmRSS', 0) / 1024:.0f} MB before, "
          f"peak {peak_kb / 1024:.0f} MB, {memory_after.get('VmRSS', 0) / 1024:.0f} MB after "
          f"(VmHWM {'reset before the run' if hwm_reset else 'not resettable: sampled VmRSS'})")
    print(f"   CPU over the {seconds:.1f} s, in one core: app {cpu[app_pid]:.0%}, upstream "
          f"{cpu[upstream.pid]:.0%}, stream client {result['cpu_seconds'] / seconds:.0%}")
    print(f"   app -> upstream: {new_connections} new TCP connections for {N_STREAMS} streams")
    for path in busy:
        print(f"   GET {path:<11} idle   p50 {pct(idle[path], 50):6.2f}  p99 "
              f"{pct(idle[path], 99):6.2f} ms (n={len(idle[path])});   during the streams p50 "
              f"{pct(busy[path], 50):6.2f}  p99 {pct(busy[path], 99):6.2f}  max "
              f"{pct(busy[path], 100):6.2f} ms (n={len(busy[path])}, {failures} failed)")

    all_ok = done == N_STREAMS and failed == 0
    table.add(f"{N_STREAMS} streams at once: done / failed", f"{done} / {failed}",
              f"{N_STREAMS} / 0", all_ok)
    slowest = result["seconds_max"]
    table.add("  slowest stream, POST to done", slowest, f"<= {STREAM_LIMIT_S:g} s",
              slowest <= STREAM_LIMIT_S and all_ok, unit=" s")
    table.add("  app peak memory (VmHWM)", peak_kb / 1024, "<= 200 MB", peak_kb <= 200 * 1024,
              unit=" MB", note=f"(before: {memory_before.get('VmRSS', 0) / 1024:.0f} MB)")
    for path in busy:
        p50, p99 = pct(busy[path], 50), pct(busy[path], 99)
        table.add(f"  GET {path} p50 meanwhile", p50, "<= 50 ms", p50 <= 50 and not failures,
                  note=f"(p99 {p99:.1f}, n={len(busy[path])})")
    table.info("  POST to first token, all at once",
               f"p50 {result['first_p50_ms']:.0f} / max {result['first_max_ms']:.0f} ms")
    table.info("  token relay lag under load",
               f"p50 {result['lag_p50_ms']:.2f} / p99 {result['lag_p99_ms']:.2f} ms")
    table.info("  CPU (one core = 100%)", f"app {cpu[app_pid]:.0%}, upstream "
               f"{cpu[upstream.pid]:.0%}, client {result['cpu_seconds'] / seconds:.0%}")
    table.info("  app -> upstream connections", f"{new_connections} for {N_STREAMS} streams")
