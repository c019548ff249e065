"""SMTP AUTH (RFC 4954) through the auth service, with accounts in the
legacy smtpd_sasl_password_maps table that "tern passwd" writes (auth
still reads it for SMTP): PLAIN and LOGIN over TLS on the submission
service, failures answered 535 5.7.8 after auth's growing delay (and
logged by auth), AUTH only inside TLS, sender login maps, and swaks as a
real client.  The users file, SCRAM, penalties and the login socket are
tested in test_auth*.py."""
import base64
import os
import smtplib
import subprocess
import time
import unittest

from smtpd_util import Conn, tls_context, wait_log
from tern_instance import TERN, Instance, wait_until

USER = "alice@example.com"
PASSWORD = "correct horse battery staple"


def b64(s):
    return base64.b64encode(s.encode()).decode()


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER, "bob@example.com"],
                            main_cf={"auth_failure_delay": "1s",
                                     "auth_failure_delay_max": "4s"})
        logins = os.path.join(cls.inst.etc, "sender_logins")
        with open(logins, "w") as f:
            f.write("alice@example.com alice\n@example.net alice, carol\n")
        with open(cls.inst.main_cf_path, "a") as f:
            f.write("smtpd_sender_login_maps = texthash:%s\n" % logins)
            f.write("smtpd_sender_restrictions = reject_sender_login_mismatch\n")
        for user, pw in (("alice", PASSWORD), ("carol", "carols secret")):
            subprocess.run([TERN, "passwd", "-c", cls.inst.dir, "--stdin", user],
                           input=pw + "\n", text=True, check=True, timeout=30)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def submission(self):
        c = Conn(self.inst.submission_port)
        self.assertEqual(c.reply()[0], 220)
        c.ehlo()
        c.starttls(tls_context(self.inst))
        code, exts = c.ehlo()
        self.assertIn("AUTH PLAIN LOGIN", exts)
        return c

    def test_passwd_writes_yescrypt_hashes(self):
        with open(os.path.join(self.inst.etc, "sasl_passwd")) as f:
            lines = f.read().splitlines()
        users = {l.split()[0]: l.split()[1] for l in lines}
        self.assertEqual(sorted(users), ["alice", "carol"])
        self.assertTrue(users["alice"].startswith("$y$"), users)
        self.assertNotIn(PASSWORD, open(os.path.join(self.inst.etc, "sasl_passwd")).read())

    def test_plain_success_and_delivery(self):
        c = self.submission()
        code, lines = c.cmd("AUTH PLAIN " + b64("\0alice\0" + PASSWORD))
        self.assertEqual(code, 235, lines)
        self.assertIn("2.7.0", lines[0])
        code, exts = c.ehlo()
        self.assertFalse([e for e in exts if e.startswith("AUTH")])
        self.assertEqual(c.cmd("MAIL FROM:<alice@example.com> AUTH=alice")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@example.com>")[0], 250)
        # Relaying is what authentication is for.
        self.assertEqual(c.cmd("RCPT TO:<someone@outside.example>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: authenticated\r\n\r\nhello\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        msg = wait_until(lambda: [m for m in self.inst.messages("bob@example.com")
                                  if b"authenticated" in m], 20, what="delivery")[0]
        self.assertIn(b"with ESMTPSA id", msg)
        wait_log(self.inst, "sasl_method=PLAIN, sasl_username=alice")

    def test_plain_with_separate_response_and_login(self):
        c = self.submission()
        code, lines = c.cmd("AUTH PLAIN")
        self.assertEqual(code, 334)
        self.assertEqual(c.cmd(b64("alice\0alice\0" + PASSWORD))[0], 235)
        c.close()
        c = self.submission()
        code, lines = c.cmd("AUTH LOGIN")
        self.assertEqual((code, lines), (334, ["VXNlcm5hbWU6"]))
        code, lines = c.cmd(b64("carol"))
        self.assertEqual((code, lines), (334, ["UGFzc3dvcmQ6"]))
        self.assertEqual(c.cmd(b64("carols secret"))[0], 235)
        c.close()
        c = self.submission()
        code, _ = c.cmd("AUTH LOGIN " + b64("carol"))
        self.assertEqual(code, 334)
        self.assertEqual(c.cmd(b64("carols secret"))[0], 235)
        c.close()

    def test_failures_get_535_after_growing_delay(self):
        c = self.submission()
        delays = []
        for attempt in range(2):
            t0 = time.monotonic()
            code, lines = c.cmd("AUTH PLAIN " + b64("\0alice\0wrong"))
            delays.append(time.monotonic() - t0)
            self.assertEqual(code, 535, lines)
            self.assertTrue(lines[0].startswith("5.7.8"), lines)
        self.assertGreaterEqual(delays[0], 0.9)
        self.assertGreaterEqual(delays[1], 1.9)
        # An unknown user looks just the same.
        code, lines = c.cmd("AUTH LOGIN " + b64("mallory"))
        self.assertEqual(code, 334)
        self.assertEqual(c.cmd(b64("x"))[0], 535)
        c.close()
        wait_log(self.inst, "sasl-table(alice,127.0.0.1,")
        wait_log(self.inst, "): Password mismatch (service=smtp, method=PLAIN")
        wait_log(self.inst, "passwd-file(mallory,127.0.0.1,")

    def test_delay_does_not_hold_other_clients(self):
        bad = self.submission()
        bad.send("AUTH PLAIN " + b64("\0alice\0wrong") + "\r\n")
        t0 = time.monotonic()
        good = self.submission()
        self.assertEqual(good.cmd("AUTH PLAIN " + b64("\0alice\0" + PASSWORD))[0], 235)
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertEqual(bad.reply()[0], 535)
        bad.close()
        good.close()

    def test_bad_input(self):
        c = self.submission()
        self.assertEqual(c.cmd("AUTH CRAM-MD5")[0], 504)
        self.assertEqual(c.cmd("AUTH PLAIN")[0], 334)
        self.assertEqual(c.cmd("*")[0], 501)
        self.assertEqual(c.cmd("AUTH PLAIN not-base64!")[0], 501)
        self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0alice\0" + PASSWORD))[0], 503)
        c.close()

    def test_no_auth_without_tls(self):
        c = Conn(self.inst.smtp_port)
        c.reply()
        code, exts = c.ehlo()
        self.assertFalse([e for e in exts if e.startswith("AUTH")], exts)
        code, lines = c.cmd("AUTH PLAIN " + b64("\0alice\0" + PASSWORD))
        self.assertIn(code, (503, 538), lines)
        c.close()

    def test_sender_login_mismatch(self):
        c = self.submission()
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0carol\0carols secret"))[0], 235)
        self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>")[0], 250)
        code, lines = c.cmd("RCPT TO:<bob@example.com>")
        self.assertEqual(code, 553, lines)
        self.assertIn("not owned by user carol", lines[0])
        c.cmd("RSET")
        self.assertEqual(c.cmd("MAIL FROM:<anyone@example.net>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@example.com>")[0], 250)
        c.close()

    def test_swaks_tls_auth(self):
        p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.inst.submission_port,
                            "--tls", "--auth", "PLAIN", "--auth-user", "alice",
                            "--auth-password", PASSWORD, "--from", "alice@example.com",
                            "--to", "bob@example.com", "--header", "Subject: via swaks"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("235 2.7.0", p.stdout)
        wait_until(lambda: [m for m in self.inst.messages("bob@example.com") if b"via swaks" in m],
                   20, what="swaks delivery")
        p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.inst.submission_port,
                            "--tls", "--auth", "LOGIN", "--auth-user", "alice",
                            "--auth-password", "nope", "--from", "alice@example.com",
                            "--to", "bob@example.com"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("535 5.7.8", p.stdout)


class PasswdCommandTest(unittest.TestCase):
    def test_update_and_delete(self):
        inst = Instance()
        try:
            path = os.path.join(inst.etc, "sasl_passwd")
            for pw in ("one", "two"):
                subprocess.run([TERN, "-c", inst.dir, "passwd", "--stdin", "dave"],
                               input=pw + "\n", text=True, check=True, timeout=30)
            lines = open(path).read().splitlines()
            self.assertEqual(len(lines), 1)
            self.assertEqual(oct(os.stat(path).st_mode & 0o777), "0o640")
            subprocess.run([TERN, "-c", inst.dir, "passwd", "-d", "dave"], check=True, timeout=30)
            self.assertEqual(open(path).read(), "")
            r = subprocess.run([TERN, "-c", inst.dir, "passwd", "--stdin", "dave"],
                               input="", text=True, timeout=30, capture_output=True)
            self.assertNotEqual(r.returncode, 0)
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
