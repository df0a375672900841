"""Entry point: `python wsgi.py` (what `make run` does), `flask --app wsgi run`, or any WSGI
server, e.g. gunicorn as `make serve` runs it (gunicorn.conf.py), whose gevent workers patch the
standard library themselves before they import this."""
if __name__ == "__main__":
    # Before anything else is imported: sockets, ssl and threading must all be gevent's, so a
    # reply waiting on the model yields to everyone else (see chatapp/serving.py).
    from gevent import monkey

    monkey.patch_all()

import logging  # noqa: E402
import os  # noqa: E402

from dotenv import load_dotenv  # noqa: E402

load_dotenv()  # before the app reads its settings

from chatapp import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from chatapp.serving import open_access_refused, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = os.environ.get("HOST", "127.0.0.1")
    refused = open_access_refused(app.config, host)
    if refused:
        raise SystemExit(refused)
    serve(app, host=host, port=int(os.environ.get("PORT", "5000")))
