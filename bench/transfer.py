"""Whole-store export and import at 10,000 threads and 100,000 messages (SQLite), timed in this
process with the code `flask export` and `flask import` run (chatapp.transfer.jsonl): the export
to a JSON Lines file, then an import of that file into a fresh database. Printed as messages
per second (info rows: there is no target). Run alone: .venv/bin/python bench/transfer.py"""
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from chatapp.config import Config  # noqa: E402
from chatapp.store import SQLiteThreadStore  # noqa: E402
from chatapp.transfer.jsonl import export_lines, import_lines  # noqa: E402
from seed import Seeder  # noqa: E402

THREADS = 10_000
MESSAGES = 100_000


def figures(tmp, table):
    source_path = os.path.join(tmp, "transfer-source.sqlite3")
    SQLiteThreadStore(source_path).prepare()
    Seeder(source_path).conversations(THREADS, MESSAGES // THREADS)
    jsonl_path = os.path.join(tmp, "transfer.jsonl")
    target = SQLiteThreadStore(os.path.join(tmp, "transfer-target.sqlite3"))
    target.prepare()

    start = time.perf_counter()
    with open(jsonl_path, "w", encoding="utf-8") as out:
        written = export_lines(SQLiteThreadStore(source_path), out.write)
    threads, messages = written.threads, written.messages
    exported = time.perf_counter() - start
    start = time.perf_counter()
    with open(jsonl_path, "rb") as lines:
        report = import_lines(target, lines, Config().MAX_MESSAGE_CHARS)
    imported = time.perf_counter() - start

    if (report.imported, report.messages, report.invalid) != (threads, messages, []):
        raise RuntimeError(f"the import did not take in what was exported: {report.summary()}")
    size = os.path.getsize(jsonl_path) / 1e6
    label = f"{threads:,} threads / {messages:,} messages"
    print(f"transfer: {label} exported in {exported:.2f} s ({size:.0f} MB of JSON Lines), "
          f"imported into a fresh SQLite file in {imported:.2f} s")
    table.info(f"export, {label}", f"{messages / exported:,.0f} messages/s ({exported:.1f} s)")
    table.info(f"import into a fresh SQLite file, {label}",
               f"{messages / imported:,.0f} messages/s ({imported:.1f} s)")


if __name__ == "__main__":
    from measure import Table

    table = Table()
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-transfer-") as tmp:
        figures(tmp, table)
    table.print()
