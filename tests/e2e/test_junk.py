"""Junk filing at delivery: a message marked as spam (X-Spam-Flag: YES as
SpamAssassin writes it, X-Spam: Yes as rspamd's milter adds it, or a
mark a header_checks PREPEND adds) is stored into the Junk folder of a
Maildir delivered without Sieve; an unmarked one into INBOX; with a Sieve
script the script decides (its keep goes to INBOX)."""
import glob
import os
import smtplib
import unittest

from tern_instance import Instance, wait_until

ALICE = "alice@example.com"
BOB = "bob@example.com"


class JunkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE, BOB])
        checks = os.path.join(cls.inst.etc, "header_checks")
        with open(checks, "w") as f:
            f.write("/^Subject: .*cheap pills/ PREPEND X-Spam-Flag: YES\n")
        cls.inst.append_main_cf({"header_checks": "pcre:" + checks})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, rcpt, text):
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.sendmail("sender@example.org", [rcpt], text.replace("\n", "\r\n").encode())
        finally:
            c.quit()

    def folder(self, addr, name):
        sub = "" if name == "INBOX" else "." + name
        out = []
        for p in glob.glob(os.path.join(self.inst.maildir(addr), sub, "new", "*")):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_in(self, addr, name, marker):
        wait_until(lambda: any(marker.encode() in m for m in self.folder(addr, name)), 30,
                   what="%r in %s of %s\n%s" % (marker, name, addr, self.inst.log()[-2000:]))

    def test_marked_messages_go_to_junk(self):
        self.send(ALICE, "Subject: sa\nX-Spam-Flag: YES\nX-Id: j1\n\nspam\n")
        self.send(ALICE, "Subject: rspamd\nX-Spam: yes\nX-Id: j2\n\nspam\n")
        self.send(ALICE, "Subject: buy cheap pills\nX-Id: j3\n\nspam\n")
        self.send(ALICE, "Subject: hello\nX-Id: h1\nX-Spam-Flag: NO\n\nham\n")
        for marker in ("X-Id: j1", "X-Id: j2", "X-Id: j3"):
            self.wait_in(ALICE, "Junk", marker)
        self.wait_in(ALICE, "INBOX", "X-Id: h1")
        inbox = b"".join(self.folder(ALICE, "INBOX"))
        self.assertNotIn(b"X-Id: j", inbox)
        self.assertNotIn(b"X-Id: h1", b"".join(self.folder(ALICE, "Junk")))
        self.assertIn('marked as spam: stored into "Junk"', self.inst.log())

    def test_sieve_decides(self):
        # bob's Maildir is made by a first delivery, then he gets a Sieve
        # script that keeps everything.
        self.send(BOB, "Subject: first\nX-Id: s0\n\nham\n")
        self.wait_in(BOB, "INBOX", "X-Id: s0")
        path = os.path.join(self.inst.maildir(BOB), ".dovecot.sieve")
        with open(path, "w") as f:
            f.write("keep;\n")
        os.chmod(path, 0o644)
        self.send(BOB, "Subject: sa\nX-Spam-Flag: YES\nX-Id: s1\n\nspam\n")
        self.wait_in(BOB, "INBOX", "X-Id: s1")
        self.assertEqual(self.folder(BOB, "Junk"), [])


if __name__ == "__main__":
    unittest.main()


class InitAntispamTest(unittest.TestCase):
    """tern init --antispam writes a configuration tern check accepts, with
    greylisting on and rspamd's milter when rspamd is installed."""

    def test_init_antispam(self):
        import shutil
        import subprocess
        import tempfile
        from tern_instance import TERN, free_port
        d = tempfile.mkdtemp(prefix="tern-antispam-init-")
        self.addCleanup(shutil.rmtree, d, True)
        subprocess.run([TERN, "init", d, "--antispam", "--smtp", "127.0.0.1:%d" % free_port(),
                        "--submission", "127.0.0.1:%d" % free_port()], check=True,
                       capture_output=True, timeout=60)
        check = subprocess.run([TERN, "-c", d, "check"], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        def conf(name):
            return subprocess.run([TERN, "-c", d, "conf", "-h", name], capture_output=True,
                                  text=True, check=True, timeout=60).stdout.strip()
        self.assertIn("check_greylist", conf("smtpd_recipient_restrictions"))
        self.assertIn("reject_unauth_destination", conf("smtpd_recipient_restrictions"))
        milters = conf("smtpd_milters")
        if os.access("/usr/bin/rspamd", os.X_OK):
            self.assertEqual(milters, "inet:127.0.0.1:11332")
            self.assertEqual(conf("milter_default_action"), "accept")
        else:
            self.assertEqual(milters, "")
