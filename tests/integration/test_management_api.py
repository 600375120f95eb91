"""The console management API (/console/api/) against the real server, end to end.

Accounts are made with the operator commands (`account create`, `account set-password`, the
password on stdin); everything else goes over HTTP: login and its cookie, CSRF refusal, API users
created through the console whose keys then work on the send API, key resets with and without a
grace period, the immediate SMS reset, and one account never reaching another's users.
"""

import glob
import json
import os
import subprocess
import time
import unittest

import harness as h

EMAIL_A = "alice@example.com"
EMAIL_B = "bob@example.com"
PASSWORD_A = "alice console password"
PASSWORD_B = "bob console password"
FROM = "news@example.com"


def set_password(server, email, password):
    """`sendcloudd account set-password --email E` with the password on stdin."""
    cmd = [h.binary(), "account", "set-password", "--email", email,
           "--data-dir", server.data_dir]
    r = subprocess.run(cmd, input=(password + "\n").encode(), capture_output=True,
                       env=server.env, timeout=h.COMMAND_TIMEOUT)
    if r.returncode != 0:
        raise h.ServerError(f"set-password failed with {r.returncode}: "
                            f"{r.stderr.decode('utf-8', 'replace')}")
    # The password is read from stdin, never echoed.
    assert password not in r.stdout.decode("utf-8", "replace")


class Console:
    """One browser: its session cookie and CSRF token."""

    def __init__(self, port):
        self.port = port
        self.cookie = None
        self.csrf = None

    def call(self, method, path, body=None, csrf=True, headers=None):
        hdrs = {}
        if body is not None:
            hdrs["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        if self.cookie:
            hdrs["Cookie"] = f"sc_session={self.cookie}"
        if csrf is True and self.csrf:
            hdrs["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            hdrs["X-CSRF-Token"] = csrf
        hdrs.update(headers or {})
        return h.request(self.port, method, "/console/api/" + path, body=body, headers=hdrs)

    def login(self, email, password):
        reply = self.call("POST", "login", {"email": email, "password": password})
        if reply.status == 200:
            cookie = reply.headers.get("set-cookie", "")
            self.cookie = cookie.split(";", 1)[0].split("=", 1)[1]
            self.csrf = reply.json["info"]["csrfToken"]
        return reply

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


class ManagementApiTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server()
        cls.port = cls.srv.port
        for email, password in ((EMAIL_A, PASSWORD_A), (EMAIL_B, PASSWORD_B)):
            cls.srv.create_account(email)
            set_password(cls.srv, email, password)

    def alice(self):
        c = Console(self.port)
        self.assertOk(c.login(EMAIL_A, PASSWORD_A))
        return c

    def bob(self):
        c = Console(self.port)
        self.assertOk(c.login(EMAIL_B, PASSWORD_B))
        return c

    def send_email(self, user, key):
        return h.post_form(self.port, "/email/send", {
            "apiUser": user, "apiKey": key, "from": FROM, "to": "carol@example.com",
            "subject": "Hello", "plain": "Hello Carol"})

    def send_sms(self, user, key):
        return h.post_form(self.port, "/smsapi/send", {
            "smsUser": user, "smsKey": key, "to": "+14155550100", "message": "Hello"})

    def data_dir_bytes(self):
        data = b""
        for path in glob.glob(os.path.join(self.srv.data_dir, "*")):
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data += f.read()
        return data

    # ---- sessions ------------------------------------------------------------------------------
    def test_login_sets_a_strict_cookie_and_the_session_answers(self):
        c = Console(self.port)
        login = c.login(EMAIL_A, PASSWORD_A)
        info = self.assertOk(login)
        self.assertEqual(info["account"]["email"], EMAIL_A)
        self.assertEqual(len(info["csrfToken"]), 43)
        cookie = login.headers["set-cookie"]
        self.assertTrue(cookie.startswith("sc_session="), cookie)
        for attribute in ("; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age="):
            self.assertIn(attribute, cookie)
        self.assertNotIn("Secure", cookie)  # plain HTTP here
        reply = c.get("session")
        info = self.assertOk(reply)
        self.assertEqual(info["account"]["email"], EMAIL_A)
        self.assertNotIn("csrfToken", info)
        self.assertEqual(reply.headers.get("cache-control"), "no-store")

    def test_wrong_password_and_unknown_email_look_the_same(self):
        wrong = Console(self.port).login(EMAIL_A, "not the password")
        unknown = Console(self.port).login("nobody@example.com", "not the password")
        self.assertError(wrong, 401, "console.login_failed")
        self.assertEqual(wrong.body, unknown.body)
        self.assertNotIn("set-cookie", wrong.headers)

    def test_no_session_no_access(self):
        self.assertError(Console(self.port).get("email-users"), 401, "console.session_required")

    def test_logout_ends_the_session(self):
        c = self.alice()
        self.assertError(c.post("logout", csrf=False), 403, "console.csrf_failed")
        self.assertOk(c.post("logout"))
        self.assertError(c.get("session"), 401, "console.session_required")

    def test_set_password_ends_every_session_of_the_account(self):
        # Issue #11: after `account set-password` the old cookie went on creating API users.
        email, first, second = "carol@example.com", "carol first password", "carol second one"
        self.srv.create_account(email)
        set_password(self.srv, email, first)
        browsers = [Console(self.port), Console(self.port)]
        for c in browsers:
            self.assertOk(c.login(email, first))
        bob = self.bob()

        set_password(self.srv, email, second)
        for c in browsers:
            self.assertError(c.get("session"), 401, "console.session_required")
            self.assertError(c.post("email-users", {"name": "carol_after_reset"}), 401,
                             "console.session_required")
        # Another account's session is untouched; the new password logs in, the old does not.
        self.assertOk(bob.get("session"))
        self.assertError(Console(self.port).login(email, first), 401, "console.login_failed")
        carol = Console(self.port)
        self.assertOk(carol.login(email, second))
        self.assertError(carol.get("email-users/carol_after_reset"), 404, "console.not_found")

    # ---- CSRF ------------------------------------------------------------------------------------
    def test_state_changes_without_the_csrf_token_are_refused(self):
        c = self.alice()
        other = self.alice()  # a second session: its token is not this session's
        for csrf in (False, "forged-token", other.csrf):
            with self.subTest(csrf=csrf):
                self.assertError(c.post("email-users", {"name": "csrf_victim"}, csrf=csrf),
                                 403, "console.csrf_failed")
        self.assertError(c.get("email-users/csrf_victim"), 404, "console.not_found")
        self.assertOk(c.post("email-users", {"name": "csrf_victim"}))
        for method, path, body in (("PATCH", "email-users/csrf_victim", {"disabled": True}),
                                   ("POST", "email-users/csrf_victim/reset", {}),
                                   ("POST", "email-users/csrf_victim/key", None),
                                   ("DELETE", "email-users/csrf_victim", None)):
            with self.subTest(method=method, path=path):
                self.assertError(c.call(method, path, body, csrf=False), 403,
                                 "console.csrf_failed")
        user = self.assertOk(c.get("email-users/csrf_victim"))["user"]
        self.assertFalse(user["disabled"])
        self.assertIsNone(user["graceKey"])

    # ---- users and keys ----------------------------------------------------------------------------
    def test_created_user_key_works_on_the_send_api(self):
        c = self.alice()
        info = self.assertOk(c.post("email-users", {"name": "alice_news",
                                                    "purpose": "newsletter",
                                                    "senderDomains": ["example.com"]}))
        key = info["apiKey"]
        self.assertEqual(len(key), 32)
        self.assertEqual(info["user"]["senderDomains"], ["example.com"])
        self.assertOk(self.send_email("alice_news", key))
        # Shown once: later reads carry the fingerprint only.
        for reply in (c.get("email-users"), c.get("email-users/alice_news")):
            self.assertOk(reply)
            self.assertNotIn(key.encode(), reply.body)
        self.assertNotIn(key.encode(), self.data_dir_bytes())

        self.assertError(c.patch("email-users/alice_news", {"ipAllowlist": ["10.0.0.0/33"]}),
                         400, "console.invalid_cidr", "10.0.0.0/33")
        self.assertError(c.post("email-users", {"name": "Bad-Name"}), 400,
                         "console.invalid_name")
        self.assertError(c.post("email-users", {"name": "alice_news"}), 409,
                         "console.name_taken")
        self.assertOk(c.patch("email-users/alice_news", {"disabled": True}))
        self.assertError(self.send_email("alice_news", key), 403, "auth.user_disabled")
        self.assertOk(c.delete("email-users/alice_news"))
        self.assertError(self.send_email("alice_news", key), 401, "auth.failed")

    def test_email_reset_keeps_the_old_key_for_the_grace_period(self):
        c = self.alice()
        old = self.assertOk(c.post("email-users", {"name": "alice_grace"}))["apiKey"]
        info = self.assertOk(c.post("email-users/alice_grace/reset", {"revokeOld": False}))
        new = info["apiKey"]
        self.assertNotEqual(new, old)
        self.assertIsNotNone(info["oldKeyExpiresAt"])
        grace = info["user"]["graceKey"]
        self.assertEqual(grace["expiresAt"], info["oldKeyExpiresAt"])
        self.assertEqual(grace["fingerprint"], info["oldKeyFingerprint"])
        # Both keys work; the old one announces its end.
        self.assertOk(self.send_email("alice_grace", new))
        old_reply = self.send_email("alice_grace", old)
        self.assertOk(old_reply)
        self.assertIn("sunset", old_reply.headers)

        # An emergency reset ends every older key at once.
        info = self.assertOk(c.post("email-users/alice_grace/reset", {"revokeOld": True}))
        self.assertIsNone(info["user"]["graceKey"])
        newest = info["apiKey"]
        self.assertOk(self.send_email("alice_grace", newest))
        for stale in (old, new):
            reply = self.send_email("alice_grace", stale)
            self.assertEqual(reply.status, 401, reply)
        for k in (old, new, newest):
            self.assertNotIn(k.encode(), self.data_dir_bytes())

    def test_sms_reset_refuses_the_old_key_at_once(self):
        c = self.alice()
        old = self.assertOk(c.post("sms-users", {"name": "alice_otp"}))["smsKey"]
        self.assertOk(self.send_sms("alice_otp", old))
        info = self.assertOk(c.post("sms-users/alice_otp/key"))
        new = info["smsKey"]
        self.assertNotIn("graceKey", info["user"])
        # Straight after the reset answered, with no waiting of any kind.
        self.assertError(self.send_sms("alice_otp", old), 401, "auth.key_expired")
        self.assertOk(self.send_sms("alice_otp", new))

    # ---- isolation -------------------------------------------------------------------------------
    def test_another_accounts_users_are_not_found(self):
        bob = self.bob()
        bob_key = self.assertOk(bob.post("email-users", {"name": "bob_private"}))["apiKey"]
        alice = self.alice()
        for method, suffix, body in (("GET", "", None),
                                     ("PATCH", "", {"disabled": True}),
                                     ("DELETE", "", None),
                                     ("POST", "/key", None),
                                     ("POST", "/reset", {"revokeOld": True})):
            with self.subTest(method=method, suffix=suffix):
                theirs = alice.call(method, "email-users/bob_private" + suffix, body)
                missing = alice.call(method, "email-users/bob_privatx" + suffix, body)
                self.assertError(theirs, 404, "console.not_found")
                self.assertEqual(theirs.body.replace(b"bob_private", b"bob_privatx"),
                                 missing.body)
        self.assertError(alice.get("sms-users/bob_private"), 404, "console.not_found")
        users = self.assertOk(alice.get("email-users"))["users"]
        self.assertNotIn("bob_private", [u["name"] for u in users])
        # Bob's user is untouched and its key still works.
        self.assertOk(self.send_email("bob_private", bob_key))
        mine = self.assertOk(bob.get("email-users/bob_private"))["user"]
        self.assertFalse(mine["disabled"])
        self.assertIsNone(mine["graceKey"])

    # ---- audit ---------------------------------------------------------------------------------
    def test_auth_events_show_the_accounts_own_requests(self):
        c = self.alice()
        key = self.assertOk(c.post("email-users", {"name": "alice_audit"}))["apiKey"]
        self.assertOk(self.send_email("alice_audit", key))
        self.assertEqual(self.send_email("alice_audit", "x" * 32).status, 401)
        # The recorder writes in batches from a background thread (about once a second): poll,
        # ending as soon as both events are there, bounded by IO_TIMEOUT.
        deadline = time.monotonic() + h.IO_TIMEOUT
        while True:
            events = self.assertOk(c.get("auth-events?user=alice_audit"))["events"]
            if len(events) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        outcomes = sorted(e["outcome"] for e in events)
        self.assertEqual(outcomes, ["failure", "success"], events)
        for e in events:
            self.assertEqual(e["user"], "alice_audit")
            self.assertNotIn(key, json.dumps(e))
        bob_view = self.assertOk(self.bob().get("auth-events?user=alice_audit"))
        self.assertEqual(bob_view["events"], [])

    def test_alike_attempts_are_counted_in_one_event_a_second(self):
        c = self.alice()
        key = self.assertOk(c.post("email-users", {"name": "alice_burst"}))["apiKey"]
        # Few enough that this class's server never locks the test client's address out
        # (20 failures a minute), which every other test here would then feel.
        sent = 6
        started = time.monotonic()
        for _ in range(sent):
            self.assertEqual(self.send_email("alice_burst", "x" * 32).status, 401)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + h.IO_TIMEOUT
        while True:
            events = self.assertOk(c.get("auth-events?user=alice_burst"))["events"]
            if sum(e["attempts"] for e in events) >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(sum(e["attempts"] for e in events), sent, events)
        # A burst shorter than a second crosses at most one second boundary and one background
        # flush (about a second apart): at most three events, however many attempts.
        if elapsed < 0.9:
            self.assertLessEqual(len(events), 3, events)
        for e in events:
            self.assertEqual(e["outcome"], "failure")
            self.assertLessEqual(e["at"], e["lastAt"])
            self.assertNotIn(key, json.dumps(e))

if __name__ == "__main__":
    unittest.main()
