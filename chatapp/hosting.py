"""Where the app is reached: the proxies it trusts (PROXY_COUNT), the hosts it answers
(TRUSTED_HOSTS), the address its absolute links use (PUBLIC_URL), and the headers every response
carries, error pages included (HSTS and a Secure session cookie when the request is HTTPS)."""
import ipaddress
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from .errorhandlers import json_error, under_api
from .errors import ChatAppError

# No inline scripts, no framing, no foreign resources: a second wall behind the escaping of replies.
# (Inline styles stay allowed: Markdown tables align their columns with style attributes.)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# A year; no includeSubDomains, as other sites may live under the same domain.
HSTS = "max-age=31536000"


def init_app(app):
    public_url = app.config.get("PUBLIC_URL")
    if public_url:
        app.config["PUBLIC_URL"] = _checked_public_url(public_url)
    proxies = app.config.get("PROXY_COUNT", 0)
    if proxies:
        # Only the headers the production recipe's proxy sets (overwriting the client's): a
        # header the proxy passes through untouched would be the client's word, trusted.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = SecureOnHttpsSessionInterface()
    app.after_request(add_security_headers)
    app.register_error_handler(SecurityError, _untrusted_host)


def external_url(endpoint, **values):
    """An absolute address for `endpoint` (e.g. a `Link` header's), never built from a Host the
    app has no reason to trust: from PUBLIC_URL when set; else from the request's host when
    TRUSTED_HOSTS vetted it or it is loopback (local use); else relative, which a client
    resolves against the address it used itself."""
    public_url = current_app.config.get("PUBLIC_URL")
    if public_url:
        parts = urlsplit(public_url)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                           url_scheme=parts.scheme)
        return adapter.build(endpoint, values, force_external=True)
    trusted = current_app.config.get("TRUSTED_HOSTS") or _host_header_is_loopback(request.host)
    return url_for(endpoint, _external=bool(trusted), **values)


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # directly, or through a proxy PROXY_COUNT trusts
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


class SecureOnHttpsSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS, yet still works on a
    plain-HTTP local install (a Secure cookie would never come back there)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def get_signing_serializer(self, app):
        # Flask builds a new signer for every request, even one with no session cookie (every
        # API call): kept while the keys it was built from stay the same.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = getattr(self, "_signer", None)
        if cached is None or cached[0] != keys:
            cached = self._signer = (keys, super().get_signing_serializer(app))
        return cached[1]


def _untrusted_host(_error):
    """A Host outside TRUSTED_HOSTS: 400, in plain words. Not the usual error page, which needs
    the links Flask cannot build for a host it refused."""
    error = ChatAppError("This server does not answer to that host name.", status=400,
                         code="untrusted_host")
    if under_api():
        return json_error(error)
    return error.message, error.status, {"Content-Type": "text/plain; charset=utf-8"}


def is_loopback(host):
    """Whether `host` (a name or an address, IPv6 bracketed or not) is this machine only:
    localhost, 127.0.0.0/8 or ::1. Any other name may resolve anywhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_header_is_loopback(host):
    """The same for a request's Host ("name:port")."""
    try:
        hostname = urlsplit(f"//{host}").hostname
    except ValueError:  # a malformed host
        return False
    return bool(hostname) and is_loopback(hostname)


def _checked_public_url(value):
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ValueError(f"PUBLIC_URL must look like https://chat.example.com, not {value!r}")
    return value.strip().rstrip("/")
