"""chatapp: a small self-hosted chat server. `create_app` is the application factory."""
import os
import secrets
import tempfile

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_cors import CORS
from flask_wtf.csrf import CSRFProtect

from . import store
from .store import get_store
from .chat import ChatService
from .config import Config, model_choices
from .json_input import CheckedRequest
from .model_client import ModelClient
from .retry_policy import RetryPolicy
from .titles import TitleMaker

csrf = CSRFProtect()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config=None, instance_path=None):
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path,
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    app.config.from_object(Config())
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)

    app.json.sort_keys = False  # answer in the documented field order, and skip a sort per object
    app.request_class = CheckedRequest  # every JSON body checked as it is parsed (json_input.py)
    csrf.init_app(app)
    store.init_app(app)
    if app.config["CORS_ORIGINS"]:
        CORS(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}})
    app.extensions["chat_service"] = _build_chat_service(app.config, app.extensions["thread_store"])

    from . import api, errorhandlers, hosting, markdown, web

    hosting.init_app(app)  # proxies, hosts and links, security headers on every response

    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # JSON only: a browser cannot send that cross-site without a preflight
    app.register_blueprint(web.bp)
    errorhandlers.register(app)
    app.add_template_filter(markdown.render_markdown, "markdown")
    app.cli.add_command(init_db_command)

    from . import transfer  # export and import: two API routes and two commands

    app.register_blueprint(transfer.bp)
    csrf.exempt(transfer.bp)  # JSON only, like the rest of the API
    app.cli.add_command(transfer.export_command)
    app.cli.add_command(transfer.import_command)

    from . import health  # GET /healthz

    app.register_blueprint(health.bp)

    from . import openapi  # GET /api/openapi.json: the JSON API described

    app.register_blueprint(openapi.bp)

    from . import auth, limits, users_cli  # accounts: sign-in, and the commands that make users

    app.register_blueprint(auth.bp)
    app.cli.add_command(users_cli.users)
    limits.init_app(app)  # last: it wraps views the blueprints above registered
    return app


def get_chat_service():
    """The app's ChatService, on the conversations this request may touch (get_store): views
    and the API call this; the service knows nothing of Flask."""
    service, store = current_app.extensions["chat_service"], get_store()
    return service if store is service.store else service.using(store)


def _build_chat_service(config, thread_store):
    models = model_choices(config)
    retries = RetryPolicy(config["OPENAI_MAX_RETRIES"])
    model = ModelClient(config["OPENAI_API_KEY"], config["OPENAI_BASE_URL"],
                        models[0], config["OPENAI_TIMEOUT"],
                        retries=retries)
    titles = (TitleMaker(model, config["TITLE_MODEL"])
              if config["TITLE_GENERATION"] else None)
    return ChatService(thread_store, model, models=models, titles=titles,
                       max_message_chars=config["MAX_MESSAGE_CHARS"],
                       history_max_chars=config["HISTORY_MAX_CHARS"],
                       system_prompt=config["SYSTEM_PROMPT"],
                       # A question is held for one answer at a time: longer than any
                       # pause in a reply, and than a retry's wait (the claim is renewed
                       # before and after it, and as a streamed reply's text comes).
                       claim_seconds=max(config["OPENAI_TIMEOUT"], retries.longest_wait()) + 30)


def _instance_secret_key(instance_path):
    """A random key made on first start and kept (readable by its owner only) across restarts.
    Written whole under another name, then linked into place: processes starting together
    (gunicorn's workers) all take the first one there, never a file still empty."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd, draft = tempfile.mkstemp(prefix=".secret_key.", dir=instance_path)  # mode 0600
        try:
            with os.fdopen(fd, "w") as new:
                new.write(secrets.token_hex(32))
            os.link(draft, path)
        except FileExistsError:  # another process's key got there first
            pass
        finally:
            os.unlink(draft)
    with open(path) as existing:
        return existing.read().strip()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database schema (SQLite) or indexes (MongoDB) now."""
    current_app.extensions["thread_store"].prepare()
    click.echo("Database ready.")
