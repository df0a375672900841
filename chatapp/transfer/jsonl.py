"""Every user and every conversation as JSON Lines (one export document a line), out of a store
and into one. The users come first, so that each conversation of a user, which names its owner
by name, finds them on the way in; it goes into the owner's own space (store/owned.py) under the
id its owner knows. Both stream: one page of threads and one conversation in memory at a time,
never the store or the file. Knows nothing of Flask or of the terminal (the CLI passes in where
to write and what to tell its progress bar)."""
import json
from dataclasses import dataclass, field, replace

from ..errors import InvalidInput, ThreadExists, UserExists
from ..json_input import parse_json
from ..store.owned import OwnedStore, split_owned_id
from ..store.users import name_key
from .document import to_document, to_user_document
from .validate import is_user_document, read_document, read_owner, read_user

PAGE_SIZE = 200  # threads read per store query while exporting
INVALID_SHOWN = 50  # a broken file can have thousands of bad lines; the first say enough
TOKENS_STAY = ("API tokens do not move: `flask --app wsgi users token NAME` gives a user "
               "a new one.")


@dataclass
class ExportReport:
    users: int = 0
    threads: int = 0
    messages: int = 0
    left_out: int = 0  # conversations of users deleted during the export: gone with them

    def summary(self, file_name):
        users = f"{count(self.users, 'user')} and " if self.users else ""
        lines = [f"Exported {users}{count(self.threads, 'conversation')} "
                 f"({count(self.messages, 'message')}) to {file_name}."]
        if self.left_out:
            lines.append(f"Left out {count(self.left_out, 'conversation')} of users deleted "
                         "meanwhile.")
        return "\n".join(lines + ([TOKENS_STAY] if self.users else []))


def export_lines(store, write, advance=lambda threads: None):
    """Write every user, then every conversation in threadId order (a key no update moves, so
    a conversation active meanwhile is never skipped), with its owner's name if it has one and
    the id its owner knows. Returns an ExportReport."""
    report, after = ExportReport(), None
    names = {user.user_id: _write_user(user, write, report) for user in store.list_users()}
    while page := store.threads_after(after, PAGE_SIZE):
        for thread in page:
            owner_id, thread_id = split_owned_id(thread.thread_id)
            owner = _owner_name(store, owner_id, names, write, report) if owner_id else None
            if owner_id and owner is None:
                report.left_out += 1
                continue
            stored = store.messages(thread.thread_id)
            write(_line(to_document(replace(thread, thread_id=thread_id), stored, owner)))
            report.threads, report.messages = report.threads + 1, report.messages + len(stored)
        advance(len(page))
        after = page[-1].thread_id
    return report


def _write_user(user, write, report):
    write(_line(to_user_document(user)))
    report.users += 1
    return user.name


def _owner_name(store, owner_id, names, write, report):
    """The name of a thread's owner; a user made after the users were written has their line
    written now, still before their conversations. None: deleted meanwhile, with their threads."""
    if owner_id not in names:
        user = store.user_by_id(owner_id)
        names[owner_id] = _write_user(user, write, report) if user else None
    return names[owner_id]


def _line(document):
    return json.dumps(document, ensure_ascii=False) + "\n"


@dataclass
class ImportReport:
    imported: int = 0
    messages: int = 0  # in the conversations imported
    existing: int = 0  # ids already in the store: those conversations are left as they were
    invalid: list = field(default_factory=list)  # (line number, what is wrong with it)
    users: int = 0  # imported
    users_existing: int = 0  # names taken in the store already: those users are left as they were

    def summary(self):
        lines = []
        if self.users or self.users_existing:  # a file from a store without accounts has none
            lines.append(f"{count(self.users, 'user')} imported, {self.users_existing:,} already "
                         f"there (left as they were). {TOKENS_STAY}")
        lines += [f"{self.imported:,} imported ({count(self.messages, 'message')}), "
                  f"{self.existing:,} already there (left as they were), "
                  f"{count(len(self.invalid), 'invalid line')}{':' if self.invalid else '.'}"]
        lines += [f"  line {number}: {problem}" for number, problem in self.invalid[:INVALID_SHOWN]]
        if len(self.invalid) > INVALID_SHOWN:
            lines.append(f"  … and {len(self.invalid) - INVALID_SHOWN:,} more.")
        return "\n".join(lines)


def count(n, noun):
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def import_lines(store, lines, max_message_chars, advance=lambda size: None):
    """Import each line (bytes): a user whose name is free, or a valid conversation whose id is
    free in its owner's space (nobody's if it names no owner); skip blank lines. A line in error
    is reported and the rest still go in. StoreUnavailable stops it all."""
    report, spaces = ImportReport(), OwnerSpaces(store)
    for number, line in enumerate(lines, 1):
        advance(len(line))
        if not line.strip():
            continue
        try:
            data = _parsed(line)
            if is_user_document(data):
                _import_user(store, read_user(data), report)
            else:
                thread, messages = read_document(data, max_message_chars)
                _import_thread(spaces.of(read_owner(data)), thread, messages, report)
        except InvalidInput as error:
            report.invalid.append((number, error.message))
    store.index_for_search()  # in one batch now, not at the first search
    return report


def _parsed(line):
    try:
        return parse_json(line)
    except InvalidInput:
        raise
    except ValueError as error:  # not UTF-8 or not JSON (JSONDecodeError is a ValueError)
        raise InvalidInput(f"not a JSON document ({error}).") from None


def _import_user(store, user, report):
    try:
        store.create_user(user)
    except UserExists:
        report.users_existing += 1
    else:
        report.users += 1


def _import_thread(space, thread, messages, report):
    try:
        space.import_thread(thread, messages)
    except ThreadExists:
        report.existing += 1
    else:
        report.imported += 1
        report.messages += len(messages)


class OwnerSpaces:
    """Where a conversation goes: the store itself for nobody's, else its owner's own space,
    the owner found by name (once per name: ids are each store's own)."""

    def __init__(self, store):
        self.store, self._found = store, {}

    def of(self, owner):
        if owner is None:
            return self.store
        if name_key(owner) not in self._found:
            user = self.store.user_named(owner)
            if user is None:
                raise InvalidInput(f'owner "{owner}" is not a user here: a user line before it, '
                                   f"or `flask --app wsgi users create {owner}`, makes one.")
            self._found[name_key(owner)] = OwnedStore(self.store, user.user_id)
        return self._found[name_key(owner)]
