"""Quota at delivery: local checks each Maildir save (INBOX or a Sieve
fileinto) against the account's quota_rule from the users file ("tern
user add --quota"), the numbers IMAP's GETQUOTAROOT shows; over quota
the message is deferred (4.2.2, quota_full_tempfail = yes, the default)
and delivered once mail was expunged, or bounced (5.2.2) with
quota_full_tempfail = no.  An address with an extension is its
account's and counts against its quota.  smtpd asks local's quota-status
service (check_policy_service unix:private/quota-status, as Postfix asks
Dovecot's) and answers 452 4.2.2 at RCPT when the message (its SIZE=)
would not fit.  Crossing a quota_warning_percent mails the user a
warning."""
import imaplib
import os
import smtplib
import unittest

from local_util import LocalInstance, Users, home, need_root
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


class QuotaExtensionTest(QuotaBase):
    main_cf = {"recipient_delimiter": "+"}

    def test_extension_counts(self):
        self.send("one")
        self.assertIn("status=sent", self.wait_statuses(1)[0])
        ext = USER.replace("@", "+lists@")
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("alice@example.org", [ext], message("two"))
        line = wait_until(lambda: [l for l in self.inst.log().splitlines()
                                   if "to=<%s>" % ext in l and "relay=local" in l], 60,
                          what="the +lists delivery line")[0]
        self.assertIn("dsn=4.2.2, status=deferred", line)
        self.assertEqual(len(self.inbox()), 1)
        self.inst.tern("queue", "delete", "ALL", check=False)


class QuotaStatusTest(QuotaBase):
    main_cf = {"recipient_delimiter": "+",
               "smtpd_recipient_restrictions":
               "check_policy_service unix:private/quota-status, permit_mynetworks, "
               "reject_unauth_destination"}

    def rcpt(self, rcpt, size=None):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=60) as s:
            s.ehlo("client.example.org")
            code, _ = s.mail("alice@example.org", ["SIZE=%d" % size] if size else [])
            self.assertEqual(code, 250)
            return s.rcpt(rcpt)

    def test_rcpt_452_when_full(self):
        # empty: a message that fits is accepted, one whose SIZE= does not is not
        self.assertEqual(self.rcpt(USER, 4000)[0], 250)
        code, text = self.rcpt(USER, 20000)
        self.assertEqual(code, 452)
        self.assertTrue(text.startswith(b"4.2.2 "), text)
        self.assertIn(b"Mailbox is full", text)
        # an unknown recipient, a non-local one: the service does not know, smtpd goes on
        self.assertEqual(self.rcpt("nobody@example.com")[0], 550)
        self.send("one")  # about 5.8 KB of the 10 KB
        self.assertIn("status=sent", self.wait_statuses(1)[0])
        self.assertEqual(self.rcpt(USER)[0], 250)  # size unknown: 1 byte fits
        code, text = self.rcpt(USER.replace("@", "+lists@"), 6000)
        self.assertEqual(code, 452)
        self.assertTrue(text.startswith(b"4.2.2 "), text)
        self.assertEqual(self.rcpt(USER, 4000)[0], 250)
        log = self.inst.log()
        self.assertIn("quota-status: to=<%s>: over quota" % USER.replace("@", "+lists@"), log)
        self.assertEqual(len(self.inbox()), 1)


class QuotaWarningTest(QuotaBase):
    main_cf = {"quota_warning_percent": "50, 80"}

    def warnings(self):
        found = []
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(self.md, sub)):
                with open(os.path.join(self.md, sub, n), "rb") as f:
                    data = f.read()
                if b"Subject: Mailbox quota warning" in data:
                    found.append(data)
        return found

    def test_warnings_when_crossing(self):
        self.send("one")  # 0% -> about 58%: crosses 50
        wait_until(lambda: len(self.warnings()) == 1, 60, what="the 50% warning")
        w = self.warnings()[0]
        self.assertIn(b"Subject: Mailbox quota warning: 50% full", w)
        self.assertIn(b"Auto-Submitted: auto-generated", w)
        self.assertIn(b"To: <%s>" % USER.encode(), w)
        self.assertIn(b"of 10 KiB", w)
        self.assertIn("quota warning sent (50%)", self.inst.log())
        self.send("two", lines=30)  # about 65% -> 87%: crosses 80, not 50 again
        wait_until(lambda: len(self.warnings()) == 2, 60, what="the 80% warning")
        self.assertEqual(sorted(b"80% full" in w for w in self.warnings()), [False, True])
        self.assertEqual(self.inst.log().count("quota warning sent"), 2)
        self.assertEqual(len(self.inbox()), 4)


class QuotaSystemUserTest(unittest.TestCase):
    """A system user (home_mailbox Maildir) with a users-file line of its
    login name: its quota_rule applies to it and its +extension addresses,
    at delivery and at RCPT."""

    def setUp(self):
        need_root(self)
        self.users = Users()
        self.name = self.users.add()
        self.inst = LocalInstance(extra={
            "home_mailbox": "Maildir/",
            "smtpd_recipient_restrictions":
            "check_policy_service unix:private/quota-status, permit_mynetworks, "
            "reject_unauth_destination"})
        path = os.path.join(self.inst.etc, "users")
        with open(path, "a") as f:
            f.write("%s:{PLAIN}pw::::::userdb_quota_rule=*:storage=10K\n" % self.name)
        self.inst.start()

    def tearDown(self):
        self.inst.cleanup()
        self.users.remove_all()

    def rcpt(self, rcpt, size):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=60) as s:
            s.ehlo("client.example.org")
            self.assertEqual(s.mail("alice@example.org", ["SIZE=%d" % size])[0], 250)
            return s.rcpt(rcpt)[0]

    def test_system_user_quota(self):
        addr = self.name + "@localhost"
        self.assertEqual(self.rcpt(addr, 20000), 452)
        self.assertEqual(self.rcpt(self.name + "+x@localhost", 20000), 452)
        self.assertEqual(self.rcpt(addr, 4000), 250)
        self.inst.send(addr, subject="one", body=BODY * 80)
        self.assertEqual(self.inst.wait_status(addr)[0][0], "sent")
        # smtplib declares SIZE=: refused at RCPT
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            self.inst.send(self.name + "+x@localhost", subject="two", body=BODY * 80)
        self.assertEqual(list(cm.exception.recipients.values())[0][0], 452)
        # without SIZE= smtpd cannot tell (1 byte fits); local defers
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=60) as s:
            s.ehlo("client.example.org")
            s.mail("alice@example.org")
            self.assertEqual(s.rcpt(self.name + "+x@localhost")[0], 250)
            self.assertEqual(s.data(("Subject: two\r\n\r\n" + BODY * 80).encode())[0], 250)
        st = self.inst.wait_status(self.name + "+x@localhost")[0]
        self.assertEqual(st[0], "deferred")
        self.assertIn("mailbox full", st[1])
        self.assertEqual(len(os.listdir(os.path.join(home(self.name), "Maildir", "new"))), 1)


if __name__ == "__main__":
    unittest.main()
