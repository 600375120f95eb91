"""A server started with few file descriptors (`prlimit --nofile`, as the attack in issue #11 ran
it with `ulimit -n 64`): it lowers its connection cap to what the limit allows and says so, idle
connections past the cap are answered 503 at once instead of the server running out of
descriptors (out of descriptors, accept failed in a loop that logged ~183,000 lines a second and
served no one), nothing floods the log, and once the idle connections go a normal client is served.
The accept loop's back-off itself is tested in tests/unit/http/server_test.cpp."""

import re
import shutil
import time
import unittest

import harness as h

NOFILE = 128
EXTRA = 20


class LimitedServer(h.Server):
    def command(self):
        return ["prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"] + super().command()


class DescriptorLimitTest(h.ServerTestCase):
    def test_a_low_descriptor_limit_gives_503s_not_a_flood(self):
        if shutil.which("prlimit") is None:
            self.fail("prlimit (util-linux) is needed for this test")
        srv = LimitedServer(self.temp_dir(), args=["--delivery", "off"])
        self.watch(srv)
        srv.start()
        m = re.search(r"max_connections lowered from 10000 to (\d+): the descriptor limit is "
                      rf"{NOFILE}", srv.stderr_text())
        self.assertIsNotNone(m, srv.stderr_text()[-2000:])
        cap = int(m.group(1))
        self.assertLess(cap, NOFILE)

        # Idle connections take every slot (accepted in the order they connected)...
        held = []
        for _ in range(cap):
            s = h.connect(srv.port)
            self.addCleanup(s.close)
            held.append(s)
        # ...so the next ones are answered at once with 503 and closed, never left hanging.
        for _ in range(EXTRA):
            with h.connect(srv.port) as s, s.makefile("rb") as f:
                r = h.read_response(f)
                self.assertIsNotNone(r, "a connection past the cap was closed without an answer")
                self.assertError(r, 503, "server.too_many_connections")
                self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertLessEqual(srv.stderr_text().count("accept failed"), 3, srv.stderr_text()[-2000:])

        # The idle connections go; a normal client is served again.
        for s in held:
            s.close()
        deadline = h._deadline(10)
        while True:
            r = h.get(srv.port, "/healthz")
            if r is not None and r.status == 200:
                break
            self.assertGreater(h._remaining(deadline), 0, f"still refused: {r}")
            time.sleep(0.02)  # polling with a deadline


if __name__ == "__main__":
    unittest.main()
