"""tern user: one command makes an account that logs in and receives mail
with no other step; del stops both at once (and keeps or purges the
mail); passwd, quota, show, list --json, app passwords with a service
list; errors are clear exit codes."""
import json
import os
import smtplib
import subprocess
import time
import unittest

from auth_util import smtp_plain, submission, b64
from tern_instance import TERN, Instance, wait_until

ADDR, PW = "dora@example.com", "Dora's first password"
TABLE_RECHECK = 1.2  # smtpd notices a changed table within a second (table.c)


class UserCommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main_cf={"auth_failure_delay": "0", "auth_failure_limit": "0"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def deliver(self, to, subject):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("someone@example.org", [to],
                       ("Subject: %s\r\n\r\nhello\r\n" % subject).encode())

    def rcpt_code(self, to):
        """RCPT TO's reply code for to (the transaction is reset, nothing sent)."""
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.mail("someone@example.org")
            code = s.rcpt(to)[0]
            s.rset()
            return code

    def test_add_login_deliver_then_del(self):
        r = self.inst.user_add(ADDR, PW, "--quota", "50M")
        self.assertIn("added %s" % ADDR, r.stdout)
        maildir = self.inst.maildir(ADDR)
        # Every smtpd process checks its tables at most once a second.
        time.sleep(TABLE_RECHECK)
        for sub in ("cur", "new", "tmp"):
            self.assertTrue(os.path.isdir(os.path.join(maildir, sub)), sub)
        # Log in and send through submission, deliver to the new mailbox.
        c = submission(self.inst)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (ADDR, PW)))[0], 235)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % ADDR)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: from myself\r\n\r\nhi\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.close()
        self.deliver(ADDR, "from outside")
        wait_until(lambda: len(self.inst.messages(ADDR)) == 2, 20, what="two deliveries")
        show = json.loads(self.inst.tern("user", "show", ADDR, "--json").stdout)
        self.assertEqual(show["quota_bytes"], 50 << 20)
        self.assertEqual(show["messages"], 2)
        self.assertGreater(show["used_bytes"], 0)
        self.assertEqual(show["maildir"].rstrip("/"), maildir)
        # del: no login at once; no delivery once smtpd has seen the changed
        # virtual_mailbox table (it checks its tables at most once a second).
        self.inst.tern("user", "del", ADDR)
        self.assertEqual(smtp_plain(self.inst, ADDR, PW)[0], 535)
        time.sleep(TABLE_RECHECK)
        self.assertGreaterEqual(self.rcpt_code(ADDR), 500)
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            self.deliver(ADDR, "too late")
        self.assertEqual(len(self.inst.messages(ADDR)), 2)
        # Again, and this time purged.
        self.inst.user_add(ADDR, PW)
        self.assertEqual(smtp_plain(self.inst, ADDR, PW)[0], 235)
        self.inst.tern("user", "del", ADDR, "--purge")
        self.assertFalse(os.path.exists(maildir))

    def test_passwd_quota_list(self):
        addr = "erik@example.com"
        self.inst.user_add(addr, "one")
        self.inst.tern("user", "passwd", addr, "--stdin", input="two\n")
        self.assertEqual(smtp_plain(self.inst, addr, "one")[0], 535)
        self.assertEqual(smtp_plain(self.inst, addr, "two")[0], 235)
        self.inst.tern("user", "quota", addr, "2G")
        out = self.inst.tern("user", "quota", addr).stdout
        self.assertIn("of 2G", out)
        self.inst.tern("user", "quota", addr, "none")
        self.assertIn("of none", self.inst.tern("user", "quota", addr).stdout)
        listed = json.loads(self.inst.tern("user", "list", "--json").stdout)
        me = [u for u in listed if u["user"] == addr]
        self.assertEqual(len(me), 1)
        self.assertIsNone(me[0]["quota_rule"])
        self.assertFalse(me[0]["nologin"])
        # The password is still the new one after the quota edits.
        self.assertEqual(smtp_plain(self.inst, addr, "two")[0], 235)
        line = [l for l in open(os.path.join(self.inst.etc, "users")).read().splitlines()
                if l.startswith(addr + ":")][0]
        self.assertTrue(line.split(":")[1].startswith("{CRYPT}$y$"), line)
        self.assertNotIn("two", line.split(":")[1])
        self.assertEqual(oct(os.stat(os.path.join(self.inst.etc, "users")).st_mode & 0o777),
                         "0o640")

    def test_app_passwords(self):
        addr = "fred@example.com"
        self.inst.user_add(addr, "main password")
        out = self.inst.tern("user", "app-password", "add", addr, "phone", "--services",
                             "smtp").stdout
        secret = out.strip().rsplit(" ", 1)[1]
        self.assertEqual(len(secret), 24)
        out = self.inst.tern("user", "app-password", "add", addr, "tablet", "--services",
                             "imap").stdout
        tablet = out.strip().rsplit(" ", 1)[1]
        self.assertEqual(smtp_plain(self.inst, addr, secret)[0], 235)
        self.assertEqual(smtp_plain(self.inst, addr, tablet)[0], 535)  # imap only
        self.assertEqual(smtp_plain(self.inst, addr, "main password")[0], 235)
        listed = json.loads(self.inst.tern("user", "app-password", "list", addr,
                                           "--json").stdout)
        self.assertEqual(sorted(a["label"] for a in listed), ["phone", "tablet"])
        text = open(os.path.join(self.inst.etc, "app_passwords")).read()
        self.assertNotIn(secret, text)
        self.assertIn("{SSHA256}", text)
        self.inst.tern("user", "app-password", "revoke", addr, "phone")
        self.assertEqual(smtp_plain(self.inst, addr, secret)[0], 535)
        r = self.inst.tern("user", "app-password", "revoke", addr, "phone", check=False)
        self.assertEqual(r.returncode, 67)  # EX_NOUSER

    def test_errors(self):
        r = self.inst.user_add("x@not-ours.example", "pw", check=False)
        self.assertEqual(r.returncode, 65)  # EX_DATAERR
        self.assertIn("not in virtual_mailbox_domains", r.stderr)
        self.inst.user_add("gina@example.com", "pw")
        r = self.inst.user_add("GINA@example.com", "pw", check=False)
        self.assertEqual(r.returncode, 73)  # EX_CANTCREAT
        r = self.inst.tern("user", "del", "nobody@example.com", check=False)
        self.assertEqual(r.returncode, 67)
        r = self.inst.tern("user", "add", "bad:name@example.com", "--stdin", check=False,
                           input="pw\n")
        self.assertEqual(r.returncode, 64)
        r = self.inst.user_add("hugo@example.com", "pw", "--quota", "lots", check=False)
        self.assertEqual(r.returncode, 64)
        r = self.inst.tern("user", "add", "ivan@example.com", "--stdin", check=False, input="")
        self.assertEqual(r.returncode, 65)
        r = self.inst.user_add("jan@example.com", "pw", "--scheme", "MD5", check=False)
        self.assertNotEqual(r.returncode, 0)


def etc_tern_state():
    """What /etc/tern holds (names, sizes, mtimes), or None when absent."""
    if not os.path.exists("/etc/tern"):
        return None
    out = {}
    for top, dirs, files in os.walk("/etc/tern"):
        for n in dirs + files:
            st = os.lstat(os.path.join(top, n))
            out[os.path.join(top, n)] = (st.st_size, st.st_mtime_ns)
    return out


class SystemWideUserTest(unittest.TestCase):
    """tern user without -c: the system-wide configuration, found as every
    tern command finds it (tern.1: $TERN_CONFIG, else /etc/tern).  The
    test points TERN_CONFIG at a private instance's etc/ (a unique temp
    folder), so it runs next to any other test and never touches the
    machine's /etc/tern, which it checks is left exactly as it was."""

    @classmethod
    def setUpClass(cls):
        cls.etc_before = etc_tern_state()
        cls.inst = Instance(main_cf={"auth_failure_delay": "0", "auth_failure_limit": "0"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def system_tern(self, *args, env_config=True, check=True, **kw):
        """tern ARGS with no -c, from / (no relative path can help)."""
        env = {k: v for k, v in os.environ.items() if k != "TERN_CONFIG"}
        if env_config:
            env["TERN_CONFIG"] = self.inst.etc
        return subprocess.run([TERN] + list(args), check=check, capture_output=True, text=True,
                              timeout=60, cwd="/", env=env, **kw)

    def test_add_login_deliver_del_without_c(self):
        addr, pw = "sysuser@example.com", "system-wide password"
        r = self.system_tern("user", "add", addr, "--stdin", input=pw + "\n")
        self.assertIn("added %s" % addr, r.stdout)
        listed = json.loads(self.system_tern("user", "list", "--json").stdout)
        self.assertIn(addr, [u["user"] for u in listed])
        # The same account as the instance's own tern sees it.
        self.assertIn(addr, self.inst.tern("user", "list").stdout)
        time.sleep(TABLE_RECHECK)
        self.assertEqual(smtp_plain(self.inst, addr, pw)[0], 235)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("someone@example.org", [addr], b"Subject: system-wide\r\n\r\nhi\r\n")
        wait_until(lambda: len(self.inst.messages(addr)) == 1, 20, what="the delivery")
        self.system_tern("user", "del", addr)
        self.assertEqual(smtp_plain(self.inst, addr, pw)[0], 535)
        self.assertNotIn(addr, self.inst.tern("user", "list").stdout)
        self.assertEqual(etc_tern_state(), self.etc_before)

    def test_no_config_anywhere(self):
        """Neither -c nor TERN_CONFIG: /etc/tern is read, never created; on
        a machine without it the command fails with EX_CONFIG."""
        r = self.system_tern("user", "list", env_config=False, check=False)
        if self.etc_before is None:
            self.assertEqual(r.returncode, 78, r.stderr)  # EX_CONFIG
            self.assertIn("/etc/tern", r.stderr)
        self.assertEqual(etc_tern_state(), self.etc_before)


if __name__ == "__main__":
    unittest.main()
