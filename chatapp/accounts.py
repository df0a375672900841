"""Users: making them, checking a sign-in, and personal API tokens. Knows nothing of Flask.

A password is kept as werkzeug's scrypt hash. A token is 32 random bytes shown once; only its
SHA-256 is kept (a token is too long and random to guess, so a slow hash would add nothing)."""
import hashlib
import re
import secrets
import uuid

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import InvalidInput
from .models import User

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # scrypt reads it all: a cap keeps a sign-in cheap
TOKEN_PREFIX = "chatapp_"  # tells a token from other secrets in a config file or a leak scan
# Checked when no user has the name, so a wrong name takes as long as a wrong password.
_NOBODY = generate_password_hash(secrets.token_hex(16))


def check_name(name):
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput("A user name is 1 to 40 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit.")
    return name


def check_password(password):
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInput(f"A password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters.")
    return password


def create_user(store, name, password, now):
    """A new User in the store; raises InvalidInput for a bad name or password, UserExists."""
    user = new_user(check_name(name), generate_password_hash(check_password(password)), now)
    store.create_user(user)
    return user


def new_user(name, password_hash, created_at):
    """A User under a new id: ids are each store's own (an import gives its users new ones)."""
    return User(uuid.uuid4().hex, name, password_hash, created_at)


def signed_in_user(store, name, password):
    """The User if `password` is theirs, else None: the same answer, in the same time, for a
    name nobody has and for a wrong password."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
        password = None
    user = store.user_named(name) if isinstance(name, str) and NAME.fullmatch(name) else None
    ok = check_password_hash(user.password_hash if user else _NOBODY, password or "")
    return user if user and ok and password else None


def new_token(store, user, now):
    """A new personal API token for the user: returned once, only its hash kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_token(user.user_id, token_hash(token), now)
    return token


def user_for_token(store, token):
    return store.user_for_token(token_hash(token)) if token else None


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
