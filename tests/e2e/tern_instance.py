"""Helpers for end-to-end tests: throw-away tern instances on free loopback
ports, made with "tern init" exactly as an operator would, and the ways to
look at what they did (Maildirs, queue folders, processes, the log)."""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
TERN = os.path.join(BUILD, "bin", "tern")
QUEUES = ("incoming", "active", "deferred", "hold", "corrupt", "maildrop")


_handed_out = set()


def free_port():
    """A loopback port nobody listens on, never one this run handed out
    before: the kernel may give the same ephemeral port to two binds in a
    row, and an instance asks for several ports before it listens on any
    (two equal ports made master.cf's "duplicate service")."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise AssertionError("no fresh free loopback port after 1000 tries")


def _proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def wait_until(cond, timeout=20.0, interval=0.05, what="condition"):
    """Polls cond() until it is true; bounded, raises AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


def stop_process(proc, timeout=10):
    """Stops a helper process this test started (a subprocess.Popen), by
    its pid: SIGTERM, then SIGKILL after timeout seconds; bounded."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class LoopbackDns:
    """A test DNS server program (dnsmasq, unbound) in the foreground on
    127.0.0.1:self.port with its files in self.dir.  A subclass writes its
    configuration, then calls run(argv, timeout), which waits until the
    port answers and ready() (say, a log line) is true; resolver is the
    smtp_dns_resolver value; stop() ends it and removes self.dir."""

    name = "DNS server"

    def __init__(self, prefix):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.proc = None

    def run(self, argv, timeout):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(self._up, timeout, what="%s on port %d" % (self.name, self.port))

    def ready(self):
        return True

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited: %s" % (self.name, self.proc.stderr.read().decode()))
        try:
            if not self.ready():
                return False
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    @property
    def resolver(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_log(inst, needle, timeout=30):
    """Waits for log lines containing needle; returns them (bounded,
    raises AssertionError with the log's end)."""
    def lines():
        return [l for l in inst.log().splitlines() if needle in l]
    try:
        return wait_until(lines, timeout, what="log line with %r" % needle)
    except AssertionError as e:
        raise AssertionError("%s\nlog:\n%s" % (e, inst.log()[-4000:])) from None


class Instance:
    """A tern instance in a temporary directory.

    main_cf: extra "name = value" lines appended to main.cf.
    mailboxes: addresses to add to the virtual mailbox table.
    """

    def __init__(self, domains=("example.com",), main_cf=None, mailboxes=(), name="tern",
                 pop3=False, imap=False, http=False, managesieve=False):
        self.dir = tempfile.mkdtemp(prefix="%s-e2e-" % name)
        os.chmod(self.dir, 0o755)
        self.smtp_port = free_port()
        self.submission_port = free_port()
        args = [TERN, "init", self.dir,
                "--smtp", "127.0.0.1:%d" % self.smtp_port,
                "--submission", "127.0.0.1:%d" % self.submission_port]
        # pop3/imap: the listeners of mail access (pop3_port, pop3s_port,
        # imap_port, imaps_port), each on a free port.
        for proto, wanted in (("pop3", pop3), ("imap", imap)):
            for suffix in ("", "s"):
                port = free_port() if wanted else None
                setattr(self, "%s%s_port" % (proto, suffix), port)
                if wanted:
                    args += ["--%s%s" % (proto, suffix), "127.0.0.1:%d" % port]
        # managesieve: its listener (managesieve_port) on a free port.
        self.managesieve_port = free_port() if managesieve else None
        if managesieve:
            args += ["--managesieve", "127.0.0.1:%d" % self.managesieve_port]
        # http: the web listener (HTTPS with the instance's certificate) on
        # http_port, for JMAP and the webmail, and plain HTTP for loopback
        # clients on http_plain_port.
        self.http_port = free_port() if http else None
        self.http_plain_port = free_port() if http else None
        if http:
            args += ["--http", "127.0.0.1:%d" % self.http_port,
                     "--http-plain", "127.0.0.1:%d" % self.http_plain_port]
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

    @property
    def master_cf_path(self):
        return os.path.join(self.etc, "master.cf")

    def write_master_cf(self, text):
        with open(self.master_cf_path, "w") as f:
            f.write(text)

    def append_main_cf(self, settings, comment="added by the test"):
        """Appends "name = value" lines (a dict or (name, value) pairs);
        later lines win, as in Postfix."""
        items = settings.items() if isinstance(settings, dict) else settings
        with open(self.main_cf_path, "a") as f:
            f.write("\n# %s\n" % comment)
            for k, v in items:
                f.write("%s = %s\n" % (k, v))

    def main_cf_value(self, name):
        """The value of name as "tern conf -h" prints it."""
        return self.tern("conf", "-h", name).stdout.rstrip("\n")

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

    def instance_pids(self):
        """{pid: program} of every live process started with this
        instance's configuration directory ("-c DIR/etc"), whatever its
        parent: also the children of a master that died."""
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
                with open("/proc/%s/stat" % d) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state == "Z":
                continue
            for i, a in enumerate(argv[:-1]):
                if a == b"-c" and argv[i + 1].decode(errors="replace") == self.etc:
                    out[int(d)] = os.path.basename(argv[0].decode(errors="replace"))
        return out

    def kill_master(self):
        """kill -9 of the master only, as a crash would."""
        mpid = self.master_pid()
        os.kill(mpid, signal.SIGKILL)
        wait_until(lambda: not os.path.exists("/proc/%d" % mpid) or
                   _proc_state(mpid) == "Z", 10, what="master gone")
        return mpid

    @staticmethod
    def listeners(port):
        """The local addresses a TCP socket listens on at port, from
        /proc/net/tcp and tcp6: {"127.0.0.1", "::1", "0.0.0.0", "::"}."""
        found = set()
        for path, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
            try:
                with open(path) as f:
                    lines = f.readlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                addr, p = fields[1].split(":")
                if int(p, 16) != port or fields[3] != "0A":  # LISTEN
                    continue
                raw = bytes.fromhex(addr)
                if v6:
                    # Four 32-bit words, each in host (little-endian) order.
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, raw))
                else:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
        return found

    def cleanup(self):
        self.stop()
        mpid = self.master_pid()
        if mpid:
            try:
                os.kill(mpid, signal.SIGKILL)
            except OSError:
                pass
        for pid in self.instance_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if os.environ.get("TERN_KEEP"):
            print("\n(kept instance %s)" % self.dir)
            return
        subprocess.run(["rm", "-rf", self.dir])


# ---------------------------------------------------------------- Debian's Postfix

DEBIAN_MAILER_TYPES = ("Internet Site", "Internet with smarthost", "Satellite system")

# Runs inside "unshare --mount --net --pid --fork": an overlay of / that
# keeps every write in a tmpfs, chrooted into, so that Debian's own postfix
# configuration (the package's debconf config script and postinst, run by
# dpkg-reconfigure with preseeded answers) writes its main.cf for real and
# nothing of the machine changes.  policy-rc.d keeps it from starting
# Postfix; the empty network namespace keeps anything from reaching out.
_DEBIAN_GEN = r"""
set -e
out=$1; mailer=$2; mailname=$3; relayhost=$4
T=$(mktemp -d /tmp/tern-debgen.XXXXXX)
mount -t tmpfs none "$T"
mkdir "$T/up" "$T/work" "$T/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/up,workdir=$T/work" "$T/root"
mount -t proc proc "$T/root/proc"
mount --rbind /dev "$T/root/dev"
mount -t tmpfs none "$T/root/tmp"
mount -t tmpfs none "$T/root/run"
ip link set lo up 2>/dev/null || true
chroot "$T/root" /bin/sh -c '
printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
rm -f /etc/postfix/main.cf /etc/mailname
debconf-set-selections <<SEL
postfix postfix/main_mailer_type select $1
postfix postfix/mailname string $2
postfix postfix/relayhost string $3
SEL
DEBIAN_FRONTEND=noninteractive dpkg-reconfigure -f noninteractive postfix >/tmp/log 2>&1 ||
  { cat /tmp/log >&2; exit 1; }
' sh "$mailer" "$mailname" "$relayhost"
cp "$T/root/etc/postfix/main.cf" "$out/main.cf"
cp "$T/root/etc/postfix/master.cf" "$out/master.cf"
cp "$T/root/etc/mailname" "$out/mailname" 2>/dev/null || true
"""


def debian_postfix_config(mailer_type, mailname="mail.example.org", relayhost="[127.0.0.1]:9"):
    """(main.cf, master.cf, /etc/mailname) as Debian's postfix package
    writes them for a fresh install of the given debconf type, generated
    now from the installed package (needs root and the postfix package):
    nothing of Postfix's is written by hand or kept in the repository.
    relayhost is the answer for the types that ask for one."""
    if mailer_type == "Internet Site":
        relayhost = ""  # not asked: the package leaves it empty
    out = tempfile.mkdtemp(prefix="tern-debian-")
    try:
        r = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork",
                            "--propagation", "private", "sh", "-c", _DEBIAN_GEN, "sh",
                            out, mailer_type, mailname, relayhost],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise AssertionError("Debian's postfix configuration failed:\n%s%s"
                                 % (r.stdout, r.stderr))
        files = []
        for name in ("main.cf", "master.cf", "mailname"):
            try:
                with open(os.path.join(out, name)) as f:
                    files.append(f.read())
            except FileNotFoundError:
                files.append(None)
        return tuple(files)
    finally:
        subprocess.run(["rm", "-rf", out])
