"""No key ever reaches the logs, an error body or the database file (docs/api.md §2, §10, §13)."""

import base64
import glob
import os
import re
import unittest
import urllib.parse

import harness as h

FROM = "news@example.com"


class SecrecyTest(h.ServerTestCase):
    """One server sees every kind of request that carries a real key; the tests then search
    everything it wrote or answered for each key's bytes."""

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server(demo=False)
        srv = cls.srv
        cls.creds = c = h.provision(srv)
        cls.other_user = "mail_user_two"
        cls.other_key = srv.create_email_user(cls.other_user)
        cls.keys = {"API_KEY": c.api_key, "SMS_KEY": c.sms_key, "API_KEY_2": cls.other_key}
        cls.replies = []  # (label, Reply)
        cls.run_traffic()
        cls.db_running = cls.db_bytes()
        cls.exit_code = srv.stop()
        cls.db_stopped = cls.db_bytes()
        cls.stdout = srv.stdout_text()
        cls.stderr = srv.stderr_text()
        with open(srv.stderr_path, "rb") as f:
            cls.stderr_file = f.read()

    @classmethod
    def db_bytes(cls):
        out = {}
        for path in glob.glob(os.path.join(cls.srv.data_dir, "sendcloud.db*")):
            with open(path, "rb") as f:
                out[os.path.basename(path)] = f.read()
        return out

    @classmethod
    def run_traffic(cls):
        c, port = cls.creds, cls.srv.port
        U, K, SU, SK = c.api_user, c.api_key, c.sms_user, c.sms_key
        mail = [("from", FROM), ("to", "alice@example.com"), ("subject", "Hi"), ("plain", "x")]
        sms = [("to", "+14155550100"), ("message", "Hi")]

        def q(pairs):
            return urllib.parse.urlencode(pairs)

        def record(label, reply):
            cls.replies.append((label, reply))

        E, S = "/email/send", "/smsapi/send"
        # Successes: query string, form body, multipart.
        record("email GET ok", h.get(port, E, [("apiUser", U), ("apiKey", K)] + mail))
        record("email POST ok", h.post_form(port, E, [("apiUser", U), ("apiKey", K)] + mail))
        record("email multipart ok", h.post_multipart(
            port, E, [("apiUser", U), ("apiKey", K)] + mail,
            files=[("attachments", "a.txt", "text/plain", b"hello")]))
        record("sms GET ok", h.get(port, S, [("smsUser", SU), ("smsKey", SK)] + sms))
        record("sms POST ok", h.post_form(port, S, [("smsUser", SU), ("smsKey", SK)] + sms))
        # Validation failures after a successful authentication.
        record("email GET from missing", h.get(port, E, [("apiUser", U), ("apiKey", K)] + mail[1:]))
        record("sms GET bad number", h.get(port, S, [("smsUser", SU), ("smsKey", SK),
                                                     ("to", "+1234567890"), ("message", "x")]))
        # Wrong keys: another user's key, an unknown user with a real key, the other API's key.
        record("wrong key GET", h.get(port, E, [("apiUser", U), ("apiKey", cls.other_key)] + mail))
        record("unknown user GET", h.get(port, E, [("apiUser", "nobody_here"), ("apiKey", K)] + mail))
        record("sms key on email API", h.get(port, E, [("apiUser", SU), ("apiKey", SK)] + mail))
        record("email key on sms API", h.get(port, S, [("smsUser", U), ("smsKey", K)] + sms))
        record("wrong names GET", h.get(port, E, [("smsUser", U), ("smsKey", K)] + mail))
        # Whitespace around keys.
        for label, bad in (("leading", " " + K), ("trailing", K + " "), ("newline", K + "\n")):
            record(f"whitespace {label} GET",
                   h.get(port, E, [("apiUser", U), ("apiKey", bad)] + mail))
            record(f"whitespace {label} POST",
                   h.post_form(port, E, [("apiUser", U), ("apiKey", bad)] + mail))
        record("whitespace unencoded plus GET",
               h.get(port, E + "?" + q([("apiUser", U)] + mail) + "&apiKey=+" + K))
        record("sms whitespace POST",
               h.post_form(port, S, [("smsUser", SU), ("smsKey", SK + " ")] + sms))
        # Keys swapped between the user and key parameters.
        record("swapped GET", h.get(port, E, [("apiUser", K), ("apiKey", U)] + mail))
        record("swapped POST", h.post_form(port, E, [("apiUser", K), ("apiKey", U)] + mail))
        record("sms swapped GET", h.get(port, S, [("smsUser", SK), ("smsKey", SU)] + sms))
        # Keys in headers.
        basic = base64.b64encode(f"{U}:{K}".encode()).decode()
        for label, hdrs in (("bearer", {"Authorization": f"Bearer {K}"}),
                            ("basic", {"Authorization": f"Basic {basic}"}),
                            ("x-api-key", {"X-Api-Key": K}),
                            ("x-api-user", {"X-Api-User": U, "X-Api-Key": K}),
                            ("sms bearer", {"Authorization": f"Bearer {SK}"})):
            record(f"header {label}", h.get(port, E, mail, headers=hdrs))
        # Parse errors around a key: a bad escape, two different values, odd spellings.
        record("malformed escape in key", h.get(port, E + "?" + q([("apiUser", U)] + mail)
                                                + "&apiKey=" + K + "%ZZ"))
        record("duplicate key", h.get(port, E, [("apiUser", U), ("apiKey", K),
                                                ("apiKey", cls.other_key)] + mail))
        record("lower-case name", h.get(port, E, [("apiuser", U), ("apikey", K)] + mail))
        record("escaped name", h.get(port, E + "?" + q([("apiUser", U)] + mail)
                                     + "&api%4Bey=" + K))
        record("unknown path", h.get(port, "/email/sendx", [("apiUser", U), ("apiKey", K)]))
        record("wrong method", h.request(port, "DELETE",
                                         E + "?" + q([("apiUser", U), ("apiKey", K)])))
        record("unsupported type", h.request(port, "POST", E + "?" + q([("apiKey", K)]),
                                             body=b"{}",
                                             headers={"Content-Type": "application/json"}))
        record("sms GET key in query, wrong user",
               h.get(port, S, [("smsUser", "nobody_here"), ("smsKey", SK)] + sms))

    def find_keys(self, text):
        if isinstance(text, str):
            text = text.encode("utf-8", "replace")
        return [name for name, key in self.keys.items() if key.encode() in text]

    def redact(self, text):
        for name, key in self.keys.items():
            text = text.replace(key, f"<{name}>")
        return text

    def test_traffic_was_real(self):
        labels = dict(self.replies)
        for ok in ("email GET ok", "email POST ok", "email multipart ok", "sms GET ok",
                   "sms POST ok"):
            self.assertEqual(labels[ok].status, 200, (ok, labels[ok]))
        expected = {
            "wrong key GET": "auth.failed", "unknown user GET": "auth.failed",
            "swapped GET": "auth.failed", "whitespace trailing GET": "auth.whitespace",
            "header bearer": "auth.credentials_in_header",
            "malformed escape in key": "param.malformed_escape",
            "duplicate key": "param.duplicate",
        }
        for label, code in expected.items():
            self.assertEqual((labels[label].json or {}).get("errorCode"), code,
                             (label, labels[label]))
        self.assertEqual(self.exit_code, 0)

    def test_logs_contain_no_key(self):
        leaks = [self.redact(line) for line in self.stderr.splitlines() if self.find_keys(line)]
        self.assertEqual(leaks, [], "stderr lines that hold a key")
        self.assertEqual(self.find_keys(self.stderr_file), [])
        self.assertEqual(self.find_keys(self.stdout), [], self.redact(self.stdout))
        self.assertIn("auth failure", self.stderr)  # failures are logged, just not the key

    def test_error_bodies_contain_no_key(self):
        leaks = [(label, self.redact(r.body.decode("utf-8", "replace")))
                 for label, r in self.replies if self.find_keys(r.body)]
        self.assertEqual(leaks, [])
        for label, r in self.replies:
            self.assertEqual(self.find_keys(repr(r.headers)), [], label)

    def test_access_log_redacts_query_keys(self):
        access = [l for l in self.stderr.splitlines() if " access method=" in l]
        self.assertEqual(len(access), len(self.replies))
        with_key = [l for l in access if re.search(r"[?&](apiKey|smsKey|apikey)=", l)]
        self.assertGreaterEqual(len(with_key), 20)
        for line in with_key:
            for m in re.finditer(r"[?&](apiKey|smsKey|apikey)=([^&\s]*)", line):
                self.assertEqual(m.group(2), "***", self.redact(line))
        self.assertTrue(any("apiKey=***" in l for l in access))
        self.assertTrue(any("smsKey=***" in l for l in access))

    def test_database_contains_no_key(self):
        self.assertIn("sendcloud.db", self.db_running)
        self.assertIn("sendcloud.db", self.db_stopped)
        for phase, files in (("running", self.db_running), ("stopped", self.db_stopped)):
            for name, data in files.items():
                with self.subTest(phase=phase, file=name):
                    self.assertEqual(self.find_keys(data), [])
        # The users and the messages are there, so the search looked at the right file.
        self.assertTrue(any(self.creds.api_user.encode() in d for d in self.db_stopped.values()))


if __name__ == "__main__":
    unittest.main()
