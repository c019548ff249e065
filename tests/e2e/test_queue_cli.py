"""The operator's queue tools against a live instance: list (mailq
layout, --json), show, flush, hold/release, requeue, delete, summary -
including hold, delete and requeue of a message that is being delivered -
and their errors (bad ID, stopped daemon, non-root caller)."""
import json
import os
import re
import smtplib
import subprocess
import time
import unittest

from queue_util import TestAgent
from tern_instance import TERN, Instance, wait_until

SENDER = "sender@example.org"
HEADER = "%-17s %8s %20s %s" % ("-Queue ID-", "--Size--", "----Arrival Time----",
                                   "-Sender/Recipient-------")
INDENT = " " * 48


def inflight_delay(req):
    return 4 if req.get("nexthop") == "inflight.example" else 0


class QueueCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main_cf={
            "default_transport": "testagent",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s",
        })
        cls.inst.start()
        cls.agent = TestAgent(cls.inst, delay=inflight_delay)

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.inst.cleanup()

    def setUp(self):
        self.inst.tern("queue", "delete", "ALL", check=False)
        wait_until(lambda: not self.inst.queue_files(("incoming", "active", "deferred", "hold")),
                   20, what="an empty queue")

    def send(self, rcpts, subject="t"):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail(SENDER, rcpts, ("Subject: %s\r\n\r\nbody of %s\r\n" %
                                       (subject, subject)).encode())

    def where(self, qid):
        for q in ("incoming", "active", "deferred", "hold", "corrupt"):
            if os.path.exists(os.path.join(self.inst.queue, q, qid)):
                return q
        return None

    def deferred_one(self, rcpt="tmp1@remote.example"):
        n = len(self.agent.delivered_to(rcpt))
        self.send([rcpt])
        wait_until(lambda: len(self.agent.delivered_to(rcpt)) > n and
                   os.listdir(os.path.join(self.inst.queue, "deferred")), 20,
                   what="a deferred message\n" + self.inst.log()[-2000:])
        return os.listdir(os.path.join(self.inst.queue, "deferred"))[0]

    def test_empty_queue(self):
        r = self.inst.tern("queue", "list")
        self.assertEqual(r.stdout, "Mail queue is empty\n")
        self.assertEqual(self.inst.tern("queue", "list", "--json").stdout, "")

    def test_list_layout_json_show_summary(self):
        qid = self.deferred_one()
        lines = self.inst.tern("queue", "list").stdout.split("\n")
        self.assertEqual(lines[0], HEADER)
        m = re.match(r"^([0-9A-Z]{16}) +(\d+) +(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d) +(\S+)$",
                     lines[1])
        self.assertTrue(m, lines[1])
        self.assertEqual(m.group(1), qid)
        # the columns: ID+mark 17, size 8, arrival 20 (right-aligned), sender
        self.assertEqual(lines[1][:17], qid + " ")
        self.assertEqual(lines[1][17], " ")
        self.assertEqual(lines[1][18:26], "%8s" % m.group(2))
        self.assertEqual(lines[1][26:48], " " + m.group(3) + "  ")
        self.assertEqual(lines[1][48:], SENDER)
        self.assertEqual(m.group(4), SENDER)
        self.assertEqual(lines[2], INDENT + "(451 4.3.0 try again later)")
        self.assertEqual(lines[3], INDENT + "tmp1@remote.example")
        self.assertEqual(lines[4], "")
        self.assertEqual(lines[5], "-- 1 Kbytes in 1 Request.")
        self.assertEqual(lines[6:], [""])

        objs = [json.loads(l) for l in self.inst.tern("queue", "list", "--json").stdout.splitlines()]
        self.assertEqual(len(objs), 1)
        self.assertEqual(objs[0]["queue_name"], "deferred")
        self.assertEqual(objs[0]["queue_id"], qid)
        self.assertEqual(objs[0]["sender"], SENDER)
        self.assertEqual(objs[0]["message_size"], int(m.group(2)))
        self.assertEqual(objs[0]["recipients"], [
            {"address": "tmp1@remote.example", "delay_reason": "451 4.3.0 try again later"}])

        out = self.inst.tern("queue", "show", qid).stdout
        self.assertIn("*** ENVELOPE RECORDS deferred/%s ***" % qid, out)
        self.assertIn("sender: %s\n" % SENDER, out)
        self.assertIn("recipient: tmp1@remote.example\n", out)
        self.assertIn("*** MESSAGE CONTENTS deferred/%s ***" % qid, out)
        self.assertIn("Subject: t\n", out)
        self.assertIn("\n\nbody of t\n", out)

        out = self.inst.tern("queue", "summary").stdout.splitlines()
        self.assertTrue(out[0].split()[:2] == ["T", "5"], out[0])
        self.assertEqual(out[1].split()[:3], ["TOTAL", "1", "1"])
        self.assertEqual(out[2].split()[:3], ["remote.example", "1", "1"])

    def test_flush_hold_release_requeue_delete(self):
        qid = self.deferred_one()
        tries = len(self.agent.delivered_to("tmp1@remote.example"))
        self.inst.tern("queue", "flush")
        wait_until(lambda: len(self.agent.delivered_to("tmp1@remote.example")) > tries, 15,
                   what="a retry after flush")
        wait_until(lambda: self.where(qid) == "deferred", 10, what="deferred again")

        r = self.inst.tern("queue", "hold", qid)
        self.assertIn("Placed on hold: 1 message", r.stderr)
        self.assertEqual(self.where(qid), "hold")
        self.assertIn(qid + "!", self.inst.tern("queue", "list").stdout)
        r = self.inst.tern("queue", "flush", qid, check=False)
        self.assertEqual(r.returncode, 65, r.stderr)       # EX_DATAERR: on hold

        tries = len(self.agent.delivered_to("tmp1@remote.example"))
        self.inst.tern("queue", "release", qid)
        wait_until(lambda: len(self.agent.delivered_to("tmp1@remote.example")) > tries, 15,
                   what="a retry after release")
        wait_until(lambda: self.where(qid) == "deferred", 10, what="deferred again")

        tries = len(self.agent.delivered_to("tmp1@remote.example"))
        r = self.inst.tern("queue", "requeue", "ALL")
        self.assertIn("Requeued: 1 message", r.stderr)
        wait_until(lambda: len(self.agent.delivered_to("tmp1@remote.example")) > tries, 15,
                   what="a retry after requeue")

        wait_until(lambda: self.where(qid) == "deferred", 10, what="deferred again")
        r = self.inst.tern("queue", "delete", qid, "--queue", "deferred")
        self.assertIn("Deleted: 1 message", r.stderr)
        self.assertIsNone(self.where(qid))
        # In the mail log as Postfix's postsuper logs them, in order.
        log = self.inst.log()
        at = 0
        for what in ("%s: placed on hold" % qid, "Placed on hold: 1 message",
                     "%s: released from hold" % qid, "Released from hold: 1 message",
                     "%s: requeued" % qid, "Requeued: 1 message",
                     "%s: removed" % qid, "Deleted: 1 message"):
            m = re.compile(r" tern/postsuper\[\d+\]: %s$" % re.escape(what), re.M).search(log, at)
            self.assertIsNotNone(m, "%r after offset %d in:\n%s" % (what, at, log[-3000:]))
            at = m.end()

    def inflight(self, rcpt):
        n = len(self.agent.delivered_to(rcpt))
        self.send([rcpt])
        wait_until(lambda: len(self.agent.delivered_to(rcpt)) > n, 15, what="in flight")
        qid = self.agent.delivered_to(rcpt)[-1]["queue_id"]
        self.assertEqual(self.where(qid), "active")
        return qid

    def test_hold_in_flight(self):
        qid = self.inflight("tmp2@inflight.example")
        self.inst.tern("queue", "hold", qid)
        self.assertEqual(self.where(qid), "hold")
        wait_until(lambda: "%s: moved or deleted by the operator" % qid in self.inst.log(), 15,
                   what="qmgr finished the delivery")
        time.sleep(1.5)
        self.assertEqual(self.where(qid), "hold")
        self.assertEqual(self.inst.queue_files(("active",)), [])
        # the journal of the delivery in flight went into the held file
        self.assertIn("status: deferred 4.3.0", self.inst.tern("queue", "show", qid).stdout)

    def test_delete_in_flight(self):
        qid = self.inflight("ok1@inflight.example")
        self.inst.tern("queue", "delete", qid)
        self.assertIsNone(self.where(qid))
        wait_until(lambda: "%s: moved or deleted by the operator" % qid in self.inst.log(), 15,
                   what="qmgr finished the delivery")
        self.assertEqual(self.inst.queue_files(("active", "incoming", "deferred")), [])
        self.assertEqual(len(self.agent.delivered_to("ok1@inflight.example")), 1)

    def test_requeue_in_flight_delivers_once(self):
        qid = self.inflight("ok2@inflight.example")
        self.inst.tern("queue", "requeue", qid)
        wait_until(lambda: "%s: removed" % qid in self.inst.log(), 30,
                   what="the requeued message finished\n" + self.inst.log()[-2000:])
        self.assertEqual(self.inst.queue_files(("active", "incoming", "deferred")), [])
        self.assertEqual(len(self.agent.delivered_to("ok2@inflight.example")), 1,
                         "the journal kept the finished recipient finished")

    def test_errors(self):
        r = self.inst.tern("queue", "delete", "0123456789ABCDEF", check=False)
        self.assertEqual(r.returncode, 66, r.stderr)     # EX_NOINPUT
        self.assertIn("no such message", r.stderr)
        r = self.inst.tern("queue", "show", "not-an-id", check=False)
        self.assertEqual(r.returncode, 64)               # EX_USAGE
        r = self.inst.tern("queue", "frobnicate", check=False)
        self.assertEqual(r.returncode, 64)
        r = self.inst.tern("queue", "delete", "ALL", "--queue", "nosuch", check=False)
        self.assertEqual(r.returncode, 64)
        if os.geteuid() == 0:
            r = subprocess.run([TERN, "-c", self.inst.dir, "queue", "delete", "ALL"],
                               capture_output=True, text=True, timeout=30,
                               preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
            self.assertEqual(r.returncode, 77, r.stderr)  # EX_NOPERM
            self.assertIn("permission denied", r.stderr)
            r = subprocess.run([TERN, "-c", self.inst.dir, "queue", "show", "0123456789ABCDEF"],
                               capture_output=True, text=True, timeout=30,
                               preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
            self.assertEqual(r.returncode, 77, r.stderr)

    def test_list_for_every_user(self):
        """As Postfix's mailq: a user who may not read the queue gets the
        listing from the showq service, the same as root's."""
        if os.geteuid() != 0:
            self.fail("needs root to run a command as nobody")
        qid = self.deferred_one()
        nobody = dict(capture_output=True, text=True, timeout=30,
                      preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        r = subprocess.run([TERN, "-c", self.inst.dir, "queue", "list"], **nobody)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], HEADER)
        self.assertIn(qid, r.stdout)
        self.assertIn("tmp1@remote.example", r.stdout)
        self.assertRegex(r.stdout, r"\n-- \d+ Kbytes in \d+ Requests?\.\n$")
        r = subprocess.run([TERN, "-c", self.inst.dir, "queue", "list", "--json"], **nobody)
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = [json.loads(l)["queue_id"] for l in r.stdout.splitlines()]
        self.assertIn(qid, ids)


class StoppedTest(unittest.TestCase):
    def test_flush_needs_the_daemon(self):
        inst = Instance()
        try:
            r = inst.tern("queue", "flush", check=False)
            self.assertEqual(r.returncode, 69, r.stderr)  # EX_UNAVAILABLE
            self.assertIn("not running", r.stderr)
            self.assertEqual(inst.tern("queue", "list").stdout, "Mail queue is empty\n")
            if os.geteuid() == 0:
                # Nobody may read the queue and no showq answers.
                r = subprocess.run([TERN, "-c", inst.dir, "queue", "list"],
                                   capture_output=True, text=True, timeout=30,
                                   preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
                self.assertEqual(r.returncode, 77, r.stderr)  # EX_NOPERM
                self.assertIn("showq service does not answer", r.stderr)
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
