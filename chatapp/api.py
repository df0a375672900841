"""The JSON API, in the reference design's shapes (POST /api/chat, GET|DELETE /api/thread...)."""
from contextlib import closing

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from . import get_chat_service
from .chat import validate_thread_id
from .errors import InvalidInput, ThreadNotFound, UnsupportedMediaType
from .errorhandlers import json_error
from .sse import encode_event
from .store import get_store
from .streaming import reply_events

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PAGE_SIZE = 100


@bp.get("/thread")
def list_threads():
    limit = _page_size()
    page = get_store().list_threads(limit, request.args.get("cursor"))
    response = jsonify([thread.to_json() for thread in page.threads])
    if page.next_cursor:
        next_url = url_for(".list_threads", limit=limit, cursor=page.next_cursor, _external=True)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.get("/thread/<thread_id>")
def thread_messages(thread_id):
    store = get_store()
    if store.get_thread(validate_thread_id(thread_id)) is None:
        raise ThreadNotFound(thread_id)
    return jsonify([message.to_json() for message in store.messages(thread_id)])


@bp.delete("/thread/<thread_id>")
def delete_thread(thread_id):
    if not get_store().delete_thread(validate_thread_id(thread_id)):
        raise ThreadNotFound(thread_id)
    return jsonify({"success": "Thread deleted successfully", "threadId": thread_id})


@bp.post("/chat")
def chat():
    body = _json_object()
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidInput("stream must be true or false.")
    service = get_chat_service()
    if stream:
        turn = service.begin(body.get("message"), body.get("threadId"))
        return Response(_event_stream(reply_events(service, turn)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    result = service.send(body.get("message"), body.get("threadId"))
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


def _json_object():
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput('The body must be a JSON object, e.g. {"message": "Hello"}.')
    return body


def _page_size():
    raw = request.args.get("limit", str(current_app.config["THREADS_PER_PAGE"]))
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(raw)
