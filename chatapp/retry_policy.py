"""Which failed upstream calls are asked again, and after how long: the official OpenAI client's
rules (openai-python), so a passing fault (a 503, a rate limit, a dropped connection) costs a
short wait instead of an error. ModelClient applies them; this module sends nothing."""
import email.utils
import random
import time

RETRIED_STATUSES = frozenset({408, 409, 429})  # and every 5xx
FIRST_WAIT = 0.5  # seconds before the first retry; doubled for each one after
LONGEST_WAIT = 8.0
# A longer retry-after is not believed (a misconfigured proxy, a date far off): the computed
# wait is used instead, as the official client does.
LONGEST_RETRY_AFTER = 60.0


def out_of_credit(response):
    """A 429 saying the account has no credit left: asking again cannot help."""
    if response.status_code != 429:
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and "insufficient_quota" in (error.get("code"), error.get("type"))


def worth_retrying(response):
    """A status that may pass by itself (a 400, 401, 403 or 404 will not)."""
    status = response.status_code
    return (status in RETRIED_STATUSES or status >= 500) and not out_of_credit(response)


class RetryPolicy:
    """At most `max_retries` retries per call. `sleep`, `random` and `clock` are time.sleep,
    random.random and time.time unless given: tests record the waits instead of waiting."""

    def __init__(self, max_retries=2, sleep=None, random=random.random, clock=time.time):
        self.max_retries = max(0, max_retries)
        self.sleep = sleep
        self.random = random
        self.clock = clock

    def wait(self, retries_done, headers=None):
        """Seconds to wait before retry number `retries_done + 1`: what the upstream asked for
        (retry-after-ms, else retry-after) if it is over 0 and at most 60 s, else 0.5 s doubled
        per retry done, at most 8 s, less up to a quarter at random (so callers spread out)."""
        asked = self._retry_after(headers) if headers is not None else None
        if asked is not None and 0 < asked <= LONGEST_RETRY_AFTER:
            return asked
        backoff = min(FIRST_WAIT * 2.0 ** min(retries_done, 16), LONGEST_WAIT)
        return backoff * (1 - 0.25 * self.random())

    def longest_wait(self):
        """The longest a retry may wait (0 when there are no retries)."""
        return LONGEST_RETRY_AFTER if self.max_retries else 0.0

    def pause(self, seconds):
        # time.sleep looked up now, not at import: under gevent it is patched to yield.
        (self.sleep or time.sleep)(seconds)

    def _retry_after(self, headers):
        """Seconds from `retry-after-ms`, else `retry-after` (seconds or an HTTP date); None if
        neither can be read."""
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return float(headers.get(name)) * scale
            except (TypeError, ValueError):
                pass
        when = email.utils.parsedate_tz(headers.get("retry-after") or "")
        return None if when is None else email.utils.mktime_tz(when) - self.clock()
