"""A tiny HTTP server for the role scenarios, run inside a test host's namespace.

GET serves the files of its directory (/health, /metrics); POST appends the
request body, one JSON line, to received.jsonl (a local webhook receiver).
Usage: role-server.py DIR PORT
"""

import http.server
import json
import os
import sys

root, port = sys.argv[1], int(sys.argv[2])
os.chdir(root)


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open("received.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"path": self.path, "body": json.loads(body or b"null")}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
