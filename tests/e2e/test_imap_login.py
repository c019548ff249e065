"""imap-login end to end, before authentication: the greeting and
CAPABILITY, ID, NOOP, LOGOUT, STARTTLS and imaps, LOGIN and AUTHENTICATE
(SASL-IR, continuation, cancel) failing the way Dovecot's do,
synchronizing literals, LOGINDISABLED without TLS, time-outs, garbage
and over-long input; Python's imaplib and raw sockets."""
import base64
import imaplib
import re
import shutil
import time
import unittest

from login_util import Lines, crlf, put_message, start_instance, tls_context
from tern_instance import wait_until

USER = "carol@example.com"
PASS = "imap-secret-1"


class ImapLoginBase(unittest.TestCase):
    main_cf = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({USER: PASS}, imap=True, main_cf=cls.main_cf)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def raw(self):
        c = Lines(self.inst.imap_port)
        self.assertTrue(c.line().startswith(b"* OK [CAPABILITY "))
        return c


class ImapLoginTest(ImapLoginBase):
    def test_greeting_and_capability(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        self.assertRegex(c.welcome, rb"^\* OK \[CAPABILITY IMAP4rev1 .*\] tern ready\.$")
        typ, caps = c.capability()
        caps = caps[0].split()
        for cap in (b"IMAP4rev1", b"SASL-IR", b"ID", b"LITERAL+", b"STARTTLS", b"AUTH=PLAIN"):
            self.assertIn(cap, caps)
        self.assertNotIn(b"LOGINDISABLED", caps)
        typ, data = c.xatom("ID", '("name" "test" "version" NIL)')
        self.assertEqual(typ, "OK")
        self.assertEqual(c.untagged_responses.get("ID"), [b'("name" "tern")'])
        self.assertEqual(c.noop()[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")

    def test_login_failure(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        with self.assertRaisesRegex(imaplib.IMAP4.error, r"\[AUTHENTICATIONFAILED\]"):
            c.login(USER, "wrong")
        c.logout()
        wait_until(lambda: re.search(r"imap-login\[\d+\]: Disconnected \(Logged out, auth "
                                     r"failed, 1 attempts in \d+ secs\): user=<%s>, "
                                     r"method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1"
                                     % USER, self.inst.log()), 10, what="log line")

    def test_authenticate_sasl_ir_and_cancel(self):
        c = self.raw()
        ir = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
        self.assertTrue(c.cmd("a1 AUTHENTICATE PLAIN " + ir).startswith(
            b"a1 NO [AUTHENTICATIONFAILED]"))
        self.assertEqual(c.cmd("a2 AUTHENTICATE PLAIN"), b"+ \r\n")
        self.assertEqual(c.cmd("*"), b"a2 BAD Authentication aborted by client.\r\n")
        self.assertEqual(c.cmd("a3 AUTHENTICATE PLAIN"), b"+ \r\n")
        self.assertTrue(c.cmd("not base64!").startswith(b"a3 "))
        self.assertTrue(c.cmd("a4 NOOP").startswith(b"a4 OK"))
        c.close()

    def test_synchronizing_literal(self):
        c = self.raw()
        c.send("a1 LOGIN {%d}\r\n" % len(USER))
        self.assertEqual(c.line(), b"+ OK\r\n")
        c.send(USER + " {5}\r\n")
        self.assertEqual(c.line(), b"+ OK\r\n")
        c.send("wrong\r\n")
        self.assertTrue(c.line().startswith(b"a1 NO [AUTHENTICATIONFAILED]"))
        # LITERAL+: no go-ahead.
        c.send("a2 LOGIN {%d+}\r\n%s {5+}\r\nwrong\r\n" % (len(USER), USER))
        self.assertTrue(c.line().startswith(b"a2 NO [AUTHENTICATIONFAILED]"))
        c.close()

    def test_starttls(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        c.starttls(tls_context(self.inst))
        typ, caps = c.capability()
        self.assertNotIn(b"STARTTLS", caps[0].split())
        c.logout()
        c = self.raw()
        self.assertEqual(c.cmd("a STARTTLS"), b"a OK Begin TLS negotiation now.\r\n")
        c.starttls(tls_context(self.inst))
        self.assertTrue(c.cmd("b STARTTLS").startswith(b"b BAD"))
        c.close()

    def test_imaps(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.imaps_port, ssl_context=tls_context(self.inst))
        self.assertTrue(c.welcome.startswith(b"* OK [CAPABILITY"))
        self.assertNotIn(b"STARTTLS", c.welcome)
        with self.assertRaises(imaplib.IMAP4.error):
            c.login(USER, "wrong")
        c.logout()

    def test_login_select_fetch(self):
        """A login through imap-login reaches the user's imap process (the
        tagged OK is its, with post-login capabilities), which serves
        INBOX; the same over imaps, relayed through the login process."""
        msg = b"From: a@example.org\nSubject: hello imap\n\nbody line\n"
        put_message(self.inst.maildir(USER), msg)
        for tls in (False, True):
            if tls:
                c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.imaps_port,
                                      ssl_context=tls_context(self.inst))
            else:
                c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
            typ, data = c.login(USER, PASS)
            self.assertEqual(typ, "OK")
            # The post-login capabilities, in the tagged OK as Dovecot has them.
            self.assertRegex(data[0], rb"^\[CAPABILITY IMAP4rev1 .*\bIDLE\b.*\] Logged in$")
            typ, data = c.select("INBOX")
            self.assertEqual(typ, "OK", data)
            self.assertGreaterEqual(int(data[0]), 1)
            typ, data = c.fetch(b"1", "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertEqual(data[0][1], crlf(msg))
            self.assertEqual(c.logout()[0], "BYE")
        wait_until(lambda: re.search(r"imap-login\[\d+\]: Login: user=<%s>, method=PLAIN, "
                                     r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, TLS"
                                     % USER, self.inst.log()), 10, what="Login log line")

    def test_login_mailbox_unusable(self):
        """A mailbox the user's process cannot open: the login command gets
        a tagged NO [UNAVAILABLE] after the BYE, never "OK Logged in"."""
        user = "dora@example.com"
        self.inst.user_add(user, PASS)
        md = self.inst.maildir(user)
        shutil.rmtree(md)
        with open(md, "w") as f:
            f.write("not a Maildir\n")
        c = self.raw()
        c.send("a1 LOGIN %s %s\r\na2 NOOP\r\n" % (user, PASS))
        lines = [c.line(), c.line()]
        self.assertTrue(lines[0].startswith(b"* BYE [UNAVAILABLE]"), lines)
        self.assertTrue(lines[1].startswith(b"a1 NO [UNAVAILABLE]"), lines)
        self.assertTrue(c.closed())
        # A good mailbox of another user is unaffected.
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        self.assertEqual(c.login(USER, PASS)[0], "OK")
        self.assertEqual(c.select("INBOX")[0], "OK")
        c.logout()

    def test_login_pipelined_commands(self):
        """Commands sent in the same write as LOGIN reach the imap process
        (the bytes the login process read ahead travel with the hand-off)."""
        c = self.raw()
        c.send("a1 LOGIN %s %s\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n" % (USER, PASS))
        lines = []
        while True:
            ln = c.line()
            lines.append(ln)
            if ln.startswith(b"a3 "):
                break
        self.assertTrue(lines[0].startswith(b"a1 OK [CAPABILITY "), lines)
        self.assertTrue(any(x.startswith(b"a2 OK") for x in lines), lines)
        self.assertTrue(lines[-1].startswith(b"a3 OK"), lines)
        c.close()

    def test_garbage_and_long_lines(self):
        c = self.raw()
        self.assertTrue(c.cmd("a1 SELECT INBOX").startswith(b"a1 BAD"))
        self.assertTrue(c.cmd("\x01\x02 junk").startswith(b"* BAD"))
        c.send("a3 " + "A" * 40000)
        self.assertTrue(c.line().startswith(b"* BYE"))
        self.assertTrue(c.closed())
        other = self.raw()
        self.assertTrue(other.cmd("b NOOP").startswith(b"b OK"))
        other.close()

    def test_too_many_invalid_commands(self):
        c = self.raw()
        for i in range(9):
            self.assertTrue(c.cmd("x%d FOO" % i).startswith(b"x%d BAD" % i))
        self.assertTrue(c.cmd("x9 FOO").startswith(b"* BYE"))
        self.assertTrue(c.closed())


class ImapLoginPlaintextTest(ImapLoginBase):
    """No secured network: passwords only over TLS; a short idle time-out."""
    main_cf = {"login_secured_networks": "", "login_idle_timeout": "2s",
               "auth_failure_exceptions": "127.0.0.0/8"}

    def test_logindisabled_until_tls(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        caps = c.capability()[1][0].split()
        self.assertIn(b"LOGINDISABLED", caps)
        self.assertFalse(any(x.startswith(b"AUTH=") for x in caps))
        c.logout()
        c = self.raw()
        self.assertTrue(c.cmd("a LOGIN %s %s" % (USER, PASS)).startswith(
            b"a NO [PRIVACYREQUIRED]"))
        self.assertTrue(c.cmd("b AUTHENTICATE PLAIN").startswith(b"b NO [PRIVACYREQUIRED]"))
        c.cmd("c STARTTLS")
        c.starttls(tls_context(self.inst))
        c.send("d CAPABILITY\r\n")
        caps = c.line()
        self.assertIn(b"AUTH=PLAIN", caps)
        self.assertNotIn(b"LOGINDISABLED", caps)
        c.line()
        self.assertTrue(c.cmd("e LOGIN %s wrong" % USER).startswith(b"e NO [AUTHENTICATIONFAILED]"))
        c.close()

    def test_idle_timeout(self):
        c = self.raw()
        t0 = time.monotonic()
        self.assertEqual(c.line(), b"* BYE Disconnected for inactivity.\r\n")
        self.assertLess(time.monotonic() - t0, 15)
        self.assertTrue(c.closed())


if __name__ == "__main__":
    unittest.main()
