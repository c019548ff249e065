"""make install / make uninstall: the staged layout (DESTDIR) with owners
and modes, the refusal to replace another MTA's sendmail without FORCE=1
and its restoration, and - only when CI=true or TERN_SYSTEM_TESTS=1, since
it changes the machine - a real installation that delivers mail."""
import grp
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from tern_instance import BUILD, ROOT, wait_until


def make(*args, check=True):
    r = subprocess.run(["make", "-s", "-C", ROOT, "BUILD=%s" % BUILD] + list(args),
                       capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError("make %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def owner(path):
    st = os.lstat(path)
    return (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
            stat.S_IMODE(st.st_mode))


class StagedInstallTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="tern-destdir-")

    def tearDown(self):
        shutil.rmtree(self.dest, ignore_errors=True)

    def p(self, path):
        return self.dest + path

    def test_prefix_sets_the_directories(self):
        """Another PREFIX: the installed main.cf names its libexec and the
        webmail's folder under it (where make install put them)."""
        make("install", "DESTDIR=" + self.dest, "PREFIX=/opt/tern")
        with open(self.p("/etc/tern/main.cf")) as f:
            cf = f.read()
        self.assertIn("daemon_directory = /opt/tern/libexec/tern", cf)
        self.assertIn("http_static_directory = /opt/tern/share/tern/web", cf)
        self.assertTrue(os.path.isfile(self.p("/opt/tern/share/tern/web/index.html")))

    def test_layout_owners_and_modes(self):
        make("install", "DESTDIR=" + self.dest)
        want = {
            "/usr/local/sbin/tern": ("root", "root", 0o755),
            "/usr/local/sbin/sendmail": ("root", "root", 0o755),
            "/usr/local/sbin/postdrop": ("root", "ternrop", 0o2755),
            "/usr/local/libexec/tern/master": ("root", "root", 0o755),
            "/usr/local/libexec/tern/pickup": ("root", "root", 0o755),
            "/usr/local/libexec/tern/cleanup": ("root", "root", 0o755),
            "/etc/tern/main.cf": ("root", "root", 0o644),
            "/etc/tern/master.cf": ("root", "root", 0o644),
            "/var/spool/tern": ("root", "root", 0o755),
            "/var/spool/tern/maildrop": ("tern", "ternrop", 0o1730),
            "/var/spool/tern/incoming": ("tern", "tern", 0o700),
            "/var/spool/tern/active": ("tern", "tern", 0o700),
            "/var/spool/tern/deferred": ("tern", "tern", 0o700),
            "/var/spool/tern/private": ("tern", "tern", 0o700),
            "/var/spool/tern/public": ("tern", "tern", 0o711),
            "/var/spool/tern/recycle": ("tern", "tern", 0o700),
            "/var/spool/tern/pid": ("root", "root", 0o755),
            "/usr/local/share/man/man1/sendmail.1": ("root", "root", 0o644),
            "/usr/local/share/man/man1/postdrop.1": ("root", "root", 0o644),
            "/usr/local/share/man/man8/pickup.8": ("root", "root", 0o644),
            "/usr/local/lib/systemd/system/tern.service": ("root", "root", 0o644),
            "/usr/local/lib/systemd/system/tern-daily.service": ("root", "root", 0o644),
            "/usr/local/lib/systemd/system/tern-daily.timer": ("root", "root", 0o644),
            "/usr/local/share/tern/web/index.html": ("root", "root", 0o644),
        }
        # Every page of man/ is installed, in the section its name says.
        pages = os.listdir(os.path.join(ROOT, "man"))
        self.assertIn("newaliases.1", pages)
        self.assertIn("aliases.5", pages)
        for page in pages:
            want["/usr/local/share/man/man%s/%s" % (page[-1], page)] = ("root", "root", 0o644)
        for path, w in want.items():
            self.assertEqual(owner(self.p(path)), w, path)
        for link in ("/usr/sbin/sendmail", "/usr/bin/mailq", "/usr/bin/newaliases"):
            self.assertEqual(os.readlink(self.p(link)), "/usr/local/sbin/sendmail")
        with open(self.p("/usr/local/lib/systemd/system/tern.service")) as f:
            unit = f.read()
        self.assertIn("Type=forking", unit)
        self.assertIn("PIDFile=/var/spool/tern/pid/master.pid", unit)
        self.assertIn("ExecReload=/usr/local/sbin/tern -c /etc/tern reload", unit)
        # The daily jobs (ACME renewal, TLS-RPT and DMARC reports) have a timer.
        with open(self.p("/usr/local/lib/systemd/system/tern-daily.service")) as f:
            daily = f.read()
        for job in ("cert renew", "tlsrpt report", "dmarc report"):
            self.assertIn("ExecStart=-/usr/local/sbin/tern -c /etc/tern %s\n" % job, daily)
        with open(self.p("/usr/local/lib/systemd/system/tern-daily.timer")) as f:
            self.assertIn("OnCalendar=*-*-* 00:20:00 UTC", f.read())
        with open(self.p("/etc/tern/main.cf")) as f:
            cf = f.read()
        self.assertIn("daemon_directory = /usr/local/libexec/tern", cf)
        self.assertIn("command_directory = /usr/local/sbin", cf)
        self.assertIn("http_static_directory = /usr/local/share/tern/web", cf)
        # Every daemon the Makefile builds, every man page of man/.
        for d in os.listdir(os.path.join(BUILD, "libexec")):
            self.assertTrue(os.path.isfile(self.p("/usr/local/libexec/tern/" + d)), d)
        for m in os.listdir(os.path.join(ROOT, "man")):
            self.assertTrue(os.path.isfile(self.p("/usr/local/share/man/man%s/%s"
                                                  % (m.rsplit(".", 1)[1], m))), m)
        # The webmail as make all built it (http_static_directory's default).
        for dirpath, _, files in os.walk(os.path.join(BUILD, "web")):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), os.path.join(BUILD, "web"))
                self.assertTrue(os.path.isfile(self.p("/usr/local/share/tern/web/" + rel)), rel)
        # The master.cf every "tern init" instance gets, listening on
        # loopback: the outbound services too, or mail to the world waits
        # with "mail transport unavailable"; showq answers mailq for users
        # who cannot read the queue; quota-status (local) answers smtpd's
        # check_policy_service about full mailboxes.
        with open(self.p("/etc/tern/master.cf")) as f:
            services = {line.split()[0]: line.split()[-1] for line in f
                        if line.strip() and not line[0] in "# \t"}
        self.assertEqual(services, {"127.0.0.1:smtp": "smtpd", "cleanup": "cleanup",
                                    "qmgr": "qmgr", "local": "local", "pickup": "pickup",
                                    "smtp": "smtp", "relay": "smtp", "error": "smtp",
                                    "discard": "smtp", "auth": "auth", "showq": "showq",
                                    "quota-status": "quota-status"})

        # A second install keeps the operator's configuration.
        with open(self.p("/etc/tern/main.cf"), "a") as f:
            f.write("# mine\n")
        r = make("install", "DESTDIR=" + self.dest)
        self.assertIn("exists: kept", r.stdout)
        with open(self.p("/etc/tern/main.cf")) as f:
            self.assertTrue(f.read().endswith("# mine\n"))

        make("uninstall", "DESTDIR=" + self.dest)
        for path in ("/usr/local/sbin/tern", "/usr/local/sbin/postdrop", "/usr/sbin/sendmail",
                     "/usr/local/libexec/tern/master", "/usr/local/share/man/man8/pickup.8",
                     "/usr/local/lib/systemd/system/tern.service",
                     "/usr/local/lib/systemd/system/tern-daily.timer",
                     "/usr/local/share/tern/web"):
            self.assertFalse(os.path.lexists(self.p(path)), path)
        self.assertTrue(os.path.exists(self.p("/etc/tern/main.cf")))
        make("uninstall", "DESTDIR=" + self.dest, "PURGE=1")
        self.assertFalse(os.path.exists(self.p("/etc/tern")))
        self.assertFalse(os.path.exists(self.p("/var/spool/tern")))

    def test_other_mta_needs_force_and_is_restored(self):
        os.makedirs(self.p("/usr/sbin"))
        with open(self.p("/usr/sbin/sendmail"), "w") as f:
            f.write("#!/bin/sh\necho another MTA\n")
        r = make("install", "DESTDIR=" + self.dest, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("belongs to another mail system", r.stderr)
        self.assertIn("FORCE=1", r.stderr)
        self.assertFalse(os.path.exists(self.p("/usr/local/sbin/tern")))
        make("install", "DESTDIR=" + self.dest, "FORCE=1")
        self.assertEqual(os.readlink(self.p("/usr/sbin/sendmail")), "/usr/local/sbin/sendmail")
        make("uninstall", "DESTDIR=" + self.dest)
        with open(self.p("/usr/sbin/sendmail")) as f:
            self.assertEqual(f.read(), "#!/bin/sh\necho another MTA\n")


def digest(path):
    if not os.path.lexists(path):
        return None
    if os.path.islink(path):
        return "link:" + os.readlink(path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@unittest.skipUnless(os.environ.get("CI") == "true" or os.environ.get("TERN_SYSTEM_TESTS") == "1",
                     "changes the system: runs only with CI=true or TERN_SYSTEM_TESTS=1")
class SystemInstallTest(unittest.TestCase):
    COMPAT = ("/usr/sbin/sendmail", "/usr/bin/mailq", "/usr/bin/newaliases")

    def test_install_send_uninstall(self):
        for path in ("/etc/tern", "/var/spool/tern", "/usr/local/sbin/tern"):
            if os.path.exists(path):
                self.skipTest("%s exists: tern is installed here already" % path)
        before = {p: digest(p) for p in self.COMPAT}
        # Debian's postfix package may be installed (test dependency of other
        # parts): then its sendmail is moved aside and must come back.
        make("install", "FORCE=1")
        try:
            subprocess.run(["/usr/local/sbin/tern", "start"], check=True, timeout=60)
            r = subprocess.run(["/usr/sbin/sendmail", "root"], input=b"Subject: system\n\nhi\n",
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)

            def log():
                try:
                    with open("/var/log/tern.log", errors="replace") as f:
                        return f.read()
                except OSError:
                    return ""
            wait_until(lambda: "uid=0 from=<root>" in log(), 30, what="pickup\n" + log())
            wait_until(lambda: "status=sent" in log(), 60, what="delivery to root\n" + log())
        finally:
            subprocess.run(["/usr/local/sbin/tern", "stop"], timeout=60)
            make("uninstall", "PURGE=1")
            if os.path.exists("/var/log/tern.log"):
                os.unlink("/var/log/tern.log")
        self.assertEqual({p: digest(p) for p in self.COMPAT}, before)
        self.assertFalse(os.path.exists("/usr/local/sbin/tern"))


if __name__ == "__main__":
    unittest.main()
