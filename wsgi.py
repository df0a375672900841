"""Entry point: `python wsgi.py` (what `make run` does), `flask --app wsgi run`, or any WSGI
server, e.g. `gunicorn wsgi:app`."""
import logging
import os

from dotenv import load_dotenv

load_dotenv()  # before the app reads its settings

from chatapp import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from waitress import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Threads, not processes: a turn mostly waits on the model, and one process keeps one
    # connection pool. 16 lets that many people wait on replies at once.
    serve(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
          threads=16)
