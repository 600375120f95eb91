"""Every acknowledged send survives SIGKILL (docs/architecture.md, "A send, step by step": the 200 goes out after the commit)."""

import concurrent.futures
import http.client
import unittest

import harness as h

THREADS = 16
PER_THREAD = 25
PHONES = ["+14155550100", "+14155550101", "+447911123456", "+4915123456789"]


class DurabilityTest(h.ServerTestCase):
    def test_acknowledged_ids_survive_sigkill(self):
        srv = self.start_server()
        creds = h.provision(srv)
        port = srv.port

        def worker(t):
            """One keep-alive connection; returns [(id, expected address)]."""
            conn = http.client.HTTPConnection(h.HOST, port, timeout=h.IO_TIMEOUT)
            acked = []
            try:
                for i in range(PER_THREAD):
                    n = (t + i) % 3 + 1  # 1..3 recipients
                    if i % 2 == 0:
                        to = [f"t{t}.r{i}.{k}@example.com" for k in range(n)]
                        params = creds.email() + [("from", "news@example.com"),
                                                  ("to", ";".join(to)),
                                                  ("subject", f"t{t} r{i}"), ("plain", "x")]
                        path, key = "/email/send", "emailIdList"
                    else:
                        to = PHONES[:n]
                        params = creds.sms() + [("to", ",".join(to)),
                                                ("message", f"t{t} r{i}")]
                        path, key = "/smsapi/send", "smsIds"
                    if i % 4 < 2:
                        r = h.get(port, path, params, conn=conn)
                    else:
                        r = h.post_form(port, path, params, conn=conn)
                    if r.status != 200 or not r.json or r.json.get("result") is not True:
                        raise AssertionError(f"thread {t} request {i}: {r}")
                    ids = r.json["info"][key]
                    if len(ids) != n:
                        raise AssertionError(f"{n} recipients, {len(ids)} ids: {r}")
                    acked += list(zip(ids, to))
            finally:
                conn.close()
            return acked

        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(worker, range(THREADS)))
        # Right after the last 200: no chance for a lazy flush.
        srv.kill()

        acked = [pair for r in results for pair in r]
        ids = [i for i, _ in acked]
        self.assertEqual(len(acked), sum(((t + i) % 3 + 1) for t in range(THREADS)
                                         for i in range(PER_THREAD)))
        self.assertEqual(len(set(ids)), len(ids), "ids must be unique")

        # Restart on the same data dir: the server must open and recover the database.
        srv.start()
        self.assertOk(h.get(srv.port, "/readyz"))
        rows = h.recipients(srv.db_path())
        missing = [i for i in ids if i not in rows]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged ids are not stored")
        for rid, address in acked:
            self.assertEqual(rows[rid][1], address, rid)
        self.assertEqual(len(rows), len(ids), "the table holds rows nobody was told about")
        self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
