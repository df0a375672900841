"""GET /api/openapi.json describes the whole JSON API truly: the document is valid OpenAPI 3.1,
public, names every route and states this server's limits, and each operation's success answers
as it documents, in status, content type, headers and body (tests/openapi_conformance.py). Real
requests through the test client, on a real SQLite file, with replies from the fake model server
over HTTP. (Errors: test_openapi_errors.py; fuzzed: test_openapi_fuzz.py.)"""
import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from chatapp.openapi.schemas import NOT_BLANK
from tests.helpers import seed_threads
from tests.openapi_calls import OPERATIONS, call, described, documented  # noqa: F401 (fixture)
from tests.openapi_conformance import Description


# --- the document ------------------------------------------------------------------------------

def test_the_description_is_valid_openapi_3_1_and_needs_no_sign_in(app_config, make_app):
    app = make_app(LOGIN_REQUIRED=True)
    response = app.test_client().get("/api/openapi.json")

    assert response.status_code == 200 and response.is_json
    document = response.get_json()
    assert document["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(document).validate()
    assert document["security"] == [{"bearerToken": []}, {"sessionCookie": []}]
    assert app_config["OPENAI_API_KEY"] not in response.get_data(as_text=True)
    Description(document).check(response)


def test_it_describes_every_route_of_the_api_and_the_tests_call_each(app, client):
    document = described(client).document
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    routes = {(method, rule.rule.replace("<thread_id>", "{threadId}"))
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") or rule.rule == "/healthz"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations == routes
    ids = {operation["operationId"] for item in document["paths"].values()
           for operation in item.values() if "operationId" in operation}
    assert ids == set(OPERATIONS)


def test_its_limits_are_this_servers_settings(make_app):
    app = make_app(MAX_MESSAGE_CHARS=77, OPENAI_MODELS=["a", "b"])
    schemas = app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]

    assert schemas["ChatRequest"]["properties"]["message"]["maxLength"] == 77
    assert schemas["ChatRequest"]["properties"]["model"]["enum"] == ["a", "b", None]


def test_not_blank_means_what_the_app_trims():
    holds_a_non_space = re.compile(NOT_BLANK)
    for code in range(0x3001):  # past U+3000, the last character Python counts as a space
        assert bool(holds_a_non_space.search(chr(code))) != chr(code).isspace(), hex(code)


# --- every operation's success -----------------------------------------------------------------

def test_asking_answers_as_documented_whole_and_streamed(client, documented):
    whole = documented(call(client, "askInThread"))
    streamed = documented(client.post("/api/chat", json={"message": "Hi", "stream": True}))

    assert whole.status_code == 200 and whole.get_json()["reply"] == "Echo: Hello"
    assert streamed.mimetype == "text/event-stream" and b"event: done" in streamed.data


def test_listing_searching_and_reading_answer_as_documented(app, client, documented):
    seed_threads(app, 3)
    call(client, "askInThread")  # a reply with its usage

    page = documented(client.get("/api/thread?limit=2"))
    found = documented(client.get("/api/thread?q=hello"))
    messages = documented(call(client, "threadMessages"))

    assert 'rel="next"' in page.headers["Link"] and len(page.get_json()) == 2
    assert len(found.get_json()) == 4
    assert messages.get_json()[1]["usage"] == {"prompt_tokens": 1, "completion_tokens": 1}


@pytest.mark.parametrize("stream", [False, True])
def test_renaming_regenerating_and_editing_answer_as_documented(client, documented, stream):
    call(client, "askInThread")

    assert documented(call(client, "renameThread")).get_json()["title"] == "Renamed"
    for name in ("regenerate", "editLastMessage"):
        response = documented(call(client, name, json={**OPERATIONS[name][2]("t1"),
                                                       "stream": stream}))
        assert response.status_code == 200
        assert response.mimetype == ("text/event-stream" if stream else "application/json")


def test_export_import_and_delete_answer_as_documented(client, documented):
    call(client, "askInThread")
    exported = documented(call(client, "exportThread"))
    documented(client.get("/api/thread/t1/export?format=md"))

    assert documented(call(client, "deleteThread")).status_code == 200
    imported = documented(call(client, "importThread", json=exported.get_json()))
    assert imported.status_code == 201 and imported.headers["Location"] == "/api/thread/t1"


def test_health_and_the_description_answer_as_documented(client, documented):
    assert documented(call(client, "health")).status_code == 200
    assert documented(call(client, "openapi")).status_code == 200
