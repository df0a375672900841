"""The API's operations as the OpenAPI tests call them (one well-formed call of each, by its
operationId), and the app's own description of them."""
import pytest

from tests.openapi_conformance import Description


def export_of(thread_id):
    """A JSON export, as POST /api/thread/import takes it (times in any zone)."""
    return {"threadId": thread_id, "title": "Imported", "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:02+01:00", "messages": [
                {"role": "user", "content": "Hi", "timestamp": "2026-01-01T00:00:01Z"},
                {"role": "assistant", "content": "Hello", "timestamp": "2026-01-01T00:00:02Z",
                 "finishReason": "stop", "usage": {"prompt_tokens": 3, "completion_tokens": 1}}]}


# operationId -> (method, path, the body a well-formed call sends, made for a threadId)
OPERATIONS = {
    "askInThread": ("POST", "/api/chat", lambda t: {"threadId": t, "message": "Hello"}),
    "listThreads": ("GET", "/api/thread", None),
    "threadMessages": ("GET", "/api/thread/{t}", None),
    "deleteThread": ("DELETE", "/api/thread/{t}", None),
    "renameThread": ("PATCH", "/api/thread/{t}", lambda t: {"title": "Renamed"}),
    "regenerate": ("POST", "/api/thread/{t}/regenerate", lambda t: {}),
    "editLastMessage": ("PATCH", "/api/thread/{t}/messages/last",
                        lambda t: {"content": "New words"}),
    "exportThread": ("GET", "/api/thread/{t}/export", None),
    "importThread": ("POST", "/api/thread/import", export_of),
    "openapi": ("GET", "/api/openapi.json", None),
    "health": ("GET", "/healthz", None),
}
PUBLIC = {"openapi", "health"}
STORE_OPS = sorted(set(OPERATIONS) - PUBLIC)
THREAD_OPS = [name for name in STORE_OPS if "{t}" in OPERATIONS[name][1]]
BODY_OPS = [name for name in STORE_OPS if OPERATIONS[name][2]]
WRITE_OPS = [name for name in STORE_OPS if OPERATIONS[name][0] != "GET"]
TURN_OPS = ["askInThread", "regenerate", "editLastMessage"]


def call(client, name, thread_id="t1", **kwargs):
    """Operation `name` on `thread_id`, with its well-formed body unless `json` or `data` is
    given."""
    method, path, body = OPERATIONS[name]
    if body and "json" not in kwargs and "data" not in kwargs:
        kwargs["json"] = body(thread_id)
    return client.open(path.format(t=thread_id), method=method, **kwargs)


def described(client):
    """The description the app serves (the `documented` fixture checks answers against it)."""
    return Description(client.get("/api/openapi.json").get_json())


@pytest.fixture
def documented(client):
    """Check an answer against the app's own description: the answer, or a failure saying how."""
    return described(client).check


def nested(depth):
    """A number inside `depth` arrays."""
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def error_code(response):
    return response.get_json()["error"]["code"]
