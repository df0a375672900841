"""Models a person may pick (OPENAI_MODELS), kept per conversation and sent with each call; and
titles the model suggests after a conversation's first exchange, asked for in the background
(TITLE_MODEL, TITLE_GENERATION). Over the API and the pages, with the fake model over real HTTP."""
import time

import pytest

from chatapp import create_app
from chatapp.chat import make_title
from chatapp.config import Config, model_choices
from chatapp.titles import TITLE_REQUEST, clean_title
from tests.fake_openai import answer, echo_reply
from tests.sse_client import sse_events
from tests.test_views import PageParser, csrf_token, thread_path

MODELS = ["model-a", "model-b", "model-c"]
FIRST = "What are three good things to see in Paris on a rainy afternoon in November?"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "OPENAI_MODELS": MODELS, "SYSTEM_PROMPT": ""}


def is_title_request(request_json):
    return request_json["messages"][0]["content"].startswith(TITLE_REQUEST)


def title_requests(fake):
    return [r["json"] for r in fake.requests if is_title_request(r["json"])]


def chat_requests(fake):
    return [r["json"] for r in fake.requests if not is_title_request(r["json"])]


def answer_titles(fake, title="Rainy Day in Paris", delay=0.0, status=200):
    """Chats are echoed; a title request gets `title` (after `delay`), or fails with `status`."""
    def handler(request_json):
        if not is_title_request(request_json):
            return echo_reply(request_json)
        time.sleep(delay)
        if status != 200:
            return status, {"error": {"message": "no titles today"}}
        return answer(request_json, title)
    fake.respond(handler)


def chat(client, message, **fields):
    response = client.post("/api/chat", json={"message": message, **fields})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def failed_turn(client):
    """A first question the model failed to answer; its thread's id."""
    response = client.post("/api/chat", json={"message": FIRST})
    assert response.status_code == 502
    return response.get_json()["error"]["threadId"]


def listed_title(client, thread_id):
    [thread] = [t for t in client.get("/api/thread").get_json() if t["threadId"] == thread_id]
    return thread["title"]


def wait_for_titles(app):
    assert app.extensions["chat_service"].titles.wait(10), "the title request never ended"


# --- settings -------------------------------------------------------------------------------------

def test_openai_models_lists_the_choices_the_first_being_the_default(monkeypatch):
    monkeypatch.setenv("OPENAI_MODELS", " gpt-4o-mini, gpt-4o ,, gpt-4o-mini")
    monkeypatch.setenv("OPENAI_MODEL", "not-used-when-a-list-is-given")
    assert model_choices(vars(Config())) == ["gpt-4o-mini", "gpt-4o"]


def test_openai_model_alone_is_the_one_choice(monkeypatch):
    monkeypatch.delenv("OPENAI_MODELS", raising=False)
    monkeypatch.setenv("OPENAI_MODEL", "my-local-model")
    assert model_choices(vars(Config())) == ["my-local-model"]
    monkeypatch.delenv("OPENAI_MODEL")
    assert model_choices(vars(Config())) == ["gpt-4o-mini"]


@pytest.mark.parametrize("value, enabled", [("", True), ("true", True), ("1", True),
                                            ("false", False), ("0", False), ("no", False),
                                            ("False", False)])
def test_title_generation_is_on_unless_turned_off(monkeypatch, value, enabled):
    monkeypatch.setenv("TITLE_GENERATION", value)
    assert Config().TITLE_GENERATION is enabled


def test_title_model_defaults_to_the_conversations_own(monkeypatch):
    monkeypatch.delenv("TITLE_MODEL", raising=False)
    assert Config().TITLE_MODEL is None
    monkeypatch.setenv("TITLE_MODEL", " gpt-4o-mini ")
    assert Config().TITLE_MODEL == "gpt-4o-mini"


def test_the_app_asks_the_first_of_openai_models_by_default(monkeypatch, tmp_path, fake_openai):
    monkeypatch.setenv("OPENAI_MODELS", "first-model,second-model")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "MONGO_URI": None,
                      "SQLITE_PATH": str(tmp_path / "env.sqlite3"), "OPENAI_API_KEY": "sk-x",
                      "OPENAI_BASE_URL": fake_openai.url, "TITLE_GENERATION": False},
                     instance_path=str(tmp_path / "instance"))
    chat(app.test_client(), "Hello")
    assert fake_openai.requests[-1]["json"]["model"] == "first-model"


# --- models over the API --------------------------------------------------------------------------

def test_without_a_model_the_default_is_asked(client, fake_openai):
    chat(client, "Hello")
    assert fake_openai.requests[-1]["json"]["model"] == "model-a"


@pytest.mark.parametrize("stream", [False, True])
def test_a_listed_model_is_asked_and_kept_for_the_conversations_next_calls(client, fake_openai,
                                                                             stream):
    first = client.post("/api/chat", json={"message": "one", "model": "model-b", "stream": stream})
    assert first.status_code == 200
    thread_id = sse_events(first)[0][1]["threadId"] if stream else first.get_json()["threadId"]
    chat(client, "two", threadId=thread_id)  # no model named: the conversation's
    assert [r["model"] for r in chat_requests(fake_openai)] == ["model-b", "model-b"]


def test_a_change_of_model_sticks_to_the_conversation_only(client, fake_openai):
    thread_id = chat(client, "one", model="model-b")["threadId"]
    chat(client, "two", threadId=thread_id, model="model-c")
    chat(client, "three", threadId=thread_id)
    chat(client, "elsewhere")  # a new conversation starts on the default
    assert [r["model"] for r in chat_requests(fake_openai)] == [
        "model-b", "model-c", "model-c", "model-a"]


@pytest.mark.parametrize("model", ["gpt-5-turbo-ultra", "", "MODEL-A", 7, ["model-a"], {}])
@pytest.mark.parametrize("stream", [False, True])
def test_a_model_not_in_the_list_is_refused_and_nothing_is_stored(client, fake_openai, model,
                                                                  stream):
    response = client.post("/api/chat", json={"message": "hi", "model": model, "stream": stream})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"] == "model must be one of: model-a, model-b, model-c."
    assert client.get("/api/thread").get_json() == []
    assert fake_openai.requests == []


def test_a_refused_model_leaves_an_existing_conversation_as_it_was(client, fake_openai):
    thread_id = chat(client, "one", model="model-b")["threadId"]
    response = client.post("/api/chat", json={"message": "two", "threadId": thread_id,
                                              "model": "nope"})
    assert response.status_code == 400
    assert len(client.get(f"/api/thread/{thread_id}").get_json()) == 2
    chat(client, "three", threadId=thread_id)
    assert chat_requests(fake_openai)[-1]["model"] == "model-b"


def test_a_model_no_longer_offered_falls_back_to_the_default(app, client, fake_openai):
    thread_id = chat(client, "one", model="model-c")["threadId"]
    app.extensions["thread_store"].set_thread_model(thread_id, "retired-model")
    chat(client, "two", threadId=thread_id)
    assert chat_requests(fake_openai)[-1]["model"] == "model-a"


def test_retry_asks_the_conversations_model(app, client, fake_openai):
    fake_openai.fail_with(500)
    response = client.post("/api/chat", json={"message": "one", "model": "model-c"})
    assert response.status_code == 502
    fake_openai.reset()
    result = app.extensions["chat_service"].retry(response.get_json()["error"]["threadId"])
    assert result.reply.content == "Echo: one"
    assert fake_openai.requests[-1]["json"]["model"] == "model-c"


# --- models on the page ---------------------------------------------------------------------------

def picker(html):
    """The composer's model options as (name, selected), or None if there is no picker."""
    parser = ModelOptions()
    parser.feed(html)
    return parser.options if parser.seen else None


class ModelOptions(PageParser):
    def __init__(self):
        super().__init__()
        self.options, self.seen, self._option = [], False, None

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        attrs = dict(attrs)
        if tag == "select" and attrs.get("name") == "model":
            self.seen = True
        if tag == "option" and self.seen:
            self._option = ["", "selected" in attrs]
            self.options.append(self._option)

    def handle_data(self, data):
        super().handle_data(data)
        if self._option is not None:
            self._option[0] += data

    def handle_endtag(self, tag):
        super().handle_endtag(tag)
        if tag == "option":
            self._option = None


def test_the_picker_lists_the_models_with_the_conversations_selected(client, fake_openai):
    assert picker(client.get("/").get_data(as_text=True)) == [
        ["model-a", True], ["model-b", False], ["model-c", False]]
    thread_id = chat(client, "one", model="model-c")["threadId"]
    assert picker(client.get(f"/thread/{thread_id}").get_data(as_text=True)) == [
        ["model-a", False], ["model-b", False], ["model-c", True]]


def test_with_one_model_there_is_no_picker(app_config, tmp_path, fake_openai):
    app = create_app({**app_config, "OPENAI_MODELS": [], "OPENAI_MODEL": "only-model"},
                     instance_path=str(tmp_path / "one"))
    assert picker(app.test_client().get("/").get_data(as_text=True)) is None


def test_the_page_form_sends_the_picked_model_and_refuses_others(client, fake_openai):
    path = thread_path(client.post("/", data={"csrf_token": csrf_token(client), "message": "one",
                                              "model": "model-b"}))
    client.post(path, data={"csrf_token": csrf_token(client, path), "message": "two"})
    assert [r["model"] for r in chat_requests(fake_openai)] == ["model-b", "model-b"]

    refused = client.post(path, data={"csrf_token": csrf_token(client, path),
                                      "message": "three", "model": "nope"})
    assert refused.status_code == 400
    page = ModelOptions()
    page.feed(refused.get_data(as_text=True))
    assert "model must be one of: model-a, model-b, model-c." in refused.get_data(as_text=True)
    assert page.textareas["message"] == "three"  # the draft stays in the composer
    assert [name for name, selected in page.options if selected] == ["model-b"]
    assert len(chat_requests(fake_openai)) == 2


# --- titles ---------------------------------------------------------------------------------------

class TestTitles:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TITLE_GENERATION": True}

    def test_after_the_first_exchange_the_model_names_the_conversation(self, app, client,
                                                                      fake_openai):
        answer_titles(fake_openai, title='Title: "Rainy Day in Paris."')
        first = chat(client, FIRST, model="model-b")
        assert first["title"] == make_title(FIRST)  # the reply did not wait for a title
        wait_for_titles(app)

        assert listed_title(client, first["threadId"]) == "Rainy Day in Paris"
        [asked] = title_requests(fake_openai)
        assert asked["model"] == "model-b"  # the conversation's model
        [prompt] = asked["messages"]
        assert FIRST in prompt["content"] and f"Echo: {FIRST}" in prompt["content"]
        assert "at most 6 words" in prompt["content"]
        assert "stream" not in asked
        page = client.get(f"/thread/{first['threadId']}").get_data(as_text=True)
        assert "<title>Rainy Day in Paris · chatapp</title>" in page

    @pytest.mark.parametrize("stream", [False, True])
    def test_the_reply_never_waits_for_the_title(self, app, client, fake_openai, stream):
        answer_titles(fake_openai, delay=1.5)
        started = time.monotonic()
        response = client.post("/api/chat", json={"message": FIRST, "stream": stream})
        body = sse_events(response) if stream else response.get_json()
        took = time.monotonic() - started
        assert took < 1.0, f"the reply took {took:.2f} s: it waited for the title"
        if stream:
            assert [name for name, _ in body][-1] == "done"
            body = body[-1][1]
        assert body["title"] == make_title(FIRST)
        assert listed_title(client, body["threadId"]) == make_title(FIRST)  # not yet named
        wait_for_titles(app)
        assert listed_title(client, body["threadId"]) == "Rainy Day in Paris"

    def test_later_turns_ask_for_no_title(self, app, client, fake_openai):
        answer_titles(fake_openai)
        thread_id = chat(client, FIRST)["threadId"]
        wait_for_titles(app)
        answer_titles(fake_openai, title="A Different Title")
        chat(client, "And on a sunny day?", threadId=thread_id)
        chat(client, "Thanks!", threadId=thread_id)
        wait_for_titles(app)
        assert len(title_requests(fake_openai)) == 1
        assert listed_title(client, thread_id) == "Rainy Day in Paris"

    @pytest.mark.parametrize("how", ["fails", "blank"])
    def test_without_a_usable_title_the_shortened_first_message_stays(self, app, client,
                                                                      fake_openai, how):
        answer_titles(fake_openai, status=500) if how == "fails" else \
            answer_titles(fake_openai, title="  \n \n")
        thread_id = chat(client, FIRST)["threadId"]
        wait_for_titles(app)
        assert len(title_requests(fake_openai)) == 1
        assert listed_title(client, thread_id) == make_title(FIRST)

    def test_a_title_never_replaces_the_persons_own(self, app, client, fake_openai):
        answer_titles(fake_openai, delay=0.5)
        thread_id = chat(client, FIRST)["threadId"]
        renamed = client.patch(f"/api/thread/{thread_id}", json={"title": "Paris, my way"})
        assert renamed.status_code == 200
        wait_for_titles(app)
        assert len(title_requests(fake_openai)) == 1  # it was asked, and its answer dropped
        assert listed_title(client, thread_id) == "Paris, my way"

    def test_a_renamed_conversation_asks_for_no_title(self, app, client, fake_openai):
        fake_openai.fail_with(500)  # the first question stays unanswered...
        thread_id = failed_turn(client)
        client.patch(f"/api/thread/{thread_id}", json={"title": "Mine"})
        answer_titles(fake_openai)
        app.extensions["chat_service"].retry(thread_id)  # ...until Retry
        wait_for_titles(app)
        assert title_requests(fake_openai) == []
        assert listed_title(client, thread_id) == "Mine"

    def test_a_first_exchange_answered_on_retry_is_named(self, app, client, fake_openai):
        fake_openai.fail_with(500)
        thread_id = failed_turn(client)
        answer_titles(fake_openai)
        app.extensions["chat_service"].retry(thread_id)
        wait_for_titles(app)
        assert listed_title(client, thread_id) == "Rainy Day in Paris"

    def test_a_conversation_deleted_before_its_title_comes_stays_deleted(self, app, client,
                                                                         fake_openai):
        answer_titles(fake_openai, delay=0.5)
        thread_id = chat(client, FIRST)["threadId"]
        assert client.delete(f"/api/thread/{thread_id}").status_code == 200
        wait_for_titles(app)
        assert client.get("/api/thread").get_json() == []
        assert client.get(f"/api/thread/{thread_id}").status_code == 404

    def test_a_long_or_wrapped_answer_becomes_one_short_line(self, app, client, fake_openai):
        answer_titles(fake_openai, title="**" + "Very " * 30 + "Long**\nSecond line")
        thread_id = chat(client, FIRST)["threadId"]
        wait_for_titles(app)
        title = listed_title(client, thread_id)
        assert len(title) <= 60 and "\n" not in title and "*" not in title, title
        assert title.startswith("Very Very") and title.endswith("…")


class TestTitleModel:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TITLE_GENERATION": True, "TITLE_MODEL": "title-mini"}

    def test_title_model_is_asked_for_titles_and_the_chat_model_for_replies(self, app, client,
                                                                           fake_openai):
        answer_titles(fake_openai)
        chat(client, FIRST, model="model-c")
        wait_for_titles(app)
        assert [r["model"] for r in chat_requests(fake_openai)] == ["model-c"]
        assert [r["model"] for r in title_requests(fake_openai)] == ["title-mini"]


def test_title_generation_false_asks_for_no_title(app, client, fake_openai):
    # conftest's app_config turns it off, as TITLE_GENERATION=false does
    assert app.config["TITLE_GENERATION"] is False
    assert app.extensions["chat_service"].titles is None
    answer_titles(fake_openai)
    thread_id = chat(client, FIRST)["threadId"]
    time.sleep(0.3)  # room for a request that must not come
    assert title_requests(fake_openai) == []
    assert listed_title(client, thread_id) == make_title(FIRST)


@pytest.mark.parametrize("raw, title", [
    ("Rainy Day in Paris", "Rainy Day in Paris"),
    ('"Rainy Day in Paris"', "Rainy Day in Paris"),
    ("“Rainy Day in Paris.”", "Rainy Day in Paris"),
    ("Title: Rainy Day in Paris", "Rainy Day in Paris"),
    ("**Title:** *Rainy   Day*", "Rainy Day"),
    ("# Rainy Day\n\nHere is why…", "Rainy Day"),
    ("\n\n  Rainy Day  \n", "Rainy Day"),
    ("U.S. Road Trip", "U.S. Road Trip"),
    ("", None), ("  \n\t", None), ('""', None), ("...", None),
])
def test_a_models_answer_is_cleaned_into_a_title(raw, title):
    assert clean_title(raw) == title
