"""`flask export FILE` and `flask import FILE`: every conversation out as JSON Lines and back in,
into a fresh SQLite file and into MongoDB (mongomock): the move from one store to the other."""
import io
import json

import pytest

from chatapp import create_app
from chatapp.models import Message, Thread
from chatapp.transfer import jsonl
from chatapp.transfer.cli import progress
from tests.helpers import stepping_clock, use_mongomock


def at(minute, second=0):
    return f"2025-06-01T10:{minute:02d}:{second:02d}.250Z"


@pytest.fixture
def source(app, client):
    """An SQLite app holding every kind of conversation the store can keep."""
    store = app.extensions["thread_store"]
    stepping_clock(app)
    thread_id = client.post("/api/chat", json={"message": "Hello through the API"}).get_json()[
        "threadId"]
    client.post("/api/chat", json={"threadId": thread_id, "message": "And again"})
    store.import_thread(Thread("named", "Named by me ✓", at(0), at(9), "gpt-4o", True), [
        Message("user", "Question with ünïcode and \"quotes\"\nand lines", at(1)),
        Message("assistant", "```py\nprint('hi')\n```", at(2), "stop",
                {"prompt_tokens": 10, "completion_tokens": None}),
        Message("user", "Cut me short", at(3)),
        Message("assistant", "I was go", at(4), "interrupted"),
        Message("user", "Unanswered", at(9)),
    ])
    store.import_thread(Thread("empty", "Nothing said yet", at(5), at(5)), [])
    store.import_thread(Thread("old-race", "From before turns", at(6), at(8)), [
        Message("user", "q", at(6)), Message("assistant", "a", at(7), "stop"),
        Message("assistant", "a reply on its own", at(8), "stop")])
    return app


@pytest.fixture
def sqlite_target(app_config, tmp_path):
    config = {**app_config, "SQLITE_PATH": str(tmp_path / "target.sqlite3")}
    return create_app(config, instance_path=str(tmp_path / "target-instance"))


@pytest.fixture
def mongo_target(app_config, tmp_path):
    """An app configured with MONGO_URI, its store on mongomock (tests.helpers.use_mongomock)."""
    config = {**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp", "MONGO_TIMEOUT_MS": 300}
    return use_mongomock(create_app(config, instance_path=str(tmp_path / "mongo-instance")))


def run(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def export_file(app, tmp_path):
    path = tmp_path / "all.jsonl"
    result = run(app, "export", str(path))
    assert result.exit_code == 0, result.output
    return path


def exported_by_id(app, tmp_path):
    lines = export_file(app, tmp_path).read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["threadId"]: line for line in lines}


def conversations(store):
    """The store's conversations, whole, in sidebar order, each with its messages."""
    found, cursor = [], None
    while True:
        page = store.list_threads(2, cursor)
        found += [(store.get_thread(t.thread_id), store.messages(t.thread_id))
                  for t in page.threads]
        if not (cursor := page.next_cursor):
            return found


def everything(app):
    """The app's conversations, as `conversations` gives them."""
    return conversations(app.extensions["thread_store"])


def assert_same_stores(target, source):
    expected, got = everything(source), everything(target)
    assert [thread for thread, _ in got] == [thread for thread, _ in expected]
    for (thread, messages), (_, their_messages) in zip(got, expected):
        assert messages == their_messages, thread.thread_id
        for mine, theirs in zip(messages, their_messages):  # field by field, to say which
            for name in ("role", "content", "timestamp", "finish_reason", "usage"):
                assert getattr(mine, name) == getattr(theirs, name), (thread.thread_id, name)
        assert target.extensions["thread_store"].last_turn(thread.thread_id) == \
            source.extensions["thread_store"].last_turn(thread.thread_id)


# --- export ------------------------------------------------------------------------------------

def test_export_writes_one_conversation_a_line_and_says_how_many(source, tmp_path):
    path = tmp_path / "all.jsonl"

    result = run(source, "export", str(path))

    assert result.exit_code == 0
    assert result.output == f"Exported 4 conversations (12 messages) to {path}.\n"  # no bar
    lines = path.read_text(encoding="utf-8").splitlines()
    documents = [json.loads(line) for line in lines]
    assert len(documents) == 4
    assert [d["threadId"] for d in documents] == sorted(d["threadId"] for d in documents)
    named = next(d for d in documents if d["threadId"] == "named")
    assert (named["model"], named["titleSet"], len(named["messages"])) == ("gpt-4o", True, 5)
    assert named["messages"][3] == {"role": "assistant", "content": "I was go",
                                    "timestamp": at(4), "finishReason": "interrupted",
                                    "usage": None}
    assert "Named by me ✓" in lines[[d["threadId"] for d in documents].index("named")]  # UTF-8


def test_export_to_standard_output_keeps_the_lines_clean(source):
    result = run(source, "export", "-")

    assert result.exit_code == 0
    ids = [json.loads(line)["threadId"] for line in result.stdout.splitlines()]
    assert len(ids) == 4 and ids == sorted(ids)
    assert {"empty", "named", "old-race"} < set(ids)
    assert result.stderr == "Exported 4 conversations (12 messages) to <stdout>.\n"


def test_export_walks_a_store_larger_than_a_page(app, tmp_path):
    store = app.extensions["thread_store"]
    count = jsonl.PAGE_SIZE * 2 + 7
    for i in range(count):
        store.import_thread(Thread(f"t{i:04d}", f"Thread {i}", at(0), at(1)),
                            [Message("user", f"question {i}", at(0))])

    lines = export_file(app, tmp_path).read_text().splitlines()

    assert [json.loads(line)["threadId"] for line in lines] == [f"t{i:04d}" for i in range(count)]


def test_an_empty_store_exports_an_empty_file(app, tmp_path):
    assert export_file(app, tmp_path).read_text() == ""


# --- import: the move between stores ----------------------------------------------------------

def test_a_store_moves_from_sqlite_to_mongodb_with_nothing_lost(source, mongo_target, tmp_path):
    path = export_file(source, tmp_path)

    result = run(mongo_target, "import", str(path))

    assert result.exit_code == 0
    assert result.output == ("4 imported (12 messages), 0 already there (left as they were), "
                             "0 invalid lines.\n")
    assert_same_stores(mongo_target, source)
    source_api, target_api = source.test_client(), mongo_target.test_client()
    assert target_api.get("/api/thread").get_json() == source_api.get("/api/thread").get_json()
    for thread in source_api.get("/api/thread").get_json():
        path_ = f"/api/thread/{thread['threadId']}"
        assert target_api.get(path_).get_json() == source_api.get(path_).get_json()


def test_a_moved_conversation_goes_on_in_its_new_store(source, mongo_target, tmp_path, fake_openai):
    run(mongo_target, "import", str(export_file(source, tmp_path)))
    client = mongo_target.test_client()

    response = client.post("/api/chat", json={"threadId": "named", "message": "Still there?"})

    assert response.status_code == 200
    sent = [m["content"] for m in fake_openai.requests[-1]["json"]["messages"]]
    assert sent[-2:] == ["Unanswered", "Still there?"]
    assert [m["content"] for m in client.get("/api/thread/named").get_json()][-3:] == [
        "Unanswered", "Still there?", "Echo: Still there?"]


def test_a_store_moves_into_a_fresh_sqlite_file_and_back_out_of_mongodb(source, sqlite_target,
                                                                      mongo_target, tmp_path):
    run(mongo_target, "import", str(export_file(source, tmp_path)))
    again = tmp_path / "from-mongo.jsonl"
    assert run(mongo_target, "export", str(again)).exit_code == 0

    result = run(sqlite_target, "import", str(again))

    assert result.exit_code == 0, result.output
    assert_same_stores(sqlite_target, source)
    assert again.read_bytes() == export_file(source, tmp_path).read_bytes()


def test_importing_twice_imports_nothing_the_second_time(source, sqlite_target, tmp_path):
    path = export_file(source, tmp_path)
    run(sqlite_target, "import", str(path))
    target = sqlite_target.extensions["thread_store"]
    target.rename_thread("named", "Renamed in the new store")
    before = everything(sqlite_target)

    result = run(sqlite_target, "import", str(path))

    assert result.exit_code == 0
    assert result.output == ("0 imported (0 messages), 4 already there (left as they were), "
                             "0 invalid lines.\n")
    assert everything(sqlite_target) == before  # the renamed one is left as it was


def test_invalid_lines_are_reported_by_number_the_rest_imported_and_the_exit_is_1(
        source, sqlite_target, tmp_path):
    by_id = exported_by_id(source, tmp_path)
    api_thread = next(i for i in by_id if i not in ("empty", "named", "old-race"))
    broken = json.loads(by_id["named"])
    broken["messages"][1]["role"] = "system"
    path = tmp_path / "mixed.jsonl"
    path.write_bytes("\n".join([
        by_id[api_thread], "{not json", by_id["empty"], json.dumps(broken), "", "[1, 2]",
        by_id["old-race"],
    ]).encode() + b"\n\xff\xfe\n")

    result = run(sqlite_target, "import", str(path))

    assert result.exit_code == 1
    output = result.output.splitlines()
    assert output[0] == ("3 imported (7 messages), 0 already there (left as they were), "
                         "4 invalid lines:")
    assert output[1].startswith("  line 2: not a JSON document (Expecting property name")
    assert output[2] == '  line 4: messages[1].role must be "user" or "assistant".'
    assert output[3] == ("  line 6: The conversation must be a JSON object, as "
                         "GET /api/thread/<threadId>/export?format=json gives it.")
    assert output[4].startswith("  line 8: not a JSON document (")
    assert len(output) == 5
    imported = {t.thread_id for t, _ in everything(sqlite_target)}
    assert imported == {api_thread, "empty", "old-race"}


def test_a_message_over_the_limit_on_a_line_is_reported(source, sqlite_target, tmp_path):
    line = json.loads(exported_by_id(source, tmp_path)["named"])
    line["messages"][0]["content"] = "x" * 20_001
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(line) + "\n")

    result = run(sqlite_target, "import", str(path))

    assert result.exit_code == 1
    assert "  line 1: messages[0].content is 20,001 characters long; the limit is 20,000." in (
        result.output)


def test_import_reads_standard_input(source, sqlite_target, tmp_path):
    data = export_file(source, tmp_path).read_bytes()

    result = run(sqlite_target, "import", "-", input=data)

    assert result.exit_code == 0 and result.output.startswith("4 imported (12 messages)")
    assert_same_stores(sqlite_target, source)


def test_a_database_that_is_down_ends_the_import_with_a_plain_message(source, tmp_path,
                                                                     app_config):
    down = create_app({**app_config, "MONGO_URI": "mongodb://127.0.0.1:1/chatapp",
                       "MONGO_TIMEOUT_MS": 200}, instance_path=str(tmp_path / "down"))

    result = run(down, "import", str(export_file(source, tmp_path)))

    assert result.exit_code == 1
    assert "Error: The database is not reachable right now." in result.output
    assert "Traceback" not in result.output


# --- the progress bar -------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_is_drawn_on_a_terminal():
    screen = Terminal()

    with progress(1000, "Importing conversations", stream=screen) as advance:
        advance(250)
        advance(750)

    assert "Importing conversations" in screen.getvalue()
    assert "100%" in screen.getvalue()


def test_no_progress_bar_is_drawn_elsewhere():
    pipe = io.StringIO()

    with progress(1000, "Importing conversations", stream=pipe) as advance:
        advance(1000)

    assert pipe.getvalue() == ""
