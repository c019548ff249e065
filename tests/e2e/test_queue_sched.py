"""The scheduler: one slow destination with a big backlog does not delay
another destination (round-robin over per-destination queues, each with
its own concurrency window), and a destination that fails at the
connection level is marked dead and its mail deferred without attempts."""
import smtplib
import threading
import time
import unittest

from queue_util import TestAgent
from tern_instance import Instance, wait_until

BACKLOG = 2000
SENDERS = 8


class SchedulerTest(unittest.TestCase):
    def tearDown(self):
        self.agent.stop()
        self.inst.cleanup()

    def test_slow_destination_does_not_starve_another(self):
        self.inst = Instance(main_cf={"default_transport": "testagent"})
        self.inst.start()
        slow = lambda req: 20 if req.get("nexthop") == "slow.example" else 0
        self.agent = TestAgent(self.inst, delay=slow)
        errors = []

        def sender(n):
            try:
                with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=60) as c:
                    for i in range(n, BACKLOG, SENDERS):
                        c.sendmail("s@example.org", ["ok%d@slow.example" % i],
                                   b"Subject: backlog\r\n\r\nx\r\n")
            except (smtplib.SMTPException, OSError) as e:
                errors.append(e)
        threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        queued = len(self.inst.queue_files(("incoming", "active", "deferred")))
        self.assertGreater(queued, BACKLOG - 100, "the backlog is queued, not delivered")
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("s@example.org", ["ok@fast.example"], b"Subject: fast\r\n\r\nx\r\n")
        wait_until(lambda: self.agent.delivered_to("ok@fast.example"), 10,
                   what="the message to the other destination\n" + self.inst.log()[-2000:])
        took = time.monotonic() - t0
        print("\n    fast destination served after %.2fs, behind %d queued" % (took, queued))
        self.assertLess(took, 5.0)
        in_flight = sum(1 for r in self.agent.requests if r.get("nexthop") == "slow.example")
        self.assertLessEqual(in_flight, 20, "the slow destination stays within its limit")

    def test_dead_destination_is_skipped(self):
        self.inst = Instance(main_cf={"default_transport": "testagent",
                                      "dead_destination_time": "60s"})
        self.inst.start()
        self.agent = TestAgent(self.inst)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            for i in range(4):
                c.sendmail("s@example.org", ["dead%d@down.example" % i], b"Subject: d\r\n\r\nx\r\n")
        wait_until(lambda: "destination down.example is dead" in self.inst.log(), 30,
                   what="the dead mark\n" + self.inst.log()[-3000:])
        tried = len(self.agent.requests)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("s@example.org", ["dead9@down.example"], b"Subject: d\r\n\r\nx\r\n")
            c.sendmail("s@example.org", ["ok@up.example"], b"Subject: d\r\n\r\nx\r\n")
        wait_until(lambda: "to=<dead9@down.example>" in self.inst.log() and
                   self.agent.delivered_to("ok@up.example"), 20,
                   what="dead9 deferred\n" + self.inst.log()[-3000:])
        self.assertIn("delivery temporarily suspended", [
            l for l in self.inst.log().splitlines() if "to=<dead9@down.example>" in l][0])
        self.assertEqual(self.agent.delivered_to("dead9@down.example"), [])
        self.assertLessEqual(len(self.agent.requests), tried + 1)
        self.assertTrue(any(r.get("nexthop") == "up.example" for r in self.agent.requests))


if __name__ == "__main__":
    unittest.main()
