"""Calls an OpenAI-compatible chat completions endpoint with plain `requests`, whole or streamed.
The only module that speaks to the upstream: its wire format goes no further than this file."""
import json
import os
import queue
from contextlib import contextmanager
from dataclasses import dataclass

import requests
import urllib3

from .errors import ModelError
from .sse import SSEDecoder

READ_SIZE = 65536  # read1 returns whatever has arrived, up to this: it never waits to fill it
MAX_IDLE_SESSIONS = 32  # kept-alive upstream connections waiting for the next call
DRAIN_SECONDS = 0.25  # how long to wait for a body's end after [DONE] (urllib3 resets it per call)


@dataclass(frozen=True)
class Completion:
    """A whole reply: its text, why it ended, and the tokens it took (None if not reported)."""
    text: str
    finish_reason: str
    usage: dict | None = None


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

    def complete(self, messages, model=None):
        """Send `[{role, content}, ...]` to `model` (default: the client's); return the reply
        as a Completion."""
        with self._session() as session:
            response = self._post(session, {"model": model or self.model, "messages": messages})
        if response.status_code != 200:
            raise self._http_error(response)
        return self._reply(response)

    def stream(self, messages, model=None):
        """Send `[{role, content}, ...]` to `model` (default: the client's) asking for a stream;
        return a ReplyStream of its text. A failure to start raises ModelError here; one
        midway, while iterating."""
        session = self._take_session()
        try:
            response = self._post(session, {
                "model": model or self.model, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}}, stream=True)
            if response.status_code != 200:
                response.content  # an error body is small: read it whole
                raise self._http_error(response)
        except BaseException:
            self._give_back(session)
            raise
        return ReplyStream(response, self, lambda: self._give_back(session))

    def _post(self, session, body, stream=False):
        if not self._api_key:
            raise ModelError(
                "not_configured",
                "No OpenAI API key is set. Put OPENAI_API_KEY=... in the .env file and restart.",
            )
        if self._request is None:
            raise self._unreachable()
        request = self._request.copy()
        request.prepare_body(data=None, files=None, json=body)
        try:
            return session.send(request, stream=stream, timeout=self.timeout,
                                proxies=self._proxies, verify=self._verify)
        except requests.Timeout:
            raise self.timeout_error() from None
        except requests.RequestException:
            raise self._unreachable() from None

    def _unreachable(self):
        return ModelError("unreachable",
                          f"Could not connect to the model service at {self.base_url}.")

    def timeout_error(self):
        return ModelError(
            "timeout", f"The model did not answer within {self.timeout:g} seconds. Try again.")

    def scrub(self, text):
        """Upstream text as it may be shown: cut short, and the key never in it."""
        text = text.strip()[:300]
        return text.replace(self._api_key, "***") if self._api_key else text

    def _take_session(self):
        try:
            return self._idle.get_nowait()
        except queue.Empty:
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
        if self._idle.qsize() < MAX_IDLE_SESSIONS:
            self._idle.put(session)
        else:
            session.close()

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
        return f": {self.scrub(text)}"

    @staticmethod
    def _reply(response):
        try:
            body = response.json()
            choice = body["choices"][0]
            content = choice["message"].get("content") or choice["message"].get("refusal")
            finish_reason = choice.get("finish_reason") or "stop"
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            content = None
        if not isinstance(content, str) or not content:
            raise ModelError("bad_response", "The model service sent an answer that could not be read.")
        return Completion(content, str(finish_reason), _usage(body))


def _usage(body):
    """{prompt_tokens, completion_tokens} from a body's `usage`, or None if it has none."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    counts = {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens")}
    counts = {key: value if isinstance(value, int) else None for key, value in counts.items()}
    return counts if any(value is not None for value in counts.values()) else None


class ReplyStream:
    """The text of a streamed reply, piece by piece, as the upstream sends it. After the loop,
    `finish_reason` and `usage` say how it ended. Iterating raises ModelError if the upstream
    breaks off or sends an error; `close()` (or leaving the loop early) hangs up on it."""

    def __init__(self, response, client, release):
        self._response = response
        self._client = client
        self._release = release
        self.finish_reason = None
        self.usage = None

    def __iter__(self):
        decoder = SSEDecoder()
        try:
            while True:
                chunk = self._read()
                events = decoder.feed(chunk) if chunk else decoder.close()
                for data in events:
                    if data.strip() == "[DONE]":
                        self._drain()
                        return
                    delta = self._delta(data)
                    if delta:
                        yield delta
                if not chunk:  # ended without [DONE], which some servers never send
                    if self.finish_reason is None:  # nor said it was done: cut off
                        raise ModelError("broken", "The model service broke off its answer.")
                    return
        finally:
            self.close()

    def close(self):
        if self._release:
            self._response.close()  # unread? then the connection is dropped, not reused
            self._release()
            self._release = None

    def _drain(self):
        """Read the body's end after [DONE] (it follows at once), so the connection is kept for
        the next call instead of dropped: one handshake less per reply (as OpenAI's SDK does).
        Briefly: a server slow to end the body must not hold back a reply that is whole."""
        try:
            self._response.raw.connection.sock.settimeout(DRAIN_SECONDS)
            while self._response.raw.read1(READ_SIZE, decode_content=True):
                pass
        except (urllib3.exceptions.HTTPError, OSError, AttributeError):
            pass  # the reply is whole; only the connection is lost

    def _read(self):
        try:
            # decode_content: requests asks for gzip, and undoes it only for its own readers.
            return self._response.raw.read1(READ_SIZE, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            raise self._client.timeout_error() from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise ModelError("broken", "The model service broke off its answer.") from None

    def _delta(self, data):
        """The text in one chunk of the stream, noting its finish reason and usage."""
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ModelError("bad_response",
                             "The model service sent a stream that could not be read.") from None
        if not isinstance(chunk, dict):
            return None
        if isinstance(chunk.get("error"), dict):  # an error sent inside the stream
            message = chunk["error"].get("message")
            detail = f": {self._client.scrub(message)}" if isinstance(message, str) else "."
            raise ModelError("upstream", f"The model service stopped with an error{detail}")
        self.usage = _usage(chunk) or self.usage
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None  # e.g. a first chunk of filter results, or the usage chunk
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        text = delta.get("content") or delta.get("refusal") if isinstance(delta, dict) else None
        return text if isinstance(text, str) else None
