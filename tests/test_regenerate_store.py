"""The store's part of Edit: edit_last_question, on every store of the contract suite (SQLite on
a real file, MongoDB on mongomock, and on a real server when TEST_MONGO_URI is set).

Regenerate needs nothing new from a store (claim_turn, then append_message's reply_to); the
checks that the old reply stays until the new one replaces it are at the end."""
import threading

import pytest

from chatapp.errors import ThreadNotFound, TurnInProgress
from tests.test_store_contract import (T0, at, atomic_mongomock_updates, contents,  # noqa: F401
                                       roles_and_contents, store, thread_with)


def edit(store, content, seconds, thread_id="t1", claim_for=60):
    return store.edit_last_question(thread_id, content, at(seconds), at(seconds + claim_for))


# --- what an edit changes -----------------------------------------------------------------------

def test_an_edit_rewords_the_last_question_and_deletes_its_reply(store):
    thread_with(store, "t1", "Q1", "A1", "Q2", "A2")

    edited = edit(store, "Q2 reworded", 10)

    assert roles_and_contents(store.messages("t1")) == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2 reworded")]
    assert (edited.role, edited.content, edited.timestamp) == ("user", "Q2 reworded", at(10))
    assert edited.finish_reason is None and edited.usage is None
    assert edited.turn == store.last_turn("t1")[0].turn
    assert store.messages("t1")[-1].timestamp == at(10)  # the time of the edit, kept


def test_an_edit_of_an_unanswered_question_rewords_it(store):
    thread_with(store, "t1", "Q1", "A1", "Q2")

    edit(store, "Q2 again", 10)

    assert roles_and_contents(store.messages("t1")) == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2 again")]


def test_an_edit_deletes_a_reply_cut_short_too(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(1))
    store.append_message("t1", "assistant", "Half", at(2), reply_to=question,
                         finish_reason="interrupted")

    edit(store, "Q, better", 10)

    assert roles_and_contents(store.messages("t1")) == [("user", "Q, better")]


def test_an_edit_moves_its_thread_to_the_top_and_keeps_its_created_at(store):
    thread_with(store, "t1", "Q1", "A1")
    thread_with(store, "t2", "Other", "Answer", start=5)
    assert [t.thread_id for t in store.list_threads(10).threads] == ["t2", "t1"]

    edit(store, "Q1 reworded", 20)

    assert [t.thread_id for t in store.list_threads(10).threads] == ["t1", "t2"]
    thread = store.get_thread("t1")
    assert (thread.created_at, thread.updated_at) == (at(0), at(20))


def test_an_edit_leaves_earlier_turns_and_other_threads_alone(store):
    thread_with(store, "t1", "Q1", "A1", "Q2", "A2")
    thread_with(store, "t2", "Q1", "A1", "Q2", "A2")

    edit(store, "New", 10)

    assert contents(store.messages("t1")) == ["Q1", "A1", "New"]
    assert contents(store.messages("t2")) == ["Q1", "A1", "Q2", "A2"]


def test_the_prompt_for_an_edited_question_ends_at_its_new_words(store):
    thread_with(store, "t1", "Q1", "A1", "Q2", "A2")

    edited = edit(store, "Q2 reworded", 10)

    prompt = store.recent_messages("t1", 10_000, through_turn=edited.turn)
    assert roles_and_contents(prompt) == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2 reworded")]


def test_the_new_reply_to_an_edited_question_sits_right_after_it(store):
    thread_with(store, "t1", "Q1", "A1", "Q2", "A2")
    edited = edit(store, "Q2 reworded", 10)

    store.append_message("t1", "assistant", "A2 anew", at(11), reply_to=edited,
                         finish_reason="stop")

    assert contents(store.messages("t1")) == ["Q1", "A1", "Q2 reworded", "A2 anew"]
    question, reply = store.last_turn("t1")
    assert (question.content, reply.content) == ("Q2 reworded", "A2 anew")
    assert question.claimed_until is None  # the reply ended the edit's claim


def test_a_reply_to_the_old_words_is_refused_after_an_edit(store):
    """A turn whose claim lapsed (a process stalled past it) must not put its answer to the
    question's old words under the new ones."""
    store.create_thread_if_missing("t1", "Hello", T0)
    old = store.append_message("t1", "user", "Old words", at(1), claim_until=at(60))
    edit(store, "New words", 61)  # after the old claim lapsed

    with pytest.raises(ThreadNotFound):
        store.append_message("t1", "assistant", "Answer to the old words", at(62), reply_to=old)
    assert contents(store.messages("t1")) == ["New words"]


# --- the claim an edit takes --------------------------------------------------------------------

def test_an_edit_claims_the_question_until_the_time_given(store):
    thread_with(store, "t1", "Q1", "A1")

    edited = edit(store, "Q1 again", 10, claim_for=60)

    assert edited.claimed_until == at(70) == store.messages("t1")[0].claimed_until
    assert store.claim_turn("t1", edited.turn, at(11), at(71)) is False  # a Regenerate now
    with pytest.raises(TurnInProgress):
        edit(store, "Another edit", 12)
    assert store.claim_turn("t1", edited.turn, at(70), at(130)) is True  # lapsed


def test_a_question_being_answered_is_not_edited_and_nothing_changes(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    question = store.append_message("t1", "user", "Q", at(1), claim_until=at(60))
    before = store.get_thread("t1")

    with pytest.raises(TurnInProgress):
        edit(store, "Changed", 2)

    assert roles_and_contents(store.messages("t1")) == [("user", "Q")]
    assert store.messages("t1")[0].timestamp == at(1)
    assert store.messages("t1")[0].claimed_until == at(60)  # its claim is its own still
    assert store.get_thread("t1") == before
    store.append_message("t1", "assistant", "A", at(3), reply_to=question)  # still answerable
    assert contents(store.messages("t1")) == ["Q", "A"]


def test_an_answered_question_whose_reply_is_being_regenerated_is_not_edited(store):
    thread_with(store, "t1", "Q", "A")
    question, _reply = store.last_turn("t1")
    assert store.claim_turn("t1", question.turn, at(5), at(65)) is True  # Regenerate pressed

    with pytest.raises(TurnInProgress):
        edit(store, "Changed", 6)

    assert contents(store.messages("t1")) == ["Q", "A"]  # the old reply stays meanwhile


def test_a_lapsed_claim_does_not_stop_an_edit(store):
    store.create_thread_if_missing("t1", "Hello", T0)
    store.append_message("t1", "user", "Q", at(1), claim_until=at(60))

    assert edit(store, "Changed", 60).content == "Changed"


# --- nothing to edit ----------------------------------------------------------------------------

def test_a_thread_without_a_question_has_nothing_to_edit(store):
    store.create_thread_if_missing("t1", "Empty", T0)

    assert edit(store, "Anything", 1) is None
    assert store.messages("t1") == []
    assert store.get_thread("t1").updated_at == T0


def test_an_edit_in_an_unknown_thread_raises_thread_not_found(store):
    with pytest.raises(ThreadNotFound):
        edit(store, "Anything", 1, thread_id="ghost")


def test_an_edit_in_a_deleted_thread_raises_thread_not_found(store):
    thread_with(store, "t1", "Q", "A")
    store.delete_thread("t1")

    with pytest.raises(ThreadNotFound):
        edit(store, "Anything", 10)
    assert store.messages("t1") == []


# --- at once ------------------------------------------------------------------------------------

def run_at_once(calls):
    """Start every call at the same instant; each one's result, or the exception it raised."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def work(i):
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as error:  # noqa: BLE001 - each outcome is checked by the test
            results[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_of_edits_made_at_once_exactly_one_wins(store, atomic_mongomock_updates):
    thread_with(store, "t1", "Q", "A")

    results = run_at_once([lambda n=n: edit(store, f"Edit {n}", 10) for n in range(8)])

    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1, results
    assert all(isinstance(r, TurnInProgress) for r in results if r not in won), results
    assert roles_and_contents(store.messages("t1")) == [("user", won[0].content)]


def test_of_an_edit_and_regenerates_made_at_once_exactly_one_wins(store, atomic_mongomock_updates):
    thread_with(store, "t1", "Q", "A")
    question, _reply = store.last_turn("t1")
    calls = [lambda: edit(store, "Edited", 10)]
    calls += [lambda: store.claim_turn("t1", question.turn, at(10), at(70))] * 7

    results = run_at_once(calls)

    edit_won = not isinstance(results[0], Exception)
    assert sum([edit_won] + [r is True for r in results[1:]]) == 1, results
    if edit_won:
        assert contents(store.messages("t1")) == ["Edited"]
    else:
        assert isinstance(results[0], TurnInProgress)
        assert contents(store.messages("t1")) == ["Q", "A"]  # a Regenerate keeps it for now


# --- Regenerate: the old reply stays until the new one replaces it -------------------------------

def test_a_regenerated_reply_replaces_the_old_one_in_its_place(store):
    thread_with(store, "t1", "Q1", "A1", "Q2", "A2")
    question, _old = store.last_turn("t1")
    assert store.claim_turn("t1", question.turn, at(10), at(70)) is True
    assert contents(store.messages("t1")) == ["Q1", "A1", "Q2", "A2"]  # kept while it runs

    store.append_message("t1", "assistant", "A2 anew", at(11), reply_to=question,
                         finish_reason="stop")

    assert contents(store.messages("t1")) == ["Q1", "A1", "Q2", "A2 anew"]
    assert store.messages("t1")[2].claimed_until is None


def test_a_regenerate_that_gives_up_leaves_the_old_reply(store):
    thread_with(store, "t1", "Q", "A")
    question, _old = store.last_turn("t1")
    store.claim_turn("t1", question.turn, at(10), at(70))

    store.release_turn("t1", question.turn)  # the model failed: no new reply

    assert contents(store.messages("t1")) == ["Q", "A"]
    assert store.claim_turn("t1", question.turn, at(11), at(71)) is True  # free again
