"""A tiny HTTP server on 127.0.0.1 for download tests (no other network is used).

``routes`` maps a URL path to either bytes (served with status 200), an int
(an error status), ``Truncated(body, announced)`` (Content-Length says
``announced`` bytes, only ``body`` is sent, then the connection is closed), or
``NoLength(body)`` (no Content-Length: the body ends when the connection
closes, so a client cannot tell whether it got all of it).
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from dataclasses import dataclass


@dataclass
class Truncated:
    body: bytes
    announced: int


@dataclass
class NoLength:
    body: bytes


@contextlib.contextmanager
def serve(routes: dict):
    """Run the server in a background thread; yields (base_url, list of requested paths)."""
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (stdlib naming)
            requested.append(self.path)
            route = routes.get(self.path, 404)
            if isinstance(route, int):
                self.send_error(route)
                return
            if isinstance(route, NoLength):
                body, announced = route.body, None
            elif isinstance(route, Truncated):
                body, announced = route.body, route.announced
            else:
                body, announced = route, len(route)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if announced is not None:
                self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args):  # keep test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
