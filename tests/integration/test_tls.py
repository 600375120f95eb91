"""The TLS listener and trusted proxies (issue #11, docs/operations.md "TLS" and "Trusted proxies").

A CA and server certificates are made with `openssl` in the test; the client verifies against that
CA. TLS: a send over https, protocol versions (1.1 refused, 1.2 and 1.3 accepted), ALPN, the
console's Secure cookie and HSTS (never on plain HTTP), a handshake that never comes, a SIGHUP
certificate reload (new connections see the new certificate while a keep-alive connection opened
before is still served; a bad file keeps the old one), and a start with a bad certificate.
Trusted proxies: X-Forwarded-For believed only from --trusted-proxies, for lockout, logs and
cookies.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import harness as h
from test_management_api import Console

FROM = "news@example.com"


def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   timeout=h.COMMAND_TIMEOUT)


def make_ca(d):
    openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=SendCloud Test CA")
    return os.path.join(d, "ca.pem")


def make_cert(d, name, cn):
    """A certificate for 127.0.0.1 signed by the CA in `d`; returns (cert, key) paths."""
    openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={cn}")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "ext.cnf")
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


def client_context(ca, minimum=None, maximum=None):
    ctx = ssl.create_default_context(cafile=ca)
    if minimum or maximum:
        # Lets this client offer versions its defaults would not, so that a refusal is the
        # server's.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def https_request(port, ctx, method, path, body=None, headers=None, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=h.IO_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        return h.Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data,
                       resp.reason)
    finally:
        if own:
            conn.close()


def peer_common_name(conn):
    """The CN of the certificate the server presented on an open HTTPSConnection."""
    cert = conn.sock.getpeercert()
    return dict(x[0] for x in cert["subject"])["commonName"]


def tls_port(srv):
    for line in srv.stdout_lines:
        m = re.search(r"sendcloudd listening on https://127\.0\.0\.1:(\d+) \(TLS\)", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no TLS 'listening on' line in:\n{srv.stdout_text()}")


def login_body(email, password):
    return json.dumps({"email": email, "password": password}).encode()


def set_password(srv, email, password):
    cmd = [h.binary(), "account", "set-password", "--email", email, "--data-dir", srv.data_dir]
    subprocess.run(cmd, input=(password + "\n").encode(), capture_output=True, check=True,
                   env=srv.env, timeout=h.COMMAND_TIMEOUT)


class TlsListenerTest(h.ServerTestCase):
    def setUp(self):
        self.dir = os.path.dirname(self.temp_dir())
        self.ca = make_ca(self.dir)
        self.cert, self.key = make_cert(self.dir, "server", "first.test")

    def start_tls(self, extra=()):
        srv = self.start_server(args=["--tls-listen", "127.0.0.1:0", "--tls-cert", self.cert,
                                      "--tls-key", self.key, *extra])
        return srv, tls_port(srv)

    def test_send_over_https_verifies_against_the_ca(self):
        srv, port = self.start_tls()
        creds = h.provision(srv)
        body = h._query(creds.email() + [("from", FROM), ("to", "a@example.com"),
                                         ("subject", "s"), ("plain", "over tls")]).encode()
        reply = https_request(port, client_context(self.ca), "POST", "/email/send", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        info = self.assertOk(reply)
        self.assertEqual(len(info["emailIdList"]), 1)
        # The plain listener is still there, beside it.
        self.assertOk(h.post_form(srv.port, "/email/send", creds.email() + [
            ("from", FROM), ("to", "b@example.com"), ("subject", "s"), ("plain", "plain")]))
        # A client that does not trust our CA refuses the server.
        with self.assertRaises(ssl.SSLCertVerificationError):
            https_request(port, ssl.create_default_context(), "GET", "/console/login")

    def test_protocol_versions_and_alpn(self):
        _, port = self.start_tls()

        def handshake(ctx):
            with socket.create_connection(("127.0.0.1", port), timeout=h.IO_TIMEOUT) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    return s.version(), s.selected_alpn_protocol()

        # Refused by the server (its protocol_version alert), not by this client's own rules.
        with self.assertRaises(ssl.SSLError) as refused:
            handshake(client_context(self.ca, maximum=ssl.TLSVersion.TLSv1_1))
        self.assertEqual(refused.exception.reason, "TLSV1_ALERT_PROTOCOL_VERSION",
                         refused.exception)
        self.assertEqual(handshake(client_context(self.ca, minimum=ssl.TLSVersion.TLSv1_2,
                                                  maximum=ssl.TLSVersion.TLSv1_2)),
                         ("TLSv1.2", "http/1.1"))
        self.assertEqual(handshake(client_context(self.ca, minimum=ssl.TLSVersion.TLSv1_3)),
                         ("TLSv1.3", "http/1.1"))

    def test_console_over_tls_gets_a_secure_cookie_and_hsts_and_plain_http_no_hsts(self):
        srv, port = self.start_tls()
        srv.create_account("owner@example.com")
        set_password(srv, "owner@example.com", "owner console password")
        ctx = client_context(self.ca)
        reply = https_request(port, ctx, "POST", "/console/api/login",
                              login_body("owner@example.com", "owner console password"),
                              {"Content-Type": "application/json"})
        self.assertEqual(reply.status, 200, reply)
        cookie = reply.headers["set-cookie"]
        self.assertIn("; Secure", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertEqual(reply.headers.get("strict-transport-security"), "max-age=31536000")
        page = https_request(port, ctx, "GET", "/console/login")
        self.assertEqual(page.headers.get("strict-transport-security"), "max-age=31536000")
        # Never on plain HTTP, and not on the API.
        plain = h.get(srv.port, "/console/login")
        self.assertEqual(plain.status, 200)
        self.assertNotIn("strict-transport-security", plain.headers)
        api = https_request(port, ctx, "GET", "/email/send")
        self.assertNotIn("strict-transport-security", api.headers)

    def test_the_server_closes_with_close_notify(self):
        _, port = self.start_tls()
        ctx = client_context(self.ca)
        # Ragged EOFs are errors here: only a close_notify ends the stream cleanly.
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        with socket.create_connection(("127.0.0.1", port), timeout=h.IO_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost",
                                 suppress_ragged_eofs=False) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data)

    def test_a_silent_tls_client_is_dropped_after_the_header_timeout(self):
        srv, port = self.start_tls(["--header-timeout-ms", "500"])
        with socket.create_connection(("127.0.0.1", port), timeout=h.IO_TIMEOUT) as s:
            started = time.monotonic()
            # No ClientHello: the server closes the connection when the deadline passes.
            self.assertEqual(s.recv(1), b"")
            self.assertLess(time.monotonic() - started, 10.0)
        self.assertEqual(https_request(port, client_context(self.ca), "GET",
                                       "/console/login").status, 200)

    def test_handshakes_count_against_the_connection_cap_of_both_listeners(self):
        srv, port = self.start_tls(["--max-connections", "2"])
        silent = [socket.create_connection(("127.0.0.1", port), timeout=h.IO_TIMEOUT)
                  for _ in range(2)]
        try:
            # Two TLS connections that never say hello hold both slots: a plain client is
            # refused, and a third TLS connection is closed unanswered.
            deadline = time.monotonic() + h.IO_TIMEOUT
            while True:
                reply = h.get(srv.port, "/healthz")
                if reply.status == 503 or time.monotonic() > deadline:
                    break
            self.assertError(reply, 503, "server.too_many_connections")
            with socket.create_connection(("127.0.0.1", port), timeout=h.IO_TIMEOUT) as third:
                try:
                    self.assertEqual(third.recv(1), b"")
                except ConnectionResetError:
                    pass
        finally:
            for s in silent:
                s.close()
        deadline = time.monotonic() + h.IO_TIMEOUT
        while True:
            reply = h.get(srv.port, "/healthz")
            if reply.status == 200 or time.monotonic() > deadline:
                break
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(https_request(port, client_context(self.ca), "GET",
                                       "/healthz").status, 200)

    def test_sighup_reloads_the_certificate_without_dropping_connections(self):
        srv, port = self.start_tls()
        ctx = client_context(self.ca)
        before = http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                             timeout=h.IO_TIMEOUT)
        self.addCleanup(before.close)
        self.assertEqual(https_request(port, ctx, "GET", "/console/login", conn=before).status,
                         200)
        self.assertEqual(peer_common_name(before), "first.test")

        new_cert, new_key = make_cert(self.dir, "renewed", "second.test")
        os.replace(new_cert, self.cert)
        os.replace(new_key, self.key)
        srv.signal(signal.SIGHUP)
        srv.wait_for_stderr(r"TLS certificate reloaded")

        fresh = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=h.IO_TIMEOUT)
        self.addCleanup(fresh.close)
        self.assertEqual(https_request(port, ctx, "GET", "/console/login", conn=fresh).status,
                         200)
        self.assertEqual(peer_common_name(fresh), "second.test")
        # The keep-alive connection opened before the reload is still served, on its old cert.
        self.assertEqual(https_request(port, ctx, "GET", "/console/login", conn=before).status,
                         200)
        self.assertEqual(peer_common_name(before), "first.test")

        # A broken file on the next reload: an error, and the current certificate stays.
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        srv.signal(signal.SIGHUP)
        line = srv.wait_for_stderr(r"TLS certificate not reloaded")
        self.assertIn(self.cert, line)
        again = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=h.IO_TIMEOUT)
        self.addCleanup(again.close)
        self.assertEqual(https_request(port, ctx, "GET", "/console/login", conn=again).status,
                         200)
        self.assertEqual(peer_common_name(again), "second.test")
        self.assertTrue(srv.running())
        # SIGTERM still stops it gracefully.
        self.assertEqual(srv.stop(), 0)

    def test_bad_or_missing_certificate_stops_the_start(self):
        with open(self.key) as f:
            key_text = f.read()
        other_cert, _ = make_cert(self.dir, "other", "other.test")
        cases = [
            (["--tls-cert", os.path.join(self.dir, "missing.pem"), "--tls-key", self.key],
             "cannot read the TLS certificate file"),
            (["--tls-cert", self.key, "--tls-key", self.key], "TLS certificate file"),
            (["--tls-cert", other_cert, "--tls-key", self.key], "mismatch"),
            ([], "--tls-cert and --tls-key"),
        ]
        for args, message in cases:
            srv = h.Server(self.temp_dir(), args=["--tls-listen", "127.0.0.1:0", *args])
            self.watch(srv)
            with self.assertRaises(h.ServerError):
                srv.start()
            err = srv.stderr_text()
            self.assertIn(message, err)
            # No key material in the message.
            for line in key_text.splitlines()[1:-1]:
                self.assertNotIn(line, err)


class TrustedProxyTest(h.ServerTestCase):
    LOCKOUT = ["--lockout-ip-failures", "3", "--lockout-user-failures", "0"]

    def fail_auth(self, srv, forwarded_for=None, headers=None):
        hdrs = dict(headers or {})
        if forwarded_for:
            hdrs["X-Forwarded-For"] = forwarded_for
        return h.post_form(srv.port, "/email/send", [
            ("apiUser", "mail_user_one"), ("apiKey", "wrong-key"), ("from", FROM),
            ("to", "a@example.com"), ("subject", "s"), ("plain", "p")], headers=hdrs)

    def test_forwarded_client_is_locked_out_not_the_proxy(self):
        srv = self.start_server(args=["--trusted-proxies", "127.0.0.1/32", *self.LOCKOUT])
        h.provision(srv)
        # The client's own X-Forwarded-For entry (left) is not believed; our proxy's is. The
        # third failure locks the address.
        for _ in range(2):
            self.assertError(self.fail_auth(srv, "6.6.6.6, 203.0.113.7"), 401, "auth.failed")
        self.assertError(self.fail_auth(srv, "6.6.6.6, 203.0.113.7"), 429,
                         "auth.too_many_failures")
        self.assertError(self.fail_auth(srv, "203.0.113.7"), 429, "auth.too_many_failures")
        # Another client behind the same proxy, and the proxy itself, are not locked.
        self.assertError(self.fail_auth(srv, "198.51.100.9"), 401, "auth.failed")
        self.assertError(self.fail_auth(srv), 401, "auth.failed")
        self.assertError(self.fail_auth(srv, "6.6.6.6"), 401, "auth.failed")
        # The access line is written after the answer: wait for it.
        srv.wait_for_stderr(r" access method=POST .*status=429 .*ip=203\.0\.113\.7 ")
        srv.wait_for_stderr(r" access method=POST .*ip=198\.51\.100\.9 ")
        # 6.6.6.6 appears only as the last request's own client, never for the spoofed ones.
        spoofed = [l for l in srv.access_lines() if "ip=6.6.6.6 " in l]
        self.assertLessEqual(len(spoofed), 1, spoofed)
        self.assertTrue(all("status=401 " in l for l in spoofed), spoofed)

    def test_without_trusted_proxies_the_header_is_ignored(self):
        srv = self.start_server(args=self.LOCKOUT)
        h.provision(srv)
        for _ in range(2):
            self.assertError(self.fail_auth(srv, "203.0.113.7"), 401, "auth.failed")
        self.assertError(self.fail_auth(srv, "203.0.113.7"), 429, "auth.too_many_failures")
        # The socket address (127.0.0.1) was locked, whatever the header says.
        self.assertError(self.fail_auth(srv, "198.51.100.9"), 429, "auth.too_many_failures")
        self.assertError(self.fail_auth(srv), 429, "auth.too_many_failures")
        lines = srv.access_lines()
        self.assertFalse(any("203.0.113.7" in l for l in lines), lines)
        self.assertTrue(all("ip=127.0.0.1 " in l for l in lines), lines)

    def test_allowlist_checks_the_forwarded_client(self):
        srv = self.start_server(args=["--trusted-proxies", "127.0.0.1/32"])
        srv.create_account("owner@example.com")
        set_password(srv, "owner@example.com", "owner console password")
        console = Console(srv.port)
        self.assertEqual(console.login("owner@example.com", "owner console password").status, 200)
        created = console.post("email-users", {"name": "proxied_news"})
        key = self.assertOk(created)["apiKey"]
        self.assertOk(console.patch("email-users/proxied_news",
                                    {"ipAllowlist": ["203.0.113.0/24"]}))

        def send(forwarded_for=None):
            hdrs = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
            return h.post_form(srv.port, "/email/send", [
                ("apiUser", "proxied_news"), ("apiKey", key), ("from", FROM),
                ("to", "a@example.com"), ("subject", "s"), ("plain", "p")], headers=hdrs)

        self.assertOk(send("203.0.113.7"))
        self.assertError(send("198.51.100.9"), 403, "auth.ip_not_allowed")
        self.assertError(send(), 403, "auth.ip_not_allowed")  # the proxy itself
        self.assertError(send("203.0.113.7, 198.51.100.9"), 403, "auth.ip_not_allowed")

    def test_malformed_forwarded_for_falls_back_to_the_proxy_and_is_logged_once(self):
        srv = self.start_server(args=["--trusted-proxies", "127.0.0.1/32", *self.LOCKOUT])
        h.provision(srv)
        for _ in range(2):
            self.assertError(self.fail_auth(srv, "203.0.113.7:5555"), 401,
                             "auth.failed")
        srv.wait_for_stderr(r"X-Forwarded-For that is not a list of IP addresses")
        lines = srv.access_lines()
        self.assertTrue(all("ip=127.0.0.1 " in l for l in lines), lines)
        self.assertEqual(srv.stderr_text().count("not a list of IP addresses"), 1)

    def test_forwarded_proto_https_from_a_trusted_proxy_secures_the_console(self):
        for trusted in (True, False):
            args = ["--trusted-proxies", "127.0.0.1/32"] if trusted else []
            srv = self.start_server(args=args)
            srv.create_account("owner@example.com")
            set_password(srv, "owner@example.com", "owner console password")
            reply = h.request(srv.port, "POST", "/console/api/login",
                              body=login_body("owner@example.com", "owner console password"),
                              headers={"Content-Type": "application/json",
                                       "X-Forwarded-Proto": "https"})
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual("; Secure" in reply.headers["set-cookie"], trusted)
            self.assertEqual("strict-transport-security" in reply.headers, trusted)
            srv.stop()

    def test_a_bad_trusted_proxies_list_stops_the_start(self):
        srv = h.Server(self.temp_dir(), args=["--trusted-proxies", "10.0.0.0/8,10.0.0.0/33"])
        self.watch(srv)
        with self.assertRaises(h.ServerError):
            srv.start()
        self.assertIn("--trusted-proxies: '10.0.0.0/33'", srv.stderr_text())


if __name__ == "__main__":
    import unittest
    unittest.main()
