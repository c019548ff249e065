"""Quota at delivery: local checks each Maildir save (INBOX or a Sieve
fileinto) against the account's quota_rule from the users file ("tern
user add --quota"), the numbers IMAP's GETQUOTAROOT shows; over quota
the message is deferred (4.2.2, quota_full_tempfail = yes, the default)
and delivered once mail was expunged, or bounced (5.2.2) with
quota_full_tempfail = no."""
import imaplib
import os
import smtplib
import unittest

from tern_instance import Instance, wait_log, wait_until

USER = "dave@example.com"
PASS = "quota-secret-1"
BODY = "x" * 70 + "\r\n"


def message(subject, lines=80):
    return ("From: alice@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\n%s" %
            (USER, subject, BODY * lines)).encode()


class QuotaBase(unittest.TestCase):
    main_cf = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(imap=True, main_cf=cls.main_cf)
        cls.inst.user_add(USER, PASS, "--quota", "10K")
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.imap_port), 30, what="imap port")
        # logins before auth is ready fail temporarily
        wait_until(lambda: any("/auth[" in l and "ready:" in l
                               for l in cls.inst.log().splitlines()), 30, what="auth ready")
        cls.md = cls.inst.maildir(USER)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, subject, lines=80):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("alice@example.org", [USER], message(subject, lines))

    def statuses(self):
        return [l for l in self.inst.log().splitlines()
                if "to=<%s>" % USER in l and "relay=local" in l]

    def wait_statuses(self, n):
        return wait_until(lambda: len(self.statuses()) >= n and self.statuses(), 60,
                          what="%d delivery lines" % n)

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        try:
            m.login(USER, PASS)
        except imaplib.IMAP4.error:
            raise AssertionError("login failed; log:\n" + self.inst.log()[-4000:])
        return m

    def inbox(self):
        return sorted(os.listdir(os.path.join(self.md, "new")) +
                      os.listdir(os.path.join(self.md, "cur")))


class QuotaDeferTest(QuotaBase):
    def test_defer_then_deliver_after_expunge(self):
        self.send("one")  # about 5.8 KB each, 10 KB allowed
        self.assertIn("status=sent", self.wait_statuses(1)[0])
        self.send("two")
        line = self.wait_statuses(2)[1]
        self.assertIn("dsn=4.2.2, status=deferred", line)
        self.assertIn("mailbox full", line)
        self.assertEqual(len(self.inbox()), 1)
        # IMAP shows the same limit and the usage local counted
        m = self.imap()
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        used, limit = map(int, data[1][0].split(b"STORAGE ")[1].rstrip(b")").split())
        self.assertEqual(limit, 10)
        self.assertGreaterEqual(used, 5)
        # APPEND is refused by the same numbers
        typ, data = m.append("INBOX", None, None, message("appended"))
        self.assertEqual(typ, "NO")
        self.assertIn(b"OVERQUOTA", data[0])
        m.select("INBOX")
        m.store("1:*", "+FLAGS", "\\Deleted")
        m.expunge()
        m.logout()
        self.assertEqual(self.inbox(), [])
        self.inst.tern("queue", "flush")
        wait_until(lambda: any("status=sent" in l for l in self.statuses()[2:]), 90,
                   what="the deferred message delivered")
        names = self.inbox()
        self.assertEqual(len(names), 1)
        sub = "new" if os.path.exists(os.path.join(self.md, "new", names[0])) else "cur"
        with open(os.path.join(self.md, sub, names[0]), "rb") as f:
            self.assertIn(b"Subject: two", f.read())

    def test_sieve_fileinto_counts(self):
        # empty the mailbox first (expunged through IMAP: maildirsize follows)
        m = self.imap()
        m.select("INBOX")
        m.store("1:*", "+FLAGS", "\\Deleted")
        m.expunge()
        m.logout()
        with open(os.path.join(self.md, ".dovecot.sieve"), "w") as f:
            f.write('require ["fileinto", "mailbox"];\nfileinto :create "Big";\n')
        os.chown(os.path.join(self.md, ".dovecot.sieve"), os.stat(self.md).st_uid,
                 os.stat(self.md).st_gid)
        try:
            before = len(self.statuses())
            self.send("filed one")
            wait_until(lambda: len(self.statuses()) > before, 60, what="first filed")
            self.assertIn("status=sent", self.statuses()[before])
            self.send("filed two")
            wait_until(lambda: len(self.statuses()) > before + 1, 60, what="second filed")
            self.assertIn("dsn=4.2.2, status=deferred", self.statuses()[before + 1])
            self.assertEqual(len(os.listdir(os.path.join(self.md, ".Big", "new"))), 1)
        finally:
            os.unlink(os.path.join(self.md, ".dovecot.sieve"))
            self.inst.tern("queue", "delete", "ALL", check=False)


class QuotaBounceTest(QuotaBase):
    main_cf = {"quota_full_tempfail": "no"}

    def test_bounce(self):
        self.send("one")
        self.assertIn("status=sent", self.wait_statuses(1)[0])
        self.send("two")
        line = self.wait_statuses(2)[1]
        self.assertIn("dsn=5.2.2, status=bounced", line)
        self.assertIn("Quota exceeded", line)
        self.assertEqual(len(self.inbox()), 1)
        wait_log(self.inst, "sender non-delivery notification")


if __name__ == "__main__":
    unittest.main()
