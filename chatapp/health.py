"""GET /healthz, for a load balancer or a person: 200 when the database answers and would take a
write, else 503; with the database's kind and state and whether a model is configured. A model
left unconfigured is reported but is no reason for 503 (the app still keeps what people write).
It says nothing that could hold a secret: no path, address, key or error text."""
from flask import Blueprint, jsonify

from . import get_chat_service
from .errors import StoreUnavailable
from .store import MongoThreadStore, whole_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # public by design: no sign-in, as a load balancer's probe carries none
    store = whole_store()
    database_ok = _database_ok(store)
    body = {
        "status": "ok" if database_ok else "unavailable",
        "database": {"kind": "mongodb" if isinstance(store, MongoThreadStore) else "sqlite",
                     "ok": database_ok},
        "model": {"configured": get_chat_service().model.configured},
    }
    response = jsonify(body)
    response.status_code = 200 if database_ok else 503
    response.cache_control.no_store = True  # each probe must see the state now
    return response


def _database_ok(store):
    try:
        store.check()
    except StoreUnavailable:  # the store has logged why
        return False
    return True
