"""Debian's own Postfix configuration, as its package writes it for the three
debconf types that run a mail system ("Internet Site", "Internet with
smarthost", "Satellite system"), plus Debian's stock master.cf, run as a
tern instance.

The files are generated at test time by the installed postfix package's
own configuration (tern_instance.debian_postfix_config: dpkg-reconfigure
with preseeded answers in a throw-away root); nothing of Postfix's is
written by hand.  The test adds only the lines that make them an instance
(queue, programs, log, a mail spool in the test's folder), points myorigin
at the generated /etc/mailname (the machine's own is not touched), moves
the smtp service to a free port and keeps the listeners on loopback.

What this checks is the configuration and supervision half of issue 13:
tern check reports exactly what tern does not implement (the transports
of master.cf it cannot serve; Debian's defer_unauth_destination is
implemented and says nothing),
the instance starts, Postfix's helper services are skipped with one log
line each, and local mail from sendmail (plain and cron-style -t) is
delivered with the origin from /etc/mailname.  An outside client
(mynetworks narrowed to a documentation network, since tests run on
loopback) gets Postfix's exact relay refusal (Debian's
defer_unauth_destination: 454) and can send to a local user and to a
virtual alias of that user (the test adds virtual_alias_maps), delivered
once.  Debian's commented submission service, uncommented as an operator
does (only its "#submission" and "#  -o" lines), serves mail clients:
STARTTLS required, no AUTH before it, nothing relayed without AUTH, and
an authenticated client's mail to user+tag (Debian's recipient_delimiter)
reaches the user's mailbox.  The test supplies what the machine would:
the certificate Debian's main.cf names (ssl-cert's snakeoil pair is not
installed here, so the instance's own) and SASL (Postfix would
ask Dovecot, whose Debian default is PAM; tern's auth_system_users is
the same) with the test user's password.
"""
import grp
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from local_util import mbox_messages
from sendmail_util import SubmitInstance, TestUser
from smtp_util import make_cert
from smtpd_util import Conn, tls_context
from tern_instance import DEBIAN_MAILER_TYPES, debian_postfix_config, wait_until

MAILNAME = "mail.example.org"
SUBMIT_PW = "debian-submit-3"
UNSERVED = ()
# Debian's pipe services: served, by processes started on demand only.
PIPES = ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend", "mailman")
SKIPPED = ("tlsmgr", "rewrite", "bounce", "defer", "trace", "verify", "flush", "proxymap",
           "proxywrite", "retry", "anvil", "scache", "postlog")


def line_of(text, prefix):
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(prefix):
            return n
    raise AssertionError("no line starting with %r" % prefix)


class DebianConfigMixin:
    MAILER = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("generating Debian's configuration needs root")
        cls.main_cf, cls.master_cf, mailname = debian_postfix_config(cls.MAILER, MAILNAME)
        assert mailname.strip() == MAILNAME, mailname
        cls.user = TestUser()
        cls.inst = SubmitInstance()
        cls.tmp = tempfile.mkdtemp(prefix="tern-debian-run-")
        os.chmod(cls.tmp, 0o755)
        cls.spool = os.path.join(cls.tmp, "spool")
        os.mkdir(cls.spool)
        os.chown(cls.spool, 0, grp.getgrnam("mail").gr_gid)
        os.chmod(cls.spool, 0o2775)
        cls.mailname_file = os.path.join(cls.tmp, "mailname")
        with open(cls.mailname_file, "w") as f:
            f.write(mailname)
        cls.install()
        cls.check = cls.inst.tern("check", check=False)
        cls.start = cls.inst.tern("start", check=False)
        if cls.start.returncode == 0:
            cls.inst.started = True

    @classmethod
    def install(cls):
        """Debian's files as the instance's, plus the instance's plumbing."""
        plumbing = {}
        with open(cls.inst.main_cf_path) as f:
            for line in f:
                name = line.split("=")[0].strip()
                if name in ("queue_directory", "daemon_directory", "command_directory",
                            "maillog_file", "mail_owner", "setgid_group"):
                    plumbing[name] = line.split("=", 1)[1].strip()
        plumbing["mail_spool_directory"] = cls.spool
        plumbing["myorigin"] = cls.mailname_file
        # The test client connects over loopback, which Debian's mynetworks
        # trusts: without it, the test client is an outside one.
        plumbing["mynetworks"] = "192.0.2.0/24"
        # What an operator adds first: virtual aliases (issue 13).
        valias = os.path.join(cls.tmp, "virtual")
        with open(valias, "w") as f:
            f.write("alias.example  anything\nhello@alias.example  %s@%s\n"
                    % (cls.user.name, MAILNAME))
        plumbing["virtual_alias_maps"] = "texthash:" + valias
        if "inet_interfaces = loopback-only" not in cls.main_cf:
            plumbing["inet_interfaces"] = "loopback-only"
        # The pair Debian's main.cf names is ssl-cert's, absent here.
        plumbing["smtpd_tls_cert_file"], plumbing["smtpd_tls_key_file"] = make_cert(
            cls.tmp, MAILNAME)
        plumbing["auth_system_users"] = "yes"
        with open(cls.inst.main_cf_path, "w") as f:
            f.write(cls.main_cf)
        cls.inst.append_main_cf(plumbing, "tern instance plumbing (the test's, not Debian's)")
        master, n = re.subn(r"(?m)^smtp(\s+inet\s)", r"%d\1" % cls.inst.smtp_port,
                            cls.master_cf)
        assert n == 1
        # The submission service: its line and its "-o" lines uncommented.
        lines, on = [], False
        for line in master.splitlines():
            if line.startswith("#submission "):
                on = True
                line = "127.0.0.1:%d" % cls.inst.submission_port + line[len("#submission"):]
            elif on and line.startswith("#  -o "):
                line = line[1:]
            elif on and not line.startswith("#     "):
                on = False
            lines.append(line)
        master = "\n".join(lines) + "\n"
        assert "127.0.0.1:%d " % cls.inst.submission_port in master
        cls.inst.write_master_cf(master)
        # SASL for the machine's users, through PAM (Postfix would ask
        # Dovecot, whose Debian default is PAM too).
        subprocess.run(["chpasswd"], input="%s:%s\n" % (cls.user.name, SUBMIT_PW), text=True,
                       check=True)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.user.remove()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_check_reports_exactly_the_unsupported(self):
        master = self.inst.master_cf_path
        want = set()
        for name in UNSERVED:
            want.add("%s:%d: service %s (unix, " % (master, line_of(self.master_cf, name + " "),
                                                    name))
        got = [l for l in self.check.stderr.splitlines() if l.startswith("tern check: ")]
        self.assertEqual([l for l in got if ": error: " in l], [])
        warnings = [l for l in got if l.startswith("tern check: warning: ")]
        for w in want:
            self.assertEqual(len([l for l in warnings if w in l]), 1, "%s\n%s" % (w, got))
        self.assertEqual(len(warnings), len(want), "\n".join(warnings))
        self.assertEqual(self.check.returncode, 0, self.check.stderr)

    def test_pipe_and_lmtp_services_served_on_demand(self):
        """Debian's pipe lines (users and programs mostly absent) and its
        lmtp line get their sockets and no process until mail comes."""
        self.assertEqual(self.start.returncode, 0, self.start.stderr + self.inst.log())
        for name in PIPES + ("lmtp", "virtual"):
            self.assertTrue(os.path.exists(os.path.join(self.inst.queue, "private", name)),
                            name)
            self.assertNotIn("service %s (unix" % name, self.check.stderr)
        self.assertEqual(self.inst.pids_of("pipe"), [])
        # showq (mailq for every user) too, in public/ as Postfix's.
        self.assertTrue(os.path.exists(os.path.join(self.inst.queue, "public", "showq")))
        self.assertNotIn("service showq (unix", self.check.stderr)
        self.assertEqual(self.inst.pids_of("showq"), [])

    def test_starts_and_skips_postfix_services_once_each(self):
        self.assertEqual(self.start.returncode, 0, self.start.stderr + self.inst.log())
        log = self.inst.log()
        for name in SKIPPED:
            self.assertEqual(len(re.findall(r"service %s \([a-z-]+, [^)]*\): skipped" % name,
                                            log)), 1, name)
        self.assertNotIn("unknown parameter", log)
        c = smtplib.SMTP(timeout=30)
        code, banner = c.connect("127.0.0.1", self.inst.smtp_port)
        c.quit()
        self.assertEqual(code, 220)
        self.assertRegex(banner.decode(), r"^vm ESMTP tern \(Debian/GNU\)$".replace(
            "vm", re.escape(self.inst.main_cf_value("myhostname"))))

    def test_local_mail_with_the_origin_of_etc_mailname(self):
        self.assertEqual(self.start.returncode, 0, self.start.stderr)
        env = self.user.env(TERN_CONFIG=self.inst.etc)
        box = os.path.join(self.spool, self.user.name)
        r = self.user.run([self.inst.sendmail, self.user.name],
                          input=b"Subject: plain sendmail\n\nhello\n", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        # cron's call: headers give the recipient.
        r = self.user.run([self.inst.sendmail, "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
                           "-oi", "-t"],
                          input=("From: root (Cron Daemon)\nTo: %s\nSubject: Cron <%s@vm> date"
                                 "\n\nMon Jan  1\n" % (self.user.name, self.user.name)).encode(),
                          env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = wait_until(lambda: len(mbox_messages(box)) >= 2 and mbox_messages(box), 30,
                          what="two messages in %s\n%s" % (box, self.inst.log()[-3000:]))
        origin = "<%s@%s>" % (self.user.name, MAILNAME)
        subjects = sorted(m["Subject"] for m in msgs)
        self.assertEqual(subjects, ["Cron <%s@vm> date" % self.user.name, "plain sendmail"])
        for m in msgs:
            self.assertEqual(m["Return-Path"], origin)
            self.assertEqual(m["Delivered-To"], "%s@%s" % (self.user.name, MAILNAME))
        wait_until(lambda: not self.inst.queue_files(("incoming", "active", "deferred")), 30,
                   what="an empty queue: nothing deferred")


    def test_outside_client_local_user_alias_and_relay(self):
        """From outside mynetworks: Debian's defer_unauth_destination
        refuses relaying with Postfix's exact reply; a local user and a
        virtual alias of that user are accepted, and the message reaches
        the mailbox once (duplicate removed after alias expansion)."""
        self.assertEqual(self.start.returncode, 0, self.start.stderr)
        box = os.path.join(self.spool, self.user.name)
        local = "%s@%s" % (self.user.name, MAILNAME)
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.ehlo("client.example.org")
            self.assertEqual(c.mail("someone@example.net")[0], 250)
            self.assertEqual(c.rcpt("user@outside.example"),
                             (454, b"4.7.1 <user@outside.example>: Relay access denied"))
            self.assertEqual(c.rcpt("nobody@alias.example"),
                             (550, b"5.1.1 <nobody@alias.example>: Recipient address "
                                   b"rejected: User unknown in virtual alias table"))
            self.assertEqual(c.rcpt(local)[0], 250)
            self.assertEqual(c.rcpt("hello@alias.example")[0], 250)
            code, _ = c.data(b"Subject: from outside\r\n\r\nhello\r\n")
            self.assertEqual(code, 250)
        finally:
            c.quit()
        wait_until(lambda: any(m["Subject"] == "from outside" for m in mbox_messages(box)), 30,
                   what="the message from outside in %s\n%s" % (box, self.inst.log()[-3000:]))
        wait_until(lambda: not self.inst.queue_files(("incoming", "active", "deferred")), 30,
                   what="an empty queue: nothing deferred")
        got = [m for m in mbox_messages(box) if m["Subject"] == "from outside"]
        self.assertEqual(len(got), 1)

    def test_submission_service(self):
        self.assertEqual(self.start.returncode, 0, self.start.stderr)
        self.assertIn("recipient_delimiter = +", self.main_cf)
        box = os.path.join(self.spool, self.user.name)
        wait_until(lambda: self.inst.listeners(self.inst.submission_port), 30,
                   what="the submission listener")
        c = Conn(self.inst.submission_port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        code, ext = c.ehlo()
        self.assertEqual(code, 250)
        self.assertFalse([e for e in ext if e.startswith("AUTH")], ext)  # tls_auth_only
        # smtpd_tls_security_level = encrypt
        sender = "%s@%s" % (self.user.name, MAILNAME)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender),
                         (530, ["5.7.0 Must issue a STARTTLS command first"]))
        c.starttls(tls_context())
        code, ext = c.ehlo()
        self.assertIn("AUTH PLAIN LOGIN", ext)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        # smtpd_recipient_restrictions = permit_sasl_authenticated,reject
        code, text = c.cmd("RCPT TO:<%s+tag@%s>" % (self.user.name, MAILNAME))
        self.assertEqual(code, 554, text)
        self.assertIn("Recipient address rejected: Access denied", text[0])
        c.cmd("RSET")
        import base64
        token = base64.b64encode(("\0%s\0%s" % (self.user.name, SUBMIT_PW)).encode()).decode()
        self.assertEqual(c.cmd("AUTH PLAIN " + token)[0], 235)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s+tag@%s>" % (self.user.name, MAILNAME))[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: submitted\r\n\r\nhello\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        wait_until(lambda: any(m["Subject"] == "submitted" for m in mbox_messages(box)), 30,
                   what="the submitted message in %s\n%s" % (box, self.inst.log()[-3000:]))
        got = [m for m in mbox_messages(box) if m["Subject"] == "submitted"][0]
        self.assertEqual(got["Delivered-To"], "%s+tag@%s" % (self.user.name, MAILNAME))
        # Debian's -o syslog_name, as written
        self.assertIn("postfix/submission/smtpd[", self.inst.log())


class InternetSiteTest(DebianConfigMixin, unittest.TestCase):
    MAILER = DEBIAN_MAILER_TYPES[0]


class SmarthostTest(DebianConfigMixin, unittest.TestCase):
    MAILER = DEBIAN_MAILER_TYPES[1]


class SatelliteTest(DebianConfigMixin, unittest.TestCase):
    MAILER = DEBIAN_MAILER_TYPES[2]

    def test_satellite_listens_on_loopback(self):
        self.assertIn("inet_interfaces = loopback-only", self.main_cf)
        got = self.inst.listeners(self.inst.smtp_port)
        self.assertIn("127.0.0.1", got)
        self.assertTrue(got <= {"127.0.0.1", "::1"}, got)


if __name__ == "__main__":
    unittest.main()
