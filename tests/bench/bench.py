#!/usr/bin/env python3
"""make bench: tern against Debian's Postfix, side by side, on this machine.

Both MTAs get the same routing: one virtual Maildir (a catch-all for
bench.test, owned by an ordinary user made for the run) and a relay domain
(relay.test) sent by transport_maps to Postfix's smtp-sink on loopback.
Every fsync stays at its default.  Postfix's smtp-source drives each
workload; runs alternate tern, Postfix, tern, Postfix, each from a cold
start on a fresh instance with an empty queue, and are timed end to end:
from smtp-source's first connection until the last file is in Maildir/new/
(or the sink has counted the last message).

Per run: items/s (messages, or deliveries for the fan-out), CPU seconds of
all of the MTA's processes (each MTA runs in a cgroup v2 of its own; without
one, /proc is summed), peak PSS sum (sampled), and in one separate strace
run per MTA the fsync calls per message.  Also the disk's own ceiling: a
loop of create + write 4 KiB + fsync + rename + fsync(dir) with 1 and 16
threads in the file system holding the queues.

W1+idle (tern only): W1 again, on a fresh instance that holds 10,000 idle
SMTP sessions (each past its EHLO) opened by a separate client process
(idle_hold.py); the sessions held, the RSS and PSS sums of the instance with
them, and W1's rate against an unloaded W1 run of tern just before.
Postfix's default master.cf (100 smtpd processes, one client each) cannot
hold that many sessions, so Postfix does not run it.

Variants (VARIANTS): a workload on instances without and with one
feature, back to back; with Postfix too when it has the same feature.
W1+rspamd: W1 with every message scanned by rspamd as a milter (its
proxy worker in milter mode, self-scan, on loopback; one rspamd started
by tests/e2e/rspamd_util.py for all runs, its CPU outside the MTAs'
cgroups), tern against Postfix with the same smtpd_milters settings;
target tern/Postfix >= 1.5x; a run fails unless every delivered message
carries rspamd's X-Spamd-Result header.

SCREEN (screen_bench.py): connections per second of connect + screening
(pregreet test and 3 DNSBLs on a loopback DNS server) + EHLO + QUIT,
tern's smtpd_screening against Postfix's postscreen + smtpd, clean
clients each from an address of its own (no cache hit); target >= 2x.

JMAP, PUSH, WEBSIZE, PAINT (jmap_bench.py, tern only): issue 19's webmail
and JMAP targets on one 100,000-message INBOX (scaled): Email/query +
Email/get of each page shape the webmail asks for; 1,000 EventSource
streams held with http's and jmap's memory; the web client's first load
as http sends it (gzip); the inbox's first rows in headless Chromium.

IMAP (imap_bench.py): tern's imap and pop3 against Debian's Dovecot on the
same 10,000-message Maildir: login + EXAMINE + FETCH of the headers, SEARCH
TEXT and FROM, POP3 login + LIST + RETR.

IMAP-IDLE (imap_idle.py): 10,000 IDLE sessions (100 users) held by a
tern instance in its default configuration, the RSS and PSS sums with
them, and how long after a delivery to 20 users their sessions read
"* n EXISTS".

POP3 (pop3_bench.py): POP3 sessions per second (login, STAT, UIDL, RETR of
five messages, QUIT; 8 concurrent clients) of tern's pop3 against Dovecot's
pop3d on the same Maildirs.

AUTH (auth_bench.py): the auth service's verifications per second with
the default scheme against the machine's raw crypt(3) speed, and SMTP AUTH
logins per second through smtpd against Postfix with Dovecot SASL (same
client, same password hash, same run).

Environment: BENCH_SCALE (default 1.0) scales the message counts,
BENCH_REPS (default 5) runs per MTA and workload (alternated; the summary
gives the median and the spread, max-min over median, of each), BENCH_ONLY (e.g. "W1,W3",
"W1+idle", "W1+rspamd", "SCREEN", "AUTH", "IMAP", "POP3", "IMAP-IDLE", "JMAP", "PUSH",
"WEBSIZE", "PAINT")
picks workloads, BENCH_TMPDIR (default /var/tmp) holds the instances,
BENCH_NO_CGROUP=1 forces the /proc sums, TERN_BUILD the build folder.  Raw lines go to build/bench/raw.txt.

Before each run the machine's idle CPU share is measured over half a
second (idle_cpu= in the raw lines; the summary gives the lowest): a run
that started on a busy machine says so.  A timed run shorter than
MIN_RUN_SECS is marked "short" in the summary: start-up then weighs on
its rate; raise BENCH_SCALE.  BENCH_ONLY=W1 at the default scale takes
under three minutes, for quick checks.

Run as root (Postfix must start as root; the cgroups and the test user need
it).  Loopback only; everything started is stopped by pid or by its own
stop command, and the temporary folders and the user are removed.
"""
import collections
import os
import pwd
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import auth_bench
import imap_bench
import imap_idle
import jmap_bench
import pop3_bench
import screen_bench

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
TERN = os.path.join(BUILD, "bin", "tern")
OUT = os.path.join(BUILD, "bench")
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
MIN_RUN_SECS = 2.0                   # shorter timed runs are marked "short"
ONLY = [w for w in os.environ.get("BENCH_ONLY", "").split(",") if w]
TMPBASE = os.environ.get("BENCH_TMPDIR", "/var/tmp")
CGROOT = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
USER = "ternbench"
DOMAIN = "bench.test"
RELAY = "relay.test"

# name, kind, messages, recipients per message, sessions, body bytes
WORKLOADS = [
    ("W1", "local", 5000, 1, 16, 4096),
    ("W2", "local", 500, 20, 8, 4096),
    ("W3", "relay", 5000, 1, 16, 4096),
    ("W4", "local", 200, 1, 4, 1 << 20),
]

# W1 with IDLE_SESSIONS idle sessions held (scaled, at least IDLE_MIN).
IDLE_WL = "W1+idle"
IDLE_SESSIONS = 10000
IDLE_MIN = 100
IDLE_RSS_TARGET_KIB = 1 << 20        # the W1+idle target: total RSS <= 1 GiB
IDLE_RATIO_TARGET = 0.80             # ... and W1 at >= 80% of its unloaded rate
HOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "idle_hold.py")

# Variants (tern only): a workload run on instances without and with one
# feature, alternated; reported as the ratio of the medians.
# name, base workload, what, Tern method preparing both runs (or None),
# Tern method that turns the feature on, target ratio
VARIANTS = [
    ("W1+sieve", "W1", "a 20-rule Sieve script for the recipient", None, "put_sieve", 0.90),
    ("W3+dkim", "W3", "dual DKIM signing (Ed25519 and RSA-2048) of every message", None,
     "put_dkim_keys", 0.80),
    ("W1+msgauth", "W1", "SPF, DKIM verification and DMARC of every message (signed by its "
     "sender's domain, p=reject, DNS on loopback, client outside mynetworks)",
     "prep_signed_load", "put_msgauth", 0.80),
    ("W1+rspamd", "W1", "every message scanned by rspamd as a milter (its proxy worker in "
     "milter mode, self-scan, 2 processes, one rspamd for all runs, outside the MTAs' "
     "cgroups)", None, "put_rspamd", None),
]
# Variants whose Postfix run has a target: tern's rate with the feature
# over Postfix's with the same feature.
VARIANT_PF_TARGETS = {"W1+rspamd": 1.5}
RSPAMD_PROCS = 2
_rspamd = []                         # the shared rspamd, started by the first run


def shared_rspamd():
    """The milter port of the one rspamd all W1+rspamd runs share
    (tests/e2e/rspamd_util.py; started once: it compiles its rules for
    minutes on a busy machine)."""
    if not _rspamd:
        sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
        import rspamd_util
        r = rspamd_util.Rspamd(count=RSPAMD_PROCS, tmpdir=TMPBASE)
        _rspamd.append(r)
        r.wait_ready(600)
    return _rspamd[0].port


def stop_rspamd():
    while _rspamd:
        _rspamd.pop().stop()


def put_rspamd_milter(main_cf):
    """smtpd_milters to the shared rspamd in a main.cf (the names are the
    same for tern and Postfix)."""
    port = shared_rspamd()
    with open(main_cf, "a") as f:
        f.write("\n# W1+rspamd\nsmtpd_milters = inet:127.0.0.1:%d\n"
                "milter_default_action = tempfail\nmilter_content_timeout = 120s\n" % port)


def count_scanned(newdir, expect):
    """After a W1+rspamd run: every delivered message carries rspamd's
    verdict header (so rspamd did scan it); None when all do."""
    n = 0
    for name in os.listdir(newdir):
        with open(os.path.join(newdir, name), "rb") as f:
            head = f.read(65536).split(b"\n\n", 1)[0]
        if b"\nX-Spamd-Result:" in head:
            n += 1
    return None if n == expect else "%d of %d messages scanned by rspamd" % (n, expect)
SENDER_DOMAIN = "sender.test"
# Twenty rules of the kinds people write (lists into folders, senders
# flagged, vacation-free): none matches smtp-source's messages, so every
# rule is evaluated and the implicit keep files each message in INBOX.
SIEVE_SCRIPT = """require ["fileinto", "imap4flags", "envelope", "variables", "mailbox",
         "relational", "comparator-i;ascii-numeric", "subaddress", "body", "regex"];
if header :contains "list-id" "<dev.lists.example.org>" { fileinto :create "Lists.dev"; stop; }
if header :contains "list-id" "<announce.example.org>" { fileinto :create "Lists.announce"; stop; }
if header :contains "list-id" "<users.example.net>" { fileinto :create "Lists.users"; stop; }
if exists "list-unsubscribe" { if header :contains "from" "newsletter" { fileinto "News"; stop; } }
if address :domain :is "from" ["billing.example.com", "invoices.example.com"] { fileinto "Bills"; }
if address :is "from" "boss@work.example" { addflag "\\Flagged"; }
if address :localpart :is "to" "postmaster" { fileinto :create "Admin"; }
if envelope :detail "to" "shop" { fileinto :create "Shopping"; stop; }
if header :matches "subject" "*[JIRA]*" { fileinto :create "Work.Jira"; stop; }
if header :matches "subject" "[github] *" { fileinto :create "Work.GitHub"; stop; }
if header :regex "subject" "^(Re: )*\\[ticket #[0-9]+\\]" { fileinto :create "Tickets"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "Junk"; stop; }
if header :is "x-spam-flag" "YES" { fileinto "Junk"; stop; }
if anyof (header :contains "subject" "lottery", header :contains "subject" "winner!") { discard; stop; }
if allof (address :domain :is "from" "family.example", not header :contains "subject" "fwd") { addflag "$label1"; }
if header :contains "x-mailer" "BulkMailer" { fileinto "Bulk"; stop; }
if size :over 20M { fileinto :create "Large"; }
if header :matches "from" "*@calendar.example.com" { fileinto :create "Calendar"; stop; }
if body :text :contains "unsubscribe from this list" { fileinto :create "Lists.other"; stop; }
if string :is "${1}" "never" { fileinto "Never"; }
"""

raw_lines = []


def raw(line):
    """One raw result line: kept for raw.txt and echoed."""
    raw_lines.append(line)
    print("  " + line, flush=True)


def cpu_idle(seconds=0.5):
    """The machine's idle CPU share (0..1) over the next seconds, from
    /proc/stat (idle + iowait over all ticks)."""
    def ticks():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = ticks()
    time.sleep(seconds)
    i1, t1 = ticks()
    return (i1 - i0) / (t1 - t0) if t1 > t0 else 0.0


def median_spread(values):
    """(median, spread): spread is (max - min) / median, 0 for one value."""
    med = statistics.median(values)
    return med, ((max(values) - min(values)) / med if med else 0.0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(cond, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    return cond()


def run(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


# ---------------------------------------------------------------- accounting
class Group:
    """The processes of one MTA instance: a cgroup v2 when we may make one
    (then CPU is cpu.stat's usage_usec, which includes processes that have
    exited), else the master's process tree from /proc (then CPU is every
    live process's utime+stime plus what its reaped children used)."""

    def __init__(self, name):
        self.path = None
        self.master_pid = None
        if os.environ.get("BENCH_NO_CGROUP"):
            return
        p = os.path.join(CGROOT, "tern-bench-%d-%s" % (os.getpid(), name))
        try:
            os.mkdir(p)
            with open(os.path.join(p, "cpu.stat")) as f:
                f.read()
            self.path = p
        except OSError:
            try:
                os.rmdir(p)
            except OSError:
                pass

    def preexec(self):
        """Runs in the child before exec: join the cgroup."""
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write("0")

    def pids(self):
        if self.path:
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    return [int(x) for x in f.read().split()]
            except OSError:
                return []
        return tree_pids(self.master_pid) if self.master_pid else []

    def cpu_seconds(self):
        if self.path:
            with open(os.path.join(self.path, "cpu.stat")) as f:
                for line in f:
                    k, v = line.split()
                    if k == "usage_usec":
                        return int(v) / 1e6
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:15])   # utime stime cutime cstime
            except (OSError, IndexError, ValueError):
                pass
        return total / tick

    def _sum(self, name, field):
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/%s" % (pid, name)) as f:
                    for line in f:
                        if line.startswith(field):
                            total += int(line.split()[1])
                            break
            except (OSError, ValueError, IndexError):
                pass
        return total

    def pss_kib(self):
        return self._sum("smaps_rollup", "Pss:")

    def rss_kib(self):
        """Sum of VmRSS: pages shared by several processes count each time."""
        return self._sum("status", "VmRSS:")

    def kill_rest(self, timeout=20):
        """After the MTA's own stop: wait for its processes to go, then kill
        whatever is left of them (they are all ours), and drop the cgroup."""
        if not wait_until(lambda: not self.pids(), timeout, 0.1):
            if self.path:
                try:
                    with open(os.path.join(self.path, "cgroup.kill"), "w") as f:
                        f.write("1")
                except OSError:
                    for pid in self.pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
            else:
                for pid in self.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            wait_until(lambda: not self.pids(), 10, 0.1)
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError as e:
                print("bench: cannot remove cgroup %s: %s" % (self.path, e), file=sys.stderr)


def tree_pids(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if os.path.exists("/proc/%d" % p):
            out.append(p)
        todo += children.get(p, [])
    return out


class PssSampler(threading.Thread):
    """Samples the group's PSS sum (and RSS sum) every 0.2 s; keeps the peaks."""

    def __init__(self, group):
        super().__init__(daemon=True)
        self.group, self.peak, self.rss_peak = group, 0, 0
        self.stop_flag = threading.Event()

    def sample(self):
        self.peak = max(self.peak, self.group.pss_kib())
        self.rss_peak = max(self.rss_peak, self.group.rss_kib())

    def run(self):
        while not self.stop_flag.is_set():
            self.sample()
            self.stop_flag.wait(0.2)

    def stop(self):
        self.stop_flag.set()
        self.join(5)
        self.sample()


# ---------------------------------------------------------------- the sink
class Sink:
    """smtp-sink on a free loopback port, counting messages (-c) into a file."""

    def __init__(self, tmp):
        self.port = free_port()
        self.out_path = os.path.join(tmp, "sink.out")
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody",
                                      "127.0.0.1:%d" % self.port, "256"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        try:
            if not wait_until(lambda: port_open(self.port), 10):
                raise RuntimeError("smtp-sink did not listen")
        except BaseException:       # also an interrupt: the caller has no sink to stop
            self.stop()
            raise
        self.base = self.count()    # our own probe connection is not mail

    def count(self):
        try:
            with open(self.out_path, "rb") as f:
                data = f.read()
        except OSError:
            return 0
        m = re.findall(rb"mesg=(\d+)", data)
        return int(m[-1]) if m else 0

    def delivered(self):
        return self.count() - self.base

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.out.close()


# ---------------------------------------------------------------- idle sessions
class IdleHolder:
    """idle_hold.py in a process of its own, outside the MTA's cgroup,
    holding n idle sessions (each past EHLO) to the MTA's SMTP port."""

    def __init__(self, tmp, port, n):
        self.n = n
        self.timeout = 60 + n / 100.0       # 10,000 sessions: 160 s at most
        self.err_path = os.path.join(tmp, "idle_hold.err")
        self.err = open(self.err_path, "w")
        self.buf = b""
        self.proc = subprocess.Popen(
            [sys.executable, HOLDER, "127.0.0.1", str(port), str(n), str(self.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)

    def _line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("idle_hold.py said nothing for %.0f s" % timeout)
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    with open(self.err_path, errors="replace") as f:
                        raise RuntimeError("idle_hold.py ended: %s" % f.read()[-300:])
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def established(self):
        """(sessions up, the holder's report line), once all are tried."""
        line = self._line(self.timeout + 30)
        m = re.match(r"established (\d+) failed (\d+)", line)
        if not m:
            raise RuntimeError("idle_hold.py: %s" % line)
        return int(m.group(1)), line

    def still_open(self):
        """Sessions the MTA has not closed by now."""
        self.proc.stdin.write(b"count\n")
        self.proc.stdin.flush()
        m = re.match(r"open (\d+)", self._line(60))
        return int(m.group(1)) if m else -1

    def stop(self):
        """Killed by its pid; its sockets close with it."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            print("bench: idle_hold.py pid %d did not exit" % self.proc.pid, file=sys.stderr)
        for f in (self.proc.stdin, self.proc.stdout, self.err):
            try:
                f.close()
            except OSError:
                pass


def idle_count():
    return max(IDLE_MIN, int(round(IDLE_SESSIONS * SCALE)))


def hold_idle(mta, tmp, n, res):
    """Opens n idle sessions to mta and records what they cost it."""
    holder = IdleHolder(tmp, mta.port, n)
    try:
        est, line = holder.established()
        res.update(idle_n=n, idle_est=est, idle_line=line)
        if est == 0:
            raise RuntimeError("no idle session established: %s" % line)
        time.sleep(1.0)              # log lines and lazy frees settle
        res.update(idle_rss_kib=mta.group.rss_kib(), idle_pss_kib=mta.group.pss_kib())
    except BaseException:            # also an interrupt: the caller has no holder to stop
        holder.stop()
        raise
    return holder


# ---------------------------------------------------------------- the MTAs
def count_files(d):
    try:
        return len(os.listdir(d))
    except OSError:
        return 0


class Tern:
    name = "tern"

    def __init__(self, tmp, sink_port, user):
        self.dir = os.path.join(tmp, "tern")
        self.port = free_port()
        r = run([TERN, "init", self.dir, "--smtp", "127.0.0.1:%d" % self.port,
                 "--submission", "127.0.0.1:%d" % free_port(), "--domain", DOMAIN])
        if r.returncode != 0:
            raise RuntimeError("tern init: %s%s" % (r.stdout, r.stderr))
        etc = os.path.join(self.dir, "etc")
        with open(os.path.join(etc, "virtual_mailbox"), "a") as f:
            f.write("@%s %s/box/\n" % (DOMAIN, DOMAIN))
        with open(os.path.join(etc, "transport"), "w") as f:
            f.write("%s smtp:[127.0.0.1]:%d\n" % (RELAY, sink_port))
        with open(os.path.join(etc, "main.cf"), "a") as f:
            f.write("\n# added by make bench\n"
                    "virtual_uid_maps = static:%d\nvirtual_gid_maps = static:%d\n"
                    "relay_domains = %s\ntransport_maps = texthash:%s\n"
                    % (user.pw_uid, user.pw_gid, RELAY, os.path.join(etc, "transport")))
        # The mailbox owner owns the virtual mailbox base, as in Postfix's.
        mail = os.path.join(self.dir, "mail")
        os.chown(mail, user.pw_uid, user.pw_gid)
        dom = os.path.join(mail, DOMAIN)
        self.newdir = os.path.join(dom, "box", "new")
        self.group = Group(self.name)

    def put_sieve(self, user):
        """SIEVE_SCRIPT as the catch-all mailbox's active script: a
        virtual mailbox's home is its Maildir, so <box>/.dovecot.sieve."""
        script = SIEVE_SCRIPT
        box = os.path.dirname(self.newdir)
        os.makedirs(box, exist_ok=True)
        for d in (os.path.dirname(box), box):
            os.chown(d, user.pw_uid, user.pw_gid)
        path = os.path.join(box, ".dovecot.sieve")
        with open(path, "w") as f:
            f.write(script)
        os.chown(path, user.pw_uid, user.pw_gid)
        r = run([TERN, "-c", self.dir, "sieve", "check", path])
        if r.returncode != 0:
            raise RuntimeError("the bench's Sieve script: %s%s" % (r.stdout, r.stderr))

    def put_dkim_keys(self, user):
        """An Ed25519 and an RSA-2048 key for the load's sender domain in
        etc/dkim: cleanup signs mail from mynetworks with both."""
        for kind in ("--ed25519", "--rsa"):
            r = run([TERN, "-c", self.dir, "dkim", "keygen", DOMAIN, kind])
            if r.returncode != 0:
                raise RuntimeError("tern dkim keygen: %s%s" % (r.stdout, r.stderr))
        self.check_after = self.count_signed

    def prep_signed_load(self, user):
        """Both runs of W1+msgauth: the load is one message signed by
        SENDER_DOMAIN (RSA-2048, relaxed/relaxed), sent from 127.0.0.1,
        which is taken out of mynetworks; a DNS server on loopback serves
        the domain's SPF, DKIM key and DMARC records.  Checks off."""
        sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
        import dns_zone
        keys = os.path.join(self.dir, "load-keys")
        os.makedirs(keys, exist_ok=True)
        r = run([TERN, "-c", self.dir, "dkim", "keygen", SENDER_DOMAIN, "--rsa", "--selector",
                 "load", "--dir", keys])
        if r.returncode != 0:
            raise RuntimeError("tern dkim keygen: %s%s" % (r.stdout, r.stderr))
        record = "".join(re.findall(r'"([^"]*)"', r.stdout))
        body = "".join("line %04d of the bench message, 64 bytes long xxxxxxxxxxxxxxxxx\n" % i
                       for i in range(64))
        plain = os.path.join(self.dir, "load-plain.eml")
        with open(plain, "w") as f:
            f.write("From: Load <loadgen@%s>\nTo: <bench@%s>\nSubject: bench\n"
                    "Date: Mon, 07 Dec 2026 12:00:00 +0000\n"
                    "Message-ID: <bench.load@%s>\n\n%s" % (SENDER_DOMAIN, DOMAIN, SENDER_DOMAIN, body))
        r = run([TERN, "-c", self.dir, "dkim", "sign", "-d", SENDER_DOMAIN, "-s", "load", "-k",
                 os.path.join(keys, "%s.load.key" % SENDER_DOMAIN), plain])
        if r.returncode != 0 or not r.stdout.startswith("DKIM-Signature:"):
            raise RuntimeError("tern dkim sign: %s%s" % (r.stdout, r.stderr))
        self.load_file = os.path.join(self.dir, "load.eml")
        with open(self.load_file, "w") as f:
            f.write(r.stdout)
        self.load_sender = "loadgen@%s" % SENDER_DOMAIN
        self.dns = dns_zone.ZoneDns({
            SENDER_DOMAIN: [("TXT", "v=spf1 ip4:127.0.0.1 -all"), ("A", "127.0.0.1")],
            "load._domainkey." + SENDER_DOMAIN: [("TXT", record)],
            "_dmarc." + SENDER_DOMAIN: [("TXT", "v=DMARC1; p=reject")],
        }, ttl=3600, negative_ttl=300)  # denials with an SOA, as real servers send them
        with open(os.path.join(self.dir, "etc", "main.cf"), "a") as f:
            f.write("\n# W1+msgauth\ndns_servers = 127.0.0.1:%d\nmynetworks = 127.0.0.2/32\n"
                    "smtpd_spf_policy = none\ndkim_verify = no\ndmarc_verify = no\n"
                    % self.dns.port)

    def put_rspamd(self, user):
        """W1+rspamd: every message through the shared rspamd milter."""
        put_rspamd_milter(os.path.join(self.dir, "etc", "main.cf"))
        self.check_after = lambda expect: count_scanned(self.newdir, expect)

    def put_msgauth(self, user):
        """W1+msgauth's checks on: SPF (mark), DKIM, DMARC."""
        with open(os.path.join(self.dir, "etc", "main.cf"), "a") as f:
            f.write("smtpd_spf_policy = mark\ndkim_verify = yes\ndmarc_verify = yes\n")
        self.check_after = self.count_verified

    def count_verified(self, expect):
        """After a run: every message's signature verified (cleanup's log)."""
        try:
            with open(os.path.join(self.dir, "log", "tern.log")) as f:
                n = sum(1 for line in f if "dkim=pass d=%s" % SENDER_DOMAIN in line)
        except OSError as e:
            return "tern.log: %s" % e
        return None if n == expect else "%d DKIM passes logged, not %d" % (n, expect)

    def count_signed(self, expect):
        """After a run: every message was signed twice (cleanup's log)."""
        try:
            with open(os.path.join(self.dir, "log", "tern.log")) as f:
                n = sum(1 for line in f if "dkim: signed d=%s" % DOMAIN in line)
        except OSError as e:
            return "tern.log: %s" % e
        return None if n == 2 * expect else "%d DKIM signatures logged, not %d" % (n, 2 * expect)

    def start(self):
        r = run([TERN, "-c", self.dir, "start"], preexec_fn=self.group.preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(self.port), 20):
            raise RuntimeError("tern start: %s%s" % (r.stdout, r.stderr))
        try:
            with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
                self.group.master_pid = int(f.read())
        except (OSError, ValueError):
            pass

    def delivered(self):
        return count_files(self.newdir)

    def stop(self):
        try:
            run([TERN, "-c", self.dir, "stop"], timeout=60)
        except subprocess.TimeoutExpired:
            pass
        self.group.kill_rest()
        if getattr(self, "dns", None):
            self.dns.stop()


class Postfix:
    name = "postfix"

    def __init__(self, tmp, sink_port, user):
        self.dir = os.path.join(tmp, "postfix")
        self.port = free_port()
        pf = pwd.getpwnam("postfix")
        etc = os.path.join(self.dir, "etc")
        os.makedirs(etc)
        mail = os.path.join(self.dir, "mail")
        os.makedirs(mail)
        os.chown(mail, user.pw_uid, user.pw_gid)
        os.makedirs(os.path.join(self.dir, "queue"))        # root's, as Postfix wants
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        os.chown(data, pf.pw_uid, pf.pw_gid)
        with open(os.path.join(etc, "vmailbox"), "w") as f:
            f.write("@%s box/\n" % DOMAIN)
        with open(os.path.join(etc, "transport"), "w") as f:
            f.write("%s smtp:[127.0.0.1]:%d\n" % (RELAY, sink_port))
        params = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.dir, "queue"),
            "data_directory": data,
            "maillog_file": os.path.join(self.dir, "maillog"),
            "maillog_file_prefixes": self.dir,
            "myhostname": "pf.%s" % DOMAIN,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "", "alias_database": "",
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_base": mail,
            "virtual_mailbox_maps": "texthash:" + os.path.join(etc, "vmailbox"),
            "virtual_uid_maps": "static:%d" % user.pw_uid,
            "virtual_gid_maps": "static:%d" % user.pw_gid,
            "relay_domains": RELAY,
            "transport_maps": "texthash:" + os.path.join(etc, "transport"),
            "smtp_dns_support_level": "disabled",
            "shlib_directory": "/usr/lib/postfix",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
        }
        with open(os.path.join(etc, "main.cf"), "w") as f:
            for k, v in params.items():
                f.write("%s = %s\n" % (k, v))
        with open("/usr/share/postfix/master.cf.dist") as src, \
                open(os.path.join(etc, "master.cf"), "w") as dst:
            for line in src:
                fields = line.split()
                if line[:1].isalnum() and len(fields) >= 8:
                    if fields[0] == "smtp" and fields[1] == "inet":
                        fields[0] = "127.0.0.1:%d" % self.port
                    fields[4] = "n"      # no chroot: this queue is not set up for it
                    line = " ".join(fields) + "\n"
                dst.write(line)
        self.etc = etc
        self.newdir = os.path.join(mail, "box", "new")
        self.group = Group(self.name)

    def start(self):
        cmd = ["postfix", "-c", self.etc, "start"]
        if getattr(self, "resolv", None):
            # SCREEN: in a mount namespace whose /etc/resolv.conf is this
            # file (it lives as long as master and its children).
            cmd = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                   'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv] + cmd
        r = run(cmd, preexec_fn=self.group.preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(self.port), 30):
            raise RuntimeError("postfix start: %s%s" % (r.stdout, r.stderr))
        try:
            with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
                self.group.master_pid = int(f.read())
        except (OSError, ValueError):
            pass

    def delivered(self):
        return count_files(self.newdir)

    def put_rspamd(self, user):
        """W1+rspamd for Postfix: the same rspamd, the same milter settings."""
        put_rspamd_milter(os.path.join(self.etc, "main.cf"))
        self.check_after = lambda expect: count_scanned(self.newdir, expect)

    def put_dkim_keys(self, user):
        """W3+dkim for Postfix: OpenDKIM signing mail from 127.0.0.0/8 with
        the same two keys tern uses (Ed25519 and RSA-2048, made by tern
        dkim keygen).  OpenDKIM 2.11 signs with one algorithm per process
        (SignatureAlgorithm), so dual signing is two milters, as Postfix
        sites do it; both run in the instance's cgroup so that their CPU
        and memory count."""
        keys = os.path.join(self.dir, "dkim")
        os.makedirs(keys)
        od = pwd.getpwnam("opendkim")
        os.chown(keys, od.pw_uid, od.pw_gid)
        self.opendkim, milters = [], []
        for kind, alg in (("ed25519", "ed25519-sha256"), ("rsa", "rsa-sha256")):
            r = run([TERN, "dkim", "keygen", DOMAIN, "--" + kind, "--dir", keys])
            if r.returncode != 0:
                raise RuntimeError("tern dkim keygen: %s%s" % (r.stdout, r.stderr))
            key = os.path.join(keys, "%s.%s.key" % (DOMAIN, kind))
            os.chown(key, od.pw_uid, od.pw_gid)
            port = free_port()
            conf = os.path.join(keys, "opendkim-%s.conf" % kind)
            with open(conf, "w") as f:
                # RequireSafeKeys no: TMPBASE (/var/tmp) is world-writable.
                f.write("Mode s\nSocket inet:%d@127.0.0.1\nUserID opendkim\nSyslog no\n"
                        "RequireSafeKeys no\nCanonicalization relaxed/relaxed\n"
                        "SignatureAlgorithm %s\nOversignHeaders From,Subject,To,Date\n"
                        "Domain %s\nSelector %s\nKeyFile %s\nInternalHosts 127.0.0.0/8\n"
                        "PidFile %s/opendkim-%s.pid\n" % (port, alg, DOMAIN, kind, key, keys, kind))
            p = subprocess.Popen(["opendkim", "-f", "-x", conf], preexec_fn=self.group.preexec,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.opendkim.append(p)
            if not wait_until(lambda: port_open(port) or p.poll() is not None, 20):
                raise RuntimeError("opendkim did not start")
            if p.poll() is not None:
                raise RuntimeError("opendkim: %s" % p.stderr.read().decode(errors="replace"))
            milters.append("inet:127.0.0.1:%d" % port)
        with open(os.path.join(self.etc, "main.cf"), "a") as f:
            f.write("smtpd_milters = %s\nmilter_default_action = tempfail\n" % " ".join(milters))

    def stop(self):
        try:
            run(["postfix", "-c", self.etc, "stop"], timeout=60)
        except subprocess.TimeoutExpired:
            pass
        for p in getattr(self, "opendkim", []):
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.group.kill_rest()


MTAS = {"tern": Tern, "postfix": Postfix}


# ---------------------------------------------------------------- one run
def scaled(n):
    return max(1, int(round(n * SCALE)))


def source_args(port, kind, msgs, rcpts, sessions, size, mta=None):
    """smtp-source's arguments; an MTA with a load_file (W1+msgauth) has
    that message sent as it is, from its load_sender."""
    to = ("bench@%s" % RELAY) if kind == "relay" else ("bench@%s" % DOMAIN)
    load = getattr(mta, "load_file", None)
    what = ["-F", load] if load else ["-l", str(size)]
    sender = getattr(mta, "load_sender", None) or "loadgen@%s" % DOMAIN
    return (["smtp-source", "-m", str(msgs), "-s", str(sessions)] + what +
            ["-r", str(rcpts), "-M", "loadgen.invalid", "-f", sender, "-t", to,
             "127.0.0.1:%d" % port])


def run_once(mta_name, wl, user, strace=False, idle=0, feature=None, prep=None):
    """One cold run of workload wl against a fresh instance; returns a dict.
    With idle, that many idle sessions are held open through the run; with
    feature, that method of the MTA turns a feature on before it starts
    (VARIANTS; prep, a method run before it, prepares both runs of a
    variant), and its check_after, if it sets one, judges the run."""
    name, kind, msgs, rcpts, sessions, size = wl
    msgs = scaled(msgs)
    expect = msgs * (rcpts if kind == "local" else 1)
    tmp = tempfile.mkdtemp(prefix="tern-bench-", dir=TMPBASE)
    os.chmod(tmp, 0o755)
    sink = mta = sampler = tracer = src = holder = None
    res = {"mta": mta_name, "wl": name, "msgs": msgs, "items": expect, "ok": False}
    try:
        res["idle_cpu"] = cpu_idle()
        sink = Sink(tmp)
        mta = MTAS[mta_name](tmp, sink.port, user)
        if prep:
            getattr(mta, prep)(user)
        if feature:
            getattr(mta, feature)(user)
        mta.start()
        time.sleep(1.0)              # let the daemons settle before the clock starts
        if idle:
            holder = hold_idle(mta, tmp, idle, res)
        done = (lambda: sink.delivered()) if kind == "relay" else mta.delivered
        if strace:
            strace_out = os.path.join(tmp, "strace.out")
            args = ["strace", "-f", "-c", "-o", strace_out,
                    "-e", "trace=fsync,fdatasync,syncfs,sync_file_range"]
            for pid in mta.group.pids():
                args += ["-p", str(pid)]
            tracer = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)          # attached to everything before mail comes
        # Generous but bounded: 60 s plus 0.2 s per item (5 items/s at worst).
        limit = 60 + 0.2 * expect + size * msgs / 2e6
        cpu0 = mta.group.cpu_seconds()
        sampler = PssSampler(mta.group)
        sampler.start()
        t0 = time.monotonic()
        src = subprocess.Popen(source_args(mta.port, kind, msgs, rcpts, sessions, size, mta),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        finished = wait_until(lambda: done() >= expect, limit, 0.05)
        t1 = time.monotonic()
        cpu1 = mta.group.cpu_seconds()
        sampler.stop()
        try:
            _, err = src.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            src.kill()
            _, err = src.communicate(timeout=10)
        res.update(secs=t1 - t0, cpu=cpu1 - cpu0, pss_kib=sampler.peak, got=done(),
                   rss_kib=sampler.rss_peak, src_rc=src.returncode, ok=bool(finished))
        if holder:
            res["idle_open"] = holder.still_open()
        if not finished:
            res["error"] = "timeout after %.0fs: %d of %d; smtp-source: %s" % (
                limit, done(), expect, err.decode(errors="replace").strip()[-300:])
        elif getattr(mta, "check_after", None):
            why = mta.check_after(expect)
            if why:
                res.update(ok=False, error=why)
        if getattr(mta, "dns", None):    # W1+msgauth: what the MTA asked the DNS
            asked = collections.Counter(mta.dns.queries)
            res["dns_queries"] = sum(asked.values())
            res["dns_top"] = " ".join("%s/%d:%d" % (n, t, c) for (n, t), c in
                                      asked.most_common(4))
        if tracer:
            time.sleep(1.0)          # the last queue-file removals
            tracer.send_signal(signal.SIGINT)
            try:
                tracer.wait(20)
            except subprocess.TimeoutExpired:
                tracer.kill()
                tracer.wait(5)
            tracer = None
            res["fsyncs"] = parse_strace(strace_out)
    except Exception as e:           # a failed run is reported, not fatal
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if src and src.poll() is None:
            src.kill()
            src.wait(10)
        if holder:
            holder.stop()
        if sampler and sampler.is_alive():
            sampler.stop()
        if tracer:
            tracer.kill()
            tracer.wait(5)
        if mta:
            mta.stop()
        if sink:
            sink.stop()
        if os.environ.get("BENCH_KEEP"):
            print("  (kept %s)" % tmp)
        else:
            # Removed at the end of the whole bench, not now: ext4 without
            # a journal skips inodes freed in the last 60-300 s one by one
            # when it allocates, so thousands of files deleted here would
            # slow the next run's file creation, whichever MTA it is.
            finished_dirs.append(tmp)
    return res


finished_dirs = []


def remove_finished():
    while finished_dirs:
        remove_tree(finished_dirs.pop())


def remove_tree(path):
    """rmtree, retried: a straggler may still be adding a file."""
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
        time.sleep(1)
    print("bench: could not remove %s" % path, file=sys.stderr)


def parse_strace(path):
    """Sum of the calls column of strace -c's summary."""
    total = 0
    try:
        with open(path) as f:
            for line in f:
                f_ = line.split()
                if len(f_) >= 5 and f_[-1] in ("fsync", "fdatasync", "syncfs", "sync_file_range"):
                    total += int(f_[3])
    except (OSError, ValueError):
        return None
    return total


# ---------------------------------------------------------------- the disk
def disk_ceiling(threads, seconds):
    """create + write 4 KiB + fsync + rename + fsync(dir) per op, in a fresh
    folder in TMPBASE (the queues' file system); ops/s over all threads."""
    d = tempfile.mkdtemp(prefix="tern-bench-disk-", dir=TMPBASE)
    data = os.urandom(4096)
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def loop(i):
        sub = os.path.join(d, str(i))
        os.mkdir(sub)
        dfd = os.open(sub, os.O_RDONLY | os.O_DIRECTORY)
        n = 0
        try:
            while time.monotonic() < stop:
                tmpn = os.path.join(sub, "t%d" % n)
                fd = os.open(tmpn, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, data)
                os.fsync(fd)
                os.close(fd)
                os.rename(tmpn, os.path.join(sub, "f%d" % n))
                os.fsync(dfd)
                n += 1
        finally:
            os.close(dfd)
            counts[i] = n

    try:
        t0 = time.monotonic()
        ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(seconds + 30)
        return sum(counts) / (time.monotonic() - t0)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- the user
def make_user():
    """An ordinary user owning the Maildirs; returns (pwent, made_by_us)."""
    try:
        return pwd.getpwnam(USER), False
    except KeyError:
        pass
    r = run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
             "--comment", "tern make bench", USER])
    if r.returncode != 0:
        raise RuntimeError("useradd: %s" % r.stderr)
    return pwd.getpwnam(USER), True


# ---------------------------------------------------------------- report
def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    fs = "?"
    tmpdev = os.stat(TMPBASE).st_dev
    best = ""
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, typ, opts = line.split()[:4]
            try:
                if os.stat(mnt).st_dev == tmpdev and len(mnt) >= len(best) and TMPBASE.startswith(mnt):
                    best, fs = mnt, "%s %s on %s (%s)" % (dev, typ, mnt, opts)
            except OSError:
                pass
    pf = run(["postconf", "-d", "-h", "mail_version"]).stdout.strip()
    return ("nproc=%d mem=%dMiB kernel=%s fs=%s postfix=%s tern=%s date=%s"
            % (os.cpu_count(), mem, os.uname().release, fs, pf,
               run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip(),
               time.strftime("%Y-%m-%d %H:%M:%S %z")))


def summarize(results, fsyncs, disk):
    print()
    print("make bench: scale %.3g, %d alternated run(s) per MTA and workload; medians, "
          "spread = (max-min)/median; W2 counts deliveries" % (SCALE, REPS))
    hdr = "%-4s %-8s %7s %9s %7s %8s %10s %9s %9s %5s" % (
        "wl", "mta", "items", "items/s", "spread", "CPU s", "CPUms/item", "PSS MiB",
        "fsync/msg", "idle")
    print(hdr)
    print("-" * len(hdr))
    table = {}
    for wl in WORKLOADS:
        for m in ("tern", "postfix"):
            rs = [r for r in results if r["wl"] == wl[0] and r["mta"] == m and r.get("ok")]
            if not rs:
                if any(r["wl"] == wl[0] for r in results):
                    print("%-4s %-8s  no successful run" % (wl[0], m))
                continue
            rate, spread = median_spread([r["items"] / r["secs"] for r in rs])
            cpu = statistics.median(r["cpu"] for r in rs)
            cpi = statistics.median(r["cpu"] / r["items"] * 1000 for r in rs)
            pss = statistics.median(r["pss_kib"] for r in rs) / 1024
            fs = fsyncs.get((wl[0], m))
            idle = min(r.get("idle_cpu", 1.0) for r in rs)
            short = sum(1 for r in rs if r["secs"] < MIN_RUN_SECS)
            table[(wl[0], m)] = (rate, cpi, pss, fs)
            print("%-4s %-8s %7d %9.1f %6.0f%% %8.2f %10.2f %9.1f %9s %4.0f%%%s" % (
                wl[0], m, rs[0]["items"], rate, 100 * spread, cpu, cpi, pss,
                "%.2f" % fs if fs is not None else "-", 100 * idle,
                "  (%d short run(s) < %.0f s)" % (short, MIN_RUN_SECS) if short else ""))
        t, p = table.get((wl[0], "tern")), table.get((wl[0], "postfix"))
        if t and p:
            print("%-4s %-8s %7s %8.2fx %7s %8s %9.2fx %8.2fx %9s" % (
                wl[0], "t/pf", "", t[0] / p[0], "", "", t[1] / p[1], t[2] / p[2] if p[2] else 0,
                "%.2fx" % (t[3] / p[3]) if t[3] is not None and p[3] else "-"))
    print("-" * len(hdr))
    for th, ops in disk:
        print("disk ceiling, %2d thread(s): %8.1f create+write+fsync+rename+fsync(dir)/s" % (th, ops))
    d16 = dict(disk).get(16)
    t1 = table.get(("W1", "tern"))
    p1 = table.get(("W1", "postfix"))
    if d16 and t1:
        print("W1 as a fraction of the 16-thread ceiling: tern %.1f%%%s" % (
            100 * t1[0] / d16, ", postfix %.1f%%" % (100 * p1[0] / d16) if p1 else ""))
    summarize_idle(results)
    summarize_variants(results)
    for r in results:
        if not r.get("ok"):
            print("FAILED %s %s: %s" % (r["wl"], r["mta"], r.get("error")))


def idle_phase(user, results):
    """W1+idle, tern only: per rep an unloaded W1 run, then one with the
    idle sessions held; each on a fresh instance, the two back to back so
    that the machine's other load hits both alike."""
    w1 = [w for w in WORKLOADS if w[0] == "W1"][0]
    n = idle_count()
    print("== %s (W1: %d x %d B, %d sessions; %d idle sessions held; tern only: Postfix's "
          "default master.cf cannot hold that many)" % (IDLE_WL, scaled(w1[2]), w1[5], w1[4], n),
          flush=True)
    for rep in range(REPS):
        base = run_once("tern", w1, user)
        base["wl"], base["idle_base"] = IDLE_WL, True
        results.append(base)
        if base.get("ok"):
            raw("run wl=%s-unloaded mta=tern rep=%d msgs=%d secs=%.3f items_per_s=%.1f "
                "cpu_s=%.3f pss_peak_kib=%d rss_peak_kib=%d" % (
                    IDLE_WL, rep, base["msgs"], base["secs"], base["items"] / base["secs"],
                    base["cpu"], base["pss_kib"], base["rss_kib"]))
        else:
            raw("run wl=%s-unloaded mta=tern rep=%d FAILED %s" % (IDLE_WL, rep, base.get("error")))
        r = run_once("tern", w1, user, idle=n)
        r["wl"] = IDLE_WL
        results.append(r)
        if r.get("ok"):
            raw("idle wl=%s mta=tern rep=%d sessions=%d established=%d still_open=%d "
                "idle_rss_kib=%d idle_pss_kib=%d msgs=%d secs=%.3f items_per_s=%.1f "
                "cpu_s=%.3f rss_peak_kib=%d pss_peak_kib=%d" % (
                    IDLE_WL, rep, n, r["idle_est"], r.get("idle_open", -1), r["idle_rss_kib"],
                    r["idle_pss_kib"], r["msgs"], r["secs"], r["items"] / r["secs"], r["cpu"],
                    r["rss_kib"], r["pss_kib"]))
        else:
            raw("idle wl=%s mta=tern rep=%d FAILED %s (%s)" % (
                IDLE_WL, rep, r.get("error"), r.get("idle_line", "no holder report")))


def variant_phase(user, results, variant):
    """A VARIANTS entry, tern only: per rep its base workload on a fresh
    instance without the feature, then on another with it, back to back
    so that the machine's other load hits both alike."""
    name, base, what, prep, feature, _ = variant
    wl = [w for w in WORKLOADS if w[0] == base][0]
    runs = [("tern", False), ("tern", True)]
    if hasattr(Postfix, feature) and (prep is None or hasattr(Postfix, prep)):
        runs.append(("postfix", True))   # Postfix with the same feature, side by side
    print("== %s (%s: %d x %d B, %d sessions; %s; %s)" % (
        name, base, scaled(wl[2]), wl[5], wl[4], what,
        "tern, and Postfix with it" if len(runs) > 2 else "tern only"), flush=True)
    for rep in range(REPS):
        for m, on in runs:
            r = run_once(m, wl, user, feature=feature if on else None, prep=prep)
            r["wl"], r["feature_on"] = name, on
            results.append(r)
            tag = "%s-%s" % (name, "on" if on else "off")
            if r.get("ok"):
                raw("run wl=%s mta=%s rep=%d msgs=%d secs=%.3f items_per_s=%.1f cpu_s=%.3f "
                    "cpu_ms_per_item=%.3f pss_peak_kib=%d idle_cpu=%.2f%s" % (
                        tag, m, rep, r["msgs"], r["secs"], r["items"] / r["secs"], r["cpu"],
                        r["cpu"] / r["items"] * 1000, r["pss_kib"], r.get("idle_cpu", -1),
                        " dns_queries_per_item=%.2f (%s)" % (
                            r["dns_queries"] / r["items"], r["dns_top"])
                        if "dns_queries" in r else ""))
            else:
                raw("run wl=%s mta=%s rep=%d FAILED %s" % (tag, m, rep, r.get("error")))


def summarize_variants(results):
    for name, base, what, _, _, target in VARIANTS:
        rs = {on: [r for r in results if r["wl"] == name and r.get("ok") and
                   r["feature_on"] == on and r["mta"] == "tern"] for on in (False, True)}
        pf = [r for r in results if r["wl"] == name and r.get("ok") and r["mta"] == "postfix"]
        if not rs[False] and not rs[True]:
            continue
        if not rs[False] or not rs[True]:
            print("%s: no successful run %s it" % (name, "without" if not rs[False] else "with"))
            continue
        rate = {on: statistics.median(r["items"] / r["secs"] for r in rs[on]) for on in rs}
        cpu = {on: statistics.median(r["cpu"] / r["items"] * 1000 for r in rs[on]) for on in rs}
        ratio = rate[True] / rate[False]
        print("%s (%s): tern's %s %.1f msgs/s (%.2f CPU ms/msg) without, %.1f msgs/s "
              "(%.2f CPU ms/msg) with: ratio %.2f%s" % (
                  name, what, base, rate[False], cpu[False], rate[True], cpu[True], ratio,
                  "" if target is None else " (target >= %.2f: %s)" % (
                      target, "met" if ratio >= target else "NOT met")))
        if pf:
            prate = statistics.median(r["items"] / r["secs"] for r in pf)
            pcpu = statistics.median(r["cpu"] / r["items"] * 1000 for r in pf)
            ppss = statistics.median(r["pss_kib"] for r in pf) / 1024
            tpss = statistics.median(r["pss_kib"] for r in rs[True]) / 1024
            print("  with it, Postfix: %.1f msgs/s (%.2f CPU ms/msg, PSS %.1f MiB); tern/Postfix "
                  "%.2fx msgs/s, %.2fx CPU per msg, %.2fx PSS%s" % (
                      prate, pcpu, ppss, rate[True] / prate, cpu[True] / pcpu, tpss / ppss,
                      "" if name not in VARIANT_PF_TARGETS else
                      " (target tern/Postfix >= %.1fx: %s)" % (
                          VARIANT_PF_TARGETS[name], "met" if rate[True] / prate >=
                          VARIANT_PF_TARGETS[name] else "NOT met")))


def summarize_idle(results):
    """The W1+idle lines under the table: sessions, memory, rate ratio."""
    base = [r for r in results if r["wl"] == IDLE_WL and r.get("idle_base") and r.get("ok")]
    held = [r for r in results if r["wl"] == IDLE_WL and not r.get("idle_base") and r.get("ok")]
    if not base and not held:
        return
    n = idle_count()
    print("%s (tern only; Postfix's default master.cf, one client per smtpd process and "
          "100 processes, cannot hold %d sessions):" % (IDLE_WL, n))
    if not held:
        print("  no successful run with the sessions held")
        return
    est = min(r["idle_est"] for r in held)
    still = min(r.get("idle_open", -1) for r in held)
    rss = max(max(r["idle_rss_kib"], r["rss_kib"]) for r in held)
    print("  sessions: %d of %d established, %d still open after W1 (worst run)" % (est, n, still))
    print("  memory with them held: RSS sum %.1f MiB, PSS sum %.1f MiB; during W1: "
          "RSS sum %.1f MiB, PSS sum %.1f MiB (peaks)" % (
              max(r["idle_rss_kib"] for r in held) / 1024, max(r["idle_pss_kib"] for r in held) / 1024,
              max(r["rss_kib"] for r in held) / 1024, max(r["pss_kib"] for r in held) / 1024))
    loaded = statistics.mean(r["items"] / r["secs"] for r in held)
    cpu = statistics.mean(r["cpu"] / r["items"] * 1000 for r in held)
    line = "  W1 with them held: %.1f msgs/s (%.2f CPU ms/msg)" % (loaded, cpu)
    if base:
        unloaded = statistics.mean(r["items"] / r["secs"] for r in base)
        line += ", unloaded %.1f msgs/s (%.2f CPU ms/msg): ratio %.2f (target >= %.2f: %s)" % (
            unloaded, statistics.mean(r["cpu"] / r["items"] * 1000 for r in base),
            loaded / unloaded, IDLE_RATIO_TARGET,
            "met" if loaded / unloaded >= IDLE_RATIO_TARGET else "NOT met")
    print(line)
    print("  total RSS %.2f GiB (target <= 1 GiB: %s)%s" % (
        rss / 1048576, "met" if rss <= IDLE_RSS_TARGET_KIB else "NOT met",
        "" if n >= IDLE_SESSIONS else "; scaled: %d sessions, not %d" % (n, IDLE_SESSIONS)))


def on_term(signum, frame):
    raise KeyboardInterrupt()


def main():
    if os.geteuid() != 0:
        sys.exit("make bench must run as root (Postfix, cgroups, the test user)")
    for tool in ("smtp-source", "smtp-sink", "postfix", "strace"):
        if not shutil.which(tool):
            sys.exit("bench: %s missing (make bench installs DEPS_BENCH as root)" % tool)
    os.makedirs(OUT, exist_ok=True)
    # SIGTERM ends the run like Ctrl-C does: through the finally clauses.
    signal.signal(signal.SIGTERM, on_term)
    user, made = make_user()
    results, fsyncs, disk = [], {}, []
    auth_out = imap_out = pop3_out = idle_imap_out = screen_out = None
    jmap_out = {}
    try:
        raw("machine " + machine())
        probe = Group("probe")
        raw("config scale=%g reps=%d cgroup=%s" % (SCALE, REPS, probe.path or "none (/proc sums)"))
        probe.kill_rest(0)
        wls = [w for w in WORKLOADS if not ONLY or w[0] in ONLY]
        for wl in wls:
            print("== %s (%d x %d B, %d rcpt, %d sessions)" % (
                wl[0], scaled(wl[2]), wl[5], wl[3], wl[4]), flush=True)
            for rep in range(REPS):
                for m in ("tern", "postfix"):
                    r = run_once(m, wl, user)
                    results.append(r)
                    if r.get("ok"):
                        raw("run wl=%s mta=%s rep=%d msgs=%d items=%d secs=%.3f items_per_s=%.1f "
                            "cpu_s=%.3f cpu_ms_per_item=%.3f pss_peak_kib=%d idle_cpu=%.2f" % (
                                wl[0], m, rep, r["msgs"], r["items"], r["secs"],
                                r["items"] / r["secs"], r["cpu"], r["cpu"] / r["items"] * 1000,
                                r["pss_kib"], r.get("idle_cpu", -1)))
                    else:
                        raw("run wl=%s mta=%s rep=%d FAILED %s" % (wl[0], m, rep, r.get("error")))
        if not ONLY or IDLE_WL in ONLY:
            idle_phase(user, results)
        for v in VARIANTS:
            if not ONLY or v[0] in ONLY:
                variant_phase(user, results, v)
        if not ONLY or "SCREEN" in ONLY:
            print("== SCREEN (connect + screening with 3 DNSBLs + EHLO + QUIT; tern against "
                  "Postfix's postscreen + smtpd)", flush=True)
            screen_out = screen_bench.screen_phase(MTAS, TMPBASE, user, REPS, raw, cpu_idle, ROOT)
        if not ONLY or "AUTH" in ONLY:
            print("== AUTH (auth verify; SMTP AUTH logins, tern and Postfix+Dovecot)", flush=True)
            tmp = tempfile.mkdtemp(prefix="tern-bench-auth-", dir=TMPBASE)
            os.chmod(tmp, 0o755)
            try:
                auth_out = auth_bench.auth_phase(TERN, tmp, Group, raw, run, free_port,
                                                 wait_until, port_open)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        if not ONLY or "IMAP" in ONLY:
            print("== IMAP (tern imap/pop3 against Dovecot on one Maildir)", flush=True)
            tmp = tempfile.mkdtemp(prefix="tern-bench-imap-", dir=TMPBASE)
            os.chmod(tmp, 0o755)
            try:
                imap_out = imap_bench.imap_phase(TERN, tmp, Group, raw, run, free_port,
                                                 wait_until, port_open, SCALE)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        if not ONLY or "POP3" in ONLY:
            print("== POP3 (tern pop3 against Dovecot pop3d: sessions per second)", flush=True)
            tmp = tempfile.mkdtemp(prefix="tern-bench-pop3-", dir=TMPBASE)
            os.chmod(tmp, 0o755)
            try:
                pop3_out = pop3_bench.pop3_phase(TERN, tmp, Group, raw, run, free_port,
                                                 wait_until, port_open)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        if not ONLY or "IMAP-IDLE" in ONLY:
            print("== IMAP-IDLE (10,000 IDLE sessions held by tern; wake-up after a delivery)",
                  flush=True)
            tmp = tempfile.mkdtemp(prefix="tern-bench-idle-", dir=TMPBASE)
            os.chmod(tmp, 0o755)
            try:
                idle_imap_out = imap_idle.idle_phase(TERN, tmp, Group, raw, run, free_port,
                                                     wait_until, port_open, SCALE)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        if not ONLY or any(w in ONLY for w in jmap_bench.WORKLOADS):
            jmap_out = jmap_bench.jmap_phase(ONLY, SCALE, raw)
        # fsyncs per message: one separate strace run per MTA and workload,
        # small (a tenth of the scaled count, at least 20 messages).
        for wl in wls:
            small = (wl[0], wl[1], max(20, scaled(wl[2]) // 10) / SCALE) + wl[3:]
            for m in ("tern", "postfix"):
                r = run_once(m, small, user, strace=True)
                if r.get("ok") and r.get("fsyncs") is not None:
                    fsyncs[(wl[0], m)] = r["fsyncs"] / r["msgs"]
                    raw("fsync wl=%s mta=%s msgs=%d fsync_calls=%d per_msg=%.2f" % (
                        wl[0], m, r["msgs"], r["fsyncs"], r["fsyncs"] / r["msgs"]))
                else:
                    raw("fsync wl=%s mta=%s FAILED %s" % (wl[0], m, r.get("error")))
        secs = max(2.0, 10 * min(SCALE, 1.0))
        for th in (1, 16) if wls else ():
            ops = disk_ceiling(th, secs)
            disk.append((th, ops))
            raw("disk threads=%d secs=%.0f ops_per_s=%.1f" % (th, secs, ops))
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
    finally:
        stop_rspamd()
        remove_finished()
        if made:
            run(["userdel", USER])
        with open(os.path.join(OUT, "raw.txt"), "w") as f:
            f.write("\n".join(raw_lines) + "\n")
    summarize(results, fsyncs, disk)
    screen_bench.summarize_screen(screen_out)
    auth_bench.summarize_auth(auth_out)
    imap_bench.summarize_imap(imap_out)
    pop3_bench.summarize_pop3(pop3_out)
    imap_idle.summarize_idle(idle_imap_out)
    jmap_bench.summarize_jmap(jmap_out)
    print("raw lines: %s" % os.path.join(OUT, "raw.txt"))
    auth_ok = auth_out is not None or (ONLY and "AUTH" not in ONLY)
    imap_ok = imap_out is not None or (ONLY and "IMAP" not in ONLY)
    pop3_ok = pop3_out is not None or (ONLY and "POP3" not in ONLY)
    idle_ok = idle_imap_out is not None or (ONLY and "IMAP-IDLE" not in ONLY)
    jmap_ok = all(r is not None for r in jmap_out.values())
    screen_ok = (screen_out is not None and all(r.get("ok") for r in screen_out)) or (
        ONLY and "SCREEN" not in ONLY)
    return 0 if (all(r.get("ok") for r in results) and auth_ok and imap_ok and pop3_ok
                 and jmap_ok and idle_ok and screen_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
