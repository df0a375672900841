"""Errors a person can read. Each carries the HTTP status and code the JSON API answers with."""


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

    STATUS_BY_KIND = {"not_configured": 503, "timeout": 504}
    CODE_BY_KIND = {"not_configured": "model_not_configured", "timeout": "upstream_timeout"}

    def __init__(self, kind, message):
        super().__init__(message, status=self.STATUS_BY_KIND.get(kind, 502),
                         code=self.CODE_BY_KIND.get(kind, "upstream_error"))
        self.kind = kind


class UnsupportedMediaType(ChatAppError):
    status = 415
    code = "unsupported_media_type"
