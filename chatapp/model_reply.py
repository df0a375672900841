"""A model's answer read off the wire: a whole reply (Completion), or a streamed one (ReplyStream)
as the upstream writes it. ModelClient sends the request; this module only reads what comes back.
Every text read here is made valid Unicode (`unicode_text`) before anything else sees it."""
import json
from dataclasses import dataclass

import urllib3

from .errors import ModelError
from .json_input import SURROGATE
from .sse import SSEDecoder

READ_SIZE = 65536  # read1 returns whatever has arrived, up to this: it never waits to fill it
DRAIN_SECONDS = 0.25  # how long to wait for a body's end after [DONE] (urllib3 resets it per call)


def unicode_text(text):
    """`text` as valid Unicode: a lone surrogate (from a JSON escape such as \\ud800, which
    Python reads as it is, but no database stores and no page encodes) becomes U+FFFD."""
    if not SURROGATE.search(text):  # nearly always: a search is cheaper than the round trip
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Completion:
    """A whole reply: its text, why it ended, and the tokens it took (None if not reported)."""
    text: str
    finish_reason: str
    usage: dict | None = None


def read_completion(response):
    """A whole reply's Completion from its 200 answer; ModelError if it cannot be read."""
    try:
        body = response.json()
        choice = body["choices"][0]
        content = choice["message"].get("content") or choice["message"].get("refusal")
        finish_reason = choice.get("finish_reason") or "stop"
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        content = None
    if not isinstance(content, str) or not content:
        raise ModelError("bad_response", "The model service sent an answer that could not be read.")
    return Completion(unicode_text(content), unicode_text(str(finish_reason)), _usage(body))


def _usage(body):
    """{prompt_tokens, completion_tokens} from a body's `usage`, or None if it has none."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    counts = {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens")}
    # A count is a whole number of tokens: a bool (an int to Python) or a negative is not one.
    counts = {key: value if type(value) is int and value >= 0 else None
              for key, value in counts.items()}
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
            self.finish_reason = unicode_text(choice["finish_reason"])
        delta = choice.get("delta")
        text = delta.get("content") or delta.get("refusal") if isinstance(delta, dict) else None
        return unicode_text(text) if isinstance(text, str) else None
