"""The accounts part of the store contract: who may sign in, and their personal API tokens.
Only hashes are kept: a password's (werkzeug's scrypt), and a token's (SHA-256: a token is long
and random, so a fast hash is enough). Names are unique whatever their case."""
from abc import ABC, abstractmethod


def name_key(name):
    """What makes two names the same name: "Alice" and "alice" are one user."""
    return name.casefold()


class UserStore(ABC):
    @abstractmethod
    def create_user(self, user):
        """Store a new User. Raises UserExists if its name (in any case) is taken."""

    @abstractmethod
    def user_named(self, name):
        """The User with this name (in any case), or None."""

    @abstractmethod
    def user_by_id(self, user_id):
        """The User with this id, or None (a deleted user's session finds None)."""

    @abstractmethod
    def list_users(self):
        """Every User, by name."""

    @abstractmethod
    def delete_user(self, user_id):
        """Delete the user, their conversations and their tokens; False if there was no such
        user."""

    @abstractmethod
    def give_unowned_threads(self, user_id):
        """Make every conversation that has no owner (made with sign-in off, or before
        accounts) the user's, under the ids it had; how many there were."""

    @abstractmethod
    def add_token(self, user_id, token_hash, now):
        """Keep a new token's hash for the user."""

    @abstractmethod
    def revoke_tokens(self, user_id):
        """Delete every token of the user; how many there were."""

    @abstractmethod
    def user_for_token(self, token_hash):
        """The User a token's hash belongs to, or None."""
