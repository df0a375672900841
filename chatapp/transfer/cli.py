"""`flask --app wsgi export FILE` and `flask --app wsgi import FILE`: every user and every
conversation of the configured store out to JSON Lines, and back into whatever store is
configured then (which is how a deployment moves from SQLite to MongoDB). A progress bar shows
on a terminal only. The file holds password hashes and every conversation, so an export made
as a file is readable by its owner only."""
import os
import stat
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from ..errors import errors_said
from ..store import whole_store
from .jsonl import export_lines, import_lines


class PrivateFile(click.File):
    """A file to write, readable and writable by its owner only (made so before a byte is
    written, an existing file too); '-', a pipe or a device is left as it is."""

    def __init__(self):
        super().__init__("w", encoding="utf-8", lazy=False)

    def convert(self, value, param, ctx):
        if isinstance(value, (str, os.PathLike)) and os.fspath(value) != "-":
            _make_private(os.fspath(value))
        return super().convert(value, param, ctx)


def _make_private(path):
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return  # click's own open fails the same way, and says so
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


@click.command("export")
@click.argument("file", type=PrivateFile())
@with_appcontext
def export_command(file):
    """Write every user and every conversation to FILE, one JSON document a line.

    FILE '-' is standard output. Import it with `import`, into this store or another. It holds
    password hashes: a file is made readable by its owner only. API tokens are not exported."""
    store = whole_store()
    with errors_said():
        total = store.count_threads() if _is_terminal(sys.stderr) else None
        with progress(total, "Exporting conversations", show_pos=True) as advance:
            report = export_lines(store, file.write, advance)
    file.flush()
    click.echo(report.summary(file.name), err=_is_stdout(file))


@click.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_command(file):
    """Read users and conversations from FILE into the configured store.

    FILE holds one user or conversation a line, as `export` writes it ('-': standard input); a
    user's conversations go into their own space. A user whose name, or a conversation whose
    id, is already there is left as it is, so running this twice imports nothing the second
    time. Exits 1 if any line was invalid (the others are imported)."""
    with errors_said(), progress(_size(file), "Importing conversations") as advance:
        report = import_lines(whole_store(), file, current_app.config["MAX_MESSAGE_CHARS"],
                              advance)
    click.echo(report.summary())
    if report.invalid:
        click.get_current_context().exit(1)


@contextmanager
def progress(length, label, show_pos=False, stream=None):
    """Yields `advance(n)`: a click progress bar on a terminal (stderr, so an export to standard
    output stays clean); elsewhere, as in a pipe, a log or cron, it does nothing at all."""
    stream = stream or sys.stderr
    if not _is_terminal(stream):
        yield lambda n: None
        return
    with click.progressbar(length=length, label=label, file=stream, show_pos=show_pos,
                           show_percent=length is not None) as bar:
        yield bar.update


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def _is_stdout(file):
    return file.name in ("-", "<stdout>")


def _size(file):
    """The file's size in bytes, or None for a pipe or standard input."""
    try:
        status = os.fstat(file.fileno())
    except (OSError, AttributeError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None
