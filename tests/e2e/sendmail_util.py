"""Helpers for the sendmail/postdrop/pickup tests: an instance whose
command_directory holds a setgid copy of postdrop (as "make install" lays
it down), a throw-away ordinary user, the IPC record codec (lib/ipc.h) and
a reader for queue files (lib/qfile.h)."""
import grp
import os
import pwd
import random
import shutil
import struct
import subprocess

from tern_instance import BUILD, Instance, wait_until

SENDMAIL = os.path.join(BUILD, "bin", "sendmail")
POSTDROP = os.path.join(BUILD, "bin", "postdrop")

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL, EX_NOPERM = 64, 65, 66, 75, 77


def encode(*attrs):
    """One IPC record from (name, value) pairs; values str or bytes."""
    out = b""
    for name, value in attrs:
        for part in (name, value):
            if isinstance(part, str):
                part = part.encode()
            out += b"%d:%s," % (len(part), part)
    return out + b"0:,"


def decode_records(data):
    """[[(name, value bytes)]] from a stream of IPC records."""
    records, attrs, pos, pending = [], [], 0, []
    while pos < len(data):
        colon = data.index(b":", pos)
        n = int(data[pos:colon])
        value = data[colon + 1:colon + 1 + n]
        pos = colon + 2 + n
        if n == 0 and not pending:
            records.append(attrs)
            attrs = []
            continue
        pending.append(value)
        if len(pending) == 2:
            attrs.append((pending[0].decode(), pending[1]))
            pending = []
    return records


def queue_file_envelope(path):
    """(sender, [recipient attrs dicts], {attr: value}) of a queue file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"TERNQF01", path
    pos, sender, rcpts, attrs = 8, None, [], {}
    while pos < len(data):
        kind = data[pos:pos + 1]
        n = struct.unpack(">I", data[pos + 1:pos + 5])[0]
        payload = data[pos + 5:pos + 5 + n]
        pos += 5 + n
        if kind == b"S":
            sender = payload.decode()
        elif kind == b"A":
            k, _, v = payload.decode().partition("=")
            attrs[k] = v
        elif kind == b"R":
            rcpts.append({k: v.decode() for k, v in decode_records(payload)[0]})
        elif kind == b"E":
            break
    return sender, rcpts, attrs


class TestUser:
    """An ordinary user made for the test (useradd), removed by remove()."""

    def __init__(self):
        self.name = "ternt%05d" % random.randrange(100000)
        self.home = "/tmp/%s-home" % self.name
        subprocess.run(["useradd", "--create-home", "--home-dir", self.home,
                        "--shell", "/bin/sh", "--comment", "Test User", self.name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def env(self, **extra):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home, "USER": self.name,
               "LOGNAME": self.name}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra)
        return env

    def run(self, args, input=None, env=None, timeout=60, **kw):
        return subprocess.run(args, input=input, capture_output=True, timeout=timeout,
                              user=self.uid, group=self.gid, extra_groups=[],
                              env=env or self.env(), cwd=self.home, **kw)

    def remove(self):
        subprocess.run(["userdel", "--remove", self.name], capture_output=True)
        shutil.rmtree(self.home, ignore_errors=True)


class SubmitInstance(Instance):
    """An instance with myorigin = localhost (so "user" is user@localhost,
    a virtual mailbox) and command_directory = DIR/bin holding a setgid
    ternrop copy of postdrop, the tern command, and mailq/newaliases links
    to sendmail."""

    def __init__(self, mailboxes=(), **kw):
        bindir_placeholder = "__BIN__"
        # A DNS server that refuses every query keeps remote mail deferred
        # in the queue, where the tests look at it.
        super().__init__(main_cf={"myorigin": "localhost",
                                  "command_directory": bindir_placeholder,
                                  "smtp_dns_resolver": "127.0.0.1:1"},
                         mailboxes=mailboxes, **kw)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin, 0o755)
        with open(self.main_cf_path) as f:
            text = f.read().replace(bindir_placeholder, self.bin)
        with open(self.main_cf_path, "w") as f:
            f.write(text)
        self.postdrop = os.path.join(self.bin, "postdrop")
        shutil.copy(POSTDROP, self.postdrop)
        os.chown(self.postdrop, 0, grp.getgrnam("ternrop").gr_gid)
        os.chmod(self.postdrop, 0o2755)
        os.symlink(os.path.join(BUILD, "bin", "tern"), os.path.join(self.bin, "tern"))
        for name in ("sendmail", "mailq", "newaliases"):
            os.symlink(SENDMAIL, os.path.join(self.bin, name))
        # The queue folders exist before the first start, as after "make install".
        r = self.tern("check", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        self.check_output = r.stdout

    @property
    def sendmail(self):
        return os.path.join(self.bin, "sendmail")

    def maildrop_files(self):
        d = os.path.join(self.queue, "maildrop")
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def wait_messages(self, addr, n, timeout=30):
        return wait_until(lambda: len(self.messages(addr)) >= n and self.messages(addr),
                          timeout, what="%d messages for %s\nlog:\n%s"
                          % (n, addr, self.log()[-3000:]))

    def wait_for(self, addr, token, timeout=30):
        """The message for addr that contains token (bytes)."""
        def find():
            for m in self.messages(addr):
                if token in m:
                    return m
            return None
        return wait_until(find, timeout, what="a message with %r for %s\nlog:\n%s"
                          % (token, addr, self.log()[-3000:]))
