"""A full queue file system is a temporary refusal before the client sends
the message, and never loses mail: smtpd answers 452 4.3.1 at MAIL FROM
when less than max(queue_minfree, 1.5 * message_size_limit) plus the
announced SIZE is free; DATA waits for cleanup to have created the queue
file before it says 354 (a failure there is a 452 to DATA); a disk that
fills up during the message is a 452 after it, with nothing queued; mail
sent once there is room again is delivered.  The full file system is a
small tmpfs mounted on the instance's queue directory (root only)."""
import os
import smtplib
import subprocess
import unittest

from smtpd_util import Conn
from tern_instance import Instance, wait_until

ALICE = "alice@example.com"


def session(port):
    c = Conn(port)
    assert c.reply()[0] == 220
    c.ehlo("client.example.org")
    return c


class MinfreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE], main_cf={"message_size_limit": "0"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_announced_size_beyond_free_space(self):
        c = session(self.inst.smtp_port)
        code, lines = c.cmd("MAIL FROM:<x@example.org> SIZE=100000000000000000")
        self.assertEqual((code, lines[0]), (452, "4.3.1 Insufficient system storage"))
        self.assertEqual(c.cmd("MAIL FROM:<x@example.org> SIZE=1000")[0], 250)
        c.close()
        self.assertIn("not enough free space", self.inst.log())

    def test_queue_minfree(self):
        inst = Instance(mailboxes=[ALICE], main_cf={"queue_minfree": "1000000000000000000"})
        try:
            inst.start()
            c = session(inst.smtp_port)
            code, lines = c.cmd("MAIL FROM:<x@example.org>")
            self.assertEqual((code, lines[0]), (452, "4.3.1 Insufficient system storage"))
            c.close()
        finally:
            inst.cleanup()


class FullDiskTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("mounting a tmpfs needs root")
        # No size limit: queue_minfree alone (0) is asked at MAIL.
        cls.inst = Instance(mailboxes=[ALICE], main_cf={"message_size_limit": "0"})
        q = cls.inst.queue
        st = os.stat(q)
        os.rename(q, q + ".orig")
        os.mkdir(q)
        subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=1m,nr_inodes=128,mode=%o,uid=%d,gid=%d"
                        % (st.st_mode & 0o7777, st.st_uid, st.st_gid),
                        "tern-test-queue", q], check=True)
        subprocess.run(["cp", "-a", q + ".orig/.", q], check=True)
        cls.incoming = os.path.join(q, "incoming")
        cls.filler = os.path.join(q, ".filler")
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        subprocess.run(["umount", "-l", cls.inst.queue], check=False)
        cls.inst.cleanup()

    def fill_blocks(self, leave):
        """Fills the queue file system but for about leave bytes."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while os.write(fd, b"x" * 4096) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        os.truncate(self.filler, max(0, os.path.getsize(self.filler) - leave))

    def fill_inodes(self):
        names = []
        try:
            for i in range(1000):
                p = os.path.join(self.inst.queue, ".inode%d" % i)
                open(p, "w").close()
                names.append(p)
        except OSError:
            pass
        return names

    def queued(self):
        return [n for n in os.listdir(self.incoming) if not n.startswith(".")] + \
            self.inst.queue_files(("active", "deferred"))

    def send_ok(self, subject):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("x@example.org", [ALICE], "Subject: %s\r\n\r\nhello\r\n" % subject)
        wait_until(lambda: any(("Subject: %s" % subject).encode() in m
                               for m in self.inst.messages(ALICE)), 30,
                   what="%r delivered\n%s" % (subject, self.inst.log()[-2000:]))

    def test_no_354_when_the_queue_file_cannot_be_made(self):
        # No finished file to reuse (recycle/): cleanup needs a new inode.
        # The last test's message goes there once qmgr is done with it,
        # which can be just after it showed up in the mailbox.
        wait_until(lambda: self.queued() == [], 30, what="the queue emptied")
        rec = os.path.join(self.inst.queue, "recycle")
        for n in os.listdir(rec):
            os.unlink(os.path.join(rec, n))
        names = self.fill_inodes()
        try:
            c = session(self.inst.smtp_port)
            self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
            code, lines = c.cmd("DATA")
            self.assertEqual((code, lines[0]), (452, "4.3.1 Error: insufficient system storage"))
            # The transaction is over; the session goes on.
            self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
            c.close()
        finally:
            for n in names:
                os.unlink(n)
        self.assertEqual(self.queued(), [])
        self.send_ok("after inodes")

    def test_disk_full_during_data(self):
        self.fill_blocks(64 * 1024)
        try:
            c = session(self.inst.smtp_port)
            self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: too big for the disk\r\n\r\n" + b"y" * 200 * 1024 + b"\r\n")
            code, lines = c.cmd(".")
            self.assertEqual((code, lines[0]), (452, "4.3.1 Error: insufficient system storage"))
            c.close()
        finally:
            os.unlink(self.filler)
        self.assertEqual(self.queued(), [])
        self.assertFalse(any(b"too big for the disk" in m for m in self.inst.messages(ALICE)))
        self.send_ok("after the disk had room")


if __name__ == "__main__":
    unittest.main()
