"""Entry point: `flask --app wsgi run`, `gunicorn wsgi:app`, or `python wsgi.py` (what `make run` does)."""
import os

from dotenv import load_dotenv

load_dotenv()  # before the app reads its settings

from chatapp import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
