"""The pipe delivery agent (pipe(8)): master.cf lines in Postfix's form
run a command given by argv= as user=, with the message on its standard
input shaped by flags= and eol=, macros expanded (one word per recipient
for the recipient macros), its exit status turned into the result as
Postfix does (sysexits), bounces for permanent failures, the time limit,
size=, and a Debian-style line whose user does not exist deferring
instead of stopping the instance."""
import email
import json
import os
import re
import pwd
import shutil
import time
import smtplib
import stat
import tempfile
import unittest

from tern_instance import Instance, wait_until

# The command: writes its arguments, identity, directory and input into
# OUT/<n>.json, then exits as the recipient's local part asks.
COMMAND = r"""#!/usr/bin/python3
import json, os, sys, time
data = sys.stdin.buffer.read()
out = os.environ.get("OUT", "%(out)s")
rec = {"argv": sys.argv[1:], "uid": os.getuid(), "gid": os.getgid(),
       "cwd": os.getcwd(), "input": data.decode("latin-1"),
       "env": sorted(os.environ.keys())}
n = len(os.listdir(out))
name = os.path.join(out, "%%03d-%%d" %% (n, os.getpid()))
with open(name + ".tmp", "w") as f:   # renamed whole: a reader never sees half
    json.dump(rec, f)
os.rename(name + ".tmp", name + ".json")
what = sys.argv[-1] if sys.argv[1:] else ""
if "tempfail" in what:
    print("try again later"); sys.exit(75)
if "nouser" in what:
    print("no such user"); sys.exit(67)
if "dsn" in what:
    print("5.7.1 not you"); sys.exit(1)
if "status3" in what:
    sys.exit(3)
if "slow" in what:
    time.sleep(30)
sys.exit(0)
"""

SENDER = "sender@example.com"


def run_user():
    """A user the command runs as: not root, not the mail owner."""
    for name in ("nobody", "daemon"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise unittest.SkipTest("no unprivileged user")


class PipeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("pipe's user= needs root")
        cls.user = run_user()
        cls.tmp = tempfile.mkdtemp(prefix="tern-pipe-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "out")
        os.mkdir(cls.out)
        os.chmod(cls.out, 0o1777)
        cls.cmd = os.path.join(cls.tmp, "cmd.py")
        with open(cls.cmd, "w") as f:
            f.write(COMMAND % {"out": cls.out})
        os.chmod(cls.cmd, 0o755)
        cls.inst = Instance(mailboxes=[SENDER], main_cf={
            "transport_maps": "texthash:" + os.path.join(cls.tmp, "transport"),
            "recipient_delimiter": "+",
            "pmulti_destination_recipient_limit": "10",
            "pone_destination_recipient_limit": "1",
            "pone_time_limit": "3s",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
        })
        with open(os.path.join(cls.tmp, "transport"), "w") as f:
            f.write("one.test pone:Hop.Example\n"
                    "multi.test pmulti:hop2\n"
                    "crlf.test pcrlf:\n"
                    "small.test psmall:\n")
        u = cls.user.pw_name
        with open(cls.inst.master_cf_path, "a") as f:
            f.write("pone unix - n n - - pipe\n"
                    "  flags=DORFXhu.> user=%s argv=%s ${sender} ${recipient}\n"
                    "  ${original_recipient} ${user} ${extension} ${domain} ${mailbox}\n"
                    "  ${nexthop} ${size} ${queue_id} ${extension?ext=${extension}}\n"
                    "  ${recipient}\n" % (u, cls.cmd))
            f.write("pmulti unix - n n - - pipe\n"
                    "  flags=R user=%s:%s directory=%s argv=%s -r ${recipient} --\n"
                    % (u, "nogroup" if _group("nogroup") else "daemon", cls.tmp, cls.cmd))
            f.write("pcrlf unix - n n - - pipe flags=B eol=\\r\\n null_sender=nobody-here\n"
                    "  user=%s argv=%s ${sender} ${recipient}\n" % (u, cls.cmd))
            f.write("psmall unix - n n - - pipe size=1000 user=%s argv=%s ${recipient}\n"
                    % (u, cls.cmd))
            f.write("pghost unix - n n - - pipe user=no-such-user-here argv=%s ${recipient}\n"
                    % cls.cmd)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        for n in os.listdir(self.out):
            os.unlink(os.path.join(self.out, n))

    def send(self, rcpts, body="hello\n", sender=SENDER, extra=""):
        msg = ("From: %s\nTo: someone\nSubject: pipe test\n%s\n%s"
               % (sender or "MAILER-DAEMON", extra, body))
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail(sender, rcpts, msg.replace("\n", "\r\n").encode())

    def run_files(self):
        """The finished runs' files (a run writes a .tmp and renames it)."""
        return sorted(n for n in os.listdir(self.out) if n.endswith(".json"))

    def runs(self, n, timeout=20):
        wait_until(lambda: len(self.run_files()) >= n, timeout, what="%d command runs" % n)
        out = []
        for name in self.run_files():
            with open(os.path.join(self.out, name)) as f:
                out.append(json.load(f))
        return out

    def log_for(self, rcpt, status, timeout=20):
        def find():
            for line in self.inst.log().splitlines():
                if "to=<%s>" % rcpt in line and "status=%s" % status in line:
                    return line
            return None
        return wait_until(find, timeout, what="%s %s in the log" % (rcpt, status))

    def bounces(self, n):
        wait_until(lambda: len(self.inst.messages(SENDER)) >= n, 20, what="bounce")
        return [email.message_from_bytes(m) for m in self.inst.messages(SENDER)]

    def test_flags_macros_identity(self):
        self.send(["Alice+Box@One.Test"], body="From me\n.dot line\nend\n")
        (run,) = self.runs(1)
        self.assertEqual(run["uid"], self.user.pw_uid)
        self.assertEqual(run["cwd"], os.path.realpath(os.path.join(self.inst.dir, "queue")))
        a = run["argv"]
        self.assertEqual(a[0], SENDER)
        # u folds the local part, h the domain and the next hop.
        self.assertEqual(a[1], "alice+box@one.test")
        self.assertEqual(a[2].lower(), "alice+box@one.test")
        self.assertEqual(a[3:8], ["alice", "Box", "one.test", "alice+box", "hop.example"])
        self.assertGreater(int(a[8]), 20)
        self.assertRegex(a[9], r"^[0-9A-Za-z]+$")
        self.assertEqual(a[10:], ["ext=Box", "alice+box@one.test"])
        text = run["input"]
        self.assertTrue(text.startswith("From %s " % SENDER), text[:80])
        lines = text.split("\n")
        self.assertEqual(lines[1], "Return-Path: <%s>" % SENDER)
        self.assertEqual(lines[2].lower(), "delivered-to: alice+box@one.test")
        self.assertTrue(lines[3].startswith("X-Original-To: "), lines[3])
        # '>' before "From " lines, '.' before '.' lines, LF line ends.
        self.assertIn("\n>From me\n..dot line\nend\n", text)
        self.assertNotIn("\r", text)
        # A clean environment (python itself adds LC_CTYPE, PEP 538).
        self.assertEqual(set(run["env"]) - {"LC_CTYPE"}, {"PATH"})
        line = self.log_for("Alice+Box@one.test", "sent")
        self.assertIn("relay=pone", line)
        self.assertIn("dsn=2.0.0", line)
        self.assertIn("delivered via pone service", line)

    def test_one_word_per_recipient(self):
        self.send(["a@multi.test", "b@multi.test", "c@multi.test"])
        (run,) = self.runs(1)
        self.assertEqual(run["argv"], ["-r", "a@multi.test", "b@multi.test", "c@multi.test", "--"])
        self.assertEqual(run["cwd"], os.path.realpath(self.tmp))
        self.assertEqual(run["gid"], (_group("nogroup") or _group("daemon")).gr_gid)
        self.assertTrue(run["input"].startswith("Return-Path: <%s>\n" % SENDER))
        for r in ("a", "b", "c"):
            self.log_for(r + "@multi.test", "sent")

    def test_eol_blank_line_and_null_sender(self):
        self.send(["x@crlf.test"], body="one\ntwo\n", sender="")
        (run,) = self.runs(1)
        self.assertEqual(run["argv"], ["nobody-here", "x@crlf.test"])
        text = run["input"]
        self.assertNotIn("\n", text.replace("\r\n", ""))
        self.assertTrue(text.endswith("one\r\ntwo\r\n\r\n"), repr(text[-20:]))

    def test_exit_codes_to_dsn_and_bounces(self):
        self.send(["nouser@one.test"])
        self.send(["dsn@one.test"])
        self.send(["status3@one.test"])
        line = self.log_for("nouser@one.test", "bounced")
        self.assertIn("dsn=5.1.1", line)
        self.assertIn("no such user", line)
        self.assertIn("dsn=5.7.1", self.log_for("dsn@one.test", "bounced"))
        line = self.log_for("status3@one.test", "bounced")
        self.assertIn("dsn=5.3.0", line)
        self.assertIn("died with status 3", line)
        reports = self.bounces(3)
        text = "\n".join(m.as_string() for m in reports)
        for status in ("5.1.1", "5.7.1", "5.3.0"):
            self.assertIn("Status: " + status, text)

    def test_success_notice_relayed_unless_flag_x(self):
        """pipe(8): a command's success is "relayed" in a NOTIFY=SUCCESS
        notice, "delivered" only with flag X (pone has it, pmulti not)."""
        msg = "From: %s\r\nSubject: notify\r\n\r\nhello\r\n" % SENDER
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.ehlo("client.example")
            s.sendmail(SENDER, ["final@one.test", "handed@multi.test"], msg.encode(),
                       rcpt_options=["NOTIFY=SUCCESS"])

        def action(rcpt):
            """The Action: of rcpt's block in a success notice."""
            for raw in self.inst.messages(SENDER):
                text = raw.decode("utf-8", "replace")
                m = re.search(r"Final-Recipient: rfc822; %s\nAction: (\w+)" % re.escape(rcpt),
                              text)
                if m:
                    return m.group(1)
            return None
        self.assertEqual(wait_until(lambda: action("final@one.test"), 20,
                                    what="success notice"), "delivered")
        self.assertEqual(action("handed@multi.test"), "relayed")

    def test_tempfail_and_time_limit_defer(self):
        self.send(["tempfail@one.test"])
        line = self.log_for("tempfail@one.test", "deferred")
        self.assertIn("dsn=4.3.0", line)
        self.assertIn("try again later", line)
        self.send(["slow@one.test"])
        line = self.log_for("slow@one.test", "deferred", timeout=30)
        self.assertIn("time limit exceeded", line)
        for rcpt in ("tempfail@one.test", "slow@one.test"):
            self.assertNotIn("to=<%s>, relay=pone, status=bounced" % rcpt, self.inst.log())
            self.assertNotRegex(self.inst.log(), r"to=<%s>.*status=bounced" % rcpt)

    def test_size_limit_bounces(self):
        self.send(["big@small.test"], body="x" * 2000 + "\n")
        line = self.log_for("big@small.test", "bounced")
        self.assertIn("dsn=5.2.3", line)
        for name in self.run_files():
            with open(os.path.join(self.out, name)) as f:
                self.assertNotIn("big@small.test", f.read())
        self.send(["tiny@small.test"], body="")
        self.log_for("tiny@small.test", "sent")

    def test_unknown_user_defers(self):
        """A service whose user= does not exist, routed to by a transport
        table edited while tern runs (tern check refuses the routing at
        start): its mail is deferred with 4.3.5, never run as someone
        else."""
        table = os.path.join(self.tmp, "transport")
        with open(table, "a") as f:
            f.write("ghost.test pghost:\n")
        c = self.inst.tern("check", check=False)
        self.assertNotEqual(c.returncode, 0)
        self.assertIn("service pghost (pipe): user=no-such-user-here: unknown user "
                      "(transport_maps routes mail to it)", c.stderr)
        time.sleep(1.1)  # past RECHECK_MSEC (lib/table.c): the table is read again
        self.send(["who@ghost.test"])
        line = self.log_for("who@ghost.test", "deferred")
        self.assertIn("dsn=4.3.5", line)
        self.assertIn("unknown user", self.inst.log())
        # No run for this recipient (earlier tests' deferred mail may be
        # retried meanwhile and leave its own runs here).
        for name in self.run_files():
            with open(os.path.join(self.out, name)) as f:
                self.assertNotIn("who@ghost.test", f.read())


def _group(name):
    import grp
    try:
        return grp.getgrnam(name)
    except KeyError:
        return None


if __name__ == "__main__":
    unittest.main()
