"""The first-start demo: the two printed curl commands work as printed."""

import json
import re
import shlex
import shutil
import subprocess
import unittest

import harness as h

CURL = shutil.which("curl") or "/usr/bin/curl"


class DemoTest(h.ServerTestCase):
    def test_demo_commands_work_and_keys_stay_out_of_the_log(self):
        data_dir = self.temp_dir()
        srv = h.Server(data_dir, demo=None)  # no --demo flag: the default is on
        self.watch(srv)
        srv.start()
        out = srv.stdout_text()
        api_key = re.search(r"API_USER demo_api\s+API_KEY (\S+)", out)
        sms_key = re.search(r"SMS_USER demo_sms\s+SMS_KEY (\S+)", out)
        self.assertIsNotNone(api_key, out)
        self.assertIsNotNone(sms_key, out)
        keys = [api_key.group(1), sms_key.group(1)]
        for k in keys:
            self.assertRegex(k, r"^[A-Za-z0-9]{32}$")
        commands = [l.strip() for l in out.splitlines() if l.strip().startswith("curl ")]
        self.assertEqual(len(commands), 2, out)
        self.assertIn(srv.base_url, commands[0])
        self.assertIn("/email/send", commands[0])
        self.assertIn("/smsapi/send", commands[1])

        for cmd in commands:
            with self.subTest(cmd=cmd.split("?")[0][:60]):
                argv = shlex.split(cmd)
                self.assertEqual(argv[0], "curl")
                r = subprocess.run([CURL] + argv[1:], capture_output=True,
                                   timeout=h.COMMAND_TIMEOUT)
                self.assertEqual(r.returncode, 0, r.stderr)
                body = json.loads(r.stdout)
                self.assertIs(body["result"], True, body)
                self.assertEqual(body["statusCode"], 200, body)
        rows = h.recipients(srv.db_path())
        self.assertEqual(sorted(r[1] for r in rows.values()),
                         ["+14155550100", "you@example.com"])

        # The banner is printed once; each key shows in its own line and its curl command.
        self.assertEqual(out.count("First start"), 1, out)
        for k in keys:
            self.assertEqual(len([l for l in out.splitlines() if k in l]), 2, out)
        self.assertEqual(srv.stop(), 0)

        # A restart on the same data dir prints no keys again.
        srv.start()
        self.assertOk(h.get(srv.port, "/healthz"))
        again = srv.stdout_text()
        self.assertEqual(srv.stop(), 0)
        self.assertNotIn("First start", again)
        for k in keys:
            self.assertNotIn(k, again)
            self.assertNotIn(k, srv.stderr_text())
            for n in (1, 2):
                with open(f"{srv.log_dir}/stderr-{n}.log", "rb") as f:
                    self.assertNotIn(k.encode(), f.read())


if __name__ == "__main__":
    unittest.main()
