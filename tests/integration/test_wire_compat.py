"""SendCloud wire compatibility against the real server (docs/api.md, "SendCloud compatibility").

Covers: every SendCloud path and its response shape (the envelope on Aurora and v2 paths,
{"message":"success","email_id_list":[...]} / {"message":"error","errors":[...]} on the v1
/webapi/*.json paths); the v1 parameter spellings as aliases (and a conflict between two
spellings); spaces as + and %20, case-insensitive booleans and a repeated `to`; X-SMTPAPI
substitution, checked in the stored per-recipient content; template sends with templates made by
the operator command; sendRequestId under 20 concurrent duplicates; signed SMS requests whose
MD5 and SHA-256 signatures are computed here with hashlib from the SMS_KEY that `sms-user
create` printed; and SMS keys kept encrypted at rest.

Message rows are read from the server's SQLite file (read-only), the way the delivery workers
see them.
"""

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import unittest
import urllib.parse

import harness as h

HOSTNAME = "wiretest"  # no trailing digit, so "<messageId><index>$<address>" splits cleanly
FROM = "news@example.com"
SMS_TO = "+14155550100"
SMS_TO_2 = "+447911123456"

EMAIL_PATHS = ("/email/send", "/mail/send", "/api/mail/send", "/apiv2/mail/send",
               "/webapi/mail.send.json")
TEMPLATE_PATHS = ("/email/sendtemplate", "/api/mail/sendtemplate", "/apiv2/mail/sendtemplate",
                  "/webapi/mail.send_template.json")
SMS_PATHS = ("/smsapi/send", "/api/sms/send")

EMAIL_ID_RE = re.compile(r"^(\d{13}_\d+_\d+\.sc-" + HOSTNAME + r")(\d+)\$(.+)$")

TEMPLATE = "welcome"
TEMPLATE_SUBJECT = "Welcome, %name%"
TEMPLATE_HTML = "<p>Hello %name%, your offer: %offer%</p>"
TEMPLATE_PLAIN = "Hello %name%, your offer: %offer%"
SMS_TEMPLATE_TEXT = "Your code is %code%"

# The vector of docs/api.md and /work/shared/SENDCLOUD.md (also unit-tested in C++).
VECTOR_KEY = "smskey"
VECTOR_PARAMS = [("smsUser", "smsu"), ("msgType", "0"), ("phone", "+6512345678"),
                 ("templateId", "7"), ("timestamp", "1795827100296"),
                 ("vars", '{"%code%": "1234"}')]
VECTOR_SHA256 = "35d81d964da1b3581eddf1878f4db79c474c9398a11650cb9b2e940d30cdbcf3"


def is_v1(path):
    return path.startswith("/webapi/")


def sms_signature(key, params, algorithm="sha256"):
    """SendCloud's recipe: every parameter except smsKey and signature, sorted by name, joined
    raw (not URL-encoded) as k=v&k=v, wrapped as KEY&...&KEY, hashed; lower-case hex."""
    signed = sorted(((k, v) for k, v in params if k not in ("smsKey", "signature")),
                    key=lambda p: p[0])
    text = key + "&" + "&".join(f"{k}={v}" for k, v in signed) + "&" + key
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()


def now_ms():
    return int(time.time() * 1000)


# ---- database ----------------------------------------------------------------------------------

def db_rows(db_path, sql, args=()):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=h.IO_TIMEOUT)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class WireTestCase(h.ServerTestCase):
    """A class server with one account, an email user, an SMS user, an email template and an
    SMS template. Lockout is off: some tests here fail authentication on purpose."""

    SERVER_ARGS = ["--hostname", HOSTNAME, "--lockout-ip-failures=0",
                   "--lockout-user-failures=0"]

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server(args=cls.SERVER_ARGS)
        cls.port = cls.srv.port
        cls.creds = h.provision(cls.srv)
        cls.srv.operator("template", "create", TEMPLATE, "--account", h.ACCOUNT_EMAIL,
                         "--subject", TEMPLATE_SUBJECT, "--html", TEMPLATE_HTML,
                         "--plain", TEMPLATE_PLAIN, "--name", "Welcome mail")
        out = cls.srv.operator("sms-template", "create", "--account", h.ACCOUNT_EMAIL,
                               "--text", SMS_TEMPLATE_TEXT, "--name", "code")
        m = re.search(r"^TEMPLATE_ID: (\d+)$", out, re.M)
        if not m:
            raise h.ServerError(f"no 'TEMPLATE_ID: <id>' line in:\n{out}")
        cls.sms_template_id = m.group(1)

    # ---- requests ------------------------------------------------------------------------------
    def email(self, *extra, to="alice@example.com", subject="Hello", plain="Hello there",
              user=None):
        c = self.creds
        params = [("apiUser", user[0] if user else c.api_user),
                  ("apiKey", user[1] if user else c.api_key), ("from", FROM)]
        if to is not None:
            params.append(("to", to))
        if subject is not None:
            params.append(("subject", subject))
        if plain is not None:
            params.append(("plain", plain))
        return params + list(extra)

    def template_params(self, xsmtpapi, *extra, v1=False):
        c = self.creds
        if v1:
            return [("api_user", c.api_user), ("api_key", c.api_key), ("from", FROM),
                    ("template_invoke_name", TEMPLATE),
                    ("substitution_vars", json.dumps(xsmtpapi))] + list(extra)
        return [("apiUser", c.api_user), ("apiKey", c.api_key), ("from", FROM),
                ("templateInvokeName", TEMPLATE), ("xsmtpapi", json.dumps(xsmtpapi))] + list(extra)

    def signed(self, params, algorithm="sha256", key=None, signature=None):
        """`params` plus their signature (computed here unless given)."""
        params = list(params)
        sig = signature if signature is not None else sms_signature(
            key if key is not None else self.creds.sms_key, params, algorithm)
        return params + [("signature", sig)]

    def signed_template_sms(self, code, *extra, ts=None, phone=SMS_TO, phone_name="phone"):
        return [("smsUser", self.creds.sms_user), ("templateId", self.sms_template_id),
                (phone_name, phone), ("vars", json.dumps({"%code%": code})), ("msgType", "0"),
                ("timestamp", str(ts if ts is not None else now_ms()))] + list(extra)

    # ---- database ------------------------------------------------------------------------------
    def rows(self, sql, args=()):
        return db_rows(self.srv.db_path(), sql, args)

    def content(self, recipient_id):
        """What the delivery worker sends to this recipient (the query of the issue)."""
        rows = self.rows("SELECT coalesce(r.content_json, m.content_json) FROM recipients r "
                         "JOIN messages m ON m.id = r.message_id WHERE r.id = ?", (recipient_id,))
        self.assertEqual(len(rows), 1, f"no stored recipient {recipient_id!r}")
        return json.loads(rows[0][0])

    def message_count(self):
        return self.rows("SELECT count(*) FROM messages")[0][0]

    def messages_with_subject(self, subject):
        return self.rows("SELECT id FROM messages "
                         "WHERE json_extract(content_json, '$.subject') = ?", (subject,))

    # ---- assertions ----------------------------------------------------------------------------
    def assertSent(self, reply, path):
        """200 in the shape of `path`; returns the emailIdList (None when omitted)."""
        self.assertIsNotNone(reply)
        status, headers, body = reply
        self.assertEqual(status, 200, reply)
        self.assertIsNotNone(body, f"not JSON: {reply.body!r}")
        self.assertEqual(headers.get("content-type"), "application/json; charset=utf-8")
        if is_v1(path):
            self.assertEqual(body.get("message"), "success", body)
            self.assertNotIn("result", body)
            self.assertNotIn("info", body)
            self.assertLessEqual(set(body), {"message", "email_id_list"}, body)
            return body.get("email_id_list")
        self.assertIs(body.get("result"), True, body)
        self.assertEqual(body.get("statusCode"), 200, body)
        self.assertEqual(body.get("message"), "request was successful", body)
        self.assertNotIn("email_id_list", body)
        return body["info"].get("emailIdList")

    def assertV1Error(self, reply, status, code, hint_contains=()):
        status_, headers, body = reply
        self.assertEqual(status_, status, reply)
        self.assertIsNotNone(body, f"not JSON: {reply.body!r}")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(body.get("message"), "error", body)
        self.assertNotIn("result", body)
        errors = body.get("errors")
        self.assertIsInstance(errors, list, body)
        self.assertEqual(len(errors), 1, body)
        self.assertIsInstance(errors[0], str, body)
        self.assertTrue(errors[0], body)
        self.assertEqual(body.get("errorCode"), code, body)
        for word in ([hint_contains] if isinstance(hint_contains, str) else hint_contains):
            self.assertIn(word, errors[0], body)
        return body

    def assertIds(self, ids, addresses):
        """The ids are <messageId><index>$<address>, one message, indexes 0.. in order, and the
        message is stored with exactly these recipients."""
        self.assertIsInstance(ids, list)
        self.assertEqual(len(ids), len(addresses), ids)
        parts = [EMAIL_ID_RE.match(i) for i in ids]
        self.assertTrue(all(parts), ids)
        message_ids = {p.group(1) for p in parts}
        self.assertEqual(len(message_ids), 1, ids)
        self.assertEqual([int(p.group(2)) for p in parts], list(range(len(ids))))
        self.assertEqual([p.group(3) for p in parts], list(addresses))
        mid = message_ids.pop()
        stored = self.rows("SELECT id, address FROM recipients WHERE message_id = ? ORDER BY rowid",
                           (mid,))
        self.assertEqual(stored, [(i, a) for i, a in zip(ids, addresses)])
        return mid


class PathsTest(WireTestCase):
    def test_every_email_path_sends_and_answers_in_its_shape(self):
        for path in EMAIL_PATHS:
            for method in ("GET", "POST"):
                with self.subTest(path=path, method=method):
                    subject = f"path {path} {method}"
                    params = self.email(to="alice@example.com;bob@example.com", subject=subject)
                    reply = (h.get(self.port, path, params) if method == "GET"
                             else h.post_form(self.port, path, params))
                    ids = self.assertSent(reply, path)
                    self.assertIds(ids, ["alice@example.com", "bob@example.com"])
                    self.assertEqual(self.content(ids[1])["subject"], subject)

    def test_every_template_path_sends_the_template(self):
        for path in TEMPLATE_PATHS:
            with self.subTest(path=path):
                offer = f"offer via {path}"
                x = {"to": ["ann@example.com", "bob@example.com"],
                     "sub": {"%name%": ["Ann", "Bob"], "%offer%": [offer, offer]}}
                reply = h.post_form(self.port, path, self.template_params(x, v1=is_v1(path)))
                ids = self.assertSent(reply, path)
                self.assertIds(ids, ["ann@example.com", "bob@example.com"])
                ann, bob = self.content(ids[0]), self.content(ids[1])
                self.assertEqual(ann["subject"], "Welcome, Ann")
                self.assertEqual(bob["subject"], "Welcome, Bob")
                self.assertEqual(ann["plain"], f"Hello Ann, your offer: {offer}")
                self.assertEqual(bob["html"], f"<p>Hello Bob, your offer: {offer}</p>")

    def test_both_sms_paths_send(self):
        c = self.creds
        for path in SMS_PATHS:
            for method in ("GET", "POST"):
                with self.subTest(path=path, method=method):
                    text = f"sms via {path} {method}"
                    params = c.sms() + [("to", SMS_TO), ("message", text)]
                    reply = (h.get(self.port, path, params) if method == "GET"
                             else h.post_form(self.port, path, params))
                    info = self.assertOk(reply)
                    self.assertEqual(reply.json["message"], "request was successful")
                    self.assertEqual(info["successCount"], 1)
                    self.assertEqual(len(info["smsIds"]), 1)
                    self.assertTrue(info["smsIds"][0].endswith("$" + SMS_TO), info)
                    self.assertEqual(self.content(info["smsIds"][0])["message"], text)

    def test_alias_paths_take_only_get_and_post(self):
        for path in EMAIL_PATHS[1:] + TEMPLATE_PATHS + SMS_PATHS[1:]:
            with self.subTest(path=path):
                reply = h.request(self.port, "DELETE", path)
                self.assertEqual(reply.status, 405, reply)
                self.assertEqual(reply.headers.get("allow"), "GET, POST")

    def test_other_formats_of_the_v1_paths_are_not_served(self):
        reply = h.post_form(self.port, "/webapi/mail.send.xml", self.email())
        self.assertError(reply, 404, "request.not_found")


class AliasTest(WireTestCase):
    def test_v1_spellings_reach_the_same_parameters(self):
        c = self.creds
        params = [("api_user", c.api_user), ("api_key", c.api_key), ("from", FROM),
                  ("fromname", "News Desk"), ("replyto", "replies@example.com"),
                  ("to", "alice@example.com"), ("subject", "Hi %who%"), ("plain", "For %who%"),
                  ("x_smtpapi", json.dumps({"pubsub": {"%who%": "everyone"}})),
                  ("resp_email_id", "true")]
        for path in ("/email/send", "/webapi/mail.send.json"):
            with self.subTest(path=path):
                ids = self.assertSent(h.post_form(self.port, path, params), path)
                self.assertIds(ids, ["alice@example.com"])
                stored = self.content(ids[0])
                self.assertEqual(stored["fromName"], "News Desk")
                self.assertEqual(stored["replyTo"], [{"address": "replies@example.com"}])
                self.assertEqual(stored["subject"], "Hi everyone")
                self.assertEqual(stored["plain"], "For everyone")

    def test_files_are_attachments(self):
        c = self.creds
        fields = [("api_user", c.api_user), ("api_key", c.api_key), ("from", FROM),
                  ("to", "alice@example.com"), ("subject", "files"), ("plain", "see attached")]
        files = [("files", "report.txt", "text/plain", b"Quarterly numbers\n"),
                 ("files", "data.csv", "text/csv", b"a,b\n1,2\n")]
        reply = h.post_multipart(self.port, "/webapi/mail.send.json", fields, files)
        mid = self.assertIds(self.assertSent(reply, "/webapi/mail.send.json"),
                             ["alice@example.com"])
        stored = self.rows("SELECT filename, content_type, data FROM attachments "
                           "WHERE message_id = ? ORDER BY idx", (mid,))
        self.assertEqual(stored, [("report.txt", "text/plain", b"Quarterly numbers\n"),
                                  ("data.csv", "text/csv", b"a,b\n1,2\n")])

    def test_substitution_vars_is_an_alias_only_on_template_sends(self):
        # On a plain send it is not X-SMTPAPI: the recipients stay those of `to`.
        params = self.email(("substitution_vars", json.dumps({"to": ["other@example.com"]})),
                            to="alice@example.com")
        ids = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        self.assertIds(ids, ["alice@example.com"])

    def test_the_same_value_under_both_spellings_is_fine(self):
        c = self.creds
        params = self.email(("api_user", c.api_user), ("api_key", c.api_key),
                            ("fromName", "Desk"), ("fromname", "Desk"),
                            ("respEmailId", "true"), ("resp_email_id", "true"))
        ids = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        self.assertEqual(self.content(ids[0])["fromName"], "Desk")

    def test_two_spellings_with_different_values_are_a_400(self):
        c = self.creds
        cases = [
            ("/email/send", "apiUser", "api_user", c.api_user, "someone_else"),
            ("/email/send", "apiKey", "api_key", c.api_key, "B" * 32),
            ("/email/send", "fromName", "fromname", "One", "Two"),
            ("/email/send", "replyTo", "replyto", "a@example.com", "b@example.com"),
            ("/email/send", "xsmtpapi", "x_smtpapi", '{"pubsub":{"%a%":"1"}}',
             '{"pubsub":{"%a%":"2"}}'),
            ("/email/send", "respEmailId", "resp_email_id", "true", "false"),
            ("/email/sendtemplate", "templateInvokeName", "template_invoke_name", TEMPLATE,
             "other"),
            ("/email/sendtemplate", "xsmtpapi", "substitution_vars",
             '{"to":["a@example.com"]}', '{"to":["b@example.com"]}'),
        ]
        before = self.message_count()
        for path, canonical, alias, value, other in cases:
            with self.subTest(alias=alias):
                params = [(k, v) for k, v in self.email() if k != canonical]
                params += [(canonical, value), (alias, other)]
                if path == "/email/sendtemplate" and canonical != "templateInvokeName":
                    params.append(("templateInvokeName", TEMPLATE))
                reply = h.post_form(self.port, path, params)
                self.assertError(reply, 400, "param.duplicate", (f"'{canonical}'", f"'{alias}'"))
        # The v1 path answers the same refusal in its own shape.
        params = self.email(("api_user", "someone_else"))
        self.assertV1Error(h.post_form(self.port, "/webapi/mail.send.json", params), 400,
                           "param.duplicate", "api_user")
        self.assertEqual(self.message_count(), before)

    def test_spaces_as_plus_and_as_percent20(self):
        c = self.creds
        raw = (f"apiUser={c.api_user}&apiKey={c.api_key}&from={FROM}&to=alice%40example.com"
               "&subject=Plus+and%20percent+twenty&plain=one+two%20three&fromName=News+Desk")
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                reply = (h.post_form(self.port, "/apiv2/mail/send", raw=raw) if method == "POST"
                         else h.request(self.port, "GET", "/apiv2/mail/send?" + raw))
                ids = self.assertSent(reply, "/apiv2/mail/send")
                stored = self.content(ids[0])
                self.assertEqual(stored["subject"], "Plus and percent twenty")
                self.assertEqual(stored["plain"], "one two three")
                self.assertEqual(stored["fromName"], "News Desk")

    def test_booleans_are_case_insensitive(self):
        for path in ("/email/send", "/webapi/mail.send.json"):
            for name in ("respEmailId", "resp_email_id"):
                for value, listed in (("true", True), ("True", True), ("TRUE", True), ("1", True),
                                      ("false", False), ("False", False), ("FALSE", False),
                                      ("0", False)):
                    with self.subTest(path=path, name=name, value=value):
                        reply = h.post_form(self.port, path, self.email((name, value)))
                        ids = self.assertSent(reply, path)
                        if listed:
                            self.assertIds(ids, ["alice@example.com"])
                        elif is_v1(path):
                            self.assertEqual(reply.json, {"message": "success"})
                        else:
                            self.assertEqual(reply.json["info"], {})
                with self.subTest(path=path, name=name, value="yes"):
                    reply = h.post_form(self.port, path, self.email((name, "yes")))
                    if is_v1(path):
                        self.assertV1Error(reply, 400, "param.invalid_boolean", "respEmailId")
                    else:
                        self.assertError(reply, 400, "param.invalid_boolean", "respEmailId")

    def test_resp_email_id_false_still_queues_the_message(self):
        subject = "queued without ids"
        reply = h.post_form(self.port, "/email/send",
                            self.email(("respEmailId", "False"), subject=subject,
                                       to="a@example.com;b@example.com"))
        self.assertEqual(self.assertOk(reply), {})
        mids = self.messages_with_subject(subject)
        self.assertEqual(len(mids), 1)
        self.assertEqual(self.rows("SELECT count(*) FROM recipients WHERE message_id = ?",
                                   mids[0])[0][0], 2)

    def test_a_repeated_to_is_a_list(self):
        c = self.creds
        raw = (f"apiUser={c.api_user}&apiKey={c.api_key}&from={FROM}&subject=repeat&plain=x"
               "&to=alice%40example.com&to=bob%40example.com&to=carol%40example.com")
        for path in ("/email/send", "/webapi/mail.send.json"):
            with self.subTest(path=path):
                ids = self.assertSent(h.post_form(self.port, path, raw=raw), path)
                self.assertIds(ids, ["alice@example.com", "bob@example.com", "carol@example.com"])
        reply = h.request(self.port, "GET", "/mail/send?" + raw)
        self.assertIds(self.assertSent(reply, "/mail/send"),
                       ["alice@example.com", "bob@example.com", "carol@example.com"])

    def test_a_repeated_phone_is_a_list(self):
        c = self.creds
        params = c.sms() + [("phone", SMS_TO), ("phone", SMS_TO_2), ("message", "two phones")]
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", params))
        self.assertEqual(info["successCount"], 2)
        self.assertEqual([i.rsplit("$", 1)[1] for i in info["smsIds"]], [SMS_TO, SMS_TO_2])


class V1ShapeTest(WireTestCase):
    def test_v1_errors(self):
        c = self.creds
        path = "/webapi/mail.send.json"
        before = self.message_count()
        self.assertV1Error(h.post_form(self.port, path, [(k, v) for k, v in self.email()
                                                          if k != "from"]),
                           400, "email.from_missing", "from")
        self.assertV1Error(h.post_form(self.port, path, [("api_user", c.api_user),
                                                         ("api_key", "W" * 32)] + self.email()[2:]),
                           401, "auth.failed")
        self.assertV1Error(h.post_form(self.port, "/webapi/mail.send_template.json",
                                       [("api_user", c.api_user), ("api_key", c.api_key),
                                        ("from", FROM), ("template_invoke_name", "no_such"),
                                        ("substitution_vars", '{"to":["a@example.com"]}')]),
                           400, "email.template_not_found", "no_such")
        reply = h.request(self.port, "POST", path, body=b"{}",
                          headers={"Content-Type": "application/json"})
        self.assertV1Error(reply, 415, "request.unsupported_media_type")
        self.assertEqual(self.message_count(), before)

    def test_v2_paths_keep_the_envelope_on_errors(self):
        for path in EMAIL_PATHS[:-1]:
            with self.subTest(path=path):
                reply = h.post_form(self.port, path, [(k, v) for k, v in self.email()
                                                      if k != "from"])
                self.assertError(reply, 400, "email.from_missing")


class XSmtpApiTest(WireTestCase):
    def test_to_sub_section_and_pubsub_make_one_content_per_recipient(self):
        x = {"to": ["ann@example.com", "Bob <bob@example.com>"],
             "sub": {"%name%": ["Ann", "Bob"], "%sig%": ["%formal%", "%casual%"]},
             "section": {"%formal%": "Yours faithfully", "%casual%": "Cheers"},
             "pubsub": {"%company%": "Aurora"}}
        params = self.email(("xsmtpapi", json.dumps(x)), ("cc", "cc@example.com"),
                            ("bcc", "bcc@example.com"), ("html", "<p>%sig%, %company%</p>"),
                            to="ignored@example.com", subject="Hello %name% from %company%",
                            plain="%sig%, %company% (%name%)")
        ids = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        # xsmtpapi.to overrides to, cc and bcc.
        mid = self.assertIds(ids, ["ann@example.com", "bob@example.com"])
        ann, bob = self.content(ids[0]), self.content(ids[1])
        self.assertEqual(ann["subject"], "Hello Ann from Aurora")
        self.assertEqual(bob["subject"], "Hello Bob from Aurora")
        self.assertEqual(ann["html"], "<p>Yours faithfully, Aurora</p>")
        self.assertEqual(bob["html"], "<p>Cheers, Aurora</p>")
        self.assertEqual(ann["plain"], "Yours faithfully, Aurora (Ann)")
        self.assertEqual(bob["plain"], "Cheers, Aurora (Bob)")
        # Each recipient's message names only that recipient.
        self.assertEqual([a["address"] for a in ann["to"]], ["ann@example.com"])
        self.assertEqual([a["address"] for a in bob["to"]], ["bob@example.com"])
        self.assertEqual(ann["cc"], [])
        self.assertEqual(ann["bcc"], [])
        # Stored per recipient (recipients.content_json), not only on the message.
        per_recipient = self.rows("SELECT count(*) FROM recipients WHERE message_id = ? "
                                  "AND content_json IS NOT NULL", (mid,))
        self.assertEqual(per_recipient[0][0], 2)

    def test_pubsub_without_to_applies_to_every_recipient(self):
        x = {"pubsub": {"%event%": "the spring sale"}}
        params = self.email(("xsmtpapi", json.dumps(x)), to="a@example.com;b@example.com",
                            subject="Join %event%", plain="See you at %event%")
        ids = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        mid = self.assertIds(ids, ["a@example.com", "b@example.com"])
        for rid in ids:
            stored = self.content(rid)
            self.assertEqual(stored["subject"], "Join the spring sale")
            self.assertEqual(stored["plain"], "See you at the spring sale")
            self.assertEqual(len(stored["to"]), 2)  # one broadcast message
        self.assertEqual(self.rows("SELECT count(*) FROM recipients WHERE message_id = ? "
                                   "AND content_json IS NOT NULL", (mid,))[0][0], 0)

    def test_values_are_not_scanned_again(self):
        # A substituted value that looks like a variable stays as it is.
        x = {"to": ["a@example.com"], "sub": {"%name%": ["%company%"]},
             "pubsub": {"%company%": "Aurora"}}
        params = self.email(("xsmtpapi", json.dumps(x)), subject="Hi %name%", to=None)
        ids = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        self.assertEqual(self.content(ids[0])["subject"], "Hi %company%")

    def test_errors_name_the_broken_part(self):
        two = ["a@example.com", "b@example.com"]
        cases = [
            ("not json", "{to:", "JSON"),
            ("not an object", "[1, 2]", "object"),
            ("to not a list", json.dumps({"to": "a@example.com"}), "xsmtpapi.to"),
            ("to empty", json.dumps({"to": []}), "xsmtpapi.to"),
            ("bad address", json.dumps({"to": ["a@example.com", "bob@"]}), "xsmtpapi.to[1]"),
            ("too many", json.dumps({"to": [f"u{i}@example.com" for i in range(101)]}),
             "at most 100"),
            ("sub length", json.dumps({"to": two, "sub": {"%n%": ["1"]}}), "xsmtpapi.sub['%n%']"),
            ("sub not list", json.dumps({"to": two, "sub": {"%n%": "1"}}), "xsmtpapi.sub['%n%']"),
            ("sub without to", json.dumps({"sub": {"%n%": ["1"]}}), "xsmtpapi.sub"),
            ("section shape", json.dumps({"section": ["x"]}), "xsmtpapi.section"),
            ("pubsub value", json.dumps({"pubsub": {"%a%": {"b": 1}}}), "xsmtpapi.pubsub['%a%']"),
            ("subject line break", json.dumps({"to": ["a@example.com"],
                                               "sub": {"%n%": ["x\r\nBcc: evil@example.com"]}}),
             "subject"),
        ]
        before = self.message_count()
        for title, value, part in cases:
            with self.subTest(title):
                reply = h.post_form(self.port, "/email/send",
                                    self.email(("xsmtpapi", value), subject="Hi %n%"))
                self.assertError(reply, 400, "email.xsmtpapi_invalid", part)
        with self.subTest("over 1 MiB"):
            big = json.dumps({"pubsub": {"%a%": "x" * (1 << 20)}})
            reply = h.post_form(self.port, "/email/send", self.email(("xsmtpapi", big)))
            self.assertError(reply, 413, "email.xsmtpapi_too_large")
        with self.subTest("v1 shape"):
            reply = h.post_form(self.port, "/webapi/mail.send.json",
                                self.email(("x_smtpapi", json.dumps({"to": []}))))
            self.assertV1Error(reply, 400, "email.xsmtpapi_invalid", "xsmtpapi.to")
        self.assertEqual(self.message_count(), before)

    def test_just_under_one_mib_is_accepted(self):
        filler = "x" * ((1 << 20) - 100)
        x = json.dumps({"pubsub": {"%a%": "ok", "%filler%": filler}})
        self.assertLessEqual(len(x), 1 << 20)
        reply = h.post_form(self.port, "/email/send", self.email(("xsmtpapi", x), subject="%a%"))
        ids = self.assertSent(reply, "/email/send")
        self.assertEqual(self.content(ids[0])["subject"], "ok")


class TemplateSendTest(WireTestCase):
    def test_the_subject_parameter_overrides_the_templates(self):
        x = {"to": ["ann@example.com"], "sub": {"%name%": ["Ann"], "%offer%": ["tea"]}}
        reply = h.post_form(self.port, "/email/sendtemplate",
                            self.template_params(x, ("subject", "Special for %name%")))
        ids = self.assertSent(reply, "/email/sendtemplate")
        stored = self.content(ids[0])
        self.assertEqual(stored["subject"], "Special for Ann")
        self.assertEqual(stored["plain"], "Hello Ann, your offer: tea")

    def test_refusals(self):
        c = self.creds
        auth = [("apiUser", c.api_user), ("apiKey", c.api_key), ("from", FROM)]
        to = ("xsmtpapi", json.dumps({"to": ["a@example.com"]}))
        before = self.message_count()
        self.assertError(h.post_form(self.port, "/email/sendtemplate", auth + [to]),
                         400, "email.template_missing", "templateInvokeName")
        self.assertError(h.post_form(self.port, "/email/sendtemplate",
                                     auth + [to, ("templateInvokeName", "no_such_template")]),
                         400, "email.template_not_found", "no_such_template")
        # Recipients come only from xsmtpapi.to; `to` alone is not enough.
        self.assertError(h.post_form(self.port, "/email/sendtemplate",
                                     auth + [("templateInvokeName", TEMPLATE),
                                             ("to", "a@example.com")]),
                         400, "email.xsmtpapi_to_missing", "xsmtpapi.to")
        self.assertError(h.post_form(self.port, "/email/sendtemplate",
                                     auth + [("templateInvokeName", TEMPLATE),
                                             ("xsmtpapi", '{"pubsub":{"%name%":"x"}}')]),
                         400, "email.xsmtpapi_to_missing")
        self.assertEqual(self.message_count(), before)

    def test_update_and_delete_take_effect_on_the_next_send(self):
        op = self.srv.operator
        op("template", "create", "promo", "--account", h.ACCOUNT_EMAIL, "--subject", "Promo v1",
           "--plain", "first %name%")
        self.assertIn("promo", op("template", "list", "--account", h.ACCOUNT_EMAIL))
        x = {"to": ["a@example.com"], "sub": {"%name%": ["Ann"]}}

        def send():
            params = [(k, v) for k, v in self.template_params(x) if k != "templateInvokeName"]
            return h.post_form(self.port, "/email/sendtemplate",
                               params + [("templateInvokeName", "promo")])

        first = self.content(self.assertSent(send(), "/email/sendtemplate")[0])
        self.assertEqual((first["subject"], first["plain"]), ("Promo v1", "first Ann"))
        self.assertNotIn("html", first)
        op("template", "update", "promo", "--account", h.ACCOUNT_EMAIL, "--subject", "Promo v2",
           "--html", "<b>second %name%</b>")
        second = self.content(self.assertSent(send(), "/email/sendtemplate")[0])
        self.assertEqual((second["subject"], second["html"]), ("Promo v2", "<b>second Ann</b>"))
        op("template", "delete", "promo", "--account", h.ACCOUNT_EMAIL)
        self.assertNotIn("promo", op("template", "list", "--account", h.ACCOUNT_EMAIL))
        self.assertError(send(), 400, "email.template_not_found", "promo")

    def test_another_accounts_template_is_not_found(self):
        op = self.srv.operator
        op("account", "create", "--email", "other@example.com")
        op("template", "create", "other_only", "--account", "other@example.com", "--subject", "S",
           "--plain", "P")
        params = [(k, v) for k, v in self.template_params({"to": ["a@example.com"]})
                  if k != "templateInvokeName"] + [("templateInvokeName", "other_only")]
        self.assertError(h.post_form(self.port, "/email/sendtemplate", params),
                         400, "email.template_not_found")


class SendRequestIdTest(WireTestCase):
    def concurrently(self, n, send):
        """Runs send() on n threads released together; returns the replies in thread order."""
        barrier = threading.Barrier(n, timeout=h.IO_TIMEOUT)
        replies = [None] * n
        errors = []

        def run(i):
            try:
                barrier.wait()
                replies[i] = send()
            except Exception as e:  # reported below, in the test's thread
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=h.IO_TIMEOUT * 2)
        self.assertFalse(any(t.is_alive() for t in threads), "a request did not finish")
        self.assertEqual(errors, [])
        return replies

    def test_twenty_concurrent_duplicates_queue_one_message(self):
        subject = "idempotent " + str(now_ms())
        params = self.email(("sendRequestId", "order-4711"), subject=subject,
                            to="alice@example.com;bob@example.com")
        before = self.message_count()
        replies = self.concurrently(
            20, lambda: h.post_form(self.port, "/email/send", params))
        lists = [self.assertSent(r, "/email/send") for r in replies]
        self.assertEqual(len(self.messages_with_subject(subject)), 1)
        self.assertEqual(self.message_count(), before + 1)
        self.assertEqual(len({json.dumps(l) for l in lists}), 1, lists)
        self.assertIds(lists[0], ["alice@example.com", "bob@example.com"])
        # A later repeat, even with other content and on a v1 path, gets the first answer.
        reply = h.post_form(self.port, "/webapi/mail.send.json",
                            self.email(("sendRequestId", "order-4711"), subject="changed",
                                       to="zed@example.com"))
        self.assertEqual(self.assertSent(reply, "/webapi/mail.send.json"), lists[0])
        self.assertEqual(self.message_count(), before + 1)

    def test_twenty_concurrent_duplicate_sms_queue_one_message(self):
        params = self.creds.sms() + [("to", SMS_TO), ("message", "sms once"),
                                     ("sendRequestId", "sms-4711")]
        before = self.message_count()
        replies = self.concurrently(20, lambda: h.post_form(self.port, "/smsapi/send", params))
        infos = [self.assertOk(r) for r in replies]
        self.assertEqual(len({json.dumps(i, sort_keys=True) for i in infos}), 1, infos)
        self.assertEqual(infos[0]["successCount"], 1)
        self.assertEqual(self.message_count(), before + 1)

    def test_the_id_is_per_api_user(self):
        other_key = self.srv.create_email_user("mail_user_two")
        params = self.email(("sendRequestId", "shared-id"), subject="per user")
        first = self.assertSent(h.post_form(self.port, "/email/send", params), "/email/send")
        params2 = self.email(("sendRequestId", "shared-id"), subject="per user",
                             user=("mail_user_two", other_key))
        second = self.assertSent(h.post_form(self.port, "/email/send", params2), "/email/send")
        self.assertNotEqual(first, second)
        self.assertEqual(len(self.messages_with_subject("per user")), 2)

    def test_a_refused_request_does_not_use_up_the_id(self):
        bad = [(k, v) for k, v in self.email(("sendRequestId", "retry-after-fix"))
               if k != "from"]
        self.assertError(h.post_form(self.port, "/email/send", bad), 400, "email.from_missing")
        good = self.email(("sendRequestId", "retry-after-fix"), subject="fixed retry")
        self.assertSent(h.post_form(self.port, "/email/send", good), "/email/send")
        self.assertEqual(len(self.messages_with_subject("fixed retry")), 1)

    def test_an_omitted_list_is_repeated_as_omitted(self):
        params = self.email(("sendRequestId", "no-list"), ("respEmailId", "false"),
                            subject="no list once")
        for _ in range(2):
            self.assertEqual(self.assertOk(h.post_form(self.port, "/email/send", params)), {})
        self.assertEqual(len(self.messages_with_subject("no list once")), 1)

    def test_length_limit(self):
        ok = self.email(("sendRequestId", "x" * 128), subject="128 chars")
        self.assertSent(h.post_form(self.port, "/email/send", ok), "/email/send")
        for path, params in (
                ("/email/send", self.email(("sendRequestId", "y" * 129))),
                ("/smsapi/send", self.creds.sms() + [("to", SMS_TO), ("message", "x"),
                                                     ("sendRequestId", "y" * 129)])):
            with self.subTest(path=path):
                self.assertError(h.post_form(self.port, path, params), 400,
                                 "param.send_request_id_invalid", "128")


class SignedSmsTest(WireTestCase):
    def stored_sms(self, sms_id):
        return self.content(sms_id)["message"]

    def test_the_python_recipe_matches_the_documented_vector(self):
        self.assertEqual(sms_signature(VECTOR_KEY, VECTOR_PARAMS, "sha256"), VECTOR_SHA256)

    def test_sha256_and_md5_signatures(self):
        for algorithm, length in (("sha256", 64), ("md5", 32)):
            for upper in (False, True):
                with self.subTest(algorithm=algorithm, upper=upper):
                    code = f"{algorithm[:3]}{int(upper)}"
                    params = self.signed_template_sms(code)
                    sig = sms_signature(self.creds.sms_key, params, algorithm)
                    self.assertEqual(len(sig), length)
                    sig = sig.upper() if upper else sig
                    reply = h.post_form(self.port, "/smsapi/send", params + [("signature", sig)])
                    info = self.assertOk(reply)
                    self.assertEqual(info["successCount"], 1)
                    self.assertEqual(self.stored_sms(info["smsIds"][0]), f"Your code is {code}")

    def test_signed_get_on_the_aurora_path(self):
        params = self.signed(self.signed_template_sms("4242"))
        info = self.assertOk(h.get(self.port, "/api/sms/send", params))
        self.assertEqual(self.stored_sms(info["smsIds"][0]), "Your code is 4242")

    def test_timestamp_in_seconds(self):
        params = self.signed(self.signed_template_sms("5151", ts=int(time.time())))
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", params))
        self.assertEqual(self.stored_sms(info["smsIds"][0]), "Your code is 5151")

    def test_to_is_an_alias_of_phone(self):
        params = self.signed(self.signed_template_sms(
            "6060", phone=f"{SMS_TO},{SMS_TO_2}", phone_name="to"))
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", params))
        self.assertEqual(info["successCount"], 2)
        self.assertEqual([i.rsplit("$", 1)[1] for i in info["smsIds"]], [SMS_TO, SMS_TO_2])
        # And with the smsKey form.
        plain = self.creds.sms() + [("phone", SMS_TO), ("message", "phone with smsKey")]
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", plain))
        self.assertEqual(self.stored_sms(info["smsIds"][0]), "phone with smsKey")

    def test_free_text_message_and_template_with_smskey(self):
        text = self.signed([("smsUser", self.creds.sms_user), ("phone", SMS_TO),
                            ("message", "free text, signed"), ("timestamp", str(now_ms()))])
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", text))
        self.assertEqual(self.stored_sms(info["smsIds"][0]), "free text, signed")
        keyed = self.creds.sms() + [("phone", SMS_TO), ("templateId", self.sms_template_id),
                                    ("vars", json.dumps({"%code%": "7070"}))]
        info = self.assertOk(h.post_form(self.port, "/smsapi/send", keyed))
        self.assertEqual(self.stored_sms(info["smsIds"][0]), "Your code is 7070")

    def test_wrong_signatures(self):
        c = self.creds
        params = self.signed_template_sms("0000")
        good = sms_signature(c.sms_key, params)
        flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
        # The recipe joins raw values: a signature over URL-encoded values does not match.
        encoded = [(k, urllib.parse.quote(v, safe="")) for k, v in params]
        self.assertNotEqual(encoded, params)
        cases = [
            ("one digit changed", params, flipped),
            ("over URL-encoded values", params, sms_signature(c.sms_key, encoded)),
            ("with the email API_KEY", params, sms_signature(c.api_key, params)),
            ("a parameter left out", params,
             sms_signature(c.sms_key, [p for p in params if p[0] != "vars"])),
            ("a parameter added after signing", params + [("tag", "x")], good),
            ("31 hex characters", params, good[:31]),
            ("unknown user", [("smsUser", "no_such_user")] + params[1:],
             sms_signature(c.sms_key, [("smsUser", "no_such_user")] + params[1:])),
            ("an email user", [("smsUser", c.api_user)] + params[1:],
             sms_signature(c.api_key, [("smsUser", c.api_user)] + params[1:])),
        ]
        before = self.message_count()
        answers = {}
        for title, sent, sig in cases:
            with self.subTest(title):
                reply = h.post_form(self.port, "/smsapi/send", sent + [("signature", sig)])
                self.assertError(reply, 401, "auth.signature_invalid")
                self.assertNotIn(c.sms_key, reply.body.decode())
                answers[title] = reply.body
        self.assertEqual(self.message_count(), before)
        # An unknown user, a user of the other API and a wrong signature get the same answer.
        self.assertEqual(answers["unknown user"], answers["one digit changed"])
        self.assertEqual(answers["an email user"], answers["one digit changed"])

    def test_stale_timestamps_are_refused_and_recent_ones_accepted(self):
        now_s = int(time.time())
        before = self.message_count()
        for title, ts in (("70 s old, ms", now_ms() - 70_000),
                          ("70 s old, s", now_s - 70),
                          ("10 min old, s", now_s - 600),
                          ("70 s ahead, ms", now_ms() + 70_000),
                          ("not a number", "yesterday")):
            with self.subTest(title):
                params = self.signed(self.signed_template_sms("1111", ts=ts))
                reply = h.post_form(self.port, "/smsapi/send", params)
                self.assertError(reply, 401, "auth.signature_stale", "60 s")
        self.assertEqual(self.message_count(), before)
        for title, ts in (("40 s old, ms", now_ms() - 40_000), ("40 s old, s", now_s - 40),
                          ("40 s ahead, ms", now_ms() + 40_000)):
            with self.subTest(title):
                params = self.signed(self.signed_template_sms("2222", ts=ts))
                self.assertOk(h.post_form(self.port, "/smsapi/send", params))

    def test_a_captured_request_replayed_after_the_window_is_stale(self):
        # A request signed 75 s ago is exactly what a captured request replayed 75 s later looks
        # like: the signature is still right, the timestamp is not.
        params = self.signed(self.signed_template_sms("3333", ts=now_ms() - 75_000))
        before = self.message_count()
        for path in SMS_PATHS:
            with self.subTest(path=path):
                self.assertError(h.post_form(self.port, path, params), 401,
                                 "auth.signature_stale")
        self.assertEqual(self.message_count(), before)

    def test_a_replay_inside_the_window_is_refused_and_a_re_signed_retry_queues_nothing(self):
        params = self.signed(self.signed_template_sms("4444", ("sendRequestId", "otp-4444")))
        before = self.message_count()
        first = self.assertOk(h.post_form(self.port, "/smsapi/send", params))
        for path in SMS_PATHS:
            with self.subTest(path=path):
                self.assertError(h.post_form(self.port, path, params), 401,
                                 "auth.signature_replayed", "accepted once")
        # A retry signed anew with the same sendRequestId gets the first answer.
        retry = self.signed(self.signed_template_sms("4444", ("sendRequestId", "otp-4444"),
                                                     ts=now_ms() + 1))
        self.assertEqual(self.assertOk(h.post_form(self.port, "/smsapi/send", retry)), first)
        self.assertEqual(self.message_count(), before + 1)

    def test_content_refusals(self):
        c = self.creds
        cases = [
            ("unknown template", [("templateId", "999999")], "sms.template_not_found"),
            ("template id not a number", [("templateId", "abc")], "sms.template_not_found"),
            ("vars not an object", [("templateId", self.sms_template_id), ("vars", "[1]")],
             "sms.vars_invalid"),
            ("vars not JSON", [("templateId", self.sms_template_id), ("vars", "{code")],
             "sms.vars_invalid"),
            ("a var not a string", [("templateId", self.sms_template_id),
                                    ("vars", '{"%code%": {"a": 1}}')], "sms.vars_invalid"),
            ("MMS", [("message", "x"), ("msgType", "1")], "sms.msg_type_invalid"),
        ]
        before = self.message_count()
        for title, extra, code in cases:
            for form in ("signed", "smsKey"):
                with self.subTest(title, form=form):
                    if form == "signed":
                        params = self.signed([("smsUser", c.sms_user), ("phone", SMS_TO),
                                              ("timestamp", str(now_ms()))] + extra)
                    else:
                        params = c.sms() + [("phone", SMS_TO)] + extra
                    self.assertError(h.post_form(self.port, "/smsapi/send", params), 400, code)
        self.assertEqual(self.message_count(), before)

    def test_the_other_accounts_sms_template_is_not_found(self):
        op = self.srv.operator
        op("account", "create", "--email", "sms-other@example.com")
        out = op("sms-template", "create", "--account", "sms-other@example.com", "--text", "x")
        other_id = re.search(r"^TEMPLATE_ID: (\d+)$", out, re.M).group(1)
        self.assertNotEqual(other_id, self.sms_template_id)
        params = self.signed([("smsUser", self.creds.sms_user), ("phone", SMS_TO),
                              ("templateId", other_id), ("timestamp", str(now_ms()))])
        self.assertError(h.post_form(self.port, "/smsapi/send", params), 400,
                         "sms.template_not_found")


class SmsKeyStorageTest(h.ServerTestCase):
    """SMS keys are encrypted at rest under the server secret; email keys only hashed."""

    def test_sms_keys_are_encrypted_and_survive_a_restart_only_with_the_secret(self):
        srv = self.start_server()
        c = h.provision(srv)

        def signed_send(server):
            params = [("smsUser", c.sms_user), ("phone", SMS_TO), ("message", "after restart"),
                      ("timestamp", str(now_ms()))]
            return h.post_form(server.port, "/smsapi/send",
                               params + [("signature", sms_signature(c.sms_key, params))])

        self.assertOk(signed_send(srv))
        self.assertEqual(srv.stop(), 0)

        rows = dict(db_rows(srv.db_path(), "SELECT name, key_cipher FROM api_users"))
        self.assertIsNone(rows[c.api_user])  # email keys: a hash only
        cipher = rows[c.sms_user]
        self.assertIsInstance(cipher, bytes)
        self.assertEqual(len(cipher), 24 + 16 + 32)  # secretbox nonce, MAC, the 32-char key
        data = b""
        for name in os.listdir(srv.data_dir):
            path = os.path.join(srv.data_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data += f.read()
        for key in (c.sms_key, c.api_key):
            self.assertNotIn(key.encode(), data)
            self.assertNotIn(key, srv.stderr_text())

        # A restart decrypts the stored key with the same secret.
        srv.start()
        self.assertOk(signed_send(srv))
        self.assertEqual(srv.stop(), 0)

        # Under another server secret the stored SMS key cannot be decrypted (nor the email key's
        # hash matched): the secret is what the data dir's keys depend on.
        other_secret = os.path.join(os.path.dirname(srv.data_dir), "other.secret")
        other = h.Server(srv.data_dir, args=["--server-secret-file", other_secret],
                         log_dir=srv.log_dir + "-other")
        self.watch(other)
        other.start()
        self.assertError(signed_send(other), 401, "auth.signature_invalid")
        self.assertError(h.post_form(other.port, "/email/send", c.email() + [
            ("from", FROM), ("to", "a@example.com"), ("subject", "s"), ("plain", "p")]),
            401, "auth.failed")


if __name__ == "__main__":
    unittest.main()
