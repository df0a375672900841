"""The JSON API, in the reference design's shapes (POST /api/chat, GET|DELETE /api/thread...)."""
import re
from contextlib import closing

from flask import Blueprint, Response, current_app, jsonify, request

from . import get_chat_service, titles
from .chat import existing_thread, validate_thread_id
from .errors import InvalidInput, ThreadNotFound, UnsupportedMediaType
from .errorhandlers import json_error
from .hosting import external_url
from .search import search_query, sidebar_page
from .sse import encode_event
from .store import get_store
from .streaming import reply_events

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PAGE_SIZE = 100
PAGE_SIZE_TEXT = re.compile(r"[0-9]{1,3}")


@bp.get("/thread")
def list_threads():
    """The conversations, newest first; with ?q=words, only those holding every word."""
    limit, query = _page_size(), search_query(request.args.get("q"))
    page = sidebar_page(get_store(), query, limit, request.args.get("cursor"))
    response = jsonify([thread.to_json() for thread in page.threads])
    if page.next_cursor:
        next_url = external_url("api.list_threads", limit=limit, cursor=page.next_cursor,
                                q=query)  # q=None: left out
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.get("/thread/<thread_id>")
def thread_messages(thread_id):
    store = get_store()
    existing_thread(store, thread_id)
    return jsonify([message.to_json() for message in store.messages(thread_id)])


@bp.delete("/thread/<thread_id>")
def delete_thread(thread_id):
    if not get_store().delete_thread(validate_thread_id(thread_id)):
        raise ThreadNotFound(thread_id)
    return jsonify({"success": "Thread deleted successfully", "threadId": thread_id})


@bp.patch("/thread/<thread_id>")
def rename_thread(thread_id):
    """{"title"}: the person's own title; answers the thread as the list shows it."""
    title = _json_object(example='{"title": "Trip to Rome"}').get("title")
    return jsonify(titles.rename(get_store(), thread_id, title).to_json())


@bp.post("/chat")
def chat():
    body = _json_object()
    stream = _stream_flag(body)
    service = get_chat_service()
    return _answer(service, service.begin(body.get("message"), body.get("threadId"),
                                          body.get("model")), stream)


@bp.post("/thread/<thread_id>/regenerate")
def regenerate(thread_id):
    """The last question answered again; the new reply takes the old one's place once stored.
    The body ({} or {"stream": true}) may be left empty, but is still sent as JSON."""
    body = _json_object(example='{"stream": true}', optional=True)
    stream = _stream_flag(body)
    service = get_chat_service()
    return _answer(service, service.begin_regenerate(thread_id), stream)


@bp.patch("/thread/<thread_id>/messages/last")
def edit_last_message(thread_id):
    """{"content"}: the last question reworded (its old reply goes) and answered anew."""
    body = _json_object(example='{"content": "Hello"}')
    stream = _stream_flag(body)
    service = get_chat_service()
    return _answer(service, service.begin_edit(thread_id, body.get("content")), stream)


def _stream_flag(body):
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidInput("stream must be true or false.")
    return stream


def _answer(service, turn, stream):
    """A claimed turn answered as POST /api/chat answers: events as the reply is written, or
    the whole reply (a model failure as the error JSON with the threadId)."""
    if stream:
        return Response(_event_stream(reply_events(service, turn)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    result = service.answer(turn)
    if result.error:
        # The user's message is stored; the client can show it and try again in this thread.
        return json_error(result.error, threadId=result.thread.thread_id)
    return jsonify({
        "threadId": result.thread.thread_id,
        "title": result.thread.title,
        "reply": result.reply.content,
        "timestamp": result.reply.timestamp,
    })


def _event_stream(events):
    """The events as SSE, each sent as soon as it is made. When the server closes this early
    (the client went away), `closing` hands that on to the events, which keep the partial reply."""
    with closing(events):
        for name, data in events:
            yield encode_event(name, data)


def _json_object(example='{"message": "Hello"}', optional=False):
    """The body, a JSON object. `optional`: an empty body counts as {} (its type must still be
    JSON: a type other sites' pages cannot send without asking, which is why /api takes no
    CSRF token)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    if optional and not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(f"The body must be a JSON object, e.g. {example}.")
    return body


def _page_size():
    raw = request.args.get("limit", str(current_app.config["THREADS_PER_PAGE"]))
    # At most three ASCII digits before int(): int() of thousands of digits raises ValueError.
    if not PAGE_SIZE_TEXT.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(raw)
