"""Errors a person can read. Each carries the HTTP status and code the JSON API answers with."""
from contextlib import contextmanager

import click


class ChatAppError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message, *, status=None, code=None):
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.code = code or self.code


class InvalidInput(ChatAppError):
    status = 400
    code = "bad_request"


class ThreadNotFound(ChatAppError):
    status = 404
    code = "not_found"

    def __init__(self, thread_id):
        super().__init__(f"No conversation has the id {thread_id!r}.")
        self.thread_id = thread_id


class ThreadExists(ChatAppError):
    """An imported conversation's id is taken: importing never overwrites a conversation."""
    status = 409
    code = "thread_exists"

    def __init__(self, thread_id):
        super().__init__(f"A conversation with the id {thread_id!r} exists already; delete it "
                         "first to import this one in its place.")
        self.thread_id = thread_id


class UserExists(ChatAppError):
    status = 409
    code = "user_exists"

    def __init__(self, name):
        super().__init__(f"There is already a user named {name!r}.")


class Unauthorized(ChatAppError):
    """LOGIN_REQUIRED is on and the request is nobody's (chatapp/auth.py)."""
    status = 401
    code = "unauthorized"


class CrossSiteRefused(ChatAppError):
    """A write to the API made with the session cookie from another site."""
    status = 403
    code = "cross_site"


class TurnInProgress(ChatAppError):
    status = 409
    code = "turn_in_progress"

    def __init__(self):
        super().__init__("This message is being answered right now. Wait for the reply.")


class StoreUnavailable(ChatAppError):
    status = 503
    code = "database_unavailable"

    def __init__(self, message="The database is not reachable right now. Try again shortly."):
        super().__init__(message)


class ModelError(ChatAppError):
    """Any failure to get a reply from the model; `kind` says which one."""

    # Out of credit is like no key: nothing changes until whoever runs the server acts.
    STATUS_BY_KIND = {"not_configured": 503, "out_of_credit": 503, "timeout": 504}
    CODE_BY_KIND = {"not_configured": "model_not_configured",
                    "out_of_credit": "model_out_of_credit", "timeout": "upstream_timeout"}

    def __init__(self, kind, message):
        super().__init__(message, status=self.STATUS_BY_KIND.get(kind, 502),
                         code=self.CODE_BY_KIND.get(kind, "upstream_error"))
        self.kind = kind


class UnsupportedMediaType(ChatAppError):
    status = 415
    code = "unsupported_media_type"


@contextmanager
def errors_said():
    """In a command: an error a person can read (a refused name, a database that is down) ends
    it with that message, not a traceback. (What a command had stored by then stays.)"""
    try:
        yield
    except ChatAppError as error:
        raise click.ClickException(error.message) from error
