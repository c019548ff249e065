"""smtpd under load and abuse: connection count and rate limits shared by
all smtpd processes, 1000 idle connections held while a normal session
still delivers, a client stalled in DATA timed out without delaying
others, 421 on shutdown, and 451 when cleanup is down."""
import os
import re
import resource
import smtplib
import socket
import time
import unittest

from smtpd_util import Conn, wait_log
from tern_instance import Instance, wait_until

USER = "alice@example.com"
IDLE = 1000


def greeted(port):
    c = Conn(port)
    code, lines = c.reply()
    return c, code, lines


class ConnectionLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER], main_cf={
            "smtpd_client_event_limit_exceptions": "",
            "smtpd_client_connection_count_limit": "3",
        })
        cls.inst.start()
        # tern start's probe connection must be gone before we count.
        wait_log(cls.inst, "disconnect from unknown[127.0.0.1]")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_count_limit(self):
        held = []
        for _ in range(3):
            c, code, _ = greeted(self.inst.smtp_port)
            self.assertEqual(code, 220)
            held.append(c)
        c, code, lines = greeted(self.inst.smtp_port)
        self.assertEqual(code, 421, lines)
        self.assertIn("too many connections", lines[0])
        c.close()
        held.pop().cmd("QUIT")
        time.sleep(0.3)
        c, code, _ = greeted(self.inst.smtp_port)
        self.assertEqual(code, 220)
        c.close()
        for h in held:
            h.close()
        wait_log(self.inst, "Connection concurrency limit exceeded: 4 from unknown[127.0.0.1]")


class RateLimitTest(unittest.TestCase):
    def test_rate_limit(self):
        inst = Instance(main_cf={"smtpd_client_event_limit_exceptions": "",
                                 "smtpd_client_connection_rate_limit": "5",
                                 "anvil_rate_time_unit": "60s"})
        try:
            inst.start()
            wait_log(inst, "disconnect from unknown[127.0.0.1]")
            # tern start's probe connections count against the rate too.
            probes = len(re.findall(r"\]: connect from unknown", inst.log()))
            codes = []
            for _ in range(7):
                c, code, _ = greeted(inst.smtp_port)
                codes.append(code)
                c.close()
            self.assertEqual(codes, [220] * (5 - probes) + [421] * (2 + probes))
        finally:
            inst.cleanup()


class LoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, IDLE + 512)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        cls.inst = Instance(mailboxes=[USER], main_cf={"smtpd_timeout": "3s"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_idle_connections_do_not_block_delivery(self):
        if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < IDLE + 100:
            self.skipTest("descriptor limit too low for %d connections" % IDLE)
        idle = []
        try:
            for _ in range(IDLE):
                s = socket.create_connection(("127.0.0.1", self.inst.smtp_port), timeout=30)
                idle.append(s)
            # Every one of them is served: each has its greeting.
            for s in idle:
                f = b""
                while not f.endswith(b"\r\n"):
                    chunk = s.recv(512)
                    self.assertTrue(chunk, "connection closed")
                    f += chunk
                self.assertTrue(f.startswith(b"220 "), f)
            with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=20) as c:
                self.assertEqual(c.sendmail("s@example.org", [USER], b"Subject: under load\r\n\r\nx\r\n"), {})
            wait_until(lambda: [m for m in self.inst.messages(USER) if b"under load" in m], 30,
                       what="delivery under load")
        finally:
            for s in idle:
                s.close()

    def test_stalled_data_times_out_without_delaying_others(self):
        c, code, _ = greeted(self.inst.smtp_port)
        c.ehlo()
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: stalled\r\n\r\npart of it")
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=20) as d:
            self.assertEqual(d.sendmail("s@example.org", [USER], b"Subject: meanwhile\r\n\r\nx\r\n"), {})
        self.assertLess(time.monotonic() - t0, 2.5)
        code, lines = c.reply()
        self.assertEqual(code, 421, lines)
        self.assertTrue(c.closed())
        c.close()
        wait_log(self.inst, "timeout after DATA")
        time.sleep(0.5)
        self.assertFalse([m for m in self.inst.messages(USER) if b"stalled" in m])


class ShutdownTest(unittest.TestCase):
    def test_421_on_stop_and_451_without_cleanup(self):
        inst = Instance(mailboxes=[USER])
        try:
            inst.start()
            c, code, _ = greeted(inst.smtp_port)
            self.assertEqual(code, 220)
            c.ehlo()
            inst.stop()
            code, lines = c.reply()
            self.assertEqual(code, 421, lines)
            c.close()
        finally:
            inst.cleanup()
        inst = Instance(mailboxes=[USER])
        try:
            with open(os.path.join(inst.etc, "master.cf")) as f:
                lines = [l for l in f.read().splitlines(True) if not l.startswith("cleanup")]
            with open(os.path.join(inst.etc, "master.cf"), "w") as f:
                f.writelines(lines)
            inst.start()
            c, code, _ = greeted(inst.smtp_port)
            c.ehlo()
            c.cmd("MAIL FROM:<s@example.org>")
            c.cmd("RCPT TO:<%s>" % USER)
            code, lines = c.cmd("DATA")
            self.assertEqual(code, 451, lines)
            self.assertIn("4.3.0", lines[0])
            c.send(b"BDAT 3 LAST\r\nabc")
            self.assertEqual(c.reply()[0], 451)
            self.assertEqual(c.cmd("NOOP")[0], 250)
            c.close()
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
