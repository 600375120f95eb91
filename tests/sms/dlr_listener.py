#!/usr/bin/python3
"""Stands in for sendcloudd's /sms/dlr/kannel/<route> endpoint in the Kannel test: prints each
request target as a JSON line ({"event": "listening", "port": N} first) and answers 200."""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print(json.dumps({"event": "dlr", "target": self.path}), flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"event": "listening", "port": server.server_address[1]}), flush=True)
server.serve_forever()
