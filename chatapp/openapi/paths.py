"""The operations of the JSON API (and GET /healthz) for the description at GET
/api/openapi.json: what each takes and every answer it gives. Errors are the shared responses of
`error_responses`; each operation lists the statuses it can give."""
from ..api import MAX_PAGE_SIZE
from ..search import MAX_QUERY_CHARS
from .schemas import ref

# status -> (component name, when, the codes its body may carry)
ERRORS = {
    400: ("BadRequest", "Bad input; the message names the field and the problem. (Also a Host "
          "outside TRUSTED_HOSTS: `untrusted_host`.)", ["bad_request", "untrusted_host"]),
    401: ("Unauthorized", "No credentials while LOGIN_REQUIRED is on, or a token that is not "
          "valid (revoked).", ["unauthorized"]),
    403: ("CrossSite", "A write by the session cookie from another site's page.", ["cross_site"]),
    404: ("NotFound", "No such conversation (another user's answers the same).", ["not_found"]),
    409: ("Conflict", "This question is being answered right now (`turn_in_progress`), or an "
          "imported conversation's threadId is taken (`thread_exists`).",
          ["turn_in_progress", "thread_exists"]),
    413: ("PayloadTooLarge", "The body is over MAX_CONTENT_LENGTH.", ["payload_too_large"]),
    415: ("UnsupportedMediaType", "The body was not sent as `application/json`.",
          ["unsupported_media_type"]),
    429: ("TooManyRequests", "Over RATELIMIT_CHAT; nothing was stored.", ["too_many_requests"]),
    502: ("ModelFailed", "The model service failed (after its retries) or answered something "
          "unreadable. The question is stored: `threadId` says where.", ["upstream_error"]),
    503: ("Unavailable", "The database is unreachable (`database_unavailable`; with a `threadId` "
          "when the question was stored but not the reply), no API key is configured "
          "(`model_not_configured`) or the account is out of credit (`model_out_of_credit`).",
          ["database_unavailable", "model_not_configured", "model_out_of_credit"]),
    504: ("ModelTimeout", "The model service did not answer within OPENAI_TIMEOUT. The question "
          "is stored: `threadId` says where.", ["upstream_timeout"]),
}
READ, WRITE = [400, 401, 404, 503], [400, 401, 403, 404, 413, 415, 503]
TURN = [400, 401, 403, 404, 409, 413, 415, 429, 502, 503, 504]
JSON = "application/json"


def error_responses():
    """components/responses: one per error status, its body the Error shape with its codes."""
    responses = {}
    for name, when, codes in ERRORS.values():
        body = {"allOf": [ref("Error"), {"properties": {"error": {"properties": {
            "code": {"enum": codes}}}}}]}
        responses[name] = {"description": when, "content": {JSON: {"schema": body}}}
    responses["TooManyRequests"]["headers"] = {"Retry-After": {
        "required": True, "description": "Seconds until a message may be sent again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    return responses


def paths(config):
    thread = {"parameters": [_thread_id()]}
    return {
        "/api/chat": {"post": _turn("askInThread", "Ask: a new conversation, or one more "
                                    "question in one.", "ChatRequest")},
        "/api/thread": {"get": _list_threads(config["THREADS_PER_PAGE"])},
        "/api/thread/{threadId}": {**thread, "get": _operation(
            "threadMessages", "One conversation's messages, oldest first.",
            {200: _json("The messages.", {"type": "array", "items": ref("Message")})}, READ),
            "delete": _operation("deleteThread", "Delete a conversation and its messages.",
                                 {200: _json("Deleted.", ref("Deleted"))},
                                 [400, 401, 403, 404, 503]),
            "patch": _operation("renameThread", "Rename (its place in the list does not "
                                "change).", {200: _json("Renamed.", ref("Thread"))}, WRITE,
                                body="RenameRequest")},
        "/api/thread/{threadId}/regenerate": {**thread, "post": _turn(
            "regenerate", "Ask again for the last reply; it is replaced once the new one is "
            "stored (a failure leaves it). The body may be left empty, but is still sent as "
            "`application/json`.", "RegenerateRequest")},
        "/api/thread/{threadId}/messages/last": {**thread, "patch": _turn(
            "editLastMessage", "Reword the last question; its reply is replaced by one to the "
            "new words (a failure leaves the new words unanswered).", "EditRequest")},
        "/api/thread/{threadId}/export": {**thread, "get": _export()},
        "/api/thread/import": {"post": _operation(
            "importThread", "Import a JSON export under its own threadId.",
            {201: {**_json("Imported: the conversation as the list shows it.", ref("Thread")),
                   "headers": {"Location": _header("Where its messages are.")}}},
            [400, 401, 403, 409, 413, 415, 503], body="Export")},
        "/api/openapi.json": {"get": _operation(
            "openapi", "This description.", {200: _json("OpenAPI 3.1.", {"type": "object"})},
            [], security=[])},
        "/healthz": {"get": _operation(
            "health", "For a load balancer: 200 when the database answers and would take a "
            "write, else 503. Nothing secret in it.",
            {200: _json("Healthy.", ref("Health")), 503: _json("Unhealthy.", ref("Health")),
             400: {"description": "A Host outside TRUSTED_HOSTS.",
                   "content": {"text/plain": {"schema": {"type": "string"}}}}},
            [], security=[])},
    }


def _operation(operation_id, summary, answers, errors, body=None, **more):
    responses = {str(status): answer for status, answer in answers.items()}
    for status in errors:
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    operation = {"operationId": operation_id, "summary": summary, **more}
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
    operation["responses"] = responses
    return operation


def _turn(operation_id, summary, body):
    answers = {200: {"description": "The reply: whole, or as server-sent events when `stream` "
                     "is true (then `Cache-Control: no-cache`; see the events below).",
                     "content": {JSON: {"schema": ref("Reply")}, "text/event-stream": {
                         "schema": {**ref("StreamEvent"), "description": _EVENTS}}}}}
    # (404 from POST /api/chat too: the conversation was deleted while its reply was written.)
    return _operation(operation_id, summary, answers, TURN, body=body)


_EVENTS = ("Each event (this schema) is a name and one line of JSON (`data`): `thread` "
           "(ThreadEvent) first, a `token` (TokenEvent) per piece of text, then exactly one "
           "`done` (DoneEvent) or `error` (ErrorEvent). The question is stored in every case; if "
           "the model service breaks off or the client goes away, what was written is kept as "
           "the reply.")


def _list_threads(page_size):
    parameters = [
        {"name": "limit", "in": "query", "schema": {
            "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": page_size}},
        {"name": "q", "in": "query", "description": "Only conversations holding every word "
         f"(in the title or any message); at most {MAX_QUERY_CHARS} characters once trimmed.",
         "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}},
        {"name": "cursor", "in": "query", "description": "Where the next page starts, as the "
         "`Link` header gave it.", "schema": {"type": "string"}},
    ]
    page = {**_json("Conversations, most recently active first.",
                    {"type": "array", "items": ref("Thread")}),
            "headers": {"Link": _header('`<…>; rel="next"` when there are more.')}}
    return _operation("listThreads", "The conversations, or those a search finds.",
                      {200: page}, [400, 401, 503], parameters=parameters)


def _export():
    files = {JSON: {"schema": ref("Export")},
             "text/markdown": {"schema": {"type": "string"}}}
    ok = {"description": "A download (`Content-Disposition: attachment`, named after the "
          "title).", "content": files,
          "headers": {"Content-Disposition": {**_header("attachment; filename=…"),
                                              "required": True}}}
    parameters = [{"name": "format", "in": "query",
                   "schema": {"enum": ["json", "md"], "default": "json"}}]
    return _operation("exportThread", "One conversation as a file.", {200: ok}, READ,
                      parameters=parameters)


def _thread_id():
    return {"name": "threadId", "in": "path", "required": True, "schema": ref("ThreadId")}


def _json(description, schema):
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _header(description):
    return {"description": description, "schema": {"type": "string"}}
