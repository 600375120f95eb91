"""Settings: --help, TOML file, SENDCLOUD_* environment and flags, each overriding the last."""

import os
import re
import subprocess
import unittest

import harness as h

# Every setting of src/common/config.cpp as a flag, with its default where it has one.
SETTINGS = {
    "--listen": "127.0.0.1:8080",
    "--data-dir": "./var",
    "--io-threads": "0",
    "--max-connections": "10000",
    "--max-connections-per-client": "64",
    "--max-header-bytes": "16384",
    "--max-body-bytes": "12582912",
    "--header-timeout-ms": "10000",
    "--body-timeout-ms": "30000",
    "--idle-timeout-ms": "60000",
    "--max-requests-per-connection": "0",
    "--drain-timeout-ms": "10000",
    "--max-recipients": "100",
    "--max-content-bytes": "10485760",
    "--phone-validation": "valid",
    "--server-secret-file": None,
    "--hostname": None,
    "--log-level": "info",
    "--access-log": "true",
    "--demo": "true",
    "--email-key-grace": "900",
}


# Settings whose default is computed at run time, or is "not set", so --help shows none.
NO_DEFAULT = {"--server-secret-file", "--hostname", "--smtp-relay", "--smtp-relay-user",
              "--smtp-relay-password-file", "--smtp-route", "--dns-servers", "--smtp-ca-file",
              "--ehlo-name", "--public-url", "--tls-listen", "--tls-cert", "--tls-key",
              "--trusted-proxies", "--smtp-shaping-file"}


def help_options(text):
    """{flag: (the word after the flag, the option's whole entry)} from CLI11's --help."""
    options = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^  (?:-\w,)?(--[a-z][a-z0-9-]*)(?: (\S+))?", line)
        if m:
            current = m.group(1)
            options[current] = [m.group(2) or "", line]
        elif current and line.startswith("    "):
            options[current][1] += "\n" + line
        else:
            current = None
    return {k: tuple(v) for k, v in options.items()}


def run(args, env=None):
    return subprocess.run([h.binary()] + args, capture_output=True, text=True,
                          env=h.child_env(env), timeout=h.COMMAND_TIMEOUT,
                          stdin=subprocess.DEVNULL)


class HelpTest(unittest.TestCase):
    def test_help_lists_every_setting_with_its_default(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        options = help_options(r.stdout)
        for flag, default in SETTINGS.items():
            with self.subTest(flag):
                self.assertIn(flag, options, f"{flag} not in --help:\n{r.stdout}")
                value, _ = options[flag]
                self.assertEqual(value, "TEXT" if default is None else f"TEXT={default}")
        # Settings added later must show a default and their environment variable too.
        for flag, (value, entry) in options.items():
            if flag in ("--help", "--help-all", "--config"):
                continue
            with self.subTest(flag):
                env = "SENDCLOUD_" + flag[2:].replace("-", "_").upper()
                self.assertIn(f"[env {env}]", entry)
                if flag not in NO_DEFAULT:
                    self.assertRegex(value, r"^TEXT=\S+$", f"{flag} shows no default")
        self.assertIn("--config", options)

    def test_bad_values_are_refused_at_start(self):
        r = run(["--max-recipients", "0", "--data-dir", "/nonexistent/never"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--max-recipients", r.stderr)
        r = run(["--data-dir", "/nonexistent/never"], env={"SENDCLOUD_IO_THREADS": "many"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("SENDCLOUD_IO_THREADS", r.stderr)


class LayersTest(h.ServerTestCase):
    """A TOML file sets max_recipients = 2; the environment overrides it; a flag overrides both."""

    @classmethod
    def setUpClass(cls):
        cls.root = h.make_temp_root()
        cls.addClassCleanup(h.shutil.rmtree, cls.root, ignore_errors=True)
        cls.data_dir = os.path.join(cls.root, "data")
        cls.config = os.path.join(cls.root, "sendcloud.toml")
        with open(cls.config, "w") as f:
            f.write('# written by test_config.py\n'
                    'listen = "127.0.0.1:0"\n'
                    f'data_dir = "{cls.data_dir}"\n'
                    'demo = false\n'
                    'max_recipients = 2\n')
        h.run_operator(cls.data_dir, "account", "create", "--email", h.ACCOUNT_EMAIL)
        cls.creds = h.Credentials(
            h.EMAIL_USER, h._key_from(h.run_operator(cls.data_dir, "email-user", "create",
                                                     h.EMAIL_USER, "--account", h.ACCOUNT_EMAIL),
                                      "API_KEY"),
            h.SMS_USER, h._key_from(h.run_operator(cls.data_dir, "sms-user", "create",
                                                   h.SMS_USER, "--account", h.ACCOUNT_EMAIL),
                                    "SMS_KEY"))

    def server(self, env=None, args=()):
        # Only --config on the command line: listen, data_dir and demo come from the file.
        srv = h.Server(None, args=["--config", self.config, *args], env=env, listen=None,
                       demo=None, log_dir=h.tempfile.mkdtemp(dir=self.root))
        srv.data_dir = self.data_dir
        self.watch(srv)
        return srv.start()

    def send(self, srv, n):
        to = ";".join(f"r{i}@example.com" for i in range(n))
        return h.post_form(srv.port, "/email/send", self.creds.email() + [
            ("from", "news@example.com"), ("to", to), ("subject", "Hi"), ("plain", "x")])

    def sms(self, srv, n):
        numbers = ["+14155550100", "+14155550101", "+14155550102", "+14155550103"][:n]
        return h.post_form(srv.port, "/smsapi/send", self.creds.sms() + [
            ("to", ",".join(numbers)), ("message", "Hi")])

    def test_file_sets_the_value(self):
        srv = self.server()
        self.assertTrue(srv.base_url.startswith("http://127.0.0.1:"))
        self.assertNotEqual(srv.port, 0)
        srv.wait_for_stderr(re.escape(f"(data dir {self.data_dir},"))
        self.assertOk(self.send(srv, 2))
        self.assertError(self.send(srv, 3), 400, "email.too_many_recipients", "2")
        self.assertError(self.sms(srv, 3), 400, "sms.too_many_recipients", "2")
        self.assertNotIn("First start", srv.stdout_text())  # demo = false from the file
        self.assertEqual(srv.stop(), 0)

    def test_environment_overrides_the_file(self):
        srv = self.server(env={"SENDCLOUD_MAX_RECIPIENTS": "3"})
        self.assertEqual(len(self.assertOk(self.send(srv, 3))["emailIdList"]), 3)
        self.assertError(self.send(srv, 4), 400, "email.too_many_recipients", "3")
        self.assertEqual(srv.stop(), 0)

    def test_flag_overrides_environment_and_file(self):
        srv = self.server(env={"SENDCLOUD_MAX_RECIPIENTS": "3"}, args=["--max-recipients", "1"])
        self.assertOk(self.send(srv, 1))
        self.assertError(self.send(srv, 2), 400, "email.too_many_recipients", "1")
        self.assertEqual(srv.stop(), 0)

    def test_config_from_environment(self):
        srv = h.Server(None, env={"SENDCLOUD_CONFIG": self.config}, listen=None, demo=None,
                       log_dir=h.tempfile.mkdtemp(dir=self.root))
        self.watch(srv)
        srv.start()
        self.assertError(self.send(srv, 3), 400, "email.too_many_recipients")
        self.assertEqual(srv.stop(), 0)

    def test_unknown_setting_in_file_is_refused(self):
        bad = os.path.join(self.root, "bad.toml")
        with open(bad, "w") as f:
            f.write("max_recipientz = 2\n")
        r = run(["--config", bad])
        self.assertEqual(r.returncode, 2)
        self.assertIn("max_recipientz", r.stderr)



class ExposureWarningTest(h.ServerTestCase):
    """Issue #11: demo on and cookies without Secure on a listener others can reach, unsaid."""

    WARNING = "which other machines can reach"

    def warnings(self, srv):
        srv.wait_for_stderr(r"sendcloudd listening on ")
        return [l for l in srv.stderr_text().splitlines() if self.WARNING in l]

    def test_a_reachable_listener_gets_one_warning_line(self):
        srv = self.start_server(listen="0.0.0.0:0", demo=True)
        lines = self.warnings(srv)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("demo = true", lines[0])
        self.assertIn("secure_cookies = false", lines[0])
        self.assertIn(" warning ", lines[0])
        self.assertEqual(srv.stop(), 0)

        cookies_only = self.start_server(listen="0.0.0.0:0", demo=False)
        lines = self.warnings(cookies_only)
        self.assertEqual(len(lines), 1, lines)
        self.assertNotIn("demo = true", lines[0])
        self.assertEqual(cookies_only.stop(), 0)

    def test_loopback_or_a_safe_setup_gets_none(self):
        for kw in ({"demo": True}, {"listen": "0.0.0.0:0", "args": ["--secure-cookies=true"]}):
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                srv = self.start_server(**kw)
                self.assertEqual(self.warnings(srv), [])
                self.assertEqual(srv.stop(), 0)

if __name__ == "__main__":
    unittest.main()
