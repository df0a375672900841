"""The shapes the JSON API reads and writes, as JSON Schema (2020-12, as OpenAPI 3.1 has it), for
the description at GET /api/openapi.json. Limits come from the modules that enforce them, and
the few that are settings from the app's config, so the description says what this server does.

Bodies the app reads allow properties beyond those named (it ignores them); bodies it writes
name every property (a new one must be described here, or tests/test_openapi*.py fail)."""
from ..config import model_choices
from ..json_input import INT64
from ..titles import RENAME_MAX_CHARS
from ..transfer.document import FORMAT, VERSION
from ..transfer.validate import FINISH_REASON_MAX_CHARS, MODEL_MAX_CHARS, REPLY_MAX_CHARS

# Holds a character that is not white space as Python's str.strip() sees it (so "a message that
# is only spaces" is refused exactly where this pattern does not match).
NOT_BLANK = "[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
THREAD_ID = "^[A-Za-z0-9_-]{1,64}$"  # chat.THREAD_ID_PATTERN
KEPT_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def text(description, max_chars, **more):
    """A string a person writes: not blank, and at most `max_chars` long (the app counts once
    trimmed, so it takes a little more than this says: spaces around the limit)."""
    return {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": NOT_BLANK,
            "description": description, **more}


def record(properties, required=None, closed=True, **more):
    """An object with these properties, all required unless `required` says which; `closed`:
    no others (what the app writes)."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return {**schema, **more}


def schemas(config):
    """components/schemas for this app's settings."""
    max_message = config["MAX_MESSAGE_CHARS"]
    models = model_choices(config)
    thread_id = {"type": "string", "pattern": THREAD_ID,
                 "description": "1 to 64 letters, digits, `-` or `_`."}
    kept_time = {"type": "string", "format": "date-time", "pattern": KEPT_TIME,
                 "description": "ISO 8601 in UTC, to the millisecond.", "examples": [
                     "2026-11-26T21:34:37.123Z"]}
    usage = record({"prompt_tokens": {"type": ["integer", "null"]},
                    "completion_tokens": {"type": ["integer", "null"]}},
                   description="The tokens a reply took, as the model service reported them.")
    return {
        "ThreadId": thread_id,
        "Time": kept_time,
        "Usage": usage,
        "Thread": record({"threadId": ref("ThreadId"), "title": {"type": "string"},
                          "createdAt": ref("Time"), "updatedAt": ref("Time")},
                         description="A conversation as the list shows it."),
        "Message": {"oneOf": [
            record({"role": {"const": "user"}, "content": {"type": "string"},
                    "timestamp": ref("Time")}),
            record({"role": {"const": "assistant"}, "content": {"type": "string"},
                    "timestamp": ref("Time"),
                    "finishReason": {"type": "string", "description": (
                        "The model service's own (`stop`, `length`, `content_filter`), "
                        "`interrupted` (the client went away) or `failed` (the model service "
                        "broke off); the text so far is kept in the last two cases.")},
                    "usage": ref("Usage")}, required=["role", "content", "timestamp",
                                                      "finishReason"])]},
        "Reply": record({"threadId": ref("ThreadId"), "title": {"type": "string"},
                         "reply": {"type": "string"}, "timestamp": ref("Time")},
                        description="A reply, stored whole."),
        "Deleted": record({"success": {"const": "Thread deleted successfully"},
                           "threadId": ref("ThreadId")}),
        "Error": error_schema(),
        "Health": health_schema(),
        "ChatRequest": record({
            "message": text(f"The question: at most {max_message:,} characters once trimmed.",
                            max_message, examples=["Tell me a joke about computer science"]),
            "threadId": {"oneOf": [ref("ThreadId"), {"type": "null"}], "description": (
                "The conversation to ask in; none or an unknown one: a new conversation "
                "(with this id, if given).")},
            "model": {"enum": [*models, None],
                      "description": "One of the models offered; the conversation keeps it."},
            "stream": {"type": "boolean", "default": False,
                       "description": "true: answer as server-sent events."},
        }, required=["message"], closed=False),
        "RenameRequest": record({"title": text(
            f"The new title: at most {RENAME_MAX_CHARS} characters once trimmed and on one line.",
            RENAME_MAX_CHARS, examples=["Jokes for the team"])}, closed=False),
        "RegenerateRequest": record({"stream": {"type": "boolean", "default": False}},
                                    required=[], closed=False),
        "EditRequest": record({
            "content": text(f"The new words: at most {max_message:,} characters once trimmed.",
                            max_message, examples=["Tell me a joke about databases"]),
            "stream": {"type": "boolean", "default": False}}, required=["content"],
            closed=False),
        "Export": export_schema(max_message),
        **stream_event_schemas(),
    }


def error_schema():
    return record({"error": record({
        "code": {"type": "string"},
        "message": {"type": "string",
                    "description": "What went wrong, in words a person can read."},
        "threadId": {**ref("ThreadId"), "description": (
            "After a model failure: the conversation where the question is stored.")},
    }, required=["code", "message"])})


def health_schema():
    return record({
        "status": {"enum": ["ok", "unavailable"]},
        "database": record({"kind": {"enum": ["sqlite", "mongodb"]}, "ok": {"type": "boolean"}}),
        "model": record({"configured": {"type": "boolean"}}),
    })


def export_schema(max_message):
    """The export document (GET .../export?format=json), which POST /api/thread/import reads
    back; an import may leave out those not required."""
    when = {"type": "string", "format": "date-time",
            "description": "ISO 8601 with a time zone (kept in UTC, to the millisecond)."}
    kept = {"role", "content", "timestamp"}
    question = record({
        "role": {"const": "user"},
        "content": text(f"At most {max_message:,} characters.", max_message),
        "timestamp": when,
        "finishReason": {"type": "null"}, "usage": {"type": "null"}}, required=sorted(kept),
        closed=False)
    count = {"type": ["integer", "null"], "minimum": 0, "maximum": INT64.stop - 1}
    reply = record({
        "role": {"const": "assistant"},
        "content": {"type": "string", "maxLength": REPLY_MAX_CHARS},
        "timestamp": when,
        "finishReason": {"type": ["string", "null"], "minLength": 1,
                         "maxLength": FINISH_REASON_MAX_CHARS},
        "usage": {"oneOf": [{"type": "null"}, record(
            {"prompt_tokens": count, "completion_tokens": count}, required=[])]},
    }, required=sorted(kept), closed=False)
    return record({
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "threadId": ref("ThreadId"),
        "title": text(f"At most {RENAME_MAX_CHARS} characters.", RENAME_MAX_CHARS),
        "createdAt": when,
        "updatedAt": when,
        "model": {"oneOf": [{"type": "null"}, {**text("", MODEL_MAX_CHARS),
                                                "description": "The model it asks."}]},
        "titleSet": {"type": "boolean", "description": "Named by the person."},
        "messages": {"type": "array", "items": {"oneOf": [question, reply]},
                     "description": "In order: each reply right after its question."},
    }, required=["threadId", "title", "createdAt", "updatedAt", "messages"], closed=False)


def stream_event_schemas():
    """The `data` of each server-sent event of a streamed reply, by its event name; and
    StreamEvent, one event (its name and its data, a line of JSON), as a streamed answer's
    `schema` describes it (OpenAPI 3.1 has no `itemSchema` yet; tools read it so)."""
    names = {"thread": "ThreadEvent", "token": "TokenEvent", "done": "DoneEvent",
             "error": "ErrorEvent"}
    event = {"oneOf": [record({"event": {"const": name}, "data": {
        "type": "string", "contentMediaType": "application/json",
        "contentSchema": ref(data)}}, required=["event", "data"], closed=False)
        for name, data in names.items()]}
    return {
        "StreamEvent": event,
        "ThreadEvent": record({"threadId": ref("ThreadId"), "title": {"type": "string"}}),
        "TokenEvent": record({"delta": {"type": "string"}}),
        "DoneEvent": record({
            "threadId": ref("ThreadId"), "title": {"type": "string"},
            "reply": {"type": "string"}, "timestamp": ref("Time"),
            "html": {"type": "string", "description": "The reply as safe HTML."},
            "finishReason": {"type": "string"},
            "usage": {"oneOf": [{"type": "null"}, ref("Usage")]}}),
        "ErrorEvent": record({"error": record({"code": {"type": "string"},
                                               "message": {"type": "string"}}),
                              "threadId": ref("ThreadId")}),
    }
