"""Local HTTP endpoints for real runs: a webhook receiver (the notify role) and a JSON answer."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def send_json(handler: BaseHTTPRequestHandler, code: int, doc: object) -> None:
    """Answer the request ``handler`` is serving with ``doc`` as JSON and status ``code``."""
    data = json.dumps(doc).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class Receiver:
    """An HTTP server on a free local port: records the path and JSON body of every POST, answers 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, object]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                outer.posts.append((self.path, json.loads(self.rfile.read(size))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    @property
    def texts(self) -> list[str]:
        """The ``text`` of every post, in arrival order."""
        return [str(body["text"]) for _, body in self.posts]


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A running :class:`Receiver`, shut down on exit."""
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
