"""Crash safety (DESIGN.md invariants 1-3): under load, kill -9 cleanup,
qmgr and local at random moments; master restarts them; every message that
got a 250 is delivered, and the queue ends empty."""
import os
import random
import re
import signal
import smtplib
import threading
import time
import unittest

from tern_instance import Instance, wait_until

USER = "crash@example.com"
MESSAGES = 200
SENDERS = 4


class CrashTest(unittest.TestCase):
    def test_kill_9_under_load_loses_nothing(self):
        inst = Instance(mailboxes=[USER], main_cf={
            "queue_run_delay": "1s", "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s"})
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        accepted, lock = set(), threading.Lock()
        done = threading.Event()
        kills = []
        try:
            inst.start()

            def sender(n):
                for i in range(n, MESSAGES, SENDERS):
                    tag = "crash-%03d" % i
                    try:
                        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                            c.sendmail("s@example.org", [USER],
                                       ("Subject: %s\r\n\r\n%s\r\n" % (tag, tag)).encode())
                        with lock:
                            accepted.add(tag)
                    except (smtplib.SMTPException, OSError):
                        pass    # not acknowledged: no promise was made
                    time.sleep(rng.uniform(0, 0.04))   # spread the load over the kills

            def killer():
                while not done.is_set():
                    time.sleep(rng.uniform(0.02, 0.25))
                    prog = rng.choice(["cleanup", "qmgr", "local"])
                    pids = inst.pids_of(prog)
                    if pids:
                        pid = rng.choice(pids)
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills.append(prog)
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
            print("\n    kills: %s; accepted %d of %d" % (
                {p: kills.count(p) for p in set(kills)}, len(accepted), MESSAGES))
            self.assertGreater(len(kills), 3, "the killer did not kill enough")
            self.assertGreater(len(accepted), MESSAGES // 4, "too few messages accepted")

            def delivered():
                tags = set()
                for m in inst.messages(USER):
                    found = re.search(rb"Subject: (crash-\d+)", m)
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
