"""`flask --app wsgi users create|delete|list|token`: who may sign in, managed on the server."""
import sys

import click
from flask.cli import AppGroup

from . import accounts
from .errors import errors_said
from .models import utc_now
from .store import whole_store
from .transfer.jsonl import count  # "1 token", "2 tokens"

users = AppGroup("users", help="Manage who may sign in (see LOGIN_REQUIRED).")


@users.command("create")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def create_command(name, password_stdin):
    """Add a user NAME; asks for the password twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with errors_said():
        user = accounts.create_user(whole_store(), name, password, utc_now())
    click.echo(f"Created user {user.name}.")


@users.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(name, yes):
    """Delete user NAME, their conversations and their tokens."""
    with errors_said():
        user = _existing(name)
        if not yes:
            click.confirm(f"Delete {user.name} and all their conversations?", abort=True)
        whole_store().delete_user(user.user_id)
    click.echo(f"Deleted user {user.name}.")


@users.command("list")
def list_command():
    """Every user, with when they were made."""
    with errors_said():
        found = whole_store().list_users()
    for user in found:
        click.echo(f"{user.name}\t{user.created_at}")
    if not found:
        click.echo("No users yet: add one with `flask --app wsgi users create NAME`.", err=True)


@users.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead.")
def token_command(name, revoke):
    """Print a new personal API token for NAME (shown once: only its hash is kept)."""
    with errors_said():
        user = _existing(name)
        if revoke:
            revoked = whole_store().revoke_tokens(user.user_id)
            click.echo(f"Revoked {count(revoked, 'token')} of {user.name}.")
            return
        click.echo(accounts.new_token(whole_store(), user, utc_now()))
    click.echo("Send it as `Authorization: Bearer <token>`; it is not shown again.", err=True)


@users.command("adopt")
@click.argument("name")
def adopt_command(name):
    """Give NAME every conversation that has no owner: those made with sign-in off, or
    before accounts existed (with LOGIN_REQUIRED on, nobody else can reach them)."""
    with errors_said():
        user = _existing(name)
        given = whole_store().give_unowned_threads(user.user_id)
    click.echo(f"{user.name} now has {count(given, 'more conversation')}.")


def _existing(name):
    user = whole_store().user_named(name)
    if user is None:
        raise click.ClickException(f"There is no user named {name!r}.")
    return user
