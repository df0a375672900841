"""The JSON API fuzzed against its own description (GET /api/openapi.json) with schemathesis:
requests built from the description, well-formed and not, sent to the app in process (WSGI),
with replies from the fake model server over HTTP. Whatever they hold, no answer is a 5xx,
every answer is as documented (status, content type, headers, body; a stream event by event),
input the description calls invalid is refused with a 4xx, and with sign-in required nothing
answers without credentials.

Bounded for CI: a fixed number of examples per operation, derandomized (the same requests every
run), about 20 seconds in all. Not checked: that every well-formed request is accepted
(schemathesis' positive_data_acceptance), since some input is refused for what no schema can
say (a page cursor that was never issued, a time Python cannot read): such input is a 400.

schemathesis is used as a library: each operation's cases come from its Hypothesis strategies
(its pytest plugin, `@schema.parametrize()`, does not run under pytest 9.2)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode

from chatapp.config import Config
from chatapp.openapi.paths import paths
from tests.test_auth import token_for_new_user

EXAMPLES_PER_OPERATION = 40
OPERATIONS = [(method.upper(), path) for path, item in paths(vars(Config())).items()
              for method in item if method != "parameters"]
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                deadline=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
# Given explicitly, so no schemathesis.toml lying around changes the run. A body over
# MAX_CONTENT_LENGTH (413) is refused too.
CONFIG = schemathesis.Config.from_dict({"checks": {
    "positive_data_acceptance": {"enabled": False},
    "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "409",
                                                      "413", "415"]}}})


@pytest.fixture(params=[False, True], ids=["open", "sign-in required"])
def app_config(request, app_config):
    # Short messages, so that the limit is reached by generated text.
    return {**app_config, "MAX_MESSAGE_CHARS": 50, "LOGIN_REQUIRED": request.param,
            "RATELIMIT_ENABLED": False}


@pytest.fixture
def credentials(app):
    """With sign-in required, a user's token (every call sends it; schemathesis also tries
    each call without it and with a wrong one); else none."""
    if not app.config["LOGIN_REQUIRED"]:
        return {}
    token = token_for_new_user(app, "fuzzer", "long enough password")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_every_answer_is_as_documented_and_none_is_a_5xx(app, client, credentials, method,
                                                         path):
    # A conversation to act on, so that calls on it get past "no such conversation".
    existing = client.post("/api/chat", json={"threadId": "t1", "message": "First"},
                           headers=credentials)
    assert existing.status_code == 200, existing.data
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)
    operation = schema[path][method]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{threadId}" in path:
        strategies.append(operation.as_strategy(path_parameters={"threadId": "t1"}))

    @FUZZ
    @given(case=st.one_of(strategies))
    def fuzz(case):
        case.call_and_validate(headers=credentials)

    fuzz()
