"""Several processes: the production recipe (gunicorn.conf.py, gevent workers) serving two worker
processes on one database, with over a hundred turns at once, whole and streamed, into one thread
and into many. Nothing is lost or stored twice, nothing answers 5xx, every reply is stored right
after its own question, and both workers take turns. The recipe also refuses, as `make run`
does, an open address with sign-in off.

Databases: an SQLite file, and MongoDB on a real server when TEST_MONGO_URI is set (a fresh
database per test, dropped afterwards)."""
import multiprocessing
import os
import sqlite3
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from urllib.parse import urlsplit

import pymongo
import pytest

from chatapp import _instance_secret_key
from tests.server_processes import GUNICORN, ROOT, server_env, start_gunicorn, stop
from tests.sse_client import EventStream, http_session, post_chat, thread_messages

KINDS = ["sqlite"] + (["mongodb"] if os.environ.get("TEST_MONGO_URI") else [])
TURNS = 120  # at once, from as many clients


@pytest.fixture(scope="module", params=KINDS)
def database(request, tmp_path_factory):
    """Where the workers keep conversations: an SQLite path, or a MongoDB URI naming a database."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("sqlite") / "chat.sqlite3")
        return
    server, name = os.environ["TEST_MONGO_URI"], f"chatapp_test_{uuid.uuid4().hex[:12]}"
    yield urlsplit(server)._replace(path=f"/{name}").geturl()
    with closing(pymongo.MongoClient(server, serverSelectionTimeoutMS=3000)) as client:
        client.drop_database(name)


@pytest.fixture(scope="module")
def recipe(database, tmp_path_factory, fake_openai_server):
    """gunicorn with two gevent workers on `database`, started once for the tests below (each
    in threads of its own): (its URL, its access log's path, the workers' pids)."""
    logs = tmp_path_factory.mktemp("gunicorn")
    env = server_env(fake_openai_server, database, WEB_CONCURRENCY="2")
    process, url, access_log, pids = start_gunicorn(env, logs)
    yield url, access_log, pids
    assert stop(process) == 0, (logs / "gunicorn.log").read_text()
    if not database.startswith("mongodb"):
        with closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def ask(url, thread_id, question, stream):
    """One turn from its own client: (HTTP status, the reply it was given or the error body)."""
    with http_session() as http:
        response = post_chat(http, url, {"threadId": thread_id, "message": question,
                                          "stream": stream}, timeout=(10, 60))
        with response:
            if response.status_code != 200 or not stream:
                body = response.json()
                return response.status_code, body.get("reply", body)
            last = list(EventStream(response))[-1][1]  # `done`, or else an `error`
    return 200, last.get("reply", last)


def ask_all_at_once(url, turns, fake_openai):
    """Each (thread id, question) sent at the same time, every other one streamed; the model
    answers each after a moment, so that all are in flight together."""
    fake_openai.delay(0.3)
    with ThreadPoolExecutor(max_workers=len(turns)) as pool:
        asked = [pool.submit(ask, url, thread_id, question, stream=n % 2 == 1)
                 for n, (thread_id, question) in enumerate(turns)]
        return [each.result() for each in asked]


def worker_pids_of_turns(access_log):
    """The pid of the worker that served each POST /api/chat (its access log line's first field)."""
    return [line.split()[0].strip("<>") for line in access_log.read_text().splitlines()
            if '"POST /api/chat ' in line]


def test_many_turns_at_once_into_one_thread_each_keep_their_reply_after_their_question(
        recipe, fake_openai):
    url, access_log, pids = recipe
    questions = [f"Question {n}" for n in range(TURNS)]
    served_before = len(worker_pids_of_turns(access_log))  # by the other test

    answers = ask_all_at_once(url, [("one", question) for question in questions], fake_openai)

    assert answers == [(200, f"Echo: {question}") for question in questions]
    with http_session() as http:
        stored = thread_messages(http, url, "one")
    assert sorted(m["content"] for m in stored if m["role"] == "user") == sorted(questions)
    assert [m["role"] for m in stored] == ["user", "assistant"] * TURNS
    assert all(reply["content"] == f"Echo: {question['content']}"
               for question, reply in zip(stored[::2], stored[1::2]))
    assert sorted(set(worker_pids_of_turns(access_log)[served_before:])) == sorted(pids)


def test_many_turns_at_once_into_many_threads_each_keep_one_question_and_its_reply(
        recipe, fake_openai):
    url, access_log, pids = recipe
    turns = [(f"thread-{n}", f"Question {n}") for n in range(TURNS)]
    served_before = len(worker_pids_of_turns(access_log))  # by the other test

    answers = ask_all_at_once(url, turns, fake_openai)

    assert answers == [(200, f"Echo: {question}") for _, question in turns]
    with http_session() as http:
        listed, page = [], f"{url}/api/thread?limit=50"
        while page:  # the Link header leads to the next page
            response = http.get(page, timeout=10)
            listed += [thread["threadId"] for thread in response.json()]
            page = response.links.get("next", {}).get("url")
        assert len(listed) == len(set(listed)) and {thread for thread, _ in turns} <= set(listed)
        for thread_id, question in turns:
            assert [(m["role"], m["content"]) for m in thread_messages(http, url, thread_id)] == [
                ("user", question), ("assistant", f"Echo: {question}")]
    assert sorted(set(worker_pids_of_turns(access_log)[served_before:])) == sorted(pids)


def test_the_recipe_refuses_an_open_address_with_sign_in_off_and_says_why(tmp_path,
                                                                          fake_openai):
    env = server_env(fake_openai, str(tmp_path / "chat.sqlite3"), HOST="0.0.0.0",
                     WEB_CONCURRENCY="1", ALLOW_OPEN_ACCESS="")
    done = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "--no-control-socket"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 3  # gunicorn's "worker failed to boot": the whole server stops
    assert "Refusing to serve on '0.0.0.0' with LOGIN_REQUIRED off" in done.stderr


def test_workers_starting_together_on_a_new_install_make_and_share_one_secret_key(tmp_path):
    forked = multiprocessing.get_context("fork")  # as gunicorn starts its workers
    for attempt in range(20):  # each a new install; the race is short, so try it many times
        instance, starting, keys = str(tmp_path / f"i{attempt}"), forked.Barrier(8), forked.Queue()
        os.mkdir(instance)
        workers = [forked.Process(target=_read_or_make_key, args=(instance, starting, keys))
                   for _ in range(8)]
        for worker in workers:
            worker.start()
        made = [keys.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert len(set(made)) == 1 and len(made[0]) == 64, made  # none read it half made


def _read_or_make_key(instance, starting, keys):
    """What create_app does for a worker when SECRET_KEY is not set."""
    starting.wait(10)
    keys.put(_instance_secret_key(instance))
