"""docs/api.md stays true: every ```sh example runs against a real server with the real curl and
gets the answer its `# expect:` line names; every errorCode the server can send is documented.

An example block is run by /bin/sh with BASE, API_USER, API_KEY, SMS_USER, SMS_KEY and
SMS_TEMPLATE_ID set to a running server's values — exactly as a reader who set those variables
would run it (the server also has the email template `welcome` the template examples send).
`curl` in the block is wrapped only to count the calls and to append the HTTP status (-w); the
request itself is untouched. A block that calls a /webapi/ path gets SendCloud's v1 answer
shape. Expectation syntax, one line per block:

    # expect: <status> [<errorCode>] [<dotted.json.path>=<value> ...]
"""

import glob
import json
import os
import re
import shutil
import subprocess
import unittest

import harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(ROOT, "docs", "api.md")
PLACEHOLDERS = ("BASE", "API_USER", "API_KEY", "SMS_USER", "SMS_KEY", "SMS_TEMPLATE_ID")
CODE_RE = r"(?:auth|email|sms|param|request|multipart|server|store|limit|status)\.[A-Za-z_]+"

CURL_WRAPPER = r"""set -e
curl() {
  echo "$*" >> "$CURL_LOG"
  command curl -sS -w '\n%{http_code}' "$@"
}
"""


def read_doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def sh_blocks(text):
    return re.findall(r"^```sh\n(.*?)^```\s*$", text, re.M | re.S)


def parse_expect(block):
    lines = [l for l in block.splitlines() if re.match(r"\s*#\s*expect:", l)]
    if len(lines) != 1:
        raise AssertionError(f"a block needs exactly one '# expect:' line:\n{block}")
    tokens = lines[0].split(":", 1)[1].split()
    status = int(tokens[0])
    code = None
    checks = {}
    for t in tokens[1:]:
        if "=" in t:
            path, value = t.split("=", 1)
            try:
                checks[path] = json.loads(value)
            except ValueError:
                checks[path] = value
        elif code is None:
            code = t
        else:
            raise AssertionError(f"cannot read expectation {lines[0]!r}")
    return status, code, checks


def json_path(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


class DocsExamplesTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = cls.start_class_server()
        cls.creds = h.provision(cls.srv)
        # What the template examples name: the email template `welcome` and an SMS template.
        cls.srv.operator("template", "create", "welcome", "--account", h.ACCOUNT_EMAIL,
                         "--subject", "Welcome, %name%", "--html", "<p>Hello %name%</p>",
                         "--plain", "Hello %name%")
        out = cls.srv.operator("sms-template", "create", "--account", h.ACCOUNT_EMAIL,
                               "--text", "Your code is %code%")
        m = re.search(r"^TEMPLATE_ID: (\d+)$", out, re.M)
        if not m:
            raise h.ServerError(f"no 'TEMPLATE_ID: <id>' line in:\n{out}")
        cls.sms_template_id = m.group(1)
        cls.blocks = sh_blocks(read_doc())

    def run_block(self, block):
        work = self.temp_dir()
        os.makedirs(work)
        log = os.path.join(work, "..", "curl.log")
        c = self.creds
        env = {
            "PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8", "CURL_LOG": log,
            "BASE": self.srv.base_url, "API_USER": c.api_user, "API_KEY": c.api_key,
            "SMS_USER": c.sms_user, "SMS_KEY": c.sms_key, "SMS_TEMPLATE_ID": self.sms_template_id,
        }
        r = subprocess.run(["/bin/sh", "-c", CURL_WRAPPER + block], cwd=work, env=env,
                           capture_output=True, timeout=h.COMMAND_TIMEOUT)
        calls = []
        if os.path.exists(log):
            with open(log) as f:
                calls = f.read().splitlines()
        return r, calls

    def test_examples_cover_the_api(self):
        text = "\n".join(self.blocks)
        self.assertGreaterEqual(len(self.blocks), 15)
        for var in PLACEHOLDERS:
            self.assertIn("$" + var, text)
        for path in ("/email/send", "/smsapi/send", "/healthz", "/readyz",
                     "/webapi/mail.send.json", "/email/sendtemplate", "sendRequestId=",
                     "signature="):
            self.assertIn(path, text)
        self.assertIsNotNone(shutil.which("curl", path="/usr/bin:/bin"), "curl is not installed")

    def test_every_example_gets_its_expected_answer(self):
        self.assertTrue(self.blocks, "no ```sh blocks in docs/api.md")
        for n, block in enumerate(self.blocks, 1):
            title = next((l.lstrip("# ").strip() for l in block.splitlines()
                          if l.startswith("#") and "expect:" not in l), "")
            with self.subTest(block=n, title=title):
                status, code, checks = parse_expect(block)
                if status != 200:
                    self.assertIsNotNone(code, "an error example must name its errorCode")
                r, calls = self.run_block(block)
                out = r.stdout.decode("utf-8", "replace")
                self.assertEqual(r.returncode, 0, f"{r.stderr!r}\n{out}")
                self.assertEqual(len(calls), 1, "each example runs curl exactly once")
                body_text, _, http_code = out.rpartition("\n")
                self.assertEqual(int(http_code), status, out)
                body = json.loads(body_text)
                if "/webapi/" not in block:  # the envelope
                    self.assertEqual(body["statusCode"], status, body)
                    self.assertIs(body["result"], status == 200, body)
                    if code is not None:
                        self.assertTrue(body.get("hint"), body)
                else:  # SendCloud v1's shape, on the /webapi/*.json paths
                    self.assertEqual(body.get("message"), "success" if status == 200 else "error",
                                     body)
                    if status != 200:
                        self.assertEqual(body.get("statusCode"), status, body)
                        self.assertTrue(body.get("errors") and body["errors"][0], body)
                if code is not None:
                    self.assertEqual(body.get("errorCode"), code, body)
                for path, value in checks.items():
                    self.assertEqual(json_path(body, path), value, (path, body))


def source_error_codes():
    codes = set()
    for path in glob.glob(os.path.join(ROOT, "src", "**", "*.cpp"), recursive=True):
        with open(path, encoding="utf-8") as f:
            codes.update(re.findall(r'"(' + CODE_RE + r')"', f.read()))
    # send_validation.cpp builds "email." + name + "_invalid" for each address list.
    codes.update({"email.to_invalid", "email.cc_invalid", "email.bcc_invalid",
                  "email.replyTo_invalid"})
    return codes


class DocsErrorCodesTest(unittest.TestCase):
    def test_every_error_code_is_documented_with_its_status(self):
        codes = source_error_codes()
        self.assertIn("auth.failed", codes)  # the scan found the sources
        rows = [l for l in read_doc().splitlines() if l.startswith("| `")]
        for code in sorted(codes):
            with self.subTest(code):
                row = [r for r in rows if f"`{code}`" in r.split("|")[1]]
                self.assertTrue(row, f"{code} has no row in a docs/api.md error table")
                self.assertRegex(row[0].split("|")[2], r"^\s*[1-5]\d\d\s*$",
                                 f"{code}: the second column must be its HTTP status")
                self.assertTrue(row[0].split("|")[3].strip(), f"{code}: no hint text")

    def test_documented_codes_exist(self):
        codes = source_error_codes()
        text = read_doc()
        documented = set(re.findall(r"`(" + CODE_RE + r")`", text))
        self.assertEqual(sorted(documented - codes), [],
                         "docs/api.md names error codes the server never sends")


if __name__ == "__main__":
    unittest.main()
