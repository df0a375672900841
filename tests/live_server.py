"""Serve a Flask app over real HTTP on 127.0.0.1 in a background thread of the test process, for
the browser tests, the Postman run and the streaming tests. The server is waitress, a threaded
WSGI server: `make run`'s gevent server needs the whole process patched first, so the tests of
that server start it as its own process (test_serving.py, test_crash_safety.py)."""
import threading

from waitress import wasyncore
from waitress.server import create_server

# How often the serving loop looks whether it is asked to stop, when nothing else wakes it.
STOP_CHECK_SECONDS = 0.02


class LiveServer:
    def __init__(self, app, host="127.0.0.1", port=0, threads=32):
        self._server = create_server(app, host=host, port=port, threads=threads)
        self._host = host
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self):
        return f"http://{self._host}:{self._server.effective_port}"

    def _serve(self):
        # waitress's own loop (server.run), a turn at a time, so that it ends and closes its sockets
        # in this thread. Stopping it from outside means writing to its wake-up pipe, a raw file
        # descriptor: a CI run once found it closed at that moment ("Bad file descriptor").
        sockets = self._server._map
        while sockets and not self._stopping.is_set():
            wasyncore.loop(timeout=STOP_CHECK_SECONDS, map=sockets, count=1)
        wasyncore.close_all(sockets)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
