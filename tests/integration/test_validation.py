"""Parameter parsing and validation of /email/send and /smsapi/send (docs/api.md §1-§6, §11)."""

import unittest

import harness as h

FROM = "news@example.com"


class ValidationTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server()
        cls.creds = h.provision(cls.srv)
        cls.port = cls.srv.port

    def email(self, drop=(), **over):
        p = dict(self.creds.email())
        p.update({"from": FROM, "to": "alice@example.com", "subject": "Hello",
                  "plain": "Hello Alice"})
        p.update(over)
        for k in drop:
            p.pop(k)
        return p

    def sms(self, drop=(), **over):
        p = dict(self.creds.sms())
        p.update({"to": "+14155550100", "message": "Hello"})
        p.update(over)
        for k in drop:
            p.pop(k)
        return p

    def send_email(self, params):
        return h.post_form(self.port, "/email/send", params)

    def send_sms(self, params):
        return h.post_form(self.port, "/smsapi/send", params)

    # ---- required email parameters ---------------------------------------------------------------
    def test_from_missing(self):
        body = self.assertError(self.send_email(self.email(drop=["from"])), 400,
                                "email.from_missing")
        hint = body["hint"]
        self.assertIn("'from'", hint)
        self.assertIn("missing", hint)
        self.assertIn("sender", hint)
        # Blank counts as missing.
        self.assertError(self.send_email(self.email(**{"from": "  "})), 400, "email.from_missing")

    def test_to_missing(self):
        self.assertError(self.send_email(self.email(drop=["to"])), 400, "email.to_missing", "'to'")
        self.assertError(self.send_email(self.email(to="")), 400, "email.to_missing")

    def test_subject_missing(self):
        self.assertError(self.send_email(self.email(drop=["subject"])), 400,
                         "email.subject_missing", "subject")

    def test_body_missing(self):
        self.assertError(self.send_email(self.email(drop=["plain"])), 400, "email.body_missing",
                         ("html", "plain"))
        # Either body alone is enough.
        self.assertOk(self.send_email(self.email(drop=["plain"], html="<p>Hi</p>")))

    # ---- malformed values ------------------------------------------------------------------------
    def test_malformed_addresses(self):
        self.assertError(self.send_email(self.email(to="alice.example.com")), 400,
                         "email.to_invalid", "alice.example.com")
        self.assertError(self.send_email(self.email(to="alice@example.com;bob@")), 400,
                         "email.to_invalid", "bob@")
        self.assertError(self.send_email(self.email(**{"from": "not an address"})), 400,
                         "email.from_invalid")
        self.assertError(self.send_email(self.email(cc="x@@example.com")), 400, "email.cc_invalid")
        self.assertError(self.send_email(self.email(bcc="@example.com")), 400, "email.bcc_invalid")
        self.assertError(self.send_email(self.email(replyTo="nope")), 400, "email.replyTo_invalid")

    def test_name_addr_forms_are_accepted(self):
        info = self.assertOk(self.send_email(self.email(
            **{"from": "News <news@example.com>",
               "to": "Alice <alice@example.com>, bob@example.com"})))
        self.assertEqual(len(info["emailIdList"]), 2)

    def test_crlf_in_subject(self):
        for bad in ("Hello\r\nBcc: victim@example.com", "Hello\nworld", "Hello\rworld"):
            with self.subTest(repr(bad)):
                self.assertError(self.send_email(self.email(subject=bad)), 400,
                                 "email.subject_invalid", "CR")

    def test_crlf_in_header_value(self):
        self.assertError(
            self.send_email(self.email(headers='{"X-Campaign": "a\\r\\nBcc: victim@example.com"}')),
            400, "email.headers_invalid", "X-Campaign")
        self.assertError(self.send_email(self.email(headers='{"X-Campaign": "a\\nb"}')), 400,
                         "email.headers_invalid")
        # Reserved headers and non-objects are refused; a clean header is fine.
        self.assertError(self.send_email(self.email(headers='{"Bcc": "x@example.com"}')), 400,
                         "email.headers_invalid", "Bcc")
        self.assertError(self.send_email(self.email(headers='["X-A"]')), 400,
                         "email.headers_invalid")
        self.assertOk(self.send_email(self.email(headers='{"X-Campaign": "spring"}')))

    def test_bad_phone_number(self):
        body = self.assertError(self.send_sms(self.sms(to="+1234567890")), 400, "sms.to_invalid")
        self.assertIn("+1234567890", body["hint"])
        self.assertIn("not a valid phone number", body["hint"])
        self.assertIn("+14155550100", body["hint"])  # says what a good one looks like
        self.assertError(self.send_sms(self.sms(to="4155550100")), 400, "sms.to_invalid", "'+'")
        self.assertError(self.send_sms(self.sms(to="+1 415 555 0100")), 400, "sms.to_invalid",
                         "space")
        self.assertError(self.send_sms(self.sms(drop=["to"])), 400, "sms.to_missing")
        self.assertError(self.send_sms(self.sms(drop=["message"])), 400, "sms.message_missing")
        self.assertError(self.send_sms(self.sms(message="x" * 1001)), 400,
                         "sms.message_too_long", "1000")

    # ---- SMS segments ----------------------------------------------------------------------------
    def test_sms_segments(self):
        cases = [
            ("a" * 160, 1),                 # GSM-7: one part holds 160
            ("a" * 161, 2),                 # then 153 per part
            ("a" * 306, 2),
            ("a" * 307, 3),
            ("\u041f" * 70, 1),             # UCS-2: one part holds 70
            ("\u041f" * 71, 2),             # then 67 per part
            ("Hello \u4f60\u597d", 1),
            ("\u4f60" * 135, 3),            # 135 > 2*67
        ]
        for text, segments in cases:
            with self.subTest(chars=len(text), first=text[0]):
                info = self.assertOk(self.send_sms(self.sms(message=text)))
                self.assertEqual(info["segments"], segments)
                self.assertEqual(info["successCount"], 1)

    # ---- the leading-space rule for '+' ---------------------------------------------------------
    def test_unencoded_plus_in_form_body_is_accepted(self):
        raw = (f"smsUser={self.creds.sms_user}&smsKey={self.creds.sms_key}"
               f"&to=+14155550100&message=Hello")
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", raw=raw))
        rows = h.recipients(self.srv.db_path())
        self.assertEqual(rows[info["smsIds"][0]][1], "+14155550100")

    def test_unencoded_plus_in_query_is_accepted(self):
        q = (f"smsUser={self.creds.sms_user}&smsKey={self.creds.sms_key}"
             f"&to=+14155550100,+447911123456&message=Hello")
        info = self.assertOk(h.get(self.port, "/smsapi/send?" + q))
        rows = h.recipients(self.srv.db_path())
        self.assertEqual(sorted(rows[i][1] for i in info["smsIds"]),
                         ["+14155550100", "+447911123456"])

    def test_other_stray_spaces_in_numbers_are_refused(self):
        for raw in ("%20%2014155550100", "%2B1415%205550100", "%2B14155550100%20",
                    "%20%2B14155550100", "%2014155550100x"):
            with self.subTest(raw):
                q = (f"smsUser={self.creds.sms_user}&smsKey={self.creds.sms_key}"
                     f"&to={raw}&message=Hello")
                self.assertError(h.post_form(self.port, "/smsapi/send", raw=q), 400,
                                 "sms.to_invalid")

    # ---- request shape -----------------------------------------------------------------------------
    def test_unknown_content_type(self):
        r = h.request(self.port, "POST", "/email/send", body=b'{"apiUser": "x"}',
                      headers={"Content-Type": "application/json"})
        self.assertError(r, 415, "request.unsupported_media_type",
                         ("application/x-www-form-urlencoded", "multipart/form-data"))
        r = h.request(self.port, "POST", "/smsapi/send", body=b"to=1",
                      headers={"Content-Type": "text/plain"})
        self.assertError(r, 415, "request.unsupported_media_type")

    def test_duplicate_parameter_with_two_values(self):
        p = list(self.email().items()) + [("from", "other@example.com")]
        self.assertError(h.post_form(self.port, "/email/send", p), 400, "param.duplicate",
                         "'from'")
        # A repeated `to` is a list (SendCloud v1 clients send to=a&to=b), not a conflict.
        p = list(self.email().items()) + [("to", "bob@example.com")]
        info = self.assertOk(h.post_form(self.port, "/email/send", p))
        self.assertEqual(len(info["emailIdList"]), 2)
        # Across query string and body too.
        r = h.post_form(self.port, "/email/send?subject=Other", self.email())
        self.assertError(r, 400, "param.duplicate", "subject")

    def test_duplicate_parameter_with_same_value_is_fine(self):
        p = list(self.email().items()) + [("to", "alice@example.com"), ("subject", "Hello")]
        info = self.assertOk(h.post_form(self.port, "/email/send", p))
        self.assertEqual(len(info["emailIdList"]), 1)

    def test_malformed_percent_escape_names_the_parameter(self):
        base = h.urllib.parse.urlencode(list(self.email(drop=["subject"]).items()))
        r = h.post_form(self.port, "/email/send", raw=base + "&subject=50%ZZoff")
        body = self.assertError(r, 400, "param.malformed_escape", "subject")
        self.assertNotIn("50%ZZoff", body["hint"])
        r = h.get(self.port, "/email/send?" + base + "&subject=trailing%4")
        self.assertError(r, 400, "param.malformed_escape", "subject")

    def test_unknown_path_is_404(self):
        self.assertError(h.get(self.port, "/email/sendx"), 404, "request.not_found", "/email/sendx")
        self.assertError(h.get(self.port, "/"), 404, "request.not_found")

    def test_wrong_method_is_405(self):
        for method in ("DELETE", "PUT", "PATCH"):
            with self.subTest(method):
                r = h.request(self.port, method, "/email/send")
                self.assertError(r, 405, "request.method_not_allowed", method)
                self.assertEqual(r.headers.get("allow"), "GET, POST")
        r = h.request(self.port, "POST", "/healthz")
        self.assertError(r, 405, "request.method_not_allowed")
        self.assertEqual(r.headers.get("allow"), "GET")


class SizeLimitTest(h.ServerTestCase):
    MAX_BODY = 2048

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server(args=["--max-body-bytes", str(cls.MAX_BODY),
                                               "--max-content-bytes", "1024"])
        cls.creds = h.provision(cls.srv)
        cls.port = cls.srv.port

    def form(self, plain):
        return h.urllib.parse.urlencode(self.creds.email() + [
            ("from", FROM), ("to", "alice@example.com"), ("subject", "Hi"),
            ("plain", plain)]).encode()

    def exchange(self, data, expect_continue=False):
        """Sends `data` in one write on a fresh connection and reads one response."""
        with h.connect(self.port) as s:
            s.sendall(data)
            with s.makefile("rb") as f:
                return h.read_response(f)

    def head(self, body_len, extra=()):
        return h.raw_request_bytes("POST", "/email/send", [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", str(body_len)), *extra])

    def test_body_over_limit_is_413(self):
        body = self.form("x" * (self.MAX_BODY + 100))
        r = self.exchange(self.head(len(body)) + body)
        self.assertError(r, 413, "request.too_large", str(self.MAX_BODY))
        self.assertEqual(r.headers.get("connection", "").lower(), "close")

    def test_body_over_limit_with_expect_100_continue_is_413_without_100(self):
        body_len = self.MAX_BODY * 4
        with h.connect(self.port) as s, s.makefile("rb") as f:
            s.sendall(self.head(body_len, [("Expect", "100-continue")]))
            r = h.read_response(f)  # the server must answer before any body byte is sent
        self.assertError(r, 413, "request.too_large")

    def test_body_within_limit_with_expect_100_continue(self):
        body = self.form("hello")
        with h.connect(self.port) as s, s.makefile("rb") as f:
            s.sendall(self.head(len(body), [("Expect", "100-continue")]))
            interim = h.read_response(f)
            self.assertEqual(interim.status, 100)
            s.sendall(body)
            r = h.read_response(f)
        self.assertOk(r)

    def test_chunked_body_over_limit_is_413(self):
        chunk = b"x" * 1000
        data = h.raw_request_bytes("POST", "/email/send", [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Transfer-Encoding", "chunked")])
        data += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
        self.assertError(self.exchange(data), 413, "request.too_large")

    def test_content_over_configured_limit_is_413(self):
        # Within the body limit, over max_content_bytes (1024): the API's own 413.
        self.assertError(h.post_form(self.port, "/email/send", raw=self.form("y" * 1500)), 413,
                         "email.content_too_large", "1024")

    def test_body_at_limit_is_accepted(self):
        pad = self.MAX_BODY - len(self.form(""))
        body = self.form("z" * pad)
        self.assertEqual(len(body), self.MAX_BODY)
        # plain is then over max_content_bytes: the HTTP layer accepted the body, the API did not.
        self.assertError(h.post_form(self.port, "/email/send", raw=body), 413,
                         "email.content_too_large")
        self.assertOk(h.post_form(self.port, "/email/send", raw=self.form("z" * 1000)))


if __name__ == "__main__":
    unittest.main()
