"""The raw line client every protocol test builds on (SMTP in
smtpd_util.Conn, POP3 and IMAP in login_util.Lines): a socket to
loopback, plain or TLS, that can send anything and reads lines, and a TLS
context that trusts an instance's self-signed certificate."""
import os
import socket
import ssl


def tls_context(inst=None):
    """A client context trusting the instance's self-signed certificate
    (inst None: trusting anything)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if inst is not None:
        ctx.load_verify_locations(os.path.join(inst.etc, "cert.pem"))
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class LineClient:
    """A connection that sends raw bytes and reads LF-ended lines."""

    def __init__(self, port, timeout=30, tls=None, host="127.0.0.1", source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def raw_line(self):
        """The next line with its line end, as bytes; EOFError when the
        peer closes first."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def closed(self, timeout=None):
        """True when the server closed the connection (reads until EOF;
        timeout None keeps the socket's own)."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True  # closed with our unread bytes still in its buffer

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
