/*
 * deliver.c - local's delivery of one qmgr request (the request loop,
 * decoding and status replies are lib/deliver_agent.c's).
 *
 * local refuses a request with a recipient that has no address class.
 *
 * When local runs as root, each delivery runs with the mailbox owner's
 * effective ids and root is restored right after, also on failure.
 * Class "local" recipients go to system.c (users, aliases, .forward,
 * commands), class "virtual" to the virtual mailboxes here; in the
 * virtual(8) mode (main.c) every recipient goes to a virtual mailbox and
 * the log says relay=virtual, as Postfix's virtual agent does.
 */
#include "local.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "deliver_agent.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "privs.h"
#include "proto.h"
#include "resolve.h"
#include "util.h"

/* local needs every recipient's address class. */
static const char *ld_accept(const struct deliver_request *r, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < r->nrcpt; i++)
		if (!r->rcpts[i].has_class)
			return "recipient without a class";
	return NULL;
}

/* Virtual mailbox delivery, as the mailbox owner when we are root. */
static void ld_virtual(const struct local_msg *m, const char *rcpt, struct local_result *r)
{
	struct vmailbox mb;
	bool root = geteuid() == 0;

	if (virtual_lookup(rcpt, &mb, r) < 0)
		return;
	local_quota_begin(rcpt); /* reads auth_users_file: before leaving root */
	if (root)
		priv_set_effective(mb.uid, mb.gid);
	if (mb.maildir) {
		/* a virtual mailbox's "~" for Sieve is its directory */
		if (local_sieve_deliver(m, rcpt, mb.path, mb.path, r) == 0)
			maildir_deliver(m, rcpt, mb.path, r);
	} else {
		char *lock = dotlock_acquire(mb.path);

		if (lock == NULL)
			local_result_errno(r, errno, "create the mailbox dot-lock");
		else
			mbox_deliver(m, rcpt, mb.path, r);
		dotlock_release(lock);
	}
	if (root)
		priv_restore();
	local_quota_end(m->qid, rcpt);
	free(mb.path);
}

static void ld_one(const struct local_msg *m, const struct deliver_rcpt *rc, bool virtual_only,
    struct local_result *r, struct local_targets *t)
{
	if (virtual_only) {
		ld_virtual(m, rc->addr, r);
		return;
	}
	switch (rc->cls_id) {
	case CLASS_VIRTUAL: ld_virtual(m, rc->addr, r); break;
	case CLASS_LOCAL: local_deliver_system(m, rc->addr, r, t); break;
	default:
		log_qid_warn(m->qid, "to=<%s>: address class %s is not for local delivery",
		    rc->addr, resolve_class_name(rc->cls_id));
		local_result_set(r, RES_DEFERRED, "4.3.5", "mail system configuration error");
		break;
	}
}

/*
 * Logs and reports one recipient.  One that was expanded to other
 * addresses gets a line per address, "to=<address>, orig_to=<recipient>"
 * (the ORCPT when the client gave one), as Postfix's local logs it.
 */
static int ld_report(struct deliver_job *job, const struct deliver_rcpt *rc,
    const struct local_result *r, const struct local_targets *t, bool virtual_only)
{
	const char *relay = virtual_only ? "virtual" : "local";
	struct deliver_outcome o = {.result = r->result,
	    .dsn = r->dsn,
	    .reason = r->reason,
	    .relay = relay,
	    .connected = job->received};
	char *orig;

	if (t->n == 0 || (t->n == 1 && strcasecmp(t->v[0].addr, rc->addr) == 0))
		return deliver_job_report(job, rc, &o);
	orig = rc->orcpt ? xstrdup(rc->orcpt) : xasprintf("rfc822;%s", rc->addr);
	for (size_t i = 0; i < t->n; i++) {
		const struct local_result *one = &t->v[i].r;
		struct deliver_outcome lo = {.result = one->result,
		    .dsn = one->dsn,
		    .reason = one->reason,
		    .relay = relay,
		    .connected = job->received};

		deliver_job_log(job, t->v[i].addr, orig, &lo);
	}
	free(orig);
	return deliver_job_status(job, rc, &o);
}

/*
 * Delivers every recipient, then makes the Maildir renames durable (one
 * fsync per new/ folder for the whole request), then reports.  A
 * recipient whose Maildir rename could not be made durable is deferred
 * (it may then arrive twice, never zero times).  0, or -1 when the
 * connection broke.
 */
static int ld_deliver_all(struct deliver_job *job, void *ctx)
{
	struct local_msg m = {.fd = job->fd,
	    .qid = job->dr.qid,
	    .sender = job->dr.sender,
	    .header_off = job->dr.header_off,
	    .header_len = job->dr.header_len,
	    .body_off = job->dr.body_off,
	    .body_len = job->dr.body_len};
	bool virtual_only = *(const bool *)ctx;
	size_t n = job->dr.nrcpt;
	struct local_result *res = xcalloc(n ? n : 1, sizeof(*res));
	struct local_targets *tg = xcalloc(n ? n : 1, sizeof(*tg));
	bool *queued = xcalloc(n ? n : 1, sizeof(*queued));
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned long before = maildir_pending_added();

		ld_one(&m, &job->dr.rcpts[i], virtual_only, &res[i], &tg[i]);
		queued[i] = maildir_pending_added() != before;
	}
	if (maildir_sync_pending() < 0) {
		int err = errno;

		for (size_t i = 0; i < n; i++) {
			if (queued[i] && strcmp(res[i].result, RES_SENT) == 0)
				local_result_errno(&res[i], err, "fsync maildir new/");
			for (size_t j = 0; queued[i] && j < tg[i].n; j++)
				if (strcmp(tg[i].v[j].r.result, RES_SENT) == 0)
					local_result_errno(
					    &tg[i].v[j].r, err, "fsync maildir new/");
		}
	}
	/* local has no connection to set up: delays c is 0, d runs from the
	 * request's arrival to each recipient's report. */
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ld_report(job, &job->dr.rcpts[i], &res[i], &tg[i], virtual_only);
	for (size_t i = 0; i < n; i++)
		local_targets_free(&tg[i]);
	free(tg);
	free(res);
	free(queued);
	return rc;
}

void local_serve(int fd, void *ctx)
{
	struct deliver_agent agent = {ld_accept, ld_deliver_all, ctx};

	deliver_agent_serve(fd, &agent);
}
