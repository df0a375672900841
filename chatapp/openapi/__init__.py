"""GET /api/openapi.json: an OpenAPI 3.1 description of the whole JSON API (and GET /healthz),
built for this app's settings (the longest message, the models offered, whether sign-in is
required), so what it says is what this server does. Public, like the sign-in page: it holds
nothing a stranger could not read in the README. tests/test_openapi.py holds every answer the
API gives to it, and schemathesis fuzzes the API against it."""
from flask import Blueprint, current_app, jsonify

from .paths import error_responses, paths
from .schemas import schemas

bp = Blueprint("openapi", __name__, url_prefix="/api")
VERSION = "3.1.0"


@bp.get("/openapi.json")
def description():
    response = jsonify(document(current_app.config))
    response.cache_control.no_cache = True  # it changes with the settings
    return response


def document(config):
    """The OpenAPI document (a dict) for an app with this config."""
    return {
        "openapi": VERSION,
        "info": {"title": "chatapp JSON API", "version": "1", "description": _ABOUT},
        "paths": paths(config),
        "components": {"schemas": schemas(config), "responses": error_responses(),
                       "securitySchemes": _security_schemes(config)},
        "security": _security(config),
    }


def _security_schemes(config):
    return {
        "bearerToken": {"type": "http", "scheme": "bearer", "description": (
            "A personal API token: `flask --app wsgi users token NAME` prints one.")},
        "sessionCookie": {"type": "apiKey", "in": "cookie",
                          "name": config["SESSION_COOKIE_NAME"], "description": (
                              "The session of a person signed in at /signin (the pages' own "
                              "calls). Its writes must come from this site's pages.")},
    }


def _security(config):
    """Either credential; with LOGIN_REQUIRED off, none is needed too (a token still scopes the
    call to its user's conversations)."""
    either = [{"bearerToken": []}, {"sessionCookie": []}]
    return either if config["LOGIN_REQUIRED"] else [{}, *either]


_ABOUT = (
    "Conversations with a model, in the shapes of the reference design. Every body the API "
    "reads is JSON sent as `application/json`, nested at most 32 levels deep, its strings "
    "Unicode text (no lone surrogates) and its whole numbers within 64 bits; anything else is "
    "a 400 that names the field. Every error is `{\"error\": {\"code\", \"message\"}}` (a "
    "model failure adds the `threadId` where the question is stored). Times are ISO 8601 in "
    "UTC. See the README's JSON API section for examples."
)
