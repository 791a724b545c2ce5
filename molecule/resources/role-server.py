"""A tiny HTTP server for the role scenarios, run inside a test host's namespace.

GET serves the files of its directory (/health, /metrics); POST appends the
request body, one JSON line, to received.jsonl (a local webhook receiver).
Usage: role-server.py DIR PORT [CERT KEY TOKEN_FILE]: with a certificate, it
serves HTTPS, and GET answers 401 without ``Authorization: Bearer <token>``.
"""

import http.server
import json
import os
import ssl
import sys

root, port = sys.argv[1], int(sys.argv[2])
cert, key, token_file = (sys.argv[3:6] + [None, None, None])[:3]
token = open(token_file, encoding="utf-8").read().strip() if token_file else None
os.chdir(root)


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
            self.send_response(401)
            self.end_headers()
            return
        super().do_GET()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open("received.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"path": self.path, "body": json.loads(body or b"null")}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
if cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
