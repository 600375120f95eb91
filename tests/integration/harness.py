"""Shared harness for the sendcloudd integration tests.

Starts the real binary named by the SENDCLOUDD environment variable on 127.0.0.1:0 with a fresh
temporary data dir, waits for its "listening on" line (read line by line from stdout, with a
bounded timeout), tees stderr to a file, creates accounts and users with the operator commands,
and stops the server with SIGTERM (or SIGKILL). HTTP helpers return a Reply that unpacks as
(status, headers, json).

Only the Python standard library is used; run with /usr/bin/python3.
"""

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

# Bounds, not waits: every one of these ends early as soon as the awaited event happens. They are
# generous because the same tests run against an AddressSanitizer build.
START_TIMEOUT = 60.0
IO_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0

HOST = "127.0.0.1"
LISTENING_RE = re.compile(r"sendcloudd listening on (http://\S+)")

ACCOUNT_EMAIL = "owner@example.com"
EMAIL_USER = "mail_user_one"
SMS_USER = "sms_user_one"


def binary():
    path = os.environ.get("SENDCLOUDD")
    if not path:
        raise RuntimeError("set SENDCLOUDD to the path of the sendcloudd binary "
                           "(ctest sets it to $<TARGET_FILE:sendcloudd>)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"SENDCLOUDD={path} is not an executable file")
    return path


def child_env(extra=None):
    """The environment for sendcloudd: ours without any SENDCLOUD_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    if extra:
        env.update(extra)
    return env


def _deadline(timeout):
    return time.monotonic() + timeout


def _remaining(deadline):
    return max(0.0, deadline - time.monotonic())


class ServerError(AssertionError):
    pass


class Server:
    """One sendcloudd process.

    args: extra command-line arguments. listen/data_dir/demo are passed as flags unless None.
    """

    def __init__(self, data_dir, args=(), env=None, demo=False, listen="127.0.0.1:0",
                 log_dir=None):
        self.data_dir = data_dir
        # Logs live beside the data dir, not in it, so that the data dir holds only what the
        # server itself wrote.
        self.log_dir = log_dir or data_dir.rstrip("/") + "-logs"
        self.starts = 0
        self.args = list(args)
        self.env = child_env(env)
        self.demo = demo
        self.listen = listen
        self.proc = None
        self.base_url = None
        self.port = None
        self.stdout_lines = []
        self.stderr_lines = []
        self._stdout_q = queue.Queue()
        self._stderr_cv = threading.Condition()
        self._threads = []
        self.stderr_path = None
        self._stderr_file = None

    # ---- lifecycle -------------------------------------------------------------------------
    def command(self):
        cmd = [binary()]
        if self.listen is not None:
            cmd += ["--listen", self.listen]
        if self.data_dir is not None:
            cmd += ["--data-dir", self.data_dir]
        if self.demo is not None:
            cmd += ["--demo=" + ("true" if self.demo else "false")]
        return cmd + self.args

    def start(self, timeout=START_TIMEOUT):
        if self.proc is not None:
            raise RuntimeError("already started")
        self.stdout_lines = []
        self.stderr_lines = []
        self._stdout_q = queue.Queue()
        os.makedirs(self.log_dir, exist_ok=True)
        self.starts += 1
        self.stderr_path = os.path.join(self.log_dir, f"stderr-{self.starts}.log")
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = _deadline(timeout)
        while True:
            try:
                line = self._stdout_q.get(timeout=_remaining(deadline))
            except queue.Empty:
                self.kill()
                raise ServerError(f"sendcloudd did not print 'listening on' within {timeout}s;"
                                  f" stderr:\n{self.stderr_text()[-4000:]}")
            if line is None:  # EOF: the process ended before it listened
                rc = self.proc.wait(timeout=STOP_TIMEOUT)
                self._join_readers()
                raise ServerError(f"sendcloudd exited with {rc} before listening; stderr:\n"
                                  f"{self.stderr_text()[-4000:]}")
            m = LISTENING_RE.search(line)
            if m:
                self.base_url = m.group(1)
                self.port = urllib.parse.urlsplit(self.base_url).port
                return self

    def _read_stdout(self, pipe):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.stdout_lines.append(line)
            self._stdout_q.put(line)
        pipe.close()
        self._stdout_q.put(None)

    def _read_stderr(self, pipe):
        for raw in iter(pipe.readline, b""):
            self._stderr_file.write(raw)
            self._stderr_file.flush()
            with self._stderr_cv:
                self.stderr_lines.append(raw.decode("utf-8", "replace"))
                self._stderr_cv.notify_all()
        pipe.close()
        with self._stderr_cv:
            self._stderr_cv.notify_all()

    def _join_readers(self):
        for t in self._threads:
            t.join(timeout=STOP_TIMEOUT)
        self._threads = []
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait for exit; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=STOP_TIMEOUT):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(f"sendcloudd did not exit within {timeout}s")
        self._join_readers()
        self.proc = None
        return rc

    def kill(self):
        """SIGKILL and reap. Safe to call at any time (used as a cleanup)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait(timeout=STOP_TIMEOUT)
        self._join_readers()
        self.proc = None
        return rc

    # ---- output ------------------------------------------------------------------------------
    def stdout_text(self):
        return "".join(self.stdout_lines)

    def stderr_text(self):
        with self._stderr_cv:
            return "".join(self.stderr_lines)

    def wait_for_stderr(self, pattern, timeout=IO_TIMEOUT):
        """Blocks until a stderr line matches `pattern` (a regex); returns the line."""
        rx = re.compile(pattern)
        deadline = _deadline(timeout)
        with self._stderr_cv:
            seen = 0
            while True:
                for line in self.stderr_lines[seen:]:
                    if rx.search(line):
                        return line
                seen = len(self.stderr_lines)
                left = _remaining(deadline)
                if left == 0 or not self._threads or not self._threads[1].is_alive():
                    raise ServerError(f"no stderr line matched {pattern!r}; stderr:\n"
                                      f"{''.join(self.stderr_lines)[-4000:]}")
                self._stderr_cv.wait(timeout=left)

    def sanitizer_reports(self):
        """AddressSanitizer / UBSan / LeakSanitizer reports in everything this server wrote."""
        rx = re.compile(r"ERROR: \w+Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")
        found = []
        for n in range(1, self.starts + 1):
            path = os.path.join(self.log_dir, f"stderr-{n}.log")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    found += [l.decode("utf-8", "replace") for l in f if rx.search(
                        l.decode("utf-8", "replace"))]
        return found

    def access_lines(self):
        return [l for l in self.stderr_text().splitlines() if " access method=" in l]

    # ---- operator commands ------------------------------------------------------------------
    def operator(self, *args, check=True):
        return run_operator(self.data_dir, *args, check=check, env=self.env)

    def create_account(self, email=ACCOUNT_EMAIL):
        return self.operator("account", "create", "--email", email)

    def create_email_user(self, name, account=ACCOUNT_EMAIL):
        return _key_from(self.operator("email-user", "create", name, "--account", account),
                         "API_KEY")

    def create_sms_user(self, name, account=ACCOUNT_EMAIL):
        return _key_from(self.operator("sms-user", "create", name, "--account", account),
                         "SMS_KEY")

    def db_path(self):
        return os.path.join(self.data_dir, "sendcloud.db")


def run_operator(data_dir, *args, check=True, env=None):
    cmd = [binary(), *args, "--data-dir", data_dir]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       env=env if env is not None else child_env(), timeout=COMMAND_TIMEOUT)
    if check and r.returncode != 0:
        raise ServerError(f"{' '.join(args)} failed with {r.returncode}: "
                          f"{r.stderr.decode('utf-8', 'replace')}")
    return r.stdout.decode("utf-8", "replace")


def _key_from(output, label):
    m = re.search(r"^" + label + r": (\S+)$", output, re.M)
    if not m:
        raise ServerError(f"no '{label}: <key>' line in:\n{output}")
    return m.group(1)


class Credentials:
    def __init__(self, api_user, api_key, sms_user, sms_key):
        self.api_user, self.api_key = api_user, api_key
        self.sms_user, self.sms_key = sms_user, sms_key

    def email(self):
        return [("apiUser", self.api_user), ("apiKey", self.api_key)]

    def sms(self):
        return [("smsUser", self.sms_user), ("smsKey", self.sms_key)]


def provision(server, api_user=EMAIL_USER, sms_user=SMS_USER):
    """One account with one email user and one SMS user."""
    server.create_account(ACCOUNT_EMAIL)
    return Credentials(api_user, server.create_email_user(api_user),
                       sms_user, server.create_sms_user(sms_user))


# ---- HTTP ------------------------------------------------------------------------------------

class Reply:
    """An HTTP response. Unpacks as (status, headers, json); .body holds the raw bytes."""

    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (the last one if repeated)
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def __iter__(self):
        return iter((self.status, self.headers, self.json))

    def __repr__(self):
        return f"Reply({self.status}, {self.body[:500]!r})"


def _query(params):
    if params is None:
        return ""
    if isinstance(params, str):
        return params
    return urllib.parse.urlencode(list(params.items()) if isinstance(params, dict) else params)


def with_query(path, params):
    q = _query(params)
    return path + ("?" + q if q else "")


def request(port, method, path, body=None, headers=None, timeout=IO_TIMEOUT, conn=None):
    """One request; on a fresh connection unless `conn` (an http.client.HTTPConnection) is given."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Reply(resp.status, hdrs, data, resp.reason)
    finally:
        if own:
            conn.close()


def get(port, path, params=None, headers=None, **kw):
    return request(port, "GET", with_query(path, params), headers=headers, **kw)


def post_form(port, path, params=None, headers=None, raw=None, **kw):
    """POST application/x-www-form-urlencoded. `raw` (str/bytes) is sent as-is instead."""
    body = raw if raw is not None else _query(params or [])
    if isinstance(body, str):
        body = body.encode("utf-8")
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return request(port, "POST", path, body=body, headers=h, **kw)


def encode_multipart(fields=(), files=()):
    """fields: (name, str|bytes) pairs; files: (field, filename, content_type, bytes) tuples.
    Returns (body bytes, Content-Type header value)."""
    boundary = "----sc-test-" + uuid.uuid4().hex
    out = bytearray()
    for name, value in (fields.items() if isinstance(fields, dict) else fields):
        if isinstance(value, str):
            value = value.encode("utf-8")
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value + b"\r\n"
    for field, filename, ctype, data in files:
        out += f"--{boundary}\r\n".encode()
        out += (f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def post_multipart(port, path, fields=(), files=(), headers=None, **kw):
    body, ctype = encode_multipart(fields, files)
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return request(port, "POST", path, body=body, headers=h, **kw)


# ---- raw sockets -----------------------------------------------------------------------------

def connect(port, timeout=IO_TIMEOUT):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(rfile):
    """Reads one HTTP/1.1 response (Content-Length or chunked body) from a buffered binary file.
    Returns a Reply, or None at a clean EOF before any byte."""
    line = rfile.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise AssertionError(f"not an HTTP status line: {line!r}")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    while True:
        h = rfile.readline(65537)
        if not h:
            raise AssertionError("connection closed inside response headers")
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if status in (100, 101, 204, 304) or 100 <= status < 200:
        return Reply(status, headers, body, reason)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline()
    elif "content-length" in headers:
        n = int(headers["content-length"])
        body = rfile.read(n)
        if len(body) != n:
            raise AssertionError(f"short body: {len(body)} of {n} bytes")
    else:
        body = rfile.read()
    return Reply(status, headers, body, reason)


def raw_request_bytes(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body


# ---- database ----------------------------------------------------------------------------------

def recipients(db_path):
    """All rows of the recipients table as {id: (message_id, address, role, state)}."""
    import sqlite3
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=IO_TIMEOUT)
    try:
        return {r[0]: r[1:] for r in
                con.execute("SELECT id, message_id, address, role, state FROM recipients")}
    finally:
        con.close()


def set_user_disabled(db_path, name, disabled=True, env=None):
    """Disables (or enables) a user the way an operator does, with `sendcloudd email-user
    disable` (or sms-user) on the server's data dir. A running server sees the change on its very
    next request: the command moves the credential version that the server's credential cache
    checks. An UPDATE with sqlite3 would not, and would be seen only after the cache's TTL."""
    import sqlite3
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=IO_TIMEOUT)
    try:
        row = con.execute("SELECT kind FROM api_users WHERE name=?", (name,)).fetchone()
    finally:
        con.close()
    if row is None:
        raise AssertionError(f"no api user named {name}")
    run_operator(os.path.dirname(db_path), f"{row[0]}-user", "disable" if disabled else "enable",
                 name, env=env)


# ---- test case base ------------------------------------------------------------------------------

def check_sanitizers(srv):
    reports = srv.sanitizer_reports()
    if reports:
        raise AssertionError("sanitizer reports in sendcloudd's stderr:\n" + "".join(reports[:20]))


def make_temp_root(prefix="sendcloudd-it-"):
    return tempfile.mkdtemp(prefix=prefix)


class ServerTestCase(unittest.TestCase):
    """Helpers that tie processes and temp dirs to the test (or class) that made them."""

    def temp_dir(self):
        """A fresh temp root; returns <root>/data (not yet created). Removed after the test."""
        root = make_temp_root()
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        return os.path.join(root, "data")

    def start_server(self, data_dir=None, **kw):
        srv = Server(data_dir or self.temp_dir(), **kw)
        self.watch(srv)
        return srv.start()

    def watch(self, srv):
        """Kills `srv` after the test (if still running), then fails on sanitizer reports."""
        self.addCleanup(check_sanitizers, srv)
        self.addCleanup(srv.kill)

    @classmethod
    def start_class_server(cls, **kw):
        root = make_temp_root()
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        srv = Server(os.path.join(root, "data"), **kw)
        cls.addClassCleanup(check_sanitizers, srv)
        cls.addClassCleanup(srv.kill)
        return srv.start()

    # assertions ----------------------------------------------------------------------------
    def assertError(self, reply, status, code, hint_contains=()):
        self.assertIsNotNone(reply, f"the server closed the connection without the expected "
                                    f"{status} {code} response")
        status_, headers, body = reply
        self.assertEqual(status_, status, reply)
        self.assertIsNotNone(body, f"not JSON: {reply.body!r}")
        self.assertIs(body.get("result"), False, body)
        self.assertEqual(body.get("statusCode"), status, body)
        self.assertEqual(body.get("errorCode"), code, body)
        self.assertIsInstance(body.get("hint"), str, body)
        self.assertTrue(body["hint"], body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        for word in ([hint_contains] if isinstance(hint_contains, str) else hint_contains):
            self.assertIn(word, body["hint"], body)
        return body

    def assertOk(self, reply):
        self.assertIsNotNone(reply, "the server closed the connection without a response")
        status, headers, body = reply
        self.assertEqual(status, 200, reply)
        self.assertIsNotNone(body, f"not JSON: {reply.body!r}")
        self.assertIs(body.get("result"), True, body)
        self.assertEqual(body.get("statusCode"), 200, body)
        self.assertEqual(headers.get("content-type"), "application/json; charset=utf-8", headers)
        return body["info"]
