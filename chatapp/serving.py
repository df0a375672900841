"""The server `make run` uses: gevent's WSGI server, a greenlet per connection in one process.

Why gevent: a turn spends nearly all its time waiting on the model, and a stream holds its
connection for as long as the reply takes. A thread per connection (waitress's 16) runs out after
16 waiting turns and every page of the site then waits too. A greenlet costs a few kB, so one
process holds hundreds of open streams, and a stalled model holds up only its own stream.
`wsgi.py` patches the standard library (sockets, ssl, threading) before anything imports it, so
`requests` and the stores need no change. SQLite calls do not yield, but they take well under a
millisecond here; a database locked by another process blocks this one for up to its busy
timeout. Several processes: gunicorn with `-k gevent` serves the same app."""
import signal
import socket

import gevent
from gevent.pool import Pool
from gevent.pywsgi import WSGIHandler, WSGIServer

from .hosting import is_loopback

MAX_CONNECTIONS = 1000  # open connections served at once; more wait to be accepted
SHUTDOWN_GRACE_SECONDS = 5.0  # on SIGTERM or Ctrl-C, how long replies being written may go on


class _Handler(WSGIHandler):
    def handle(self):
        # A stream is many small writes: without TCP_NODELAY each would wait for the ACK of the
        # one before (Nagle against delayed ACKs, ~40 ms on loopback).
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


def open_access_refused(config, host):
    """Why `make run` must not serve on `host`, or None: an address others can reach, with
    sign-in off, would let anyone read every conversation and spend the API key's money."""
    if config["LOGIN_REQUIRED"] or config["ALLOW_OPEN_ACCESS"] or is_loopback(host):
        return None
    return (f"Refusing to serve on {host!r} with LOGIN_REQUIRED off: anyone who can reach it "
            "could read every conversation and use your API key. Set LOGIN_REQUIRED=true (and "
            "add users: flask --app wsgi users create NAME), serve on 127.0.0.1, or set "
            "ALLOW_OPEN_ACCESS=true if you mean it.")


def make_server(app, host="127.0.0.1", port=5000, max_connections=MAX_CONNECTIONS):
    """A started-on-demand server; `.serve_forever()` runs it, `.server_port` is its port."""
    # log=None: no access log line per request (as waitress); errors still go to stderr.
    return WSGIServer((host, port), app, spawn=Pool(max_connections), handler_class=_Handler,
                      log=None)


def serve(app, host, port):
    server = make_server(app, host, port)
    server.start()
    print(f"chatapp serving on http://{host}:{server.server_port} (gevent, up to "
          f"{MAX_CONNECTIONS} connections)", flush=True)
    # On SIGTERM or Ctrl-C: take no new connections, give the replies being written a few seconds
    # to end, then end the rest, each keeping what it has (as "interrupted").
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, server.close)
    server.serve_forever(stop_timeout=SHUTDOWN_GRACE_SECONDS)
