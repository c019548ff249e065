"""Hashing never holds up an smtpd process: 200 SMTP AUTH logins in
parallel (yescrypt, the cache off) complete while an unauthenticated
session on the same smtpd process gets its NOOP replies at once.  The
probe's reply times are compared with the time of one login alone on this
machine (a bound for "not serialised behind the hashing", not a speed
measurement: that is make bench's)."""
import re
import statistics
import threading
import time
import unittest

from auth_util import b64
from smtpd_util import Conn
from tern_instance import Instance, wait_until

USER, PW = "alice@example.com", "parallel logins"
LOGINS = 200


class ParallelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main_cf={"auth_cache_ttl": "0", "smtpd_sasl_auth_enable": "yes",
                                     "smtpd_tls_auth_only": "no", "auth_worker_count": "2",
                                     "smtpd_client_connection_count_limit": "0"})
        # One smtpd process on the plain port, so every session shares it.
        path = cls.inst.etc + "/master.cf"
        with open(path) as f:
            text = f.read()
        text = re.sub(r"^(127\.0\.0\.1:%d\s+inet(\s+\S+){4}\s+)\d+" % cls.inst.smtp_port,
                      lambda m: m.group(1) + "1", text, count=1, flags=re.M)
        with open(path, "w") as f:
            f.write(text)
        cls.inst.user_add(USER, PW)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def login(self):
        c = Conn(self.inst.smtp_port, timeout=120)
        try:
            c.reply()
            c.ehlo()
            return c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PW)))[0]
        finally:
            c.close()

    def test_parallel_logins_do_not_stall_other_sessions(self):
        # Two smtpd processes: smtp (maxproc 1) and submission.
        wait_until(lambda: len(self.inst.pids_of("smtpd")) == 2, 10, what="smtpd processes")
        # One login alone: what a hash costs here, now.
        alone = []
        for _ in range(3):
            t0 = time.monotonic()
            self.assertEqual(self.login(), 235)
            alone.append(time.monotonic() - t0)
        one_hash = min(alone)

        probe = Conn(self.inst.smtp_port, timeout=60)
        probe.reply()
        probe.ehlo()
        codes, gaps = [], []
        start = threading.Barrier(LOGINS + 1)
        lock = threading.Lock()

        def worker():
            start.wait()
            code = self.login()
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=worker) for _ in range(LOGINS)]
        for t in threads:
            t.start()
        start.wait()
        t_start = time.monotonic()
        while any(t.is_alive() for t in threads) and time.monotonic() - t_start < 300:
            t0 = time.monotonic()
            self.assertEqual(probe.cmd("NOOP")[0], 250)
            gaps.append(time.monotonic() - t0)
            time.sleep(0.01)
        for t in threads:
            t.join(60)
        took = time.monotonic() - t_start
        probe.cmd("QUIT")
        probe.close()

        self.assertEqual(codes, [235] * LOGINS)
        # The hashing really ran meanwhile: 200 hashes on 2 workers.
        self.assertGreater(took, one_hash * LOGINS / 2 / 4)
        gaps.sort()
        median, p90 = statistics.median(gaps), gaps[int(len(gaps) * 0.9)]
        print("\n    one login %.0f ms; %d logins in %.1f s; probe replies: median %.1f ms, "
              "90%% %.1f ms, max %.1f ms (%d probes)" %
              (one_hash * 1000, LOGINS, took, median * 1000, p90 * 1000, gaps[-1] * 1000,
               len(gaps)))
        self.assertGreater(len(gaps), 20)
        self.assertLess(median, one_hash / 4)
        self.assertLess(p90, one_hash)
        self.assertLess(gaps[-1], 5.0)


if __name__ == "__main__":
    unittest.main()
