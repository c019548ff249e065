"""cleanup's group commit (cleanup/commit.c) under kill -9: many clients
end their messages together, so the queue files of one event-loop round
share one fsync of incoming/; cleanup is killed at random moments, master
restarts it, and every message that got a 250 is delivered (DESIGN.md
invariants 1 and 3), the queue ends empty, and the log shows that groups
of more than one file were committed (the path under test ran)."""
import os
import random
import re
import signal
import smtplib
import threading
import time
import unittest

from tern_instance import Instance, wait_until

USER = "group@example.com"
MESSAGES = 160
SENDERS = 16
KILL_EVERY = 15


def one_cleanup_verbose(text):
    """master.cf with one cleanup process (all clients meet in one event
    loop, so groups form) that logs its groups (-v)."""
    out = []
    for line in text.split("\n"):
        f = line.split()
        if f and f[0] == "cleanup" and len(f) >= 8:
            f[6] = "1"
            f[7:] = [f[7], "-v"] + f[8:]
            line = " ".join(f)
        out.append(line)
    return "\n".join(out)


class GroupCommitCrashTest(unittest.TestCase):
    def test_kill_9_cleanup_during_group_commits_loses_nothing(self):
        inst = Instance(mailboxes=[USER], main_cf={
            "queue_run_delay": "1s", "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s", "service_throttle_time": "1s"})
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        accepted, lock = set(), threading.Lock()
        done = threading.Event()
        kills = []
        try:
            with open(inst.master_cf_path) as f:
                master = f.read()
            changed = one_cleanup_verbose(master)
            self.assertNotEqual(master, changed, "no cleanup line in master.cf")
            inst.write_master_cf(changed)
            inst.start()
            log_start = len(inst.log())

            def sender(n):
                for i in range(n, MESSAGES, SENDERS):
                    tag = "group-%03d" % i
                    try:
                        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=60) as c:
                            c.sendmail("s@example.org", [USER],
                                       ("Subject: %s\r\n\r\n%s\r\n" % (tag, tag)).encode())
                        with lock:
                            accepted.add(tag)
                    except (smtplib.SMTPException, OSError):
                        pass    # not acknowledged: no promise was made

            def killer():
                # Kill at points tied to progress, not to the clock: after
                # every KILL_EVERY acknowledged messages (a few ms later, at
                # a random moment of the next groups), so a fast or a slow
                # machine sees the same number of kills.
                target = KILL_EVERY
                while not done.is_set():
                    with lock:
                        n = len(accepted)
                    if n < target:
                        time.sleep(0.005)
                        continue
                    time.sleep(rng.uniform(0, 0.02))
                    for pid in inst.pids_of("cleanup"):
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills.append(pid)
                            target = n + KILL_EVERY
                        except OSError:
                            pass

            k = threading.Thread(target=killer)
            k.start()
            senders = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
            for t in senders:
                t.start()
            for t in senders:
                t.join(300)
            done.set()
            k.join(10)
            groups = [int(n) for n in re.findall(r"group commit of (\d+) queue files",
                                                 inst.log()[log_start:])]
            print("\n    %d cleanup kills; accepted %d of %d; %d groups, largest %d" % (
                len(kills), len(accepted), MESSAGES, len(groups), max(groups or [0])))
            self.assertGreater(len(kills), 3, "the killer did not kill enough")
            self.assertGreater(len(accepted), MESSAGES // 4, "too few messages accepted")
            self.assertTrue(groups, "no group of more than one queue file was committed")

            def delivered():
                tags = set()
                for m in inst.messages(USER):
                    found = re.search(rb"Subject: (group-\d+)", m)
                    if found:
                        tags.add(found.group(1).decode())
                return tags
            wait_until(lambda: accepted <= delivered(), 90,
                       what="every accepted message delivered; missing %s" %
                       sorted(accepted - delivered())[:10])
            wait_until(lambda: inst.queue_files() == [], 30,
                       what="an empty queue, left: %s" % inst.queue_files())
        finally:
            done.set()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
