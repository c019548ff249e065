"""Aliases, :include:, |command and /file targets, .forward files,
owner- aliases, forwarding to non-local addresses and loop detection,
with real system users."""
import grp
import os
import pwd
import re
import stat
import unittest

from local_util import LocalInstance, Users, home, mbox_messages, need_root, uid, wait_mbox
from tern_instance import wait_until

PIPE_SCRIPT = """#!/bin/sh
n=$(ls "$1" | wc -l)
{ id; env; cat; } > "$1/msg.$n"
"""


class AliasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.a, cls.b, cls.c, cls.d, cls.e, cls.f = (cls.users.add() for _ in range(6))
        cls.inst = LocalInstance()
        t = cls.inst._tmp
        cls.drop = os.path.join(t, "drop")          # where nobody may write
        os.makedirs(cls.drop)
        os.chmod(cls.drop, 0o1777)
        cls.pipe_out = os.path.join(t, "pipe-out")
        os.makedirs(cls.pipe_out)
        os.chmod(cls.pipe_out, 0o1777)
        cls.script = os.path.join(t, "pipe.sh")
        with open(cls.script, "w") as f:
            f.write(PIPE_SCRIPT)
        os.chmod(cls.script, 0o755)
        cls.include = os.path.join(t, "members")
        with open(cls.include, "w") as f:
            f.write("# members of the include list\n%s\n%s\n" % (cls.b, cls.c))
        os.chmod(cls.include, 0o644)
        cls.inst.add_mailbox("ext@example.com")
        with open(cls.inst.aliases, "a") as f:
            f.write("team: %s,\n  %s\n" % (cls.a, cls.b))
            f.write("inc: :include:%s\n" % cls.include)
            f.write('pipe: "|%s %s"\n' % (cls.script, cls.pipe_out))
            f.write("tofile: %s/archive\n" % cls.drop)
            f.write("keepcopy: keepcopy, %s\n" % cls.a)
            f.write("loopa: loopb\nloopb: loopa\n")
            f.write("remote: ext@example.com\n")
            f.write("owner-remote2: %s\nremote2: ext@example.com\n" % cls.a)
            f.write("double: team, %s\n" % cls.a)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()

    def box(self, u):
        return self.inst.spool_mbox(u)

    def count(self, u, subject):
        return sum(1 for m in mbox_messages(self.box(u)) if m["Subject"] == subject)

    def setUp(self):
        # Addresses recur across tests (and as orig_to= of expansions):
        # each test waits for the log lines written after it started.
        self.mark = len(self.inst.log())

    def wait_done(self, rcpt, n=1):
        return self.inst.wait_status(rcpt, n, since=self.mark)

    def test_alias_list_and_include_arrive_once(self):
        self.inst.send("team@localhost", subject="to team")
        self.inst.send("inc@localhost", subject="to include")
        self.inst.send("double@localhost", subject="to double")
        st = self.wait_done("team@localhost")
        self.assertEqual(st[0][0], "sent", st)
        self.assertEqual(self.wait_done("inc@localhost")[0][0], "sent")
        st = self.wait_done("double@localhost")
        self.assertEqual(st[0][0], "sent", st)
        self.assertEqual(self.count(self.a, "to team"), 1)
        self.assertEqual(self.count(self.b, "to team"), 1)
        self.assertEqual(self.count(self.b, "to include"), 1)
        self.assertEqual(self.count(self.c, "to include"), 1)
        self.assertEqual(self.count(self.a, "to double"), 1)  # listed twice, delivered once
        for u in (self.a, self.b, self.c):
            self.assertEqual(os.stat(self.box(u)).st_uid, uid(u))
        m = [m for m in mbox_messages(self.box(self.a)) if m["Subject"] == "to team"][0]
        self.assertEqual(m["Delivered-To"], self.a + "@localhost")

    def test_expanded_deliveries_log_to_and_orig_to(self):
        """As Postfix's local: a line per address an alias expands to,
        to=<that address>, orig_to=<the recipient as given>; a file or
        command target keeps the alias's own address."""
        self.inst.send("team@localhost", subject="orig_to team")
        self.inst.send("tofile@localhost", subject="orig_to file")
        st = self.wait_done("team@localhost", 2)
        self.assertEqual([s for s, _ in st[:2]], ["sent", "sent"], st)
        log = self.inst.log()[self.mark:]
        for u in (self.a, self.b):
            self.assertRegex(log, r"to=<%s@localhost>, orig_to=<team@localhost>, relay=local, "
                             r"delay=\S+, delays=\S+, dsn=2\.0\.0, status=sent \(delivered "
                             % re.escape(u))
        self.assertNotRegex(log, r": to=<team@localhost>, relay=local")
        st = self.wait_done("tofile@localhost")
        self.assertEqual(st[0][0], "sent", st)
        self.assertRegex(self.inst.log(), r"to=<tofile@localhost>, relay=local, .*"
                         r"status=sent \(delivered to file: ")

    def test_command_and_file_aliases_run_as_default_privs(self):
        nobody = pwd.getpwnam("nobody")
        self.inst.send("pipe@localhost", subject="to pipe", sender="snd@example.org")
        self.inst.send("tofile@localhost", subject="to file")
        self.assertEqual(self.wait_done("pipe@localhost")[0][0], "sent")
        self.assertEqual(self.wait_done("tofile@localhost")[0][0], "sent")
        outs = os.listdir(self.pipe_out)
        self.assertEqual(len(outs), 1, outs)
        p = os.path.join(self.pipe_out, outs[0])
        self.assertEqual(os.stat(p).st_uid, nobody.pw_uid)
        with open(p) as f:
            text = f.read()
        self.assertIn("uid=%d(nobody)" % nobody.pw_uid, text)
        self.assertIn("SENDER=snd@example.org\n", text)
        self.assertIn("RECIPIENT=pipe@localhost\n", text)
        self.assertIn("Subject: to pipe\n", text)
        archive = os.path.join(self.drop, "archive")
        self.assertEqual(os.stat(archive).st_uid, nobody.pw_uid)
        msgs = mbox_messages(archive)
        self.assertEqual([m["Subject"] for m in msgs], ["to file"])

    def test_self_reference_keeps_a_copy(self):
        # "keepcopy: keepcopy, A" has no user keepcopy: the self-reference is
        # a mailbox delivery that bounces; A still gets it once.
        self.inst.send("keepcopy@localhost", subject="self ref")
        st = self.wait_done("keepcopy@localhost")
        self.assertEqual(st[0][0], "bounced", st)
        self.assertIn('unknown user: "keepcopy"', st[0][1])
        self.assertEqual(self.count(self.a, "self ref"), 1)

    def test_alias_loop_bounces(self):
        self.inst.send("loopa@localhost", subject="loop")
        st = self.wait_done("loopa@localhost")
        self.assertEqual(st[0][0], "bounced", st)
        self.assertIn("loop", st[0][1])
        self.assertRegex(self.inst.log(), r"to=<loopa@localhost>.*dsn=5\.4\.6")

    def test_delivered_to_loop_bounces(self):
        self.inst.send(self.d + "@localhost", subject="looped",
                       extra_headers="Delivered-To: %s@localhost\r\n" % self.d)
        st = self.wait_done(self.d + "@localhost")
        self.assertEqual(st[0][0], "bounced", st)
        self.assertIn("mail forwarding loop", st[0][1])
        self.assertEqual(self.count(self.d, "looped"), 0)

    def test_remote_targets_forwarded_through_cleanup(self):
        self.inst.send("remote@localhost", subject="forwarded", sender="orig@example.org")
        self.inst.send("remote2@localhost", subject="owner", sender="orig@example.org")
        self.assertEqual(self.wait_done("remote@localhost")[0][0], "sent")
        self.assertEqual(self.wait_done("remote2@localhost")[0][0], "sent")
        msgs = wait_until(lambda: len(self.inst.messages("ext@example.com")) >= 2 and
                          self.inst.messages("ext@example.com"), 30, what="forwarded copies")
        fw = [m for m in msgs if b"Subject: forwarded" in m][0]
        ow = [m for m in msgs if b"Subject: owner" in m][0]
        self.assertTrue(fw.startswith(b"Return-Path: <orig@example.org>\n"), fw[:200])
        self.assertIn(b"\nDelivered-To: remote@localhost\n", fw)
        self.assertTrue(ow.startswith(b"Return-Path: <owner-remote2@localhost>\n"), ow[:200])

    def test_forward_to_user_and_file(self):
        # .forward of E: to F and to a file in E's home; E's own mailbox
        # stays empty.
        h = home(self.e)
        saved = os.path.join(h, "saved")
        fwd = os.path.join(h, ".forward")
        with open(fwd, "w") as f:
            f.write("# forwarded\n%s, %s\n" % (self.f, saved))
        os.chown(fwd, uid(self.e), pwd.getpwnam(self.e).pw_gid)
        os.chmod(fwd, 0o644)
        self.inst.send(self.e + "@localhost", subject="via forward")
        st = self.wait_done(self.e + "@localhost")
        self.assertEqual(st[0][0], "sent", st)
        self.assertEqual(self.count(self.f, "via forward"), 1)
        self.assertEqual(self.count(self.e, "via forward"), 0)
        self.assertEqual(os.stat(saved).st_uid, uid(self.e))
        self.assertEqual([m["Subject"] for m in mbox_messages(saved)], ["via forward"])

    def test_forward_with_extension_and_backslash_self(self):
        h = home(self.c)
        for name, text in ((".forward+lists", "\\%s, %s\n" % (self.c, self.d)),):
            p = os.path.join(h, name)
            with open(p, "w") as f:
                f.write(text)
            os.chown(p, uid(self.c), pwd.getpwnam(self.c).pw_gid)
        self.inst.send(self.c + "+lists@localhost", subject="ext forward")
        self.assertEqual(self.wait_done(self.c + "+lists@localhost")[0][0], "sent")
        self.assertEqual(self.count(self.c, "ext forward"), 1)
        self.assertEqual(self.count(self.d, "ext forward"), 1)

    def test_unsafe_forward_is_ignored(self):
        h = home(self.b)
        p = os.path.join(h, ".forward")
        with open(p, "w") as f:
            f.write("%s\n" % self.d)
        os.chown(p, uid(self.b), pwd.getpwnam(self.b).pw_gid)
        os.chmod(p, 0o666)   # world-writable: anyone could add "|command"
        try:
            self.inst.send(self.b + "@localhost", subject="unsafe forward")
            self.assertEqual(self.wait_done(self.b + "@localhost")[0][0], "sent")
            self.assertEqual(self.count(self.b, "unsafe forward"), 1)
            self.assertEqual(self.count(self.d, "unsafe forward"), 0)
            self.assertIn("ignoring " + p, self.inst.log())
        finally:
            os.unlink(p)


if __name__ == "__main__":
    unittest.main()


class NewaliasesTest(unittest.TestCase):
    """tern newaliases checks every alias_database file and says what is
    wrong, with sysexits codes."""

    def setUp(self):
        from tern_instance import Instance
        self.inst = Instance()
        self.path = os.path.join(self.inst.dir, "aliases")
        with open(self.inst.main_cf_path, "a") as f:
            f.write("alias_database = texthash:%s\n" % self.path)

    def tearDown(self):
        self.inst.cleanup()

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def test_good_file(self):
        self.write("# comment\npostmaster: root\nlist: a, b,\n  c\n"
                   "archive: /var/mail/archive\npipe: \"|/usr/bin/procmail -a x\"\n"
                   "inc: :include:/etc/mail/list\n")
        r = self.inst.tern("newaliases", "-v", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("5 aliases, 0 problems", r.stdout)

    def test_syntax_error_and_bad_targets(self):
        self.write("ok: root\nno colon here\n")
        r = self.inst.tern("newaliases", check=False)
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn(self.path + ":2:", r.stderr)
        self.write("bad: \"|\"\ninc: :include:relative\n")
        r = self.inst.tern("newaliases", check=False)
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn("empty command", r.stderr)
        self.assertIn(":include: needs an absolute path", r.stderr)

    def test_missing_file(self):
        r = self.inst.tern("newaliases", check=False)
        self.assertEqual(r.returncode, 66, r.stderr)
        self.assertIn("cannot read " + self.path, r.stderr)
