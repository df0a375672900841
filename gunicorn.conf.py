"""The production recipe: `make serve` (or `.venv/bin/gunicorn -c gunicorn.conf.py`) serves the app
with several gevent worker processes on one database.

Why gevent workers: a turn spends nearly all its time waiting on the model and a stream holds its
connection for as long as the reply takes, so a worker must not tie a thread to each connection
(gunicorn's sync worker would serve one reply at a time). Each worker patches the standard
library itself before it loads wsgi.py; so this file must not import the app (or `requests`, ssl):
the master would then hold modules imported before any patch. For the same reason, no `--preload`.
Forwarded headers are the app's business (PROXY_COUNT); gunicorn's own `forwarded_allow_ips`
is left at its default."""
import os

from dotenv import load_dotenv

load_dotenv()  # HOST, PORT and WEB_CONCURRENCY may be in .env, as for `make run`

wsgi_app = "wsgi:app"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)  # one per core is plenty
worker_connections = 1000  # open connections per worker, as `make run` holds
_host = (os.environ.get("HOST") or "127.0.0.1").strip("[]")
_port = os.environ.get("PORT") or "5000"
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]  # an IPv6 one in brackets
# On SIGTERM, replies being written have this long to end; a worker still busy then is killed,
# and those replies are lost (their questions are kept, for a Retry).
graceful_timeout = 30


def post_worker_init(worker):
    """Refuse, as `make run` does, an address others can reach with sign-in off: said once in
    the log, and the whole server stops (exit 3, a worker that failed to boot)."""
    from chatapp.serving import open_access_refused  # in the worker, after gevent patched

    for address in worker.cfg.bind:
        if address.startswith(("unix:", "fd://")):
            continue  # reachable only through this machine
        refused = open_access_refused(worker.wsgi.config, address.rsplit(":", 1)[0])
        if refused:
            worker.log.error(refused)
            raise SystemExit(3)
