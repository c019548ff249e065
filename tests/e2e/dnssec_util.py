"""A DNSSEC-validating resolver on loopback for the DANE tests: Debian's
unbound, serving zones from files (auth-zone, for-upstream) so that its
validator checks them, with the signed zones' keys as its only trust
anchors.  Every other name is insecure (no root anchor), which is how the
tests get an unsigned zone.

    Unbound({"dane.test": ["mx A 127.0.0.1", "_25._tcp.mx TLSA 3 1 1 ab.."]},
            signed=("dane.test",))

Zones are signed with ldns-signzone (ldnsutils) using fresh ECDSA P-256
keys (a KSK, whose DS is the trust anchor, and a ZSK).  Debian packages:
unbound, ldnsutils (Makefile DEPS_TLSSEC)."""
import hashlib
import os
import shutil
import subprocess

from tern_instance import LoopbackDns


def spki_sha256(certfile):
    """SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA x 1 1)."""
    pub = subprocess.run(["openssl", "x509", "-in", certfile, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_sha256(certfile):
    """SHA-256 of the whole certificate (TLSA x 0 1)."""
    der = subprocess.run(["openssl", "x509", "-in", certfile, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def make_chain(directory, names):
    """A test CA and a server certificate it signed for several DNS names.
    Returns (chainfile: server then CA, keyfile, cafile, leaffile)."""
    def run(*args):
        subprocess.run(list(args), cwd=directory, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "2", "-subj", "/CN=tern test CA", "-keyout", "ca-key.pem",
        "-out", "ca.pem")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=%s" % names[0], "-keyout", "leaf-key.pem", "-out", "leaf.csr")
    with open(os.path.join(directory, "leaf.ext"), "w") as f:
        f.write("subjectAltName=%s\n" % ",".join("DNS:" + n for n in names))
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem")
    p = lambda n: os.path.join(directory, n)
    with open(p("chain.pem"), "w") as out:
        for n in ("leaf.pem", "ca.pem"):
            with open(p(n)) as f:
                out.write(f.read())
    return p("chain.pem"), p("leaf-key.pem"), p("ca.pem"), p("leaf.pem")


class Unbound(LoopbackDns):
    name = "unbound"

    def __init__(self, zones, signed=()):
        super().__init__("tern-unbound-")
        os.chmod(self.dir, 0o755)
        anchors, auth = [], []
        for origin, records in zones.items():
            path = os.path.join(self.dir, origin + ".zone")
            with open(path, "w") as f:
                f.write("$ORIGIN %s.\n$TTL 300\n" % origin)
                f.write("@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n"
                        % (origin, origin))
                f.write("@ IN NS ns.%s.\nns IN A 127.0.0.1\n" % origin)
                for r in records:
                    f.write(r + "\n")
            if origin in signed:
                path, ds = self._sign(origin, path)
                anchors.append(ds)
            auth.append("auth-zone:\n  name: \"%s\"\n  zonefile: \"%s\"\n"
                        "  for-upstream: yes\n  for-downstream: no\n"
                        "  fallback-enabled: no\n" % (origin, path))
        conf = os.path.join(self.dir, "unbound.conf")
        self.logfile = os.path.join(self.dir, "unbound.log")
        with open(conf, "w") as f:
            f.write("server:\n  interface: 127.0.0.1\n  port: %d\n  username: \"\"\n"
                    "  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
                    "  do-daemonize: no\n  use-syslog: no\n  logfile: \"%s\"\n"
                    "  verbosity: 1\n  do-not-query-localhost: no\n"
                    "  module-config: \"validator iterator\"\n"
                    "  access-control: 127.0.0.0/8 allow\n"
                    "  local-zone: \"test.\" nodefault\n"
                    "  num-threads: 1\n" % (self.port, self.dir, self.logfile))
            for a in anchors:
                f.write("  trust-anchor-file: \"%s\"\n" % a)
            f.write("remote-control:\n  control-enable: no\n")
            f.write("".join(auth))
        exe = shutil.which("unbound") or "/usr/sbin/unbound"
        self.run([exe, "-d", "-c", conf], 20)

    def _sign(self, origin, path):
        def keygen(*flags):
            r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256"] + list(flags) + [origin],
                               cwd=self.dir, check=True, capture_output=True, text=True)
            return r.stdout.strip()
        ksk = keygen("-k")
        zsk = keygen()
        subprocess.run(["ldns-signzone", "-n", path, ksk, zsk], cwd=self.dir, check=True,
                       capture_output=True)
        return path + ".signed", os.path.join(self.dir, ksk + ".ds")

    def ready(self):
        with open(self.logfile) as f:
            return "start of service" in f.read()
