/*
 * queue_admin.c - tern queue delete, hold, release, requeue, flush.
 *
 * What postsuper -d/-h/-H/-r and postqueue -f/-i do, by renames and
 * unlinks of queue files (see queue_cli.h for why that is safe while
 * qmgr runs):
 *   delete   unlink from incoming, active, deferred, hold (or --queue)
 *   hold     incoming/active/deferred -> hold (kept until released)
 *   release  hold -> deferred, retry time now, qmgr told to flush it
 *   requeue  active/deferred/hold -> incoming, qmgr told of it: it is
 *            resolved and scheduled again from scratch (its journal is
 *            kept, so finished recipients stay finished)
 *   flush    retry times of deferred mail set to now, dead destinations
 *            forgotten; needs a running qmgr (private/qmgr)
 * Each takes a queue ID or ALL.  They change the queue, so only root or
 * the owner of the queue may run them.  Every rename that loses a race
 * with qmgr (the file moved on: ENOENT) looks the file up again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "qid.h"
#include "queue.h"
#include "queue_cli.h"
#include "queue_list.h"
#include "sock.h"
#include "util.h"

#define ADMIN_RETRIES 5
#define ADMIN_QMGR_TIMEOUT_MS 10000

enum admin_op { OP_A_DELETE, OP_A_HOLD, OP_A_RELEASE, OP_A_REQUEUE, OP_A_FLUSH };

struct admin_spec {
	const char *name;
	enum admin_op op;
	const char *from[5]; /* queues it takes messages from */
	const char *to;	     /* NULL: delete */
	const char *done;    /* "Deleted", "Placed on hold", ... */
	const char *logged;  /* per message in the mail log, as postsuper: "removed" */
};

static const struct admin_spec admin_specs[] = {
    {"delete", OP_A_DELETE, {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD}, NULL,
	"Deleted", "removed"},
    {"hold", OP_A_HOLD, {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED}, QUEUE_HOLD,
	"Placed on hold", "placed on hold"},
    {"release", OP_A_RELEASE, {QUEUE_HOLD}, QUEUE_DEFERRED, "Released from hold",
	"released from hold"},
    {"requeue", OP_A_REQUEUE, {QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD}, QUEUE_INCOMING,
	"Requeued", "requeued"},
    {"flush", OP_A_FLUSH, {QUEUE_DEFERRED}, NULL, "Flushed", NULL},
};

/* Root, or the user that owns the queue (an instance run by that user). */
static bool admin_may_write(void)
{
	struct buf path = BUF_INIT;
	struct stat st;
	bool ok;

	if (geteuid() == 0)
		return true;
	queue_path(&path, QUEUE_DEFERRED, NULL);
	ok = stat(path.data, &st) == 0 && st.st_uid == geteuid();
	buf_free(&path);
	return ok;
}

/* Tells qmgr something; -1 (errno) when it cannot be reached. */
static int admin_tell_qmgr(const char *op, const char *qid)
{
	struct buf path = BUF_INIT;
	struct ipc_conn c;
	int fd, rc;

	queue_socket_path(&path, true, SERVICE_QMGR);
	fd = sock_unix_connect(path.data, false);
	buf_free(&path);
	if (fd < 0)
		return -1;
	ipc_conn_init(&c, fd);
	ipc_put_str(&c.out, A_OP, op);
	if (qid)
		ipc_put_str(&c.out, A_QUEUE_ID, qid);
	ipc_end(&c.out);
	rc = ipc_conn_send(&c, ADMIN_QMGR_TIMEOUT_MS);
	ipc_conn_close(&c);
	return rc;
}

/* The first queue of from holding qid, or NULL. */
static const char *admin_where(const struct admin_spec *s, const char *qid)
{
	struct buf path = BUF_INIT;
	const char *found = NULL;
	int i;

	for (i = 0; i < 5 && s->from[i] && !found; i++) {
		queue_path(&path, s->from[i], qid);
		if (access(path.data, F_OK) == 0)
			found = s->from[i];
	}
	buf_free(&path);
	return found;
}

/* The retry time (mtime) of queue/qid := now. */
static void admin_touch(const char *queue, const char *qid)
{
	struct buf path = BUF_INIT;

	queue_path(&path, queue, qid);
	if (utimensat(AT_FDCWD, path.data, NULL, 0) < 0 && errno != ENOENT)
		fprintf(stderr, "tern: %s: %s\n", path.data, strerror(errno));
	buf_free(&path);
}

/* Applies s to one message.  1 done, 0 not found, -1 error (reported). */
static int admin_one(const struct admin_spec *s, const char *qid, const char *only)
{
	struct buf path = BUF_INIT;
	const char *from;
	int i, r = 0;

	for (i = 0; i < ADMIN_RETRIES; i++) {
		from = only ? only : admin_where(s, qid);
		if (from == NULL)
			break;
		queue_path(&path, from, qid);
		if (s->op == OP_A_FLUSH) {
			r = access(path.data, F_OK) == 0 ? (admin_touch(from, qid), 1) : 0;
			break;
		}
		r = s->to ? queue_move(qid, from, s->to) : unlink(path.data);
		if (r == 0) {
			r = 1;
			log_qid(qid, "%s", s->logged);
			if (s->op == OP_A_RELEASE || s->op == OP_A_REQUEUE)
				admin_touch(s->to, qid);
			break;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "tern: %s: %s: %s\n", qid, s->name, strerror(errno));
			r = -1;
			break;
		}
		r = 0; /* moved under us (qmgr): look again */
		if (only)
			break;
	}
	buf_free(&path);
	return r;
}

/* Every message of the queues s takes from (or only one queue). */
static int admin_all(const struct admin_spec *s, const char *only, long *count)
{
	const char *one[2] = {only, NULL};
	const char *const *queues = only ? one : s->from;
	char **ids, **id;
	int i, rc = 0, r;

	for (i = 0; i < 5 && queues[i]; i++) {
		ids = queue_list_ids(queues[i]);
		if (ids == NULL) {
			fprintf(stderr, "tern: cannot read the %s queue: %s\n", queues[i],
			    strerror(errno));
			return EX_OSFILE;
		}
		for (id = ids; *id; id++) {
			r = admin_one(s, *id, queues[i]);
			if (r < 0)
				rc = EX_IOERR;
			*count += r > 0;
		}
		strv_free(ids);
	}
	return rc;
}

static const struct admin_spec *admin_spec(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(admin_specs) / sizeof(admin_specs[0]); i++)
		if (strcmp(admin_specs[i].name, name) == 0)
			return &admin_specs[i];
	return NULL;
}

/* Tells qmgr what changed; flush needs it, the others only hurry it. */
static int admin_notify(const struct admin_spec *s, const char *qid, long count)
{
	if (s->op == OP_A_FLUSH || s->op == OP_A_RELEASE) {
		if (admin_tell_qmgr(OP_FLUSH, qid) < 0 && s->op == OP_A_FLUSH) {
			fprintf(stderr,
			    "tern: the mail system is not running "
			    "(cannot reach qmgr: %s)\n",
			    strerror(errno));
			return EX_UNAVAILABLE;
		}
	} else if (s->op == OP_A_REQUEUE && count > 0) {
		admin_tell_qmgr(qid ? OP_NEW : OP_FLUSH, qid);
	}
	return 0;
}

/* Parses "ID|ALL [--queue NAME]"; returns -1 on a usage error. */
static int admin_args(
    const struct admin_spec *s, int argc, char **argv, const char **target, const char **only)
{
	int i;

	*target = NULL;
	*only = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--queue") == 0 && i + 1 < argc && s->op == OP_A_DELETE) {
			*only = argv[++i];
		} else if (*target == NULL && argv[i][0] != '-') {
			*target = argv[i];
		} else {
			return -1;
		}
	}
	if (*target == NULL && s->op != OP_A_FLUSH)
		return -1;
	return 0;
}

static bool admin_queue_ok(const char *q)
{
	int i;

	for (i = 0; queue_list_queues[i]; i++)
		if (strcmp(queue_list_queues[i], q) == 0)
			return true;
	return false;
}

int queue_admin(int argc, char **argv)
{
	const struct admin_spec *s = admin_spec(argv[0]);
	const char *target, *only, *qid = NULL;
	long count = 0;
	int rc = 0, r;

	if (s == NULL || admin_args(s, argc, argv, &target, &only) < 0)
		return -1;
	if (only && !admin_queue_ok(only)) {
		fprintf(stderr, "tern: %s: not a queue name\n", only);
		return EX_USAGE;
	}
	if (target && strcmp(target, "ALL") != 0) {
		if (!qid_valid(target)) {
			fprintf(stderr, "tern: %s: not a queue ID\n", target);
			return EX_USAGE;
		}
		qid = target;
	}
	if (!admin_may_write()) {
		fprintf(stderr,
		    "tern: %s: permission denied: only root or the owner of "
		    "the queue may change it\n",
		    s->name);
		return EX_NOPERM;
	}
	if (s->op == OP_A_FLUSH && qid && queue_list_find(qid) &&
	    strcmp(queue_list_find(qid), QUEUE_HOLD) == 0) {
		fprintf(stderr, "tern: %s: on hold; release it first\n", qid);
		return EX_DATAERR;
	}
	/* What is done to the queue goes to the mail log, as Postfix's
	 * postsuper logs it ("QID: placed on hold", "Deleted: 2 messages"). */
	if (s->op != OP_A_FLUSH) {
		log_set_syslog_name(config_str("syslog_name"));
		log_open_maillog("postsuper", config_str("maillog_file"));
	}
	if (qid) {
		r = admin_one(s, qid, only);
		if (r == 0 && !(s->op == OP_A_FLUSH && queue_list_find(qid))) {
			fprintf(stderr, "tern: %s: no such message%s%s\n", qid, only ? " in " : "",
			    only ? only : "");
			log_open("tern", LOG_DEST_STDERR, NULL);
			return EX_NOINPUT;
		}
		count = r > 0;
		rc = r < 0 ? EX_IOERR : 0;
	} else {
		rc = admin_all(s, only, &count);
	}
	if (s->op != OP_A_FLUSH && count > 0)
		log_info("%s: %ld message%s", s->done, count, count == 1 ? "" : "s");
	log_open("tern", LOG_DEST_STDERR, NULL);
	r = admin_notify(s, qid, count);
	if (r)
		return r;
	if (s->op != OP_A_FLUSH)
		fprintf(stderr, "tern: %s: %ld message%s\n", s->done, count, count == 1 ? "" : "s");
	return rc;
}
