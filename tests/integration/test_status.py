"""The status APIs end to end (docs/api.md "Delivery status"): a test-mode user's email and SMS
reach the `sandbox` state through the real scheduler, and the status paths show it to the owner
only; another account's credentials read the same id as an unknown one."""

import os
import shutil
import sqlite3
import time

import harness as h

FROM = "sender@example.com"
PHONE = "+14155550100"
STATE_TIMEOUT = 20


class StatusTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        root = h.make_temp_root()
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        cls.srv = h.Server(os.path.join(root, "data"))
        cls.creds = h.provision(cls.srv)
        cls.srv.create_account("rival@example.com")
        cls.rival = h.Credentials(
            "rival_mail", cls.srv.create_email_user("rival_mail", "rival@example.com"),
            "rival_sms", cls.srv.create_sms_user("rival_sms", "rival@example.com"))
        # Test mode, set before the server starts (so no credential cache holds the old
        # policy): the scheduler's sandbox agent takes these users' messages.
        con = sqlite3.connect(cls.srv.db_path())
        with con:
            con.execute("UPDATE api_users SET test_mode = 1")
        con.close()
        cls.addClassCleanup(h.check_sanitizers, cls.srv)
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.start()

    def poll(self, path, params, key, wanted):
        deadline = time.monotonic() + STATE_TIMEOUT
        while True:
            info = self.assertOk(h.get(self.srv.port, path, params))
            entry = info["voList"][0]
            if entry["status"] == wanted:
                return entry
            if time.monotonic() > deadline:
                self.fail(f"{key} still {entry['status']}, not {wanted}, after {STATE_TIMEOUT}s")
            time.sleep(0.05)  # polling the API with a deadline

    def test_email_reaches_sandbox_and_only_its_owner_sees_it(self):
        info = self.assertOk(h.post_form(self.srv.port, "/email/send", self.creds.email() + [
            ("from", FROM), ("to", "alice@example.com"), ("subject", "Hi"), ("plain", "Hi")]))
        [email_id] = info["emailIdList"]
        entry = self.poll("/email/status", self.creds.email() + [("emailId", email_id)],
                          email_id, "sandbox")
        self.assertEqual(entry["emailId"], email_id)
        self.assertEqual(entry["recipient"], "alice@example.com")
        self.assertRegex(entry["requestTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.assertTrue(entry["sendLog"], entry)

        q = self.assertOk(h.get(self.srv.port, "/apiv2/data/emailStatus",
                                self.creds.email() + [("emailIds", email_id)]))
        self.assertEqual(q["total"], 1)
        self.assertEqual(q["voList"][0]["status"], "sandbox")
        self.assertEqual(q["voList"][0]["apiUser"], self.creds.api_user)

        theirs = self.assertOk(h.get(self.srv.port, "/email/status",
                                     self.rival.email() + [("emailId", email_id)]))
        unknown = self.assertOk(h.get(self.srv.port, "/email/status",
                                      self.rival.email() + [("emailId", email_id + "x")]))
        self.assertEqual(theirs["voList"][0], {"emailId": email_id, "status": "not_found"})
        self.assertEqual(unknown["voList"][0], {"emailId": email_id + "x", "status": "not_found"})

    def test_sms_reaches_sandbox_and_only_its_owner_sees_it(self):
        info = self.assertOk(h.post_form(self.srv.port, "/smsapi/send", self.creds.sms() + [
            ("to", PHONE), ("message", "hello")]))
        [sms_id] = info["smsIds"]
        entry = self.poll("/smsapi/status", self.creds.sms() + [("smsId", sms_id)], sms_id,
                          "sandbox")
        self.assertEqual(entry["smsId"], sms_id)
        q = self.assertOk(h.get(self.srv.port, "/smsapi/status/query",
                                self.creds.sms() + [("smsIds", sms_id)]))
        self.assertEqual(q["voList"][0]["status"], "sandbox")
        theirs = self.assertOk(h.get(self.srv.port, "/smsapi/status",
                                     self.rival.sms() + [("smsId", sms_id)]))
        self.assertEqual(theirs["voList"][0], {"smsId": sms_id, "status": "not_found"})

    def test_limits_and_credentials(self):
        ids = ";".join(f"id{i}" for i in range(101))
        self.assertError(h.get(self.srv.port, "/email/status",
                               self.creds.email() + [("emailId", ids)]), 400,
                         "status.too_many_ids")
        self.assertError(h.get(self.srv.port, "/apiv2/data/emailStatus",
                               self.creds.email() + [("emailIds", "a"), ("days", "3")]), 400,
                         "status.unsupported_param")
        r = h.get(self.srv.port, "/email/status",
                  [("apiUser", self.creds.api_user), ("apiKey", "wrong"), ("emailId", "a")])
        self.assertEqual(r.status, 401, r)
