"""Credential life cycle through the operator commands, against a running server: a change made
on the command line takes effect in the server exactly as one made through the management API.
Time-dependent edges (14:59 / 15:00) are shown in-process with a fake clock
(tests/unit/api/send_api_test.cpp); here the grace period is observed while it runs."""

import email.utils
import re
import sqlite3
import subprocess
import time
import unittest

import harness as h


class OperatorCommandsTest(h.ServerTestCase):
    def setUp(self):
        self.srv = self.start_server()
        self.creds = h.provision(self.srv)
        self.port = self.srv.port

    def send_email(self, key, user=None):
        return h.get(self.port, "/email/send", [
            ("apiUser", user or self.creds.api_user), ("apiKey", key), ("from", "news@example.com"),
            ("to", "ann@example.com"), ("subject", "Hi"), ("plain", "Hello")])

    def send_sms(self, key):
        return h.post_form(self.port, "/smsapi/send", [
            ("smsUser", self.creds.sms_user), ("smsKey", key), ("to", "+14155550100"),
            ("message", "Hello")])

    def test_sms_reset_refuses_the_old_key_from_the_moment_the_command_returns(self):
        self.assertOk(self.send_sms(self.creds.sms_key))
        out = self.srv.operator("sms-user", "reset", self.creds.sms_user)
        new_key = h._key_from(out, "SMS_KEY")
        self.assertNotEqual(new_key, self.creds.sms_key)
        self.assertIn("refused from now on", out)
        # The very first request after the command returned.
        self.assertError(self.send_sms(self.creds.sms_key), 401, "auth.key_expired",
                         "was reset at")
        self.assertOk(self.send_sms(new_key))

    def test_email_reset_keeps_the_old_key_for_the_grace_period_with_sunset(self):
        before = int(time.time())
        out = self.srv.operator("email-user", "reset", self.creds.api_user)
        new_key = h._key_from(out, "API_KEY")
        self.assertOk(self.send_email(new_key))
        old = self.send_email(self.creds.api_key)
        self.assertOk(old)
        sunset = old.headers.get("sunset")
        self.assertIsNotNone(sunset, old.headers)
        expires = email.utils.parsedate_to_datetime(sunset).timestamp()
        # The default grace is 900 s from the reset, which happened after `before`.
        self.assertGreaterEqual(expires, before + 900)
        self.assertLessEqual(expires, int(time.time()) + 900)
        self.assertNotIn("sunset", self.send_email(new_key).headers)
        m = re.search(r"keeps working until (\S+)", out)
        self.assertIsNotNone(m, out)

    def test_email_reset_with_revoke_old_ends_the_old_key_at_once(self):
        out = self.srv.operator("email-user", "reset", self.creds.api_user, "--revoke-old")
        new_key = h._key_from(out, "API_KEY")
        self.assertError(self.send_email(self.creds.api_key), 401, "auth.key_expired",
                         "stopped working")
        self.assertOk(self.send_email(new_key))

    def test_a_second_reset_ends_the_first_key_at_once(self):
        key2 = h._key_from(self.srv.operator("email-user", "reset", self.creds.api_user), "API_KEY")
        key3 = h._key_from(self.srv.operator("email-user", "reset", self.creds.api_user), "API_KEY")
        self.assertError(self.send_email(self.creds.api_key), 401, "auth.key_expired")
        self.assertIn("sunset", self.send_email(key2).headers)
        self.assertOk(self.send_email(key3))

    def test_disable_and_enable(self):
        self.srv.operator("email-user", "disable", self.creds.api_user)
        self.assertError(self.send_email(self.creds.api_key), 403, "auth.user_disabled")
        self.srv.operator("email-user", "enable", self.creds.api_user)
        self.assertOk(self.send_email(self.creds.api_key))

    def test_commands_refuse_a_user_of_the_other_kind(self):
        r = subprocess.run([h.binary(), "sms-user", "reset", self.creds.api_user, "--data-dir",
                            self.srv.data_dir], capture_output=True, env=h.child_env(),
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"no SMS_USER named", r.stderr)
        self.assertNotIn(b"SMS_KEY:", r.stdout)
        self.assertOk(self.send_email(self.creds.api_key))  # nothing changed

    def test_list_never_prints_a_key(self):
        out = self.srv.operator("email-user", "list", "--account", h.ACCOUNT_EMAIL)
        self.assertIn(self.creds.api_user, out)
        self.assertNotIn(self.creds.sms_user, out)
        self.assertNotIn(self.creds.api_key, out)
        sms_out = self.srv.operator("sms-user", "list", "--account", h.ACCOUNT_EMAIL)
        self.assertIn(self.creds.sms_user, sms_out)
        self.assertNotIn(self.creds.sms_key, sms_out)

    def test_no_key_in_audit_usage_database_or_logs(self):
        self.assertOk(self.send_email(self.creds.api_key))
        self.assertOk(self.send_sms(self.creds.sms_key))
        self.send_email("x" + self.creds.api_key[1:])
        new_key = h._key_from(self.srv.operator("sms-user", "reset", self.creds.sms_user), "SMS_KEY")
        self.send_sms(self.creds.sms_key)
        self.assertOk(self.send_sms(new_key))
        self.srv.stop()  # flushes the audit batches
        keys = [self.creds.api_key, self.creds.sms_key, new_key]
        db = sqlite3.connect(self.srv.db_path())
        try:
            events = db.execute("SELECT SUM(attempts) FROM auth_events").fetchone()[0]
            self.assertGreaterEqual(events, 5)
            fingerprints = {r[0] for r in db.execute("SELECT key_fingerprint FROM auth_events")}
            self.assertTrue(any(fp and len(fp) == 8 for fp in fingerprints), fingerprints)
            usage = db.execute("SELECT SUM(requests), SUM(auth_failures) FROM usage_hourly").fetchone()
            self.assertGreaterEqual(usage[0], 4)
            self.assertGreaterEqual(usage[1], 1)
            for table in ("auth_events", "usage_hourly"):
                for row in db.execute(f"SELECT * FROM {table}"):
                    for k in keys:
                        self.assertNotIn(k, repr(row))
        finally:
            db.close()
        for path in (self.srv.db_path(), self.srv.db_path() + "-wal"):
            try:
                data = open(path, "rb").read()
            except FileNotFoundError:
                continue
            for k in keys:
                self.assertNotIn(k.encode(), data, path)
        logs = self.srv.stderr_text()
        for k in keys:
            self.assertNotIn(k, logs)


if __name__ == "__main__":
    unittest.main()
