"""The app served in its own processes, as people run it: `python wsgi.py` (what `make run` starts)
and the gunicorn recipe (gunicorn.conf.py), each against the fake model, on a database the test
names. For the serving, crash and several-process tests."""
import os
import queue
import re
import subprocess
import sys
import threading
import time

from tests.conftest import TEST_API_KEY
from tests.sse_client import http_session, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVING = re.compile(r"chatapp serving on (http://127\.0\.0\.1:\d+)")
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
BOOTED = re.compile(r"Booting worker with pid: (\d+)")
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")  # the venv's


def server_env(fake_openai, database, **settings):
    """The environment of a served app on `database` (an SQLite path, or a MongoDB URI naming
    a database), answered by the fake model; `settings` override or add variables."""
    sqlite_path, mongo_uri = ("", database) if database.startswith("mongodb") else (database, "")
    return {**os.environ, "PORT": "0", "HOST": "127.0.0.1", "SQLITE_PATH": sqlite_path,
            "MONGO_URI": mongo_uri, "SECRET_KEY": "test-secret",
            "OPENAI_API_KEY": TEST_API_KEY, "OPENAI_BASE_URL": fake_openai.url,
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
            # Set, even if empty, so that a developer's .env cannot change what is tested.
            "SYSTEM_PROMPT": "", "CORS_ORIGINS": "", "LOGIN_REQUIRED": "", "OPENAI_MODELS": "",
            "TITLE_GENERATION": "false",  # the fake model then sees only the turns
            "RATELIMIT_CHAT": "100000/minute",  # many turns from one address
            **settings}


def served_url(process, log_path, timeout=20):
    """The URL from the server's first line on stdout, read with a deadline."""
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                              daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            match = SERVING.search(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            break
        if match:
            return match.group(1)
    process.kill()
    with open(log_path) as log:
        raise AssertionError(f"wsgi.py did not say where it serves; its log:\n{log.read()}")


def start_make_run(env, log_path):
    """`python wsgi.py` on a free port: (the process, its URL)."""
    with open(log_path, "a") as log:
        process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    return process, served_url(process, log_path)


def start_gunicorn(env, tmp_path, *options):
    """The recipe, `gunicorn -c gunicorn.conf.py`, on a free port, with an access log naming
    each request's worker by pid: (the process, its URL, the access log's path, the workers'
    pids), once every worker answers."""
    log_path, access_path = tmp_path / "gunicorn.log", tmp_path / "access.log"
    command = [GUNICORN, "-c", "gunicorn.conf.py",
               "--access-logfile", str(access_path), "--access-logformat", '%(p)s %(s)s "%(r)s"',
               "--no-control-socket", *options]  # no socket in $HOME for the tests
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)

    def started():
        text = log_path.read_text()
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped ({process.returncode}); its log:\n{text}")
        url, pids = LISTENING.search(text), BOOTED.findall(text)
        return (url.group(1), pids) if url and len(pids) == int(env["WEB_CONCURRENCY"]) else None

    url, pids = wait_until(started, timeout=30, message="gunicorn listening, workers booted")
    with http_session() as http:  # each worker has loaded the app once both answer
        wait_until(lambda: http.get(f"{url}/healthz", timeout=5).status_code == 200,
                   timeout=30, message="gunicorn answering")
    return process, url, access_path, pids


def stop(process, timeout=10):
    """SIGTERM, then SIGKILL if it lingers; returns its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def kill_now(process):
    """SIGKILL: no handler runs, nothing is flushed or closed, as in a crash or an OOM kill."""
    process.kill()
    process.wait()
