"""Helpers for end-to-end tests: throw-away tern instances on free loopback
ports, made with "tern init" exactly as an operator would, and the ways to
look at what they did (Maildirs, queue folders, processes, the log)."""
import glob
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
TERN = os.path.join(BUILD, "bin", "tern")
QUEUES = ("incoming", "active", "deferred", "hold", "corrupt", "maildrop")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout=20.0, interval=0.05, what="condition"):
    """Polls cond() until it is true; bounded, raises AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


class Instance:
    """A tern instance in a temporary directory.

    main_cf: extra "name = value" lines appended to main.cf.
    mailboxes: addresses to add to the virtual mailbox table.
    """

    def __init__(self, domains=("example.com",), main_cf=None, mailboxes=(), name="tern"):
        self.dir = tempfile.mkdtemp(prefix="%s-e2e-" % name)
        os.chmod(self.dir, 0o755)
        self.smtp_port = free_port()
        self.submission_port = free_port()
        args = [TERN, "init", self.dir,
                "--smtp", "127.0.0.1:%d" % self.smtp_port,
                "--submission", "127.0.0.1:%d" % self.submission_port]
        for d in domains:
            args += ["--domain", d]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        if main_cf:
            with open(self.main_cf_path, "a") as f:
                f.write("\n# added by the test\n")
                for k, v in main_cf.items():
                    f.write("%s = %s\n" % (k, v))
        for m in mailboxes:
            self.add_mailbox(m)
        self.started = False

    @property
    def etc(self):
        return os.path.join(self.dir, "etc")

    @property
    def main_cf_path(self):
        return os.path.join(self.etc, "main.cf")

    @property
    def queue(self):
        return os.path.join(self.dir, "queue")

    @property
    def log_path(self):
        return os.path.join(self.dir, "log", "tern.log")

    def tern(self, *args, check=True, **kw):
        return subprocess.run([TERN, "-c", self.dir] + list(args), check=check,
                              capture_output=True, text=True, timeout=60, **kw)

    def user_add(self, addr, password, *options, check=True):
        """tern user add ADDR --stdin [options]: an account, its Maildir and
        its virtual_mailbox entry."""
        return self.tern("user", "add", addr, "--stdin", *options, check=check,
                         input=password + "\n")

    def auth_socket(self, login=False):
        """Path of auth's trusted (private/auth) or login (login/auth) socket."""
        return os.path.join(self.queue, "login" if login else "private", "auth")

    def add_mailbox(self, addr):
        local, domain = addr.split("@")
        with open(os.path.join(self.etc, "virtual_mailbox"), "a") as f:
            f.write("%s %s/%s/\n" % (addr, domain, local))

    def maildir(self, addr):
        local, domain = addr.split("@")
        return os.path.join(self.dir, "mail", domain, local)

    def messages(self, addr):
        """Contents (bytes) of every message in the Maildir's new/."""
        out = []
        for p in sorted(glob.glob(os.path.join(self.maildir(addr), "new", "*"))):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def queue_files(self, queues=("incoming", "active", "deferred")):
        files = []
        for q in queues:
            d = os.path.join(self.queue, q)
            if os.path.isdir(d):
                files += [os.path.join(d, n) for n in os.listdir(d)]
        return files

    def start(self):
        r = self.tern("start", check=False)
        if r.returncode != 0:
            raise AssertionError("tern start failed: %s%s\n%s" % (r.stdout, r.stderr, self.log()))
        self.started = True
        wait_until(lambda: self._port_open(self.smtp_port), 10, what="smtp port")

    def stop(self):
        if self.started:
            self.tern("stop", check=False)
            self.started = False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @staticmethod
    def _port_open(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def processes(self):
        """[(pid, program, user)] of this instance's processes: the master
        and its children (found through /proc, by parent pid)."""
        mpid = self.master_pid()
        if mpid is None:
            return []
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                pid = int(d)
                if pid != mpid and ppid != mpid:
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv0 = f.read().split(b"\0")[0].decode()
                uid = os.stat("/proc/%s" % d).st_uid
                with open("/proc/%s/status" % d) as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            uid = int(line.split()[2])   # effective uid
                out.append((pid, os.path.basename(argv0), pwd.getpwuid(uid).pw_name))
            except (OSError, ValueError, IndexError, KeyError):
                continue
        return out

    def pids_of(self, program):
        return [p for p, prog, _ in self.processes() if prog == program]

    def cleanup(self):
        self.stop()
        mpid = self.master_pid()
        if mpid:
            try:
                os.kill(mpid, signal.SIGKILL)
            except OSError:
                pass
        if os.environ.get("TERN_KEEP"):
            print("\n(kept instance %s)" % self.dir)
            return
        subprocess.run(["rm", "-rf", self.dir])
