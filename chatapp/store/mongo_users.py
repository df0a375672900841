"""Accounts in the MongoDB store (see users.py for the contract): `users` and `api_tokens`."""
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from ..errors import UserExists
from ..models import User
from .owned import owned_id
from .users import UserStore, name_key

USER_FIELDS = {"_id": 0, "userId": 1, "name": 1, "passwordHash": 1, "createdAt": 1}


def prepare_user_collections(users, tokens):
    users.create_index("userId", unique=True)
    users.create_index("nameKey", unique=True)
    tokens.create_index("tokenHash", unique=True)
    tokens.create_index("userId")


def _user(doc):
    return User(doc["userId"], doc["name"], doc["passwordHash"], doc["createdAt"]) if doc else None


class MongoUsers(UserStore):
    """Mixed into MongoThreadStore, whose `_guard` and collections it uses."""

    def create_user(self, user):
        with self._guard():
            try:
                self.users.insert_one({"userId": user.user_id, "name": user.name,
                                       "nameKey": name_key(user.name),
                                       "passwordHash": user.password_hash,
                                       "createdAt": user.created_at})
            except DuplicateKeyError:
                raise UserExists(user.name) from None

    def user_named(self, name):
        with self._guard():
            return _user(self.users.find_one({"nameKey": name_key(name)}, USER_FIELDS))

    def user_by_id(self, user_id):
        with self._guard():
            return _user(self.users.find_one({"userId": user_id}, USER_FIELDS))

    def list_users(self):
        with self._guard():
            docs = self.users.find({}, USER_FIELDS).sort("nameKey", ASCENDING)
            return [_user(doc) for doc in docs]

    def delete_user(self, user_id):
        with self._guard():
            owned = [doc["threadId"] for doc in self.threads.find({"owner": user_id}, {"threadId": 1})]
            # As delete_thread does: messages, threads, then messages an append raced in.
            self.messages_.delete_many({"threadId": {"$in": owned}})
            self.threads.delete_many({"owner": user_id})
            self.messages_.delete_many({"threadId": {"$in": owned}})
            self.tokens.delete_many({"userId": user_id})
            return self.users.delete_one({"userId": user_id}).deleted_count == 1

    def give_unowned_threads(self, user_id):
        """Thread by thread, its messages first: a run cut short is finished by running it
        again (a thread still unowned still has its messages to move)."""
        with self._guard():
            unowned = [doc["threadId"] for doc in self.threads.find({"owner": None}, {"threadId": 1})]
            for thread_id in unowned:
                new_id = owned_id(user_id, thread_id)
                self.messages_.update_many({"threadId": thread_id}, {"$set": {"threadId": new_id}})
                self.threads.update_one({"threadId": thread_id, "owner": None},
                                        {"$set": {"threadId": new_id, "owner": user_id}})
            return len(unowned)

    def add_token(self, user_id, token_hash, now):
        with self._guard():
            self.tokens.insert_one({"tokenHash": token_hash, "userId": user_id, "createdAt": now})

    def revoke_tokens(self, user_id):
        with self._guard():
            return self.tokens.delete_many({"userId": user_id}).deleted_count

    def user_for_token(self, token_hash):
        with self._guard():
            token = self.tokens.find_one({"tokenHash": token_hash}, {"userId": 1})
            return self.user_by_id(token["userId"]) if token else None
