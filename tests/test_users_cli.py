"""`flask users create|delete|list|token`, run as the operator runs them (click's test runner)."""
from chatapp import accounts
from chatapp.store import OwnedStore


def store_of(app):
    return app.extensions["thread_store"]


def test_create_reads_the_password_from_stdin_and_the_user_can_sign_in(app, runner):
    result = runner.invoke(args=["users", "create", "alice", "--password-stdin"],
                           input="correct horse\n")

    assert result.exit_code == 0, result.output
    assert "Created user alice." in result.output
    assert accounts.signed_in_user(store_of(app), "alice", "correct horse").name == "alice"


def test_create_asks_for_the_password_twice_and_never_echoes_it(app, runner):
    result = runner.invoke(args=["users", "create", "bob"],
                           input="battery staple\nbattery staple\n")

    assert result.exit_code == 0, result.output
    assert "battery staple" not in result.output
    assert accounts.signed_in_user(store_of(app), "bob", "battery staple") is not None


def test_create_refuses_a_taken_name_or_a_short_password_in_plain_words(app, runner):
    runner.invoke(args=["users", "create", "alice", "--password-stdin"], input="correct horse\n")

    taken = runner.invoke(args=["users", "create", "ALICE", "--password-stdin"],
                          input="another password\n")
    short = runner.invoke(args=["users", "create", "carol", "--password-stdin"], input="short\n")

    assert taken.exit_code == 1 and "already a user named 'ALICE'" in taken.output
    assert short.exit_code == 1 and "8 to 1024 characters" in short.output
    assert "Traceback" not in taken.output + short.output
    assert [user.name for user in store_of(app).list_users()] == ["alice"]


def test_list_shows_every_user(app, runner):
    assert "No users yet" in runner.invoke(args=["users", "list"]).output
    for name in ("bob", "alice"):
        runner.invoke(args=["users", "create", name, "--password-stdin"], input="long enough\n")

    lines = runner.invoke(args=["users", "list"]).output.splitlines()

    assert [line.split("\t")[0] for line in lines] == ["alice", "bob"]


def test_token_prints_a_working_token_once_and_revoke_ends_it(app, runner):
    runner.invoke(args=["users", "create", "alice", "--password-stdin"], input="correct horse\n")

    result = runner.invoke(args=["users", "token", "alice"])
    token = result.stdout.strip()

    assert result.exit_code == 0 and token.startswith("chatapp_")
    assert accounts.user_for_token(store_of(app), token).name == "alice"
    revoked = runner.invoke(args=["users", "token", "alice", "--revoke"])
    assert "Revoked 1 token of alice." in revoked.output
    assert accounts.user_for_token(store_of(app), token) is None


def test_delete_asks_first_and_keeps_the_user_when_refused(app, runner):
    runner.invoke(args=["users", "create", "alice", "--password-stdin"], input="correct horse\n")

    refused = runner.invoke(args=["users", "delete", "alice"], input="n\n")
    assert refused.exit_code == 1 and store_of(app).user_named("alice") is not None

    confirmed = runner.invoke(args=["users", "delete", "alice"], input="y\n")
    assert confirmed.exit_code == 0 and "Deleted user alice." in confirmed.output
    assert store_of(app).user_named("alice") is None


def test_commands_on_a_missing_user_say_so(runner):
    for args in (["users", "delete", "ghost", "--yes"], ["users", "token", "ghost"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "There is no user named 'ghost'." in result.output


def test_adopt_gives_a_user_the_conversations_from_before_accounts(app, runner):
    store = store_of(app)
    store.create_thread_if_missing("old-1", "From before", "2024-01-01T00:00:00.000Z")
    store.create_thread_if_missing("old-2", "From before too", "2024-01-01T00:00:01.000Z")
    runner.invoke(args=["users", "create", "alice", "--password-stdin"], input="correct horse\n")

    result = runner.invoke(args=["users", "adopt", "alice"])

    assert result.exit_code == 0 and "alice now has 2 more conversations." in result.output
    alice = OwnedStore(store, store.user_named("alice").user_id)
    assert [t.thread_id for t in alice.list_threads(10).threads] == ["old-2", "old-1"]
    assert store.list_threads(10).threads == []
    assert "0 more conversations" in runner.invoke(args=["users", "adopt", "alice"]).output
