"""Fixtures in the style of Flask's tutorial: `app`, `client`, `runner`, plus the fake model
server every test that needs a reply talks to over real HTTP."""
import os

import pytest

from chatapp import create_app
from tests.fake_openai import FakeOpenAI

TEST_API_KEY = "sk-test-key-that-must-never-leak-1234567890"


@pytest.fixture(scope="session")
def fake_openai_server():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server):
    """The fake model server, echoing by default, with its record of requests cleared."""
    fake_openai_server.reset()
    yield fake_openai_server
    fake_openai_server.reset()


@pytest.fixture
def app_config(tmp_path, fake_openai):
    """Override or extend this in a test module to build the app differently."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLITE_PATH": str(tmp_path / "chat.sqlite3"),
        "OPENAI_API_KEY": TEST_API_KEY,
        "OPENAI_BASE_URL": fake_openai.url,
        "OPENAI_TIMEOUT": 5.0,
        # Off, so a failure the fake model is told to give is the answer; tests of retries
        # (test_model_retries.py) turn them on.
        "OPENAI_MAX_RETRIES": 0,
        "MONGO_URI": None,
        # Tests send many messages from one address; tests of the limit set their own.
        "RATELIMIT_CHAT": "1000/minute",
        # Off, so the fake model sees only each test's own calls; tests of titles turn it on.
        "TITLE_GENERATION": False,
    }


@pytest.fixture
def app(app_config, tmp_path):
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    yield app


@pytest.fixture
def make_app(app_config, tmp_path):
    """make_app(**settings) -> another app: `app_config` with `settings` on top."""
    def make(**settings):
        return create_app({**app_config, **settings}, instance_path=str(tmp_path / "instance"))
    return make


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failure: CI must run everything."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is not allowed: {report.longrepr}"
