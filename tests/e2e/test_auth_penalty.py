"""Failure penalties shared by every protocol (auth(8)): a brute force from
one address gets growing delays and then refusals (454 4.7.0), while
another address logs in normally, and the counters survive a restart of
auth (they live in data_directory/auth_penalty.lmdb)."""
import os
import re
import signal
import time
import unittest

from auth_util import fail2ban_matches, failure_lines, smtp_plain
from tern_instance import Instance, wait_until

ATTACKER = "127.0.0.2"
USER, PW = "alice@example.com", "the right one"


class PenaltyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main_cf={"auth_failure_delay": "1s", "auth_failure_delay_max": "2s",
                                     "auth_failure_limit": "10", "auth_failure_window": "10m"})
        cls.inst.user_add(USER, PW)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def attempt(self, password, source):
        t0 = time.monotonic()
        code, text = smtp_plain(self.inst, USER, password, source=source)
        return code, text, time.monotonic() - t0

    def test_brute_force(self):
        results = [self.attempt("guess %d" % i, ATTACKER) for i in range(30)]
        codes = [r[0] for r in results]
        # Ten failures are answered 535, each after its delay: 1 s, then 2 s.
        self.assertEqual(codes[:10], [535] * 10, results)
        # The delays auth applied grow (1 s, then 2 s: auth_failure_delay_max),
        # and each reply really waited that long.
        delays = [int(d) for d in re.findall(r"failures=\d+, delay=(\d+)ms",
                                             "\n".join(failure_lines(self.inst, ATTACKER)))]
        self.assertEqual(delays, [1000] + [2000] * 9)
        for (code, text, took), delay in zip(results, delays):
            self.assertGreaterEqual(took, delay / 1000 - 0.05)
        # Then the address is refused with a temporary error, without hashing.
        self.assertEqual(codes[10:], [454] * 20, results)
        self.assertIn("4.7.0", results[10][1])
        self.assertIn("too many failed logins", results[10][1])
        self.assertLess(max(r[2] for r in results[10:]), 5.0)
        # Only the ten counted failures are fail2ban lines; refusals are not.
        self.assertEqual(len(failure_lines(self.inst, ATTACKER)), 10)
        matched, out = fail2ban_matches(self.inst.log())
        self.assertEqual(matched, 10, out)

        # Another address logs in normally, the attacked account included.
        code, text, took = self.attempt(PW, "127.0.0.1")
        self.assertEqual(code, 235, text)
        self.assertLess(took, 5.0)
        # The refused address is refused even with the right password.
        self.assertEqual(self.attempt(PW, ATTACKER)[0], 454)

        # The counters survive auth's restart.
        old = self.inst.pids_of("auth")
        os.kill(old[0], signal.SIGTERM)
        wait_until(lambda: self.inst.pids_of("auth") not in ([], old), 30, what="auth restart")
        wait_until(lambda: self.attempt(PW, "127.0.0.1")[0] == 235, 30,
                   what="logins after the restart")
        code, text, _ = self.attempt(PW, ATTACKER)
        self.assertEqual(code, 454, text)
        self.assertIn("penalty(alice@example.com,%s," % ATTACKER, self.inst.log())


class ExemptTest(unittest.TestCase):
    """auth_failure_exceptions: trusted networks get no delay and no refusal."""

    def test_exempt_network(self):
        # A long delay, so that "no delay" stands out from a slow hash on
        # a loaded machine under ASan.
        inst = Instance(main_cf={"auth_failure_delay": "10s", "auth_failure_limit": "2",
                                 "auth_failure_exceptions": "127.0.0.5/32"})
        try:
            inst.user_add(USER, PW)
            inst.start()
            for i in range(4):
                t0 = time.monotonic()
                self.assertEqual(smtp_plain(inst, USER, "wrong", source="127.0.0.5")[0], 535)
                self.assertLess(time.monotonic() - t0, 8.0)
            self.assertEqual(smtp_plain(inst, USER, PW, source="127.0.0.5")[0], 235)
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
