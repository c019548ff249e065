/*
 * postdrop - the only writer of maildrop/: turns a local submission stream
 * from sendmail into a complete maildrop file, then wakes pickup.
 *
 *   postdrop [-c config_dir] [-v]  < record stream (lib/maildrop.h)
 *
 * Installed setgid setgid_group (ternrop), so that users need no write
 * access to the queue: maildrop/ is mode 1730, owner mail_owner, group
 * ternrop, and nothing else in the queue is reachable for them.
 *
 * Trust: the caller controls standard input, the environment and the
 * arguments.  Every record is checked (md_check) before it is written; the
 * submitter's identity is getuid(), never anything from the input; and
 * while privileged, a configuration directory is only used when it and its
 * main.cf belong to root and are writable by nobody else, so a user cannot
 * point postdrop at a queue_directory of their choosing.
 *
 * Durability: the file is an O_TMPFILE inode (or, where unsupported, a
 * ".tmp.*" name that pickup ignores) until it is complete and fsync'ed;
 * then it is linked as maildrop/QID and the new name is made durable.  Only
 * then does postdrop exit 0, which is what lets sendmail exit 0.  Any
 * error before that leaves nothing behind.  The group may write maildrop/
 * but not read it (so users cannot list others' submissions), and a
 * directory must be opened for reading to be fsync'ed; so the name is made
 * durable with syncfs() on the file instead, which commits the file
 * system's metadata, the new directory entry included.
 *
 * Exit status (sysexits.h): 0; EX_USAGE; EX_DATAERR for a malformed stream
 * or a message over message_size_limit; EX_CONFIG; EX_TEMPFAIL when the
 * file cannot be written; EX_NOPERM for an untrusted configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "maildrop.h"
#include "proto.h"
#include "qid.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

#define PD_READ_CHUNK 65536
#define PD_WRITE_CHUNK (256 * 1024)

struct pd_file {
	int dirfd;
	int fd;
	char qid[QID_LEN + 1];
	char tmpname[QID_LEN + 8]; /* fallback name, "" with O_TMPFILE */
	struct buf out;		   /* not yet written */
};

static struct pd_file pd;

#ifdef __SANITIZE_ADDRESS__
/* Test builds: LeakSanitizer ptraces the process at exit, which a
 * set-group-ID process does not allow; it would turn exit 0 into 1. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
#endif

static void pd_cleanup(void)
{
	if (pd.tmpname[0] && pd.dirfd >= 0)
		unlinkat(pd.dirfd, pd.tmpname, 0);
	pd.tmpname[0] = 0;
}

static void __attribute__((noreturn)) pd_fail(int code, const char *fmt, ...)
{
	va_list ap;

	pd_cleanup();
	fputs("postdrop: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void pd_on_signal(int signo)
{
	/* unlinkat is async-signal-safe; the name must not outlive us. */
	if (pd.tmpname[0] && pd.dirfd >= 0)
		unlinkat(pd.dirfd, pd.tmpname, 0);
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Root-owned and writable by root alone. */
static bool pd_trusted_path(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* Loads main.cf, refusing a directory the caller could have forged. */
static void pd_config(const char *dir)
{
	bool privileged = getegid() != getgid() || geteuid() != getuid();
	struct buf err = BUF_INIT;
	char real[PATH_MAX];

	if (dir == NULL)
		dir = getenv("TERN_CONFIG");
	if (dir == NULL)
		dir = TERN_DEFAULT_CONFIG_DIR;
	if (privileged && getuid() != 0) {
		char *cf = xasprintf("%s/main.cf", dir);

		if (realpath(dir, real) == NULL || !pd_trusted_path(real) || !pd_trusted_path(cf))
			pd_fail(EX_NOPERM,
			    "untrusted configuration directory %s: it and its "
			    "main.cf must belong to root and be writable by root only",
			    dir);
		free(cf);
		dir = real;
	}
	if (config_load(dir, false, &err) < 0)
		pd_fail(EX_CONFIG, "%s", buf_cstr(&err));
	buf_free(&err);
}

static void pd_create(void)
{
	struct buf path = BUF_INIT;

	queue_path(&path, QUEUE_MAILDROP, NULL);
	/* O_PATH: the group has write and search permission, not read. */
	pd.dirfd = open(path.data, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pd.dirfd < 0)
		pd_fail(EX_TEMPFAIL, "open %s: %s", path.data, strerror(errno));
	buf_free(&path);
	qid_new(pd.qid);
	/* 0444: pickup (mail_owner) must read it; nobody rewrites it. */
	pd.fd = openat(pd.dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (pd.fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(pd.tmpname, sizeof(pd.tmpname), ".tmp.%s", pd.qid);
		pd.fd = openat(pd.dirfd, pd.tmpname,
		    O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (pd.fd < 0)
			pd.tmpname[0] = 0;
	}
	if (pd.fd < 0)
		pd_fail(EX_TEMPFAIL, "create a file in %s: %s", QUEUE_MAILDROP, strerror(errno));
}

static void pd_flush(bool all)
{
	size_t off = 0;

	if (!all && pd.out.len < PD_WRITE_CHUNK)
		return;
	while (off < pd.out.len) {
		ssize_t n = write(pd.fd, pd.out.data + off, pd.out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			pd_fail(EX_TEMPFAIL, "write maildrop file: %s", strerror(errno));
		off += (size_t)n;
	}
	buf_reset(&pd.out);
}

/* Re-encodes a checked record; the begin record gets uid and time. */
static void pd_put_record(const struct ipc_msg *m, bool first)
{
	for (size_t i = 0; i < m->count; i++)
		ipc_put(&pd.out, m->attrs[i].name, m->attrs[i].value, m->attrs[i].len);
	if (first) {
		ipc_put_int(&pd.out, A_UID, (long long)getuid());
		ipc_put_int(&pd.out, A_TIME, now_usec());
	}
	ipc_end(&pd.out);
	pd_flush(false);
}

/* Reads, checks and writes the whole stream. */
static void pd_copy(void)
{
	struct buf in = BUF_INIT;
	struct ipc_msg m;
	struct md_check chk;
	long long limit = config_size("message_size_limit");
	bool first = true, eof = false;

	ipc_msg_init(&m);
	md_check_init(&chk, MD_FROM_CLIENT);
	while (!eof) {
		ssize_t n;
		size_t used;
		const char *why = NULL, *bad;
		enum ipc_result r;

		buf_reserve(&in, PD_READ_CHUNK);
		n = read(0, buf_tail(&in), PD_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			pd_fail(EX_TEMPFAIL, "read input: %s", strerror(errno));
		eof = n == 0;
		buf_commit(&in, (size_t)n);
		while ((r = ipc_parse(in.data, in.len, MD_MAX_RECORD, &m, &used, &why)) == IPC_OK) {
			if ((bad = md_check(&chk, &m)) != NULL)
				pd_fail(EX_DATAERR, "malformed input: %s", bad);
			if (limit > 0 && chk.size > limit)
				pd_fail(EX_DATAERR,
				    "message too large (message_size_limit is %lld bytes)", limit);
			pd_put_record(&m, first);
			first = false;
			buf_consume(&in, used);
		}
		if (r == IPC_ERROR)
			pd_fail(EX_DATAERR, "malformed input: %s", why ? why : "bad record");
	}
	if (in.len > 0 || !md_complete(&chk))
		pd_fail(EX_DATAERR, "malformed input: %s",
		    in.len ? "truncated record" : "no end record");
	ipc_msg_free(&m);
	buf_free(&in);
}

/* Makes the complete file visible under its queue ID, durably. */
static void pd_commit(void)
{
	char path[64];
	int r;

	pd_flush(true);
	if (fsync(pd.fd) < 0)
		pd_fail(EX_TEMPFAIL, "fsync maildrop file: %s", strerror(errno));
	if (pd.tmpname[0]) {
		r = linkat(pd.dirfd, pd.tmpname, pd.dirfd, pd.qid, 0);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pd.fd);
		r = linkat(AT_FDCWD, path, pd.dirfd, pd.qid, AT_SYMLINK_FOLLOW);
	}
	if (r < 0)
		pd_fail(EX_TEMPFAIL, "link maildrop/%s: %s", pd.qid, strerror(errno));
	pd_cleanup();
	if (syncfs(pd.fd) < 0) {
		unlinkat(pd.dirfd, pd.qid, 0);
		pd_fail(EX_TEMPFAIL, "sync %s: %s", QUEUE_MAILDROP, strerror(errno));
	}
	close(pd.fd);
}

/* Best effort: pickup's periodic scan finds the file anyway. */
static void pd_wake_pickup(void)
{
	struct buf path = BUF_INIT;
	struct ipc_conn c;
	int fd;

	queue_socket_path(&path, false, SERVICE_PICKUP);
	fd = sock_unix_connect(path.data, true);
	buf_free(&path);
	if (fd < 0)
		return;
	ipc_conn_init(&c, fd);
	ipc_put_str(&c.out, A_OP, OP_WAKEUP);
	ipc_end(&c.out);
	(void)ipc_conn_flush(&c);
	ipc_conn_close(&c);
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int c;

	pd.dirfd = pd.fd = -1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, pd_on_signal);
	signal(SIGTERM, pd_on_signal);
	signal(SIGHUP, pd_on_signal);
	umask(022);
	while ((c = getopt(argc, argv, "c:v")) != -1) {
		switch (c) {
		case 'c': dir = optarg; break;
		case 'v': break;
		default: fprintf(stderr, "usage: postdrop [-c config_dir] [-v]\n"); return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: postdrop [-c config_dir] [-v]\n");
		return EX_USAGE;
	}
	pd_config(dir);
	pd_create();
	pd_copy();
	pd_commit();
	pd_wake_pickup();
	return 0;
}
