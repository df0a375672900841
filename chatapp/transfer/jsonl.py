"""Every conversation as JSON Lines (one export document a line), out of a store and into one.
Both stream: one page of threads and one conversation in memory at a time, never the store or
the file. Knows nothing of Flask or of the terminal (the CLI passes in where to write and what
to tell its progress bar)."""
import json
from dataclasses import dataclass, field

from ..errors import InvalidInput, ThreadExists
from ..json_input import parse_json
from .document import to_document
from .validate import read_document

PAGE_SIZE = 200  # threads read per store query while exporting
INVALID_SHOWN = 50  # a broken file can have thousands of bad lines; the first say enough


def export_lines(store, write, advance=lambda threads: None):
    """Write every conversation, in threadId order (a key no update moves, so a conversation
    active meanwhile is never skipped). Returns (threads, messages) written."""
    after, threads, messages = None, 0, 0
    while page := store.threads_after(after, PAGE_SIZE):
        for thread in page:
            stored = store.messages(thread.thread_id)
            write(json.dumps(to_document(thread, stored), ensure_ascii=False) + "\n")
            threads, messages = threads + 1, messages + len(stored)
        advance(len(page))
        after = page[-1].thread_id
    return threads, messages


@dataclass
class ImportReport:
    imported: int = 0
    messages: int = 0  # in the conversations imported
    existing: int = 0  # ids already in the store: those conversations are left as they were
    invalid: list = field(default_factory=list)  # (line number, what is wrong with it)

    def summary(self):
        lines = [f"{self.imported:,} imported ({count(self.messages, 'message')}), "
                 f"{self.existing:,} already there (left as they were), "
                 f"{count(len(self.invalid), 'invalid line')}{':' if self.invalid else '.'}"]
        lines += [f"  line {number}: {problem}" for number, problem in self.invalid[:INVALID_SHOWN]]
        if len(self.invalid) > INVALID_SHOWN:
            lines.append(f"  … and {len(self.invalid) - INVALID_SHOWN:,} more.")
        return "\n".join(lines)


def count(n, noun):
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def import_lines(store, lines, max_message_chars, advance=lambda size: None):
    """Import each line (bytes) that is a valid conversation whose id is free; skip blank lines.
    A line in error is reported and the rest still go in. StoreUnavailable stops it all."""
    report = ImportReport()
    for number, line in enumerate(lines, 1):
        advance(len(line))
        if not line.strip():
            continue
        try:
            thread, messages = read_document(parse_json(line), max_message_chars)
        except InvalidInput as error:
            report.invalid.append((number, error.message))
            continue
        except ValueError as error:  # not UTF-8 or not JSON (JSONDecodeError is a ValueError)
            report.invalid.append((number, f"not a JSON document ({error})."))
            continue
        try:
            store.import_thread(thread, messages)
        except ThreadExists:
            report.existing += 1
        else:
            report.imported += 1
            report.messages += len(messages)
    store.index_for_search()  # in one batch now, not at the first search
    return report
