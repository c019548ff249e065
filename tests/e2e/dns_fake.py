"""A tiny authoritative DNS server on 127.0.0.1 (UDP) for the smtpd tests:
answers MX queries for the names in `mx`, A queries for the names in `a`,
NODATA for other types of known names, NXDOMAIN for everything else, and
SERVFAIL for names in `fail`.  Not a general resolver; enough for c-ares."""
import socket
import struct
import threading


class FakeDns:
    def __init__(self, mx=(), a=(), fail=()):
        self.mx = {n.lower() for n in mx}
        self.a = {n.lower() for n in a}
        self.fail = {n.lower() for n in fail}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self._stop = True
        self.sock.close()

    @staticmethod
    def _name(data, off):
        labels = []
        while data[off]:
            n = data[off]
            labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace"))
            off += 1 + n
        return ".".join(labels), off + 1

    def _answer(self, data):
        qid, flags = struct.unpack("!HH", data[:4])
        name, end = self._name(data, 12)
        qtype, _ = struct.unpack("!HH", data[end:end + 4])
        question = data[12:end + 4]
        lname = name.lower()
        self.queries.append((lname, qtype))
        rcode, answers = 0, []
        known = lname in self.mx or lname in self.a
        if lname in self.fail:
            rcode = 2
        elif not known:
            rcode = 3
        elif qtype == 15 and lname in self.mx:
            rdata = struct.pack("!H", 10) + b"".join(
                bytes([len(l)]) + l.encode() for l in ("mx." + lname).split(".")) + b"\0"
            answers.append(rdata)
        elif qtype == 1 and lname in self.a:
            answers.append(socket.inet_aton("192.0.2.1"))
        header = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(answers), 0, 0)
        out = header + question
        for rdata in answers:
            out += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata
        return out

    def _serve(self):
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(data), peer)
            except (OSError, IndexError, struct.error):
                continue
