"""Debian's rspamd as a milter for tests and make bench: its proxy worker
in milter mode, self-scanning, on a loopback port; its own configuration
overrides, databases, run and log folders in one temporary folder; the
normal and controller workers off; verdict headers (X-Spamd-Result,
X-Spam-Status) on every accepted message, local clients' too; its DNS
pointed at a closed loopback port so that every look-up fails at once and
nothing leaves the machine (no redis either: the modules that want it
stay off without a redis server configured).  Needs root (rspamd runs as
_rspamd)."""
import os
import pwd
import shutil
import subprocess
import tempfile

from tern_instance import Instance, free_port, stop_process, wait_until


def chown_tree(path, user):
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.chown(n, pw.pw_uid, pw.pw_gid)


class Rspamd:
    """Started at construction; port is the milter's; stop() by its pid.
    count: proxy worker processes; preexec: run in the child before exec
    (make bench puts it into a cgroup)."""

    def __init__(self, count=1, preexec=None, tmpdir=None):
        self.dir = tempfile.mkdtemp(prefix="rspamd-", dir=tmpdir)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        over = os.path.join(self.dir, "override.d")
        for d in ("override.d", "db", "run", "log"):
            os.makedirs(os.path.join(self.dir, d))
        files = {
            "worker-proxy.inc": 'bind_socket = "127.0.0.1:%d";\nmilter = yes;\ntimeout = 120s;\n'
            'upstream "local" { default = yes; self_scan = yes; }\ncount = %d;\n'
            'discard_on_reject = false;\nquarantine_on_reject = false;\n'
            'spam_header = "X-Spam";\nreject_message = "Spam message rejected";\n'
            % (self.port, count),
            "worker-normal.inc": 'bind_socket = "127.0.0.1:%d";\nenabled = false;\n' % free_port(),
            "worker-controller.inc":
                'bind_socket = "127.0.0.1:%d";\nenabled = false;\n' % free_port(),
            "milter_headers.conf": 'use = ["x-spamd-result", "x-spam-status"];\n'
            'skip_local = false;\nskip_authenticated = false;\n',
            "options.inc": 'enable_test_patterns = true;\ndns {\n  nameserver = ["127.0.0.1:%d"];\n'
            '  timeout = 0.2s;\n  retransmits = 1;\n  sockets = 1;\n}\n' % free_port(),
        }
        for name, text in files.items():
            with open(os.path.join(over, name), "w") as f:
                f.write(text)
        chown_tree(self.dir, "_rspamd")
        d = self.dir
        self.log = os.path.join(d, "out")
        self.out = open(self.log, "wb")
        self.proc = subprocess.Popen(
            ["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
             "--var=LOCAL_CONFDIR=" + d, "--var=DBDIR=%s/db" % d, "--var=RUNDIR=%s/run" % d,
             "--var=LOGDIR=%s/log" % d], stdout=self.out, stderr=subprocess.STDOUT, cwd=d,
            preexec_fn=preexec)

    def wait_ready(self, timeout=240):
        """rspamd compiles its TLD list and regexps at start: slow on a
        busy machine.  Raises when it exited or never listened."""
        wait_until(lambda: Instance._port_open(self.port) or self.proc.poll() is not None,
                   timeout, 0.5, what="rspamd's milter port")
        if self.proc.poll() is not None:
            with open(self.log, errors="replace") as f:
                raise AssertionError("rspamd exited: %s" % f.read()[-2000:])

    def stop(self):
        stop_process(self.proc, 20)
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)
