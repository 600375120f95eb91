#!/usr/bin/python3
"""An SMS provider's HTTP API for the `http` route test: prints each POST as a JSON line
({"event": "listening", "port": N} first) and answers with the status given as argv[1]."""
import http.server
import json
import sys

STATUS = int(sys.argv[1]) if len(sys.argv) > 1 else 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("Content-Length", "0")), 65536)
        body = self.rfile.read(length).decode()
        print(json.dumps({"event": "post", "path": self.path,
                          "authorization": self.headers.get("Authorization"),
                          "content_type": self.headers.get("Content-Type"),
                          "body": json.loads(body)}), flush=True)
        self.send_response(STATUS)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"event": "listening", "port": server.server_address[1]}), flush=True)
server.serve_forever()
