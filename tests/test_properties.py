"""Properties checked by Hypothesis over many generated inputs: every validator of what a client
sends either accepts the value or raises InvalidInput, whatever it is given, and what it accepts
can be stored; and an upstream stream reads as the same reply however the network splits it."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatapp.chat import THREAD_ID_PATTERN, ChatService, validate_message, validate_thread_id
from chatapp.errors import InvalidInput
from chatapp.json_input import MAX_DEPTH, parse_json
from chatapp.model_client import ModelClient
from chatapp.models import Thread, to_iso
from chatapp.search import MAX_QUERY_CHARS, search_query, sidebar_page
from chatapp.sse import SSEDecoder
from chatapp.store import SQLiteThreadStore
from chatapp.store.base import decode_cursor, encode_cursor
from chatapp.titles import RENAME_MAX_CHARS, validate_title
from chatapp.transfer.validate import read_document
from tests.fake_openai import Stream, chunk
from tests.test_hostile_input import cursor_of

# Bounded, and the same examples on every run (derandomize; none kept between runs), so CI stays
# fast and a failure here is a failure everywhere.
BOUNDED = settings(max_examples=60, deadline=timedelta(seconds=2), derandomize=True,
                   database=None)
# Any character, with lone surrogates and other awkward ones made likely: Hypothesis seldom
# draws them by itself (and merges character strategies given to st.text, so not that way).
AWKWARD = "\ud800\udbff\udc00\udfff\x00\r\n\t |\u2028\ufeff\u0301"
CHARACTERS = st.characters() | st.sampled_from(AWKWARD)
TEXT = st.lists(CHARACTERS, max_size=60).map("".join)
# Numbers past 64 bits made likely too, as are the first and last days a datetime holds.
INTEGERS = st.integers() | st.integers(min_value=2**63) | st.integers(max_value=-2**63 - 1)
DATETIMES = (st.datetimes() | st.datetimes(max_value=datetime(1, 1, 2))
             | st.datetimes(min_value=datetime(9999, 12, 31)))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTEGERS | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
MODELS = ["gpt-4o-mini", "gpt-4o"]


def accepted(validate, *args):
    """validate(*args), or None if it raised InvalidInput; anything else fails the test."""
    try:
        return validate(*args)
    except InvalidInput:
        return None


def storable(value):
    """True if every string is Unicode text and every number fits a database."""
    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, int) and not isinstance(value, bool):
        return -2**63 <= value < 2**63
    if isinstance(value, list):
        return all(storable(item) for item in value)
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    return True


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A real SQLite file with a few conversations to search and page through."""
    store = SQLiteThreadStore(str(tmp_path_factory.mktemp("properties") / "chat.sqlite3"))
    for i, words in enumerate(["deploy the app", "Déploy NEAR \"quoted\" OR", "x* -y (z)"]):
        when = to_iso(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=i))
        store.add_question(f"t{i}", words, words, when)
    return store


# --- JSON as every body and `flask import` line is read --------------------------------------

@BOUNDED
@given(JSON_VALUES)
def test_a_json_document_is_read_back_as_sent_or_refused(value):
    raw = json.dumps(value)  # surrogates escaped (\ud800), NaN and Infinity written bare
    try:
        assert parse_json(raw) == value
        assert storable(value)
    except (InvalidInput, ValueError):
        assert not storable(value)


@BOUNDED
@given(st.integers(1, 200))
def test_json_is_read_up_to_the_depth_limit_and_refused_past_it(levels):
    read = accepted(parse_json, "[" * levels + "]" * levels)
    assert (read is not None) == (levels <= MAX_DEPTH)


@BOUNDED
@given(st.binary(max_size=80))
def test_any_bytes_are_read_as_json_or_refused(data):
    try:
        parse_json(data)
    except (InvalidInput, ValueError):
        pass


# --- the validators --------------------------------------------------------------------------

@BOUNDED
@given(JSON_VALUES | TEXT)
def test_the_field_validators_accept_or_raise_invalid_input(value):
    service = ChatService(None, None, models=MODELS, max_message_chars=50, history_max_chars=100)
    message = accepted(validate_message, value, 50)
    assert message is None or (0 < len(message) <= 50 and message == message.strip())
    thread_id = accepted(validate_thread_id, value)
    assert thread_id is None or THREAD_ID_PATTERN.fullmatch(thread_id)
    title = accepted(validate_title, value)
    assert title is None or (0 < len(title) <= RENAME_MAX_CHARS and "\n" not in title)
    assert accepted(service.validate_model, value) in MODELS + [None]


@BOUNDED
@given(st.none() | TEXT | st.lists(CHARACTERS, min_size=190, max_size=260).map("".join),
       st.none() | TEXT)
def test_any_search_and_cursor_find_a_page_or_raise_invalid_input(store, raw, cursor):
    query = accepted(search_query, raw)
    assert query is None or len(query) <= MAX_QUERY_CHARS
    accepted(sidebar_page, store, query, 2, cursor)


@BOUNDED
@given(TEXT)
def test_any_cursor_text_is_a_position_or_invalid_input(cursor):
    accepted(decode_cursor, cursor)


OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@BOUNDED
@given(DATETIMES, OFFSETS, TEXT)
def test_a_cursor_holding_any_time_and_id_is_that_position_or_invalid_input(moment, zone, tid):
    moment = moment.replace(tzinfo=zone)
    position = accepted(decode_cursor, cursor_of(f"{moment.isoformat()}|{tid}"))
    assert position is None or position == (to_iso(moment), tid)


@BOUNDED
@given(DATETIMES.map(lambda moment: moment.replace(tzinfo=timezone.utc)),
       st.from_regex(THREAD_ID_PATTERN, fullmatch=True))
def test_every_cursor_the_app_makes_decodes_to_its_position(moment, thread_id):
    kept = to_iso(moment)
    cursor = encode_cursor(Thread(thread_id, "t", kept, kept))
    assert decode_cursor(cursor) == (kept, thread_id)


def documents():
    """Import documents near the real thing: each field valid, or anything at all."""
    def either(valid):
        return st.just(valid) | JSON_VALUES
    message = st.fixed_dictionaries({
        "role": either("user") | st.just("assistant"), "content": either("Hi"),
        "timestamp": either("2026-01-01T00:00:01.000Z") | TEXT,
        "usage": either(None) | st.fixed_dictionaries({"prompt_tokens": JSON_VALUES})})
    return st.fixed_dictionaries({
        "threadId": either("imported"), "title": either("Title"),
        "createdAt": either("2026-01-01T00:00:00Z") | st.builds(
            lambda moment, zone: moment.replace(tzinfo=zone).isoformat(), DATETIMES, OFFSETS),
        "updatedAt": either("2026-01-01T00:00:02+05:00"), "model": either(None),
        "titleSet": either(False), "messages": st.lists(message, max_size=3) | JSON_VALUES})


@BOUNDED
@given(documents() | JSON_VALUES)
def test_an_import_document_is_stored_whole_or_refused(store, doc):
    """As the app reads one (parse_json, then read_document), then into a real SQLite file."""
    try:
        thread, messages = read_document(parse_json(json.dumps(doc)), 100)
    except (InvalidInput, ValueError):
        return
    store.import_thread(thread, messages)
    assert store.messages(thread.thread_id) == messages
    store.delete_thread(thread.thread_id)


# --- the upstream's stream ---------------------------------------------------------------------

UTF8_CHARACTERS = st.characters(codec="utf-8") | st.sampled_from("\x00\r\n\t |\u2028\ufeff")
PIECES = st.lists(st.text(UTF8_CHARACTERS, min_size=1, max_size=8), min_size=1, max_size=6)


def upstream_body(pieces, newline, keep_alive, multiline):
    """A chat completions stream as a server may send it: raw UTF-8 (not \\u escapes) in its
    JSON, with keep-alive comments, and each event's JSON on several `data` lines if asked."""
    indent = 1 if multiline else None
    events = [json.dumps(chunk(piece), ensure_ascii=False, indent=indent) for piece in pieces]
    events += [json.dumps(chunk(finish_reason="stop"), indent=indent), "[DONE]"]
    ping = f": keep-alive{newline}" if keep_alive else ""
    return "".join(ping + "".join(f"data: {line}{newline}" for line in data.split("\n"))
                   + newline for data in events).encode()


def split(body, data):
    """The body cut at up to 12 places: anywhere, and likely where a decoder can go wrong
    (inside a UTF-8 character, between a CR and what follows it)."""
    tricky = [i for i in range(1, len(body)) if body[i - 1] == 13 or body[i] & 0xC0 == 0x80]
    places = st.integers(1, len(body) - 1) | st.sampled_from(tricky or [1])
    cuts = sorted(data.draw(st.sets(places, max_size=12)))
    return [body[start:end] for start, end in zip([0] + cuts, cuts + [len(body)])]


@BOUNDED
@given(PIECES, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.booleans(), st.data())
def test_the_sse_decoder_reads_any_split_of_a_stream_as_the_same_events(
        pieces, newline, keep_alive, multiline, data):
    decoder = SSEDecoder()
    body = upstream_body(pieces, newline, keep_alive, multiline)
    events = [event for read in split(body, data) for event in decoder.feed(read)]
    events += decoder.close()
    assert events[-1] == "[DONE]"
    texts = [json.loads(event)["choices"][0]["delta"].get("content") for event in events[:-1]]
    assert "".join(text for text in texts if text) == "".join(pieces)


@settings(BOUNDED, max_examples=25)
@given(PIECES, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.data())
def test_the_model_client_reads_any_split_of_a_stream_as_the_same_reply(
        fake_openai_server, pieces, newline, multiline, data):
    """Over real HTTP: each piece written on its own, a moment apart, as a network read."""
    reads = split(upstream_body(pieces, newline, True, multiline), data)
    fake_openai_server.stream_with(Stream(reads, delay=0.001))
    try:
        reply = ModelClient("sk-test", fake_openai_server.url, "fake-model", 5.0).stream(
            [{"role": "user", "content": "Hi"}])
        assert "".join(reply) == "".join(pieces)
        assert reply.finish_reason == "stop"
    finally:
        fake_openai_server.reset()
