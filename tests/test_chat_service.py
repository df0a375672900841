"""ChatService with a real SQLite store and a real ModelClient talking to the fake server."""
from datetime import datetime, timedelta, timezone

import pytest

from chatapp.chat import ChatService, validate_thread_id
from chatapp.errors import InvalidInput, ThreadNotFound, TurnInProgress
from chatapp.model_client import ModelClient
from chatapp.retry_policy import RetryPolicy
from chatapp.models import to_iso
from chatapp.store import SQLiteThreadStore
from tests.fake_openai import failure

API_KEY = "sk-chat-service-secret-0123456789"
MAX_MESSAGE_CHARS = 200
T0 = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


class Clock:
    """Each call is one second after the previous one, starting at T0."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.at(self.calls - 1)

    @staticmethod
    def at(tick):
        return to_iso(T0 + timedelta(seconds=tick))


@pytest.fixture
def store(tmp_path):
    return SQLiteThreadStore(str(tmp_path / "chat.sqlite3"))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_service(store, fake_openai, clock):
    def make(history_max_chars=10_000, system_prompt="", retries=None, **options):
        model = ModelClient(API_KEY, fake_openai.url, "test-model", timeout=5.0, retries=retries)
        return ChatService(store, model, max_message_chars=MAX_MESSAGE_CHARS,
                           history_max_chars=history_max_chars, system_prompt=system_prompt,
                           clock=clock, **options)
    return make


@pytest.fixture
def service(make_service):
    return make_service()


def stored(store, thread_id):
    return [(m.role, m.content) for m in store.messages(thread_id)]


def sent_messages(fake_openai, index=-1):
    """The `messages` of a request the model received."""
    return fake_openai.requests[index]["json"]["messages"]


def all_threads(store):
    return store.list_threads(100).threads


# --- new threads -------------------------------------------------------------------------------

def test_first_message_without_thread_id_starts_a_new_thread(service, store):
    result = service.send("  Hello there  ")

    thread_id = result.thread.thread_id
    assert validate_thread_id(thread_id) == thread_id  # a usable id was made up
    assert result.thread.title == "Hello there"
    assert result.error is None and result.reply.content == "Echo: Hello there"
    assert store.get_thread(thread_id).title == "Hello there"
    assert stored(store, thread_id) == [("user", "Hello there"), ("assistant", "Echo: Hello there")]


def test_each_new_conversation_gets_its_own_id(service, store):
    first, second = service.send("One"), service.send("Two")

    assert first.thread.thread_id != second.thread.thread_id
    assert len(all_threads(store)) == 2


def test_long_first_message_makes_a_short_one_line_title(service):
    message = "Please explain\nhow photosynthesis works in plants, step by step, with examples " * 2

    title = service.send(message).thread.title

    assert "\n" not in title and "  " not in title
    assert title.endswith("…") and len(title) <= 60
    assert title.startswith("Please explain how photosynthesis works")
    assert message.replace("\n", " ").startswith(title[:-1])  # cut, not rewritten


def test_title_comes_from_the_first_message_only(service, store):
    thread_id = service.send("First question").thread.thread_id

    service.send("A different second question", thread_id)

    assert store.get_thread(thread_id).title == "First question"


def test_unknown_but_valid_thread_id_creates_that_thread(service, store):
    result = service.send("Hi", "my-Thread_42")

    assert result.thread.thread_id == "my-Thread_42"
    assert stored(store, "my-Thread_42") == [("user", "Hi"), ("assistant", "Echo: Hi")]


def test_message_of_exactly_the_limit_is_accepted(service, store):
    result = service.send("x" * MAX_MESSAGE_CHARS + "   ")

    assert stored(store, result.thread.thread_id)[0] == ("user", "x" * MAX_MESSAGE_CHARS)


def test_line_breaks_are_stored_the_same_from_a_form_or_a_script(service, store, fake_openai):
    thread_id = service.send("line one\r\nline two").thread.thread_id  # a textarea sends CRLF

    assert stored(store, thread_id)[0] == ("user", "line one\nline two")
    assert sent_messages(fake_openai)[-1]["content"] == "line one\nline two"


# --- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    None, 42, ["Hi"], {"text": "Hi"}, "", "   \n\t ", "x" * (MAX_MESSAGE_CHARS + 1),
], ids=["none", "number", "list", "dict", "empty", "whitespace", "too-long"])
def test_bad_message_is_rejected_before_anything_happens(service, store, fake_openai, message):
    with pytest.raises(InvalidInput) as caught:
        service.send(message, "new-thread")

    assert caught.value.message.startswith("message ")
    assert all_threads(store) == []
    assert fake_openai.requests == []


@pytest.mark.parametrize("thread_id", [
    42, {"$ne": None}, {"$gt": ""}, ["abc"], True, "", "has space", "a/b", "../etc",
    "dot.ted", "ünïcode", "x" * 65, "line\nbreak",
])
def test_bad_thread_id_is_rejected_before_anything_happens(service, store, fake_openai, thread_id):
    with pytest.raises(InvalidInput) as caught:
        service.send("Hello", thread_id)

    assert "threadId" in caught.value.message
    assert all_threads(store) == []
    assert fake_openai.requests == []


def test_bad_message_in_an_existing_thread_stores_nothing(service, store, fake_openai):
    thread_id = service.send("Hello").thread.thread_id
    fake_openai.reset()

    with pytest.raises(InvalidInput):
        service.send("   ", thread_id)

    assert stored(store, thread_id) == [("user", "Hello"), ("assistant", "Echo: Hello")]
    assert fake_openai.requests == []


# --- history sent to the model -----------------------------------------------------------------

def test_second_turn_sends_the_history_as_role_and_content(service, fake_openai):
    thread_id = service.send("First").thread.thread_id

    service.send("Second", thread_id)

    assert sent_messages(fake_openai) == [
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second"},
    ]


def test_system_prompt_comes_first_when_set(make_service, fake_openai):
    service = make_service(system_prompt="You are a pirate.")
    thread_id = service.send("First").thread.thread_id

    service.send("Second", thread_id)

    assert sent_messages(fake_openai) == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second"},
    ]


def test_history_is_trimmed_to_the_newest_within_budget(make_service, fake_openai, store):
    service = make_service(history_max_chars=30)
    fake_openai.reply_with("ok")
    thread_id = service.send("a" * 10).thread.thread_id
    service.send("b" * 10, thread_id)

    service.send("c" * 10, thread_id)

    # newest first: c(10) + ok(2) + b(10) + ok(2) = 24 fits; adding a(10) would be 34 > 30
    assert sent_messages(fake_openai) == [
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "b" * 10},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "c" * 10},
    ]
    assert len(store.messages(thread_id)) == 6  # trimming only affects what is sent


def test_new_message_is_sent_even_when_it_alone_exceeds_the_budget(make_service, fake_openai):
    service = make_service(history_max_chars=5, system_prompt="Be brief.")
    thread_id = service.send("Earlier").thread.thread_id

    service.send("z" * 50, thread_id)

    assert sent_messages(fake_openai) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "z" * 50},
    ]


# --- model failures and retry ------------------------------------------------------------------

def test_model_failure_keeps_the_users_message_and_reports_the_error(service, store, fake_openai):
    fake_openai.fail_with(500)

    result = service.send("Hello")

    assert result.reply is None
    assert (result.error.kind, result.error.status) == ("upstream", 502)
    assert store.get_thread(result.thread.thread_id) is not None
    assert stored(store, result.thread.thread_id) == [("user", "Hello")]


def test_retry_after_a_failure_stores_the_reply(service, store, fake_openai):
    fake_openai.fail_with(503)
    thread_id = service.send("Hello").thread.thread_id
    fake_openai.reset()

    result = service.retry(thread_id)

    assert result.error is None and result.reply.content == "Echo: Hello"
    assert sent_messages(fake_openai) == [{"role": "user", "content": "Hello"}]  # not repeated
    assert stored(store, thread_id) == [("user", "Hello"), ("assistant", "Echo: Hello")]


def test_retry_that_fails_again_stores_nothing_more(service, store, fake_openai):
    fake_openai.fail_with(500)
    thread_id = service.send("Hello").thread.thread_id

    result = service.retry(thread_id)

    assert result.error.kind == "upstream"
    assert stored(store, thread_id) == [("user", "Hello")]


def test_retry_on_an_answered_thread_is_rejected(service, store, fake_openai):
    thread_id = service.send("Hello").thread.thread_id
    fake_openai.reset()

    with pytest.raises(InvalidInput):
        service.retry(thread_id)

    assert fake_openai.requests == []
    assert len(store.messages(thread_id)) == 2


def test_retry_of_unknown_or_invalid_thread(service, fake_openai):
    with pytest.raises(ThreadNotFound):
        service.retry("no-such-thread")
    with pytest.raises(InvalidInput):
        service.retry({"$ne": None})
    assert fake_openai.requests == []


# --- turns: each question answered in its place -----------------------------------------------

def test_a_turns_prompt_ends_at_its_own_question_when_a_later_one_came_first(service, store,
                                                                               fake_openai):
    first = service.begin("First")
    thread_id = first.thread.thread_id
    second = service.begin("Second", thread_id)  # asked before the model saw the first

    result = service.answer(first)

    assert sent_messages(fake_openai) == [{"role": "user", "content": "First"}]
    assert result.reply.content == "Echo: First"
    assert stored(store, thread_id) == [
        ("user", "First"), ("assistant", "Echo: First"), ("user", "Second")]

    service.answer(second)

    assert sent_messages(fake_openai) == [
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "Echo: First"},
        {"role": "user", "content": "Second"},
    ]
    assert stored(store, thread_id) == [("user", "First"), ("assistant", "Echo: First"),
                                        ("user", "Second"), ("assistant", "Echo: Second")]


def test_answers_arriving_out_of_order_each_sit_after_their_question(service, store):
    first = service.begin("First")
    thread_id = first.thread.thread_id
    second = service.begin("Second", thread_id)

    service.answer(second)
    service.answer(first)

    assert stored(store, thread_id) == [("user", "First"), ("assistant", "Echo: First"),
                                        ("user", "Second"), ("assistant", "Echo: Second")]


def test_a_reply_keeps_its_finish_reason_and_usage(service, store):
    thread_id = service.send("Hello").thread.thread_id

    reply = store.messages(thread_id)[1]

    assert reply.finish_reason == "stop"
    assert reply.usage == {"prompt_tokens": 1, "completion_tokens": 1}  # as the fake counts


# --- claims and retry --------------------------------------------------------------------------

def cut_short(service, message="Hello", finish_reason="interrupted"):
    """A thread whose reply was stored cut short, as a stopped stream leaves it."""
    turn = service.begin(message)
    service.save_reply(turn, "Half an ans", finish_reason)
    return turn.thread.thread_id


def test_begin_retry_refuses_a_thread_whose_reply_is_complete(service, fake_openai):
    thread_id = service.send("Hello").thread.thread_id
    fake_openai.reset()

    with pytest.raises(InvalidInput):
        service.begin_retry(thread_id)

    assert fake_openai.requests == []


def test_begin_retry_refuses_a_reply_cut_by_the_length_limit(service, store):
    # "length" is the model's own ending: Retry would only ask for the same again.
    turn = service.begin("Hello")
    service.save_reply(turn, "A long answer that hit the limit", "length")

    with pytest.raises(InvalidInput):
        service.begin_retry(turn.thread.thread_id)


def test_begin_retry_refuses_an_empty_thread(service, store):
    store.create_thread_if_missing("empty", "Empty", Clock.at(0))

    with pytest.raises(InvalidInput):
        service.begin_retry("empty")


@pytest.mark.parametrize("finish_reason", ["interrupted", "failed"])
def test_retry_of_a_reply_cut_short_replaces_it(service, store, fake_openai, finish_reason):
    thread_id = cut_short(service, finish_reason=finish_reason)

    turn = service.begin_retry(thread_id)

    assert (turn.question.content, turn.question.role) == ("Hello", "user")
    assert service.prompt(turn) == [{"role": "user", "content": "Hello"}]  # not the half reply
    result = service.answer(turn)
    assert result.error is None
    assert stored(store, thread_id) == [("user", "Hello"), ("assistant", "Echo: Hello")]
    assert store.messages(thread_id)[1].finish_reason == "stop"
    with pytest.raises(InvalidInput):  # now it is whole
        service.begin_retry(thread_id)


def test_begin_retry_while_the_question_is_being_answered_raises_turn_in_progress(service):
    turn = service.begin("Hello")  # claimed, its answer not yet stored

    with pytest.raises(TurnInProgress) as caught:
        service.begin_retry(turn.thread.thread_id)

    assert (caught.value.status, caught.value.code) == (409, "turn_in_progress")


def test_retry_pressed_twice_claims_once(service):
    thread_id = cut_short(service)

    service.begin_retry(thread_id)

    with pytest.raises(TurnInProgress):
        service.begin_retry(thread_id)


def test_a_claim_left_by_a_dead_process_lapses(make_service, store, clock):
    service = make_service()
    service.claim_seconds = 30
    turn = service.begin("Hello")  # and then the process died: no reply, no release

    with pytest.raises(TurnInProgress):
        service.begin_retry(turn.thread.thread_id)
    clock.calls += 31  # half a minute later

    retried = service.begin_retry(turn.thread.thread_id)

    assert retried.question.turn == turn.question.turn


def test_extend_claim_keeps_a_long_reply_claimed(make_service, clock):
    service = make_service()
    service.claim_seconds = 30
    turn = service.begin("Hello")
    clock.calls += 20

    first_end = turn.claimed_until
    service.extend_claim(turn)
    clock.calls += 20  # past the first claim's end, within the extended one

    assert turn.claimed_until > first_end
    with pytest.raises(TurnInProgress):
        service.begin_retry(turn.thread.thread_id)


def test_a_model_failure_releases_the_claim_so_retry_works_at_once(service, store, fake_openai):
    fake_openai.fail_with(500)
    result = service.send("Hello")
    thread_id = result.thread.thread_id
    fake_openai.reset()

    turn = service.begin_retry(thread_id)  # a moment later, well within the claim's time

    assert service.answer(turn).reply.content == "Echo: Hello"
    assert stored(store, thread_id) == [("user", "Hello"), ("assistant", "Echo: Hello")]


def test_a_timeout_releases_the_claim_too(make_service, store, fake_openai):
    service = make_service()
    service.model.timeout = 0.3
    fake_openai.delay(1.0)
    thread_id = service.send("Hello").thread.thread_id
    fake_openai.reset()

    assert service.retry(thread_id).reply.content == "Echo: Hello"


def test_a_stored_reply_releases_the_claim(service, store):
    turn = service.begin("Hello")

    service.answer(turn)

    assert store.claim_turn(turn.thread.thread_id, turn.question.turn, Clock.at(10),
                            Clock.at(70)) is True


# --- times -------------------------------------------------------------------------------------

def test_a_turn_bumps_updated_at_and_keeps_created_at(service, store):
    thread_id = service.send("First").thread.thread_id  # ticks 0 (user) and 1 (reply)

    service.send("Second", thread_id)  # ticks 2 and 3

    thread = store.get_thread(thread_id)
    assert (thread.created_at, thread.updated_at) == (Clock.at(0), Clock.at(3))
    assert [m.timestamp for m in store.messages(thread_id)] == [Clock.at(t) for t in range(4)]


def test_a_turn_moves_its_thread_to_the_top_of_the_list(service, store):
    older = service.send("Older").thread.thread_id
    newer = service.send("Newer").thread.thread_id

    service.send("Again", older)

    assert [t.thread_id for t in all_threads(store)] == [older, newer]


def test_a_failed_turn_still_bumps_updated_at(service, store, fake_openai):
    thread_id = service.send("First").thread.thread_id  # ticks 0 and 1
    fake_openai.fail_with(500)

    service.send("Second", thread_id)  # tick 2, no reply

    assert store.get_thread(thread_id).updated_at == Clock.at(2)


def test_a_claim_outlasts_every_retry_of_a_turn(make_service, fake_openai, clock):
    """Retries keep the question claimed, though together their waits (an upstream's
    retry-after of 20 s, twice) outlast the 30-second claim the turn began with: a Retry
    pressed during each wait is refused, not a second call."""
    pressed = []

    def wait_and_press_retry(seconds):
        clock.calls += int(seconds)  # the wait passes on the service's clock
        try:
            service.begin_retry(thread_id)
        except TurnInProgress:
            pressed.append("refused")

    service = make_service(retries=RetryPolicy(2, sleep=wait_and_press_retry), claim_seconds=30)
    fake_openai.answer_in_turn(failure(503, headers={"retry-after": "20"}),
                               failure(503, headers={"retry-after": "20"}))
    turn = service.begin("Hello")
    thread_id = turn.thread.thread_id

    result = service.answer(turn)

    assert result.reply.content == "Echo: Hello"
    assert pressed == ["refused", "refused"]
    assert len(fake_openai.requests) == 3
