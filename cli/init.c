/*
 * init.c - "tern init DIR": a self-contained instance.
 *
 *   DIR/etc/main.cf, master.cf   configuration (loopback listeners)
 *   DIR/etc/virtual_mailbox      texthash: table "user@domain  domain/user/"
 *   DIR/etc/users                the accounts (users(5)), made by "tern user"
 *   DIR/etc/cert.pem, key.pem    a self-signed certificate
 *   DIR/queue/                   queue_directory
 *   DIR/mail/                    virtual_mailbox_base
 *   DIR/log/tern.log             maillog_file
 *   DIR/data/                    data_directory (auth's failure counters)
 *
 * Run as root, it first creates the system accounts tern needs when they
 * are missing: "tern" (mail_owner, runs the unprivileged daemons),
 * "ternrop" (setgid_group of postdrop), "ternmail" (owns the virtual
 * mailboxes, so that a compromised smtpd running as "tern" cannot touch
 * delivered mail) and "ternlogin" (default_login_user: the login
 * processes, which may reach auth's login socket and nothing else).
 * Run as anyone else, the instance runs as that user.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "tern.h"
#include "util.h"

extern char **environ;

struct init_opts {
	const char *dir;
	const char *smtp;
	const char *submission; /* NULL: no submission service */
	const char *smtps;	/* NULL: no smtps service */
	/* Mail access (NULL: none): POP3, pop3s, IMAP, imaps, ManageSieve. */
	const char *pop3, *pop3s, *imap, *imaps, *managesieve;
	/* The web (NULL: none): HTTPS, and plain HTTP for loopback clients. */
	const char *http, *http_plain;
	char **domains; /* "localhost" first */
	size_t ndomains;
	bool print_master_cf;	 /* for make install: print, create nothing */
	bool print_queue_layout; /* the same */
	bool antispam;		 /* --antispam: greylisting, rspamd, examples */
};

static int init_usage(void)
{
	fprintf(stderr, "usage: tern init DIR [--smtp HOST:PORT] [--submission HOST:PORT] "
			"[--smtps HOST:PORT] [--domain NAME]...\n"
			"       [--pop3 [HOST:PORT]] [--pop3s [HOST:PORT]] [--imap [HOST:PORT]] "
			"[--imaps [HOST:PORT]]\n"
			"       [--http [HOST:PORT]] [--http-plain [HOST:PORT]]\n"
			"       [--managesieve [HOST:PORT]] [--antispam]\n"
			"       tern init --print-master-cf [--smtp HOST:PORT] "
			"[--submission HOST:PORT|none] [--smtps HOST:PORT]\n"
			"       tern init --print-queue-layout\n");
	return EX_USAGE;
}

static int init_run(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
		fprintf(stderr, "tern init: cannot run %s: %s\n", argv[0], strerror(errno));
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "tern init: %s failed\n", argv[0]);
		return -1;
	}
	return 0;
}

/* System accounts, created with Debian's own tools so every database agrees. */
static int init_accounts(void)
{
	char *user_tern[] = {"useradd", "--system", "--user-group", "--no-create-home",
	    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
	    "tern mail system", "tern", NULL};
	char *user_mail[] = {"useradd", "--system", "--user-group", "--no-create-home",
	    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
	    "tern virtual mailboxes", "ternmail", NULL};
	char *user_login[] = {"useradd", "--system", "--user-group", "--no-create-home",
	    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
	    "tern login processes", "ternlogin", NULL};
	char *group_drop[] = {"groupadd", "--system", "ternrop", NULL};

	if (getpwnam("tern") == NULL && init_run(user_tern) < 0)
		return -1;
	if (getgrnam("ternrop") == NULL && init_run(group_drop) < 0)
		return -1;
	if (getpwnam("ternmail") == NULL && init_run(user_mail) < 0)
		return -1;
	if (getpwnam("ternlogin") == NULL && init_run(user_login) < 0)
		return -1;
	return 0;
}

static bool valid_domain_arg(const char *d)
{
	if (*d == 0 || strlen(d) > 253)
		return false;
	for (const char *p = d; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return false;
	return true;
}

/*
 * --pop3, --pop3s, --imap, --imaps, --managesieve take an address when the next
 * argument looks like one ("HOST:PORT", "[v6]:PORT"), else the default.
 */
static const char *init_listener(int argc, char **argv, int *i, const char *def)
{
	if (*i + 1 < argc && argv[*i + 1][0] != '-' && strchr(argv[*i + 1], ':') != NULL)
		return argv[++*i];
	return def;
}

static int init_parse(int argc, char **argv, struct init_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->smtp = "127.0.0.1:2525";
	o->submission = "127.0.0.1:2587";
	o->domains = xcalloc((size_t)argc + 2, sizeof(char *));
	o->domains[o->ndomains++] = xstrdup("localhost");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--smtp") == 0 && i + 1 < argc) {
			o->smtp = argv[++i];
		} else if (strcmp(a, "--submission") == 0 && i + 1 < argc) {
			o->submission = strcmp(argv[++i], "none") == 0 ? NULL : argv[i];
		} else if (strcmp(a, "--smtps") == 0 && i + 1 < argc) {
			o->smtps = argv[++i];
		} else if (strcmp(a, "--pop3") == 0) {
			o->pop3 = init_listener(argc, argv, &i, "127.0.0.1:2110");
		} else if (strcmp(a, "--pop3s") == 0) {
			o->pop3s = init_listener(argc, argv, &i, "127.0.0.1:2995");
		} else if (strcmp(a, "--imap") == 0) {
			o->imap = init_listener(argc, argv, &i, "127.0.0.1:2143");
		} else if (strcmp(a, "--imaps") == 0) {
			o->imaps = init_listener(argc, argv, &i, "127.0.0.1:2993");
		} else if (strcmp(a, "--http") == 0) {
			o->http = init_listener(argc, argv, &i, "127.0.0.1:2443");
		} else if (strcmp(a, "--http-plain") == 0) {
			o->http_plain = init_listener(argc, argv, &i, "127.0.0.1:2080");
		} else if (strcmp(a, "--managesieve") == 0) {
			o->managesieve = init_listener(argc, argv, &i, "127.0.0.1:4190");
		} else if (strcmp(a, "--domain") == 0 && i + 1 < argc) {
			if (!valid_domain_arg(argv[++i])) {
				fprintf(stderr, "tern init: bad domain name: %s\n", argv[i]);
				return -1;
			}
			o->domains[o->ndomains] = xstrdup(argv[i]);
			str_lower(o->domains[o->ndomains++]);
		} else if (strcmp(a, "--antispam") == 0) {
			o->antispam = true;
		} else if (strcmp(a, "--print-master-cf") == 0) {
			o->print_master_cf = true;
		} else if (strcmp(a, "--print-queue-layout") == 0) {
			o->print_queue_layout = true;
		} else if (a[0] != '-' && o->dir == NULL) {
			o->dir = a;
		} else {
			return -1;
		}
	}
	if (o->print_master_cf || o->print_queue_layout)
		return o->dir == NULL && !(o->print_master_cf && o->print_queue_layout) ? 0 : -1;
	return o->dir && o->submission ? 0 : -1;
}

/* Where master and the other daemons are, relative to this very program. */
static char *init_daemon_dir(void)
{
	const char *tries[] = {"../libexec/tern", "../libexec", NULL};
	char *self = cli_self_dir();
	char real[PATH_MAX];

	for (int i = 0; tries[i]; i++) {
		char *p = xasprintf("%s/%s/master", self, tries[i]);

		if (access(p, X_OK) == 0 && realpath(p, real) != NULL) {
			free(p);
			free(self);
			*strrchr(real, '/') = 0;
			return xstrdup(real);
		}
		free(p);
	}
	free(self);
	return xstrdup("/usr/local/libexec/tern");
}

/* With root daemons dropping to "tern", every parent must be searchable. */
static int init_check_reach(const char *dir)
{
	char *path = xstrdup(dir);
	char *slash;
	struct stat st;

	while ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = 0;
		if (stat(path, &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
			fprintf(stderr,
			    "tern init: %s is not searchable by other users; the "
			    "unprivileged tern daemons could not reach %s (chmod o+x it)\n",
			    path, dir);
			free(path);
			return -1;
		}
	}
	free(path);
	return 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wx");

	if (f == NULL) {
		fprintf(stderr, "tern init: create %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs(text, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
		fprintf(stderr, "tern init: write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return chmod(path, mode);
}

static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		fprintf(stderr, "tern init: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (chmod(path, mode) < 0 || (geteuid() == 0 && chown(path, uid, gid) < 0)) {
		fprintf(stderr, "tern init: set owner/mode of %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * --antispam (antispam.7): greylisting for clients outside mynetworks,
 * rspamd's milter when rspamd is installed (a dead rspamd lets mail
 * through: milter_default_action = accept), Junk filing (on by default),
 * and the DNSBL and header check lines an operator may turn on.
 */
static void init_antispam(struct buf *b)
{
	buf_puts(b, "\n# Spam defence (tern init --antispam; see antispam(7)).\n"
		    "smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,\n"
		    "    reject_unauth_destination, check_greylist\n"
		    "#   reject_rbl_client zen.spamhaus.org=127.0.0.[2..11],\n"
		    "#   reject_rhsbl_sender dbl.spamhaus.org=127.0.1.[2..99]\n"
		    "smtpd_greylist_delay = 300s\n"
		    "# header_checks = pcre:/etc/tern/header_checks\n"
		    "junk_mail_headers = X-Spam-Flag: YES, X-Spam: Yes\n");
	if (access("/usr/bin/rspamd", X_OK) == 0)
		buf_puts(b,
		    "# rspamd's proxy worker in milter mode (worker-proxy.inc: milter = yes).\n"
		    "smtpd_milters = inet:127.0.0.1:11332\n"
		    "milter_default_action = accept\n");
	else
		buf_puts(b, "# With rspamd installed:\n"
			    "# smtpd_milters = inet:127.0.0.1:11332\n"
			    "# milter_default_action = accept\n");
}

static void init_main_cf_web(struct buf *b, const char *bindir);

static void init_main_cf(struct buf *b, const struct init_opts *o, const char *dir, uid_t vuid,
    gid_t vgid, const char *owner)
{
	char *libexec = init_daemon_dir();
	char *bindir = cli_self_dir();
	char stamp[64];
	time_t now = time(NULL);

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	buf_printf(b,
	    "# tern instance, made by \"tern init\" on %s.\n"
	    "# Parameters have Postfix's names and meanings; see main.cf(5).\n\n",
	    stamp);
	buf_printf(b, "queue_directory = %s/queue\n", dir);
	buf_printf(b, "daemon_directory = %s\n", libexec);
	buf_printf(b, "command_directory = %s\n", bindir);
	buf_printf(b, "maillog_file = %s/log/tern.log\n", dir);
	buf_printf(b, "data_directory = %s/data\n", dir);
	buf_printf(b, "mail_owner = %s\n", owner);
	if (geteuid() != 0)
		buf_printf(b, "setgid_group = %s\n",
		    getgrgid(getegid()) ? getgrgid(getegid())->gr_name : "nogroup");
	buf_puts(b, "\n# Mail for these domains is delivered into Maildirs under mail/.\n"
		    "mydestination =\nvirtual_mailbox_domains =");
	for (size_t i = 0; i < o->ndomains; i++)
		buf_printf(b, "%s%s", i ? ", " : " ", o->domains[i]);
	buf_printf(b, "\nvirtual_mailbox_maps = texthash:%s/etc/virtual_mailbox\n", dir);
	buf_printf(b, "virtual_mailbox_base = %s/mail\n", dir);
	buf_printf(b, "virtual_uid_maps = static:%ld\nvirtual_gid_maps = static:%ld\n", (long)vuid,
	    (long)vgid);
	if (vuid < 100)
		buf_printf(b, "virtual_minimum_uid = %ld\n", (long)vuid);
	/* Postmaster notices go where a mailbox is: postmaster@$myorigin is
	 * the machine's name, which is no domain of the instance. */
	buf_printf(
	    b, "bounce_notice_recipient = postmaster@%s\n", o->domains[o->ndomains > 1 ? 1 : 0]);
	buf_puts(b, "\n# Only this machine may relay.\nmynetworks = 127.0.0.0/8 [::1]/128\n");
	buf_printf(b, "\nsmtpd_tls_cert_file = %s/etc/cert.pem\n", dir);
	buf_printf(b, "smtpd_tls_key_file = %s/etc/key.pem\n", dir);
	init_main_cf_web(b, bindir);
	if (o->antispam)
		init_antispam(b);
	free(libexec);
	free(bindir);
}

/*
 * The webmail's files: an installed tern's share/tern/web beside its
 * bin/, else the build's web/ (build/bin/../web) in a source tree, where
 * the webmail's build writes them.
 */
static void init_main_cf_web(struct buf *b, const char *bindir)
{
	char *share = xasprintf("%s/../share/tern/web", bindir);
	char *top = xasprintf("%s/..", bindir);
	char real[PATH_MAX];
	struct stat st;

	if (stat(share, &st) == 0 && S_ISDIR(st.st_mode) && realpath(share, real) != NULL)
		buf_printf(b,
		    "\n# The webmail's files, served by http(8).\nhttp_static_directory = %s\n",
		    real);
	else if (realpath(top, real) != NULL)
		buf_printf(b,
		    "\n# The webmail's files, served by http(8).\nhttp_static_directory = %s/web\n",
		    real);
	free(share);
	free(top);
}

/*
 * tern's services after the listeners, in master.cf's columns.  procs 0
 * means one process per CPU.  The same table makes the master.cf of every
 * "tern init" instance and the one "make install" installs (through
 * "tern init --print-master-cf").
 */
static const struct {
	const char *name, *private_, *unpriv, *wakeup;
	int procs;
	const char *command;
} init_services[] = {
    {SERVICE_CLEANUP, "-", "-", "-", 0, "cleanup"},
    {SERVICE_QMGR, "-", "-", "-", 1, "qmgr"},
    {SERVICE_LOCAL, "-", "n", "-", 4, "local"},
    {SERVICE_PICKUP, "n", "-", "60", 1, "pickup"},
    {SERVICE_SMTP, "-", "-", "-", 4, "smtp"},
    {SERVICE_RELAY, "-", "-", "-", 2, "smtp"},
    {SERVICE_ERROR, "-", "-", "-", 1, "smtp"},
    {SERVICE_DISCARD, "-", "-", "-", 1, "smtp"},
    /* One auth process: failure counters, tokens and the cache are its state. */
    {SERVICE_AUTH, "-", "n", "-", 1, "auth"},
    /* mailq for every user; started by the first client. */
    {SERVICE_SHOWQ, "n", "-", "-", 1, "showq"},
    /* Dovecot's quota-status for smtpd: "check_policy_service
     * unix:private/quota-status" answers 452 4.2.2 at RCPT for a full
     * mailbox (local(8)); one process per smtpd connection at most. */
    {"quota-status", "-", "n", "-", 0, "local quota-status"},
};

static void init_master_line(struct buf *b, const char *name, const char *type,
    const char *private_, const char *unpriv, const char *wakeup, long procs, const char *cmd)
{
	buf_printf(b, "%-15s %-5s %-7s %-7s n       %-7s %-7ld %s\n", name, type, private_, unpriv,
	    wakeup, procs, cmd);
}

/*
 * IMAP and POP3: one event-driven login process per listener (it serves
 * login_client_limit clients), the implicit-TLS ones with wrapper mode;
 * the root dispatcher postlogin that starts each user's process.
 */
static void init_master_access(struct buf *b, const struct init_opts *o)
{
	const struct {
		const char *addr, *cmd;
		bool tls;
	} ls[] = {
	    {o->imap, "imap-login", false},
	    {o->imaps, "imap-login", true},
	    {o->pop3, "pop3-login", false},
	    {o->pop3s, "pop3-login", true},
	    {o->managesieve, "managesieve-login", false},
	};
	bool any = false;

	/* The web: one event-driven http process per listener, confined like
	 * the login processes; users' jmap processes come from postlogin. */
	if (o->http) {
		init_master_line(b, o->http, "inet", "n", "-", "-", 1, "http");
		any = true;
	}
	if (o->http_plain) {
		init_master_line(b, o->http_plain, "inet", "n", "-", "-", 1, "http");
		buf_puts(b, "  -o http_tls_security_level=none\n");
		any = true;
	}
	for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++) {
		if (ls[i].addr == NULL)
			continue;
		init_master_line(b, ls[i].addr, "inet", "n", "-", "-", 1, ls[i].cmd);
		if (ls[i].tls)
			buf_puts(b, "  -o login_tls_wrappermode=yes\n");
		any = true;
	}
	if (any)
		init_master_line(b, "postlogin", "unix", "-", "n", "-", 1, "postlogin");
}

static void init_master_cf(struct buf *b, const struct init_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	buf_puts(b,
	    "# tern services; see master.cf(5).  maxproc is the number of processes\n"
	    "# tern keeps running for the service.\n"
	    "# service       type  private unpriv  chroot  wakeup  maxproc command + args\n");
	init_master_line(b, o->smtp, "inet", "n", "-", "-", cpus, "smtpd");
	/*
	 * Submission (RFC 6409) and smtps (RFC 8314): TLS and AUTH required.
	 * One process each: every process preforked costs memory (about
	 * 1.5 MiB for an smtpd with its TLS libraries), one event-driven
	 * smtpd serves many clients, and submission is the quieter port.
	 */
	if (o->submission) {
		init_master_line(b, o->submission, "inet", "n", "-", "-", 1, "smtpd");
		buf_puts(b,
		    "  -o syslog_name=tern/submission\n"
		    "  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n"
		    "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n");
	}
	if (o->smtps) {
		init_master_line(b, o->smtps, "inet", "n", "-", "-", 1, "smtpd");
		buf_puts(b, "  -o syslog_name=tern/smtps\n"
			    "  -o smtpd_tls_wrappermode=yes\n  -o smtpd_sasl_auth_enable=yes\n"
			    "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n");
	}
	for (size_t i = 0; i < sizeof(init_services) / sizeof(init_services[0]); i++)
		init_master_line(b, init_services[i].name, "unix", init_services[i].private_,
		    init_services[i].unpriv, init_services[i].wakeup,
		    init_services[i].procs ? init_services[i].procs : cpus,
		    init_services[i].command);
	init_master_access(b, o);
}

/*
 * queue.h's table for scripts/install.sh, one folder a line: name ("."
 * for queue_directory), owner, group, mode; owner and group are "root",
 * "mail_owner" or "setgid_group", which the installer maps to its
 * accounts.
 */
static void init_queue_layout(struct buf *b)
{
	static const char *const owners[][2] = {
	    [QUEUE_OWNER_ROOT] = {"root", "root"},
	    [QUEUE_OWNER_MAIL] = {"mail_owner", "mail_owner"},
	    [QUEUE_OWNER_MAIL_DROP] = {"mail_owner", "setgid_group"},
	};

	buf_printf(b, ". root root %04o\n", (unsigned)QUEUE_TOP_MODE);
	for (const struct queue_dir *d = queue_dirs; d->name; d++)
		buf_printf(b, "%s %s %s %04o\n", d->name, owners[d->owner][0], owners[d->owner][1],
		    (unsigned)d->mode);
}

static void init_virtual_table(struct buf *b, const struct init_opts *o)
{
	buf_puts(b, "# Virtual mailboxes: address, then a path under virtual_mailbox_base.\n"
		    "# A path ending in / is a Maildir.  Changes are picked up automatically.\n");
	for (size_t i = 0; i < o->ndomains; i++)
		buf_printf(b, "postmaster@%s %s/postmaster/\n", o->domains[i], o->domains[i]);
}

/*
 * The accounts file: empty but for its header.  auth reads it as
 * mail_owner, so it is root's with mail_owner's group and no access for
 * others (the hashes invite offline guessing).
 */
static int init_users_file(const char *dir, const char *owner)
{
	struct buf path = BUF_INIT;
	struct passwd *pw = getpwnam(owner);
	int r;

	buf_printf(&path, "%s/etc/users", dir);
	r = write_file(path.data,
	    "# Accounts, in Dovecot's passwd-file format (users(5)):\n"
	    "#   user:{SCHEME}hash:uid:gid::home::extra_fields\n"
	    "# Manage them with \"tern user add|del|passwd|list|quota\" (tern(1)).\n",
	    geteuid() == 0 ? 0640 : 0600);
	if (r == 0 && geteuid() == 0 && pw && chown(path.data, 0, pw->pw_gid) < 0)
		r = -1;
	buf_free(&path);
	return r;
}

static int init_files(
    const struct init_opts *o, const char *dir, uid_t vuid, gid_t vgid, const char *owner)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	char err[256];
	int r = 0;

	init_main_cf(&text, o, dir, vuid, vgid, owner);
	buf_printf(&path, "%s/etc/main.cf", dir);
	r |= write_file(path.data, text.data, 0644);
	buf_reset(&text);
	buf_reset(&path);
	init_master_cf(&text, o);
	buf_printf(&path, "%s/etc/master.cf", dir);
	r |= write_file(path.data, text.data, 0644);
	buf_reset(&text);
	buf_reset(&path);
	init_virtual_table(&text, o);
	buf_printf(&path, "%s/etc/virtual_mailbox", dir);
	r |= write_file(path.data, text.data, 0644);
	r |= init_users_file(dir, owner);
	buf_reset(&path);
	buf_reset(&text);
	buf_printf(&text, "%s/etc/cert.pem", dir);
	buf_printf(&path, "%s/etc/key.pem", dir);
	if (r == 0 && cert_make_self_signed(
			  text.data, path.data, "localhost", o->domains, err, sizeof(err)) < 0) {
		fprintf(stderr, "tern init: certificate: %s\n", err);
		r = -1;
	}
	buf_free(&text);
	buf_free(&path);
	return r;
}

static int init_layout(const struct init_opts *o, const char *dir)
{
	static const char *const sub[] = {"etc", "log"};
	bool root = geteuid() == 0;
	struct passwd *pw = root ? getpwnam("tern") : getpwuid(geteuid());
	char *owner = pw ? xstrdup(pw->pw_name) : NULL;
	uid_t uid = pw ? pw->pw_uid : 0;
	gid_t gid = pw ? pw->pw_gid : 0;
	struct group *gr = root ? getgrnam("ternrop") : getgrgid(getegid());
	gid_t drop = gr ? gr->gr_gid : (gid_t)-1;
	struct passwd *vmail = root ? getpwnam("ternmail") : getpwuid(geteuid());
	struct buf p = BUF_INIT, err = BUF_INIT;
	int r = 0;

	/* getpw*() share one static buffer: the owner's name was copied above. */
	if (owner == NULL || vmail == NULL) {
		fprintf(stderr, "tern init: cannot find the tern accounts\n");
		free(owner);
		return EX_NOUSER;
	}
	for (int i = 0; i < 2 && r == 0; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, sub[i]);
		r = make_dir(p.data, 0755, 0, 0);
	}
	/* The queue as master makes it, so sendmail works before the start. */
	buf_reset(&p);
	buf_printf(&p, "%s/queue", dir);
	if (r == 0 && (r = queue_dirs_create(p.data, root, uid, gid, drop, &err)) < 0)
		fprintf(stderr, "tern init: %s\n", buf_cstr(&err));
	buf_free(&err);
	buf_reset(&p);
	buf_printf(&p, "%s/mail", dir);
	if (r == 0)
		r = make_dir(p.data, 0700, vmail->pw_uid, vmail->pw_gid);
	if (r == 0)
		r = init_files(o, dir, vmail->pw_uid, vmail->pw_gid, owner);
	buf_free(&p);
	free(owner);
	return r == 0 ? 0 : EX_CANTCREAT;
}

int cmd_init(int argc, char **argv)
{
	struct init_opts o;
	char real[PATH_MAX];
	struct buf main_cf = BUF_INIT;
	struct stat st;
	int r;

	if (init_parse(argc, argv, &o) < 0)
		return init_usage();
	if (o.print_master_cf || o.print_queue_layout) {
		if (o.print_master_cf)
			init_master_cf(&main_cf, &o);
		else
			init_queue_layout(&main_cf);
		fputs(buf_cstr(&main_cf), stdout);
		buf_free(&main_cf);
		strv_free(o.domains);
		return fflush(stdout) == 0 ? 0 : EX_IOERR;
	}
	if (mkdir(o.dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "tern init: mkdir %s: %s\n", o.dir, strerror(errno));
		return EX_CANTCREAT;
	}
	if (realpath(o.dir, real) == NULL) {
		fprintf(stderr, "tern init: %s: %s\n", o.dir, strerror(errno));
		return EX_CANTCREAT;
	}
	buf_printf(&main_cf, "%s/etc/main.cf", real);
	if (stat(main_cf.data, &st) == 0) {
		fprintf(stderr, "tern init: %s is already an instance (%s exists)\n", real,
		    main_cf.data);
		return EX_CANTCREAT;
	}
	if (geteuid() == 0 && (init_accounts() < 0 || init_check_reach(real) < 0))
		return EX_CANTCREAT;
	chmod(real, 0755);
	r = init_layout(&o, real);
	if (r == 0)
		printf("tern: instance created in %s\n"
		       "  start it:   tern -c %s start   (or start -f to stay in the foreground)\n"
		       "  SMTP on %s, submission on %s; mail lands in %s/mail/\n",
		    real, real, o.smtp, o.submission, real);
	buf_free(&main_cf);
	strv_free(o.domains);
	return r;
}
