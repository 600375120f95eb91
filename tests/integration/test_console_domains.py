"""Sending domains through the console's management API (docs/api.md "Console: sending
domains"): add, list with each DKIM record and what DNS says about it (dnsmasq on loopback serves
the TXT records: missing, a different value, then the right one), rotate, remove; another account
sees none of it and cannot touch it; a change needs the session's CSRF token."""

import unittest

import harness as h
from test_email_delivery import Dnsmasq, free_port
from test_management_api import Console, set_password

PASSWORD = "console password of the owner"
RIVAL = "rival@example.com"


def txt_record(name, value):
    # dnsmasq: one record of several character-strings (each at most 255 octets), as a DKIM key
    # is published.
    chunks = [value[i:i + 200] for i in range(0, len(value), 200)]
    return f"--txt-record={name}," + ",".join(chunks)


class ConsoleDomainsTest(h.ServerTestCase):
    def setUp(self):
        self.dns_port = free_port()  # dnsmasq comes and goes on it during the test
        self.srv = self.start_server(args=["--dns-servers", f"127.0.0.1:{self.dns_port}",
                                           "--delivery", "off"])
        h.provision(self.srv)
        set_password(self.srv, h.ACCOUNT_EMAIL, PASSWORD)
        self.srv.create_account(RIVAL)
        set_password(self.srv, RIVAL, PASSWORD)
        self.owner = Console(self.srv.port)
        self.assertEqual(self.owner.login(h.ACCOUNT_EMAIL, PASSWORD).status, 200)
        self.rival = Console(self.srv.port)
        self.assertEqual(self.rival.login(RIVAL, PASSWORD).status, 200)

    def dns(self, *records):
        d = Dnsmasq(*records, port=self.dns_port)
        self.addCleanup(d.kill)
        return d

    def statuses(self):
        r = self.owner.get("domains")
        self.assertEqual(r.status, 200, r)
        [domain] = r.json["info"]["domains"]
        return [(k["selector"], k["active"], k["dns"]["status"]) for k in domain["keys"]]

    def test_add_check_dns_rotate_and_remove(self):
        r = self.owner.post("domains", {"domain": "Acme.TEST", "algorithm": "rsa"})
        self.assertEqual(r.status, 200, r)
        domain = r.json["info"]["domain"]
        self.assertEqual(domain["domain"], "acme.test")
        [key] = domain["keys"]
        self.assertEqual(key["dns"]["name"], "sc1._domainkey.acme.test")
        self.assertRegex(key["dns"]["value"], r"^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$")
        value = key["dns"]["value"]

        # No DNS server answering yet; then one without the record; then a wrong value; then it.
        self.assertEqual(self.statuses(), [("sc1", True, "unknown")])
        d = self.dns()
        self.assertEqual(self.statuses(), [("sc1", True, "missing")])
        d.kill()
        d = self.dns(txt_record("sc1._domainkey.acme.test", value.replace("p=M", "p=X")))
        self.assertEqual(self.statuses(), [("sc1", True, "different")])
        d.kill()
        d = self.dns(txt_record("sc1._domainkey.acme.test", value))
        self.assertEqual(self.statuses(), [("sc1", True, "published")])

        r = self.owner.post("domains/acme.test/rotate", {"algorithm": "ed25519"})
        self.assertEqual(r.status, 200, r)
        keys = r.json["info"]["domain"]["keys"]
        self.assertEqual([(k["selector"], k["active"], k["algorithm"]) for k in keys],
                         [("sc2", True, "ed25519"), ("sc1", False, "rsa")])
        self.assertRegex(keys[0]["dns"]["value"], r"^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]{40,}$")
        # The retired key is still published; the new one is not yet.
        self.assertEqual(self.statuses(), [("sc2", True, "missing"), ("sc1", False, "published")])

        r = self.owner.delete("domains/acme.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.owner.get("domains").json["info"]["domains"], [])

    def test_another_account_sees_nothing_and_changes_nothing(self):
        self.assertEqual(self.owner.post("domains", {"domain": "acme.test"}).status, 200)
        self.assertEqual(self.rival.get("domains").json["info"]["domains"], [])
        for r in (self.rival.post("domains/acme.test/rotate", {}),
                  self.rival.delete("domains/acme.test")):
            self.assertError(r, 404, "console.not_found")
        # Registered once, whoever asks.
        r = self.rival.post("domains", {"domain": "acme.test"})
        self.assertError(r, 409, "console.domain_exists")
        self.assertEqual(len(self.owner.get("domains").json["info"]["domains"]), 1)

    def test_changes_need_the_csrf_token_and_a_valid_request(self):
        r = self.owner.post("domains", {"domain": "acme.test"}, csrf=False)
        self.assertError(r, 403, "console.csrf_failed")
        r = self.owner.post("domains", {"domain": "acme.test", "algorithm": "dsa"})
        self.assertError(r, 400, "console.bad_request")
        r = self.owner.post("domains", {"domain": "not a domain"})
        self.assertError(r, 400, "console.bad_request")
        r = self.owner.call("PATCH", "domains/acme.test", {})
        self.assertEqual(r.status, 405, r)
        r = h.request(self.srv.port, "GET", "/console/api/domains")
        self.assertError(r, 401, "console.session_required")
        self.assertEqual(self.owner.get("domains").json["info"]["domains"], [])


if __name__ == "__main__":
    unittest.main()
