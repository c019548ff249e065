#!/usr/bin/python3
"""fsync_breakdown.py [MESSAGES [SESSIONS]] - where tern's fsyncs go on W1.

Runs one W1-shaped load (smtp-source, one 4 KiB message per connection,
SESSIONS at a time, to the catch-all Maildir of bench.py) against a fresh
tern instance under `strace -f -ff -y`, and prints the fsync, fdatasync,
syncfs and sync_file_range calls by program, call and path (queue files
and mail files as FILE), each per message.  Unlike throughput these
counts hardly depend on how busy the machine is, so they can be compared
on a shared machine; group commit sizes (cleanup's incoming/ fsyncs) do
depend on timing.  CLEANUP_PROCS=N sets cleanup's process limit,
KEEP=1 keeps the instance.  Root only (uses bench.py's user and
instance set-up).
"""
import collections
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

CALLS = ("fsync", "fdatasync", "syncfs", "sync_file_range")


def set_cleanup_procs(mta, procs):
    path = os.path.join(mta.dir, "etc", "master.cf")
    with open(path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("cleanup "):
            fields = line.split()
            fields[6] = procs
            lines[i] = " ".join(fields)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def comms(pids, into):
    for p in pids:
        try:
            with open("/proc/%d/comm" % p) as f:
                into.setdefault(p, f.read().strip())
        except OSError:
            pass


def tally(prefix, comm, top):
    count = collections.Counter()
    for path in glob.glob(prefix + ".*"):
        pid = int(path.rsplit(".", 1)[1])
        with open(path) as f:
            for line in f:
                m = re.match(r"(\w+)\((\d+)<([^>]*)>", line)
                if not m or m.group(1) not in CALLS:
                    continue
                where = m.group(3)
                where = where[len(top):] if where.startswith(top) else where
                if not os.path.isdir(m.group(3)):
                    where = re.sub(r"/[^/]*$", "/FILE", where)
                count[(comm.get(pid, "?"), m.group(1), where)] += 1
    return count


def main():
    msgs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    user, made = bench.make_user()
    tmp = tempfile.mkdtemp(prefix="tern-fsync-", dir=bench.TMPBASE)
    os.chmod(tmp, 0o755)
    sink = bench.Sink(tmp)
    mta = bench.Tern(tmp, sink.port, user)
    tracer = None
    try:
        if os.environ.get("CLEANUP_PROCS"):
            set_cleanup_procs(mta, os.environ["CLEANUP_PROCS"])
        mta.start()
        time.sleep(1)
        comm = {}
        comms(mta.group.pids(), comm)
        prefix = os.path.join(tmp, "strace")
        args = ["strace", "-f", "-ff", "-y", "-o", prefix, "-e", "trace=" + ",".join(CALLS)]
        for p in mta.group.pids():
            args += ["-p", str(p)]
        tracer = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        src = subprocess.Popen(bench.source_args(mta.port, "local", msgs, 1, sessions, 4096),
                               stdout=subprocess.DEVNULL)
        ok = bench.wait_until(lambda: mta.delivered() >= msgs, 60 + 0.2 * msgs, 0.05)
        comms(mta.group.pids(), comm)
        src.wait(30)
        time.sleep(1.5)  # the last queue-file removals
        tracer.send_signal(signal.SIGINT)
        tracer.wait(20)
        tracer = None
        if not ok:
            print("only %d of %d delivered" % (mta.delivered(), msgs))
        total = 0
        for (prog, call, where), n in sorted(tally(prefix, comm, mta.dir + "/").items()):
            print("%-10s %-10s %-40s %6d %7.3f/msg" % (prog, call, where, n, n / msgs))
            total += n
        print("total %.3f fsync calls per message (%d messages, %d sessions)"
              % (total / msgs, msgs, sessions))
    finally:
        if tracer:
            tracer.kill()
        mta.stop()
        sink.stop()
        if not os.environ.get("KEEP"):
            bench.remove_tree(tmp)
        if made:
            subprocess.run(["userdel", bench.USER])


if __name__ == "__main__":
    main()
