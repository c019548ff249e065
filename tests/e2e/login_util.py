"""Helpers for the tests of mail access through the login processes
(test_pop3.py, test_imap_login.py): messages put straight into a Maildir,
a raw line client, and Debian's Dovecot pop3 run on a Maildir for
differential tests."""
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from line_client import LineClient, tls_context  # noqa: F401 (tls_context: for the tests)
from tern_instance import Instance, wait_until

DOVECOT_POP3 = "/usr/lib/dovecot/pop3"


def start_instance(users, pop3=False, imap=False, main_cf=None):
    """An instance with the POP3 and/or IMAP listeners (plain and TLS),
    the accounts users ({address: password}) and, since the tests fail
    logins on purpose, all from 127.0.0.1, no growing delays for
    loopback; returned once every listener accepts connections."""
    cf = {"auth_failure_exceptions": "127.0.0.0/8"}
    cf.update(main_cf or {})
    inst = Instance(pop3=pop3, imap=imap, main_cf=cf)
    for user, password in users.items():
        inst.user_add(user, password)
    inst.start()
    ports = []
    if pop3:
        ports += [("pop3", inst.pop3_port), ("pop3s", inst.pop3s_port)]
    if imap:
        ports += [("imap", inst.imap_port), ("imaps", inst.imaps_port)]
    for name, port in ports:
        wait_until(lambda: inst._port_open(port), 30, what="%s port" % name)
    return inst


_seq = [0]


def put_message(maildir, data, sub="new"):
    """Writes data (bytes) as a new message file of the Maildir, owned by
    the Maildir's owner, as a delivery would; returns its path."""
    _seq[0] += 1
    st = os.stat(maildir)
    name = "%d.M%dP%d.test" % (int(time.time()), _seq[0], os.getpid())
    if sub == "cur":
        name += ":2,"
    path = os.path.join(maildir, sub, name)
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.rename(tmp, path)
    return path


def crlf(data):
    """data with every bare LF made CRLF (what POP3 and IMAP send)."""
    out = bytearray()
    prev = None
    for b in data:
        if b == 0x0A and prev != 0x0D:
            out += b"\r"
        out.append(b)
        prev = b
    return bytes(out)


class Lines(LineClient):
    """A line-level client for POP3 or IMAP that can send anything."""

    def __init__(self, port, tls=None, timeout=30):
        super().__init__(port, timeout=timeout, tls=tls)

    def starttls(self, ctx):
        self.sock = ctx.wrap_socket(self.sock)

    def line(self):
        return self.raw_line()

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline(self):
        """The lines of a POP3 multi-line answer up to ".", unstuffed, as
        bytes with their CRLFs."""
        out = b""
        while True:
            line = self.line()
            if line == b".\r\n":
                return out
            if line.startswith(b".."):
                line = line[1:]
            out += line


def dovecot_pop3(maildir, commands, user=None):
    """Runs Debian's Dovecot pop3 (pre-authenticated, on stdin and stdout)
    over a copy of maildir as the Maildir's owner; returns its output
    (bytes).  commands: a list of command lines (QUIT is added)."""
    st = os.stat(maildir)
    d = tempfile.mkdtemp(prefix="tern-dovecot-pop3-")
    os.chmod(d, 0o755)
    try:
        copy = os.path.join(d, "Maildir")
        shutil.copytree(maildir, copy, symlinks=True)
        for top, dirs, files in os.walk(d):
            for n in dirs + files:
                os.lchown(os.path.join(top, n), st.st_uid, st.st_gid)
        os.chown(d, st.st_uid, st.st_gid)
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("mail_location = maildir:%s\nlog_path = %s/dovecot.log\nssl = no\n"
                    % (copy, d))
        name = pwd.getpwuid(st.st_uid).pw_name
        script = "".join(c + "\r\n" for c in commands) + "QUIT\r\n"
        r = subprocess.run(["setpriv", "--reuid=%d" % st.st_uid, "--regid=%d" % st.st_gid,
                            "--clear-groups", "env", "-i", "USER=%s" % (user or name),
                            "HOME=%s" % d, DOVECOT_POP3, "-c", conf],
                           input=script.encode(), capture_output=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("dovecot pop3 failed: %r %r" % (r.stdout, r.stderr))
        return r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


def dovecot_uidls(maildir):
    """{message number: UIDL} as Dovecot's pop3 lists them for maildir."""
    out = dovecot_pop3(maildir, ["UIDL"])
    lines = out.split(b"\r\n")
    i = lines.index(b"+OK")  # UIDL's; pre-authenticated, there is no greeting
    res = {}
    for ln in lines[i + 1:]:
        if ln == b".":
            break
        n, u = ln.split(b" ", 1)
        res[int(n)] = u.decode()
    return res
