"""Reading an exported conversation back: every field checked, and the first problem raised as
InvalidInput naming the field and its place, e.g. `messages[3].role must be "user" or
"assistant"`. The same check serves POST /api/thread/import and each line of `flask import`,
whose user lines and owners (read_user, read_owner) only that command reads: the API ignores an
"owner", as a conversation imported there is always the caller's own."""
from ..accounts import NAME, check_name, new_user
from ..chat import validate_thread_id
from ..errors import InvalidInput
from ..models import Message, Thread, parse_time
from ..titles import RENAME_MAX_CHARS
from .document import FORMAT, USER_FORMAT, VERSION

TITLE_MAX_CHARS = RENAME_MAX_CHARS  # what a rename allows
MODEL_MAX_CHARS = 200
FINISH_REASON_MAX_CHARS = 64
# Replies are the model's, not the person's, so MAX_MESSAGE_CHARS does not bound them; this only
# keeps one message of a file from being absurd (a model writes far less in one reply).
REPLY_MAX_CHARS = 1_000_000
USAGE_KEYS = ("prompt_tokens", "completion_tokens")
PASSWORD_HASH_MAX_CHARS = 1024  # werkzeug's scrypt hashes are about 160


def read_document(data, max_message_chars):
    """(Thread, [Message]) from a decoded export; raises InvalidInput on the first problem."""
    if not isinstance(data, dict):
        raise InvalidInput("The conversation must be a JSON object, as "
                           "GET /api/thread/<threadId>/export?format=json gives it.")
    if data.get("format", FORMAT) != FORMAT:
        raise InvalidInput(f'format must be "{FORMAT}".')
    _version(data)
    thread_id = validate_thread_id(_required(data, "threadId"))
    thread = Thread(thread_id, _title(_required(data, "title")),
                    _time(_required(data, "createdAt"), "createdAt"),
                    _time(_required(data, "updatedAt"), "updatedAt"),
                    _model(data.get("model")), _flag(data.get("titleSet", False), "titleSet"))
    messages = _required(data, "messages")
    if not isinstance(messages, list):
        raise InvalidInput("messages must be a list (it may be empty).")
    return thread, [_message(item, f"messages[{i}]", max_message_chars)
                    for i, item in enumerate(messages)]


def is_user_document(data):
    return isinstance(data, dict) and data.get("format") == USER_FORMAT


def read_user(data):
    """A User from a user line, under a new id: ids are each store's own, and the name is what
    the user's conversations name them by. Raises InvalidInput on the first problem."""
    _version(data)
    name = check_name(_required(data, "name"))
    password_hash = _required(data, "passwordHash")
    parts = password_hash.split("$") if isinstance(password_hash, str) else []
    if len(parts) != 3 or not all(parts) or len(password_hash) > PASSWORD_HASH_MAX_CHARS:
        raise InvalidInput("passwordHash must be a password hash as chatapp keeps it "
                           "(method$salt$hash), as `flask export` writes it.")
    return new_user(name, password_hash, _time(_required(data, "createdAt"), "createdAt"))


def read_owner(data):
    """The name of the user a conversation line belongs to; None (or no "owner"): nobody."""
    owner = data.get("owner")
    if owner is not None and not (isinstance(owner, str) and NAME.fullmatch(owner)):
        raise InvalidInput("owner must be null or a user's name, as `flask export` writes it.")
    return owner


def _version(data):
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise InvalidInput(f"version must be {VERSION}; this chatapp reads no other.")


def _required(data, name, where=""):
    if name not in data:
        raise InvalidInput(f"{where}{name} is missing.")
    return data[name]


def _title(value):
    if not isinstance(value, str) or not value.strip() or len(value) > TITLE_MAX_CHARS:
        raise InvalidInput(f"title must be a string of 1 to {TITLE_MAX_CHARS} characters.")
    return value


def _time(value, name):
    """A time in ISO 8601 with its zone, as the app keeps times (UTC, to the millisecond)."""
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be a time in ISO 8601 with its time zone, "
                       "e.g. 2026-11-26T21:34:37.123Z.")


def _model(value):
    if value is not None and (not isinstance(value, str) or not value.strip()
                              or len(value) > MODEL_MAX_CHARS):
        raise InvalidInput(f"model must be null or a string of 1 to {MODEL_MAX_CHARS} characters.")
    return value


def _flag(value, name):
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false.")
    return value


def _message(item, where, max_message_chars):
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object with role, content and timestamp.")
    role = _required(item, "role", f"{where}.")
    if role not in ("user", "assistant"):
        raise InvalidInput(f'{where}.role must be "user" or "assistant".')
    content = _content(_required(item, "content", f"{where}."), role, where, max_message_chars)
    timestamp = _time(_required(item, "timestamp", f"{where}."), f"{where}.timestamp")
    finish_reason, usage = item.get("finishReason"), item.get("usage")
    if role == "user" and (finish_reason is not None or usage is not None):
        raise InvalidInput(f"{where} is a question: finishReason and usage belong to replies.")
    return Message(role, content, timestamp, _finish_reason(finish_reason, where),
                   _usage(usage, where))


def _content(value, role, where, max_message_chars):
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.content must be a string.")
    if role == "user" and not value.strip():
        raise InvalidInput(f"{where}.content must not be empty: it is a question.")
    limit = max_message_chars if role == "user" else REPLY_MAX_CHARS
    if len(value) > limit:
        raise InvalidInput(f"{where}.content is {len(value):,} characters long; "
                           f"the limit is {limit:,}.")
    return value


def _finish_reason(value, where):
    if value is not None and (not isinstance(value, str) or not value
                              or len(value) > FINISH_REASON_MAX_CHARS):
        raise InvalidInput(f"{where}.finishReason must be null or a word such as \"stop\".")
    return value


def _usage(value, where):
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(USAGE_KEYS):
        raise InvalidInput(f"{where}.usage must be null or an object of "
                           "prompt_tokens and completion_tokens.")
    for key, count in value.items():
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                                  or count < 0):
            raise InvalidInput(f"{where}.usage.{key} must be null or a whole number, 0 or more.")
    if all(value.get(key) is None for key in USAGE_KEYS):
        return None
    return {key: value.get(key) for key in USAGE_KEYS}  # both keys, as the model client gives
