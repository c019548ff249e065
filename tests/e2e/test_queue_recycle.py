"""Finished queue files are reused (recycle/): qmgr moves a delivered file
to queue/recycle/ instead of unlinking it, and cleanup takes it for the
next message.  The reused file must carry nothing of its past: a big
message whose file also got journal records (two destinations, so two
requests) is followed by small ones to the same recipients, and every
copy must arrive whole and exactly once.  recycle/ is no queue: the
queue tools do not list it, and `tern check` accepts it."""
import fcntl
import os
import pwd
import smtplib
import unittest

from tern_instance import Instance, wait_until

RCPTS = ["a@example.com", "b@example.com", "c@example.net"]
SENDER = "s@example.org"


def recycled(inst):
    d = os.path.join(inst.queue, "recycle")
    return {os.stat(os.path.join(d, n)).st_ino for n in os.listdir(d)}


def message(subject, size):
    body = b"".join(b"%s line %06d\r\n" % (subject.encode(), i) for i in range(size // 20))
    return b"From: s@example.org\r\nSubject: " + subject.encode() + b"\r\n\r\n" + body


class RecycleTest(unittest.TestCase):
    def test_reused_file_delivers_only_the_new_message(self):
        inst = Instance(domains=("example.com", "example.net"), mailboxes=RCPTS)
        try:
            inst.start()
            big = message("big", 300 * 1024)
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                c.sendmail(SENDER, RCPTS, big)
            wait_until(lambda: all(len(inst.messages(r)) == 1 for r in RCPTS), 30,
                       what="the big message in all three Maildirs")
            wait_until(lambda: len(recycled(inst)) == 1, 10, what="one file in recycle/")
            first = recycled(inst)
            # Emptied as it was recycled: no delivered mail lingers there.
            d = os.path.join(inst.queue, "recycle")
            self.assertEqual([os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)], [0])
            # Small messages now: the first one takes the big one's inode.
            for i in range(3):
                with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                    c.sendmail(SENDER, RCPTS, message("small%d" % i, 2000))
                wait_until(lambda: all(len(inst.messages(r)) == 2 + i for r in RCPTS), 30,
                           what="small message %d in all three Maildirs" % i)
            wait_until(lambda: not inst.queue_files(), 10, what="an empty queue")
            self.assertEqual(recycled(inst), first,
                             "the same inode went round: %s then %s" % (first, recycled(inst)))
            for r in RCPTS:
                got = inst.messages(r)
                self.assertEqual(len(got), 4, r)
                subjects = sorted(m.split(b"Subject: ")[1].split(b"\n")[0].strip() for m in got)
                self.assertEqual(subjects, [b"big", b"small0", b"small1", b"small2"])
                for m in got:
                    if b"Subject: small" in m:
                        self.assertLess(len(m), 4000, "a small copy carries old bytes")
                        self.assertNotIn(b"big line", m)
                    else:
                        self.assertIn(b"big line %06d" % (300 * 1024 // 20 - 1), m)
            log = inst.log()
            self.assertEqual(log.count("status=sent"), 12, log[-3000:])
            # Not a queue: the tools list nothing, and check is content.
            self.assertEqual(inst.tern("queue", "list").stdout.strip(), "Mail queue is empty")
            chk = inst.tern("check", check=False)
            self.assertEqual(chk.returncode, 0, chk.stdout + chk.stderr)
        finally:
            inst.stop()
            inst.cleanup()

    def test_dead_cleanups_file_goes_a_live_ones_stays(self):
        """A cleanup locks its temporary file in incoming/ while it
        writes; qmgr's scan removes one nobody locks (its cleanup died)
        once it is 10 s old, and never one that is locked."""
        inst = Instance()
        held = None
        try:
            inst.start()
            tern = pwd.getpwnam("tern")
            paths = {}
            for name in ("orphan", "locked"):
                p = os.path.join(inst.queue, "incoming", ".tmp.%s" % name)
                with open(p, "wb") as f:
                    f.write(b"half a queue file")
                os.chown(p, tern.pw_uid, tern.pw_gid)
                paths[name] = p
            held = open(paths["locked"], "rb")
            fcntl.flock(held, fcntl.LOCK_EX)
            wait_until(lambda: not os.path.exists(paths["orphan"]), 40,
                       what="the unlocked temporary file to be removed")
            self.assertTrue(os.path.exists(paths["locked"]), "a locked file was removed")
            self.assertIn("removed stale temporary file incoming/.tmp.orphan", inst.log())
            self.assertNotIn(".tmp.locked", inst.log())
        finally:
            if held:
                held.close()
            inst.stop()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
