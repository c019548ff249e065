"""Sieve at delivery: mail sent through smtpd is filed by the recipient's
~/.dovecot.sieve (a virtual mailbox's directory is its "~") into the
Maildir folder the script names; keep on error; discard, redirect,
reject, flags, the global sieve_before script, vacation replies sent
once per sender and never to a list, and enotify's mailto notifications
(never about a notification)."""
import glob
import os
import re
import time
import unittest

from tern_instance import Instance, wait_until

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


class SieveLocalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE, BOB, CAROL],
                            main_cf={"smtp_dns_resolver": "127.0.0.1:1"})
        cls.before = os.path.join(cls.inst.dir, "before.sieve")
        with open(cls.before, "w") as f:
            f.write('require ["fileinto", "imap4flags", "mailbox"];\n'
                    'if header :contains "X-Spam-Flag" "YES" { addflag "$Junk"; fileinto :create "Junk"; }\n')
        os.chmod(cls.before, 0o644)
        cls.inst.append_main_cf({"sieve_before": cls.before})
        # spamtest/virustest read SpamAssassin's and an antivirus milter's
        # header fields (Pigeonhole's settings)
        cls.inst.append_main_cf([
            ("sieve_spamtest_status_header",
             r"X-Spam-Status: [[:alpha:]]+, score=(-?[[:digit:]]+\.[[:digit:]]+)"),
            ("sieve_spamtest_max_header",
             r"X-Spam-Status: [[:alpha:]]+, score=-?[[:digit:]]+\.[[:digit:]]+ "
             r"required=([[:digit:]]+\.[[:digit:]]+)"),
            ("sieve_virustest_status_type", "text"),
            ("sieve_virustest_status_header", "X-Virus-Status"),
            ("sieve_virustest_text_values", "1=Clean, 5=Infected"),
        ])
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def script(self, addr, text):
        # made as the owner of the instance's mail directory, as local
        # would make them
        st = os.stat(os.path.join(self.inst.dir, "mail"))
        d = self.inst.maildir(addr)
        for sub in (os.path.dirname(d), d):
            if not os.path.isdir(sub):
                os.mkdir(sub, 0o700)
                os.chown(sub, st.st_uid, st.st_gid)
        path = os.path.join(d, ".dovecot.sieve")
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, st.st_uid, st.st_gid)

    def send(self, rcpt, subject, sender="someone@example.org", headers="", to=None):
        import smtplib
        msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n%s\r\nbody\r\n"
               % (sender, to or rcpt, subject, subject.replace(" ", "."), headers))
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail(sender, [rcpt], msg.encode())

    def files(self, addr, folder=None):
        base = self.inst.maildir(addr)
        if folder:
            base = os.path.join(base, "." + folder)
        return sorted(glob.glob(os.path.join(base, "new", "*")) +
                      glob.glob(os.path.join(base, "cur", "*")))

    def wait_file(self, addr, subject, folder=None, timeout=30):
        def found():
            for p in self.files(addr, folder):
                with open(p, "rb") as f:
                    if ("Subject: " + subject).encode() in f.read():
                        return p
            return None
        return wait_until(found, timeout, what="%r in %s/%s\n%s" %
                          (subject, addr, folder, self.inst.log()[-3000:]))

    def wait_log(self, text, timeout=30):
        return wait_until(lambda: text in self.inst.log(), timeout,
                          what="%r in the log\n%s" % (text, self.inst.log()[-3000:]))

    def in_folder(self, addr, subject, folder=None):
        for p in self.files(addr, folder):
            with open(p, "rb") as f:
                if ("Subject: " + subject).encode() in f.read():
                    return True
        return False

    def test_fileinto_folder_and_keep(self):
        self.script(ALICE, 'require ["fileinto", "mailbox"];\n'
                           'if header :contains "subject" "report" { fileinto :create "Reports"; stop; }\n'
                           'if header :contains "subject" "nofolder" { fileinto "Missing"; }\n')
        self.send(ALICE, "weekly report")
        self.send(ALICE, "plain hello")
        self.send(ALICE, "nofolder here")
        self.wait_file(ALICE, "weekly report", "Reports")
        self.wait_file(ALICE, "plain hello")
        # a folder that does not exist (no :create): INBOX, never lost
        self.wait_file(ALICE, "nofolder here")
        self.assertFalse(self.in_folder(ALICE, "weekly report"))
        self.assertFalse(os.path.exists(os.path.join(self.inst.maildir(ALICE), ".Missing")))

    def test_changed_script_is_compiled_again(self):
        # local keeps compiled scripts; an edit in place (same inode and
        # size, new mtime) must be seen by the next delivery
        text = 'require ["fileinto", "mailbox"];\nfileinto :create "%s";\n'
        self.script(CAROL, text % "One")
        for i in range(3):
            self.send(CAROL, "cached %d" % i)
            self.wait_file(CAROL, "cached %d" % i, "One")
        self.script(CAROL, text % "Two")
        self.send(CAROL, "after edit")
        self.wait_file(CAROL, "after edit", "Two")
        self.assertFalse(self.in_folder(CAROL, "after edit", "One"))
        os.unlink(os.path.join(self.inst.maildir(CAROL), ".dovecot.sieve"))
        self.send(CAROL, "no script")
        self.wait_file(CAROL, "no script")

    def test_script_error_keeps(self):
        self.script(BOB, 'require ["fileinto"];\nif header :bogus "x" { discard; }\n')
        self.send(BOB, "kept despite error")
        self.wait_file(BOB, "kept despite error")
        self.wait_log("does not compile, keeping the message")

    def test_discard_redirect_flags(self):
        self.script(CAROL, 'require ["imap4flags", "fileinto"];\n'
                           'if header :contains "subject" "trash" { discard; stop; }\n'
                           'if header :contains "subject" "for bob" { redirect "bob@example.com"; stop; }\n'
                           'if header :contains "subject" "flag me" { addflag "\\\\Seen"; addflag "\\\\Flagged"; }\n')
        self.send(CAROL, "trash this")
        self.send(CAROL, "for bob please")
        self.send(CAROL, "flag me now")
        p = self.wait_file(CAROL, "flag me now")
        self.assertTrue(p.endswith(":2,FS") or p.endswith(":2,SF") or ":2,FS" in p, p)
        self.wait_file(BOB, "for bob please")
        self.wait_log("sieve: discarded")
        time.sleep(1)
        self.assertFalse(self.in_folder(CAROL, "trash this"))
        self.assertFalse(self.in_folder(CAROL, "for bob please"))

    def test_sieve_before_junk(self):
        addr = "dave@example.com"
        self.inst.add_mailbox(addr)
        time.sleep(1.5)  # smtpd looks at the table at most once a second
        self.send(addr, "spam offer", headers="X-Spam-Flag: YES\r\n")
        self.send(addr, "ham letter")
        p = self.wait_file(addr, "spam offer", "Junk")
        with open(p, "rb") as f:
            self.assertIn(b"X-Spam-Flag: YES", f.read())
        self.wait_file(addr, "ham letter")
        self.assertFalse(self.in_folder(addr, "spam offer"))

    def test_vacation_once_and_never_to_lists(self):
        addr, other = "erin@example.com", "frank@example.com"
        self.inst.add_mailbox(addr)
        self.inst.add_mailbox(other)
        time.sleep(1.5)
        self.script(addr, 'require ["vacation"];\n'
                          'vacation :days 1 :subject "Out of office" "I am away until Monday.";\n')
        self.send(addr, "first question", sender=other)
        reply = self.wait_file(other, "Out of office")
        with open(reply, "rb") as f:
            text = f.read()
        self.assertIn(b"Auto-Submitted: auto-replied", text)
        self.assertIn(b"In-Reply-To: <first.question@example.org>", text)
        self.assertIn(b"I am away until Monday.", text)
        self.assertIn(b"Return-Path: <>", text)
        # its own Message-ID (RFC 5322 3.6.4), made here, one of a kind
        self.assertEqual(len(re.findall(rb"(?im)^Message-ID: <\d+\.\w+\.vacation\.[0-9a-f]{8}@", text)), 1)
        self.wait_file(addr, "first question")
        # the same sender again within the period: no second reply
        self.send(addr, "second question", sender=other)
        self.wait_file(addr, "second question")
        self.wait_log("already replied to this sender")
        # a list message: never answered
        self.send(addr, "list post", sender="list-bounces@example.org",
                  headers="List-Id: <dev.example.org>\r\n")
        self.wait_file(addr, "list post")
        self.wait_log("message is from a mailing list")
        time.sleep(1)
        replies = [p for p in self.files(other) if b"Out of office" in open(p, "rb").read()]
        self.assertEqual(len(replies), 1)

    def test_enotify_mailto(self):
        addr, other = "nina@example.com", "oscar@example.com"
        self.inst.add_mailbox(addr)
        self.inst.add_mailbox(other)
        time.sleep(1.5)
        # the notification goes to oscar and, as Cc, to nina herself: her
        # script sees it again and must not notify about a notification
        self.script(addr, 'require ["enotify", "variables"];\n'
                          'if header :matches "Subject" "*" { set :encodeurl "enc" "${1}"; '
                          'set "subj" "${1}"; }\n'
                          'notify :importance "1" :from "nina@example.com" '
                          ':message "New mail: ${subj}" '
                          '"mailto:oscar@example.com?cc=nina@example.com&X-Tag=${enc}";\n')
        self.send(addr, "hello there", sender="peter@example.org")
        note = self.wait_file(other, "New mail: hello there")
        with open(note, "rb") as f:
            text = f.read()
        self.assertIn(b'Auto-Submitted: auto-notified; owner-email="nina@example.com"', text)
        self.assertIn(b"From: nina@example.com", text)
        self.assertIn(b"To: oscar@example.com", text)
        self.assertIn(b"Cc: nina@example.com", text)
        self.assertIn(b"Importance: High", text)
        self.assertIn(b"X-Tag: hello there\n", text)  # :encodeurl, %-decoded from the URI
        self.assertIn(b"Message-ID: <", text)
        self.assertIn(b"Return-Path: <nina@example.com>", text)  # :from is the envelope sender
        self.assertIn(b"Notification of new message.", text)
        # the original is kept (notify does not cancel the implicit keep),
        # and so is nina's copy of the notification, which notified nobody
        self.wait_file(addr, "hello there")
        self.wait_file(addr, "New mail: hello there")
        self.wait_log("X-Tag=New%20mail%3A%20hello%20there: message is auto-submitted")
        # a message from the null sender: the notification goes from <>
        self.send(addr, "delivery report", sender="")
        note = self.wait_file(other, "New mail: delivery report")
        with open(note, "rb") as f:
            self.assertIn(b"Return-Path: <>", f.read())
        time.sleep(1)
        notes = [p for p in self.files(other) if b"New mail:" in open(p, "rb").read()]
        self.assertEqual(len(notes), 2)

    def test_reject_bounces(self):
        addr, sender = "gina@example.com", "henry@example.com"
        self.inst.add_mailbox(addr)
        self.inst.add_mailbox(sender)
        time.sleep(1.5)
        self.script(addr, 'require ["reject"];\nreject "I do not accept mail.";\n')
        self.send(addr, "please read", sender=sender)
        self.wait_log("dsn=5.7.1, status=bounced (I do not accept mail.)")
        wait_until(lambda: any(b"I do not accept mail." in open(p, "rb").read()
                               for p in self.files(sender)), 30, what="bounce to the sender")
        self.assertFalse(self.in_folder(addr, "please read"))

    def test_spamtest_virustest(self):
        addr = "ivan@example.com"
        self.inst.add_mailbox(addr)
        time.sleep(1.5)
        self.script(addr, 'require ["spamtestplus", "virustest", "fileinto", "relational", '
                          '"comparator-i;ascii-numeric", "variables", "mailbox"];\n'
                          'if virustest :value "ge" :comparator "i;ascii-numeric" "4" '
                          '{ fileinto :create "Virus"; stop; }\n'
                          'if spamtest :is "0" { fileinto :create "Untested"; stop; }\n'
                          'if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "80" '
                          '{ fileinto :create "Junk"; stop; }\n'
                          'if spamtest :matches "*" { fileinto :create "Score${1}"; }\n')
        sa = "X-Spam-Status: %s, score=%s required=5.0 tests=NONE\r\n"
        self.send(addr, "very spammy", headers=sa % ("Yes", "9.1"))
        self.send(addr, "a bit spammy", headers=sa % ("No", "3.0"))
        self.send(addr, "not scanned")
        self.send(addr, "infected", headers=sa % ("No", "0.1") + "X-Virus-Status: Infected\r\n")
        self.send(addr, "clean", headers=sa % ("No", "0.0") + "X-Virus-Status: Clean\r\n")
        self.wait_file(addr, "very spammy", "Junk")
        self.wait_file(addr, "a bit spammy", "Score6")   # 3.0/5.0 -> 1 + 9 * 0.6
        self.wait_file(addr, "not scanned", "Untested")
        self.wait_file(addr, "infected", "Virus")
        self.wait_file(addr, "clean", "Score1")

    def test_editheader_stored(self):
        addr = "judy@example.com"
        self.inst.add_mailbox(addr)
        time.sleep(1.5)
        self.script(addr, 'require ["editheader", "fileinto", "mailbox", "variables"];\n'
                          'deleteheader "X-Remove-Me";\n'
                          'deleteheader "Received";\n'
                          'if header :matches "subject" "*" { deleteheader "subject"; '
                          'addheader :last "Subject" "[edited] ${1}"; }\n'
                          'addheader "X-Sieve" "caf\u00e9";\n'
                          'if header :is "x-sieve" "caf\u00e9" { fileinto :create "Edited"; }\n')
        self.send(addr, "edit me", headers="X-Remove-Me: yes\r\nX-Keep: kept\r\n")
        p = self.wait_file(addr, "[edited] edit me", "Edited")
        with open(p, "rb") as f:
            data = f.read()
        head, _, body = data.partition(b"\n\n")
        self.assertTrue(head.startswith(b"Return-Path: <someone@example.org>\nDelivered-To: " +
                                        addr.encode() + b"\nX-Sieve: =?UTF-8?B?Y2Fmw6k=?=\n"), head)
        self.assertNotIn(b"X-Remove-Me", head)
        self.assertIn(b"X-Keep: kept", head)
        self.assertIn(b"Received: ", head)          # never deleted
        self.assertEqual(head.count(b"Subject:"), 1)
        self.assertTrue(head.endswith(b"Subject: [edited] edit me"), head)
        self.assertEqual(body, b"body\n")
        # the Maildir size in the name (S=) is the edited file's
        import re
        m = re.search(r",S=(\d+)", os.path.basename(p))
        if m:
            self.assertEqual(int(m.group(1)), len(data))

    def test_redirect_carries_edited_header(self):
        """editheader then redirect: the redirected copy (a new queue file
        through cleanup) has the edited header, the kept copy too."""
        addr, target = "kate@example.com", "liam@example.com"
        self.inst.add_mailbox(addr)
        self.inst.add_mailbox(target)
        time.sleep(1.5)
        self.script(addr, 'require ["editheader", "copy"];\n'
                          'deleteheader "X-Private";\n'
                          'addheader "X-Redirected-By" "kate";\n'
                          'redirect :copy "%s";\n' % target)
        self.send(addr, "pass it on", headers="X-Private: secret\r\n")
        p = self.wait_file(target, "pass it on")
        with open(p, "rb") as f:
            head = f.read().partition(b"\n\n")[0]
        self.assertIn(b"\nX-Redirected-By: kate\n", head)
        self.assertNotIn(b"X-Private", head)
        self.assertIn(b"Delivered-To: " + addr.encode(), head)  # loop detection
        p = self.wait_file(addr, "pass it on")
        with open(p, "rb") as f:
            head = f.read().partition(b"\n\n")[0]
        self.assertIn(b"X-Redirected-By: kate", head)
        self.assertNotIn(b"X-Private", head)

    def test_tern_check_rejects_bad_spamtest_settings(self):
        inst = Instance(mailboxes=[ALICE])
        try:
            inst.append_main_cf({"sieve_spamtest_status_header": "X-Spam-Score: (unclosed"})
            r = inst.tern("check", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("invalid regular expression", r.stdout + r.stderr)
            inst.append_main_cf({"sieve_spamtest_status_header": "X-Spam-Score",
                                 "sieve_spamtest_max_value": "10"})
            r = inst.tern("check", check=False)
            self.assertNotIn("spamtest", r.stdout + r.stderr)
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
