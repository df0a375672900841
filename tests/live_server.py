"""Serve a Flask app over real HTTP on 127.0.0.1 in a background thread, with the same server
`make run` uses (waitress), for the browser tests, the Postman run and the benchmark."""
import threading

from waitress import wasyncore
from waitress.server import create_server


class LiveServer:
    def __init__(self, app, host="127.0.0.1", port=0, threads=32):
        self._server = create_server(app, host=host, port=port, threads=threads)
        self._host = host
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self):
        return f"http://{self._host}:{self._server.effective_port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        # Close from the server's own loop thread: closing its sockets from this one can pull
        # them from under the select() it is waiting in ("Bad file descriptor").
        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=5)
        server.task_dispatcher.shutdown()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
