"""ESMTP extensions and limits of smtpd: the EHLO list, CHUNKING/BDAT
(RFC 3030, including BDAT 0 LAST), SMTPUTF8 (RFC 6531), DSN parameters
(RFC 3461) stored in the queue file, message_size_limit with DATA and BDAT
(in octets as sent, RFC 1870),
the recipient limit, the command grammar's reply codes, and the error
limits."""
import glob
import os
import time
import unittest

from smtpd_util import Conn, wait_log
from tern_instance import Instance, wait_until

USER = "alice@example.com"
UTF8_USER = "j\u00f6rg@example.com"


def session(port):
    c = Conn(port)
    assert c.reply()[0] == 220
    code, exts = c.ehlo()
    assert code == 250
    return c, exts


class ExtensionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER, UTF8_USER], main_cf={
            "message_size_limit": "100000", "smtpd_recipient_limit": "3",
            "smtpd_soft_error_limit": "100", "smtpd_hard_error_limit": "8",
            # remote mail must stay deferred in the queue, where a test reads it
            "smtp_dns_resolver": "127.0.0.1:1"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def delivered(self, addr, marker):
        return wait_until(lambda: [m for m in self.inst.messages(addr) if marker in m], 20,
                          what="delivery of %r\n%s" % (marker, self.inst.log()[-2000:]))[0]

    def test_ehlo_list(self):
        c, exts = session(self.inst.smtp_port)
        self.assertEqual(sorted(e.split()[0] for e in exts),
                         ["8BITMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "PIPELINING",
                          "SIZE", "SMTPUTF8", "STARTTLS"])
        self.assertIn("SIZE 100000", exts)
        c.close()

    def test_empty_message_from_empty_local_part(self):
        """MAIL FROM:<""@x> and a message with no byte at all: both once
        computed NULL + 0 (clang's UBSan stops smtpd or cleanup there);
        accepted and delivered, the empty message as just the added
        headers."""
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd('MAIL FROM:<""@example.org>')[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(".\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.close()
        msg = self.delivered(USER, b'Return-Path: <""@example.org>')
        self.assertIn(b"\nReceived: from ", msg)

    def test_bdat_chunks_arrive_intact(self):
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org> BODY=8BITMIME")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        part1 = b"Subject: bdat test\r\n\r\nline one\r\n.\r\n.leading dot\r"
        part2 = b"\nbare\rcr and 8-bit \xff\r\nQUIT\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(c.reply(), (250, ["2.0.0 Ok: %d octets received" % len(part1)]))
        # The second chunk and the final empty one, pipelined with a NOOP.
        c.send(b"BDAT %d\r\n" % len(part2) + part2 + b"BDAT 0 LAST\r\nNOOP\r\n")
        self.assertEqual(c.reply()[0], 250)
        code, lines = c.reply()
        self.assertEqual(code, 250)
        self.assertIn("queued as", lines[0])
        self.assertEqual(c.reply()[0], 250)
        c.close()
        msg = self.delivered(USER, b"bdat test")
        body = msg[msg.index(b"Subject: bdat test"):]
        self.assertEqual(body, (part1 + part2).replace(b"\r\n", b"\n"))

    def test_bdat_last_in_one_go_and_errors(self):
        c, _ = session(self.inst.smtp_port)
        # No transaction: the octets are still read, never run as commands.
        c.send(b"BDAT 6\r\nRSET\r\n")
        self.assertEqual(c.reply()[0], 503)
        self.assertEqual(c.cmd("NOOP")[0], 250)
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        body = b"Subject: one chunk\r\n\r\nx\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(body) + body)
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("BDAT x")[0], 501)
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        c.send(b"BDAT 3\r\nabc")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 503)
        c.close()
        self.delivered(USER, b"one chunk")

    def test_bdat_too_big(self):
        c, _ = session(self.inst.smtp_port)
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        big = b"x" * 60000
        c.send(b"BDAT 60000\r\n" + big)
        self.assertEqual(c.reply()[0], 250)
        c.send(b"BDAT 60000\r\n" + big)
        code, lines = c.reply()
        self.assertEqual(code, 552, lines)
        c.send(b"BDAT 10 LAST\r\n0123456789")
        self.assertEqual(c.reply()[0], 503)
        self.assertEqual(c.cmd("NOOP")[0], 250)
        c.close()

    def test_data_too_big_is_read_and_refused(self):
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org> SIZE=200000")[0], 552)
        c.cmd("MAIL FROM:<s@example.org> SIZE=1000")
        c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 150 + b".\r\n")
        self.assertEqual(c.reply()[0], 552)
        self.assertEqual(c.cmd("NOOP")[0], 250)
        c.close()

    def test_long_helo_refused_at_once(self):
        # cleanup takes helo names of up to 1024 bytes: a longer one is
        # refused at EHLO, not with a 451 after every message's data.
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        code, lines = c.cmd("EHLO " + "h" * 1500 + ".example")
        self.assertEqual((code, lines[0]), (501, "5.5.2 Error: HELO/EHLO name too long"))
        self.assertEqual(c.cmd("HELO " + "h" * 1025)[0], 501)
        self.assertEqual(c.cmd("EHLO " + "h" * 1016 + ".example")[0], 250)
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd("Subject: long helo\r\n\r\nlong helo body\r\n.")
        self.assertEqual(code, 250, lines)
        c.close()
        self.delivered(USER, b"long helo body")

    def test_size_counts_wire_octets(self):
        # 95,000 bytes once CRLF is LF, 104,500 octets as sent: over the
        # 100,000 of message_size_limit (RFC 1870 counts CRLF as two).
        c, _ = session(self.inst.smtp_port)
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"x-line:12\r\n" * 9500 + b".\r\n")
        code, lines = c.reply()
        self.assertEqual((code, lines[0]), (552, "5.3.4 Message size exceeds fixed limit"))
        c.close()

    def test_smtputf8(self):
        c, _ = session(self.inst.smtp_port)
        code, lines = c.cmd("MAIL FROM:<s\u00e9@example.org>")
        self.assertEqual(code, 553, lines)
        self.assertIn("5.6.7", lines[0])
        c.cmd("MAIL FROM:<s@example.org>")
        code, lines = c.cmd("RCPT TO:<%s>" % UTF8_USER)
        self.assertEqual(code, 553, lines)
        c.cmd("RSET")
        self.assertEqual(c.cmd("MAIL FROM:<s\u00e9@example.org> SMTPUTF8")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % UTF8_USER)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: utf8 \u2713\r\n\r\nhi\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.close()
        self.delivered(UTF8_USER, "utf8 \u2713".encode())

    def test_dsn_parameters_stored(self):
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org> RET=HDRS ENVID=env+2Bid")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s> NOTIFY=success,delay ORCPT=rfc822;orig+2Bx@example.com"
                               % USER)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<postmaster@example.com> NOTIFY=NEVER")[0], 250)
        c.send("DATA\r\n")
        self.assertEqual(c.reply()[0], 354)
        # Keep it in the queue long enough to look: nothing delays delivery,
        # so look at the log and at what cleanup got instead.
        c.send("Subject: dsn\r\n\r\nx\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.close()
        self.delivered(USER, b"Subject: dsn")
        # Mail for a remote domain stays queued: its queue file shows the
        # envelope as cleanup stored it.
        c, _ = session(self.inst.smtp_port)
        c.cmd("MAIL FROM:<s@example.org> RET=FULL")
        self.assertEqual(c.cmd("RCPT TO:<far@outside.example> NOTIFY=FAILURE "
                               "ORCPT=rfc822;far+2Baway@outside.example")[0], 250)
        c.send("DATA\r\nSubject: queued dsn\r\n\r\nx\r\n.\r\n")
        self.assertEqual(c.reply()[0], 354)
        self.assertEqual(c.reply()[0], 250)
        c.close()

        def queued():
            for path in self.inst.queue_files():
                try:
                    data = open(path, "rb").read()
                except OSError:
                    continue
                if b"far@outside.example" in data:
                    return data
            return None
        data = wait_until(queued, 20, what="the queue file")
        self.assertIn(b"FAILURE", data)
        self.assertIn(b"rfc822;far+away@outside.example", data)
        for bad in ("NOTIFY=NEVER,SUCCESS", "NOTIFY=bogus", "ORCPT=rfc822", "NOTIFY=",
                    "FOO=bar"):
            c, _ = session(self.inst.smtp_port)
            c.cmd("MAIL FROM:<s@example.org>")
            code, lines = c.cmd("RCPT TO:<%s> %s" % (USER, bad))
            self.assertIn(code, (501, 555), (bad, lines))
            c.close()
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org> RET=ALL")[0], 501)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org> RET=FULL RET=HDRS")[0], 501)
        c.close()

    def test_recipient_limit(self):
        c, _ = session(self.inst.smtp_port)
        c.cmd("MAIL FROM:<s@example.org>")
        for i in range(3):
            self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        code, lines = c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(code, 452)
        self.assertIn("4.5.3", lines[0])
        c.close()

    def test_grammar(self):
        c, _ = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("mail from:<s@example.org>")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 503)
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 503)
        self.assertEqual(c.cmd("MAIL FROM:bad")[0], 501)
        self.assertEqual(c.cmd("FROB")[0], 502)
        self.assertEqual(c.cmd("DATA")[0], 503)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        c.close()

    def test_hard_error_limit(self):
        c, _ = session(self.inst.smtp_port)
        codes = [c.cmd("FROB %d" % i)[0] for i in range(7)]
        self.assertEqual(codes, [502] * 7)
        code, lines = c.cmd("FROB last")
        self.assertEqual(code, 502)
        self.assertEqual(c.reply()[0], 421)
        self.assertTrue(c.closed())
        c.close()
        wait_log(self.inst, "too many errors after UNKNOWN")


class TarpitTest(unittest.TestCase):
    def test_soft_error_limit_delays_replies(self):
        inst = Instance(main_cf={"smtpd_soft_error_limit": "2", "smtpd_error_sleep_time": "1s"})
        try:
            inst.start()
            c, _ = session(inst.smtp_port)
            t0 = time.monotonic()
            c.cmd("FROB 1")
            self.assertLess(time.monotonic() - t0, 0.8)
            c.cmd("FROB 2")
            t1 = time.monotonic()
            self.assertEqual(c.cmd("NOOP")[0], 250)
            self.assertGreaterEqual(time.monotonic() - t0, 0.9)
            # others are not slowed down
            d, _ = session(inst.smtp_port)
            t2 = time.monotonic()
            self.assertEqual(d.cmd("NOOP")[0], 250)
            self.assertLess(time.monotonic() - t2, 0.5)
            c.close()
            d.close()
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
