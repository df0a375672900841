"""GET /api/thread/<threadId>/export?format=md|json (a download) and POST /api/thread/import
(an export back in, under its own threadId: 201, or 409 if that id is taken)."""
import json

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from ..chat import existing_thread
from ..errors import InvalidInput, UnsupportedMediaType
from ..store import get_store
from .document import content_disposition, download_name, to_document, to_markdown
from .validate import read_document

bp = Blueprint("transfer", __name__, url_prefix="/api")
FORMATS = {  # ?format= -> (how to write it, media type, file extension)
    "json": (lambda thread, messages: json.dumps(to_document(thread, messages),
                                                 ensure_ascii=False, indent=2) + "\n",
             "application/json", "json"),
    "md": (to_markdown, "text/markdown", "md"),  # Flask adds "; charset=utf-8" to text/*
}


@bp.get("/thread/<thread_id>/export")
def export_thread(thread_id):
    store = get_store()
    chosen = request.args.get("format", "json")
    if chosen not in FORMATS:
        raise InvalidInput('format must be "md" (Markdown) or "json".')
    thread = existing_thread(store, thread_id)
    write, mimetype, extension = FORMATS[chosen]
    response = Response(write(thread, store.messages(thread_id)), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(download_name(thread, extension))
    response.headers["Cache-Control"] = "no-store"  # a conversation is private and changes
    return response


@bp.post("/thread/import")
def import_thread():
    if not request.is_json:
        raise UnsupportedMediaType("Send the conversation as JSON with "
                                   "Content-Type: application/json.")
    body = request.get_json(silent=True)
    if body is None and request.get_data().strip() != b"null":
        raise InvalidInput("The body is not valid JSON.")
    thread, messages = read_document(body, current_app.config["MAX_MESSAGE_CHARS"])
    stored = get_store().import_thread(thread, messages)
    location = url_for("api.thread_messages", thread_id=stored.thread_id)
    return jsonify(stored.to_json()), 201, {"Location": location}
