"""header_checks, mime_header_checks, nested_header_checks and body_checks
in cleanup, with Postfix's header_checks(5) semantics, through real SMTP
sessions: every action (REJECT, DEFER, DISCARD, HOLD, REDIRECT, WARN,
INFO, IGNORE, STRIP, PREPEND, REPLACE, FILTER unsupported), the reply
codes Postfix gives (550 5.7.1 for content rejected, 451 4.7.1 for DEFER,
both at the end of DATA, never a bounce), the log lines, MIME part headers
and attached-message headers reaching their own tables, body lines inside
MIME parts, multi-line headers matched as one string, and a regexp: table."""
import os
import smtplib
import time
import unittest

from tern_instance import Instance, wait_until

ALICE = "alice@example.com"
BOB = "bob@example.com"

HEADER_CHECKS = r"""
/^Subject: reject me$/          REJECT spam subject
/^Subject: reject default$/     REJECT
/^Subject: reject dsn$/         REJECT 5.7.2 policy says no
/^Subject: defer me$/           DEFER try later
/^Subject: discard me$/         DISCARD dropped on the floor
/^Subject: hold me$/            HOLD to be looked at
/^Subject: redirect me$/        REDIRECT bob@example.com
/^Subject: warn me$/            WARN suspicious
/^Subject: info me$/            INFO noted
/^X-Drop-Me:/                   IGNORE
/^X-Strip-Me:/                  STRIP stripped
/^X-Mark-Me: (.*)$/             PREPEND X-Marked: yes $1
/^X-Swap-Me: (.*)$/             REPLACE X-Swapped: $1
/^X-Bad-Prepend:/               PREPEND not a header
/^Subject: filter me$/          FILTER smtp:[127.0.0.1]:10025
/^X-Fold: first\n\s+second$/    REJECT folded header matched
/^Subject: nested bad$/         WARN the primary table saw it
"""

MIME_CHECKS = r"""
/^Content-Disposition:.*filename="?[^"]*\.exe"?/   REJECT no executables
/^X-Part-Header: bad/                              REJECT part header seen
"""

NESTED_CHECKS = r"""
/^Subject: nested bad$/        REJECT attached message refused
"""

BODY_CHECKS = r"""
/^reject this body line$/      REJECT body line refused
/^drop this line$/             IGNORE
/^swap this line$/             REPLACE swapped line
/^prepend before me$/          PREPEND prepended line
/^inside a part: bad$/         REJECT bad part body
"""


class HeaderChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE, BOB])
        tables = {}
        for name, text, kind in (("header", HEADER_CHECKS, "pcre"),
                                 ("mime", MIME_CHECKS, "pcre"),
                                 ("nested", NESTED_CHECKS, "pcre"),
                                 ("body", BODY_CHECKS, "regexp")):
            path = os.path.join(cls.inst.etc, name + "_checks")
            with open(path, "w") as f:
                f.write(text)
            tables[name] = "%s:%s" % (kind, path)
        cls.inst.append_main_cf({
            "header_checks": tables["header"],
            "mime_header_checks": tables["mime"],
            "nested_header_checks": tables["nested"],
            "body_checks": tables["body"],
        })
        cls.check = cls.inst.tern("check", check=False)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, body, rcpt=ALICE):
        """Sends a message (LF line ends); returns the DATA reply (code, text)."""
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            code, _ = c.rcpt(rcpt)
            self.assertEqual(code, 250)
            code, msg = c.data(body.replace("\n", "\r\n").encode())
        finally:
            c.quit()
        return code, msg.decode()

    def delivered(self, addr, marker):
        needle = marker.encode()
        return [m.replace(b"\r\n", b"\n") for m in self.inst.messages(addr) if needle in m]

    def wait_delivered(self, addr, marker):
        wait_until(lambda: self.delivered(addr, marker), 30,
                   what="delivery of %r to %s\n%s" % (marker, addr, self.inst.log()[-3000:]))
        return self.delivered(addr, marker)[0]

    def settle(self):
        wait_until(lambda: not self.inst.queue_files(), 30, what="an empty queue")
        time.sleep(0.3)

    def log_has(self, text):
        wait_until(lambda: text in self.inst.log(), 10, what="log line %r\n%s" % (
            text, self.inst.log()[-3000:]))

    def test_check_accepts_the_tables(self):
        self.assertEqual(self.check.returncode, 0, self.check.stdout + self.check.stderr)

    def test_reject_is_550_at_end_of_data(self):
        code, msg = self.send("Subject: reject me\nX-Id: r1\n\nhello\n")
        self.assertEqual((code, msg), (550, "5.7.1 spam subject"))
        self.log_has("reject: header Subject: reject me from unknown[127.0.0.1]; "
                     "from=<sender@example.org> to=<alice@example.com> proto=ESMTP "
                     "helo=<client.example.org>: 5.7.1 spam subject")
        self.settle()
        self.assertEqual(self.delivered(ALICE, "X-Id: r1"), [])

    def test_reject_default_text_and_own_dsn(self):
        self.assertEqual(self.send("Subject: reject default\n\nx\n"),
                         (550, "5.7.1 message content rejected"))
        self.assertEqual(self.send("Subject: reject dsn\n\nx\n"),
                         (550, "5.7.2 policy says no"))

    def test_defer_is_451(self):
        self.assertEqual(self.send("Subject: defer me\nX-Id: d1\n\nx\n"),
                         (451, "4.7.1 try later"))
        self.settle()
        self.assertEqual(self.delivered(ALICE, "X-Id: d1"), [])

    def test_discard_says_250_and_delivers_nothing(self):
        code, msg = self.send("Subject: discard me\nX-Id: x1\n\nx\n")
        self.assertEqual(code, 250, msg)
        self.assertIn("queued as", msg)
        self.log_has("discard: header Subject: discard me")
        self.settle()
        self.assertEqual(self.delivered(ALICE, "X-Id: x1"), [])

    def test_hold_goes_to_hold_queue(self):
        code, msg = self.send("Subject: hold me\nX-Id: h1\n\nx\n")
        self.assertEqual(code, 250, msg)
        qid = msg.split()[-1]
        wait_until(lambda: os.path.exists(os.path.join(self.inst.queue, "hold", qid)), 10,
                   what="queue file in hold/")
        self.log_has("%s: hold: header Subject: hold me" % qid)
        time.sleep(0.5)
        self.assertEqual(self.delivered(ALICE, "X-Id: h1"), [])

    def test_redirect_replaces_recipients(self):
        code, _ = self.send("Subject: redirect me\nX-Id: rd1\n\nx\n")
        self.assertEqual(code, 250)
        self.wait_delivered(BOB, "X-Id: rd1")
        self.settle()
        self.assertEqual(self.delivered(ALICE, "X-Id: rd1"), [])

    def test_warn_and_info_log_and_deliver(self):
        self.assertEqual(self.send("Subject: warn me\nX-Id: w1\n\nx\n")[0], 250)
        self.assertEqual(self.send("Subject: info me\nX-Id: i1\n\nx\n")[0], 250)
        self.wait_delivered(ALICE, "X-Id: w1")
        self.wait_delivered(ALICE, "X-Id: i1")
        self.log_has("warning: header Subject: warn me from unknown[127.0.0.1]")
        self.log_has(": suspicious")
        self.log_has("info: header Subject: info me")

    def test_header_edits(self):
        msg = ("Subject: edits\nX-Id: e1\nX-Drop-Me: gone\nX-Strip-Me: gone too\n"
               "X-Mark-Me: flagged\nX-Swap-Me: old value\nX-Bad-Prepend: kept\n\nbody\n")
        self.assertEqual(self.send(msg)[0], 250)
        got = self.wait_delivered(ALICE, "X-Id: e1")
        head = got.split(b"\n\n", 1)[0] + b"\n"
        self.assertNotIn(b"X-Drop-Me", head)
        self.assertNotIn(b"X-Strip-Me", head)
        self.assertIn(b"X-Marked: yes flagged\nX-Mark-Me: flagged\n", head)
        self.assertIn(b"X-Swapped: old value\n", head)
        self.assertNotIn(b"X-Swap-Me", head)
        self.assertIn(b"X-Bad-Prepend: kept\n", head)
        self.assertNotIn(b"not a header", got)
        self.log_has("strip: header X-Strip-Me: gone too")

    def test_filter_is_refused_not_ignored(self):
        self.assertEqual(self.send("Subject: filter me\n\nx\n"),
                         (451, "4.3.5 Server configuration error"))
        self.log_has("FILTER in header_checks is not supported")

    def test_folded_header_is_one_string(self):
        self.assertEqual(self.send("X-Fold: first\n  second\nSubject: f\n\nx\n"),
                         (550, "5.7.1 folded header matched"))

    def test_body_actions(self):
        msg = ("Subject: body edits\nX-Id: b1\n\nline one\ndrop this line\nswap this line\n"
               "prepend before me\nlast line\n")
        self.assertEqual(self.send(msg)[0], 250)
        got = self.wait_delivered(ALICE, "X-Id: b1")
        body = got.split(b"\n\n", 1)[1]
        self.assertEqual(body, b"line one\nswapped line\nprepended line\nprepend before me\n"
                               b"last line\n")

    def test_body_reject(self):
        self.assertEqual(self.send("Subject: b\n\nfine\nreject this body line\nmore\n"),
                         (550, "5.7.1 body line refused"))
        self.log_has("reject: body reject this body line from unknown[127.0.0.1]")

    def mime(self, part_headers, part_body="attachment text", extra=""):
        return ("Subject: mime\nMIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=\"b1\"\n%s\n"
                "preamble\n--b1\nContent-Type: text/plain\n\nhello\n"
                "--b1\n%s\n\n%s\n--b1--\nepilogue\n" % (extra, part_headers, part_body))

    def test_mime_part_header_rejected(self):
        msg = self.mime("Content-Type: application/octet-stream\n"
                        "Content-Disposition: attachment; filename=\"setup.exe\"")
        self.assertEqual(self.send(msg), (550, "5.7.1 no executables"))

    def test_non_mime_header_of_a_part_goes_to_mime_checks(self):
        self.assertEqual(self.send(self.mime("Content-Type: text/plain\nX-Part-Header: bad")),
                         (550, "5.7.1 part header seen"))
        # The same header in the primary section is not mime_header_checks'.
        msg = "Subject: primary\nX-Id: p1\nX-Part-Header: bad\n\nx\n"
        self.assertEqual(self.send(msg)[0], 250)
        self.wait_delivered(ALICE, "X-Id: p1")

    def test_body_line_inside_a_part(self):
        msg = self.mime("Content-Type: text/plain", "inside a part: bad")
        self.assertEqual(self.send(msg), (550, "5.7.1 bad part body"))

    def test_harmless_mime_passes_unchanged(self):
        msg = self.mime("Content-Type: text/plain\nContent-Disposition: attachment; "
                        "filename=\"notes.txt\"", extra="X-Id: m1\n")
        self.assertEqual(self.send(msg)[0], 250)
        got = self.wait_delivered(ALICE, "X-Id: m1")
        self.assertTrue(got.endswith(msg.split("\n\n", 1)[1].encode()), got)

    def test_nested_message_headers(self):
        inner = "From: x@example.net\nSubject: nested bad\n\ninner body\n"
        msg = self.mime("Content-Type: message/rfc822", inner)
        self.assertEqual(self.send(msg), (550, "5.7.1 attached message refused"))
        # In the primary header the nested table does not apply (only WARN).
        self.assertEqual(self.send("Subject: nested bad\nX-Id: n1\n\nx\n")[0], 250)
        self.wait_delivered(ALICE, "X-Id: n1")
        self.log_has("warning: header Subject: nested bad")


if __name__ == "__main__":
    unittest.main()
