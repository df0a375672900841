"""Settings read from the environment (and from `.env`, loaded by wsgi.py or the flask CLI)."""
import os

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _float(name, default):
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _list(name):
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()]


def _bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in ("false", "0", "no", "off")


def model_choices(config):
    """The models a person may pick, the default first: OPENAI_MODELS, else OPENAI_MODEL alone.
    Read from the app's config (not the environment) so a test can set either."""
    return list(dict.fromkeys(config.get("OPENAI_MODELS") or ())) or [config["OPENAI_MODEL"]]


class Config:
    """Built at app creation, so tests can change the environment between apps."""

    def __init__(self):
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        self.OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "").strip()
        self.OPENAI_BASE_URL = (
            os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_OPENAI_BASE_URL
        ).rstrip("/")
        self.OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "").strip() or "gpt-4o-mini"
        # When set, its first is the default and OPENAI_MODEL is not used (see model_choices).
        self.OPENAI_MODELS = _list("OPENAI_MODELS")
        self.TITLE_MODEL = os.environ.get("TITLE_MODEL", "").strip() or None  # None: the chat's
        self.TITLE_GENERATION = _bool("TITLE_GENERATION", True)
        self.OPENAI_TIMEOUT = _float("OPENAI_TIMEOUT", 60.0)
        # Asks again after a failure that may pass (see chatapp/retry_policy.py); 0: never.
        self.OPENAI_MAX_RETRIES = _int("OPENAI_MAX_RETRIES", 2)
        self.SYSTEM_PROMPT = os.environ.get("SYSTEM_PROMPT", "").strip()
        self.MONGO_URI = os.environ.get("MONGO_URI", "").strip() or None
        # How long a request waits for an unreachable MongoDB before answering 503.
        self.MONGO_TIMEOUT_MS = _int("MONGO_TIMEOUT_MS", 3000)
        self.SQLITE_PATH = os.environ.get("SQLITE_PATH", "").strip() or None
        # How long a write waits for another process's write before answering 503.
        self.SQLITE_BUSY_TIMEOUT = _float("SQLITE_BUSY_TIMEOUT", 5.0)
        self.MAX_MESSAGE_CHARS = _int("MAX_MESSAGE_CHARS", 20_000)
        self.HISTORY_MAX_CHARS = _int("HISTORY_MAX_CHARS", 48_000)
        # A 20,000-character message JSON-escaped as \uXXXX pairs stays well under this.
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
        self.CORS_ORIGINS = _list("CORS_ORIGINS")
        # Absolute links (the API's `Link` header) are built from this, never from `Host`.
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL", "").strip() or None
        # Flask answers any other Host with 400; None (unset) answers every host.
        self.TRUSTED_HOSTS = _list("TRUSTED_HOSTS") or None
        # Proxies in front whose X-Forwarded-For/-Proto/-Host are believed; 0: none.
        self.PROXY_COUNT = _int("PROXY_COUNT", 0)
        self.THREADS_PER_PAGE = 50
        # Accounts (chatapp/auth.py): off, one person on their own machine, nobody signs in.
        self.LOGIN_REQUIRED = _bool("LOGIN_REQUIRED", False)
        # `make run` on an address others can reach, with sign-in off, only if this says so.
        self.ALLOW_OPEN_ACCESS = _bool("ALLOW_OPEN_ACCESS", False)
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_CHAT = os.environ.get("RATELIMIT_CHAT", "").strip() or "30/minute"
        self.RATELIMIT_SIGNIN = os.environ.get("RATELIMIT_SIGNIN", "").strip() or "10/minute"
        # local:// counts in each process (chatapp.limits.LocalStorage); redis://... or
        # mongodb://... shares the counts between processes.
        self.RATELIMIT_STORAGE_URI = (os.environ.get("RATELIMIT_STORAGE_URI", "").strip()
                                      or "local://")
        # The session holds only the CSRF token and flash messages; Lax keeps it off
        # cross-site posts as a second guard beside the token.
        self.SESSION_COOKIE_SAMESITE = "Lax"
