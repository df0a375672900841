"""A turn whose reply is streamed as it is written (POST /api/chat with "stream": true).

`reply_events` is a generator of (event, data) pairs: `thread` first, a `token` per piece of
text, then exactly one `done` or `error`. It owns what must happen however it ends: the reply is
stored once, whole, or as far as it got when the person stopped it or the client went away
(`interrupted`) or the upstream broke off (`failed`). Knows nothing of Flask or of SSE framing."""
import functools
import logging
import time

from .errors import ChatAppError, ModelError
from .markdown import render_markdown
from .models import FAILED, INTERRUPTED

log = logging.getLogger(__name__)


def reply_events(service, turn):
    """The events of answering `turn` (see the module docstring)."""
    thread_id = turn.thread.thread_id
    yield "thread", {"threadId": thread_id, "title": turn.thread.title}
    reply = _Reply(service, turn)
    try:
        yield from reply.tokens()
        saved = reply.save(reply.stream.finish_reason or "stop")
        yield "done", {"threadId": thread_id, "title": turn.thread.title,
                       "reply": saved.content, "timestamp": saved.timestamp,
                       "html": str(render_markdown(saved.content)),
                       "finishReason": saved.finish_reason, "usage": saved.usage}
    except ChatAppError as error:  # the upstream or the database failed
        reply.end_early(FAILED, error)
        yield "error", {"error": {"code": error.code, "message": error.message},
                        "threadId": thread_id}
    except Exception:
        log.exception("Streaming a reply in thread %s failed", thread_id)
        reply.end_early(FAILED)
        yield "error", {"error": {"code": "internal_error",
                                  "message": "Something went wrong on the server."},
                        "threadId": thread_id}
    except GeneratorExit:  # the client went away, or pressed Stop
        reply.end_early(INTERRUPTED)
        raise
    except BaseException:  # the server is stopping, and ends what is still being written
        reply.end_early(INTERRUPTED)
        yield "error", {"error": {"code": "server_stopping", "message":
                                  "The server is restarting, so this reply was cut short."},
                        "threadId": thread_id}
        raise
    finally:
        reply.close()


class _Reply:
    """One streamed reply's text so far, and the duty to store it exactly once."""

    def __init__(self, service, turn):
        self.service = service
        self.turn = turn
        self.parts = []
        self.stream = None
        self.done = False  # stored, or given up: nothing more to do

    def tokens(self):
        keep_claim = functools.partial(self.service.extend_claim, self.turn)
        self.stream = self.service.model.stream(self.service.prompt(self.turn),
                                                self.service.model_for(self.turn.thread),
                                                on_retry=keep_claim)
        renew_at = self._renewal_time()
        for delta in self.stream:
            self.parts.append(delta)
            yield "token", {"delta": delta}
            if time.monotonic() > renew_at:
                keep_claim()
                renew_at = self._renewal_time()
        if not self.parts:
            reason = self.stream.finish_reason
            raise ModelError("bad_response", "The model service sent an empty answer"
                             + (f" (it stopped with “{reason}”)." if reason else "."))

    def save(self, finish_reason):
        self.done = True
        return self.service.save_reply(self.turn, "".join(self.parts), finish_reason,
                                       self.stream.usage if self.stream else None)

    def end_early(self, finish_reason, error=None):
        """Keep what was written (if anything) as a reply cut short, else free the question."""
        if self.done:
            return
        if self.parts:
            try:
                self.save(finish_reason)
            except ChatAppError as store_error:
                log.error("A cut-short reply in thread %s was lost: %s",
                          self.turn.thread.thread_id, store_error.message)
        else:
            self.done = True
            try:
                self.service.give_up(self.turn, error or ModelError(finish_reason, "Stopped."))
            except ChatAppError:  # the claim lapses by itself
                pass

    def close(self):
        if self.stream is not None:
            self.stream.close()

    def _renewal_time(self):
        return time.monotonic() + self.service.claim_seconds / 2
