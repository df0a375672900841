"""Holding a real response to the OpenAPI description (GET /api/openapi.json): its status must be
one the operation documents, its content type one that status documents, its body valid against
that schema (a streamed answer: every event), and its documented headers present and valid.
With the `jsonschema` library (2020-12, OpenAPI 3.1's dialect), resolving the description's own
`$ref`s; `contentSchema` (the JSON inside an event's `data`) is checked too."""
import json
import re

from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.sse_client import sse_events

BASE = "urn:chatapp:openapi"


def _content_schema(validator, content_schema, instance, schema):
    """2020-12 leaves contentSchema an annotation; here JSON inside a string is checked."""
    if schema.get("contentMediaType") != "application/json" or not isinstance(instance, str):
        return
    try:
        decoded = json.loads(instance)
    except ValueError:
        yield ValidationError(f"{instance!r} is not JSON")
        return
    yield from validator.descend(decoded, content_schema)


Validator = validators.extend(Draft202012Validator, {"contentSchema": _content_schema})


class Description:
    def __init__(self, document):
        self.document = document
        self.registry = Registry().with_resource(BASE, DRAFT202012.create_resource(document))

    def check(self, response):
        """The response, if it is as documented; else AssertionError saying how it is not."""
        request = response.request
        where, operation = self._operation(request.method, request.path)
        status = str(response.status_code)
        assert status in operation["responses"], \
            f"{request.method} {request.path}: {status} is not documented: {response.data[:300]}"
        where, answer = self._resolved(f"{where}/responses/{status}",
                                       operation["responses"][status])
        self._check_headers(where, answer, response)
        content = answer.get("content", {})
        assert response.mimetype in content, \
            f"{request.method} {request.path} {status}: {response.mimetype} is not documented"
        schema_at = f"{where}/content/{_escape(response.mimetype)}/schema"
        if response.mimetype == "text/event-stream":
            events = server_sent_events(response.get_data(as_text=True))
            assert events, "an event stream with no event"
            for event in events:
                self._validate(event, schema_at)
        elif response.mimetype == "application/json":
            self._validate(response.get_json(), schema_at)
        else:
            self._validate(response.get_data(as_text=True), schema_at)
        return response

    def _validate(self, instance, pointer):
        validator = Validator({"$ref": f"{BASE}#{pointer}"}, registry=self.registry,
                              format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = list(validator.iter_errors(instance))
        assert not errors, f"{pointer}: " + "; ".join(e.message[:300] for e in errors)

    def _check_headers(self, where, answer, response):
        for name, header in answer.get("headers", {}).items():
            value = response.headers.get(name)
            assert value is not None or not header.get("required"), f"{where}: no {name} header"
            if value is not None:
                self._validate(value, f"{where}/headers/{_escape(name)}/schema")

    def _operation(self, method, path):
        """(JSON pointer, operation) of the path template matching `path` (a literal one first)."""
        templates = sorted(self.document["paths"], key=lambda template: "{" in template)
        for template in templates:
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path) and method.lower() in self.document["paths"][template]:
                pointer = f"/paths/{_escape(template)}/{method.lower()}"
                return pointer, self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not described")

    def _resolved(self, pointer, item):
        while "$ref" in item:
            pointer = item["$ref"].removeprefix("#")
            item = self.registry.resolver(BASE).lookup(item["$ref"]).contents
        return pointer, item


def server_sent_events(text):
    """Each event of a stream as {"event", "data"}, as the description's StreamEvent has it."""
    return [{"event": name, "data": data} for name, data in sse_events(text, parse=None)]


def _escape(key):
    """A key as a JSON pointer holds it."""
    return key.replace("~", "~0").replace("/", "~1")
