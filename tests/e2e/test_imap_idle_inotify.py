"""IDLE sessions when inotify instances are scarce (fs.inotify.max_user_instances
reached for the mailboxes' uid): the sessions of an imap process share
the process's one instance (lib/mstore/notify.c), so a single free
instance wakes them all; a process that gets none polls (imap/client.c).
Before, a session without an instance of its own waited for
imap_idle_notify_interval (120 s by default).

The instance's mailboxes get a uid of their own, unused on the machine
(virtual_uid_maps), and a helper process running as that uid holds every
inotify instance the kernel allows it but the ones the test leaves free,
so no other test or instance is touched.  Waits are bounded by the
client's socket timeout (30 s), far below the 120 s of the old fallback."""
import os
import pwd
import re
import subprocess
import sys
import unittest

from login_util import Lines, put_message, start_instance

USER = "ida@example.com"
PASS = "idle-secret-7"

HELPER = r"""
import ctypes, os, resource, sys
uid = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while len(fds) < 100000:
    fd = libc.inotify_init1(0o2000000)
    if fd < 0:
        break
    fds.append(fd)
print("held %d limit %d" % (len(fds), hard), flush=True)
for line in sys.stdin:
    n = int(line.split()[1])
    for _ in range(n):
        os.close(fds.pop())
    print("freed %d" % n, flush=True)
"""


def unused_uid():
    """A uid no account and no process has."""
    used = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                used.add(os.stat("/proc/" + d).st_uid)
            except OSError:
                pass
    for uid in range(61000, 62000):
        if uid not in used:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                return uid
    raise AssertionError("no unused uid in 61000-61999")


class Session(Lines):
    def __init__(self, port):
        super().__init__(port)
        assert self.line().startswith(b"* OK")

    def until(self, tag):
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + b" "):
                return out


class ImapIdleInotifyTest(unittest.TestCase):
    def setUp(self):
        self.uid = unused_uid()
        self.inst = start_instance({USER: PASS}, imap=True, main_cf={
            "virtual_uid_maps": "static:%d" % self.uid,
            "virtual_gid_maps": "static:%d" % self.uid})
        # The mailboxes belong to that uid (tern init made them for its own).
        for root, dirs, files in os.walk(os.path.join(self.inst.dir, "mail")):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, self.uid, self.uid)
        self.helper = None
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            try:
                s.close()
            except OSError:
                pass
        if self.helper:
            self.helper.stdin.close()
            self.helper.wait(30)
        self.inst.cleanup()

    def hold_instances(self, leave):
        """Starts the helper; it holds all of the uid's instances but leave."""
        self.helper = subprocess.Popen([sys.executable, "-c", HELPER, str(self.uid)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.helper.stdout.readline().split()
        self.assertEqual(line[0], "held", line)
        # The kernel's limit, not the helper's descriptors, must have
        # stopped it, or the test would prove nothing.
        self.assertGreater(int(line[1]), 0)
        self.assertLess(int(line[1]) + 16, int(line[3]), "RLIMIT_NOFILE below the inotify limit")
        if leave:
            self.helper.stdin.write("free %d\n" % leave)
            self.helper.stdin.flush()
            self.assertEqual(self.helper.stdout.readline().strip(), "freed %d" % leave)

    def idle_session(self):
        s = Session(self.inst.imap_port)
        self.sessions.append(s)
        s.send("l LOGIN %s %s\r\n" % (USER, PASS))
        lines = s.until(b"l")
        self.assertTrue(lines[-1].startswith(b"l OK"), (lines, self.inst.log()[-1500:]))
        s.send("s SELECT INBOX\r\n")
        self.assertTrue(s.until(b"s")[-1].startswith(b"s OK"))
        s.send("i IDLE\r\n")
        self.assertTrue(s.line().startswith(b"+ "))
        return s

    def assert_woken(self, s):
        """Reads until "* 1 EXISTS" (the socket's timeout bounds it)."""
        while True:
            ln = s.line()
            if ln == b"* 1 EXISTS\r\n":
                break
            self.assertTrue(ln.startswith(b"* "), ln)
        s.send("DONE\r\n")
        self.assertTrue(s.until(b"i")[-1].startswith(b"i OK"))

    def deliver(self):
        put_message(self.inst.maildir(USER), b"From: a@example.org\nSubject: wake\n\nbody\n")

    def inotify_fds(self):
        """The inotify instances the user's imap process holds (its pid is
        the mpid= of the login lines)."""
        pids = set(re.findall(r"imap-login\[\d+\]: Login: user=<%s>.*mpid=(\d+)" % re.escape(USER),
                              self.inst.log()))
        self.assertEqual(len(pids), 1, pids)
        fd_dir = "/proc/%s/fd" % pids.pop()
        return sum(1 for n in os.listdir(fd_dir)
                   if os.readlink(os.path.join(fd_dir, n)) == "anon_inode:inotify")

    def test_sessions_share_the_process_instance(self):
        self.hold_instances(leave=2)
        a = self.idle_session()          # the process takes an instance
        b = self.idle_session()          # and b's store shares it
        self.assertEqual(self.inotify_fds(), 1)
        self.deliver()
        self.assert_woken(b)
        self.assert_woken(a)

    def test_sessions_without_any_instance_poll(self):
        self.hold_instances(leave=0)
        a = self.idle_session()
        b = self.idle_session()
        self.deliver()
        self.assert_woken(a)
        self.assert_woken(b)


if __name__ == "__main__":
    unittest.main()
