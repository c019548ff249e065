"""smtpd_milters with a milter written on Debian's python3-milter (libmilter):
verdicts at every stage (HELO, MAIL, RCPT, end of message) become SMTP
replies, and every modification action (add, insert, change and delete
header, replace body, add and delete recipient, change sender) reaches the
delivered message.  A milter that dies mid-message, or that is not there,
gives milter_default_action."""
import json
import os
import socket
import struct
import subprocess
import threading
import time
import unittest

from smtpd_util import Conn, wait_log
from tern_instance import Instance, free_port, stop_process, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-milter is installed for Debian's python
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


class PyMilter:
    """tests/e2e/milter_py.py as a process listening on a loopback port."""

    def __init__(self, workdir):
        self.port = free_port()
        self.log = os.path.join(workdir, "milter.log")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, os.path.join(HERE, "milter_py.py"),
             "inet:%d@127.0.0.1" % self.port, self.log],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout.readline().strip() == b"ready"
        wait_until(lambda: Instance._port_open(self.port), 10, what="milter port")

    def stop(self):
        stop_process(self.proc)

    def events(self, ev=None):
        try:
            with open(self.log) as f:
                out = [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []
        return [e for e in out if ev is None or e["ev"] == ev]


def transaction(port, sender, rcpts, subject, body="Hello.\r\n", extra="", helo="client.example.org"):
    """One message over SMTP; returns the final reply (code, text)."""
    c = Conn(port)
    try:
        assert c.reply()[0] == 220
        assert c.ehlo(helo)[0] == 250
        code, text = c.cmd("MAIL FROM:<%s>" % sender)
        assert code == 250, (code, text)
        for r in rcpts:
            code, text = c.cmd("RCPT TO:<%s>" % r)
            assert code == 250, (code, text)
        assert c.cmd("DATA")[0] == 354
        c.send("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n%s\r\n%s.\r\n" %
               (sender, rcpts[0], subject, extra, body))
        code, text = c.reply()
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


class MilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE, BOB, CAROL, "refused@example.com",
                                       "discard-rcpt@example.com"])
        cls.milter = PyMilter(cls.inst.dir)
        cls.inst.append_main_cf({
            "smtpd_milters": "inet:127.0.0.1:%d" % cls.milter.port,
            "milter_default_action": "tempfail",
            "milter_content_timeout": "20s",
        })
        cls.inst.start()
        cls.port = cls.inst.smtp_port

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.milter.stop()

    def delivered(self, addr, needle, n=1):
        """The messages of addr's Maildir containing needle, at least n."""
        def found():
            msgs = [m for m in self.inst.messages(addr) if needle.encode() in m]
            return msgs if len(msgs) >= n else None
        return wait_until(found, 20, what="%s in %s's Maildir" % (needle, addr))

    def test_accepted_message_gets_header_and_macros(self):
        code, text = transaction(self.port, "sender@example.org", [ALICE], "plain hello")
        self.assertEqual(code, 250, text)
        msg = self.delivered(ALICE, "plain hello")[0]
        self.assertIn(b"X-Py-Milter: seen by py\n", msg)
        mail = [e for e in self.milter.events("mail") if e["sender"] == "<sender@example.org>"]
        self.assertTrue(mail)
        self.assertEqual(mail[-1]["mail_addr"], "sender@example.org")
        conn = self.milter.events("connect")[-1]
        self.assertEqual(conn["addr"], "127.0.0.1")
        self.assertTrue(conn["j"])
        self.assertIn("[127.0.0.1]", conn["under"])
        eom = [e for e in self.milter.events("eom") if e["subject"] == "plain hello"][-1]
        self.assertEqual(eom["body"], "Hello.\r\n")  # CRLF line ends, as filters expect

    def test_connect_reject_is_the_greeting(self):
        # Postfix: a milter's 5xx at connect makes the greeting 554, and
        # the session's MAIL gets the milter's reply.
        c = Conn(self.port, source="127.0.0.2")
        try:
            code, text = c.reply()
            self.assertEqual(code, 554)
            self.assertIn("ESMTP not accepting connections", " ".join(text))
            self.assertEqual(c.ehlo()[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<sender@example.org>"),
                             (554, ["5.7.1 connection refused by py"]))
            # VRFY and STARTTLS get it too (Postfix's milter_other_event).
            self.assertEqual(c.cmd("VRFY alice"), (554, ["5.7.1 connection refused by py"]))
            self.assertEqual(c.cmd("STARTTLS"), (554, ["5.7.1 connection refused by py"]))
            c.cmd("QUIT")
        finally:
            c.close()
        wait_log(self.inst, "milter-reject: CONNECT from unknown[127.0.0.2]: "
                            "554 5.7.1 connection refused by py")

    def test_connect_tempfail_refuses_mail(self):
        # Postfix: a 4xx other than 421 at connect leaves the 220, and the
        # reply answers MAIL and VRFY; STARTTLS gets 454.
        c = Conn(self.port, source="127.0.0.4")
        try:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.ehlo()[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<sender@example.org>"),
                             (451, ["4.7.1 busy, says py"]))
            self.assertEqual(c.cmd("VRFY alice"), (451, ["4.7.1 busy, says py"]))
            self.assertEqual(c.cmd("STARTTLS"), (454, ["4.3.0 Try again later"]))
            c.cmd("QUIT")
        finally:
            c.close()

    def test_connect_421_ends_the_session(self):
        c = Conn(self.port, source="127.0.0.3")
        try:
            code, text = c.reply()
            self.assertEqual(code, 421)
            self.assertIn("Service unavailable - try again later", " ".join(text))
            self.assertTrue(c.closed(10))
        finally:
            c.close()

    def test_bdat_message_goes_through_the_milter(self):
        c = Conn(self.port)
        try:
            c.reply()
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<sender@example.org>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
            part1 = b"From: <sender@example.org>\r\nSubject: bdat chunks\r\n"
            part2 = b"\r\nbdat-marker\r\n"
            c.send(b"BDAT %d\r\n" % len(part1) + part1)
            self.assertEqual(c.reply()[0], 250)
            c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
            code, text = c.reply()
            self.assertEqual(code, 250, text)
        finally:
            c.close()
        msg = self.delivered(ALICE, "bdat-marker")[0]
        self.assertIn(b"X-Py-Milter: seen by py\n", msg)

    def test_reject_at_end_of_message_is_an_smtp_reply(self):
        code, text = transaction(self.port, "sender@example.org", [ALICE], "reject")
        self.assertEqual(code, 550)
        self.assertIn("5.7.1 content refused by py", text)
        wait_log(self.inst, "milter-reject: END-OF-MESSAGE")
        self.assertFalse([m for m in self.inst.messages(ALICE) if b"Subject: reject\n" in m])

    def test_tempfail_at_end_of_message(self):
        code, text = transaction(self.port, "sender@example.org", [ALICE], "tempfail")
        self.assertEqual(code, 451)
        self.assertIn("4.7.1 try again later, says py", text)

    def test_discard_answers_250_and_delivers_nothing(self):
        code, text = transaction(self.port, "sender@example.org", [BOB], "discard",
                                 body="discard-marker\r\n")
        self.assertEqual(code, 250, text)
        wait_log(self.inst, "milter-discard")
        self.transaction_done(BOB)
        self.assertFalse([m for m in self.inst.messages(BOB) if b"discard-marker" in m])

    def test_discard_at_rcpt_discards_the_message(self):
        code, text = transaction(self.port, "sender@example.org",
                                 [BOB, "discard-rcpt@example.com"], "plain", body="rcpt-discard\r\n")
        self.assertEqual(code, 250, text)
        self.assertIn("discarded", text)
        self.transaction_done(BOB)
        self.assertFalse([m for m in self.inst.messages(BOB) if b"rcpt-discard" in m])

    def transaction_done(self, addr):
        """Sends a plain message to addr and waits for it: anything sent
        before it has been delivered too if it ever will be."""
        marker = "barrier %f" % time.monotonic()
        self.assertEqual(transaction(self.port, "sender@example.org", [addr], marker)[0], 250)
        self.delivered(addr, marker)

    def test_replace_body(self):
        code, _ = transaction(self.port, "sender@example.org", [ALICE], "change body",
                              body="original body\r\n")
        self.assertEqual(code, 250)
        msg = self.delivered(ALICE, "Subject: change body")[0]
        self.assertIn(b"\n\nThe body was replaced.\nSecond line.\n", msg)
        self.assertNotIn(b"original body", msg)

    def test_add_recipient(self):
        code, _ = transaction(self.port, "sender@example.org", [ALICE], "add rcpt",
                              body="added-rcpt-marker\r\n")
        self.assertEqual(code, 250)
        self.delivered(ALICE, "added-rcpt-marker")
        self.delivered(CAROL, "added-rcpt-marker")

    def test_delete_recipient(self):
        code, _ = transaction(self.port, "sender@example.org", [ALICE, BOB], "del rcpt",
                              body="del-rcpt-marker\r\n")
        self.assertEqual(code, 250)
        self.delivered(ALICE, "del-rcpt-marker")
        self.transaction_done(BOB)
        self.assertFalse([m for m in self.inst.messages(BOB) if b"del-rcpt-marker" in m])

    def test_change_sender(self):
        code, _ = transaction(self.port, "sender@example.org", [ALICE], "change from",
                              body="chgfrom-marker\r\n")
        self.assertEqual(code, 250)
        msg = self.delivered(ALICE, "chgfrom-marker")[0]
        self.assertIn(b"Return-Path: <changed@example.org>", msg)

    def test_header_edits(self):
        code, _ = transaction(self.port, "sender@example.org", [ALICE], "edit headers",
                              extra="X-Drop: drop me\r\nX-Keep: keep me\r\n",
                              body="hdr-edit-marker\r\n")
        self.assertEqual(code, 250)
        msg = self.delivered(ALICE, "hdr-edit-marker")[0]
        head = msg.split(b"\n\n", 1)[0]
        self.assertIn(b"\nSubject: edited by py\n", head)
        self.assertNotIn(b"X-Drop", head)
        self.assertIn(b"X-Keep: keep me", head)
        # Inserted at index 0 of what the milter saw: above From:, below
        # the headers tern adds later (Return-Path, Received).
        self.assertLess(head.index(b"X-First: at the top"), head.index(b"From: <sender"))

    def test_quarantine_goes_to_hold(self):
        code, text = transaction(self.port, "sender@example.org", [ALICE], "quarantine",
                                 body="quarantine-marker\r\n")
        self.assertEqual(code, 250, text)
        qid = text.rsplit(" ", 1)[-1]
        hold = os.path.join(self.inst.queue, "hold", qid)
        wait_until(lambda: os.path.exists(hold), 10, what="the file in hold/")
        wait_log(self.inst, "%s: hold: quarantined by a milter" % qid)
        self.transaction_done(ALICE)
        self.assertFalse([m for m in self.inst.messages(ALICE) if b"quarantine-marker" in m])

    def test_reject_helo_mail_rcpt(self):
        c = Conn(self.port)
        try:
            self.assertEqual(c.reply()[0], 220)
            code, text = c.cmd("EHLO evil.example")
            self.assertEqual(code, 550)
            self.assertIn("evil HELO refused by py", " ".join(text))
        finally:
            c.close()
        c = Conn(self.port)
        try:
            c.reply()
            c.ehlo()
            code, _ = c.cmd("MAIL FROM:<tempfail@example.org>")
            self.assertEqual(code, 451)
            self.assertEqual(c.cmd("MAIL FROM:<ok@example.org>")[0], 250)
            code, text = c.cmd("RCPT TO:<refused@example.com>")
            self.assertEqual(code, 550)
            self.assertIn("recipient refused by py", " ".join(text))
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
            self.assertEqual(c.cmd("RSET")[0], 250)
            self.assertEqual(c.cmd("QUIT")[0], 221)
        finally:
            c.close()
        wait_until(lambda: self.milter.events("abort"), 10, what="abort after RSET")


class ChainTest(unittest.TestCase):
    """Two milters in smtpd_milters: asked in order, the second sees the
    message as the first left it, and a rejection by the first is final."""

    def test_two_milters_in_order(self):
        inst = Instance(mailboxes=[ALICE])
        os.makedirs(os.path.join(inst.dir, "m1"))
        os.makedirs(os.path.join(inst.dir, "m2"))
        first, second = PyMilter(os.path.join(inst.dir, "m1")), PyMilter(
            os.path.join(inst.dir, "m2"))
        try:
            inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d, inet:127.0.0.1:%d"
                                 % (first.port, second.port)})
            inst.start()
            code, _ = transaction(inst.smtp_port, "s@example.org", [ALICE], "edit headers",
                                  extra="X-Drop: x\r\n", body="chain-marker\r\n")
            self.assertEqual(code, 250)
            msg = wait_until(lambda: [m for m in inst.messages(ALICE) if b"chain-marker" in m],
                             20, what="the message")[0]
            self.assertEqual(msg.count(b"X-Py-Milter: seen by py\n"), 2)
            seen = second.events("eom")[-1]
            self.assertIn(["X-Py-Milter", "seen by py"], seen["headers"])
            self.assertIn(["Subject", "edited by py"], seen["headers"])
            code, text = transaction(inst.smtp_port, "s@example.org", [ALICE], "reject")
            self.assertEqual(code, 550, text)
            self.assertEqual([e for e in second.events("eom") if e["subject"] == "reject"], [])
        finally:
            inst.cleanup()
            first.stop()
            second.stop()


class StalledMilter:
    """Negotiates, then never answers: milter_command_timeout must fire."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            data = b""
            while len(data) < 17:
                chunk = c.recv(17 - len(data))
                if not chunk:
                    break
                data += chunk
            # OPTNEG back: version 6, no actions, every step answered.
            c.sendall(struct.pack(">IcIII", 13, b"O", 6, 0, 0))

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class DeadMilterTest(unittest.TestCase):
    """milter_default_action when the milter dies or is not there."""

    def test_milter_dies_mid_message_tempfail(self):
        inst = Instance(mailboxes=[ALICE])
        milter = PyMilter(inst.dir)
        try:
            inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d" % milter.port,
                                 "milter_default_action": "tempfail"})
            inst.start()
            code, text = transaction(inst.smtp_port, "s@example.org", [ALICE], "die")
            self.assertEqual(code, 451, text)
            self.assertEqual(milter.proc.wait(10), 3)
        finally:
            inst.cleanup()
            milter.stop()

    def test_stalled_milter_times_out_to_default_action(self):
        stalled = StalledMilter()
        inst = Instance(mailboxes=[ALICE])
        try:
            inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d" % stalled.port,
                                 "milter_command_timeout": "1s",
                                 "milter_default_action": "tempfail"})
            inst.start()
            c = Conn(inst.smtp_port)
            try:
                # The greeting waits for the connect answer, which never
                # comes: after the time-out, tempfail is not a 421, so the
                # greeting is 220, EHLO is answered (Postfix) and MAIL is 451.
                self.assertEqual(c.reply()[0], 220)
                self.assertEqual(c.cmd("EHLO client.example.org")[0], 250)
                self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 451)
            finally:
                c.close()
            wait_log(inst, "timeout waiting for a reply")
        finally:
            inst.cleanup()
            stalled.stop()

    def test_absent_milter_accept_and_reject(self):
        port = free_port()  # nobody listens there
        inst = Instance(mailboxes=[ALICE])
        try:
            inst.append_main_cf({"smtpd_milters": "{ inet:127.0.0.1:%d, default_action=accept }"
                                 % port})
            inst.start()
            code, text = transaction(inst.smtp_port, "s@example.org", [ALICE], "no milter")
            self.assertEqual(code, 250, text)
            wait_until(lambda: [m for m in inst.messages(ALICE) if b"no milter" in m], 20,
                       what="delivery without the milter")
            inst.stop()
            inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d" % port,
                                 "milter_default_action": "reject"})
            inst.start()
            c = Conn(inst.smtp_port)
            try:
                # Rejected at connect: the greeting says so (554), EHLO is
                # answered and MAIL gets the reject (Postfix).
                self.assertEqual(c.reply()[0], 554)
                self.assertEqual(c.ehlo()[0], 250)
                self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 550)
            finally:
                c.close()
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
