"""Helpers for the smtpd end-to-end tests: raw SMTP conversations over a
socket (plain or TLS), reply reading, and TLS contexts that trust the
instance's self-signed certificate."""
from line_client import LineClient, tls_context  # noqa: F401 (tls_context: for the tests)
from tern_instance import wait_log  # noqa: F401 (for the tests)


class Conn(LineClient):
    """A line-level SMTP client that can send anything, pipelined or not."""

    def __init__(self, port, timeout=15, tls=None, host="127.0.0.1", source=None):
        super().__init__(port, timeout=timeout, tls=tls, host=host, source=source)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def _line(self):
        return self.raw_line().rstrip(b"\r\n").decode("utf-8", "replace")

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
        return super().closed(timeout)
