/*
 * message.c - one message's life in qmgr: activate, deliver, finish.
 *
 * Activating loads and checks the whole queue file (qfile_load applies the
 * journal, so recipients finished in an earlier round stay finished) and
 * only then renames it into active/: a corrupt file never reaches an
 * agent, it goes to corrupt/ with a warning and the rest of the queue
 * carries on.
 *
 * Finishing, when every request of the round has ended:
 *   - nothing left to deliver: unlink active/QID, log "QID: removed"
 *     (the last request's done marks are not journaled: see
 *     msg_journal_sent);
 *   - otherwise: one journal record per result of this round, fdatasync,
 *     mtime := next retry time, rename active/ -> deferred/.
 * Crash safety: a recipient counts as done only when its agent said sent
 * or bounced; the journal is durable before the file leaves active/, and a
 * file with pending recipients is never unlinked.  If qmgr dies anywhere
 * in between, the file is still in active/ or deferred/ and is delivered
 * again (at worst a duplicate).
 *
 * Before the journal, the notices (bounce.c): a non-delivery notice for
 * the recipients that failed, queued durably by cleanup before those
 * recipients are journaled as bounced; if it cannot be queued they stay
 * "bounce pending" and the file stays.  Success and delay notices too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "qmgr.h"
#include "queue.h"
#include "resolve.h"
#include "util.h"

#define INCOMPLETE_GRACE 3600 /* seconds: far longer than any cleanup writes */

static int msg_open(const char *qid, const char *from)
{
	struct buf path = BUF_INIT;
	int fd;

	queue_path(&path, from, qid);
	fd = open(path.data, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		log_qid_warn(qid, "open %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return fd;
}

static void msg_free(struct qmgr_msg *msg)
{
	if (msg->fd >= 0)
		close(msg->fd);
	msg_results_free(msg);
	qfile_free(&msg->qf);
	free(msg);
}

/* A file that cannot be delivered safely is set aside for the operator. */
static void msg_corrupt(
    const char *qid, const char *from, enum qf_load_result r, const struct buf *err)
{
	const char *what = r == QF_LOAD_INCOMPLETE ? "incomplete" : "corrupt";

	if (queue_move(qid, from, QUEUE_CORRUPT) < 0) {
		log_qid_warn(qid, "%s queue file in %s/, cannot move it to corrupt/: %s", what,
		    from, strerror(errno));
		return;
	}
	log_qid_warn(qid, "%s queue file moved to corrupt/: %s", what,
	    err->len ? err->data : "unknown error");
}

/* A named file in incoming/ without its end mark: a writer that does not
 * use O_TMPFILE may still be busy with it, so it is left alone for
 * INCOMPLETE_GRACE seconds; after that its writer is surely dead (or the
 * machine crashed before the data reached the disk) and no one ever got
 * an acknowledgement for it: it is removed. */
static void msg_incomplete(const char *qid, int fd)
{
	struct buf path = BUF_INIT;
	struct stat st;

	if (fstat(fd, &st) < 0 || time(NULL) - st.st_mtime <= INCOMPLETE_GRACE)
		return;
	queue_path(&path, QUEUE_INCOMING, qid);
	if (unlink(path.data) == 0)
		log_qid_warn(
		    qid, "removed incomplete queue file older than %d s", INCOMPLETE_GRACE);
	else if (errno != ENOENT)
		log_qid_warn(qid, "remove incomplete %s: %s", path.data, strerror(errno));
	buf_free(&path);
}

/* Loads qid from its queue; NULL when it is gone or unusable. */
static struct qmgr_msg *msg_load(struct qmgr *q, const char *qid, const char *from)
{
	struct buf err = BUF_INIT;
	struct qmgr_msg *msg;
	enum qf_load_result r;
	int fd = msg_open(qid, from);

	if (fd < 0)
		return NULL;
	msg = xcalloc(1, sizeof(*msg));
	msg->q = q;
	msg->fd = fd;
	msg->activated = now_usec();
	strlcpy(msg->qid, qid, sizeof(msg->qid));
	r = qfile_load(fd, &msg->qf, &err);
	if (r == QF_LOAD_INCOMPLETE && strcmp(from, QUEUE_INCOMING) == 0) {
		msg_incomplete(qid, fd);
		buf_free(&err);
		msg_free(msg);
		return NULL;
	}
	if (r != QF_LOAD_OK) {
		msg_corrupt(qid, from, r, &err);
		buf_free(&err);
		msg_free(msg);
		return NULL;
	}
	buf_free(&err);
	msg->res = xcalloc(msg->qf.nrcpt ? msg->qf.nrcpt : 1, sizeof(*msg->res));
	return msg;
}

void msg_log_result(const struct qmgr_msg *msg, size_t i, const char *relay, long long request_usec)
{
	const struct qmgr_result *res = &msg->res[i];
	struct dsn_log l = {0};
	struct buf line = BUF_INIT;

	l.rcpt = msg->qf.rcpts[i].addr;
	l.orcpt = msg->qf.rcpts[i].orcpt;
	l.relay = relay;
	l.dsn = res->dsn;
	l.status = qf_status_name(res->status);
	l.reason = res->reason;
	l.arrival = msg->qf.arrival_usec;
	l.activated = msg->activated;
	l.request = request_usec;
	l.done = now_usec();
	dsn_log_format(&line, &l);
	log_qid(msg->qid, "%s", line.data);
	buf_free(&line);
}

/* qmgr's own result for a recipient no agent will see. */
static void msg_fail(struct qmgr_msg *msg, size_t i, const char *dsn, const char *reason)
{
	msg_result_set(msg, i, QF_DEFERRED, dsn, reason);
	msg_log_result(msg, i, "none", 0);
}

/* Resolves recipient i; NULL (and a result) when it cannot be routed. */
static char *msg_route(struct qmgr_msg *msg, size_t i, const char **cls)
{
	struct resolved rs;

	if (!resolve_addr(msg->qf.rcpts[i].addr, &rs)) {
		msg_fail(msg, i, "4.3.0", "address resolver failure");
		return NULL;
	}
	if (!deliver_transport_name_ok(rs.transport)) {
		log_qid_warn(msg->qid, "invalid transport name \"%s\" for <%s>", rs.transport,
		    msg->qf.rcpts[i].addr);
		msg_fail(msg, i, "4.3.5", "mail transport unavailable");
		return NULL;
	}
	*cls = resolve_class_name(rs.cls);
	/* One key per destination; transport names have no ':'. */
	return xasprintf("%s:%s", rs.transport, rs.nexthop);
}

/* Hands one batch ("transport:nexthop") to its destination, in requests
 * of at most the transport's recipient limit. */
static void msg_submit_batch(
    struct qmgr_msg *msg, const struct plan_batch *b, const char *const *cls)
{
	char *key = xstrdup(b->transport), *colon = strchr(key, ':');
	struct qmgr_transport *tp;
	struct qmgr_request *r;
	size_t off, n, j;

	*colon = 0;
	tp = deliver_transport(msg->q, key);
	for (off = 0; off < b->n; off += n) {
		n = b->n - off < tp->rcpt_limit ? b->n - off : tp->rcpt_limit;
		r = request_new(msg, b->rcpt + off, n);
		for (j = 0; j < r->n; j++)
			r->cls[j] = cls[r->rcpt[j]];
		r->tp = tp;
		r->dest = deliver_dest(tp, colon + 1);
		msg->holds++;
		deliver_submit(msg->q, r);
	}
	free(key);
}

static void msg_submit(
    struct qmgr_msg *msg, struct plan_batch *b, size_t nb, const char *const *cls)
{
	size_t i;

	for (i = 0; i < nb; i++)
		msg_submit_batch(msg, &b[i], cls);
}

/* Failed for good, notice not queued yet (msg_bounce_later): agents and
 * qmgr's own deferrals always use 4.x.x codes, so a 5 cannot be a plain
 * deferral. */
static bool msg_bounce_pending(const struct qfile_rcpt *rc)
{
	return rc->status == QF_DEFERRED && rc->dsn && rc->dsn[0] == '5';
}

/* A non_smtpd_milter rejected the message (cleanup's A_REJECT, "5.7.1
 * text"): the recipient bounces with that reason, delivered nowhere. */
static void msg_milter_reject(struct qmgr_msg *msg, size_t i, const char *reject)
{
	size_t n = dsn_code_len(reject);
	char dsn[16] = "5.7.1";
	const char *text = reject;

	if (n > 0 && n < sizeof(dsn) && reject[0] == '5') {
		memcpy(dsn, reject, n);
		dsn[n] = 0;
		text = reject + n + (reject[n] == ' ');
	}
	msg_result_set(msg, i, QF_BOUNCED, dsn, text);
	msg_log_result(msg, i, "none", 0);
}

/* Starts delivery of every pending recipient.  One hold covers the
 * planning, so the message cannot finish before all requests exist. */
static void msg_deliver(struct qmgr_msg *msg)
{
	size_t i, n = msg->qf.nrcpt, nb;
	char **tp = xcalloc(n ? n : 1, sizeof(*tp));
	const char **cls = xcalloc(n ? n : 1, sizeof(*cls));
	bool *want = xcalloc(n ? n : 1, sizeof(*want));
	struct plan_batch *b;
	const char *reject = qfile_attr(&msg->qf, A_REJECT);

	msg->holds = 1;
	for (i = 0; i < n; i++) {
		enum qf_status st = msg->qf.rcpts[i].status;

		if (msg_bounce_pending(&msg->qf.rcpts[i]))
			msg_result_set(msg, i, QF_BOUNCED, msg->qf.rcpts[i].dsn,
			    msg->qf.rcpts[i].reason ? msg->qf.rcpts[i].reason : "");
		else if ((st == QF_PENDING || st == QF_DEFERRED) && reject)
			msg_milter_reject(msg, i, reject);
		else if (st == QF_PENDING || st == QF_DEFERRED)
			want[i] = (tp[i] = msg_route(msg, i, &cls[i])) != NULL;
	}
	nb = plan_make((const char *const *)tp, want, n, 0, &b);
	msg_submit(msg, b, nb, cls);
	plan_free(b, nb);
	for (i = 0; i < n; i++)
		free(tp[i]);
	free(tp);
	free(cls);
	free(want);
	msg_release(msg);
}

bool msg_activate(struct qmgr *q, const char *qid, const char *from)
{
	struct qset_entry *e = qset_get(&q->known, qid);
	struct qmgr_msg *msg;

	if (e && e->state == QSET_ACTIVE)
		return true;
	if (q->draining || q->active >= q->cf.active_limit)
		return false;
	msg = msg_load(q, qid, from);
	/* qmgr_message_recipient_limit bounds memory; one message is always
	 * taken, however large, or it could never be delivered. */
	if (msg && q->active > 0 && q->rcpts + msg->qf.nrcpt > q->cf.rcpt_mem_limit) {
		msg_free(msg);
		return false;
	}
	if (msg && queue_move(qid, from, QUEUE_ACTIVE) < 0) {
		if (errno != ENOENT)
			log_qid_warn(qid, "move %s/ to active/: %s", from, strerror(errno));
		msg_free(msg);
		msg = NULL;
	}
	if (msg == NULL) {
		/* Gone or set aside: forget a schedule that pointed at it. */
		if (e && strcmp(from, QUEUE_DEFERRED) == 0)
			qset_del(&q->known, qid);
		return true;
	}
	e = qset_add(&q->known, qid, NULL);
	e->state = QSET_ACTIVE;
	e->msg = msg;
	q->active++;
	q->rcpts += msg->qf.nrcpt;
	msg_deliver(msg);
	return true;
}

/* The status recipient i ends this round with. */
static enum qf_status msg_final(const struct qmgr_msg *msg, size_t i)
{
	return msg->res[i].set ? msg->res[i].status : msg->qf.rcpts[i].status;
}

static bool msg_open_status(enum qf_status st)
{
	return st == QF_PENDING || st == QF_DEFERRED;
}

static size_t msg_count_pending(const struct qmgr_msg *msg)
{
	size_t i, n = 0;

	for (i = 0; i < msg->qf.nrcpt; i++)
		n += msg_open_status(msg_final(msg, i));
	return n;
}

/* Past maximal_queue_lifetime, a recipient still deferred is given up
 * with the last reason it was deferred for. */
static void msg_expire(struct qmgr_msg *msg)
{
	const struct qfile_rcpt *rc;
	const struct qmgr_result *res;
	const char *reason, *dsn;
	char final[32];
	char *text;
	size_t i;

	for (i = 0; i < msg->qf.nrcpt; i++) {
		if (!msg_open_status(msg_final(msg, i)))
			continue;
		res = &msg->res[i];
		rc = &msg->qf.rcpts[i];
		reason = res->set ? res->reason : rc->reason;
		dsn = res->set ? res->dsn : rc->dsn;
		qmgr_dsn_final(dsn, final, sizeof(final));
		text = xasprintf(
		    "message expired: %s", reason && *reason ? reason : "delivery time expired");
		msg_result_set(msg, i, QF_BOUNCED, final, text);
		msg_log_result(msg, i, "none", 0);
		free(text);
	}
}

/* Recipients whose result this round is st and whose NOTIFY asks for
 * notices of kind bit; their indexes in idx.  Returns the count. */
static size_t msg_select(const struct qmgr_msg *msg, enum qf_status st, unsigned bit, size_t *idx)
{
	size_t i, n = 0;

	for (i = 0; i < msg->qf.nrcpt; i++) {
		if (msg_final(msg, i) != st)
			continue;
		if (st != QF_DEFERRED && !msg->res[i].set)
			continue; /* finished in an earlier round */
		/* The next hop that took NOTIFY=SUCCESS reports the success. */
		if (bit == DSN_NOTIFY_SUCCESS && msg->res[i].notified)
			continue;
		if (dsn_notify_parse(msg->qf.rcpts[i].notify) & bit)
			idx[n++] = i;
	}
	return n;
}

/* The notice could not be queued: keep the failures as "bounce pending"
 * (deferred with their 5.x.x code) so the next round sends it, and the
 * original stays until it does. */
static void msg_bounce_later(struct qmgr_msg *msg, const size_t *idx, size_t n)
{
	char *dsn, *reason;
	size_t i;

	for (i = 0; i < n; i++) {
		dsn = xstrdup(msg->res[idx[i]].dsn ? msg->res[idx[i]].dsn : "5.0.0");
		reason = xstrdup(msg->res[idx[i]].reason ? msg->res[idx[i]].reason : "");
		msg_result_set(msg, idx[i], QF_DEFERRED, dsn, reason);
		free(dsn);
		free(reason);
	}
}

/* The execute bit of a queue file says "delay notice sent" (as Postfix
 * marks state in mode bits): it survives renames and restarts. */
static bool msg_warned(const struct qmgr_msg *msg)
{
	struct stat st;

	return fstat(msg->fd, &st) == 0 && (st.st_mode & S_IXUSR);
}

static void msg_delay_notice(struct qmgr_msg *msg, long long now, size_t *idx)
{
	struct stat st;
	size_t n;

	if (msg->q->cf.delay_warning <= 0 ||
	    now - msg->qf.arrival_usec / 1000000 < msg->q->cf.delay_warning || msg_warned(msg))
		return;
	n = msg_select(msg, QF_DEFERRED, DSN_NOTIFY_DELAY, idx);
	n += msg_select(msg, QF_PENDING, DSN_NOTIFY_DELAY, idx + n);
	if (n == 0 || bounce_send(msg, DSN_DELAY, idx, n) < 0)
		return;
	if (fstat(msg->fd, &st) < 0 || fchmod(msg->fd, (st.st_mode & 07777) | S_IXUSR) < 0)
		log_qid_warn(msg->qid, "cannot mark the delay notice as sent: %s", strerror(errno));
}

/* Sends the notices this round calls for: one non-delivery notice for
 * every recipient that failed (NOTIFY permitting), one success notice,
 * one delay notice once the message is delay_warning_time old. */
static void msg_notify(struct qmgr_msg *msg, long long now)
{
	size_t n, *idx = xcalloc(msg->qf.nrcpt ? msg->qf.nrcpt : 1, sizeof(*idx));

	n = msg_select(msg, QF_BOUNCED, DSN_NOTIFY_FAILURE, idx);
	if (n > 0 && bounce_send(msg, DSN_FAILURE, idx, n) < 0)
		msg_bounce_later(msg, idx, n);
	n = msg_select(msg, QF_SENT, DSN_NOTIFY_SUCCESS, idx);
	if (n > 0)
		bounce_send(msg, DSN_SUCCESS, idx, n); /* best effort, as Postfix */
	if (msg_count_pending(msg) > 0)
		msg_delay_notice(msg, now, idx);
	free(idx);
}

/* soft_bounce: every failure of this round becomes a deferral. */
static void msg_soft_bounce(struct qmgr_msg *msg)
{
	char dsn[32], *reason;
	size_t i;

	for (i = 0; i < msg->qf.nrcpt; i++) {
		if (!msg->res[i].set || msg->res[i].status != QF_BOUNCED)
			continue;
		snprintf(dsn, sizeof(dsn), "4%s",
		    msg->res[i].dsn && msg->res[i].dsn[0] ? msg->res[i].dsn + 1 : ".0.0");
		reason = xstrdup(msg->res[i].reason ? msg->res[i].reason : "");
		msg_result_set(msg, i, QF_DEFERRED, dsn, reason);
		free(reason);
	}
}

/* Makes this round's results durable.  A failure here costs at most a
 * duplicate delivery (the recipient looks pending again), never a loss. */
static bool msg_journal_one(struct qmgr_msg *msg, size_t i)
{
	struct qmgr_result *res = &msg->res[i];

	if (!res->set || res->journaled)
		return true;
	if (qfile_journal_append(msg->fd, &msg->qf, i, res->status, res->dsn, res->reason) < 0) {
		log_error("%s: journal append: %s", msg->qid, strerror(errno));
		return false;
	}
	res->journaled = true;
	return true;
}

static void msg_journal(struct qmgr_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->qf.nrcpt; i++)
		if (!msg_journal_one(msg, i))
			return;
	if (fdatasync(msg->fd) < 0)
		log_error("%s: fdatasync: %s", msg->qid, strerror(errno));
}

/*
 * Only "sent": a failure is journaled after its bounce is queued, and a
 * deferral can wait for the end of the round.  When this is the round's
 * last request and no recipient is left open, the file is about to be
 * removed (or, should a bounce fail to queue, deferred, which journals
 * everything then), so the done marks and their fdatasync are skipped:
 * if qmgr or the machine dies first, the file is still there and the
 * recipients get the mail again (invariant 3 allows twice, never zero).
 */
void msg_journal_sent(struct qmgr_msg *msg, const struct qmgr_request *r)
{
	size_t i, n = 0;

	if (msg->holds == 1 && msg_count_pending(msg) == 0)
		return;

	for (i = 0; i < r->n; i++) {
		const struct qmgr_result *res = &msg->res[r->rcpt[i]];

		if (res->set && !res->journaled && res->status == QF_SENT) {
			if (!msg_journal_one(msg, r->rcpt[i]))
				return;
			n++;
		}
	}
	if (n > 0 && fdatasync(msg->fd) < 0)
		log_error("%s: fdatasync: %s", msg->qid, strerror(errno));
}

/*
 * A finished file goes to recycle/ instead of being unlinked: cleanup
 * takes it from there for a new message (see cleanup/store.c), which
 * saves the file system an inode free and an inode allocation per
 * message; on ext4 without a journal the allocator skips every inode
 * freed in the last minutes, one by one, so with thousands freed that
 * search cost more than the rest of the queue file's life.  The file is
 * emptied as it is recycled, so that delivered mail does not linger in
 * recycle/ until the inode is reused or scan.c trims the folder (a
 * failed truncate only leaves that).  ENOENT: the operator moved the
 * file (msg_remove handles it).
 */
static int msg_recycle(const char *qid)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	int r;

	queue_path(&from, QUEUE_ACTIVE, qid);
	queue_path(&to, QUEUE_RECYCLE, qid);
	r = rename(from.data, to.data);
	if (r < 0 && errno != ENOENT)
		log_debug("%s: rename to %s: %s", qid, QUEUE_RECYCLE, strerror(errno));
	if (r == 0 && truncate(to.data, 0) < 0)
		log_debug("%s: truncate in %s: %s", qid, QUEUE_RECYCLE, strerror(errno));
	buf_free(&from);
	buf_free(&to);
	return r;
}

static void msg_remove(struct qmgr_msg *msg)
{
	struct buf path = BUF_INIT;

	queue_path(&path, QUEUE_ACTIVE, msg->qid);
	if (msg_recycle(msg->qid) == 0 || unlink(path.data) == 0) {
		log_qid(msg->qid, "removed");
	} else if (errno == ENOENT) {
		/* Held or requeued during delivery: the file lives on
		 * elsewhere, so this round's results must be in it. */
		msg_journal(msg);
		log_qid(msg->qid, "moved or deleted by the operator during delivery");
	} else
		log_qid_warn(msg->qid, "remove %s: %s", path.data, strerror(errno));
	buf_free(&path);
}

/* Journal, retry time as mtime, then out of active/.  Returns the retry
 * time, or -1 when the file could not be moved (it stays in active/ and
 * is delivered again when qmgr next starts). */
static long long msg_defer(struct qmgr_msg *msg, long long now)
{
	long long due = qmgr_backoff_next(
	    now, msg->qf.arrival_usec / 1000000, msg->q->cf.min_backoff, msg->q->cf.max_backoff);
	struct timespec ts[2] = {{(time_t)due, 0}, {(time_t)due, 0}};

	msg_journal(msg);
	if (futimens(msg->fd, ts) < 0)
		log_error("%s: set retry time: %s", msg->qid, strerror(errno));
	if (queue_move(msg->qid, QUEUE_ACTIVE, QUEUE_DEFERRED) < 0) {
		if (errno == ENOENT) {
			/* tern queue hold/delete/requeue took it: the journal
			 * went to the same inode, wherever it is now. */
			log_qid(msg->qid, "moved or deleted by the operator during delivery");
			return -1;
		}
		log_error("%s: move active/ to deferred/: %s", msg->qid, strerror(errno));
		return -1;
	}
	return due;
}

/* Every request of the round has ended: remove or defer the file. */
static void msg_finish(struct qmgr_msg *msg)
{
	struct qmgr *q = msg->q;
	long long now = time(NULL), due = -1;
	char qid[QID_LEN + 1];

	long lifetime =
	    msg->qf.sender && *msg->qf.sender ? q->cf.max_lifetime : q->cf.bounce_lifetime;

	if (q->cf.soft_bounce)
		msg_soft_bounce(msg);
	if (msg_count_pending(msg) > 0 &&
	    qmgr_expired(now, msg->qf.arrival_usec / 1000000, lifetime))
		msg_expire(msg);
	msg_notify(msg, now);
	if (msg_count_pending(msg) == 0)
		msg_remove(msg);
	else
		due = msg_defer(msg, now);
	strlcpy(qid, msg->qid, sizeof(qid));
	q->rcpts -= msg->qf.nrcpt;
	msg_free(msg);
	q->active--;
	if (due >= 0)
		sched_add(q, qid, due);
	else
		qset_del(&q->known, qid);
	qmgr_kick(q);
}

void msg_release(struct qmgr_msg *msg)
{
	if (msg->holds == 0)
		log_panic("%s: message released more often than held", msg->qid);
	if (--msg->holds == 0)
		msg_finish(msg);
}
