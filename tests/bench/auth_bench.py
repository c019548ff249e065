"""The AUTH phase of make bench: how fast the auth service
verifies passwords against the machine's own crypt(3) speed, and SMTP
AUTH logins per second through smtpd.

- raw crypt: the default scheme's hash (yescrypt, as "tern user add" makes
  it, same cost) computed by crypt_r(3) in as many processes as auth has
  worker threads, for a few seconds: hashes/s, the ceiling;
- auth verify: "verify" requests on private/auth, kept 4 per worker in
  flight, cache off, no failure delay: verifications/s, their ratio to the
  ceiling, and auth's CPU per verification against one hash's CPU;
- SMTP AUTH: 16 client threads doing connect, EHLO, AUTH PLAIN, QUIT on
  smtpd's plain port (smtpd_tls_auth_only = no, so TLS handshakes do not
  dominate): logins/s.
- Postfix + Dovecot SASL, same run, same client: a private Dovecot that
  runs only its auth service (passdb passwd-file over a copy of tern's
  etc/users, so both check the very same yescrypt hash; Dovecot's
  defaults otherwise, its auth cache off as tern's is) and a private
  Postfix (tests/e2e/smtp_util.PostfixInstance) with
  smtpd_sasl_type = dovecot on that socket: logins/s and the ratio
  tern / Postfix.  CPU is summed over tern's cgroup and over Postfix's
  and Dovecot's processes (found by their folders in /proc).
"""
import ctypes
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from auth_util import AuthSocket, b64  # noqa: E402
from smtp_util import PostfixInstance  # noqa: E402
from tern_instance import stop_process  # noqa: E402

USER, PW = "bench@bench.test", "a bench password"
SECS = 5.0
SMTP_THREADS = 16


def _crypt_loop(setting, secs, q):
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_r.restype = ctypes.c_char_p
    data = ctypes.create_string_buffer(32768 + 512)
    n, end = 0, time.monotonic() + secs
    cpu0 = time.process_time()
    while time.monotonic() < end:
        lib.crypt_r(PW.encode(), setting.encode(), data)
        n += 1
    q.put((n, time.process_time() - cpu0))


def crypt_rate(setting, procs, secs):
    """(hashes/s, CPU ms per hash) of crypt_r(3) with this setting in procs processes."""
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=_crypt_loop, args=(setting, secs, q))
          for _ in range(procs)]
    t0 = time.monotonic()
    for p in ps:
        p.start()
    got = [q.get() for _ in ps]
    for p in ps:
        p.join()
    n, cpu = sum(g[0] for g in got), sum(g[1] for g in got)
    return n / (time.monotonic() - t0), cpu * 1000 / max(1, n)


def verify_rate(sock_path, inflight, secs):
    """Completed verify requests per second, inflight of them at a time."""
    a = AuthSocket(sock_path, timeout=60)
    ok = bad = 0
    end = time.monotonic() + secs
    t0 = time.monotonic()
    for _ in range(inflight):
        a.request("verify", service="imap", user=USER, secret=PW, client_addr="127.0.0.1")
    outstanding = inflight
    while outstanding:
        r = a.reply()
        outstanding -= 1
        if r.get("status") == "ok":
            ok += 1
        else:
            bad += 1
        if time.monotonic() < end:
            a.request("verify", service="imap", user=USER, secret=PW, client_addr="127.0.0.1")
            outstanding += 1
    took = time.monotonic() - t0
    a.close()
    return ok / took, bad


def _smtp_login(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3])
    try:
        reply()
        s.sendall(b"EHLO bench.test\r\n")
        reply()
        s.sendall(("AUTH PLAIN %s\r\n" % b64("\0%s\0%s" % (USER, PW))).encode())
        code = reply()
        s.sendall(b"QUIT\r\n")
        reply()
        return code
    finally:
        f.close()
        s.close()


def smtp_rate(port, threads, secs):
    counts = [0] * threads
    fails = [0] * threads
    end = time.monotonic() + secs

    def loop(i):
        while time.monotonic() < end:
            if _smtp_login(port) == 235:
                counts[i] += 1
            else:
                fails[i] += 1

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(fails)


class DovecotAuth:
    """Dovecot's auth service alone, in its own folder, on one unix socket
    (for Postfix's smtpd_sasl_type = dovecot); passdb: the passwd-file."""

    def __init__(self, tmp, users_file, wait_until, preexec):
        self.dir = os.path.join(tmp, "dovecot-auth")
        os.makedirs(os.path.join(self.dir, "state"))
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "auth-postfix")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""
protocols = none
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {sock} {{
    mode = 0666
  }}
}}
""".format(d=self.dir, users=users_file, sock=self.socket))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf], preexec_fn=preexec,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, 20)
        if not os.path.exists(self.socket):
            raise RuntimeError("dovecot did not start: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc, 15)


def postfix_phase(tmp, users_file, group_cls, raw, wait_until, port_open):
    """SMTP AUTH logins/s of a private Postfix with Dovecot SASL, both in
    one cgroup; (logins/s, CPU ms per login, None without a cgroup) or
    None."""
    dov = pf = None
    group = group_cls("auth-postfix")
    try:
        dov = DovecotAuth(tmp, users_file, wait_until, group.preexec)
        pf = PostfixInstance("bench.test", main_cf={
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": dov.socket,
            "smtpd_tls_auth_only": "no",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "smtpd_client_auth_rate_limit": "0",
        })
        r = subprocess.run(["postfix", "-c", pf.etc, "start"], preexec_fn=group.preexec,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("postfix start: %s%s" % (r.stdout, r.stderr))
        pf.started = True
        if not wait_until(lambda: port_open(pf.port), 30):
            raise RuntimeError("postfix smtpd did not listen")
        if _smtp_login(pf.port) != 235:
            raw("auth postfix FAILED a login was refused: %s %s" % (pf.log()[-1000:], dov.log()))
            return None
        cpu0 = group.cpu_seconds()
        rate, fails = smtp_rate(pf.port, SMTP_THREADS, SECS)
        cpu_ms = None
        if group.path:
            cpu_ms = (group.cpu_seconds() - cpu0) * 1000 / max(1, rate * SECS)
        raw("auth smtp mta=postfix+dovecot threads=%d logins_per_s=%.1f failed=%d "
            "cpu_ms_per_login=%s" % (SMTP_THREADS, rate, fails,
                                     "%.2f" % cpu_ms if cpu_ms is not None else "n/a"))
        return rate, cpu_ms
    except (RuntimeError, AssertionError, OSError) as e:
        raw("auth postfix FAILED %s" % e)
        return None
    finally:
        if pf is not None:
            pf.cleanup()
        if dov is not None:
            dov.stop()
        group.kill_rest()


def auth_phase(tern_bin, tmp, group_cls, raw, run, free_port, wait_until, port_open):
    """Runs the phase; returns a dict for the summary (or None on failure)."""
    d = os.path.join(tmp, "tern-auth")
    port = free_port()
    r = run([tern_bin, "init", d, "--smtp", "127.0.0.1:%d" % port, "--submission",
             "127.0.0.1:%d" % free_port(), "--domain", "bench.test"])
    if r.returncode != 0:
        raw("auth FAILED tern init: %s" % r.stderr)
        return None
    workers = os.cpu_count() or 1
    with open(os.path.join(d, "etc", "main.cf"), "a") as f:
        f.write("\n# added by make bench (AUTH)\nsmtpd_sasl_auth_enable = yes\n"
                "smtpd_tls_auth_only = no\nauth_cache_ttl = 0\nauth_failure_delay = 0\n"
                "auth_failure_limit = 0\nauth_worker_count = %d\n"
                "smtpd_client_connection_count_limit = 0\n" % workers)
    r = run([tern_bin, "-c", d, "user", "add", USER, "--stdin"], input=PW + "\n")
    if r.returncode != 0:
        raw("auth FAILED tern user add: %s" % r.stderr)
        return None
    with open(os.path.join(d, "etc", "users")) as f:
        stored = [l for l in f if l.startswith(USER + ":")][0].split(":")[1]
    setting = stored[len("{CRYPT}"):] if stored.startswith("{CRYPT}") else stored
    group = group_cls("auth")
    out = {}
    try:
        r = run([tern_bin, "-c", d, "start"], preexec_fn=group.preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(port), 20):
            raw("auth FAILED tern start: %s%s" % (r.stdout, r.stderr))
            return None
        sock = os.path.join(d, "queue", "private", "auth")
        wait_until(lambda: os.path.exists(sock), 10)
        out["crypt1"], out["crypt_cpu_ms"] = crypt_rate(setting, 1, SECS)
        out["crypt"], _ = crypt_rate(setting, workers, SECS)
        raw("auth crypt scheme=%s procs=1 hashes_per_s=%.1f cpu_ms_per_hash=%.2f procs=%d "
            "hashes_per_s=%.1f" % (setting[:4], out["crypt1"], out["crypt_cpu_ms"], workers,
                                   out["crypt"]))
        cpu0 = group.cpu_seconds()
        out["verify"], bad = verify_rate(sock, 4 * workers, SECS)
        cpu = group.cpu_seconds() - cpu0
        out["verify_cpu_ms"] = cpu * 1000 / max(1, out["verify"] * SECS)
        raw("auth verify workers=%d inflight=%d per_s=%.1f failed=%d cpu_ms_per_verify=%.2f "
            "ratio_to_crypt=%.2f" % (workers, 4 * workers, out["verify"], bad,
                                     out["verify_cpu_ms"], out["verify"] / out["crypt"]))
        cpu0 = group.cpu_seconds()
        out["smtp"], fails = smtp_rate(port, SMTP_THREADS, SECS)
        out["smtp_cpu_ms"] = (group.cpu_seconds() - cpu0) * 1000 / max(1, out["smtp"] * SECS)
        raw("auth smtp threads=%d logins_per_s=%.1f failed=%d cpu_ms_per_login=%.2f" % (
            SMTP_THREADS, out["smtp"], fails, out["smtp_cpu_ms"]))
    finally:
        run([tern_bin, "-c", d, "stop"], timeout=60)
        group.kill_rest()
    # The same hashes, now checked by Dovecot for Postfix.
    users = os.path.join(tmp, "users.dovecot")
    shutil.copy(os.path.join(d, "etc", "users"), users)
    os.chmod(users, 0o644)
    run(["rm", "-rf", d])
    pf = postfix_phase(tmp, users, group_cls, raw, wait_until, port_open)
    if pf is not None and pf[0] > 0:
        out["pf_smtp"], out["pf_smtp_cpu_ms"] = pf
        raw("auth smtp ratio tern/postfix+dovecot logins_per_s=%.2f cpu_ms_per_login=%s "
            "loadavg=%s" % (out["smtp"] / pf[0],
                            "%.2f" % (out["smtp_cpu_ms"] / pf[1]) if pf[1] else "n/a",
                            " ".join("%.2f" % x for x in os.getloadavg())))
    return out


def summarize_auth(out):
    if not out:
        return
    print("AUTH (default scheme yescrypt, cache off):")
    print("  crypt(3) on this machine: %.1f hashes/s in 1 process (%.2f CPU ms each), %.1f/s "
          "in %d processes" % (out["crypt1"], out["crypt_cpu_ms"], out["crypt"],
                               os.cpu_count() or 1))
    print("  auth verify: %.1f/s = %.2f of the machine's crypt speed; %.2f CPU ms each = "
          "%.2f hashes' CPU" % (out["verify"], out["verify"] / out["crypt"],
                                out["verify_cpu_ms"], out["verify_cpu_ms"] / out["crypt_cpu_ms"]))
    print("  SMTP AUTH PLAIN logins through smtpd: %.1f/s (%.2f CPU ms each, all tern "
          "processes)" % (out["smtp"], out["smtp_cpu_ms"]))
    if "pf_smtp" in out:
        cpu = out["pf_smtp_cpu_ms"]
        print("  Postfix + Dovecot SASL, same client: %.1f/s (%s CPU ms each); tern/Postfix "
              "%.2fx logins/s, %s CPU per login" % (
                  out["pf_smtp"], "%.2f" % cpu if cpu else "n/a", out["smtp"] / out["pf_smtp"],
                  "%.2fx" % (out["smtp_cpu_ms"] / cpu) if cpu else "n/a"))
    else:
        print("  Postfix + Dovecot SASL: FAILED (see the raw lines)")
