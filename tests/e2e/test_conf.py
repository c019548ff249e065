"""Configuration as Postfix operators know it: "tern conf" (postconf),
"tern check" reporting every problem with its file and line, warnings once
per start and never from sendmail, "/file/name" values, relative -c paths,
postmaster notices of an instance, and "tern domain" on a running system."""
import os
import re
import shutil
import smtplib
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from sendmail_util import SubmitInstance, TestUser
from tern_instance import TERN, Instance, wait_until

EX_CONFIG = 78


def send(port, rcpts, subject, sender="s@example.org"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail(sender, rcpts, ("Subject: %s\r\n\r\nx\r\n" % subject).encode())


def line_of(path, prefix):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(prefix):
                return n
    raise AssertionError("%s: no line starting with %r" % (path, prefix))


class ConfTest(unittest.TestCase):
    """tern conf, as postconf: shows, and edits main.cf in place."""

    def setUp(self):
        self.inst = Instance(main_cf={"my_networks": "10.0.0.0/8",
                                      "mynetworks": "$my_networks 127.0.0.0/8"})

    def tearDown(self):
        self.inst.cleanup()

    def conf(self, *args, check=True):
        return self.inst.tern("conf", *args, check=check)

    def test_show(self):
        names = [l.split(" =")[0] for l in self.conf("-n").stdout.splitlines()]
        self.assertEqual(names, sorted(names))
        self.assertIn("queue_directory", names)
        self.assertIn("my_networks", names)       # a user's own name too
        self.assertNotIn("mail_name", names)      # not set in main.cf
        everything = self.conf().stdout
        self.assertIn("mail_name = tern\n", everything)
        self.assertIn("mydestination =\n", everything)
        self.assertIn("biff = yes\n", everything)  # Postfix's names are known
        self.assertEqual(self.conf("mail_name").stdout, "mail_name = tern\n")
        self.assertEqual(self.conf("-h", "mynetworks").stdout, "$my_networks 127.0.0.0/8\n")
        self.assertEqual(self.conf("-hx", "mynetworks").stdout, "10.0.0.0/8 127.0.0.0/8\n")
        self.assertEqual(self.conf("-d", "mynetworks").stdout,
                         "mynetworks = 127.0.0.0/8 [::1]/128\n")
        self.assertEqual(self.conf("-x", "smtpd_banner").stdout,
                         "smtpd_banner = %s ESMTP tern\n" % self.conf("-hx", "myhostname")
                         .stdout.strip())
        r = self.conf("no_such_thing")
        self.assertEqual(r.stdout, "")
        self.assertIn("no_such_thing: unknown parameter", r.stderr)
        self.assertEqual(self.conf("-q", check=False).returncode, 64)

    def test_edit_keeps_comments_and_layout(self):
        path = self.inst.main_cf_path
        with open(path, "a") as f:
            f.write("\n# the relay list\nrelay_domains = a.example,\n"
                    "    b.example\n# after it\n\nmail_name = old\n")
        os.chmod(path, 0o640)
        before = open(path).read()
        ino = os.stat(path).st_ino
        self.conf("-e", "relay_domains = c.example", "soft_bounce=yes", "mail_name=new")
        after = open(path).read()
        self.assertEqual(after, before.replace("relay_domains = a.example,\n    b.example\n",
                                               "relay_domains = c.example\n")
                         .replace("mail_name = old\n", "mail_name = new\n")
                         + "soft_bounce = yes\n")
        self.assertNotEqual(os.stat(path).st_ino, ino)  # replaced, not rewritten in place
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual([n for n in os.listdir(self.inst.etc) if ".tmp." in n], [])
        self.assertEqual(self.conf("-h", "relay_domains").stdout, "c.example\n")
        self.conf("-X", "relay_domains", "soft_bounce")
        text = open(path).read()
        self.assertNotIn("relay_domains", text)
        self.assertNotIn("b.example", text)
        self.assertIn("# the relay list\n# after it\n", text)
        self.assertEqual(self.conf("-e", "bad name=x", check=False).returncode, 64)
        self.assertEqual(self.conf("-e", check=False).returncode, 64)

    def test_master_services(self):
        out = self.conf("-M").stdout.splitlines()
        self.assertTrue(any(re.match(r"cleanup\s+unix\s", l) for l in out), out)
        sub = [l for l in out if l.startswith("127.0.0.1:%d " % self.inst.submission_port)]
        self.assertIn("-o smtpd_tls_security_level=encrypt", sub[0])
        only = self.conf("-M", "qmgr/unix").stdout.splitlines()
        self.assertEqual(len(only), 1)
        self.assertRegex(only[0], r"^qmgr\s+unix\s+y\s+y\s+n\s+-\s+1\s+qmgr$")
        self.assertEqual(self.conf("-M", "qmgr/inet").stdout, "")


class CheckTest(unittest.TestCase):
    """Every configuration problem, with its file and line: from "tern
    check", and once in the log (and on the terminal) at "tern start"."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        with open(cls.inst.main_cf_path, "a") as f:
            f.write("\n# Postfix habits\n"
                    "biff = no\nappend_dot_mydomain = no\nreadme_directory = no\n"
                    "compatibility_level = 3.6\n"
                    "smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\n"
                    "disable_vrfy_command = yes\n"
                    "my_list = a.example\nrelay_domains = $my_list\n"
                    "relay_destination_recipient_limit = 5\n"
                    "virtual_alias_maps = texthash:/etc/tern/virtual\n"
                    "header_checks =\n"
                    "smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination\n"
                    "totally_unknown = 1\n")
        with open(cls.inst.master_cf_path, "a") as f:
            f.write("tlsmgr unix - - y 1000? 1 tlsmgr\n"
                    "policy unix - n n - 0 spawn user=nobody argv=/bin/true\n"
                    "custom unix - - n - 1 smtp\n  -o another_unknown=2\n")
        cls.main_cf = cls.inst.main_cf_path
        cls.master_cf = cls.inst.master_cf_path
        cls.check = cls.inst.tern("check", check=False)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def warnings(self):
        return [l for l in self.check.stderr.splitlines() if l.startswith("tern check: warning")]

    def test_exactly_the_problems(self):
        self.assertEqual(self.check.returncode, 0, self.check.stderr)  # warnings only
        want = [
            "%s:%d: virtual_alias_maps: cannot read texthash:/etc/tern/virtual" %
            (self.main_cf, line_of(self.main_cf, "virtual_alias_maps")),
            "%s:%d: unknown parameter totally_unknown" %
            (self.main_cf, line_of(self.main_cf, "totally_unknown")),
            "%s:%d: service policy (unix, spawn): not served" %
            (self.master_cf, line_of(self.master_cf, "policy")),
            "%s:%d: unknown parameter another_unknown" %
            (self.master_cf, line_of(self.master_cf, "custom")),
        ]
        got = self.warnings()
        for w in want:
            self.assertEqual(len([g for g in got if w in g]), 1, "%s\nin:\n%s" % (w, got))
        self.assertEqual(len(got), len(want), "\n".join(got))

    def test_notes(self):
        out = self.check.stdout
        self.assertIn("info: %s:%d: disable_vrfy_command: VRFY always answers 252" %
                      (self.main_cf, line_of(self.main_cf, "disable_vrfy_command")), out)
        self.assertIn("service tlsmgr (unix, tlsmgr): skipped", out)
        for harmless in ("biff", "append_dot_mydomain", "readme_directory",
                         "compatibility_level", "smtp_tls_session_cache_database",
                         "my_list", "relay_destination_recipient_limit", "header_checks"):
            self.assertNotIn(harmless, self.check.stdout + self.check.stderr)

    def test_start_reports_once(self):
        r = self.inst.tern("start", check=False)
        self.inst.started = r.returncode == 0
        try:
            self.assertEqual(r.returncode, 0, r.stderr)
            for w in ("unknown parameter totally_unknown", "service policy",
                      "virtual_alias_maps: cannot read"):
                self.assertEqual(r.stderr.count(w), 1, r.stderr)
                self.assertEqual(self.inst.log().count(w), 1, self.inst.log())
            self.assertNotIn("skipped", r.stderr)  # notes go to the log only
            self.assertIn("service tlsmgr (unix, tlsmgr): skipped", self.inst.log())
            # The daemons say nothing of the kind: only master reported.
            time.sleep(1)
            self.assertEqual(self.inst.log().count("totally_unknown"), 1)
        finally:
            self.inst.stop()


class CheckErrorsTest(unittest.TestCase):
    def test_errors_refuse_start(self):
        inst = Instance(main_cf={"line_length_limit": "12x", "myorigin": "/nonexistent/mailname",
                                 "soft_bounce": "maybe"})
        try:
            c = inst.tern("check", check=False)
            self.assertEqual(c.returncode, EX_CONFIG)
            n = line_of(inst.main_cf_path, "line_length_limit")
            self.assertIn("error: %s:%d: line_length_limit = 12x: not a valid number" %
                          (inst.main_cf_path, n), c.stderr)
            self.assertIn("myorigin: cannot read /nonexistent/mailname", c.stderr)
            self.assertIn("soft_bounce = maybe: not a valid boolean", c.stderr)
            r = inst.tern("start", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("line_length_limit = 12x", r.stderr)
            self.assertIn("the configuration has errors", r.stderr)
            self.assertIsNone(inst.master_pid() if os.path.exists(
                os.path.join(inst.queue, "pid", "master.pid")) and
                inst.tern("status", check=False).returncode == 0 else None)
        finally:
            inst.cleanup()

    def test_bad_pipe_service_refuses_start(self):
        """pipe(8) attributes are checked at start, with master.cf's file
        and line, not when the service first runs; an unknown user= of a
        service no *_transport names (Debian's maildrop line) is an info
        line, of one that main.cf routes mail to an error."""
        inst = Instance(main_cf={"default_transport": "lda"})
        try:
            lines = {
                "badflag": "pipe flags=DRZ user=nobody argv=/bin/cat",
                "noargv": "pipe flags=R user=nobody",
                "rootcmd": "pipe user=root argv=/bin/cat",
                "badsize": "pipe size=10M user=nobody argv=/bin/cat",
                "maildrop": "pipe flags=DRXhu user=vmail-nosuch argv=/usr/bin/maildrop -d ${recipient}",
                "lda": "pipe flags=DRXhu user=vmail-nosuch argv=/bin/cat",
            }
            with open(inst.master_cf_path, "a") as f:
                for name, args in lines.items():
                    f.write("%s unix - n n - - %s\n" % (name, args))
            c = inst.tern("check", check=False)
            self.assertEqual(c.returncode, EX_CONFIG, c.stderr)

            def where(name):
                return "%s:%d: service %s (pipe): " % (
                    inst.master_cf_path, line_of(inst.master_cf_path, name + " "), name)
            self.assertIn("error: " + where("badflag") + "flags=: unknown flag 'Z'", c.stderr)
            self.assertIn("error: " + where("noargv") + "missing argv=", c.stderr)
            self.assertIn("error: " + where("rootcmd") + "user=root: commands are never run "
                          "with root privileges", c.stderr)
            self.assertIn("error: " + where("badsize") + "size=10M: not a number of bytes",
                          c.stderr)
            self.assertIn("error: " + where("lda") + "user=vmail-nosuch: unknown user "
                          "(default_transport routes mail to it)", c.stderr)
            self.assertNotRegex(c.stderr, r"(error|warning): [^\n]*service maildrop")
            r = inst.tern("start", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("flags=: unknown flag 'Z'", r.stderr)
            self.assertIn("the configuration has errors", r.stderr)
        finally:
            inst.cleanup()

    def test_bad_table_refuses_start(self):
        """A pcre: table with a line tern refuses (Postfix would skip it
        with a warning) was a 451 for every recipient at RCPT time; now
        tern check names main.cf's line and the table's, and tern start
        refuses.  An unreadable table file is a warning only."""
        tmp = tempfile.mkdtemp(prefix="tern-conf-table-")
        os.chmod(tmp, 0o755)
        pcre = os.path.join(tmp, "access.pcre")
        with open(pcre, "w") as f:
            f.write("/^ok@/ OK\n/^bad(/ REJECT no\n")
        inst = Instance(main_cf={
            "smtpd_recipient_restrictions":
                "check_recipient_access pcre:%s permit_mynetworks reject_unauth_destination"
                % pcre,
            "header_checks": "regexp:%s/missing.regexp" % tmp})
        try:
            c = inst.tern("check", check=False)
            self.assertEqual(c.returncode, EX_CONFIG, c.stderr)
            n = line_of(inst.main_cf_path, "smtpd_recipient_restrictions")
            self.assertIn("error: %s:%d: smtpd_recipient_restrictions: pcre:%s: %s:2: bad regex "
                          "at offset 5: missing closing parenthesis" %
                          (inst.main_cf_path, n, pcre, pcre), c.stderr)
            n = line_of(inst.main_cf_path, "header_checks")
            self.assertIn("warning: %s:%d: header_checks: cannot read regexp:%s/missing.regexp"
                          % (inst.main_cf_path, n, tmp), c.stderr)
            r = inst.tern("start", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("bad regex at offset 5", r.stderr)
            self.assertIn("the configuration has errors", r.stderr)
            # Mended, the same configuration checks clean of errors.
            with open(pcre, "w") as f:
                f.write("/^ok@/ OK\n/^bad\\(/ REJECT no\n")
            c = inst.tern("check", check=False)
            self.assertEqual(c.returncode, 0, c.stderr)
            self.assertNotIn("pcre:", c.stderr)
        finally:
            inst.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_transport_without_service(self):
        inst = Instance(main_cf={"relay_transport": "nosuch"})
        try:
            c = inst.tern("check", check=False)
            self.assertIn("relay_transport = nosuch: no master.cf service runs transport nosuch",
                          c.stderr)
            self.assertRegex(c.stderr, re.escape(inst.main_cf_path) + r":\d+: relay_transport")
        finally:
            inst.cleanup()


class SendmailQuietTest(unittest.TestCase):
    """Unknown parameters are reported by tern check and at start, never
    by sendmail or mailq (cron mail, git, mutt saw every warning)."""

    def test_no_warnings_from_sendmail_and_mailq(self):
        user = TestUser()
        mailname = tempfile.NamedTemporaryFile("w", suffix=".mailname", delete=False)
        mailname.write("localhost\n")
        mailname.close()
        os.chmod(mailname.name, 0o644)
        inst = SubmitInstance(mailboxes=["%s@localhost" % user.name])
        try:
            inst.append_main_cf({"unknown_one": "1", "unknown_two": "2", "biff": "no",
                                 "myorigin": mailname.name})
            inst.start()
            env = user.env(TERN_CONFIG=inst.etc)
            r = user.run([inst.sendmail, user.name], input=b"Subject: quiet\n\nhello\n",
                         env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, b"")
            r = user.run([os.path.join(inst.bin, "mailq")], env=env)
            self.assertNotIn(b"unknown", r.stdout + r.stderr)
            # myorigin = /file: the user is user@localhost, from the file.
            msg = inst.wait_for("%s@localhost" % user.name, b"Subject: quiet")
            self.assertIn(b"Return-Path: <%s@localhost>" % user.name.encode(), msg)
            self.assertEqual(inst.log().count("unknown_one"), 1, inst.log())
        finally:
            inst.cleanup()
            user.remove()
            os.unlink(mailname.name)


class RelativeConfigTest(unittest.TestCase):
    def test_relative_c_everywhere(self):
        inst = Instance()
        parent, name = os.path.split(inst.dir)
        try:
            def tern(*args, inp=None):
                return subprocess.run([TERN, "-c", name] + list(args), cwd=parent, input=inp,
                                      capture_output=True, text=True, timeout=60)
            r = tern("passwd", "--stdin", "bob", inp="secret\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(inst.etc, "sasl_passwd")) as f:
                self.assertTrue(f.read().startswith("bob $y$"))
            self.assertEqual(tern("conf", "-h", "config_directory").stdout.strip(), inst.etc)
            self.assertEqual(tern("check").returncode, 0)
            self.assertEqual(tern("start").returncode, 0)
            inst.started = True
            wait_until(lambda: inst._port_open(inst.smtp_port), 10, what="smtp port")
            self.assertEqual(tern("status").returncode, 0)
            self.assertEqual(tern("stop").returncode, 0)
            inst.started = False
        finally:
            inst.cleanup()


class PostmasterNoticeTest(unittest.TestCase):
    def test_notices_reach_the_first_domains_postmaster(self):
        """An undeliverable bounce ends at postmaster@ the first --domain,
        a mailbox of the instance (not postmaster@$myhostname)."""
        inst = Instance(domains=("example.com", "example.net"))
        try:
            table = os.path.join(inst.etc, "transport")
            with open(table, "w") as f:
                f.write("nowhere.example error:5.1.1 no such domain\n")
            inst.append_main_cf({"transport_maps": "texthash:" + table})
            inst.start()
            send(inst.smtp_port, ["someone@nowhere.example"], "lost bounce", sender="")
            wait_until(lambda: inst.messages("postmaster@example.com"), 30,
                       what="postmaster notice\n" + inst.log()[-3000:])
            self.assertIn(b"someone@nowhere.example", inst.messages("postmaster@example.com")[0])
        finally:
            inst.cleanup()


class DomainTest(unittest.TestCase):
    def test_add_and_del_on_a_running_system(self):
        """tern domain add reloads a running system; mail accepted around
        the reload is delivered, and mail the new domain got before it (as
        relay mail from a trusted client) lands in its new mailbox."""
        inst = Instance(main_cf={"smtp_dns_resolver": "127.0.0.1:1"})
        try:
            inst.start()
            send(inst.smtp_port, ["postmaster@new.example"], "early for new")
            wait_until(lambda: inst.queue_files(("deferred",)), 30,
                       what="the early message deferred\n" + inst.log()[-2000:])
            sent, errors, stop = [], [], threading.Event()

            def sender():
                i = 0
                while not stop.is_set():
                    try:
                        send(inst.smtp_port, ["postmaster@example.com"], "steady %d" % i)
                        sent.append(i)
                    except (OSError, smtplib.SMTPException) as e:
                        errors.append(repr(e))
                    i += 1
            t = threading.Thread(target=sender)
            t.start()
            time.sleep(0.5)
            r = inst.tern("domain", "add", "New.Example", check=False)
            time.sleep(0.5)
            stop.set()
            t.join(30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr + inst.log()[-3000:])
            self.assertIn("added new.example", r.stdout)
            self.assertEqual(errors, [])
            self.assertGreater(len(sent), 5)
            wait_until(lambda: len(inst.messages("postmaster@example.com")) >= len(sent), 30,
                       what="all %d steady messages" % len(sent))
            got = sorted(int(re.search(rb"Subject: steady (\d+)", m).group(1))
                         for m in inst.messages("postmaster@example.com"))
            self.assertEqual(got, sorted(sent))
            wait_until(lambda: inst.messages("postmaster@new.example"), 30,
                       what="the early message delivered\n" + inst.log()[-3000:])
            self.assertIn("new.example", inst.tern("domain", "list").stdout.split())
            with open(os.path.join(inst.etc, "virtual_mailbox")) as f:
                self.assertIn("postmaster@new.example new.example/postmaster/\n", f.read())
            send(inst.smtp_port, ["postmaster@new.example"], "after add")
            wait_until(lambda: len(inst.messages("postmaster@new.example")) == 2, 30,
                       what="delivery after add")
            self.assertIn("already", inst.tern("domain", "add", "new.example").stdout)
            r = inst.tern("domain", "del", "new.example")
            self.assertNotIn("new.example", inst.tern("domain", "list").stdout.split())
            self.assertNotIn("new.example", inst.main_cf_value("virtual_mailbox_domains"))
            self.assertEqual(inst.tern("domain", "del", "new.example", check=False).returncode,
                             65)
            self.assertEqual(inst.tern("domain", "add", "bad..name", check=False).returncode, 65)
        finally:
            inst.cleanup()

    def test_add_when_stopped(self):
        inst = Instance()
        try:
            r = inst.tern("domain", "add", "other.example")
            self.assertIn("not running", r.stdout)
            self.assertEqual(inst.main_cf_value("virtual_mailbox_domains"),
                             "localhost, example.com, other.example")
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
