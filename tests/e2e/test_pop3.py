"""POP3 end to end: pop3-login (STLS, pop3s, USER/PASS, AUTH with an
initial response, CAPA) and the user's pop3 process (STAT, LIST, UIDL,
RETR byte-exact with dot-stuffing, TOP, DELE at QUIT only, RSET,
[IN-USE], UTF8 and the header downgrade for clients without it), with
Python's poplib, raw sockets, curl and fetchmail; UIDLs
compared with Debian's Dovecot pop3 on the same Maildir."""
import base64
import email
import email.header
import os
import poplib
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from login_util import (Lines, crlf, dovecot_pop3, dovecot_uidls, put_message, start_instance,
                        tls_context)
from tern_instance import wait_until

USER = "bob@example.com"
PASS = "pop-secret-1"
# a password in UTF-8, for RFC 6856's "UTF8 USER"
U8USER = "carol@example.com"
U8PASS = "g\u00e9h\u00e9im-\u00fc\u00df-\u5bc6"

MESSAGES = [
    b"From: a@example.org\nSubject: one\n\nline1\n.dot line\n..two dots\n.\nend\n",
    b"From: a@example.org\r\nSubject: crlf\r\n\r\nalready crlf\r\n.\r\n",
    b"Subject: no final newline\n\nlast line without end",
    b"Subject: eight bit\n\n\xc3\xa9t\xc3\xa9 \xff\n" + b"x" * 5000 + b"\n",
]


class Pop3Base(unittest.TestCase):
    main_cf = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({USER: PASS, U8USER: U8PASS}, pop3=True, main_cf=cls.main_cf)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        md = self.inst.maildir(USER)
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(md, sub)):
                os.unlink(os.path.join(md, sub, n))

    def login(self):
        p = poplib.POP3("127.0.0.1", self.inst.pop3_port, timeout=30)
        p.user(USER)
        self.assertTrue(p.pass_(PASS).startswith(b"+OK"))
        return p

    def raw_login(self):
        c = Lines(self.inst.pop3_port)
        self.assertTrue(c.line().startswith(b"+OK"))
        self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
        self.assertEqual(c.cmd("PASS " + PASS), b"+OK Logged in.\r\n")
        return c


class Pop3Test(Pop3Base):
    def test_retr_byte_exact(self):
        md = self.inst.maildir(USER)
        for m in MESSAGES:
            put_message(md, m)
            time.sleep(0.01)
        c = self.raw_login()
        stat = c.cmd("STAT").split()
        self.assertEqual(stat[0], b"+OK")
        self.assertEqual(int(stat[1]), len(MESSAGES))
        self.assertTrue(c.cmd("LIST").startswith(b"+OK"))
        sizes = [int(l.split()[1]) for l in c.multiline().splitlines()]
        got = []
        for i in range(1, len(MESSAGES) + 1):
            first = c.cmd("RETR %d" % i)
            self.assertRegex(first, rb"^\+OK \d+ octets\r\n$")
            got.append(c.multiline())
        # Byte-exact with CRLF line ends.  LIST gives RFC822.SIZE (the
        # message with CRLF line ends); a message without a final line end
        # gets one before the "." (RFC 1939 3), which its size does not
        # count, as with Dovecot.
        want = [crlf(m) + (b"" if m.endswith(b"\n") else b"\r\n") for m in MESSAGES]
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual(sorted(sizes), sorted(len(crlf(m)) for m in MESSAGES))
        self.assertEqual(int(stat[2]), sum(sizes))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.close()

    UTF8_MSG = ("From: J\u00f6rg <j\u00f6rg@ex\u00e4mple.org>\nTo: bob@example.com\n"
                "Subject: Gr\u00fc\u00dfe aus K\u00f6ln, ein langer Betreff \u00fcber\n"
                "  zwei Zeilen\nX-Plain: ascii\n\nK\u00f6rper \u00e9\n").encode()

    def test_utf8_client_gets_the_header_as_stored(self):
        put_message(self.inst.maildir(USER), self.UTF8_MSG)
        p = poplib.POP3("127.0.0.1", self.inst.pop3_port, timeout=30)
        self.assertTrue(p.utf8().startswith(b"+OK"))
        p.user(USER)
        self.assertTrue(p.pass_(PASS).startswith(b"+OK"))
        resp, lines, _ = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", crlf(self.UTF8_MSG))
        # UTF8 is for the AUTHORIZATION state only (RFC 6856 2)
        with self.assertRaises(poplib.error_proto):
            p._shortcmd("UTF8")
        p.quit()

    def test_utf8_password_after_utf8(self):
        c = Lines(self.inst.pop3_port)
        c.line()
        self.assertEqual(c.cmd("UTF8"), b"+OK UTF8 enabled\r\n")
        self.assertTrue(c.cmd("USER " + U8USER).startswith(b"+OK"))
        # after UTF8 the arguments must be UTF-8 (RFC 6856 2)
        c.send(b"PASS g\xe9h\xe9im\r\n")
        self.assertEqual(c.line(), b"-ERR [AUTH] Invalid UTF-8.\r\n")
        self.assertTrue(c.cmd("USER " + U8USER).startswith(b"+OK"))
        self.assertTrue(c.cmd("PASS " + U8PASS[:-1]).startswith(b"-ERR [AUTH]"))
        self.assertTrue(c.cmd("USER " + U8USER).startswith(b"+OK"))
        self.assertEqual(c.cmd("PASS " + U8PASS), b"+OK Logged in.\r\n")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK"))
        self.assertTrue(c.cmd("UTF8").startswith(b"-ERR"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.close()

    def test_header_downgraded_for_a_client_without_utf8(self):
        put_message(self.inst.maildir(USER), self.UTF8_MSG)
        p = self.login()
        for resp, lines, _ in (p.retr(1), p.top(1, 0)):
            end = lines.index(b"")
            for ln in lines[:end]:
                self.assertTrue(all(b < 0x80 for b in ln), ln)
            msg = email.message_from_bytes(b"\r\n".join(lines) + b"\r\n")

            def text(name):
                return str(email.header.make_header(email.header.decode_header(msg[name])))
            self.assertEqual(text("From"), "J\u00f6rg <j\u00f6rg@ex\u00e4mple.org> :;")
            self.assertEqual(text("Subject"), "Gr\u00fc\u00dfe aus K\u00f6ln, ein langer "
                             "Betreff \u00fcber  zwei Zeilen")
            self.assertEqual(msg["To"], "bob@example.com")
            self.assertEqual(msg["X-Plain"], "ascii")
        # the body is not header: it goes as stored (8-bit MIME is the
        # client's business, as before UTF8 existed)
        self.assertEqual(lines[end + 1:], [])
        resp, lines, _ = p.retr(1)
        self.assertEqual(lines[lines.index(b"") + 1:], ["K\u00f6rper \u00e9".encode()])
        p.quit()

    def test_dot_stuffing_on_the_wire(self):
        put_message(self.inst.maildir(USER), b"Subject: d\n\n.\n.x\n")
        c = self.raw_login()
        c.cmd("RETR 1")
        lines = []
        while True:
            ln = c.line()
            lines.append(ln)
            if ln == b".\r\n":
                break
        self.assertEqual(lines, [b"Subject: d\r\n", b"\r\n", b"..\r\n", b"..x\r\n", b".\r\n"])
        c.cmd("QUIT")

    def test_top(self):
        put_message(self.inst.maildir(USER), b"Subject: t\nX: y\n\nb1\nb2\nb3\n")
        p = self.login()
        resp, lines, _ = p.top(1, 2)
        self.assertEqual(lines, [b"Subject: t", b"X: y", b"", b"b1", b"b2"])
        resp, lines, _ = p.top(1, 0)
        self.assertEqual(lines, [b"Subject: t", b"X: y", b""])
        p.quit()

    def test_dele_at_quit_only(self):
        md = self.inst.maildir(USER)
        for i in range(3):
            put_message(md, b"Subject: m%d\n\nbody\n" % i)
        # Deleted, then the connection drops: nothing is deleted.
        c = self.raw_login()
        self.assertTrue(c.cmd("DELE 1").startswith(b"+OK"))
        self.assertTrue(c.cmd("RETR 1").startswith(b"-ERR"))
        self.assertEqual(c.cmd("STAT").split()[1], b"2")
        c.close()
        wait_until(lambda: self._lock_free(), 10, what="session end")
        p = self.login()
        self.assertEqual(p.stat()[0], 3)
        # RSET forgets deletions.
        p.dele(1)
        p.rset()
        self.assertEqual(p.stat()[0], 3)
        p.dele(1)
        p.dele(3)
        p.quit()
        p = self.login()
        self.assertEqual(p.stat()[0], 1)
        self.assertIn(b"Subject: m1", b"\n".join(p.retr(1)[1]))
        p.quit()
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))) +
                         len(os.listdir(os.path.join(md, "cur"))), 1)

    def _lock_free(self):
        try:
            p = self.login()
        except poplib.error_proto:
            return False
        p.quit()
        return True

    def test_in_use(self):
        put_message(self.inst.maildir(USER), b"Subject: x\n\nx\n")
        p = self.login()
        c = Lines(self.inst.pop3_port)
        c.line()
        c.cmd("USER " + USER)
        r = c.cmd("PASS " + PASS)
        self.assertTrue(r.startswith(b"-ERR [IN-USE]"), r)
        self.assertTrue(c.closed())
        p.quit()
        p = self.login()  # free again after QUIT
        p.quit()

    def test_uidl_equals_dovecot(self):
        md = self.inst.maildir(USER)
        for i in range(5):
            put_message(md, b"Subject: u%d\n\nbody\n" % i)
        p = self.login()
        ours = {int(l.split()[0]): l.split()[1].decode() for l in p.uidl()[1]}
        p.quit()
        self.assertEqual(len(ours), 5)
        self.assertEqual(ours, dovecot_uidls(md))
        for n, u in ours.items():
            self.assertRegex(u, r"^[0-9a-f]{16}$")  # %08Xu%08Xv

    def test_uidl_of_a_maildir_dovecot_numbered(self):
        """Dovecot gives the UIDs first (a mailbox moving over): tern
        keeps them, and so the UIDLs."""
        md = self.inst.maildir(USER)
        for i in range(4):
            put_message(md, b"Subject: d%d\n\nbody\n" % i)
        # Dovecot numbers the Maildir (in place this time) ...
        st = os.stat(md)
        d = tempfile.mkdtemp(prefix="tern-dc-")
        os.chmod(d, 0o755)
        try:
            conf = os.path.join(d, "dovecot.conf")
            with open(conf, "w") as f:
                f.write("mail_location = maildir:%s\nlog_path = %s/l\nssl = no\n" % (md, d))
            subprocess.run(["setpriv", "--reuid=%d" % st.st_uid, "--regid=%d" % st.st_gid,
                            "--clear-groups", "env", "-i", "USER=x", "HOME=%s" % d,
                            "/usr/lib/dovecot/pop3", "-c", conf],
                           input=b"UIDL\r\nQUIT\r\n", capture_output=True, timeout=30, check=True)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        theirs = dovecot_uidls(md)
        p = self.login()
        ours = {int(l.split()[0]): l.split()[1].decode() for l in p.uidl()[1]}
        p.quit()
        self.assertEqual(ours, theirs)

    def test_capa_and_errors(self):
        c = Lines(self.inst.pop3_port)
        c.line()
        self.assertEqual(c.cmd("CAPA"), b"+OK\r\n")
        caps = c.multiline().decode().split("\r\n")
        for cap in ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "UTF8 USER",
                    "STLS", "USER"):
            self.assertIn(cap, caps)
        self.assertTrue(any(x.startswith("SASL ") and "PLAIN" in x for x in caps), caps)
        self.assertTrue(c.cmd("STAT").startswith(b"-ERR"))
        self.assertTrue(c.cmd("PASS x").startswith(b"-ERR No username"))
        c.cmd("USER " + USER)
        self.assertTrue(c.cmd("PASS wrong").startswith(b"-ERR [AUTH]"))
        self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
        self.assertEqual(c.cmd("PASS " + PASS), b"+OK Logged in.\r\n")
        self.assertTrue(c.cmd("RETR 99").startswith(b"-ERR There's no message 99"))
        self.assertTrue(c.cmd("RETR abc").startswith(b"-ERR"))
        self.assertTrue(c.cmd("TOP 1").startswith(b"-ERR"))
        self.assertTrue(c.cmd("FOO").startswith(b"-ERR"))
        self.assertTrue(c.cmd("NOOP").startswith(b"+OK"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(c.closed())

    def test_auth_plain_initial_response_and_pipelining(self):
        put_message(self.inst.maildir(USER), b"Subject: p\n\nx\n")
        c = Lines(self.inst.pop3_port)
        c.line()
        ir = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASS.encode()).decode()
        # RFC 2449 PIPELINING: the login and what follows in one write.
        c.send("AUTH PLAIN %s\r\nSTAT\r\nUIDL 1\r\nQUIT\r\n" % ir)
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        self.assertEqual(c.line(), b"+OK 1 %d\r\n" % len(crlf(b"Subject: p\n\nx\n")))
        self.assertTrue(c.line().startswith(b"+OK 1 "))
        self.assertTrue(c.line().startswith(b"+OK Logging out"))
        self.assertTrue(c.closed())

    def test_auth_plain_continuation_and_cancel(self):
        c = Lines(self.inst.pop3_port)
        c.line()
        self.assertEqual(c.cmd("AUTH PLAIN"), b"+ \r\n")
        self.assertTrue(c.cmd("*").startswith(b"-ERR"))
        self.assertEqual(c.cmd("AUTH PLAIN"), b"+ \r\n")
        resp = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASS.encode()).decode()
        self.assertEqual(c.cmd(resp), b"+OK Logged in.\r\n")
        c.cmd("QUIT")

    def test_stls(self):
        put_message(self.inst.maildir(USER), b"Subject: s\n\nx\n")
        p = poplib.POP3("127.0.0.1", self.inst.pop3_port, timeout=30)
        p.stls(tls_context(self.inst))
        self.assertNotIn("STLS", p.capa())
        p.user(USER)
        p.pass_(PASS)
        self.assertEqual(p.stat()[0], 1)
        self.assertEqual(p.retr(1)[1], [b"Subject: s", b"", b"x"])
        p.quit()
        wait_until(lambda: re.search(r"pop3-login\[\d+\]: Login: user=<%s>, method=PLAIN, "
                                     r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, TLS" % USER,
                                     self.inst.log()), 10, what="Login log line")

    def test_pop3s_large_message(self):
        """Implicit TLS, and a message larger than every buffer on the
        way: relayed with back-pressure, byte-exact."""
        body = b"".join(b"line %06d %s\n" % (i, b"y" * 60) for i in range(40000))
        put_message(self.inst.maildir(USER), b"Subject: big\n\n" + body)
        p = poplib.POP3_SSL("127.0.0.1", self.inst.pop3s_port, context=tls_context(self.inst),
                            timeout=30)
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        p.user(USER)
        p.pass_(PASS)
        resp, lines, octets = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", crlf(b"Subject: big\n\n" + body))
        p.quit()

    def test_curl(self):
        put_message(self.inst.maildir(USER), b"Subject: curl\n\nhello curl\n")
        r = subprocess.run(["curl", "-s", "--max-time", "20",
                            "pop3://127.0.0.1:%d/1" % self.inst.pop3_port,
                            "-u", "%s:%s" % (USER, PASS)], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Subject: curl\r\n\r\nhello curl\r\n")

    def test_fetchmail(self):
        md = self.inst.maildir(USER)
        for i in range(3):
            put_message(md, b"Subject: fm%d\n\nfetch me %d\n" % (i, i))
        d = tempfile.mkdtemp(prefix="tern-fetchmail-")
        try:
            rc = os.path.join(d, "rc")
            out = os.path.join(d, "out")
            with open(rc, "w") as f:
                f.write('poll 127.0.0.1 service %d protocol pop3 uidl auth password\n'
                        '  user "%s" password "%s" sslproto "" mda "cat >> %s"\n'
                        % (self.inst.pop3_port, USER, PASS, out))
            os.chmod(rc, 0o600)
            env = dict(os.environ, HOME=d, FETCHMAILHOME=d)
            r = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(d, "ids"),
                                "--nodetach", "--nosyslog", "-a"],
                               capture_output=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out, "rb") as f:
                got = f.read()
            for i in range(3):
                self.assertIn(b"fetch me %d" % i, got)
            # Without -a (--all) and with the same UIDL file nothing is new.
            r = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(d, "ids"),
                                "--nodetach", "--nosyslog", "-k"],
                               capture_output=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # 1: no new mail
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_long_line_and_garbage(self):
        c = Lines(self.inst.pop3_port)
        c.line()
        c.send(b"\x00\x01\x02 garbage\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        c.send(b"A" * 20000)
        self.assertTrue(c.line().startswith(b"-ERR"))
        self.assertTrue(c.closed())
        # Others are unaffected.
        p = self.login()
        p.quit()


class Pop3PlaintextTest(Pop3Base):
    """login_disable_plaintext_auth with no secured network: passwords
    only after STLS (or on pop3s)."""
    main_cf = {"login_secured_networks": "", "auth_failure_exceptions": "127.0.0.0/8",
               "pop3_expire": "NEVER", "pop3_login_delay": "60"}

    def test_capa_expire_login_delay(self):
        """RFC 2449 EXPIRE and LOGIN-DELAY, as configured."""
        c = Lines(self.inst.pop3_port)
        c.line()
        c.send("CAPA\r\n")
        c.line()
        caps = c.multiline().decode().split("\r\n")
        self.assertIn("EXPIRE NEVER", caps)
        self.assertIn("LOGIN-DELAY 60", caps)
        c.close()

    def test_plaintext_refused_until_tls(self):
        c = Lines(self.inst.pop3_port)
        c.line()
        c.send("CAPA\r\n")
        c.line()
        caps = c.multiline().decode().split("\r\n")
        self.assertNotIn("USER", caps)
        self.assertIn("STLS", caps)
        r = c.cmd("USER " + USER)
        self.assertTrue(r.startswith(b"-ERR [AUTH] Plaintext authentication disallowed"), r)
        self.assertTrue(c.cmd("AUTH PLAIN").startswith(b"-ERR [AUTH]"))
        self.assertTrue(c.cmd("STLS").startswith(b"+OK"))
        c.starttls(tls_context(self.inst))
        self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
        self.assertEqual(c.cmd("PASS " + PASS), b"+OK Logged in.\r\n")
        c.cmd("QUIT")

    def test_stls_injection_discarded(self):
        """Commands sent with STLS in the clear are dropped (RFC 2595 /
        the CVE-2011-0411 class)."""
        c = Lines(self.inst.pop3_port)
        c.line()
        c.send("STLS\r\nUSER injected\r\n")
        self.assertTrue(c.line().startswith(b"+OK"))
        c.starttls(tls_context(self.inst))
        self.assertTrue(c.cmd("PASS x").startswith(b"-ERR No username"))
        c.close()


class Pop3ImapTest(unittest.TestCase):
    """POP3 deletions reach IMAP sessions of the same mailbox as EXPUNGEs."""

    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({USER: PASS}, pop3=True, imap=True)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_dele_seen_as_expunge(self):
        import imaplib
        md = self.inst.maildir(USER)
        for i in range(3):
            put_message(md, b"Subject: x%d\n\nbody %d\n" % (i, i))
        im = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        im.login(USER, PASS)
        typ, data = im.select("INBOX")
        self.assertEqual(int(data[0]), 3)
        p = poplib.POP3("127.0.0.1", self.inst.pop3_port, timeout=30)
        p.user(USER)
        p.pass_(PASS)
        p.dele(2)
        self.assertEqual(im.noop()[0], "OK")
        self.assertNotIn("EXPUNGE", im.untagged_responses)  # not before QUIT
        p.quit()

        def expunged():
            im.noop()
            return im.untagged_responses.get("EXPUNGE")
        self.assertEqual(wait_until(expunged, 5, what="EXPUNGE"), [b"2"])
        typ, data = im.search(None, "ALL")
        self.assertEqual(data[0].split(), [b"1", b"2"])
        typ, data = im.fetch(b"2", "(BODY.PEEK[TEXT])")
        self.assertEqual(data[0][1], b"body 2\r\n")
        im.logout()


if __name__ == "__main__":
    unittest.main()
