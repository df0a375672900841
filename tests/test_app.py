"""The application factory: settings from the environment, the secret key, the CLI."""
import os
import sqlite3
import stat

import pytest

from chatapp import create_app


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "SYSTEM_PROMPT", "SECRET_KEY",
                 "MONGO_URI", "SQLITE_PATH", "CORS_ORIGINS", "MAX_MESSAGE_CHARS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_come_from_the_environment(clean_env, tmp_path, fake_openai):
    clean_env.setenv("OPENAI_API_KEY", "sk-from-env")
    clean_env.setenv("OPENAI_BASE_URL", fake_openai.url + "/")
    clean_env.setenv("OPENAI_MODEL", "gpt-from-env")
    clean_env.setenv("SYSTEM_PROMPT", "Answer briefly.")
    clean_env.setenv("SQLITE_PATH", str(tmp_path / "env.sqlite3"))
    clean_env.setenv("MAX_MESSAGE_CHARS", "10")
    client = create_app(instance_path=str(tmp_path / "instance")).test_client()

    assert client.post("/api/chat", json={"message": "x" * 11}).status_code == 400
    assert client.post("/api/chat", json={"message": "Hi"}).status_code == 200

    sent = fake_openai.requests[-1]
    assert sent["headers"]["Authorization"] == "Bearer sk-from-env"
    assert sent["json"]["model"] == "gpt-from-env"
    assert sent["json"]["messages"][0] == {"role": "system", "content": "Answer briefly."}
    assert (tmp_path / "env.sqlite3").exists()


def test_defaults_keep_data_in_the_instance_folder(clean_env, tmp_path):
    instance = tmp_path / "instance"
    client = create_app(instance_path=str(instance)).test_client()

    assert client.get("/api/thread").get_json() == []
    assert (instance / "chatapp.sqlite3").exists()


def test_a_secret_key_is_made_once_kept_private_and_reused(clean_env, tmp_path):
    instance = str(tmp_path / "instance")
    first = create_app(instance_path=instance)
    second = create_app(instance_path=instance)

    key_file = os.path.join(instance, "secret_key")
    assert len(first.config["SECRET_KEY"]) >= 32
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_from_the_environment_wins(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "from-env")
    app = create_app(instance_path=str(tmp_path / "instance"))

    assert app.config["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_init_db_creates_the_schema(clean_env, tmp_path):
    path = tmp_path / "cli.sqlite3"
    app = create_app({"SQLITE_PATH": str(path)}, instance_path=str(tmp_path / "instance"))

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0 and "Database ready" in result.output
    tables = {row[0] for row in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"threads", "messages"} <= tables


def test_a_mongo_app_is_built_without_touching_the_server(clean_env, tmp_path):
    # Nothing listens on port 1: any query during create_app would fail here. Connecting later,
    # in the worker, is what keeps the app safe to fork (gunicorn --preload).
    app = create_app({"MONGO_URI": "mongodb://127.0.0.1:1/chatapp", "MONGO_TIMEOUT_MS": 300},
                     instance_path=str(tmp_path / "instance"))

    assert app.test_client().get("/api/thread").status_code == 503


def test_a_mongo_uri_without_a_database_name_is_refused_clearly(clean_env, tmp_path):
    with pytest.raises(RuntimeError, match="must name a database"):
        create_app({"MONGO_URI": "mongodb://127.0.0.1:1"}, instance_path=str(tmp_path / "i"))
