"""Errors as JSON under /api and as a page everywhere else."""
from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import limits
from .errors import ChatAppError

FRIENDLY_HTTP = {
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request is too large."),
}


def json_error(error, **extra):
    body = {"code": error.code, "message": error.message, **extra}
    return jsonify({"error": body}), error.status


def register(app):
    app.register_error_handler(ChatAppError, _handle)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)


def under_api():
    return request.path == "/api" or request.path.startswith("/api/")


def _handle(error):
    if under_api():
        return json_error(error)
    # A form post that failed keeps the person's text on the error page, so nothing is lost.
    return render_template("error.html", status=error.status, message=error.message,
                           draft=_draft()), error.status


def _draft():
    try:
        return request.form.get("message", "")
    except HTTPException:  # e.g. the body was too large to read
        return ""


def _handle_csrf(error):
    return _handle(ChatAppError(
        "This form has expired or did not come from this site. Reload the page and send it again.",
        status=400, code="csrf_failed"))


def _handle_http(error):
    code, message = FRIENDLY_HTTP.get(error.code, (None, error.description))
    code = code or (error.name or "error").lower().replace(" ", "_")
    if error.description != type(error).description:  # a view's own words (abort(404, "..."))
        message = error.description
    if error.code == 413:
        limit = request.max_content_length
        message = f"The request is larger than the limit of {limit:,} bytes." if limit else message
    response = _handle(ChatAppError(message, status=error.code, code=code))
    if error.code == 429:  # over a rate limit (chatapp/limits.py): say when to come back
        body, status = response
        return body, status, {"Retry-After": str(limits.seconds_to_wait(error))}
    return response


def _handle_unexpected(error):
    current_app.logger.exception("Unexpected error on %s %s", request.method, request.path)
    return _handle(ChatAppError("Something went wrong on the server."))
