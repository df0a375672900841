"""Picks the store: MongoDB when MONGO_URI is set, else SQLite in the instance folder."""
import os

from flask import current_app, g

from .base import ThreadPage, ThreadStore
from .mongo import MongoThreadStore
from .owned import OwnedStore
from .sqlite import SQLiteThreadStore

__all__ = ["ThreadPage", "ThreadStore", "MongoThreadStore", "OwnedStore", "SQLiteThreadStore",
           "init_app", "get_store", "whole_store"]


def init_app(app):
    if app.config["MONGO_URI"]:
        from flask_pymongo import PyMongo

        timeout = app.config["MONGO_TIMEOUT_MS"]
        # connect=False (flask-pymongo's default) keeps the client from connecting before a fork.
        mongo = PyMongo(app, serverSelectionTimeoutMS=timeout, connectTimeoutMS=timeout,
                        socketTimeoutMS=max(timeout, 10_000))
        if mongo.db is None:
            raise RuntimeError("MONGO_URI must name a database, e.g. mongodb://host:27017/chatapp")
        store = MongoThreadStore(mongo.db)
    else:
        path = app.config["SQLITE_PATH"] or os.path.join(app.instance_path, "chatapp.sqlite3")
        store = SQLiteThreadStore(path, busy_timeout=app.config["SQLITE_BUSY_TIMEOUT"])
    app.extensions["thread_store"] = store


def get_store():
    """The conversations this request may touch: the signed-in user's own, or with nobody
    signed in, those of nobody (the store itself, as before accounts)."""
    user = g.get("user")
    store = current_app.extensions["thread_store"]
    return OwnedStore(store, user.user_id) if user else store


def whole_store():
    """The app's store, all of it: for accounts, commands and health checks, never for a
    request's own conversations."""
    return current_app.extensions["thread_store"]
