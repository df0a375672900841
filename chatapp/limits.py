"""Rate limits (Flask-Limiter): on sending messages, which spends the owner's API money, and on
sign-in attempts, which could guess passwords. Each app has its own Limiter, so two apps in one
process (tests, the benchmark) never share counts; RATELIMIT_STORAGE_URI (Redis, MongoDB...)
shares them between processes."""
import functools
import math
import threading
import time

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

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


class LocalStorage(MemoryStorage):
    """limits' in-memory counts (RATELIMIT_STORAGE_URI=local://, the default), for the fixed
    window this app uses, without the thread MemoryStorage starts every 10 ms to drop expired
    counts: under gevent each start is a switch to the hub and back, half the cost of a hit.
    An expired count is dropped when next read or written, and all of them now and then."""

    STORAGE_SCHEME = ["local"]
    SWEEP_EVERY = 1000  # writes between sweeps of the counts nobody has touched since they ended

    def __init__(self, uri=None, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._writes = 0

    def incr(self, key, expiry, amount=1):
        now = time.time()
        with self._lock:
            if self.expirations.get(key, 0) <= now:  # a new window
                self.storage[key] = 0
                self.expirations[key] = now + expiry
            self.storage[key] += amount
            self._writes += 1
            if self._writes % self.SWEEP_EVERY == 0:
                for ended in [k for k, end in self.expirations.items() if end <= now]:
                    self.clear(ended)
            return self.storage[key]

    def decr(self, key, amount=1):
        with self._lock:
            self.storage[key] = max(self.get(key) - amount, 0)
            return self.storage[key]


def init_app(app):
    config = app.config
    limiter = Limiter(get_remote_address, app=app, storage_uri=config["RATELIMIT_STORAGE_URI"],
                      enabled=config["RATELIMIT_ENABLED"])
    sending = SendingLimit(limiter, config["RATELIMIT_CHAT"])
    for endpoint in SENDING:
        app.view_functions[endpoint] = sending.guard(app.view_functions[endpoint])
    # Only failed attempts count, per address and per account (guessing one account from many
    # addresses, or many accounts from one).
    sign_in = app.view_functions["auth.sign_in"]
    for key in (get_remote_address, account_tried):
        sign_in = limiter.limit(config["RATELIMIT_SIGNIN"], key_func=key, methods=["POST"],
                                deduct_when=failed, error_message="Too many failed sign-ins. "
                                "Wait a little, then try again.")(sign_in)
    app.view_functions["auth.sign_in"] = sign_in
    app.extensions["rate_limiter"] = limiter
    _only_for_sign_in(app, limiter)


def _only_for_sign_in(app, limiter):
    """Flask-Limiter's own hooks run on every request: a check before it (every limit here is on
    a view, checked as the view is called, so it finds none), and after it the deduction of
    failed sign-ins and a reset. Together they took a fifth of a plain API call's time; only a
    sign-in needs them."""
    before = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in before:  # none of them when RATELIMIT_ENABLED is false
        before.remove(limiter._check_request_limit)
    for hooks in (app.after_request_funcs.get(None, []), app.teardown_request_funcs.get(None, [])):
        for i, hook in enumerate(hooks):
            if getattr(hook, "__self__", None) is limiter or \
                    getattr(hook, "args", (None,))[:1] == (limiter,):
                hooks[i] = _on_sign_in_only(hook)


def _on_sign_in_only(hook):
    @functools.wraps(hook)
    def sign_in_hook(arg):
        return hook(arg) if request.endpoint == "auth.sign_in" else arg
    return sign_in_hook


class SendingLimit:
    """RATELIMIT_CHAT: one budget for every way of sending (a retry costs as much as a
    question), counted in the Limiter's own storage (so RATELIMIT_STORAGE_URI shares it) by its
    own strategy, with the limit parsed once. (Its decorator resolves and parses a limit anew at
    every request: 0.3 ms of a turn's 3.)"""

    def __init__(self, limiter, value):
        self.limiter, self.value, self.item = limiter, value, parse(value)

    def guard(self, view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            self.check()
            return view(*args, **kwargs)
        return limited

    def check(self):
        key = sender()
        if self.limiter.enabled and not self.limiter.limiter.hit(self.item, "sending", key):
            reset_at = self.limiter.limiter.get_window_stats(self.item, "sending", key).reset_time
            raise TooManyRequests("You are sending messages faster than this server allows "
                                  f"({self.value}). Wait a little, then send again.",
                                  retry_after=max(1, math.ceil(reset_at - time.time())))


def seconds_to_wait(error):
    """How long until the limit just exceeded lets a request through again (Retry-After)."""
    if isinstance(getattr(error, "retry_after", None), int):
        return error.retry_after
    limit = current_app.extensions["rate_limiter"].current_limit
    return max(1, math.ceil(limit.window[0] - time.time())) if limit else 60
