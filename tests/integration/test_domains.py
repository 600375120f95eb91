"""`sendcloudd domain add|dns|rotate|list|remove` against the real binary and database: the DNS
records it prints hold usable public keys (checked with openssl), a rotate keeps the old
selector published but not signing, and no private key is ever printed or stored in clear.
Signing itself is verified with python3-dkim in tests/unit/delivery/domain_keys_test.cpp and,
end to end over SMTP, in test_email_delivery.py."""

import base64
import re
import sqlite3
import subprocess
import tempfile
import unittest

import harness as h

TXT = re.compile(r'^(\S+)\._domainkey\.(\S+) TXT (.+)$', re.M)


def txt_value(zone_strings):
    # `"v=DKIM1; k=rsa; " "p=MIIB..."`: the strings of one record, joined.
    return "".join(re.findall(r'"([^"]*)"', zone_strings))


def records(output):
    """{selector: value} for every DKIM TXT record in the output, and the retired selectors."""
    found = {m.group(1): txt_value(m.group(3)) for m in TXT.finditer(output)}
    retired = set(re.findall(r"^# retired selector (\S+):", output, re.M))
    return found, retired


def public_key_bits(value):
    """The key size openssl reads from the record's p= value (fails the test if it cannot)."""
    tags = dict(t.strip().split("=", 1) for t in value.split(";") if t.strip())
    der = base64.b64decode(tags["p"], validate=True)
    if tags.get("k") == "ed25519":
        # RFC 8463: p= is the bare 32-byte key; openssl reads it once wrapped in the fixed
        # SubjectPublicKeyInfo prefix of an Ed25519 key.
        assert len(der) == 32, len(der)
        der = bytes.fromhex("302a300506032b6570032100") + der
    with tempfile.NamedTemporaryFile(suffix=".der") as f:
        f.write(der)
        f.flush()
        out = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", f.name,
                              "-noout", "-text"], capture_output=True, text=True, check=True)
    return tags, out.stdout


class DomainCommandsTest(h.ServerTestCase):
    def setUp(self):
        self.srv = self.start_server()
        self.srv.create_account(h.ACCOUNT_EMAIL)

    def test_add_prints_an_rsa_2048_record_that_dns_repeats(self):
        out = self.srv.operator("domain", "add", "Acme.Test", "--account", h.ACCOUNT_EMAIL)
        found, retired = records(out)
        self.assertEqual(set(found), {"sc1"}, out)
        self.assertEqual(retired, set())
        tags, text = public_key_bits(found["sc1"])
        self.assertEqual(tags["v"], "DKIM1")
        self.assertEqual(tags["k"], "rsa")
        self.assertIn("2048 bit", text)
        self.assertIn("acme.test", out)  # the domain is lower-cased
        self.assertIn("SPF", out)
        again, _ = records(self.srv.operator("domain", "dns", "acme.test"))
        self.assertEqual(again, found)

    def test_ed25519_record(self):
        out = self.srv.operator("domain", "add", "ed.test", "--account", h.ACCOUNT_EMAIL,
                                "--algorithm", "ed25519", "--selector", "mail")
        found, _ = records(out)
        self.assertEqual(set(found), {"mail"})
        tags, text = public_key_bits(found["mail"])
        self.assertEqual(tags["k"], "ed25519")
        self.assertIn("ED25519", text.upper())
        self.assertEqual(len(base64.b64decode(tags["p"])), 32)

    def test_rotate_keeps_the_old_selector_published_but_retired(self):
        first, _ = records(self.srv.operator("domain", "add", "acme.test", "--account",
                                             h.ACCOUNT_EMAIL))
        out = self.srv.operator("domain", "rotate", "acme.test")
        found, retired = records(out)
        self.assertEqual(set(found), {"sc1", "sc2"}, out)
        self.assertEqual(retired, {"sc1"})
        self.assertEqual(found["sc1"], first["sc1"])
        self.assertNotEqual(found["sc2"], found["sc1"])
        listing = self.srv.operator("domain", "list")
        self.assertRegex(listing, r"acme\.test\t" + re.escape(h.ACCOUNT_EMAIL) +
                         r"\tsc1\trsa\tretired ")
        self.assertRegex(listing, r"acme\.test\t\S+\tsc2\trsa\tsigning\t")
        # The signing key cannot be removed by selector; the retired one can.
        self.srv.operator("domain", "remove", "acme.test", "--selector", "sc2", check=False)
        self.assertIn("sc2", records(self.srv.operator("domain", "dns", "acme.test"))[0])
        self.srv.operator("domain", "remove", "acme.test", "--selector", "sc1")
        found, retired = records(self.srv.operator("domain", "dns", "acme.test"))
        self.assertEqual(set(found), {"sc2"})
        self.srv.operator("domain", "remove", "acme.test")
        r = subprocess.run([h.binary(), "domain", "dns", "acme.test", "--data-dir",
                            self.srv.data_dir], capture_output=True, text=True,
                           env=h.child_env())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no domain acme.test", r.stderr)

    def test_refusals_say_why(self):
        def fails(*args):
            r = subprocess.run([h.binary(), *args, "--data-dir", self.srv.data_dir],
                               capture_output=True, text=True, env=h.child_env())
            self.assertNotEqual(r.returncode, 0, r.stdout)
            return r.stderr

        self.assertIn("no account", fails("domain", "add", "a.test", "--account", "x@y.test"))
        self.assertIn("rsa or ed25519", fails("domain", "add", "a.test", "--account",
                                              h.ACCOUNT_EMAIL, "--algorithm", "dsa"))
        self.assertIn("a.test", fails("domain", "add", "a..test", "--account", h.ACCOUNT_EMAIL)
                      .replace("a..test", "a.test"))
        self.srv.operator("domain", "add", "a.test", "--account", h.ACCOUNT_EMAIL)
        self.assertIn("a.test", fails("domain", "add", "a.test", "--account", h.ACCOUNT_EMAIL))

    def test_no_private_key_is_printed_or_stored_in_clear(self):
        outputs = [self.srv.operator("domain", "add", "acme.test", "--account", h.ACCOUNT_EMAIL),
                   self.srv.operator("domain", "rotate", "acme.test", "--algorithm", "ed25519"),
                   self.srv.operator("domain", "list"), self.srv.operator("domain", "dns",
                                                                          "acme.test")]
        for out in outputs:
            self.assertNotIn("PRIVATE", out)
        db = sqlite3.connect(self.srv.db_path())
        try:
            for (blob,) in db.execute("SELECT private_key_sealed FROM dkim_keys"):
                self.assertNotIn(b"PRIVATE KEY", bytes(blob))
                self.assertNotIn(b"BEGIN", bytes(blob))
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
