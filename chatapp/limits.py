"""Rate limits (Flask-Limiter): on sending messages, which spends the owner's API money, and on
sign-in attempts, which could guess passwords. Each app has its own Limiter, so two apps in one
process (tests, the benchmark) never share counts; RATELIMIT_STORAGE_URI (Redis, MongoDB...)
shares them between processes."""
import math
import time

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .store.users import name_key

# Every way a message reaches the model: a new question, a retry, a regenerate, an edit.
SENDING = ("api.chat", "api.regenerate", "api.edit_last_message",
           "web.send", "web.retry", "web.regenerate", "web.edit")


def sender():
    """Per user when signed in, else per address."""
    user = g.get("user")
    return f"user:{user.user_id}" if user else f"address:{get_remote_address()}"


def account_tried():
    return "account:" + name_key(request.form.get("name", ""))


def failed(response):
    return response.status_code == 401


def init_app(app):
    config = app.config
    limiter = Limiter(get_remote_address, app=app, storage_uri=config["RATELIMIT_STORAGE_URI"],
                      enabled=config["RATELIMIT_ENABLED"])
    # One budget for all of them: a retry costs as much as a question.
    chat = limiter.shared_limit(
        config["RATELIMIT_CHAT"], "sending", key_func=sender, methods=["POST", "PATCH"],
        error_message="You are sending messages faster than this server allows "
                      f"({config['RATELIMIT_CHAT']}). Wait a little, then send again.")
    for endpoint in SENDING:
        app.view_functions[endpoint] = chat(app.view_functions[endpoint])
    # Only failed attempts count, per address and per account (guessing one account from many
    # addresses, or many accounts from one).
    sign_in = app.view_functions["auth.sign_in"]
    for key in (get_remote_address, account_tried):
        sign_in = limiter.limit(config["RATELIMIT_SIGNIN"], key_func=key, methods=["POST"],
                                deduct_when=failed, error_message="Too many failed sign-ins. "
                                "Wait a little, then try again.")(sign_in)
    app.view_functions["auth.sign_in"] = sign_in
    app.extensions["rate_limiter"] = limiter


def seconds_to_wait():
    """How long until the limit just exceeded lets a request through again (Retry-After)."""
    limit = current_app.extensions["rate_limiter"].current_limit
    return max(1, math.ceil(limit.window[0] - time.time())) if limit else 60
