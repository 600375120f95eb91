"""What the console's user and template pages read from the management API, against the real server.

The pages (src/console/assets/) are driven in a browser by tests/e2e; this file holds the API
side they rely on: the session's `emailKeyGraceSeconds` (the reset dialog's text comes from the
server's setting, not a fixed "15 minutes"), a user's `lastUsedAt` (kept with the usage
counters, so a list of users costs no authentication-log query per user), policy refusals that
name their field (the page shows each beside its input), and the pages themselves: one shared
fragment for both kinds of user, and the template pages with their navigation entries.
"""

import datetime
import time
import unittest

import harness as h
from test_management_api import Console, set_password

EMAIL = "pages@example.com"
PASSWORD = "pages console password"
GRACE_SECONDS = 420  # not the default 900: the answer must come from the setting


def parse_time(text):
    """ISO 8601 UTC as the API writes it (2026-11-28T10:00:00.123Z) -> epoch milliseconds."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def now_ms():
    return int(time.time() * 1000)


class ConsolePagesTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server(args=["--email-key-grace", str(GRACE_SECONDS)])
        cls.port = cls.srv.port
        cls.srv.create_account(EMAIL)
        set_password(cls.srv, EMAIL, PASSWORD)

    def console(self):
        c = Console(self.port)
        self.assertOk(c.login(EMAIL, PASSWORD))
        return c

    def send_email(self, user, key):
        return h.post_form(self.port, "/email/send", {
            "apiUser": user, "apiKey": key, "from": "news@example.com",
            "to": "carol@example.com", "subject": "Hello", "plain": "Hello Carol"})

    def send_sms(self, user, key):
        return h.post_form(self.port, "/smsapi/send", {
            "smsUser": user, "smsKey": key, "to": "+14155550100", "message": "Hello"})

    def wait_for_last_use(self, c, path):
        """The user's lastUsedAt once the audit recorder has flushed (about once a second)."""
        deadline = time.monotonic() + h.IO_TIMEOUT
        while True:
            user = self.assertOk(c.get(path))["user"]
            if user["lastUsedAt"] is not None or time.monotonic() > deadline:
                return user["lastUsedAt"]
            time.sleep(0.05)

    # ---- the grace period ----------------------------------------------------------------------
    def test_the_session_tells_the_configured_grace_and_a_reset_keeps_it(self):
        c = self.console()
        self.assertEqual(self.assertOk(c.get("session"))["emailKeyGraceSeconds"], GRACE_SECONDS)
        self.assertOk(c.post("email-users", {"name": "pages_grace"}))
        before = now_ms()
        info = self.assertOk(c.post("email-users/pages_grace/reset", {"revokeOld": False}))
        after = now_ms()
        expires = parse_time(info["oldKeyExpiresAt"])
        self.assertGreaterEqual(expires, before + GRACE_SECONDS * 1000 - 1)
        self.assertLessEqual(expires, after + GRACE_SECONDS * 1000 + 1)

    # ---- last use ------------------------------------------------------------------------------
    def test_last_used_at_is_the_latest_send_with_the_key(self):
        c = self.console()
        key = self.assertOk(c.post("email-users", {"name": "pages_mailer"}))["apiKey"]
        self.assertIsNone(self.assertOk(c.get("email-users/pages_mailer"))["user"]["lastUsedAt"])
        # A wrong key is not a use.
        self.assertEqual(self.send_email("pages_mailer", "x" * 32).status, 401)
        before = now_ms()
        self.assertOk(self.send_email("pages_mailer", key))
        sent = now_ms()
        last = self.wait_for_last_use(c, "email-users/pages_mailer")
        self.assertIsNotNone(last, "no lastUsedAt after a send")
        # The server's clock is this machine's: the use falls between before and after the send.
        self.assertGreaterEqual(parse_time(last), before - 1)
        self.assertLessEqual(parse_time(last), sent + 1)
        # The list carries it too: the page needs no request per user.
        listed = {u["name"]: u for u in self.assertOk(c.get("email-users"))["users"]}
        self.assertEqual(listed["pages_mailer"]["lastUsedAt"], last)

        # A later send moves it forward.
        while now_ms() <= parse_time(last):
            pass  # into a later millisecond (at most one), so that "later" can be seen
        second_before = now_ms()
        self.assertOk(self.send_email("pages_mailer", key))
        deadline = time.monotonic() + h.IO_TIMEOUT
        while True:
            latest = self.assertOk(c.get("email-users/pages_mailer"))["user"]["lastUsedAt"]
            if parse_time(latest) >= second_before or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(parse_time(latest), second_before - 1)
        self.assertLessEqual(parse_time(latest), now_ms() + 1)

    def test_an_sms_user_has_its_last_use_too(self):
        c = self.console()
        key = self.assertOk(c.post("sms-users", {"name": "pages_texter"}))["smsKey"]
        self.assertIsNone(self.assertOk(c.get("sms-users/pages_texter"))["user"]["lastUsedAt"])
        before = now_ms()
        self.assertOk(self.send_sms("pages_texter", key))
        last = self.wait_for_last_use(c, "sms-users/pages_texter")
        self.assertIsNotNone(last, "no lastUsedAt after an SMS send")
        self.assertGreaterEqual(parse_time(last), before - 1)
        self.assertLessEqual(parse_time(last), now_ms() + 1)

    # ---- access and limits -----------------------------------------------------------------------
    def test_a_refused_policy_names_its_field(self):
        """users.js shows a refusal beside the field its code or the start of its hint names."""
        c = self.console()
        self.assertOk(c.post("email-users", {"name": "pages_policy"}))
        self.assertOk(c.post("sms-users", {"name": "pages_policy_sms"}))
        cases = (
            ("email-users", {"ipAllowlist": ["10.0.0.0/33"]}, "console.invalid_cidr", "10.0.0.0/33"),
            ("email-users", {"ipAllowlist": "10.0.0.1"}, "console.bad_request", None),
            ("email-users", {"ipAllowlist": ["10.0.0.1"] * 101}, "console.invalid_value", None),
            ("email-users", {"senderDomains": ["not a domain"]}, "console.invalid_domain",
             "not a domain"),
            ("email-users", {"rateLimitPerMinute": "abc"}, "console.invalid_value", None),
            ("email-users", {"dailyQuota": -1}, "console.invalid_value", None),
            ("sms-users", {"dailyQuota": 1.5}, "console.invalid_value", None),
            ("sms-users", {"smsRoute": "nowhere"}, "console.unknown_route", "nowhere"),
        )
        by_code = {"console.invalid_cidr": "ipAllowlist",
                   "console.invalid_domain": "senderDomains",
                   "console.unknown_route": "smsRoute"}
        for kind, body, code, word in cases:
            with self.subTest(body=str(body)[:60]):
                name = "pages_policy" if kind == "email-users" else "pages_policy_sms"
                err = self.assertError(c.patch(f"{kind}/{name}", body), 400, code, word or ())
                field = next(iter(body))
                if code in by_code:
                    self.assertEqual(by_code[code], field)
                else:
                    self.assertTrue(err["hint"].startswith(field + " "), err["hint"])
        # Nothing was stored by a refused PATCH.
        user = self.assertOk(c.get("email-users/pages_policy"))["user"]
        self.assertEqual((user["ipAllowlist"], user["senderDomains"], user["rateLimitPerMinute"],
                          user["dailyQuota"]), ([], [], 0, 0))

    def test_the_policies_the_page_saves_are_enforced(self):
        c = self.console()
        key = self.assertOk(c.post("email-users", {"name": "pages_limited"}))["apiKey"]
        # What the page's form sends: every field it shows, in one PATCH.
        saved = self.assertOk(c.patch("email-users/pages_limited", {
            "ipAllowlist": ["203.0.113.0/24"], "senderDomains": ["Example.com"],
            "rateLimitPerMinute": 600, "dailyQuota": 1000}))["user"]
        self.assertEqual(saved["ipAllowlist"], ["203.0.113.0/24"])
        self.assertEqual(saved["senderDomains"], ["example.com"])
        self.assertEqual((saved["rateLimitPerMinute"], saved["dailyQuota"]), (600, 1000))
        self.assertError(self.send_email("pages_limited", key), 403, "auth.ip_not_allowed")
        self.assertOk(c.patch("email-users/pages_limited", {
            "ipAllowlist": ["127.0.0.1", "::1"], "senderDomains": ["example.com"],
            "rateLimitPerMinute": 0, "dailyQuota": 1}))
        self.assertOk(self.send_email("pages_limited", key))
        self.assertError(self.send_email("pages_limited", key), 429, "limit.daily_quota_exceeded")

    # ---- the pages -------------------------------------------------------------------------------
    def page(self, path):
        reply = h.get(self.port, path)
        self.assertEqual(reply.status, 200, reply)
        return reply.body.decode("utf-8")

    def test_both_user_pages_come_from_one_fragment_with_their_own_names(self):
        email = self.page("/console/email-users")
        sms = self.page("/console/sms-users")
        for html, page, user, key, other in ((email, "email-users", "API_USER", "API_KEY",
                                              "SMS_USER"),
                                             (sms, "sms-users", "SMS_USER", "SMS_KEY",
                                              "API_USER")):
            self.assertIn(f'<body data-page="{page}">', html)
            self.assertNotIn("{{", html)  # every parameter filled
            self.assertIn(f'<h2 id="create-title">Create an {user}</h2>', html)
            self.assertIn(f'<h2 id="key-title">New {key}</h2>', html)
            self.assertIn(f'<a href="/console/{page}">All {user}s</a>', html)
            self.assertNotIn(f"{other}s</h2>", html)
            self.assertIn('id="policy-form"', html)
            self.assertIn('src="/console/assets/js/users.js"', html)
        # The grace text is the script's, from the session: no fixed length in the page.
        self.assertNotIn("15-minute", email)
        self.assertIn('class="grace-length"', email)

    def test_the_template_pages_are_served_and_in_the_navigation(self):
        for path, field in (("/console/email-templates", 't-invokeName'),
                            ("/console/sms-templates", 't-text')):
            with self.subTest(path=path):
                html = self.page(path)
                self.assertIn(f'id="{field}"', html)
                self.assertIn('src="/console/assets/js/templates.js"', html)
                self.assertNotIn("{{", html)
        nav = self.page("/console/email-users")
        for path in ("/console/email-templates", "/console/sms-templates"):
            self.assertIn(f'<a href="{path}">Templates</a>', nav)
        script = h.get(self.port, "/console/assets/js/templates.js")
        self.assertEqual(script.status, 200)
        # Bodies are set as text: the script never writes HTML.
        self.assertNotIn(b"innerHTML", script.body)


if __name__ == "__main__":
    unittest.main()
