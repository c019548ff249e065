"""kill -9 of qmgr at random moments under load, repeated, with deliveries
and bounces going on: nothing accepted is lost (every good recipient is
delivered, every bad one bounced to the sender), duplicates stay within
what the deliveries in flight at the kills allow, and no file is left in
active/ (or anywhere) once the queue has drained."""
import collections
import os
import random
import signal
import smtplib
import threading
import time
import unittest

from queue_util import TestAgent
from tern_instance import Instance, wait_until

MESSAGES = 150
SENDERS = 4
SENDER = "sender@example.org"


class QmgrCrashTest(unittest.TestCase):
    def test_kill_9_qmgr_under_load(self):
        inst = Instance(main_cf={
            "default_transport": "testagent",
            "queue_run_delay": "1s", "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s", "service_throttle_time": "1s",
            "default_destination_concurrency_limit": "4"})
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        accepted, lock, kills = [], threading.Lock(), []
        done = threading.Event()
        agent = None
        try:
            inst.start()
            agent = TestAgent(inst, delay=lambda req: rng.uniform(0, 0.05))

            def sender(n):
                for i in range(n, MESSAGES, SENDERS):
                    rcpts = ["ok%d@a.example" % i, "ok%d@b.example" % i, "bad%d@c.example" % i]
                    try:
                        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                            c.sendmail(SENDER, rcpts, b"Subject: crash\r\n\r\nx\r\n")
                        with lock:
                            accepted.append(i)
                    except (smtplib.SMTPException, OSError):
                        pass
                    time.sleep(rng.uniform(0, 0.03))

            def killer():
                # until the senders are done and qmgr died often enough
                # (bounded: the queue drains in between)
                end = time.monotonic() + 40
                while (not done.is_set() or len(kills) < 8) and time.monotonic() < end:
                    time.sleep(rng.uniform(0.1, 0.6))
                    for pid in inst.pids_of("qmgr"):
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills.append(pid)
                        except OSError:
                            pass

            k = threading.Thread(target=killer)
            k.start()
            threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            done.set()
            k.join(60)
            print("\n    %d qmgr kills, %d of %d messages accepted" % (
                len(kills), len(accepted), MESSAGES))
            self.assertGreater(len(kills), 3)
            self.assertGreater(len(accepted), MESSAGES // 2)

            def counts():
                c = collections.Counter()
                with agent.lock:
                    for r in agent.requests:
                        for x in r["rcpts"]:
                            c[x["addr"]] += 1
                return c

            def bounced():
                out = collections.Counter()
                for r in agent.delivered_to(SENDER):
                    for line in r.get("content", b"").decode(errors="replace").splitlines():
                        if line.startswith("Final-Recipient: rfc822; "):
                            out[line.split("; ", 1)[1]] += 1
                return out

            def all_done():
                c, b = counts(), bounced()
                return all(c["ok%d@a.example" % i] and c["ok%d@b.example" % i] and
                           b["bad%d@c.example" % i] for i in accepted)
            wait_until(all_done, 90, what="every accepted message delivered and bounced\n" +
                       inst.log()[-3000:])
            wait_until(lambda: not inst.queue_files(("incoming", "active", "deferred")), 60,
                       what="a drained queue: %s" % inst.queue_files())
            self.assertEqual(os.listdir(os.path.join(inst.queue, "corrupt")), [])
            c = counts()
            # a failed recipient tried again is no delivery: count the
            # deliveries (ok...) and the notices
            dups = sum(n - 1 for a, n in c.items() if a.startswith("ok") and n > 1)
            ndups = sum(n - 1 for n in bounced().values() if n > 1)
            print("    duplicate deliveries: %d, duplicate notices: %d" % (dups, ndups))
            dups += ndups
            # At most what was in flight at each kill happens twice: four
            # destinations (a, b, c and the sender's) of 4 connections
            # each, and the notice cleanup was committing.
            self.assertLessEqual(dups, len(kills) * (4 * 4 + 1))
        finally:
            done.set()
            if agent:
                agent.stop()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
