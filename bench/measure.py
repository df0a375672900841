"""What every part of the benchmark shares: settings, percentiles, timed request series, the table
of figures, and readings of the processes (CPU, memory) from /proc."""
import math
import os
import time

HOST = "127.0.0.1"
STALL_MS = 30.0          # a response this slow on loopback is a Nagle/delayed-ACK stall
API_KEY = "sk-bench-not-a-real-key"
WARMUP = 30              # untimed requests before each timed series

# Settings the app reads from the environment; removed so the app's defaults apply.
APP_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_TIMEOUT", "SYSTEM_PROMPT",
           "MONGO_URI", "SQLITE_PATH", "MAX_MESSAGE_CHARS", "HISTORY_MAX_CHARS",
           "MAX_CONTENT_LENGTH", "CORS_ORIGINS", "SECRET_KEY", "LOGIN_REQUIRED",
           "RATELIMIT_CHAT", "RATELIMIT_STORAGE_URI", "OPENAI_MAX_RETRIES", "PUBLIC_URL",
           "TRUSTED_HOSTS", "PROXY_COUNT", "SQLITE_BUSY_TIMEOUT")
SIDEBAR_SIZES = {"side10": 10, "side50": 50, "side10k": 10_000}
# One app per database, all served by the one app process: "main" (turns, appends, the thread
# page), three for the sidebar, "streams" (the streamed turns) and four for search (two indexed
# at the end, two as they grew).
DATABASES = ("main", *SIDEBAR_SIZES, "streams", "search100k", "search1k", "grown100k", "grown1k")


def pct(samples, q):
    """Nearest-rank percentile of a list of numbers (NaN for none, which misses any target)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def stats(samples):
    return {"p50": pct(samples, 50), "p99": pct(samples, 99), "max": max(samples),
            "n": len(samples), "stalls": sum(1 for s in samples if s >= STALL_MS)}


def fmt(st):
    return (f"p50 {st['p50']:7.2f}  p99 {st['p99']:7.2f}  max {st['max']:7.2f} ms"
            f"  (n={st['n']}, >= {STALL_MS:.0f} ms: {st['stalls']})")


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


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, target, ok, unit="ms", note=""):
        """A figure against its target; `value` a number in `unit`, or text shown as it is."""
        if isinstance(value, str):
            shown = value
        else:
            shown = f"{value:.2f} {unit}" if unit == "ms" else f"{value:.2f}{unit}"
        self.rows.append((figure, f"{shown} {note}".rstrip(), target, "PASS" if ok else "MISS"))

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


def cpu_ticks(pid):
    """A process's user + system CPU time so far, in clock ticks (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        return int(stat[11]) + int(stat[12])
    except OSError:
        return 0


def memory_kb(pid):
    """{"VmRSS": kB, "VmHWM": kB} of a process (empty if it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in f)
                    if k in ("VmRSS", "VmHWM")}
    except OSError:
        return {}


def reset_peak_memory(pid):
    """Restart a process's VmHWM from its current VmRSS (Linux 4.0+); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class MachineLoad:
    """CPU used on this machine by processes other than the benchmark's own, during the run."""

    def __init__(self, child_pids):
        self.child_pids = child_pids
        self.others_seconds = 0.0
        self.start = self._sample()

    def add_own(self, seconds):
        """CPU seconds used by a benchmark child that has exited (its ticks are gone from /proc)."""
        self.others_seconds += seconds

    def _sample(self):
        if not os.path.exists("/proc/stat"):  # not Linux: nothing to report
            return None
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait, in clock ticks
        ticks = os.sysconf("SC_CLK_TCK")
        own = os.times()
        ours = (own.user + own.system) * ticks + sum(cpu_ticks(pid) for pid in self.child_pids)
        return time.monotonic(), busy, ours, ticks

    def report(self):
        if self.start is None:
            return 0.0, 0.0
        t0, busy0, ours0, ticks = self.start
        t1, busy1, ours1, _ = self._sample()
        ours = ours1 - ours0 + self.others_seconds * ticks
        seconds = (t1 - t0) * ticks * (os.cpu_count() or 1)
        others = max(0.0, (busy1 - busy0) - ours) / seconds
        return others, ours / seconds
