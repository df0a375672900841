"""The HTML pages: a sidebar of threads and a chat pane. Forms post, then redirect (PRG)."""
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)

from . import get_chat_service, titles
from .chat import THREAD_ID_PATTERN
from .day_groups import group_by_day
from .errors import InvalidInput, TurnInProgress
from .markdown import highlight_css
from .models import FAILED, INTERRUPTED
from .search import MAX_QUERY_CHARS, search_query, sidebar_page
from .store import get_store

bp = Blueprint("web", __name__)
CUT_SHORT_NOTES = {
    INTERRUPTED: "Stopped: this reply was cut short.",
    FAILED: "The model broke off: this reply is incomplete.",
}


@bp.get("/")
def new_chat():
    return _render_chat(None)


@bp.get("/thread/<thread_id>")
def show_thread(thread_id):
    thread = _thread_or_404(thread_id)
    # ?rename=1: with a form to rename it (the no-JavaScript way; rename.js renames inline)
    renaming = request.args.get("rename") is not None
    # ?edit=last: the last question as a form to reword it (redo.js edits it in place)
    editing = request.args.get("edit") == "last"
    return _render_chat(thread, rename={"title": thread.title} if renaming else None,
                        edit={} if editing else None)


@bp.post("/")
@bp.post("/thread/<thread_id>")
def send(thread_id=None):
    try:
        result = get_chat_service().send(request.form.get("message"), thread_id,
                                         request.form.get("model"))
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
    return _answer_again(thread_id, lambda service: service.retry(thread_id))


@bp.post("/thread/<thread_id>/regenerate")
def regenerate(thread_id):
    return _answer_again(thread_id, lambda service: service.regenerate(thread_id))


@bp.post("/thread/<thread_id>/edit")
def edit(thread_id):
    thread = _thread_or_404(thread_id)
    words = request.form.get("message")
    try:
        result = get_chat_service().edit(thread_id, words)
    except InvalidInput as error:  # the form again, with what was typed and what is wrong
        return _render_chat(thread, edit={"draft": words or "", "error": error.message},
                            status=400)
    except TurnInProgress as error:
        flash(error.message, "error")
    else:
        if result.error:
            flash(result.error.message, "error")
    return _redirect_to_latest(thread_id)


def _answer_again(thread_id, turn):
    """Retry or Regenerate from a form: the whole reply, or a notice why not; then the thread."""
    _thread_or_404(thread_id)
    try:
        result = turn(get_chat_service())
    except (InvalidInput, TurnInProgress) as error:
        flash(error.message, "error")
    else:
        if result.error:
            flash(result.error.message, "error")
    return _redirect_to_latest(thread_id)


@bp.post("/thread/<thread_id>/rename")
def rename(thread_id):
    thread = _thread_or_404(thread_id)
    try:
        titles.rename(get_store(), thread_id, request.form.get("title"))
    except InvalidInput as error:  # the form again, with what was typed and what is wrong
        return _render_chat(thread, rename={"title": request.form.get("title", ""),
                                            "error": error.message}, status=400)
    flash("Conversation renamed.", "info")
    return redirect(url_for(".show_thread", thread_id=thread_id))


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


def _last_turn_offers(messages, editing, now):
    """What the page offers for the last turn. The last question is last, or followed by its
    reply; while its reply is being written (in another tab, say, or by Regenerate) nothing
    is offered but that news."""
    question = next((m for m in reversed(messages[-2:]) if m.role == "user"), None)
    answering = bool(question and question.claimed_until and question.claimed_until > now)
    last = messages[-1] if messages else None
    retry = None
    if last and not answering:
        if last.role == "user":
            retry = "This message has no reply yet."
        elif last.cut_short:
            retry = "Ask again for a whole reply."
    editable = None if answering else question
    return {
        "being_answered": answering,
        "retry_offer": retry,
        # A whole reply is offered Regenerate (a cut-short one, Retry).
        "regenerate_offer": bool(last and last.role == "assistant" and not last.cut_short
                                 and not answering),
        # The message shown as the edit form, or with an Edit link under it (None: neither).
        "edit_form_for": editable if editing else None,
        "edit_link_for": None if editing else editable,
    }


def _chosen_model(service, thread):
    """The picker's choice: what was just posted (shown again after bad input), else the
    conversation's model."""
    posted = request.form.get("model")
    if posted in service.models:
        return posted
    return service.model_for(thread) if thread else service.models[0]


def _search_asked():
    """The sidebar's search (None: none) and what is wrong with it (None: nothing)."""
    try:
        return search_query(request.args.get("q")), None
    except InvalidInput as error:  # shown above the plain list
        return None, error.message


def _render_chat(thread, draft="", composer_error=None, status=200, rename=None, edit=None):
    store, service = get_store(), get_chat_service()
    search, search_error = _search_asked()
    sidebar = sidebar_page(store, search, current_app.config["THREADS_PER_PAGE"],
                           request.args.get("cursor"))
    messages = store.messages(thread.thread_id) if thread else []
    now = service.clock()  # one clock for the page (a test's, in tests)
    return render_template(
        "chat.html",
        thread=thread,
        messages=messages,
        sidebar=sidebar,
        sidebar_groups=group_by_day(sidebar.threads, now),
        sidebar_times=" ".join(item.updated_at for item in sidebar.threads),
        search=search,
        search_error=search_error,
        max_search_chars=MAX_QUERY_CHARS,
        CUT_SHORT_NOTES=CUT_SHORT_NOTES,
        model_configured=service.model.configured,
        models=service.models,
        chosen_model=_chosen_model(service, thread),
        rename=rename,
        edit=edit,  # {} to show the edit form; after bad input, {"draft", "error"}
        max_message_chars=current_app.config["MAX_MESSAGE_CHARS"],
        draft=draft,
        composer_error=composer_error,
        **_last_turn_offers(messages, editing=edit is not None, now=now),
    ), 400 if search_error else status
