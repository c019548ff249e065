"""An authoritative DNS server on 127.0.0.1 (UDP and TCP, same port) for
the end-to-end tests, answering from a zone given as Python data:

    ZoneDns({"example.com": [("TXT", "v=spf1 mx -all"),
                             ("MX", (10, "mx.example.com")),
                             ("A", "192.0.2.1")],
             "mx.example.com": [("AAAA", "2001:db8::1")],
             "broken.example": ["TIMEOUT"]})

Types: A, AAAA, MX ((pref, host) or "pref host"), TXT (a string, or a list
of strings making one record), PTR, CNAME (followed, up to 8 deep, in the
answer), TLSA ((usage, selector, mtype, hex data)), SPF (type 99, served
only when asked for).  A name not in the zone
is NXDOMAIN; a known name without records of the asked type is NODATA.
Failures: the entry "TIMEOUT" makes every type not listed before it fail,
(type, "TIMEOUT") that type only (the RFC 7208 test suite's conventions);
a failure is answered SERVFAIL (fast, and a temporary error to every
resolver, as a time-out is) or, with drop=True, not at all.  Answers
longer than 512 bytes over UDP are truncated (TC) so that the client asks
again over TCP.  Every record has the TTL ttl (60 s unless told), so a
test that changes the zone can give resolvers' caches a short memory.
Denials (NXDOMAIN, NODATA) carry no SOA unless negative_ttl is given:
then an SOA of the name's last label, with that TTL and MINIMUM, is in
their authority section, as real servers send it, and resolvers may keep
the denial that long (RFC 2308); without it they may not.
`queries` records (name, qtype) of every question.

FakeDns(mx=..., a=..., fail=...) is the small zone the smtpd tests use:
"mx.NAME" as MX of the names in mx, 192.0.2.1 for those in a, SERVFAIL
for those in fail."""
import ipaddress
import socket
import socketserver
import struct
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "TLSA": 52, "SPF": 99}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("utf-8", "surrogateescape")
            out += bytes([min(len(raw), 63)]) + raw[:63]
    return out + b"\0"


def encode_txt(value):
    if isinstance(value, str):
        value = [value]
    out = b""
    for s in value:
        raw = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
        while True:
            out += bytes([min(len(raw), 255)]) + raw[:255]
            raw = raw[255:]
            if not raw:
                break
    return out


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_aton(value)
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "MX":
        if isinstance(value, str):
            pref, host = value.split(None, 1)
        else:
            pref, host = value
        return struct.pack("!H", int(pref)) + encode_name(host)
    if rtype in ("PTR", "CNAME", "NS"):
        return encode_name(value)
    if rtype in ("TXT", "SPF"):
        return encode_txt(value)
    if rtype == "TLSA":
        usage, selector, mtype, data = value
        return bytes([usage, selector, mtype]) + bytes.fromhex(data)
    raise ValueError("unknown type %s" % rtype)


class Timeout(Exception):
    pass


class ZoneDns:
    def __init__(self, zone=None, drop=False, ttl=60, host="127.0.0.1", port=0,
                 negative_ttl=None):
        """host, port: where to listen (port 0: a free one; 53 for a
        resolver that knows no other port, as glibc's)."""
        self.zone = {}
        self.host = host
        self.drop = drop
        self.ttl = ttl  # of every record served
        self.negative_ttl = negative_ttl  # of denials, with an SOA; None: no SOA
        self.queries = []
        self.set_zone(zone or {})
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                outer._serve_tcp(self.request)

        # UDP and TCP on the same port: the kernel picks a free UDP port,
        # and another process may hold its TCP twin; try a few ports.
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        for attempt in range(50):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((host, port))
            self.port = self.sock.getsockname()[1]
            try:
                self.tcp = socketserver.ThreadingTCPServer((host, self.port), Handler)
                break
            except OSError:
                self.sock.close()
                if attempt == 49 or port:
                    raise
        self._stop = False
        self.thread = threading.Thread(target=self._serve_udp, daemon=True)
        self.thread.start()
        self.tcp.daemon_threads = True
        self.tcp_thread = threading.Thread(target=self.tcp.serve_forever,
                                           kwargs={"poll_interval": 0.2}, daemon=True)
        self.tcp_thread.start()

    def set_zone(self, zone):
        """Replaces the zone (names are case-insensitive)."""
        self.zone = {n.lower().rstrip("."): list(v) for n, v in zone.items()}

    def add(self, name, rtype, value):
        self.zone.setdefault(name.lower().rstrip("."), []).append((rtype, value))

    def stop(self):
        self._stop = True
        self.sock.close()
        self.tcp.shutdown()
        self.tcp.server_close()

    # ------------------------------------------------------------ answers

    def records(self, name, qtype):
        """[(owner, type, value)] for name/qtype, following CNAMEs; None
        when the name does not exist; raises Timeout for a failure."""
        out = []
        for _ in range(8):
            entries = self.zone.get(name)
            if entries is None:
                return out if out else None
            seen_type = False
            cname = None
            for e in entries:
                if e == "TIMEOUT":
                    if not seen_type:
                        raise Timeout()
                    break
                rtype, value = e
                if rtype == qtype:
                    seen_type = True
                    if value == "TIMEOUT":
                        raise Timeout()
                    out.append((name, rtype, value))
                elif rtype == "CNAME" and value != "TIMEOUT":
                    cname = value
            if out or cname is None or qtype == "CNAME":
                return out
            out.append((name, "CNAME", cname))
            name = cname.lower().rstrip(".")
        return out

    @staticmethod
    def _question(data):
        off, labels = 12, []
        while data[off]:
            n = data[off]
            labels.append(data[off + 1:off + 1 + n].decode("utf-8", "surrogateescape"))
            off += 1 + n
        qtype, _ = struct.unpack("!HH", data[off + 1:off + 5])
        return ".".join(labels), qtype, data[12:off + 5]

    def answer(self, data, udp):
        """The reply to one query message, or None (a dropped failure)."""
        qid, _ = struct.unpack("!HH", data[:4])
        name, qtype, question = self._question(data)
        lname = name.lower()
        self.queries.append((lname, qtype))
        tname = next((t for t, v in TYPES.items() if v == qtype), None)
        rcode, rrs = 0, []
        try:
            found = self.records(lname, tname) if tname else []
            if found is None:
                rcode = 3
            else:
                rrs = found
        except Timeout:
            if self.drop:
                return None
            rcode = 2
        body = b""
        for owner, rtype, value in rrs:
            rd = rdata(rtype, value)
            body += encode_name(owner) + struct.pack("!HHIH", TYPES[rtype], 1, self.ttl, len(rd)) + rd
        flags = 0x8400 | rcode
        count, nscount = len(rrs), 0
        if rcode in (0, 3) and not rrs and self.negative_ttl is not None:
            apex = lname.rsplit(".", 1)[-1]
            soa = (encode_name("ns." + apex) + encode_name("hostmaster." + apex) +
                   struct.pack("!IIIII", 1, 3600, 600, 86400, self.negative_ttl))
            body = encode_name(apex) + struct.pack("!HHIH", TYPES["SOA"], 1, self.negative_ttl,
                                                   len(soa)) + soa
            nscount = 1
        if udp and 12 + len(question) + len(body) > 512:
            flags |= 0x0200
            body, count, nscount = b"", 0, 0
        return struct.pack("!HHHHHH", qid, flags, 1, count, nscount, 0) + question + body

    def _serve_udp(self):
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                out = self.answer(data, True)
                if out is not None:
                    self.sock.sendto(out, peer)
            except (OSError, IndexError, struct.error, ValueError):
                continue

    def _serve_tcp(self, conn):
        conn.settimeout(10)
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack("!H", head)[0]
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                out = self.answer(data, False)
                if out is None:
                    return
                conn.sendall(struct.pack("!H", len(out)) + out)
        except (OSError, IndexError, struct.error, ValueError):
            return


def FakeDns(mx=(), a=(), fail=()):
    """The smtpd tests' small zone (see the module's comment)."""
    zone = {}
    for n in mx:
        zone.setdefault(n, []).append(("MX", (10, "mx." + n)))
    for n in a:
        zone.setdefault(n, []).append(("A", "192.0.2.1"))
    for n in fail:
        zone[n] = ["TIMEOUT"]
    return ZoneDns(zone)
