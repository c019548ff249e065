"""Bounces and notices (RFC 3464) through a delivery agent the test
controls (queue_util.TestAgent on private/testagent): a 5xx recipient
bounces with a parseable multipart/report, a 4xx one is retried on the
(scaled-down) back-off and bounced after the lifetime, a mixed message
delivers the good recipient once and bounces only the bad one, a failed
bounce ends at the postmaster, and a failed postmaster notice is dropped
without a loop."""
import email
import email.policy
import smtplib
import unittest

import os

from queue_util import TestAgent, queue_file, submit_to_cleanup
from tern_instance import Instance, wait_until

SENDER = "sender@example.org"
POSTMASTER = "postmaster@example.com"

CONF = {
    "default_transport": "testagent",
    "myorigin": "example.com",
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
    "maximal_queue_lifetime": "6s",
    "bounce_queue_lifetime": "6s",
    "delay_warning_time": "2s",
}


def parse_report(content):
    msg = email.message_from_bytes(content, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert len(parts) == 3, len(parts)
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    # email parses message/delivery-status into a list of field blocks:
    # the per-message block first, then one per recipient.
    blocks = status.get_payload()
    return msg, blocks[0], blocks[1:], parts[2]


class BounceTest(unittest.TestCase):
    def setUp(self):
        conf = dict(CONF)
        if "postmaster_notice" in self.id():
            conf["bounce_notice_recipient"] = "bad-pm@remote.example"
        self.inst = Instance(mailboxes=[POSTMASTER, "user@example.com"], main_cf=conf)
        self.inst.start()
        self.agent = TestAgent(self.inst)

    def tearDown(self):
        self.agent.stop()
        self.inst.cleanup()

    def send(self, rcpts, sender=SENDER, body="Subject: test\r\n\r\nhello\r\n", **kw):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail(sender, rcpts, body.encode(), **kw)

    def bounces(self, to=SENDER, n=1, timeout=30):
        return wait_until(lambda: len(self.agent.delivered_to(to)) >= n and
                          self.agent.delivered_to(to), timeout,
                          what="%d notices to %s\nlog:\n%s" % (n, to, self.inst.log()[-3000:]))

    def queue_empty(self, timeout=30):
        wait_until(lambda: not self.inst.queue_files(), timeout,
                   what="an empty queue: %s" % self.inst.queue_files())

    def test_5xx_bounce_is_a_valid_report(self):
        self.send(["bad1@remote.example"], body="Subject: orig\r\nX-Mark: m1\r\n\r\nbody\r\n")
        req = self.bounces()[0]
        self.assertEqual(req["sender"], "")
        msg, per_msg, rcpts, orig = parse_report(req["content"])
        self.assertEqual(msg["To"], "<%s>" % SENDER)
        self.assertIn("MAILER-DAEMON", msg["From"])
        self.assertEqual(len(rcpts), 1)
        self.assertEqual(rcpts[0]["Final-Recipient"], "rfc822; bad1@remote.example")
        self.assertEqual(rcpts[0]["Status"], "5.1.1")
        self.assertEqual(rcpts[0]["Action"], "failed")
        self.assertIn("550 5.1.1 no such user", rcpts[0]["Diagnostic-Code"])
        self.assertTrue(per_msg["Reporting-MTA"].startswith("dns;"))
        self.assertEqual(orig.get_content_type(), "message/rfc822")
        self.assertIn(b"X-Mark: m1", req["content"])
        self.queue_empty()
        log = self.inst.log()
        self.assertRegex(log, r"sender non-delivery notification: \w+")
        self.assertIn(": removed", log)

    def test_4xx_retried_then_bounced_after_lifetime(self):
        self.send(["tmp1@remote.example"])
        delay, req = self.bounces(n=2, timeout=40)[:2]
        _, _, rcpts, orig = parse_report(delay["content"])
        self.assertEqual(rcpts[0]["Action"], "delayed", "one delay notice first")
        self.assertEqual(orig.get_content_type(), "text/rfc822-headers")
        tries = len(self.agent.delivered_to("tmp1@remote.example"))
        self.assertGreaterEqual(tries, 3, "retried on the back-off schedule")
        self.assertLessEqual(tries, 8, "not retried in a tight loop")
        _, _, rcpts, _ = parse_report(req["content"])
        self.assertEqual(rcpts[0]["Final-Recipient"], "rfc822; tmp1@remote.example")
        self.assertEqual(rcpts[0]["Status"], "5.3.0")
        self.assertIn("try again later", rcpts[0]["Diagnostic-Code"])
        self.queue_empty()
        self.assertEqual(len(self.agent.delivered_to(SENDER)), 2, "one delay notice only")

    def test_mixed_message_bounces_only_the_bad_one(self):
        self.send(["ok1@remote.example", "bad2@remote.example", "ok2@other.example"])
        req = self.bounces()[0]
        _, _, rcpts, _ = parse_report(req["content"])
        self.assertEqual([r["Final-Recipient"] for r in rcpts], ["rfc822; bad2@remote.example"])
        self.queue_empty()
        self.assertEqual(len(self.agent.delivered_to("ok1@remote.example")), 1)
        self.assertEqual(len(self.agent.delivered_to("ok2@other.example")), 1)
        self.assertEqual(len(self.agent.delivered_to("bad2@remote.example")), 1)
        self.assertEqual(len(self.agent.delivered_to(SENDER)), 1)

    def test_dsn_notify_never_success_and_orcpt(self):
        # Straight to cleanup, as smtpd does once it takes the DSN options.
        submit_to_cleanup(self.inst, SENDER, [("bad3@remote.example", None, "NEVER")],
                          b"Subject: n\n\nx\n")
        submit_to_cleanup(self.inst, SENDER,
                          [("ok3@remote.example", "rfc822;Orig@remote.example", "SUCCESS")],
                          b"Subject: s\n\nx\n", attrs=[("ret", "HDRS")])
        req = self.bounces()[0]
        msg, _, rcpts, orig = parse_report(req["content"])
        self.assertEqual(rcpts[0]["Action"], "delivered")
        self.assertEqual(rcpts[0]["Final-Recipient"], "rfc822; ok3@remote.example")
        self.assertIn("Orig@remote.example", rcpts[0]["Original-Recipient"])
        self.assertEqual(orig.get_content_type(), "text/rfc822-headers")
        self.queue_empty()
        self.assertEqual(len(self.agent.delivered_to(SENDER)), 1, "NOTIFY=NEVER: no bounce")

    def test_ret_hdrs_and_envid_from_the_envelope(self):
        # The envelope attributes smtpd records for MAIL FROM ... RET=HDRS
        # ENVID=...: a queue file written as cleanup writes it.
        data = queue_file(SENDER, [("bad6@remote.example", "rfc822;Bad6@remote.example", None)],
                          b"Subject: env\nX-Mark: m6\n", b"secret body\n",
                          attrs=[("ret", "HDRS"), ("envid", "ENV-42")])
        incoming = os.path.join(self.inst.queue, "incoming")
        qid = "0" + "ABCDEFGHIJ12345"
        st = os.stat(incoming)
        tmp = os.path.join(incoming, ".test-" + qid)
        with open(tmp, "wb") as f:
            f.write(data)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.rename(tmp, os.path.join(incoming, qid))
        self.inst.tern("queue", "flush")
        req = self.bounces()[0]
        _, per_msg, rcpts, orig = parse_report(req["content"])
        self.assertEqual(per_msg["Original-Envelope-Id"], "ENV-42")
        self.assertEqual(rcpts[0]["Original-Recipient"], "rfc822;Bad6@remote.example")
        self.assertEqual(orig.get_content_type(), "text/rfc822-headers")
        self.assertIn(b"X-Mark: m6", req["content"])
        self.assertNotIn(b"secret body", req["content"])
        self.queue_empty()

    def test_double_bounce_ends_at_postmaster(self):
        self.send(["bad4@remote.example"], sender="")
        wait_until(lambda: self.inst.messages(POSTMASTER), 30,
                   what="postmaster notice\n" + self.inst.log()[-3000:])
        content = self.inst.messages(POSTMASTER)[0]
        _, _, rcpts, _ = parse_report(content)
        self.assertEqual(rcpts[0]["Final-Recipient"], "rfc822; bad4@remote.example")
        self.assertIn(b"Return-Path: <double-bounce@example.com>", content)
        self.queue_empty()

    def test_failed_postmaster_notice_is_dropped_not_looped(self):
        self.send(["bad5@remote.example"], sender="")
        wait_until(lambda: "discarding undeliverable postmaster notice" in self.inst.log(),
                   30, what="the dropped notice\n" + self.inst.log()[-3000:])
        self.queue_empty()
        self.assertEqual(len(self.agent.delivered_to("bad-pm@remote.example")), 1)


if __name__ == "__main__":
    unittest.main()
