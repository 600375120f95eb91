"""Retention end to end (docs/operations.md "Retention"): a delivered message's body is pruned
once the server's clock is past --message-retention-days, by the running server and without a
restart, while the message, its recipient and its status stay; a younger message keeps its body.
The clock is moved with the test controls (POST /test/clock/advance), never waited for."""

import os
import shutil
import sqlite3
import time
import unittest

import harness as h

FROM = "sender@example.com"
DEADLINE = 20
DAY_MS = 86_400_000


def rows(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_until(predicate, what):
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling the database with a deadline


class RetentionTest(h.ServerTestCase):
    def setUp(self):
        root = h.make_temp_root()
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        self.srv = h.Server(os.path.join(root, "data"),
                            args=["--enable-test-controls=true", "--retention-interval", "1",
                                  "--message-retention-days", "30"])
        self.creds = h.provision(self.srv)
        # Test mode: the sandbox agent makes every recipient final at once.
        con = sqlite3.connect(self.srv.db_path())
        with con:
            con.execute("UPDATE api_users SET test_mode = 1")
        con.close()
        self.watch(self.srv)
        self.srv.start()
        self.db = self.srv.db_path()

    def send(self, subject):
        info = self.assertOk(h.post_form(self.srv.port, "/email/send", self.creds.email() + [
            ("from", FROM), ("to", "alice@example.com"), ("subject", subject),
            ("plain", f"body of {subject}")]))
        [email_id] = info["emailIdList"]
        wait_until(lambda: rows(self.db, "SELECT state FROM recipients WHERE id = ?",
                                (email_id,)) == [("sandbox",)], f"{email_id} to be final")
        return email_id, rows(self.db, "SELECT message_id FROM recipients WHERE id = ?",
                              (email_id,))[0][0]

    def content(self, message_id):
        return rows(self.db, "SELECT content_json FROM messages WHERE id = ?", (message_id,))[0][0]

    def advance(self, ms):
        r = h.request(self.srv.port, "POST", f"/test/clock/advance?ms={ms}")
        self.assertEqual(r.status, 200, f"{r} (the test controls need a build with "
                                        "-DSC_TEST_CONTROLS=ON, as `make test` makes)")

    def test_an_old_body_is_pruned_by_the_running_server_and_the_record_stays(self):
        old_id, old_message = self.send("old news")
        self.assertIn("body of old news", self.content(old_message))
        self.advance(20 * DAY_MS)
        young_id, young_message = self.send("fresh news")
        self.advance(11 * DAY_MS)  # the first is now 31 days old, the second 11

        wait_until(lambda: self.content(old_message) == '{"pruned":true}',
                   "the old body to be pruned")
        self.assertIn("body of fresh news", self.content(young_message))
        # The record of what was sent stays, and the status API still answers it.
        self.assertEqual(rows(self.db, "SELECT address, state FROM recipients WHERE id = ?",
                              (old_id,)), [("alice@example.com", "sandbox")])
        info = self.assertOk(h.get(self.srv.port, "/email/status",
                                   self.creds.email() + [("emailId", old_id)]))
        self.assertEqual(info["voList"][0]["status"], "sandbox")
        self.assertNotEqual(young_id, old_id)


if __name__ == "__main__":
    unittest.main()
