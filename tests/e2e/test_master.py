"""master as a drop-in for Postfix's: a stock master.cf, maxproc as Postfix
reads it with processes started on demand, crash back-off without log
floods, children that exit when master is killed, and inet_interfaces."""
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
import unittest

from tern_instance import TERN, Instance, free_port, wait_until

USER = "postmaster@example.com"
POSTFIX_MASTER_CF = "/usr/share/postfix/master.cf.dist"

# A stand-in daemon that speaks master's status protocol (lib/proc_status.h)
# the way tern's blocking servers do: busy while it holds a client, and
# gone when master is.  Each client gets "hello PID" and is held until it
# closes, so a test controls exactly how many processes are busy.
FAKE_DAEMON = r'''#!/usr/bin/python3
import os, select, socket, sys

def status(busy):
    pid = str(os.getpid()).encode()
    st = b"busy" if busy else b"avail"
    try:
        os.write(4, b"3:pid,%d:%s,5:state,%d:%s,0:," % (len(pid), pid, len(st), st))
    except OSError:
        pass

ls = socket.socket(fileno=3)
p = select.poll()
p.register(3, select.POLLIN)
p.register(4, 0)
while True:
    for fd, ev in p.poll():
        if fd == 4:
            sys.exit(0)
    try:
        conn, _ = ls.accept()
    except BlockingIOError:
        continue
    status(True)
    conn.setblocking(True)
    conn.sendall(b"hello %d\n" % os.getpid())
    while conn.recv(100):
        pass
    conn.close()
    status(False)
'''


def send(port, subject, rcpt=USER):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
        c.sendmail("s@example.org", [rcpt], ("Subject: %s\r\n\r\nx\r\n" % subject).encode())


def delivered(inst, subject, rcpt=USER):
    return wait_until(lambda: any(subject.encode() in m for m in inst.messages(rcpt)), 30,
                      what="delivery of %r\nlog:\n%s" % (subject, inst.log()[-3000:]))


class StockMasterCfTest(unittest.TestCase):
    """Postfix's own master.cf, from the installed package, with its smtp
    port moved to a free loopback port."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        with open(POSTFIX_MASTER_CF) as f:
            stock = f.read()
        # The one change: the smtp service listens on the test's port,
        # and on loopback only (inet_interfaces, as a satellite has it).
        text, n = re.subn(r"(?m)^smtp(\s+inet\s)", r"%d\1" % cls.inst.smtp_port, stock)
        assert n == 1
        cls.inst.write_master_cf(text)
        cls.inst.append_main_cf({"inet_interfaces": "loopback-only"})
        cls.start = cls.inst.tern("start", check=False)
        if cls.start.returncode == 0:
            cls.inst.started = True
            wait_until(lambda: cls.inst._port_open(cls.inst.smtp_port), 10, what="smtp port")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_starts_and_delivers(self):
        self.assertEqual(self.start.returncode, 0, self.start.stderr + self.inst.log())
        send(self.inst.smtp_port, "stock master.cf")
        delivered(self.inst, "stock master.cf")

    def test_postfix_services_skipped_once_each(self):
        log = self.inst.log()
        for name in ("tlsmgr", "rewrite", "bounce", "defer", "trace", "verify", "flush",
                     "proxymap", "proxywrite", "retry", "anvil", "scache"):
            self.assertEqual(len(re.findall(r"service %s \(unix, [^)]*\): skipped" % name, log)),
                             1, "%s:\n%s" % (name, log))
        # unix-dgram is accepted, and postlogd skipped like the others.
        self.assertEqual(log.count("service postlog (unix-dgram, postlogd): skipped"), 1, log)

    def test_every_line_served_or_skipped(self):
        """Every line of the stock master.cf is served or skipped: nothing
        is "not served", nothing else warns.  The transports (virtual,
        lmtp, Debian's pipe services maildrop, uucp, ...) start no process
        before mail is routed to them."""
        self.assertNotIn("not served", self.inst.log())
        self.assertNotIn("not served", self.start.stderr)
        self.assertNotIn("unknown parameter", self.start.stderr)
        for name in ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend", "mailman",
                     "lmtp", "virtual"):
            self.assertNotRegex(self.inst.log(), r"service %s \(unix, \w+\): not served" % name)
            self.assertNotIn("service %s (unix" % name, self.start.stderr)
            self.assertTrue(os.path.exists(os.path.join(self.inst.queue, "private", name)))
        self.assertEqual(self.inst.pids_of("pipe"), [])

    def test_few_processes_and_public_sockets_kept_private(self):
        """maxproc "-" and 0 no longer start 100 processes each; Postfix's
        public cleanup and qmgr sockets stay private in tern."""
        procs = wait_until(lambda: self.inst.processes(), 10, what="processes")
        time.sleep(1)
        procs = self.inst.processes()
        self.assertLessEqual(len(procs), 16, procs)
        counts = {}
        for _, prog, _ in procs:
            counts[prog] = counts.get(prog, 0) + 1
        self.assertEqual(counts.get("cleanup"), 1, counts)  # maxproc 0: one, on demand more
        self.assertEqual(counts.get("qmgr"), 1, counts)
        priv = os.path.join(self.inst.queue, "private")
        pub = os.path.join(self.inst.queue, "public")
        self.assertTrue(os.path.exists(os.path.join(priv, "cleanup")))
        self.assertFalse(os.path.exists(os.path.join(pub, "cleanup")))
        self.assertTrue(os.path.exists(os.path.join(pub, "pickup")))

    def test_listens_on_loopback_only(self):
        got = Instance.listeners(self.inst.smtp_port)
        self.assertIn("127.0.0.1", got)
        self.assertTrue(got <= {"127.0.0.1", "::1"}, got)


class OnDemandTest(unittest.TestCase):
    """maxproc is Postfix's upper bound: processes start as clients wait."""

    def setUp(self):
        self.inst = Instance()
        self.fake = os.path.join(self.inst.dir, "fake-daemon")
        with open(self.fake, "w") as f:
            f.write(FAKE_DAEMON)
        os.chmod(self.fake, 0o755)
        self.port = free_port()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.inst.cleanup()

    def start_with(self, maxproc):
        with open(self.inst.master_cf_path, "a") as f:
            f.write("127.0.0.1:%d inet n - n - %s %s\n" % (self.port, maxproc, self.fake))
        self.inst.start()

    def fakes(self):
        # A script runs as its interpreter: argv[0] is python3.
        return [p for p, prog in self.inst.instance_pids().items()
                if prog in ("fake-daemon", "python3")]

    def connect(self, expect_hello=True):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.clients.append(c)
        if expect_hello:
            c.settimeout(10)
            line = c.makefile("rb").readline()
            self.assertTrue(line.startswith(b"hello "), line)
            return int(line.split()[1])
        return c

    def test_dash_means_one_then_on_demand(self):
        self.start_with("-")
        wait_until(lambda: len(self.fakes()) == 1, 10, what="one process")
        time.sleep(0.5)
        self.assertEqual(len(self.fakes()), 1)  # not default_process_limit up front
        pids = {self.connect() for _ in range(4)}
        self.assertEqual(len(pids), 4)  # each waiting client got a new process
        self.assertEqual(len(self.fakes()), 4)

    def test_limit_is_an_upper_bound(self):
        self.start_with("2")
        a, b = self.connect(), self.connect()
        self.assertNotEqual(a, b)
        c = self.connect(expect_hello=False)
        c.settimeout(1.5)
        with self.assertRaises(socket.timeout):
            c.recv(100)  # waits: both processes are busy and maxproc is 2
        self.assertEqual(len(self.fakes()), 2)
        self.clients[0].close()
        c.settimeout(10)
        self.assertTrue(c.recv(100).startswith(b"hello "))

    def test_zero_means_no_limit(self):
        self.start_with("0")
        pids = {self.connect() for _ in range(6)}
        self.assertEqual(len(pids), 6)

    def test_cleanup_with_maxproc_zero_serves_mail(self):
        """Debian's "cleanup unix n - y - 0 cleanup": mail gets through."""
        with open(self.inst.master_cf_path) as f:
            text = f.read()
        text = re.sub(r"(?m)^cleanup(\s+unix\s+)-(\s+-\s+n\s+-\s+)\S+", r"cleanup\1n\2 0", text)
        self.assertIn(" 0 ", text.split("cleanup", 1)[1].split("\n")[0])
        self.inst.write_master_cf(text)
        self.inst.start()
        send(self.inst.smtp_port, "via cleanup maxproc 0")
        delivered(self.inst, "via cleanup maxproc 0")


class CrashTest(unittest.TestCase):
    def test_crashing_service_does_not_flood_the_log(self):
        """A service that dies at once, with maxproc "-" (once 100
        processes dying together, thousands of log lines): a few lines
        per attempt, with a growing pause between attempts."""
        inst = Instance()
        try:
            with open(inst.master_cf_path, "a") as f:
                f.write("127.0.0.1:%d inet n - n - - /bin/false\n" % free_port())
                f.write("crashy unix - - n - - /bin/false\n")
            inst.start()
            time.sleep(4)
            lines = [l for l in inst.log().splitlines() if "/bin/false" in l]
            self.assertGreaterEqual(len(lines), 4, inst.log())
            self.assertLessEqual(len(lines), 30, inst.log())
            self.assertIn("failures in a row", inst.log())
            send(inst.smtp_port, "next to crashing services")
            delivered(inst, "next to crashing services")
        finally:
            inst.cleanup()

    def test_stop_logs_no_warnings_for_children_it_stopped(self):
        inst = Instance()
        try:
            inst.start()
            send(inst.smtp_port, "before stop")
            delivered(inst, "before stop")
            inst.tern("reload")
            time.sleep(0.5)
            r = inst.tern("stop")
            inst.started = False
            self.assertIn("stopped", r.stdout)
            log = inst.log()
            self.assertNotIn("killed by signal", log)
            self.assertNotIn("exit status", log)
        finally:
            inst.cleanup()


class MasterDeathTest(unittest.TestCase):
    """kill -9 of master alone (a crash): its children go, and the
    instance starts again without the operator cleaning up."""

    def test_children_exit_and_start_works_again(self):
        inst = Instance()
        try:
            inst.start()
            send(inst.smtp_port, "before the crash")
            delivered(inst, "before the crash")
            children = [p for p in inst.instance_pids() if p != inst.master_pid()]
            self.assertGreaterEqual(len(children), 5)
            dead = inst.kill_master()
            wait_until(lambda: not inst.instance_pids(), 10,
                       what="children gone, left: %s" % inst.instance_pids())
            st = inst.tern("status", check=False)
            self.assertEqual(st.returncode, 3)
            self.assertIn("pid %d, died" % dead, st.stdout)
            r = inst.tern("stop", check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("had died", r.stdout)
            inst.start()
            send(inst.smtp_port, "after the crash")
            delivered(inst, "after the crash")
        finally:
            inst.cleanup()

    def test_stuck_orphan_is_stopped_by_the_next_start(self):
        """A child that cannot notice (stopped, as if hung) is still there
        after master died; "tern status" says so, and "tern start" stops it
        before binding, so no orphan keeps the port or answers 451."""
        inst = Instance()
        try:
            inst.start()
            smtpds = wait_until(lambda: inst.pids_of("smtpd"), 10, what="smtpd")
            os.kill(smtpds[0], signal.SIGSTOP)
            inst.kill_master()
            wait_until(lambda: list(inst.instance_pids()) == [smtpds[0]], 30,
                       what="only the stopped smtpd left: %s" % inst.instance_pids())
            st = inst.tern("status", check=False)
            self.assertEqual(st.returncode, 3)
            self.assertIn("still running", st.stdout)
            inst.start()
            self.assertFalse(os.path.exists("/proc/%d" % smtpds[0]) and
                             open("/proc/%d/stat" % smtpds[0]).read().rsplit(")", 1)[1].split()[0]
                             != "Z")
            self.assertIn("previous master left behind", inst.log())
            for i in range(5):
                send(inst.smtp_port, "after the orphan %d" % i)
            for i in range(5):
                delivered(inst, "after the orphan %d" % i)
            self.assertNotIn("Address already in use", inst.log())
        finally:
            inst.cleanup()


class InetInterfacesTest(unittest.TestCase):
    def listening_with(self, main_cf):
        inst = Instance(main_cf=main_cf)
        try:
            port = free_port()
            with open(inst.master_cf_path, "a") as f:
                f.write("%d inet n - n - 1 smtpd\n" % port)
            inst.start()
            wait_until(lambda: Instance.listeners(port), 10, what="listener")
            return Instance.listeners(port)
        finally:
            inst.cleanup()

    def test_loopback_only_ipv4(self):
        self.assertEqual(self.listening_with({"inet_interfaces": "loopback-only",
                                              "inet_protocols": "ipv4"}), {"127.0.0.1"})

    def test_loopback_only_both_protocols(self):
        got = self.listening_with({"inet_interfaces": "loopback-only", "inet_protocols": "all"})
        self.assertIn("127.0.0.1", got)
        if os.path.exists("/proc/net/if_inet6"):
            self.assertIn("::1", got)
        self.assertTrue(got <= {"127.0.0.1", "::1"}, got)

    def test_address_list(self):
        self.assertEqual(self.listening_with({"inet_interfaces": "127.0.0.1, 127.0.0.2"}),
                         {"127.0.0.1", "127.0.0.2"})

    def test_bad_inet_interfaces_refuses_start(self):
        inst = Instance(main_cf={"inet_interfaces": "all, loopback-only"})
        try:
            with open(inst.master_cf_path, "a") as f:
                f.write("%d inet n - n - 1 smtpd\n" % free_port())
            r = inst.tern("start", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("must stand alone", r.stderr)
            c = inst.tern("check", check=False)
            self.assertNotEqual(c.returncode, 0)
            self.assertRegex(c.stderr, r"master\.cf:\d+: service \d+: inet_interfaces")
        finally:
            inst.cleanup()


class ForegroundTest(unittest.TestCase):
    def test_foreground_logs_to_terminal_and_file(self):
        """"make run" runs "tern start -f": lines reach the terminal and
        maillog_file (run/log/tern.log) alike."""
        inst = Instance()
        p = subprocess.Popen([TERN, "-c", inst.dir, "start", "-f"],
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: inst._port_open(inst.smtp_port), 10, what="smtp port")
            send(inst.smtp_port, "foreground")
            delivered(inst, "foreground")
            p.send_signal(signal.SIGTERM)
            err = p.communicate(timeout=30)[1].decode(errors="replace")
            log = inst.log()
            for text in ("daemon started", "status=sent", "terminating on signal"):
                self.assertIn(text, err)
                self.assertIn(text, log)
        finally:
            if p.poll() is None:
                p.kill()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
