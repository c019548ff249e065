"""Many idle SMTP sessions: one smtpd process holds more sessions
than max_use and than 1024 descriptors, each idle after EHLO, while a new
client still gets its 220 and sends mail; an idle session costs the process
little memory; with too few descriptors a client over the limit gets a 421
instead of hanging in the listen queue.

The sessions are opened by tests/bench/idle_hold.py's Holder (the load of
make bench's W1+idle phase), in this process."""
import os
import re
import resource
import smtplib
import sys
import unittest

from smtpd_util import Conn, wait_log
from tern_instance import Instance, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import idle_hold  # noqa: E402

USER = "alice@example.com"
HELD = 1200                 # above 1024 descriptors in one process, above max_use (100)


def one_smtpd(inst):
    """The smtp service gets one smtpd process, so it alone holds every session."""
    path = os.path.join(inst.etc, "master.cf")
    with open(path) as f:
        lines = f.read().splitlines(True)
    with open(path, "w") as f:
        for line in lines:
            fields = line.split()
            if fields and fields[0] == "127.0.0.1:%d" % inst.smtp_port:
                fields[6] = "1"
                line = " ".join(fields) + "\n"
            f.write(line)


def smtpd_pid(inst):
    """The pid of the smtp service's smtpd (not the submission one's)."""
    for pid in inst.pids_of("smtpd"):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if ("127.0.0.1:%d" % inst.smtp_port).encode() in f.read().split(b"\0"):
                    return pid
        except OSError:
            pass
    return None


def proc_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def fd_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def start_with_fd_limit(inst, soft, hard=None):
    """tern start with RLIMIT_NOFILE lowered: master and smtpd inherit it."""
    cur_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = cur_hard if hard is None else hard
    r = inst.tern("start", check=False,
                  preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
    if r.returncode != 0:
        raise AssertionError("tern start failed: %s%s\n%s" % (r.stdout, r.stderr, inst.log()))
    inst.started = True
    wait_until(lambda: inst._port_open(inst.smtp_port), 10, what="smtp port")
    wait_until(lambda: smtpd_pid(inst), 10, what="smtpd")


def hold(inst, n):
    h = idle_hold.Holder("127.0.0.1", inst.smtp_port, n)
    h.open_all(120)
    return h


def greeting(inst):
    c = Conn(inst.smtp_port)
    try:
        return c.reply()[0]
    finally:
        c.close()


def release(h):
    for s in h.idle:
        s.sock.close()
    h.idle = []


class IdleSessionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < HELD + 200:
            raise unittest.SkipTest("hard descriptor limit too low for %d sessions" % HELD)
        idle_hold.raise_fd_limit(HELD)
        cls.inst = Instance(mailboxes=[USER], main_cf={"max_use": "100"})
        one_smtpd(cls.inst)
        # Started with 1024 descriptors: smtpd must raise its own limit.
        start_with_fd_limit(cls.inst, 1024)
        wait_log(cls.inst, "disconnect from unknown[127.0.0.1]")     # tern start's probe

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_held_sessions_and_a_new_client_still_served(self):
        pid = smtpd_pid(self.inst)
        rss0 = proc_kib(pid, "VmRSS:")
        h = hold(self.inst, HELD)
        try:
            self.assertEqual((len(h.idle), h.failed), (HELD, 0), h.first_error)
            self.assertEqual(smtpd_pid(self.inst), pid, "one process holds them all")
            self.assertGreater(fd_limit(pid), HELD)
            rss = proc_kib(pid, "VmRSS:")
            # A new client: greeted, and its mail is delivered.
            self.assertEqual(greeting(self.inst), 220)
            with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
                self.assertEqual(s.sendmail("s@example.org", [USER],
                                            b"Subject: beside idle ones\r\n\r\nx\r\n"), {})
            wait_until(lambda: [m for m in self.inst.messages(USER) if b"beside idle ones" in m],
                       30, what="delivery beside the idle sessions")
            self.assertEqual(h.still_open(), HELD)
        finally:
            release(h)
        # Idle sessions hold no input or reply buffers (a read's buffer alone
        # was 8 KiB).  ASan keeps freed memory in quarantine: not measured.
        if "ASAN_OPTIONS" not in os.environ:
            self.assertLess((rss - rss0) / HELD, 4.0, "KiB of RSS per idle session")



class IdleTlsTest(unittest.TestCase):
    def test_idle_tls_sessions_release_their_buffers(self):
        if "ASAN_OPTIONS" in os.environ:
            self.skipTest("ASan keeps freed memory in quarantine")
        n = 100
        inst = Instance()
        held = []
        try:
            one_smtpd(inst)
            inst.start()
            wait_log(inst, "disconnect from unknown[127.0.0.1]")
            pid = smtpd_pid(inst)
            rss0 = proc_kib(pid, "VmRSS:")
            for _ in range(n):
                c = Conn(inst.smtp_port)
                held.append(c)
                self.assertEqual(c.reply()[0], 220)
                c.ehlo()
                c.starttls()
                self.assertEqual(c.cmd("EHLO idle.test")[0], 250)
            # With its record buffers an idle TLS session took about 37 KiB.
            self.assertLess((proc_kib(pid, "VmRSS:") - rss0) / n, 28.0, "KiB per idle TLS session")
        finally:
            for c in held:
                c.close()
            inst.cleanup()


class MaxUseTest(unittest.TestCase):
    def test_sessions_past_max_use_then_the_process_retires(self):
        inst = Instance(main_cf={"max_use": "100"})
        try:
            one_smtpd(inst)
            inst.start()
            wait_log(inst, "disconnect from unknown[127.0.0.1]")
            pid = smtpd_pid(inst)
            h = hold(inst, 150)
            try:
                # Before, a process stopped accepting at max_use (100) and,
                # with its clients still there, nothing took its place.
                self.assertEqual((len(h.idle), h.failed), (150, 0), h.first_error)
                self.assertEqual(smtpd_pid(inst), pid)
            finally:
                release(h)
            # Past max_use and now empty: it exits and master replaces it.
            wait_until(lambda: smtpd_pid(inst) not in (None, pid), 30, what="a fresh smtpd")
            self.assertEqual(greeting(inst), 220)
        finally:
            inst.cleanup()


class DescriptorLimitTest(unittest.TestCase):
    def test_421_when_descriptors_run_out(self):
        inst = Instance(main_cf={"smtpd_client_session_limit": "1000"})
        try:
            one_smtpd(inst)
            start_with_fd_limit(inst, 256, 256)
            pid = smtpd_pid(inst)
            if fd_limit(pid) >= 2064:
                self.skipTest("smtpd could raise its hard limit (CAP_SYS_RESOURCE)")
            wait_log(inst, "descriptor limit 256: fewer than smtpd_client_session_limit = 1000")
            h = hold(inst, 300)
            try:
                self.assertGreater(len(h.idle), 100)
                self.assertEqual(len(h.idle) + h.failed, 300)
                self.assertGreater(h.failed, 0)
                self.assertRegex(h.first_error, r"answered b'421 4\.7\.0 .*too many connections")
                self.assertTrue(re.search(r"out of descriptors \(limit 256\)", inst.log()))
            finally:
                release(h)
            # The process lives on and greets the next client.
            wait_until(lambda: greeting(inst) == 220, 30, what="220 again")
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
