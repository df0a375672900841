"""The HTML pages: a sidebar of threads and a chat pane. Forms post, then redirect (PRG)."""
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)

from . import get_chat_service
from .chat import THREAD_ID_PATTERN
from .errors import InvalidInput, TurnInProgress
from .markdown import highlight_css
from .models import FAILED, INTERRUPTED, utc_now
from .store import get_store

bp = Blueprint("web", __name__)
CUT_SHORT_NOTES = {
    INTERRUPTED: "Stopped: this reply was cut short.",
    FAILED: "The model broke off: this reply is incomplete.",
}


# No inline scripts, no framing, no foreign resources: a second wall behind the escaping of replies.
# (Inline styles stay allowed: Markdown tables align their columns with style attributes.)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@bp.after_app_request
def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.get("/")
def new_chat():
    return _render_chat(None)


@bp.get("/thread/<thread_id>")
def show_thread(thread_id):
    return _render_chat(_thread_or_404(thread_id))


@bp.post("/")
@bp.post("/thread/<thread_id>")
def send(thread_id=None):
    try:
        result = get_chat_service().send(request.form.get("message"), thread_id)
    except InvalidInput as error:
        # Show the same page again with the person's text still in the composer.
        thread = get_store().get_thread(thread_id) if _valid_id(thread_id) else None
        return _render_chat(thread, draft=request.form.get("message", ""),
                            composer_error=error.message, status=400)
    if result.error:
        flash(result.error.message, "error")
    return _redirect_to_latest(result.thread.thread_id)


@bp.post("/thread/<thread_id>/retry")
def retry(thread_id):
    _thread_or_404(thread_id)
    try:
        result = get_chat_service().retry(thread_id)
    except (InvalidInput, TurnInProgress) as error:
        flash(error.message, "error")
    else:
        if result.error:
            flash(result.error.message, "error")
    return _redirect_to_latest(thread_id)


@bp.post("/thread/<thread_id>/delete")
def delete(thread_id):
    if _valid_id(thread_id) and get_store().delete_thread(thread_id):
        flash("Conversation deleted.", "info")
    return redirect(url_for(".new_chat"))


@bp.get("/highlight.css")
def code_colours():
    response = Response(highlight_css(), mimetype="text/css")
    response.cache_control.public, response.cache_control.max_age = True, 86400
    return response


def _redirect_to_latest(thread_id):
    # The fragment scrolls the pane to the newest message even without JavaScript.
    return redirect(url_for(".show_thread", thread_id=thread_id, _anchor="latest"))


def _valid_id(thread_id):
    return thread_id is not None and THREAD_ID_PATTERN.fullmatch(thread_id) is not None


def _thread_or_404(thread_id):
    thread = get_store().get_thread(thread_id) if _valid_id(thread_id) else None
    if thread is None:
        abort(404, "This conversation does not exist. It may have been deleted.")
    return thread


def _being_answered(messages):
    """True while the last question's reply is being written (in another tab, say)."""
    last = messages[-1] if messages else None
    return bool(last and last.role == "user" and last.claimed_until
                and last.claimed_until > utc_now())


def _retry_offer(messages):
    """What to say beside Retry, when the last question has no whole reply; else None."""
    if not messages or _being_answered(messages):
        return None
    if messages[-1].role == "user":
        return "This message has no reply yet."
    if messages[-1].cut_short:
        return "Ask again for a whole reply."
    return None


def _render_chat(thread, draft="", composer_error=None, status=200):
    store = get_store()
    sidebar = store.list_threads(current_app.config["THREADS_PER_PAGE"], request.args.get("cursor"))
    messages = store.messages(thread.thread_id) if thread else []
    return render_template(
        "chat.html",
        thread=thread,
        messages=messages,
        sidebar=sidebar,
        retry_offer=_retry_offer(messages),
        being_answered=_being_answered(messages),
        CUT_SHORT_NOTES=CUT_SHORT_NOTES,
        model_configured=get_chat_service().model.configured,
        max_message_chars=current_app.config["MAX_MESSAGE_CHARS"],
        draft=draft,
        composer_error=composer_error,
    ), status
