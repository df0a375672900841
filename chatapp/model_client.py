"""Calls an OpenAI-compatible chat completions endpoint with plain `requests`."""
import os
import queue
from contextlib import contextmanager

import requests

from .errors import ModelError


class ModelClient:
    def __init__(self, api_key, base_url, model, timeout):
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        # Keep-alive sessions, each lent to one call at a time (requests.Session is not promised
        # to be thread-safe) and then kept for the next. Not one per thread: some servers run
        # each request on a new thread, which would open a new connection every turn.
        self._idle = queue.LifoQueue()
        # What requests would read from the environment on every call (proxies, CA bundle), read
        # once: scanning the environment was a third of the app's own time per turn.
        self._proxies = requests.utils.get_environ_proxies(self.base_url)
        self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def __repr__(self):  # never show the key
        return f"ModelClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def configured(self):
        return bool(self._api_key)

    def complete(self, messages):
        """Send `[{role, content}, ...]` and return the assistant's reply text."""
        if not self._api_key:
            raise ModelError(
                "not_configured",
                "No OpenAI API key is set. Put OPENAI_API_KEY=... in the .env file and restart.",
            )
        try:
            with self._session() as session:
                response = session.post(
                    f"{self.base_url}/chat/completions",
                    json={"model": self.model, "messages": messages},
                    headers={"Authorization": f"Bearer {self._api_key}"},
                    timeout=self.timeout,
                )
        except requests.Timeout:
            raise ModelError(
                "timeout", f"The model did not answer within {self.timeout:g} seconds. Try again."
            ) from None
        except requests.RequestException:
            raise ModelError(
                "unreachable", f"Could not connect to the model service at {self.base_url}."
            ) from None
        if response.status_code != 200:
            raise self._http_error(response)
        return self._reply_text(response)

    @contextmanager
    def _session(self):
        try:
            session = self._idle.get_nowait()
        except queue.Empty:
            session = requests.Session()
            session.trust_env = False
            session.proxies, session.verify = self._proxies, self._verify
        try:
            yield session
        finally:
            self._idle.put(session)

    def _http_error(self, response):
        status = response.status_code
        if status in (401, 403):
            return ModelError(
                "auth", f"The model service refused the API key (HTTP {status}). Check OPENAI_API_KEY."
            )
        if status == 429:
            return ModelError(
                "rate_limited",
                "The model service is rate-limiting requests or the account is out of quota "
                "(HTTP 429). Try again in a moment.",
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
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return f": {text.strip()[:300]}"

    @staticmethod
    def _reply_text(response):
        try:
            message = response.json()["choices"][0]["message"]
            content = message.get("content") or message.get("refusal")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            content = None
        if not isinstance(content, str) or not content:
            raise ModelError("bad_response", "The model service sent an answer that could not be read.")
        return content
