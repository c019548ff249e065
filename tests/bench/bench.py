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

Environment: BENCH_SCALE (default 1.0) scales the message counts,
BENCH_REPS (default 2) runs per MTA and workload, BENCH_ONLY (e.g. "W1,W3")
picks workloads, BENCH_TMPDIR (default /var/tmp) holds the instances,
BENCH_NO_CGROUP=1 forces the /proc sums, TERN_BUILD the build folder.  Raw lines go to build/bench/raw.txt.

Run as root (Postfix must start as root; the cgroups and the test user need
it).  Loopback only; everything started is stopped by pid or by its own
stop command, and the temporary folders and the user are removed.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
TERN = os.path.join(BUILD, "bin", "tern")
OUT = os.path.join(BUILD, "bench")
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
REPS = int(os.environ.get("BENCH_REPS", "2"))
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

raw_lines = []


def raw(line):
    """One raw result line: kept for raw.txt and echoed."""
    raw_lines.append(line)
    print("  " + line, flush=True)


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

    def pss_kib(self):
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
            except OSError:
                pass
        return total

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
    """Samples the group's PSS sum every 0.2 s; keeps the peak."""

    def __init__(self, group):
        super().__init__(daemon=True)
        self.group, self.peak, self.stop_flag = group, 0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            self.peak = max(self.peak, self.group.pss_kib())
            self.stop_flag.wait(0.2)

    def stop(self):
        self.stop_flag.set()
        self.join(5)
        self.peak = max(self.peak, self.group.pss_kib())


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
        r = run(["postfix", "-c", self.etc, "start"], preexec_fn=self.group.preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(self.port), 30):
            raise RuntimeError("postfix start: %s%s" % (r.stdout, r.stderr))
        try:
            with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
                self.group.master_pid = int(f.read())
        except (OSError, ValueError):
            pass

    def delivered(self):
        return count_files(self.newdir)

    def stop(self):
        try:
            run(["postfix", "-c", self.etc, "stop"], timeout=60)
        except subprocess.TimeoutExpired:
            pass
        self.group.kill_rest()


MTAS = {"tern": Tern, "postfix": Postfix}


# ---------------------------------------------------------------- one run
def scaled(n):
    return max(1, int(round(n * SCALE)))


def source_args(port, kind, msgs, rcpts, sessions, size):
    to = ("bench@%s" % RELAY) if kind == "relay" else ("bench@%s" % DOMAIN)
    return ["smtp-source", "-m", str(msgs), "-s", str(sessions), "-l", str(size),
            "-r", str(rcpts), "-M", "loadgen.invalid", "-f", "loadgen@%s" % DOMAIN,
            "-t", to, "127.0.0.1:%d" % port]


def run_once(mta_name, wl, user, strace=False):
    """One cold run of workload wl against a fresh instance; returns a dict."""
    name, kind, msgs, rcpts, sessions, size = wl
    msgs = scaled(msgs)
    expect = msgs * (rcpts if kind == "local" else 1)
    tmp = tempfile.mkdtemp(prefix="tern-bench-", dir=TMPBASE)
    os.chmod(tmp, 0o755)
    sink = mta = sampler = tracer = src = None
    res = {"mta": mta_name, "wl": name, "msgs": msgs, "items": expect, "ok": False}
    try:
        sink = Sink(tmp)
        mta = MTAS[mta_name](tmp, sink.port, user)
        mta.start()
        time.sleep(1.0)              # let the daemons settle before the clock starts
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
        src = subprocess.Popen(source_args(mta.port, kind, msgs, rcpts, sessions, size),
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
                   src_rc=src.returncode, ok=bool(finished))
        if not finished:
            res["error"] = "timeout after %.0fs: %d of %d; smtp-source: %s" % (
                limit, done(), expect, err.decode(errors="replace").strip()[-300:])
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
    print("make bench: scale %.3g, %d run(s) per MTA and workload (mean of runs); "
          "W2 counts deliveries" % (SCALE, REPS))
    hdr = "%-4s %-8s %7s %9s %8s %10s %9s %9s" % (
        "wl", "mta", "items", "items/s", "CPU s", "CPUms/item", "PSS MiB", "fsync/msg")
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
            rate = statistics.mean(r["items"] / r["secs"] for r in rs)
            cpu = statistics.mean(r["cpu"] for r in rs)
            cpi = statistics.mean(r["cpu"] / r["items"] * 1000 for r in rs)
            pss = max(r["pss_kib"] for r in rs) / 1024
            fs = fsyncs.get((wl[0], m))
            table[(wl[0], m)] = (rate, cpi, pss, fs)
            print("%-4s %-8s %7d %9.1f %8.2f %10.2f %9.1f %9s" % (
                wl[0], m, rs[0]["items"], rate, cpu, cpi, pss,
                "%.2f" % fs if fs is not None else "-"))
        t, p = table.get((wl[0], "tern")), table.get((wl[0], "postfix"))
        if t and p:
            print("%-4s %-8s %7s %8.2fx %8s %9.2fx %8.2fx %9s" % (
                wl[0], "t/pf", "", t[0] / p[0], "", t[1] / p[1], t[2] / p[2] if p[2] else 0,
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
    for r in results:
        if not r.get("ok"):
            print("FAILED %s %s: %s" % (r["wl"], r["mta"], r.get("error")))


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
                            "cpu_s=%.3f cpu_ms_per_item=%.3f pss_peak_kib=%d" % (
                                wl[0], m, rep, r["msgs"], r["items"], r["secs"],
                                r["items"] / r["secs"], r["cpu"], r["cpu"] / r["items"] * 1000,
                                r["pss_kib"]))
                    else:
                        raw("run wl=%s mta=%s rep=%d FAILED %s" % (wl[0], m, rep, r.get("error")))
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
        for th in (1, 16):
            ops = disk_ceiling(th, secs)
            disk.append((th, ops))
            raw("disk threads=%d secs=%.0f ops_per_s=%.1f" % (th, secs, ops))
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
    finally:
        remove_finished()
        if made:
            run(["userdel", USER])
        with open(os.path.join(OUT, "raw.txt"), "w") as f:
            f.write("\n".join(raw_lines) + "\n")
    summarize(results, fsyncs, disk)
    print("raw lines: %s" % os.path.join(OUT, "raw.txt"))
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
