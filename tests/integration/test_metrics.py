"""/metrics end to end (docs/operations.md "Metrics"): the Prometheus text changes after a
test-mode send reaches `sandbox`; `--metrics off` takes the path away."""

import re
import sqlite3
import time

import harness as h

STATE_TIMEOUT = 20


def sample(text, name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


class MetricsTest(h.ServerTestCase):
    def server(self, *args):
        data = self.temp_dir()
        srv = h.Server(data, args=list(args))
        creds = h.provision(srv)
        con = sqlite3.connect(srv.db_path())
        with con:
            con.execute("UPDATE api_users SET test_mode = 1")
        con.close()
        self.watch(srv)
        srv.start()
        return srv, creds

    def scrape(self, srv):
        r = h.get(srv.port, "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return r.body.decode()

    def test_values_change_after_a_send(self):
        srv, creds = self.server()
        before = self.scrape(srv)
        self.assertIn("# TYPE sendcloud_delivery_outcomes_total counter", before)
        self.assertIn("# TYPE sendcloud_queue_due gauge", before)
        self.assertIsNone(sample(before, "sendcloud_recipients", '{state="sandbox"}'))
        self.assertOk(h.post_form(srv.port, "/email/send", creds.email() + [
            ("from", "sender@example.com"), ("to", "a@example.com;b@example.com"),
            ("subject", "Hi"), ("plain", "Hi")]))
        deadline = time.monotonic() + STATE_TIMEOUT
        while True:
            text = self.scrape(srv)
            outcomes = sample(text, "sendcloud_delivery_outcomes_total",
                              '{channel="email",state="sandbox"}')
            recipients = sample(text, "sendcloud_recipients", '{state="sandbox"}')
            if outcomes == 2 and recipients == 2:
                break
            if time.monotonic() > deadline:
                self.fail(f"metrics did not show the two sandboxed recipients:\n{text}")
            time.sleep(0.1)  # polling the endpoint with a deadline (its stats are cached 1 s)

    def test_off_means_no_route(self):
        srv, _ = self.server("--metrics=false")
        self.assertEqual(h.get(srv.port, "/metrics").status, 404)
