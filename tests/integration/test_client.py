"""The sendcloud CLI and libsendcloud against the real server (docs/client.md): credentials from
the environment and from a file, a world-readable file refused, retries on 503 and on 429 with
Retry-After, a lost answer retried into one message, key rotation after one 401 and the Sunset
warning, a 10,000-row bulk send interrupted and resumed (each row exactly once), and no key in
any output. Faults come from the server's test controls (a SC_TEST_CONTROLS build started with
--enable-test-controls=true)."""

import collections
import json
import os
import re
import select
import signal
import subprocess
import time
import unittest

import harness

CLI_TIMEOUT = 120


def cli_path():
    path = os.environ.get("SENDCLOUD_CLI")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set SENDCLOUD_CLI to the sendcloud binary (ctest does)")
    return path


def clean_env(extra=None):
    """Our environment without credentials or a server URL, and a HOME of its own so that no
    ~/.config/sendcloud/credentials of the machine is read."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("EMAIL_API_USER", "EMAIL_API_KEY", "SMS_API_USER", "SMS_API_KEY",
                        "SENDCLOUD_URL")}
    env.update(extra or {})
    return env


class ClientTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server(args=["--enable-test-controls=true"])
        cls.creds = harness.provision(cls.srv)
        cls.home = harness.make_temp_root("sendcloud-client-home-")

    def setUp(self):
        self.outputs = []  # every byte any CLI run printed, searched for keys at the end
        self.addCleanup(self.assert_no_key_in_outputs)
        harness.post_form(self.srv.port, "/test/faults?fail=0&drop=0")

    def assert_no_key_in_outputs(self):
        text = "\n".join(self.outputs)
        for key in (self.creds.api_key, self.creds.sms_key, getattr(self, "extra_key", None)):
            if key:
                self.assertNotIn(key, text, "a key appeared in the CLI's output")

    # ---- helpers ---------------------------------------------------------------------------
    def env(self, email=True, sms=False, extra=None):
        e = {"HOME": self.home}
        if email:
            e.update(EMAIL_API_USER=self.creds.api_user, EMAIL_API_KEY=self.creds.api_key)
        if sms:
            e.update(SMS_API_USER=self.creds.sms_user, SMS_API_KEY=self.creds.sms_key)
        e.update(extra or {})
        return clean_env(e)

    def run_cli(self, *args, env=None, server=True):
        cmd = [cli_path()]
        if server:
            cmd += ["--server", self.srv.base_url]
        cmd += list(args)
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           env=env if env is not None else self.env(), timeout=CLI_TIMEOUT)
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        self.outputs += [out, err]
        return r.returncode, out, err

    def email_args(self, to, *extra):
        return ["email", "send", "--from", "news@example.com", "--to", to,
                "--subject", "Hello", "--plain", "Hello there", *extra]

    def count_recipients(self, address):
        return sum(1 for row in harness.recipients(self.srv.db_path()).values()
                   if row[1] == address)

    def faults(self, query):
        reply = harness.post_form(self.srv.port, "/test/faults?" + query)
        self.assertEqual(reply.status, 200, reply)
        return reply.json

    def credentials_file(self, lines, mode=0o600):
        path = os.path.join(harness.make_temp_root("sendcloud-creds-"), "credentials")
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.chmod(path, mode)
        return path

    # ---- credentials -----------------------------------------------------------------------
    def test_credentials_from_the_environment(self):
        rc, out, err = self.run_cli(*self.email_args("env-cred@example.com"))
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\$env-cred@example\.com")
        self.assertEqual(self.count_recipients("env-cred@example.com"), 1)

    def test_credentials_from_a_file(self):
        path = self.credentials_file([
            "# rotated by hand", f"SMS_API_USER={self.creds.sms_user}",
            f"SMS_API_KEY={self.creds.sms_key}"])
        rc, out, err = self.run_cli("--credentials-file", path, "--json", "sms", "send",
                                    "--to", "+14155550123", "--message", "from a file",
                                    env=self.env(email=False))
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["smsIds"]), 1)
        self.assertEqual(self.count_recipients("+14155550123"), 1)

    def test_default_file_under_home_is_read_when_the_environment_is_empty(self):
        home = harness.make_temp_root("sendcloud-home-")
        os.makedirs(os.path.join(home, ".config/sendcloud"))
        path = os.path.join(home, ".config/sendcloud/credentials")
        with open(path, "w") as f:
            f.write(f"EMAIL_API_USER={self.creds.api_user}\nEMAIL_API_KEY={self.creds.api_key}\n")
        os.chmod(path, 0o600)
        rc, _, err = self.run_cli(*self.email_args("home-cred@example.com"),
                                  env=clean_env({"HOME": home}))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.count_recipients("home-cred@example.com"), 1)

    def test_world_readable_credentials_file_is_refused(self):
        path = self.credentials_file([f"EMAIL_API_USER={self.creds.api_user}",
                                      f"EMAIL_API_KEY={self.creds.api_key}"], mode=0o644)
        rc, out, err = self.run_cli("--credentials-file", path,
                                    *self.email_args("refused@example.com"))
        self.assertEqual(rc, 3, err)
        self.assertIn("too open", err)
        self.assertIn("chmod 600", err)
        self.assertEqual(self.count_recipients("refused@example.com"), 0)

    def test_no_credentials_is_exit_3_with_what_to_set(self):
        rc, _, err = self.run_cli(*self.email_args("nobody@example.com"),
                                  env=clean_env({"HOME": self.home}))
        self.assertEqual(rc, 3)
        self.assertIn("EMAIL_API_USER", err)

    # ---- retries ---------------------------------------------------------------------------
    def test_retry_on_503(self):
        self.faults("fail=2&status=503&retryAfter=0")
        rc, out, err = self.run_cli("-v", "--json", *self.email_args("retry503@example.com"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["attempts"], 3)
        self.assertEqual(err.count("< 503"), 2, err)
        self.assertEqual(self.faults("")["failed"] >= 2, True)
        self.assertEqual(self.count_recipients("retry503@example.com"), 1)

    def test_retry_on_429_honours_retry_after(self):
        self.faults("fail=1&status=429&retryAfter=2")
        started = time.monotonic()
        rc, out, err = self.run_cli("-v", "--json", *self.email_args("retry429@example.com"))
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["attempts"], 2)
        self.assertIn("< 429", err)
        m = re.search(r"retrying in (\d+) ms", err)
        self.assertIsNotNone(m, err)
        self.assertGreaterEqual(int(m.group(1)), 2000)
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertEqual(self.count_recipients("retry429@example.com"), 1)

    def test_503_every_time_gives_up_with_exit_5(self):
        self.faults("fail=50&status=503&retryAfter=0")
        rc, out, err = self.run_cli("--json", *self.email_args("gaveup@example.com"))
        self.assertEqual(rc, 5, err)
        body = json.loads(out)
        self.assertEqual(body["errorCode"], "store.unavailable")
        self.assertTrue(body["retryable"])
        self.assertEqual(body["attempts"], 5)

    def test_refusal_is_not_retried_and_is_exit_4(self):
        rc, out, err = self.run_cli("-v", "email", "send", "--from", "not-an-address",
                                    "--to", "a@example.com", "--subject", "x", "--plain", "y")
        self.assertEqual(rc, 4, err)
        self.assertIn("email.from_invalid", err)
        self.assertEqual(err.count("> POST"), 1, err)

    def test_lost_response_is_retried_into_one_message(self):
        self.faults("drop=1")
        rc, out, err = self.run_cli("-v", "--json", *self.email_args("lost@example.com"))
        self.assertEqual(rc, 0, err)
        body = json.loads(out)
        self.assertEqual(body["attempts"], 2)
        self.assertIn("no answer", err)
        self.assertEqual(self.faults("")["dropped"], 1)
        # The first attempt was queued; the retry, with the same sendRequestId, queued nothing
        # and got the first one's ids.
        self.assertEqual(self.count_recipients("lost@example.com"), 1)
        ids = [rid for rid, row in harness.recipients(self.srv.db_path()).items()
               if row[1] == "lost@example.com"]
        self.assertTrue(body["emailIds"][0].startswith(ids[0].split("$")[0][:10]), (body, ids))

    # ---- status ----------------------------------------------------------------------------
    def test_status_reports_each_id_with_its_state_and_other_accounts_ids_as_unknown(self):
        rc, out, err = self.run_cli("--json", *self.email_args("status@example.com"))
        self.assertEqual(rc, 0, err)
        [email_id] = json.loads(out)["emailIds"]
        rc, out, err = self.run_cli("--json", "email", "status", email_id)
        self.assertEqual(rc, 0, err)
        [entry] = [e for e in json.loads(out)["voList"] if e["id"] == email_id]
        self.assertEqual(entry["recipient"], "status@example.com")
        self.assertIn(entry["status"], {"queued", "sending", "deferred", "delivered",
                                        "bounced", "sandbox"})
        # Plain output: one line per id, tab-separated, never a key.
        rc, out, err = self.run_cli("email", "status", email_id)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(email_id + "\tstatus@example.com\t"), out)
        self.assertNotIn(self.creds.api_key, out + err)
        # An id that is not this account's reads as not found, and tells nothing about it.
        rc, out, err = self.run_cli("--json", "email", "status", "1234$a@example.com")
        self.assertEqual(rc, 0, err)
        [unknown] = json.loads(out)["voList"]
        self.assertEqual((unknown["status"], unknown["recipient"]), ("not_found", ""))

    # ---- rotation --------------------------------------------------------------------------
    def test_key_rotation_is_picked_up_after_one_401_and_sunset_warns_once(self):
        name = "rotating_user"
        key1 = self.srv.create_email_user(name)
        path = self.credentials_file([f"EMAIL_API_USER={name}", f"EMAIL_API_KEY={key1}"])
        probe = subprocess.Popen([os.environ["SENDCLOUD_PROBE"], self.srv.base_url, path],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=clean_env({"HOME": self.home}))
        self.addCleanup(probe.kill)

        def send():
            probe.stdin.write(b"send\n")
            probe.stdin.flush()
            ready, _, _ = select.select([probe.stdout], [], [], harness.IO_TIMEOUT)
            self.assertTrue(ready, "the probe did not answer")
            return json.loads(probe.stdout.readline())

        self.assertEqual(send(), {"ok": True, "attempts": 1})
        # A reset: the old key works through its grace period, with a Sunset header.
        key2 = harness._key_from(self.srv.operator("email-user", "reset", name), "API_KEY")
        self.assertEqual(send(), {"ok": True, "attempts": 1})
        self.assertEqual(send(), {"ok": True, "attempts": 1})
        # Another reset, ending the grace key at once; the file now holds the newest key.
        key3 = harness._key_from(
            self.srv.operator("email-user", "reset", name, "--revoke-old"), "API_KEY")
        self.extra_key = key3
        with open(path + ".new", "w") as f:
            f.write(f"EMAIL_API_USER={name}\nEMAIL_API_KEY={key3}\n")
        os.chmod(path + ".new", 0o600)
        os.rename(path + ".new", path)
        self.assertEqual(send(), {"ok": True, "attempts": 2})
        self.assertEqual(send(), {"ok": True, "attempts": 1})
        probe.stdin.close()
        self.assertEqual(probe.wait(timeout=harness.STOP_TIMEOUT), 0)
        err = probe.stderr.read().decode()
        self.outputs.append(err)
        self.assertEqual(err.count("< 401"), 1, err)
        warnings = [l for l in err.splitlines() if "stops working at" in l]
        self.assertEqual(len(warnings), 1, err)
        self.assertRegex(warnings[0], r"\d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT")
        for key in (key1, key2, key3):
            self.assertNotIn(key, err)

    # ---- bulk ------------------------------------------------------------------------------
    def test_bulk_send_interrupted_and_resumed_sends_each_row_once(self):
        rows = 10000
        root = harness.make_temp_root("sendcloud-bulk-")
        csv_path = os.path.join(root, "people.csv")
        with open(csv_path, "w") as f:
            f.write("to,name\n")
            for i in range(rows):
                f.write(f"bulk{i}@example.com,Person {i}\n")
        state_dir = os.path.join(root, "state")
        args = [cli_path(), "--server", self.srv.base_url, "email", "send-bulk", "--csv",
                csv_path, "--from", "news@example.com", "--subject", "Hi %name%",
                "--plain", "Dear %name%", "--state-dir", state_dir]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env())
        self.addCleanup(proc.kill)
        # Wait for the first progress line with rows sent (about a second in), then interrupt.
        deadline = time.monotonic() + harness.IO_TIMEOUT
        seen = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], harness._remaining(deadline))
            if not ready:
                break
            line = proc.stderr.readline().decode()
            seen.append(line)
            m = re.match(r"progress: (\d+)/", line)
            if m and int(m.group(1)) > 0:
                break
        self.assertTrue(any(l.startswith("progress:") for l in seen), seen)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        self.outputs += [out.decode(), err.decode(), "".join(seen)]
        self.assertEqual(proc.returncode, 130, err)
        m = re.search(r"interrupted: (\d+) sent", out.decode())
        self.assertIsNotNone(m, out)
        first = int(m.group(1))
        self.assertLess(first, rows, "the run finished before the interruption")
        # A crash between a send and its state line: forget the last rows recorded, so the
        # resume sends them again with the same request ids (the server must drop them).
        [state] = [os.path.join(state_dir, n) for n in os.listdir(state_dir)]
        with open(state) as f:
            lines = f.readlines()
        self.assertEqual(len(lines), first)
        forgotten = min(5, first)
        with open(state, "w") as f:
            f.writelines(lines[:len(lines) - forgotten])

        rc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=self.env(),
                            timeout=CLI_TIMEOUT * 5)
        self.outputs += [rc.stdout.decode(), rc.stderr.decode()]
        self.assertEqual(rc.returncode, 0, rc.stderr[-2000:])
        self.assertIn(f"done: {rows - first + forgotten} sent, {first - forgotten} already sent "
                      f"before, 0 failed", rc.stdout.decode())
        counts = collections.Counter(row[1] for row in
                                     harness.recipients(self.srv.db_path()).values()
                                     if row[1].startswith("bulk"))
        self.assertEqual(len(counts), rows)
        self.assertEqual(set(counts.values()), {1})

    # ---- secrecy ---------------------------------------------------------------------------
    def test_verbose_output_and_errors_hold_no_key(self):
        rc, _, err = self.run_cli("-v", *self.email_args("verbose@example.com"))
        self.assertEqual(rc, 0, err)
        self.assertIn("apiKey=***", err)
        self.assertIn(f"apiUser={self.creds.api_user}", err)
        rc, _, err = self.run_cli("-v", "sms", "send", "--to", "+14155550124", "--message", "x",
                                  env=self.env(email=False, sms=True))
        self.assertEqual(rc, 0, err)
        self.assertIn("smsKey=***", err)
        # A wrong key: the error shows the hint, never the key.
        wrong = self.creds.api_key[:-4] + "ZZZZ"
        self.extra_key = wrong
        rc, out, err = self.run_cli("-v", "--json", *self.email_args("wrong@example.com"),
                                    env=self.env(extra={"EMAIL_API_KEY": wrong}))
        self.assertEqual(rc, 3, err)
        self.assertEqual(json.loads(out)["errorCode"], "auth.failed")
        # A malformed credentials file line never echoes the line.
        path = self.credentials_file([f"EMAIL_API_USER={self.creds.api_user}",
                                      self.creds.api_key])
        rc, _, err = self.run_cli("--credentials-file", path,
                                  *self.email_args("malformed@example.com"))
        self.assertEqual(rc, 3)
        self.assertIn("line 2", err)
        # (assert_no_key_in_outputs checks everything printed above.)

    def test_help_on_every_command_and_usage_exit_2(self):
        for cmd in ([], ["email"], ["sms"], ["email", "send"], ["sms", "send"],
                    ["email", "status"], ["sms", "status"], ["email", "send-bulk"],
                    ["sms", "send-bulk"]):
            rc, out, _ = self.run_cli(*cmd, "--help", server=False)
            self.assertEqual(rc, 0, cmd)
            self.assertIn("Usage", out, cmd)
        rc, _, _ = self.run_cli("email", "send", "--to", "a@example.com")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
