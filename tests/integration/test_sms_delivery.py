"""SMS delivery end to end (docs/delivery.md, docs/operations.md): sendcloudd accepts SMS over
HTTP and its SMS agent hands them to real peers on loopback, started and stopped here: an SMPP
SMSC (peers/smsc.py, on tests/sms/fake_smsc.py; why not Kannel's drive_smpp is said there) and
Kannel (bearerbox + smsbox + fakesmsc, configured by tests/sms/kannel.conf). States are read from
the server's database with sqlite3, as an operator would.
"""

import hashlib
import hmac
import json
import os
import queue
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import unittest

import harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
SMSC_PEER = os.path.join(HERE, "peers", "smsc.py")
KANNEL_CONF = os.path.join(HERE, "..", "sms", "kannel.conf")
PEER_TIMEOUT = 30.0
PHONE = "+14155550100"


def free_ports(n):
    """Distinct free loopback ports (each socket stays bound until all are picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((h.HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)  # polling the database with a deadline


def wait_for_port(port, timeout):
    def up():
        try:
            socket.create_connection((h.HOST, port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_until(up, timeout, f"a listener on port {port}")


class Process:
    """A peer process with its output read line by line into a queue (bounded waits only)."""

    def __init__(self, args, stdin=False):
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put(None)

    def next_line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def write(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=h.STOP_TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class Smsc(Process):
    """peers/smsc.py: JSON events out, JSON commands in."""

    def __init__(self, *args):
        super().__init__(["/usr/bin/python3", SMSC_PEER, *args], stdin=True)
        self.events = []
        first = self.next_event("listening")
        self.port = first["port"]

    def next_event(self, kind, timeout=PEER_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"the SMSC sent no '{kind}' event within {timeout}s")
            event = json.loads(line)
            self.events.append(event)
            if event["event"] == kind:
                return event

    def drain(self):
        """Every event so far, without waiting."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return self.events
            if line is not None:
                self.events.append(json.loads(line))

    def receipt(self, smsc_id, stat="DELIVRD", tlv=False, tlv_id=None):
        c = {"cmd": "receipt", "id": smsc_id, "stat": stat, "tlv": tlv}
        if tlv_id is not None:
            c["tlv_id"] = tlv_id
        self.write(json.dumps(c))
        self.next_event("done")


def smpp_route(port, window=10, name="carrier"):
    return f"""
[[sms_route]]
name = "{name}"
connector = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "acme"
source_addr = "Acme"
window = {window}
default = true
# The restart tests wait one reconnect delay, not the default 10 s.
reconnect_delay = "1s"
reconnect_max = "4s"
"""


def metric(text, name, labels=""):
    """One sample's value from a Prometheus text exposition, or None."""
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def scrape(srv):
    r = h.get(srv.port, "/metrics")
    assert r.status == 200, r
    return r.body.decode()


def wait_metric(srv, name, labels, predicate, what):
    """Scrapes until `predicate(value)` holds; returns the exposition."""
    found = {}

    def check():
        text = scrape(srv)
        found["text"] = text
        return predicate(metric(text, name, labels))
    try:
        wait_until(check, PEER_TIMEOUT, what)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{found.get('text', '')}") from None
    return found["text"]


def db_rows(db, sql, args=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=h.IO_TIMEOUT)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def states(db, ids):
    marks = ",".join("?" * len(ids))
    return dict(db_rows(db, f"SELECT id, state FROM recipients WHERE id IN ({marks})", ids))


def gsm_text(sm_hex):
    """An unpacked GSM-7 short_message of ASCII letters, digits and spaces, as text."""
    return bytes.fromhex(sm_hex).decode("ascii")


class SmsDeliveryCase(h.ServerTestCase):
    def start_sms_server(self, routes_toml, args=(), listen="127.0.0.1:0", data_dir=None):
        data_dir = data_dir or self.temp_dir()
        root = os.path.dirname(data_dir)
        config = os.path.join(root, "sendcloud.toml")
        with open(config, "w") as f:
            f.write(routes_toml)
        srv = h.Server(data_dir, args=["--config", config, "--retry-first", "1", *args],
                       listen=listen)
        self.watch(srv)
        srv.start()
        return srv

    def send_sms(self, srv, creds, to, message):
        info = self.assertOk(h.post_form(srv.port, "/smsapi/send",
                                         creds.sms() + [("to", to), ("message", message)]))
        return info["smsIds"]

    def wait_states(self, srv, ids, wanted, timeout=PEER_TIMEOUT, never=("failed",)):
        """Waits until every id is in `wanted`; fails at once if one reaches a state in `never`."""
        def check():
            got = states(srv.db_path(), ids)
            bad = {i: s for i, s in got.items() if s in never}
            if bad:
                raise AssertionError(f"reached {bad}")
            return len(got) == len(ids) and all(s == wanted for s in got.values())
        try:
            wait_until(check, timeout, f"{len(ids)} SMS to become {wanted}")
        except AssertionError as e:
            db = srv.db_path()
            raise AssertionError(
                f"{e}\nstates: {states(db, ids)}\n"
                f"smsc_ids: {db_rows(db, 'SELECT * FROM smsc_ids')[:20]}\n"
                f"pending_receipts: {db_rows(db, 'SELECT * FROM pending_receipts')[:20]}\n"
                f"attempts: {db_rows(db, 'SELECT * FROM delivery_attempts')[-10:]}\n"
                f"stderr: {srv.stderr_text()[-3000:]}") from None

    def smsc_ids(self, srv, rid):
        return [r[0] for r in db_rows(srv.db_path(), "SELECT smsc_id FROM smsc_ids WHERE "
                                      "recipient_id = ? AND exact = 1 ORDER BY part", (rid,))]


class SmppDeliveryTest(SmsDeliveryCase):
    def start_smsc(self, *args):
        smsc = Smsc(*args)
        self.addCleanup(smsc.kill)
        return smsc

    def test_text_number_gsm7_ucs2_and_a_long_text_then_receipts(self):
        smsc = self.start_smsc("--ids", "hex")
        srv = self.start_sms_server(smpp_route(smsc.port))
        creds = h.provision(srv)
        self.assertEqual(smsc.next_event("bind")["system_id"], "acme")

        [gsm] = self.send_sms(srv, creds, PHONE, "Hello {world} €")
        submit = smsc.next_event("submit")
        self.assertEqual((submit["dest"], submit["dest_ton"], submit["source"]),
                         ("14155550100", 1, "Acme"))
        self.assertEqual(submit["coding"], 0)
        # GSM 03.38 unpacked, with the extension table's escapes for { } and €.
        self.assertEqual(submit["sm"], "48656c6c6f201b28776f726c641b29201b65")
        self.assertEqual(submit["registered"], 1)

        [ucs2] = self.send_sms(srv, creds, "+447911123456", "Привет")
        submit = smsc.next_event("submit")
        self.assertEqual((submit["dest"], submit["coding"]), ("447911123456", 8))
        self.assertEqual(bytes.fromhex(submit["sm"]).decode("utf-16-be"), "Привет")

        text = " ".join(f"word{i:03d}" for i in range(25))  # 199 GSM-7 characters: 2 parts
        [long_id] = self.send_sms(srv, creds, PHONE, text)
        parts = [smsc.next_event("submit"), smsc.next_event("submit")]
        refs = set()
        for n, p in enumerate(parts, 1):
            self.assertEqual(p["esm"], 0x40, "UDH indicator")
            self.assertEqual(p["registered"], 1, "every part asks for a receipt")
            udh = p["sm"][:12]
            self.assertEqual(udh[:6], "050003")  # IEI 0: concatenation, 8-bit reference
            self.assertEqual(udh[8:], f"02{n:02x}")
            refs.add(udh[6:8])
        self.assertEqual(len(refs), 1, "one reference for both parts")
        self.assertEqual(gsm_text(parts[0]["sm"][12:]) + gsm_text(parts[1]["sm"][12:]), text)

        self.wait_states(srv, [gsm, ucs2, long_id], "submitted")
        ids = self.smsc_ids(srv, long_id)
        self.assertEqual([i.upper() for i in ids], [parts[0]["id"], parts[1]["id"]])

        # Receipts: the first SMS's id spelled in decimal, the second's in lower case with a
        # leading zero (the TLV form); the long SMS's parts one by one.
        smsc.receipt(str(int(self.smsc_ids(srv, gsm)[0], 16)))
        smsc.receipt("999", tlv=True, tlv_id="0" + self.smsc_ids(srv, ucs2)[0].lower())
        self.wait_states(srv, [gsm, ucs2], "delivered")
        smsc.receipt(parts[0]["id"])
        wait_until(lambda: db_rows(srv.db_path(), "SELECT stat FROM smsc_ids WHERE recipient_id=? "
                                   "AND part=0 AND exact=1", (long_id,)) == [("DELIVRD",)],
                   PEER_TIMEOUT, "the first part's receipt to be recorded")
        self.assertEqual(states(srv.db_path(), [long_id])[long_id], "submitted",
                         "one part of two reported: not delivered yet")
        smsc.receipt(str(int(parts[1]["id"], 16)))
        self.wait_states(srv, [long_id], "delivered")
        self.assertEqual(srv.stop(), 0)

    def test_an_sms_user_sends_over_the_route_it_chose(self):
        default, chosen = self.start_smsc(), self.start_smsc()
        # "premium" is no default and has no prefixes: only a user's choice sends over it.
        routes = smpp_route(default.port, name="bulk") + smpp_route(
            chosen.port, name="premium").replace("default = true", "default = false")
        srv = self.start_sms_server(routes)
        config = os.path.join(os.path.dirname(srv.data_dir), "sendcloud.toml")
        creds = h.provision(srv)
        default.next_event("bind")
        chosen.next_event("bind")

        [first] = self.send_sms(srv, creds, PHONE, "by default")
        self.assertEqual(gsm_text(default.next_event("submit")["sm"]), "by default")

        # An unknown route is refused, naming the routes there are.
        r = subprocess.run([h.binary(), "sms-user", "set-route", creds.sms_user, "nope",
                            "--data-dir", srv.data_dir, "--config", config],
                           capture_output=True, text=True, env=h.child_env())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("bulk, premium", r.stderr)

        out = h.run_operator(srv.data_dir, "sms-user", "set-route", creds.sms_user, "premium",
                             "--config", config)
        self.assertIn("sends over route premium", out)
        # A running server reads a user's choice at most 30 s old; a restart reads it at once.
        self.assertEqual(srv.stop(), 0)
        srv.start()
        chosen.next_event("bind")
        [second] = self.send_sms(srv, creds, PHONE, "by choice")
        self.assertEqual(gsm_text(chosen.next_event("submit")["sm"]), "by choice")
        self.wait_states(srv, [first, second], "submitted")
        self.assertEqual([gsm_text(e["sm"]) for e in default.drain() if e["event"] == "submit"],
                         ["by default"])

        # "" gives the number's prefix and the default route back.
        h.run_operator(srv.data_dir, "sms-user", "set-route", creds.sms_user, "",
                       "--config", config)
        self.assertEqual(db_rows(srv.db_path(), "SELECT sms_route FROM api_users WHERE name = ?",
                                 (creds.sms_user,)), [("",)])
        self.assertEqual(srv.stop(), 0)

    def test_a_receipt_before_the_submit_is_recorded_is_matched(self):
        # The SMSC sends each receipt (id in decimal) before its submit_sm_resp (id in hex).
        smsc = self.start_smsc("--ids", "hex", "--receipt-first")
        srv = self.start_sms_server(smpp_route(smsc.port))
        creds = h.provision(srv)
        ids = self.send_sms(srv, creds, "+14155550100,+14155550101", "early receipt")
        self.assertEqual(len(ids), 2)
        for _ in ids:
            smsc.next_event("receipt_sent")
        self.wait_states(srv, ids, "delivered")
        self.assertEqual(db_rows(srv.db_path(), "SELECT COUNT(*) FROM pending_receipts"), [(0,)],
                         "every early receipt was matched at its submit")

    def test_a_throttling_smsc_pauses_the_route_and_nothing_fails(self):
        # 8 throttled answers: more than the route retries one message in place (5), so one
        # goes back to the queue deferred and is retried from there.
        smsc = self.start_smsc("--throttle", "8")
        srv = self.start_sms_server(smpp_route(smsc.port, window=1))
        creds = h.provision(srv)
        ids = self.send_sms(srv, creds, "+14155550100,+14155550101,+14155550102", "slow down")
        self.wait_states(srv, ids, "submitted", timeout=45)
        submits = [e for e in smsc.drain() if e["event"] == "submit"]
        self.assertEqual([e["status"] for e in submits[:8]], [0x58] * 8)
        self.assertEqual(sorted(e["dest"] for e in submits if e["status"] == 0),
                         ["14155550100", "14155550101", "14155550102"])
        outcomes = [r[0] for r in db_rows(srv.db_path(), "SELECT outcome FROM delivery_attempts")]
        self.assertIn("deferred", outcomes, "the long-throttled message went back to the queue")
        self.assertNotIn("failed", outcomes)
        route = '{route="carrier"}'
        text = scrape(srv)
        self.assertEqual(metric(text, "sendcloud_sms_throttle_pauses_total", route), 8.0, text)
        self.assertEqual(metric(text, "sendcloud_sms_route_bound", route), 1.0, text)
        self.assertEqual(metric(text, "sendcloud_sms_binds_total",
                                '{route="carrier",result="up"}'), 1.0, text)
        # One latency observation per submit_sm_resp, the throttled ones too.
        self.assertEqual(metric(text, "sendcloud_sms_submit_seconds_count", route),
                         float(len(submits)), text)
        self.assertEqual(metric(text, "sendcloud_sms_submit_seconds_bucket",
                                '{route="carrier",le="+Inf"}'), float(len(submits)), text)
        self.assertEqual(metric(text, "sendcloud_sms_window_in_use", route), 0.0, text)

    def test_the_smsc_stopped_mid_run_rebinds_and_loses_nothing(self):
        smsc = self.start_smsc("--answer", "3")
        srv = self.start_sms_server(smpp_route(smsc.port, window=4))
        creds = h.provision(srv)
        numbers = [f"+1415555{n:04d}" for n in range(100, 112)]
        ids = self.send_sms(srv, creds, ",".join(numbers), "through a restart")
        for _ in range(3 + 4):  # 3 answered, then a full window left hanging
            smsc.next_event("submit")
        route = '{route="carrier"}'
        wait_metric(srv, "sendcloud_sms_window_in_use", route, lambda v: v == 4,
                    "the window of 4 unanswered submits in /metrics")
        port = smsc.port
        smsc.kill()
        wait_metric(srv, "sendcloud_sms_route_bound", route, lambda v: v == 0,
                    "the route to show unbound")
        smsc2 = self.start_smsc("--port", str(port))
        # Rebinds after the route's 1 s reconnect delay (the default of 10 s would take longer
        # than this).
        smsc2.next_event("bind", timeout=8)
        text = wait_metric(srv, "sendcloud_sms_route_bound", route, lambda v: v == 1,
                           "the route to show bound again")
        self.assertGreaterEqual(metric(text, "sendcloud_sms_binds_total",
                                       '{route="carrier",result="up"}'), 2.0, text)
        self.assertGreaterEqual(metric(text, "sendcloud_sms_binds_total",
                                       '{route="carrier",result="down"}'), 1.0, text)
        self.wait_states(srv, ids, "submitted", timeout=45)
        accepted = {e["dest"] for e in smsc.events + smsc2.drain()
                    if e["event"] == "submit" and e.get("status") == 0}
        self.assertEqual(accepted, {n[1:] for n in numbers})

    def test_kill_9_mid_batch_then_every_accepted_sms_is_submitted(self):
        smsc = self.start_smsc("--answer", "40")
        data_dir = self.temp_dir()
        srv = self.start_sms_server(smpp_route(smsc.port), data_dir=data_dir)
        creds = h.provision(srv)
        numbers = [f"+1415555{n:04d}" for n in range(100, 120)]
        ids = []
        for batch in range(15):  # 300 SMS
            ids += self.send_sms(srv, creds, ",".join(numbers), f"batch {batch:02d}")
        self.assertEqual(len(set(ids)), 300)
        for _ in range(40 + 10):  # 40 answered, then the window full and unanswered
            smsc.next_event("submit")
        srv.kill()  # SIGKILL
        port = smsc.port
        smsc.kill()
        smsc2 = self.start_smsc("--port", str(port))
        srv.start()
        self.wait_states(srv, ids, "submitted", timeout=60)
        submitted = {(e["dest"], gsm_text(e["sm"])) for e in smsc.events + smsc2.drain()
                     if e["event"] == "submit" and e.get("status") == 0}
        self.assertEqual(submitted, {(n[1:], f"batch {b:02d}") for n in numbers
                                     for b in range(15)})
        self.assertEqual(len(h.recipients(srv.db_path())), 300)


class KannelDeliveryTest(SmsDeliveryCase):
    """bearerbox + smsbox from tests/sms/kannel.conf, fakesmsc as the carrier."""

    def setUp(self):
        root = h.make_temp_root("sendcloudd-kannel-")
        self.dir = root
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        (self.fakesmsc_port, self.sendsms_port, self.smsbox_port, admin_port,
         self.http_port) = free_ports(5)
        with open(KANNEL_CONF) as f:
            conf = f.read()
        values = {"ADMIN_PORT": admin_port, "ADMIN_PASSWORD": "admin-pass-for-tests",
                  "SMSBOX_PORT": self.smsbox_port, "FAKESMSC_PORT": self.fakesmsc_port,
                  "SENDSMS_PORT": self.sendsms_port, "SENDSMS_PASSWORD": "sendsms-pass",
                  "DIR": root}
        for k, v in values.items():
            conf = conf.replace(f"@{k}@", str(v))
        self.conf = os.path.join(root, "kannel.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.password_file = os.path.join(root, "kannel.pass")
        with open(self.password_file, "w") as f:
            f.write("sendsms-pass\n")
        self.bearerbox = self.peer(["/usr/sbin/bearerbox", self.conf])
        wait_for_port(self.smsbox_port, PEER_TIMEOUT)
        self.smsbox = self.peer(["/usr/sbin/smsbox", self.conf])
        self.fakesmsc = self.peer(["/usr/lib/kannel/test/fakesmsc", "-H", h.HOST, "-r",
                                   str(self.fakesmsc_port), "-i", "100000", "-m", "0",
                                   "x y text unused"])
        self.wait_smsbox_connected(1)

    def peer(self, args):
        p = Process(args)
        self.addCleanup(p.kill)
        return p

    def wait_smsbox_connected(self, n):
        """smsbox answers sendsms before it is connected to bearerbox (and panics on a request
        then, Kannel 1.4.5): wait for its n-th "Connected to bearerbox"."""
        log = os.path.join(self.dir, "smsbox.log")

        def connected():
            if not os.path.exists(log):
                return False
            with open(log, errors="replace") as f:
                return f.read().count("Connected to bearerbox") >= n
        wait_until(connected, PEER_TIMEOUT, f"smsbox's connection #{n} to bearerbox")

    def next_message(self, timeout=PEER_TIMEOUT):
        """The next MT message fakesmsc logs: '<from to text ...>'."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.fakesmsc.next_line(max(0.0, deadline - time.monotonic()))
            if line and "Got message" in line:
                return line[line.index("<", line.index("Got message")):].strip()
        raise AssertionError("fakesmsc received no message")

    def start_kannel_server(self):
        route = f"""
[[sms_route]]
name = "kannel"
connector = "kannel"
url = "http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
username = "sendcloud"
password_file = "{self.password_file}"
source_addr = "Acme"
default = true
"""
        srv = self.start_sms_server(
            route, args=["--public-url", f"http://127.0.0.1:{self.http_port}"],
            listen=f"127.0.0.1:{self.http_port}")
        return srv, h.provision(srv)

    def test_text_and_number_arrive_and_the_dlr_makes_it_delivered(self):
        srv, creds = self.start_kannel_server()
        [rid] = self.send_sms(srv, creds, PHONE, "Hello € world")
        self.assertEqual(self.next_message(), "<Acme +14155550100 text Hello € world>")
        self.wait_states(srv, [rid], "delivered")
        # Kannel called our endpoint with the route's token, which the access log masks.
        dlr = [l for l in srv.access_lines() if "/sms/dlr/kannel/kannel" in l]
        self.assertTrue(dlr, srv.stderr_text()[-3000:])
        self.assertTrue(all("token=***" in l for l in dlr), dlr)
        token = kannel_dlr_token(srv.data_dir, "kannel")
        self.assertNotIn(token, srv.stderr_text())
        self.assertNotIn("sendsms-pass", srv.stderr_text())
        # The sendsms request and its answer in the route's latency; no bind to show.
        text = scrape(srv)
        self.assertEqual(metric(text, "sendcloud_sms_submit_seconds_count", '{route="kannel"}'),
                         1.0, text)
        self.assertEqual(metric(text, "sendcloud_sms_window_in_use", '{route="kannel"}'), 0.0,
                         text)
        self.assertIsNone(metric(text, "sendcloud_sms_route_bound", '{route="kannel"}'), text)
        self.assertEqual(srv.stop(), 0)

    def test_kannel_stopped_mid_run_defers_then_delivers_once_back(self):
        srv, creds = self.start_kannel_server()
        [first] = self.send_sms(srv, creds, PHONE, "before")
        self.assertEqual(self.next_message(), "<Acme +14155550100 text before>")
        self.wait_states(srv, [first], "delivered")
        self.smsbox.kill()  # sendsms refuses connections now
        [rid] = self.send_sms(srv, creds, PHONE, "while Kannel is down")
        self.wait_states(srv, [rid], "deferred")
        self.smsbox = self.peer(["/usr/sbin/smsbox", self.conf])
        self.wait_smsbox_connected(2)
        self.assertEqual(self.next_message(timeout=45),
                         "<Acme +14155550100 text while Kannel is down>")
        self.wait_states(srv, [rid], "delivered")
        outcomes = [r[0] for r in db_rows(srv.db_path(), "SELECT outcome FROM delivery_attempts "
                                          "WHERE recipient_id = ? ORDER BY id", (rid,))]
        self.assertEqual(outcomes[0], "deferred")
        self.assertIn("submitted", outcomes)
        self.assertNotIn("sendsms-pass", srv.stderr_text())
        self.assertNotIn(kannel_dlr_token(srv.data_dir, "kannel"), srv.stderr_text())


def kannel_dlr_token(data_dir, route):
    """What sendcloudd puts in a kannel route's dlr-url: HMAC-SHA256("kannel-dlr:" + route)
    under the server secret's hashing subkey (libsodium's crypto_kdf: BLAKE2b keyed by the
    secret, salt = subkey id 1, personal "apikeyhm"; src/auth/key_material.cpp)."""
    with open(os.path.join(data_dir, "server.secret")) as f:
        secret = bytes.fromhex(f.read().strip())
    subkey = hashlib.blake2b(b"", digest_size=32, key=secret,
                             salt=(1).to_bytes(8, "little") + bytes(8),
                             person=b"apikeyhm" + bytes(8)).digest()
    return hmac.new(subkey, b"kannel-dlr:" + route.encode(), hashlib.sha256).hexdigest()


class DlrEndpointAndStartTest(SmsDeliveryCase):
    """No peer needed: the endpoint's authentication and what the server says at start."""

    KANNEL_ROUTE = """
[[sms_route]]
name = "kannel"
connector = "kannel"
url = "http://127.0.0.1:9/cgi-bin/sendsms"
username = "sendcloud"
password_file = "{password_file}"
dlr_base_url = "http://gateway.example:8080/"
default = true
"""

    def kannel_route(self):
        path = os.path.join(os.path.dirname(self.temp_dir()), "kannel.pass")
        with open(path, "w") as f:
            f.write("sendsms-pass\n")
        return self.KANNEL_ROUTE.format(password_file=path)

    def test_a_report_needs_the_route_token(self):
        srv = self.start_sms_server(self.kannel_route())
        token = kannel_dlr_token(srv.data_dir, "kannel")
        path = "/sms/dlr/kannel/kannel"
        self.assertError(h.get(srv.port, path, {"token": "0" * 64, "id": "x", "type": "1"}),
                         403, "dlr.bad_token")
        self.assertError(h.get(srv.port, path, {"id": "x", "type": "1"}), 403, "dlr.bad_token")
        self.assertError(h.get(srv.port, path, {"token": token, "type": "1"}), 400,
                         "dlr.malformed")
        self.assertEqual(h.get(srv.port, "/sms/dlr/kannel/other", {"token": token}).status, 404)
        # The right token: a report for an id not (yet) submitted waits to be matched.
        r = h.get(srv.port, path, {"token": token, "id": "m-unknown", "type": "1"})
        self.assertEqual((r.status, r.body), (200, b"OK\n"))
        self.assertEqual(db_rows(srv.db_path(), "SELECT route, smsc_id, stat FROM pending_receipts"),
                         [("kannel", "m-unknown", "DELIVRD")])
        # The access line is written after the answer: wait for the fourth.
        lines = wait_until(lambda: [l for l in srv.access_lines() if path in l][3:] and
                           [l for l in srv.access_lines() if path in l], h.IO_TIMEOUT,
                           "four access lines for the endpoint")
        self.assertEqual(len(lines), 4)
        self.assertTrue(all("token=***" in l for l in lines if "token" in l), lines)
        self.assertNotIn(token, srv.stderr_text())

    def test_no_route_leaves_sms_queued_and_says_so(self):
        srv = self.start_sms_server("")
        srv.wait_for_stderr(r"no \[\[sms_route\]\] in the configuration; SMS stay queued")
        creds = h.provision(srv)
        [rid] = self.send_sms(srv, creds, PHONE, "nowhere to go")
        self.assertEqual(states(srv.db_path(), [rid]), {rid: "queued"})

    def test_delivery_off_starts_no_route(self):
        smsc = Smsc()
        self.addCleanup(smsc.kill)
        srv = self.start_sms_server(smpp_route(smsc.port), args=["--delivery", "off"])
        creds = h.provision(srv)
        [rid] = self.send_sms(srv, creds, PHONE, "API-only node")
        self.assertEqual(srv.stop(), 0)
        self.assertNotIn("sms delivery: routes", srv.stderr_text())
        self.assertEqual([e["event"] for e in smsc.drain()], ["listening"],
                         "no bind, no submit from an API-only node")
        self.assertEqual(states(srv.db_path(), [rid]), {rid: "queued"})

    def test_a_kannel_route_without_a_dlr_url_stops_the_start(self):
        route = self.kannel_route().replace('dlr_base_url = "http://gateway.example:8080/"\n', "")
        with self.assertRaises(h.ServerError) as e:
            self.start_sms_server(route)
        self.assertIn("sms_route 'kannel': a kannel route needs dlr_base_url or --public-url",
                      str(e.exception))


if __name__ == "__main__":
    unittest.main()
