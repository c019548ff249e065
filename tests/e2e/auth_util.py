"""Helpers for tests of the auth service, for every protocol that logs in
through it (SMTP now; IMAP, POP3, ManageSieve and the web later):

- AuthSocket: the auth conversation (lib/auth/codec.h) spoken directly on
  private/auth or login/auth, optionally as another user (ternlogin);
- hashes of every scheme made by Dovecot's own "doveadm pw" and mkpasswd,
  and a users file written from them;
- a SCRAM-SHA-256 client (RFC 5802/7677) usable over any SASL transport;
- SMTP AUTH over submission with TLS, from a chosen source address;
- the fail2ban check: the stock dovecot filter (fail2ban-regex) applied
  to the instance's log, as auth(8) documents it.
"""
import base64
import hashlib
import hmac
import os
import pwd
import re
import socket
import ssl
import subprocess

from smtpd_util import Conn, tls_context

# auth(8): the regex fail2ban's stock dovecot filter applies to auth's lines.
FAIL2BAN_FILTER = '/etc/fail2ban/filter.d/dovecot.conf[_daemon="tern/auth"]'
FAILURE_RE = re.compile(r"tern/auth\[\d+\]: [a-z\-]{3,15}\(\S*,(?P<host>[0-9a-fA-F.:]+)"
                        r"(?:,\S*)?\): (?:[Uu]nknown user|[Ii]nvalid credentials|"
                        r"[Pp]assword mismatch)")


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


# ------------------------------------------------------------ hashes

def doveadm_hash(scheme, password):
    """{SCHEME}hash exactly as Dovecot 2.3 makes it."""
    return subprocess.run(["doveadm", "pw", "-s", scheme, "-p", password], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()


def mkpasswd_hash(method, password):
    """A bare crypt(3) hash ($y$, $2b$, ...) as mkpasswd(1) makes it."""
    return subprocess.run(["mkpasswd", "-m", method, "--stdin"], input=password, check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()


def write_users(inst, lines, mode=0o640):
    """Appends users lines (Dovecot passwd-file) to the instance's users file."""
    path = os.path.join(inst.etc, "users")
    with open(path, "a") as f:
        for line in lines:
            f.write(line + "\n")
    return path


# ------------------------------------------------------------ the auth conversation

def _netstring(b):
    return str(len(b)).encode() + b":" + b + b","


def encode_record(attrs):
    out = b""
    for name, value in attrs:
        if isinstance(value, str):
            value = value.encode()
        out += _netstring(name.encode()) + _netstring(value)
    return out + b"0:,"


def decode_record(buf):
    """(list of (name, bytes), rest) or (None, buf) when incomplete."""
    attrs, pos, items = [], 0, []
    while True:
        colon = buf.find(b":", pos)
        if colon < 0:
            return None, buf
        n = int(buf[pos:colon])
        end = colon + 1 + n
        if len(buf) < end + 1:
            return None, buf
        assert buf[end:end + 1] == b",", "malformed netstring"
        if n == 0 and len(items) % 2 == 0:
            return attrs, buf[end + 1:]
        items.append(buf[colon + 1:end])
        if len(items) % 2 == 0:
            attrs.append((items[-2].decode(), items[-1]))
        pos = end + 1


class AuthSocket:
    """One connection to auth (lib/auth/codec.h), spoken from Python."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0

    def close(self):
        self.sock.close()

    def send(self, attrs):
        self.sock.sendall(encode_record(attrs))

    def reply(self):
        """The next reply as a dict (repeated names become lists: mech, extra)."""
        while True:
            rec, self.buf = decode_record(self.buf)
            if rec is not None:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("auth closed the connection")
            self.buf += chunk
        out = {"mech": [], "extra": []}
        for name, value in rec:
            value = value.decode()
            if name in ("mech", "extra"):
                out[name].append(value)
            else:
                out[name] = value
        return out

    def request(self, op, **attrs):
        self.next_id += 1
        rid = str(self.next_id)
        fields = [("op", op), ("id", rid)]
        for k, v in attrs.items():
            if v is not None:
                fields.append((k, v if not isinstance(v, bool) else ("yes" if v else "no")))
        self.send(fields)
        return rid

    def call(self, op, **attrs):
        rid = self.request(op, **attrs)
        r = self.reply()
        assert r["id"] == rid, (r, rid)
        return r

    def cont(self, rid, resp):
        self.send([("op", "cont"), ("id", rid), ("resp", resp)])
        r = self.reply()
        assert r["id"] == rid, (r, rid)
        return r

    def plain(self, user, password, service="imap", client_addr="192.0.2.10", **kw):
        """A whole SASL PLAIN login; the final reply."""
        return self.call("auth", service=service, mech="PLAIN",
                         resp=b64("\0%s\0%s" % (user, password)), client_addr=client_addr,
                         **kw)


def connect_as(path, user):
    """An AuthSocket opened by a child running as user (e.g. ternlogin), so
    the file system's permissions decide, as for a real login process.
    Returns the socket, or the OSError the child got."""
    pw = pwd.getpwnam(user)
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            parent.close()
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            socket.send_fds(child, [b"ok"], [s.fileno()])
        except OSError as e:
            child.sendall(("err:%d" % e.errno).encode())
        finally:
            os._exit(0)
    child.close()
    msg, fds, _, _ = socket.recv_fds(parent, 64, 1)
    os.waitpid(pid, 0)
    parent.close()
    if not fds:
        return OSError(int(msg.decode().split(":")[1]), "connect as %s" % user)
    a = AuthSocket.__new__(AuthSocket)
    a.sock = socket.socket(fileno=fds[0])
    a.sock.settimeout(30)
    a.buf = b""
    a.next_id = 0
    return a


# ------------------------------------------------------------ SCRAM-SHA-256

class ScramClient:
    """The client side of SCRAM-SHA-256 without channel binding."""

    def __init__(self, user, password, nonce=None):
        self.user, self.password = user, password
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.first_bare = "n=%s,r=%s" % (name, self.nonce)
        self.gs2 = "n,,"

    def first(self):
        return self.gs2 + self.first_bare

    def final(self, server_first):
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        assert attrs["r"].startswith(self.nonce), server_first
        salt, iters = base64.b64decode(attrs["s"]), int(attrs["i"])
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iters)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored = hashlib.sha256(client_key).digest()
        without_proof = "c=%s,r=%s" % (b64(self.gs2), attrs["r"])
        self.auth_message = ",".join([self.first_bare, server_first, without_proof])
        sig = hmac.new(stored, self.auth_message.encode(), "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        return without_proof + ",p=" + b64(proof)

    def verify_server(self, server_final):
        want = hmac.new(self.server_key, self.auth_message.encode(), "sha256").digest()
        return server_final == "v=" + b64(want)


# ------------------------------------------------------------ SMTP AUTH

def submission(inst, source="127.0.0.1"):
    """A TLS session on the submission port after EHLO, from source."""
    c = Conn(inst.submission_port, source=source)
    code, _ = c.reply()
    assert code == 220, code
    c.ehlo()
    c.starttls(tls_context(inst))
    code, exts = c.ehlo()
    c.exts = exts
    return c


def smtp_plain(inst, user, password, source="127.0.0.1"):
    """(code, text) of AUTH PLAIN on a fresh submission session."""
    c = submission(inst, source)
    try:
        code, lines = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, password)))
        return code, lines[0] if lines else ""
    finally:
        c.close()


def smtp_scram(inst, user, password, source="127.0.0.1"):
    """(code, server signature verified) of AUTH SCRAM-SHA-256."""
    c = submission(inst, source)
    try:
        s = ScramClient(user, password)
        code, lines = c.cmd("AUTH SCRAM-SHA-256 " + b64(s.first()))
        if code != 334:
            return code, False
        code, lines = c.cmd(b64(s.final(base64.b64decode(lines[0]).decode())))
        if code != 334:
            return code, False
        ok = s.verify_server(base64.b64decode(lines[0]).decode())
        code, lines = c.cmd("")
        return code, ok
    finally:
        c.close()


# ------------------------------------------------------------ logs

def failure_lines(inst, host=None):
    """auth's failure lines (the ones fail2ban bans on), optionally for one host."""
    out = []
    for line in inst.log().splitlines():
        m = FAILURE_RE.search(line)
        if m and (host is None or m.group("host") == host):
            out.append(line)
    return out


def fail2ban_matches(log_text):
    """Hosts the stock fail2ban dovecot filter finds in log_text (one per match)."""
    path = "/tmp/tern-f2b-%d.log" % os.getpid()
    with open(path, "w") as f:
        f.write(log_text if log_text.endswith("\n") else log_text + "\n")
    try:
        p = subprocess.run(["fail2ban-regex", "--print-all-matched", "--print-no-missed",
                            "--print-no-ignored", path, FAIL2BAN_FILTER],
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"^Lines: \d+ lines, \d+ ignored, (\d+) matched", p.stdout, re.M)
    assert m, p.stdout
    return int(m.group(1)), p.stdout
