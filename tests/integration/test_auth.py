"""Authentication rules of docs/api.md §2 against the real server."""

import base64
import os
import unittest

import harness as h

FROM = "news@example.com"


class AuthTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server()
        cls.creds = h.provision(cls.srv)
        cls.port = cls.srv.port

    def email_params(self, **over):
        p = dict(self.creds.email())
        p.update({"from": FROM, "to": "alice@example.com", "subject": "Hello",
                  "plain": "Hello Alice"})
        p.update(over)
        return p

    def sms_params(self, **over):
        p = dict(self.creds.sms())
        p.update({"to": "+14155550100", "message": "Hello"})
        p.update(over)
        return p

    def stored(self, ids):
        rows = h.recipients(self.srv.db_path())
        for i in ids:
            self.assertIn(i, rows)
        return rows

    # ---- success by GET, POST urlencoded, POST multipart ---------------------------------------
    def test_email_get_succeeds(self):
        info = self.assertOk(h.get(self.port, "/email/send", self.email_params()))
        self.assertEqual(len(info["emailIdList"]), 1)
        rows = self.stored(info["emailIdList"])
        self.assertEqual(rows[info["emailIdList"][0]][1], "alice@example.com")

    def test_email_post_urlencoded_succeeds(self):
        info = self.assertOk(h.post_form(self.port, "/email/send",
                                         self.email_params(to="a@example.com;b@example.com")))
        self.assertEqual(len(info["emailIdList"]), 2)
        self.assertEqual(len(set(info["emailIdList"])), 2)
        self.stored(info["emailIdList"])

    def test_email_post_multipart_with_attachment_succeeds(self):
        data = bytes(range(256)) * 4  # binary, with CR, LF and NUL bytes in it
        info = self.assertOk(h.post_multipart(
            self.port, "/email/send", self.email_params(),
            files=[("attachments", "report.bin", "application/octet-stream", data)]))
        ids = info["emailIdList"]
        self.assertEqual(len(ids), 1)
        rows = self.stored(ids)
        import sqlite3
        con = sqlite3.connect(f"file:{self.srv.db_path()}?mode=ro", uri=True)
        try:
            att = con.execute("SELECT filename, content_type, data FROM attachments "
                              "WHERE message_id=?", (rows[ids[0]][0],)).fetchall()
        finally:
            con.close()
        self.assertEqual(att, [("report.bin", "application/octet-stream", data)])

    def test_sms_get_succeeds(self):
        info = self.assertOk(h.get(self.port, "/smsapi/send", self.sms_params()))
        self.assertEqual(info["successCount"], 1)
        self.assertEqual(info["segments"], 1)
        rows = self.stored(info["smsIds"])
        self.assertEqual(rows[info["smsIds"][0]][1], "+14155550100")

    def test_sms_post_urlencoded_succeeds(self):
        info = self.assertOk(h.post_form(self.port, "/smsapi/send",
                                         self.sms_params(to="+14155550100,+447911123456")))
        self.assertEqual(info["successCount"], 2)
        self.assertEqual(len(info["smsIds"]), 2)
        self.stored(info["smsIds"])

    def test_sms_post_multipart_succeeds(self):
        info = self.assertOk(h.post_multipart(self.port, "/smsapi/send", self.sms_params()))
        self.assertEqual(info["successCount"], 1)
        self.stored(info["smsIds"])

    # ---- credentials in headers ----------------------------------------------------------------
    def header_variants(self, user, key):
        basic = base64.b64encode(f"{user}:{key}".encode()).decode()
        return {
            "basic": {"Authorization": f"Basic {basic}"},
            "bearer": {"Authorization": f"Bearer {key}"},
            "x-api-key": {"X-Api-Key": key},
        }

    def test_email_credentials_in_header_refused(self):
        body = {k: v for k, v in self.email_params().items() if k not in ("apiUser", "apiKey")}
        for name, hdrs in self.header_variants(self.creds.api_user, self.creds.api_key).items():
            with self.subTest(name, method="GET"):
                self.assertError(h.get(self.port, "/email/send", body, headers=hdrs), 401,
                                 "auth.credentials_in_header", ("apiUser", "apiKey"))
            with self.subTest(name, method="POST"):
                self.assertError(h.post_form(self.port, "/email/send", body, headers=hdrs), 401,
                                 "auth.credentials_in_header", ("apiUser", "apiKey"))

    def test_sms_credentials_in_header_refused(self):
        body = {k: v for k, v in self.sms_params().items() if k not in ("smsUser", "smsKey")}
        for name, hdrs in self.header_variants(self.creds.sms_user, self.creds.sms_key).items():
            with self.subTest(name):
                self.assertError(h.post_form(self.port, "/smsapi/send", body, headers=hdrs), 401,
                                 "auth.credentials_in_header", ("smsUser", "smsKey"))

    # ---- each API's own parameter names ----------------------------------------------------------
    def test_sms_names_on_email_api(self):
        p = {k: v for k, v in self.email_params().items() if k not in ("apiUser", "apiKey")}
        p.update({"smsUser": self.creds.api_user, "smsKey": self.creds.api_key})
        self.assertError(h.post_form(self.port, "/email/send", p), 401,
                         "auth.wrong_parameter_names", ("apiUser", "apiKey"))

    def test_email_names_on_sms_api(self):
        p = {k: v for k, v in self.sms_params().items() if k not in ("smsUser", "smsKey")}
        p.update({"apiUser": self.creds.sms_user, "apiKey": self.creds.sms_key})
        self.assertError(h.post_form(self.port, "/smsapi/send", p), 401,
                         "auth.wrong_parameter_names", ("smsUser", "smsKey"))

    # ---- whitespace ------------------------------------------------------------------------------
    def test_whitespace_around_credentials_refused(self):
        k, u = self.creds.api_key, self.creds.api_user
        cases = {
            "trailing space in key": {"apiKey": k + " "},
            "leading space in key": {"apiKey": " " + k},
            "trailing tab in key": {"apiKey": k + "\t"},
            "trailing newline in key": {"apiKey": k + "\n"},
            "trailing space in user": {"apiUser": u + " "},
            "leading space in user": {"apiUser": " " + u},
        }
        for name, over in cases.items():
            with self.subTest(name):
                body = self.assertError(h.post_form(self.port, "/email/send",
                                                    self.email_params(**over)),
                                        401, "auth.whitespace")
                which = "apiKey" if "apiKey" in over else "apiUser"
                self.assertIn(which, body["hint"])
        s = self.creds.sms_key
        self.assertError(h.post_form(self.port, "/smsapi/send", self.sms_params(smsKey=s + " ")),
                         401, "auth.whitespace", "smsKey")

    def test_unencoded_plus_in_query_key_reads_as_space(self):
        # A key sent as "+KEY" without %2B decodes to " KEY": refused, never trimmed.
        q = h.urllib.parse.urlencode([(k, v) for k, v in self.email_params().items()
                                      if k != "apiKey"])
        r = h.get(self.port, "/email/send?" + q + "&apiKey=+" + self.creds.api_key)
        self.assertError(r, 401, "auth.whitespace", "%2B")

    # ---- wrong key and unknown user look the same ----------------------------------------------
    def test_wrong_key_and_unknown_user_are_indistinguishable(self):
        wrong_key = self.assertError(
            h.post_form(self.port, "/email/send", self.email_params(apiKey="A" * 32)),
            401, "auth.failed")
        unknown = h.post_form(self.port, "/email/send",
                              self.email_params(apiUser="nobody_here", apiKey=self.creds.api_key))
        self.assertError(unknown, 401, "auth.failed")
        wrong = h.post_form(self.port, "/email/send", self.email_params(apiKey="A" * 32))
        self.assertEqual(wrong.body, unknown.body)
        self.assertEqual({k: v for k, v in wrong.headers.items() if k != "date"},
                         {k: v for k, v in unknown.headers.items() if k != "date"})
        self.assertNotIn(self.creds.api_key, unknown.body.decode())
        self.assertIn("apiKey", wrong_key["hint"])
        # The same on the SMS API.
        s1 = h.post_form(self.port, "/smsapi/send", self.sms_params(smsKey="B" * 32))
        s2 = h.post_form(self.port, "/smsapi/send", self.sms_params(smsUser="nobody_here"))
        self.assertError(s1, 401, "auth.failed")
        self.assertEqual(s1.body, s2.body)

    def test_email_key_on_sms_api_refused(self):
        p = self.sms_params(smsUser=self.creds.api_user, smsKey=self.creds.api_key)
        r = h.post_form(self.port, "/smsapi/send", p)
        self.assertError(r, 401, "auth.failed")
        unknown = h.post_form(self.port, "/smsapi/send", self.sms_params(smsUser="nobody_here"))
        self.assertEqual(r.body, unknown.body)

    def test_sms_key_on_email_api_refused(self):
        p = self.email_params(apiUser=self.creds.sms_user, apiKey=self.creds.sms_key)
        self.assertError(h.post_form(self.port, "/email/send", p), 401, "auth.failed")

    # ---- disabled user ---------------------------------------------------------------------------
    def test_disabled_user_gets_403(self):
        key = self.srv.create_email_user("soon_disabled")
        p = self.email_params(apiUser="soon_disabled", apiKey=key)
        self.assertOk(h.post_form(self.port, "/email/send", p))
        h.set_user_disabled(self.srv.db_path(), "soon_disabled", env=self.srv.env)
        self.assertError(h.post_form(self.port, "/email/send", p), 403, "auth.user_disabled",
                         "disabled")
        # A wrong key for a disabled user must not reveal that the user exists.
        self.assertError(h.post_form(self.port, "/email/send",
                                     self.email_params(apiUser="soon_disabled", apiKey="C" * 32)),
                         401, "auth.failed")
        h.set_user_disabled(self.srv.db_path(), "soon_disabled", False, env=self.srv.env)
        self.assertOk(h.post_form(self.port, "/email/send", p))

    def test_disabled_sms_user_gets_403(self):
        key = self.srv.create_sms_user("sms_disabled")
        h.set_user_disabled(self.srv.db_path(), "sms_disabled", env=self.srv.env)
        self.assertError(h.post_form(self.port, "/smsapi/send",
                                     self.sms_params(smsUser="sms_disabled", smsKey=key)),
                         403, "auth.user_disabled")

    # ---- changes by another process reach the running server's credential cache at once ---------
    def test_sms_reset_refuses_a_cached_key_on_the_next_request(self):
        key = self.srv.create_sms_user("cached_sms_reset")
        p = self.sms_params(smsUser="cached_sms_reset", smsKey=key)
        self.assertOk(h.post_form(self.port, "/smsapi/send", p))
        self.assertOk(h.post_form(self.port, "/smsapi/send", p))  # answered from the cache
        new_key = h._key_from(self.srv.operator("sms-user", "reset", "cached_sms_reset"),
                              "SMS_KEY")
        self.assertError(h.post_form(self.port, "/smsapi/send", p), 401, "auth.key_expired")
        self.assertOk(h.post_form(self.port, "/smsapi/send",
                                  self.sms_params(smsUser="cached_sms_reset", smsKey=new_key)))

    def test_revoking_email_reset_refuses_a_cached_key_on_the_next_request(self):
        key = self.srv.create_email_user("cached_api_reset")
        p = self.email_params(apiUser="cached_api_reset", apiKey=key)
        self.assertOk(h.post_form(self.port, "/email/send", p))
        self.assertOk(h.post_form(self.port, "/email/send", p))
        new_key = h._key_from(self.srv.operator("email-user", "reset", "cached_api_reset",
                                                "--revoke-old"), "API_KEY")
        self.assertError(h.post_form(self.port, "/email/send", p), 401, "auth.key_expired")
        self.assertOk(h.post_form(self.port, "/email/send",
                                  self.email_params(apiUser="cached_api_reset", apiKey=new_key)))

    def test_credential_version_file_has_the_database_permissions(self):
        db = self.srv.db_path()
        self.assertEqual(os.stat(db + "-credver").st_mode & 0o777, os.stat(db).st_mode & 0o777)

    # ---- missing credentials ---------------------------------------------------------------------
    def test_missing_credentials(self):
        base = {k: v for k, v in self.email_params().items() if k not in ("apiUser", "apiKey")}
        self.assertError(h.post_form(self.port, "/email/send", base), 401,
                         "auth.missing_credentials", ("apiUser", "apiKey"))
        self.assertError(h.get(self.port, "/email/send", base), 401, "auth.missing_credentials")
        self.assertError(h.post_form(self.port, "/email/send",
                                     dict(base, apiUser=self.creds.api_user)),
                         401, "auth.missing_credentials", "apiKey")
        self.assertError(h.post_form(self.port, "/email/send",
                                     dict(base, apiUser=self.creds.api_user, apiKey="")),
                         401, "auth.missing_credentials", "apiKey")
        sms = {k: v for k, v in self.sms_params().items() if k not in ("smsUser", "smsKey")}
        self.assertError(h.post_form(self.port, "/smsapi/send", sms), 401,
                         "auth.missing_credentials", ("smsUser", "smsKey"))

    def test_parameter_names_are_case_sensitive(self):
        p = {k: v for k, v in self.email_params().items() if k not in ("apiUser", "apiKey")}
        p.update({"apiuser": self.creds.api_user, "apikey": self.creds.api_key})
        self.assertError(h.post_form(self.port, "/email/send", p), 401,
                         "auth.missing_credentials")

    def test_header_does_not_override_good_parameters(self):
        # Parameters authenticate; a stray Authorization header next to them changes nothing.
        self.assertOk(h.post_form(self.port, "/email/send", self.email_params(),
                                  headers={"Authorization": "Bearer nonsense"}))


if __name__ == "__main__":
    unittest.main()
