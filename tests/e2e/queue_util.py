"""Helpers for the queue tests: a delivery agent the test controls.

TestAgent listens on an instance's queue/private/<name> socket and speaks
lib/proto.h's agent conversation: one {op=deliver ...} record with the
queue file's descriptor attached (SCM_RIGHTS), then one {op=status} per
recipient and {op=done}.  The result for each recipient comes from
decide(rcpt, request) -> (result, dsn, reason) or from the local part:
  ok...    sent
  tmp...   deferred  "451 4.3.0 try again later"
  bad...   bounced   "550 5.1.1 no such user"
  dead...  the agent hangs up without a status (a broken connection)
Every request is kept (sender, recipients, nexthop, content) so tests can
look at the bounces tern sent through it."""
import array
import os
import socket
import threading
import time


def _netstrings(data, pos):
    """One netstring at pos: (bytes, next pos), or None when incomplete."""
    colon = data.find(b":", pos)
    if colon < 0:
        return None
    n = int(data[pos:colon])
    end = colon + 1 + n
    if len(data) < end + 1:
        return None
    if data[end:end + 1] != b",":
        raise ValueError("bad netstring")
    return data[colon + 1:end], end + 1


def parse_record(data):
    """(list of (name, value) bytes pairs, bytes used) or (None, 0)."""
    attrs, pos = [], 0
    while True:
        r = _netstrings(data, pos)
        if r is None:
            return None, 0
        name, pos = r
        if name == b"":
            return attrs, pos
        r = _netstrings(data, pos)
        if r is None:
            return None, 0
        value, pos = r
        attrs.append((name.decode(), value))


def encode(pairs):
    out = b""
    for k, v in pairs:
        k = k.encode()
        v = v if isinstance(v, bytes) else str(v).encode()
        out += b"%d:%s,%d:%s," % (len(k), k, len(v), v)
    return out + b"0:,"


def default_decide(rcpt, req):
    local = rcpt.split("@")[0]
    if local.startswith("ok"):
        return ("sent", "2.0.0", "250 2.0.0 ok")
    if local.startswith("tmp"):
        return ("deferred", "4.3.0", "451 4.3.0 try again later")
    if local.startswith("bad"):
        return ("bounced", "5.1.1", "550 5.1.1 no such user")
    if local.startswith("dead"):
        return None
    return ("sent", "2.0.0", "250 2.0.0 ok")


class TestAgent:
    def __init__(self, inst, name="testagent", decide=default_decide, delay=None):
        self.path = os.path.join(inst.queue, "private", name)
        self.decide = decide
        self.delay = delay or (lambda req: 0)
        self.requests = []
        self.lock = threading.Lock()
        self.stopping = False
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)     # qmgr runs as the mail_owner
        self.sock.listen(256)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _read_request(self, conn):
        data, fd = b"", None
        while True:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
            if fds:
                fd = fds[0]
            if not msg:
                return None, fd
            data += msg
            attrs, used = parse_record(data)
            if attrs is not None:
                return attrs, fd

    def _one(self, conn):
        fd = None
        try:
            conn.settimeout(30)
            attrs, fd = self._read_request(conn)
            if attrs is None:
                return
            req = {"rcpts": [], "time": time.time()}
            cur = None
            for k, v in attrs:
                if k == "rcpt":
                    cur = {"addr": v.decode()}
                    req["rcpts"].append(cur)
                elif k in ("index", "class", "orcpt") and cur is not None:
                    cur[k] = v.decode()
                else:
                    req[k] = v.decode(errors="replace")
            if fd is not None:
                h = os.pread(fd, int(req["header_len"]), int(req["header_off"]))
                b = os.pread(fd, int(req["body_len"]), int(req["body_off"]))
                req["content"] = h + b"\n" + b
            with self.lock:
                self.requests.append(req)
            time.sleep(self.delay(req))
            out = b""
            for r in req["rcpts"]:
                d = self.decide(r["addr"], req)
                if d is None:
                    conn.sendall(out)
                    return      # hang up: qmgr defers the rest
                out += encode([("op", "status"), ("index", r["index"]), ("result", d[0]),
                               ("dsn", d[1]), ("reason", d[2])])
            out += encode([("op", "done")])
            conn.sendall(out)
        except (OSError, ValueError):
            pass
        finally:
            if fd is not None:
                os.close(fd)
            conn.close()

    def delivered_to(self, addr):
        with self.lock:
            return [r for r in self.requests
                    if any(x["addr"] == addr for x in r["rcpts"])]

    def stop(self):
        self.stopping = True
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def submit_to_cleanup(inst, sender, rcpts, content, attrs=()):
    """Queues a message through private/cleanup as smtpd would (proto.h):
    rcpts are (addr, orcpt or None, notify or None).  Returns the queue ID."""
    pairs = [("op", "begin"), ("sender", sender)]
    for addr, orcpt, notify in rcpts:
        pairs.append(("rcpt", addr))
        if orcpt:
            pairs.append(("orcpt", orcpt))
        if notify:
            pairs.append(("notify", notify))
    pairs += list(attrs)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(os.path.join(inst.queue, "private", "cleanup"))
        s.sendall(encode(pairs) + encode([("op", "data"), ("data", content)]) +
                  encode([("op", "end")]))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                raise AssertionError("cleanup closed: %r" % data)
            data += chunk
            reply, _ = parse_record(data)
            if reply is not None:
                reply = dict((k, v.decode()) for k, v in reply)
                if reply.get("status") != "ok":
                    raise AssertionError("cleanup said %r" % reply)
                return reply["queue_id"]


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def queue_file(sender, rcpts, header, body, attrs=(), arrival_usec=None):
    """The bytes of a complete queue file (lib/qfile.h), as cleanup writes
    it: rcpts are (addr, orcpt or None, notify or None); attrs are
    (name, value) envelope attributes such as ("ret", "HDRS")."""
    def rec(t, payload):
        return t + len(payload).to_bytes(4, "big") + payload
    if arrival_usec is None:
        arrival_usec = int(time.time() * 1e6)
    out = b"TERNQF01" + rec(b"T", str(arrival_usec).encode()) + rec(b"S", sender.encode())
    for k, v in attrs:
        out += rec(b"A", ("%s=%s" % (k, v)).encode())
    for addr, orcpt, notify in rcpts:
        pairs = [("addr", addr)] + ([("orcpt", orcpt)] if orcpt else []) + \
            ([("notify", notify)] if notify else [])
        out += rec(b"R", encode(pairs))
    out += rec(b"H", header) + rec(b"B", body)
    return out + rec(b"E", crc32c(out).to_bytes(4, "big"))
