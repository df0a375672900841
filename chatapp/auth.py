"""Sign-in: who is asking, loaded once per request onto `g.user`, and the guard that keeps
everyone else out when LOGIN_REQUIRED is on.

A request is a user's if it carries `Authorization: Bearer <their token>` (scripts, Postman) or
the signed session cookie set at sign-in (the pages, and the page's own calls to the API). With
LOGIN_REQUIRED off (the default, for one person on their own machine) nobody signs in and
everything is open, as before accounts existed."""
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from . import accounts
from .errors import CrossSiteRefused, Unauthorized
from .errorhandlers import under_api
from .store import whole_store

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = {"auth.sign_in", "static", "health.healthz", "openapi.description"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_app_request
def load_user():
    """g.user: the User this request is from, or None; g.by_cookie: known from the session."""
    g.user, g.by_cookie = None, False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":  # other schemes (a proxy's Basic) are not ours to judge
        g.user = accounts.user_for_token(whole_store(), token.strip())
        if g.user is None:
            raise Unauthorized("The API token is not valid (it may have been revoked).")
    elif "user_id" in session:
        g.user, g.by_cookie = whole_store().user_by_id(session["user_id"]), True
        if g.user is None:  # deleted since: the cookie is worth nothing now
            session.clear()
    if current_app.config["LOGIN_REQUIRED"]:
        return _guard()
    return None


def _guard():
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if under_api():
            raise Unauthorized("Sign in, or send Authorization: Bearer <token> "
                               "(`flask --app wsgi users token NAME` makes one).")
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if g.by_cookie and under_api() and request.method not in SAFE_METHODS:
        _refuse_cross_site()
    return None


def _refuse_cross_site():
    """A write to the API on the strength of a cookie must come from this site's own pages:
    a browser says where a request comes from in Origin (and Sec-Fetch-Site)."""
    origin = request.headers.get("Origin")
    allowed = {request.host_url.rstrip("/"), *current_app.config["CORS_ORIGINS"]}
    if (origin and origin not in allowed) or request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise CrossSiteRefused("This request came from another site; sign in there with a token.")


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("signin.html", next=target)
    name = request.form.get("name", "")
    user = accounts.signed_in_user(whole_store(), name, request.form.get("password"))
    if user is None:
        return render_template("signin.html", next=target, name=name,
                               error="Wrong name or password."), 401
    session.clear()  # a new session at sign-in: nothing from before carries over
    session["user_id"] = user.user_id
    session.permanent = True
    return redirect(target)


@bp.post("/signout")
def sign_out():
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


def safe_next(target):
    """Where to go after signing in: a path on this site, never another site's address
    (`//evil.example`, `https://...`, `/\\evil.example` all become the home page)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("web.new_chat")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return url_for("web.new_chat")
    return target
