"""Helpers for the smtpd end-to-end tests: raw SMTP conversations over a
socket (plain or TLS), reply reading, and TLS contexts that trust the
instance's self-signed certificate."""
import os
import socket
import ssl
import time


def tls_context(inst=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if inst is not None:
        ctx.load_verify_locations(os.path.join(inst.etc, "cert.pem"))
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Conn:
    """A line-level SMTP client that can send anything, pipelined or not."""

    def __init__(self, port, timeout=15, tls=None, host="127.0.0.1", source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """(code, [text lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            line = self._line()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def starttls(self, ctx=None):
        code, _ = self.cmd("STARTTLS")
        if code != 220:
            raise AssertionError("STARTTLS answered %d" % code)
        assert self.buf == b"", "bytes after the 220: %r" % self.buf
        self.sock = (ctx or tls_context()).wrap_socket(self.sock)
        return code

    def ehlo(self, name="client.example.org"):
        code, lines = self.cmd("EHLO " + name)
        return code, [l.upper() for l in lines[1:]]

    def closed(self, timeout=5):
        """True when the server closed the connection (reads until EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_log(inst, needle, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in inst.log():
            return True
        time.sleep(0.1)
    raise AssertionError("%r not in the log:\n%s" % (needle, inst.log()[-3000:]))
