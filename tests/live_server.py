"""Serve a Flask app over real HTTP on 127.0.0.1 in a background thread (for the browser tests,
the Postman run and the benchmark)."""
import threading

from werkzeug.serving import make_server


class LiveServer:
    def __init__(self, app, host="127.0.0.1", port=0):
        self._server = make_server(host, port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://{self._server.host}:{self._server.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
