"""Calls an OpenAI-compatible chat completions endpoint with plain `requests`, whole or streamed,
asking again when a failure may pass (retry_policy.py). The only module that speaks to the
upstream; model_reply.py reads its answers. The wire format goes no further than these two."""
import logging
import os
from contextlib import contextmanager

import requests

from .errors import ModelError
from .model_reply import ReplyStream, read_completion, unicode_text
from .retry_policy import RetryPolicy, out_of_credit, worth_retrying

log = logging.getLogger(__name__)

MAX_IDLE_SESSIONS = 32  # kept-alive upstream connections waiting for the next call
# Failures to get an answer at all, asked again: a refused or dropped connection, no answer in
# time, a whole answer cut off. Any other (e.g. a malformed address) would fail the same again.
RETRIED_FAILURES = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError)


class ModelClient:
    def __init__(self, api_key, base_url, model, timeout, retries=None):
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.retries = retries or RetryPolicy(max_retries=0)  # a RetryPolicy; None: ask once
        # Keep-alive sessions, each lent to one call at a time (requests.Session is not promised
        # to be thread-safe) and then kept for the next. Not one per thread: some servers run
        # each request on a new thread, which would open a new connection every turn.
        self._idle = []  # the most recent last; append and pop are atomic: no lock needed
        # What requests would read from the environment on every call (proxies, CA bundle), read
        # once: scanning the environment was a third of the app's own time per turn.
        self._proxies = requests.utils.get_environ_proxies(self.base_url)
        self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # Every call goes to one address with the same headers: prepared once, only the body
        # each time (requests would parse the address and merge the session's settings anew,
        # most of its own time per call). None: a malformed address, said at each call.
        try:
            self._request = requests.Request(
                "POST", f"{self.base_url}/chat/completions",
                headers={**requests.utils.default_headers(), "Authorization": f"Bearer {api_key}"},
            ).prepare()
        except requests.RequestException:
            self._request = None

    def __repr__(self):  # never show the key
        return f"ModelClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def configured(self):
        return bool(self._api_key)

    def complete(self, messages, model=None, on_retry=None):
        """Send `[{role, content}, ...]` to `model` (default: the client's); return the reply
        as a Completion. `on_retry()` is called before and after each wait to retry."""
        with self._session() as session:
            response = self._send(session, {"model": model or self.model, "messages": messages},
                                  on_retry=on_retry)
        if response.status_code != 200:
            raise self._http_error(response)
        return read_completion(response)

    def stream(self, messages, model=None, on_retry=None):
        """Send `[{role, content}, ...]` to `model` (default: the client's) asking for a stream;
        return a ReplyStream of its text. A failure to start raises ModelError here (after any
        retries, `on_retry()` called as in complete); one midway, while iterating, and it is
        never retried: text has gone out."""
        session = self._take_session()
        try:
            response = self._send(session, {
                "model": model or self.model, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}}, stream=True, on_retry=on_retry)
            if response.status_code != 200:
                raise self._http_error(response)
        except BaseException:
            self._give_back(session)
            raise
        return ReplyStream(response, self, lambda: self._give_back(session))

    def _send(self, session, body, stream=False, on_retry=None):
        """POST `body`, asking again after a wait while the failure may pass (see retry_policy).
        Returns the last answer, whatever its status."""
        if not self._api_key:
            raise ModelError(
                "not_configured",
                "No OpenAI API key is set. Put OPENAI_API_KEY=... in the .env file and restart.",
            )
        for retries_done in range(self.retries.max_retries + 1):
            last_try = retries_done == self.retries.max_retries
            try:
                response = self._post(session, body, stream)
            except RETRIED_FAILURES as failure:
                if last_try:
                    raise self._failure_error(failure) from None
                wait, what = self.retries.wait(retries_done), type(failure).__name__
            else:
                if response.status_code == 200 or last_try or not worth_retrying(response):
                    return response
                wait = self.retries.wait(retries_done, response.headers)
                what = f"HTTP {response.status_code}"
            log.warning("The model service failed (%s); retry %d of %d in %.2f s", what,
                        retries_done + 1, self.retries.max_retries, wait)
            if on_retry:  # the caller's claim on the question must outlast the wait...
                on_retry()
            self.retries.pause(wait)
            if on_retry:  # ...and then the next try
                on_retry()

    def _post(self, session, body, stream):
        if self._request is None:
            raise self._unreachable()
        request = self._request.copy()
        request.prepare_body(data=None, files=None, json=body)
        try:
            response = session.send(request, stream=stream, timeout=self.timeout,
                                    proxies=self._proxies, verify=self._verify)
            if response.status_code != 200:
                response.content  # small: read whole for its message, and to keep the connection
            return response
        except RETRIED_FAILURES:
            raise
        except requests.RequestException:
            raise self._unreachable() from None

    def _failure_error(self, failure):
        return self.timeout_error() if isinstance(failure, requests.Timeout) else self._unreachable()

    def _unreachable(self):
        return ModelError("unreachable",
                          f"Could not connect to the model service at {self.base_url}.")

    def timeout_error(self):
        return ModelError(
            "timeout", f"The model did not answer within {self.timeout:g} seconds. Try again.")

    def scrub(self, text):
        """Upstream text as it may be shown: valid Unicode, cut short, and the key never in it."""
        text = unicode_text(text.strip()[:300])
        return text.replace(self._api_key, "***") if self._api_key else text

    def _take_session(self):
        try:
            return self._idle.pop()
        except IndexError:
            return requests.Session()

    @contextmanager
    def _session(self):
        session = self._take_session()
        try:
            yield session
        finally:
            self._give_back(session)

    def _give_back(self, session):
        # After a burst of streams, keep a few warm connections, not one per stream that ran.
        if len(self._idle) < MAX_IDLE_SESSIONS:
            self._idle.append(session)
        else:
            session.close()

    def _http_error(self, response):
        status = response.status_code
        if status in (401, 403):
            return ModelError(
                "auth", f"The model service refused the API key (HTTP {status}). Check OPENAI_API_KEY."
            )
        if out_of_credit(response):
            return ModelError(
                "out_of_credit",
                "The OpenAI account has run out of credit (HTTP 429), so no model will answer "
                "until someone adds credit to it in its billing settings.",
            )
        if status == 429:
            return ModelError(
                "rate_limited",
                "The model service is rate-limiting requests (HTTP 429). Try again in a moment.",
            )
        if status >= 500:
            return ModelError(
                "upstream", f"The model service had a problem (HTTP {status}). Try again shortly."
            )
        return ModelError(
            "upstream",
            f"The model service rejected the request (HTTP {status}){self._upstream_detail(response)}",
        )

    def _upstream_detail(self, response):
        """The upstream's own error text (e.g. 'context too long'), with the key scrubbed."""
        try:
            text = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return "."
        if not isinstance(text, str) or not text.strip():
            return "."
        return f": {self.scrub(text)}"
