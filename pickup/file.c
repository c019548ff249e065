/*
 * file.c - one maildrop file, checked, handed to cleanup, then removed.
 *
 * A maildrop file is hostile (DESIGN.md "Trust boundaries"): any local user
 * chose its content through postdrop.  So before a byte goes to cleanup:
 * the name must be a queue ID, the file a regular file with one link, of
 * bounded size; and every record is checked as postdrop checked it
 * (md_check).  The submitter is the file's owner, which the kernel set
 * when the user ran postdrop; the "uid" recorded inside must agree, so a
 * file claiming someone else's identity goes to corrupt/.
 *
 * The file is streamed to cleanup record by record, never read whole.  If
 * something is wrong halfway, the connection to cleanup is closed before
 * op=end, which abandons the message there, and the file goes to corrupt/.
 * The file is removed only after cleanup answered "ok" - that is, after
 * the queue file is durable - so a crash in between delivers twice at
 * worst, never loses the message.
 */
#include "pickup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "maildrop.h"
#include "proto.h"
#include "qid.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

#define PK_READ_CHUNK 65536
#define PK_SEND_CHUNK (256 * 1024)

struct pk_state {
	const char *name;
	int fd;
	uid_t owner;
	struct buf in;
	struct ipc_msg m;
	struct md_check chk;
	struct ipc_conn c;
	bool connected;
	char *sender;
	const char *why; /* the reason, when corrupt */
};

static int pk_timeout_ms(void)
{
	return (int)config_time("ipc_timeout") * 1000;
}

static void pk_corrupt(int dirfd, const char *name, const char *why)
{
	struct buf to = BUF_INIT;

	/* Only postdrop names files here, but a bad name must not forge log lines. */
	log_qid_warn(qid_valid(name) ? name : "(bad name)", "maildrop file moved to %s: %s",
	    QUEUE_CORRUPT, why);
	queue_path(&to, QUEUE_CORRUPT, name);
	if (renameat(dirfd, name, AT_FDCWD, to.data) < 0) {
		log_error("%s: rename to %s: %s; removing it", name, to.data, strerror(errno));
		unlinkat(dirfd, name, 0);
	}
	buf_free(&to);
}

/* The next record of the file, checked: 1, 0 at a clean end, -1 corrupt. */
static int pk_next(struct pk_state *st)
{
	for (;;) {
		size_t used;
		const char *why = NULL;
		enum ipc_result r =
		    ipc_parse(st->in.data, st->in.len, MD_MAX_RECORD, &st->m, &used, &why);
		ssize_t n;

		if (r == IPC_OK) {
			buf_consume(&st->in, used);
			st->why = md_check(&st->chk, &st->m);
			return st->why ? -1 : 1;
		}
		if (r == IPC_ERROR) {
			st->why = why ? why : "malformed record";
			return -1;
		}
		buf_reserve(&st->in, PK_READ_CHUNK);
		n = read(st->fd, buf_tail(&st->in), PK_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st->why = "read error";
			return -1;
		}
		if (n == 0) {
			st->why = st->in.len ? "truncated record" : "no end record";
			return md_complete(&st->chk) && st->in.len == 0 ? 0 : -1;
		}
		buf_commit(&st->in, (size_t)n);
	}
}

/* The begin record for cleanup: the file's, with the owner's uid. */
static const char *pk_begin(struct pk_state *st)
{
	long long uid;

	if (!ipc_get_int(&st->m, A_UID, &uid) || uid != (long long)st->owner)
		return "recorded uid differs from the file owner";
	for (size_t i = 0; i < st->m.count; i++) {
		const struct ipc_attr *a = &st->m.attrs[i];

		if (strcmp(a->name, A_UID) != 0 && strcmp(a->name, A_TIME) != 0 &&
		    strcmp(a->name, A_REWRITE) != 0)
			ipc_put(&st->c.out, a->name, a->value, a->len);
	}
	ipc_put_int(&st->c.out, A_UID, (long long)st->owner);
	ipc_put_str(&st->c.out, A_PROTOCOL, "local");
	ipc_put_str(&st->c.out, A_REWRITE, "yes");
	ipc_end(&st->c.out);
	st->sender = xstrdup(ipc_get_str(&st->m, A_SENDER));
	return NULL;
}

static int pk_connect(struct pk_state *st)
{
	struct buf path = BUF_INIT;
	int fd;

	queue_socket_path(&path, true, SERVICE_CLEANUP);
	fd = sock_unix_connect(path.data, false);
	if (fd < 0)
		log_debug("%s: cannot connect to cleanup: %s", st->name, strerror(errno));
	buf_free(&path);
	if (fd < 0)
		return -1;
	ipc_conn_init(&st->c, fd);
	st->connected = true;
	return 0;
}

/* Streams the records to cleanup and reads its answer. */
static enum pickup_result pk_stream(struct pk_state *st, int dirfd)
{
	struct ipc_msg reply;
	const char *status, *value;
	int r;

	while ((r = pk_next(st)) == 1) {
		for (size_t i = 0; i < st->m.count; i++)
			ipc_put(&st->c.out, st->m.attrs[i].name, st->m.attrs[i].value,
			    st->m.attrs[i].len);
		ipc_end(&st->c.out);
		if (st->c.out.len >= PK_SEND_CHUNK && ipc_conn_send(&st->c, pk_timeout_ms()) < 0)
			return PICKUP_RETRY;
	}
	if (r < 0) {
		pk_corrupt(dirfd, st->name, st->why);
		return PICKUP_CORRUPT; /* closing abandons the message in cleanup */
	}
	ipc_msg_init(&reply);
	if (ipc_conn_send(&st->c, pk_timeout_ms()) < 0 ||
	    ipc_conn_recv(&st->c, &reply, pk_timeout_ms()) < 0) {
		log_warn("%s: no answer from cleanup: %s", st->name, strerror(errno));
		ipc_msg_free(&reply);
		return PICKUP_RETRY;
	}
	status = ipc_get_str(&reply, A_STATUS);
	if (status && strcmp(status, ST_OK) == 0 && (value = ipc_get_str(&reply, A_QUEUE_ID))) {
		log_qid(value, "uid=%lu from=<%s>", (unsigned long)st->owner, st->sender);
		if (unlinkat(dirfd, st->name, 0) < 0)
			log_error("%s: remove: %s", st->name, strerror(errno));
		ipc_msg_free(&reply);
		return PICKUP_DONE;
	}
	value = ipc_get_str(&reply, A_REASON);
	if (status && strcmp(status, ST_REJECT) == 0) {
		/* Not deliverable as it is; kept for the operator, not lost. */
		pk_corrupt(dirfd, st->name, value ? value : "rejected by cleanup");
		ipc_msg_free(&reply);
		return PICKUP_CORRUPT;
	}
	log_qid_warn(st->name, "deferred by cleanup: %s", value ? value : "no reason");
	ipc_msg_free(&reply);
	return PICKUP_RETRY;
}

/* Name, type, links and size: the checks that need no content. */
static const char *pk_check_stat(const char *name, const struct stat *sb)
{
	long long limit = config_size("message_size_limit");

	if (!qid_valid(name))
		return "not a queue ID";
	if (!S_ISREG(sb->st_mode))
		return "not a regular file";
	if (sb->st_nlink != 1)
		return "more than one link";
	/* The message plus its envelope and the record framing. */
	if (limit > 0 && sb->st_size > limit + limit / 8 + MD_MAX_RECORD)
		return "file too large";
	return NULL;
}

static enum pickup_result pk_run(struct pk_state *st, int dirfd)
{
	struct stat sb;
	const char *why;

	if (fstat(st->fd, &sb) < 0)
		return PICKUP_RETRY;
	st->owner = sb.st_uid;
	if ((why = pk_check_stat(st->name, &sb)) != NULL || pk_next(st) != 1) {
		pk_corrupt(dirfd, st->name, why ? why : st->why);
		return PICKUP_CORRUPT;
	}
	if (pk_connect(st) < 0)
		return PICKUP_RETRY;
	if ((why = pk_begin(st)) != NULL) {
		pk_corrupt(dirfd, st->name, why);
		return PICKUP_CORRUPT;
	}
	return pk_stream(st, dirfd);
}

enum pickup_result pickup_file(int dirfd, const char *name)
{
	struct pk_state st;
	enum pickup_result r;

	memset(&st, 0, sizeof(st));
	st.name = name;
	/* O_NONBLOCK: a FIFO planted here must not hang the daemon. */
	st.fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (st.fd < 0) {
		if (errno == ENOENT)
			return PICKUP_DONE;
		if (errno == ELOOP) {
			pk_corrupt(dirfd, name, "symbolic link");
			return PICKUP_CORRUPT;
		}
		log_warn("%s: open: %s", name, strerror(errno));
		return PICKUP_RETRY;
	}
	ipc_msg_init(&st.m);
	md_check_init(&st.chk, MD_FROM_FILE);
	r = pk_run(&st, dirfd);
	if (st.connected)
		ipc_conn_close(&st.c);
	close(st.fd);
	ipc_msg_free(&st.m);
	buf_free(&st.in);
	free(st.sender);
	return r;
}
