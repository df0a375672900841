"""chatapp benchmark: one command, prints a table of figures against their targets.

    .venv/bin/python bench/bench.py          (or `make bench`)

Two child processes (bench/servers.py): a lean model upstream that answers at once, and the app
(SQLite in a temp dir), both on gevent, the app served by chatapp.serving as `make run` serves it.
A real upstream never shares the app's interpreter, and in the same one it would take the GIL from
the app in the middle of every turn. This process is the client: `requests` for the request/
response figures (bench/turns.py), raw sockets for the streamed ones (bench/streams.py), whose
200 streams at once come from a short-lived client process (bench/stream_client.py). Everything
listens on and talks to 127.0.0.1 only. The script reports, it does not assert: it exits 0 when a target is
missed, and a watchdog stops it if it ever hangs.
"""
import faulthandler
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from measure import APP_ENV, MachineLoad, Table  # noqa: E402
from seed import Seeder  # noqa: E402
import search  # noqa: E402
import streams  # noqa: E402
import transfer  # noqa: E402
import turns  # noqa: E402

WATCHDOG_SECONDS = 300   # the whole run takes about a minute; this only stops a hang
SERVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers.py")
STREAMS_DB_THREADS = 10_000  # the streams' database starts with as many threads as the largest sidebar


class Child:
    """A server process from bench/servers.py: its first line of output says where it listens;
    it stops when its stdin closes."""

    def __init__(self, env, *args):
        self.name = args[0]
        self.process = subprocess.Popen([sys.executable, SERVERS, *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.pid = self.process.pid
        self.started = self.answer()
        if not self.started:
            raise RuntimeError(f"the {self.name} process did not start (see its error above)")

    def answer(self):
        return json.loads(self.process.stdout.readline() or "null")

    def ask(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.answer()

    def stop(self):
        if not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run():
    import importlib.metadata as meta

    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    t_start = time.perf_counter()
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"SQLite {sqlite3.sqlite_version}, {cores} cores ({usable} usable), "
          f"{platform.system()} {platform.machine()}")
    print(f"Flask {meta.version('flask')}, gevent {meta.version('gevent')}, "
          f"requests {meta.version('requests')}, urllib3 {meta.version('urllib3')}")
    if hasattr(os, "getloadavg"):
        print("Load average before the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    tmp = tempfile.mkdtemp(prefix="chatapp-bench-")
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    children = []
    try:
        upstream = Child(env, "upstream")
        children.append(upstream)
        apps = Child(env, "apps", tmp, upstream.started["upstream"])
        children.append(apps)
        info = apps.started
        print(f"Upstream in process {upstream.pid}; apps in process {apps.pid} (gevent, "
              f"chatapp.serving as make run); SQLite in {tmp}; "
              f"HISTORY_MAX_CHARS={info['history_max_chars']:,}, "
              f"THREADS_PER_PAGE={info['threads_per_page']}")
        print()
        load = MachineLoad([upstream.pid, apps.pid])
        table = Table()

        own_upstream = turns.request_figures(info, table)
        table.info("app -> upstream TCP connections",
                   f"{upstream.ask('counts')['connections'] - own_upstream} "
                   f"for {turns.TURNS} turns")

        Seeder(info["db"]["streams"]).threads(STREAMS_DB_THREADS)
        before = upstream.ask("counts")["connections"]
        streams.first_token(info, table)
        table.info("  app -> upstream connections",
                   f"{upstream.ask('counts')['connections'] - before} "
                   f"for {streams.FIRST_TOKEN_TURNS} sequential streams")
        streams.many_streams(info, table, apps.pid, upstream, load)
        transfer.figures(tmp, table)  # in this process: what `flask export` / `import` run
        search.figures(info, table)

        others, ours = load.report()
        table.info("CPU used by other processes",
                   f"{others:.0%} of the machine (the benchmark: {ours:.0%})")
        print()
        table.print()
        if others > 0.15:
            print(f"Note: other processes used {others:.0%} of the CPU during this run, so the "
                  "figures (p99 above all) include their noise. Run again on a quiet machine.")
    finally:
        for child in children:
            child.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nTotal run time {time.perf_counter() - t_start:.1f} s. "
          "Targets missed are reported, not asserted (exit status 0).")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    run()
    sys.exit(0)
