"""GET /healthz: 200 or 503 by the database's state, with whether a model is configured, quickly,
without sign-in, and with nothing in it that could hold a secret."""
import time

import pytest

from tests.conftest import TEST_API_KEY
from tests.db_faults import closed_port, locked, read_only, unopenable_path
from tests.helpers import use_mongomock

BUSY_TIMEOUT = 0.2


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT": BUSY_TIMEOUT}


def health(client):
    response = client.get("/healthz")
    assert response.is_json
    assert response.headers["Cache-Control"] == "no-store"  # a probe sees the state now
    return response.status_code, response.get_json()


def assert_nothing_secret(response_text, app):
    for secret in (TEST_API_KEY, app.config["OPENAI_BASE_URL"], app.instance_path,
                   str(app.config["SQLITE_PATH"]), str(app.config["MONGO_URI"]), "Traceback"):
        assert secret not in response_text


def test_a_working_app_answers_200_with_the_database_and_the_model(app, client):
    assert health(client) == (200, {"status": "ok", "database": {"kind": "sqlite", "ok": True},
                                    "model": {"configured": True}})
    assert_nothing_secret(client.get("/healthz").get_data(as_text=True), app)


def test_no_model_configured_is_said_but_the_app_still_serves(make_app):
    status, body = health(make_app(OPENAI_API_KEY="").test_client())
    assert status == 200
    assert body["model"] == {"configured": False}


@pytest.mark.parametrize("fault", [locked, read_only])
def test_a_database_that_cannot_take_a_write_is_503_until_it_can(app, client, fault):
    assert health(client)[0] == 200  # the file exists, and the store has a connection
    with fault(app) as faulty_app:
        faulty = faulty_app.test_client()
        started = time.monotonic()
        status, body = health(faulty)
        assert time.monotonic() - started < BUSY_TIMEOUT + 2
        assert (status, body["status"], body["database"]) == (
            503, "unavailable", {"kind": "sqlite", "ok": False})
    assert health(faulty) == (200, {"status": "ok", "database": {"kind": "sqlite", "ok": True},
                                    "model": {"configured": True}})


def test_a_database_that_cannot_be_opened_is_503(make_app, tmp_path):
    app = make_app(SQLITE_PATH=unopenable_path(tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == {"kind": "sqlite", "ok": False}
    assert_nothing_secret(response.get_data(as_text=True), app)


def test_no_sign_in_is_needed_even_when_every_page_asks_for_one(make_app):
    client = make_app(LOGIN_REQUIRED=True).test_client()
    assert client.get("/api/thread").status_code == 401  # the rest is closed
    assert health(client)[0] == 200


class TestMongoDB:
    @pytest.fixture
    def app_config(self, app_config):
        # A password in the address, to show it never comes out.
        return {**app_config, "MONGO_TIMEOUT_MS": 400,
                "MONGO_URI": f"mongodb://chat:hunter2-secret@127.0.0.1:{closed_port()}/chatapp"}

    def test_an_unreachable_server_is_503_within_the_timeout(self, app, client):
        started = time.monotonic()
        response = client.get("/healthz")
        assert time.monotonic() - started < 0.4 + 1.5
        assert response.status_code == 503
        assert response.get_json()["database"] == {"kind": "mongodb", "ok": False}
        assert "hunter2-secret" not in response.get_data(as_text=True)
        assert_nothing_secret(response.get_data(as_text=True), app)

    def test_a_reachable_one_is_200(self, app):
        status, body = health(use_mongomock(app).test_client())
        assert (status, body["database"]) == (200, {"kind": "mongodb", "ok": True})
