/*
 * request.c - the smtp agent's delivery of one qmgr request (the request
 * loop, decoding and status replies are lib/deliver_agent.c's).
 *
 * One {op=deliver} per connection, the queue file's descriptor attached;
 * one {op=status} per recipient, then {op=done}.  The next hop comes from
 * the request's "nexthop" attribute when qmgr sends one, else from
 * resolve_addr() of each recipient, so recipients of one request bound
 * for different next hops (a request from another client than qmgr, which
 * groups by next hop) each go to their own destination, one session per
 * next hop.
 *
 * The same program serves the "lmtp" transport (the same conversation in
 * RFC 2033's form, route.c and xfer.c), the "error" transport (every recipient bounces
 * with the next hop as reason, "error:5.1.1 text") and the "discard"
 * transport (every recipient is reported sent and nothing goes anywhere),
 * selected by the master.cf service name or first argument (main.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "deliver_agent.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "resolve.h"
#include "smtp.h"
#include "util.h"

struct sm_request {
	struct deliver_job *job; /* qmgr's request (lib/deliver_agent.h) */
	struct smtp_msg msg;
	const char *nexthop; /* from qmgr, or NULL */
	struct smtp_rcpt *rcpts;
	size_t nrcpt;
	char (*hops)[256]; /* resolved next hops, one per recipient */
	/* For delays=c: when the current hop's session was ready (or its
	 * connection attempts gave up), microseconds, 0 unknown. */
	long long connected;
	bool lmtp; /* the lmtp transport */
};

/* The request's message and recipients. */
static void sm_init(struct deliver_job *job, struct sm_request *q)
{
	const struct deliver_request *dr = &job->dr;

	memset(q, 0, sizeof(*q));
	q->job = job;
	q->msg.fd = job->fd;
	q->msg.qid = dr->qid;
	q->msg.sender = dr->sender;
	q->msg.header_off = dr->header_off;
	q->msg.header_len = dr->header_len;
	q->msg.body_off = dr->body_off;
	q->msg.body_len = dr->body_len;
	q->msg.arrival = dr->arrival;
	q->msg.ret = dr->ret;
	q->msg.envid = dr->envid;
	q->msg.requiretls = dr->requiretls;
	q->msg.tls_optional = dr->tls_optional;
	q->nexthop = dr->nexthop;
	q->nrcpt = dr->nrcpt;
	q->rcpts = xcalloc(q->nrcpt ? q->nrcpt : 1, sizeof(*q->rcpts));
	for (size_t i = 0; i < q->nrcpt; i++) {
		q->rcpts[i].addr = dr->rcpts[i].addr;
		q->rcpts[i].orcpt = dr->rcpts[i].orcpt;
		q->rcpts[i].notify = dr->rcpts[i].notify;
		q->rcpts[i].index = dr->rcpts[i].index;
	}
}

/* Each recipient's next hop: qmgr's, else resolve_addr()'s. */
static void sm_resolve(struct sm_request *q)
{
	q->hops = xcalloc(q->nrcpt, sizeof(*q->hops));
	for (size_t i = 0; i < q->nrcpt; i++) {
		struct resolved res;

		if (q->nexthop)
			strlcpy(q->hops[i], q->nexthop, sizeof(q->hops[i]));
		else if (resolve_addr(q->rcpts[i].addr, &res))
			strlcpy(q->hops[i], res.nexthop, sizeof(q->hops[i]));
		else
			smtp_rcpt_set(&q->rcpts[i], RES_DEFERRED, "4.3.0",
			    "cannot resolve the recipient: lookup table error");
		q->rcpts[i].nexthop = q->hops[i];
	}
}

/*
 * A cached session can die between the liveness check and the first
 * command (the server's idle timer).  When it breaks before the server
 * said anything about the message, the results are forgotten and the
 * caller connects afresh, as if the cache had been empty.
 */
static bool sm_try_cached(struct sm_request *q, struct smtp_session *s, struct smtp_rcpt **group,
    size_t n, char *relay, size_t relsize)
{
	bool all_lost = true;

	smtp_session_relay(s, relay, relsize);
	if (smtp_xfer(s, &q->msg, group, n)) {
		smtp_cache_put(s);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		all_lost &= group[i]->done && strcmp(group[i]->dsn, "4.4.2") == 0;
	smtp_session_quit(s);
	if (!all_lost)
		return true;
	for (size_t i = 0; i < n; i++)
		group[i]->done = false;
	return false;
}

/* Delivers the recipients bound for hop (not yet done) over one session. */
static void sm_deliver_hop(struct sm_request *q, const char *hop, char *relay, size_t relsize)
{
	struct smtp_rcpt **group = xcalloc(q->nrcpt + 1, sizeof(*group));
	size_t n = 0;
	struct smtp_fail f;
	struct smtp_session *s;
	enum smtp_tls_want want = q->lmtp ? SMTP_TLS_POLICY : smtp_msg_tls_want(&q->msg);

	for (size_t i = 0; i < q->nrcpt; i++)
		if (!q->rcpts[i].done && strcmp(q->rcpts[i].nexthop, hop) == 0)
			group[n++] = &q->rcpts[i];
	s = smtp_cache_get(hop);
	/* A session made for another kind of message may have weaker TLS
	 * than this one needs (or stronger than the policy says). */
	if (s != NULL && s->want != want) {
		smtp_session_quit(s);
		s = NULL;
	}
	q->connected = now_usec();
	if (s != NULL && !sm_try_cached(q, s, group, n, relay, relsize))
		s = NULL;
	else if (s != NULL) {
		free(group);
		return;
	}
	s = smtp_route_connect(hop, q->lmtp, want, &f);
	q->connected = now_usec();
	if (s == NULL) {
		/* soft_bounce turns every bounce into a deferral (testing). */
		bool bounce = f.permanent && !config_bool("soft_bounce");

		if (!bounce && f.dsn[0] == '5')
			f.dsn[0] = '4';
		for (size_t i = 0; i < n; i++)
			smtp_rcpt_set(
			    group[i], bounce ? RES_BOUNCED : RES_DEFERRED, f.dsn, "%s", f.reason);
		strlcpy(relay, "none", relsize);
	} else {
		smtp_session_relay(s, relay, relsize);
		if (smtp_xfer(s, &q->msg, group, n))
			smtp_cache_put(s);
		else
			smtp_session_quit(s);
	}
	free(group);
}

/*
 * Reports recipient i (lib/deliver_agent.c logs the Postfix-shaped line):
 * delays c is the set-up of this hop's session (DNS, connect, greeting,
 * EHLO, STARTTLS, AUTH; about 0 for a cached session), d the transaction
 * up to the result.  When one request spans several next hops, c also
 * holds the earlier hops' time.
 */
static int sm_send_status(struct sm_request *q, size_t i, const char *relay)
{
	const struct smtp_rcpt *r = &q->rcpts[i];
	bool sent = strcmp(r->result, RES_SENT) == 0;
	struct deliver_outcome o = {.result = r->result,
	    .dsn = r->dsn,
	    .reason = r->reason,
	    .relay = relay,
	    .connected = q->connected,
	    .relayed = sent && r->relayed,
	    .notified = sent && r->notified};

	return deliver_job_report(q->job, &q->job->dr.rcpts[i], &o);
}

/* Reports the recipients of hop (all when NULL) that are not reported. */
static int sm_report(struct sm_request *q, const char *hop, const char *relay)
{
	for (size_t i = 0; i < q->nrcpt; i++) {
		struct smtp_rcpt *r = &q->rcpts[i];

		if (r->reported || (hop && strcmp(r->nexthop, hop) != 0))
			continue;
		if (!r->done)
			smtp_rcpt_set(r, RES_DEFERRED, "4.3.0", "no result from the smtp client");
		if (config_bool("soft_bounce") && strcmp(r->result, RES_BOUNCED) == 0) {
			r->result = RES_DEFERRED;
			r->dsn[0] = '4';
		}
		if (sm_send_status(q, i, relay) < 0)
			return -1;
		r->reported = true;
	}
	return 0;
}

static void sm_error_agent(struct sm_request *q, enum smtp_mode mode)
{
	for (size_t i = 0; i < q->nrcpt; i++) {
		const char *text = q->rcpts[i].nexthop;
		char dsn[16] = "5.0.0";
		size_t dl = strspn(text, "0123456789.");

		if (q->rcpts[i].done)
			continue;
		if (mode == SMTP_MODE_DISCARD) {
			smtp_rcpt_set(
			    &q->rcpts[i], RES_SENT, "2.0.0", "%s", *text ? text : "discarded");
			continue;
		}
		/* "error:5.1.1 text" carries its own status code. */
		if (dl >= 5 && dl < sizeof(dsn) && (text[0] == '4' || text[0] == '5') &&
		    text[dl] == ' ') {
			memcpy(dsn, text, dl);
			dsn[dl] = 0;
			text += dl + 1;
		}
		smtp_rcpt_set(&q->rcpts[i], dsn[0] == '4' ? RES_DEFERRED : RES_BOUNCED, dsn, "%s",
		    *text ? text : "mail delivery error");
	}
}

static int sm_deliver_all(struct sm_request *q, enum smtp_mode mode)
{
	sm_resolve(q);
	q->lmtp = mode == SMTP_MODE_LMTP;
	if (mode == SMTP_MODE_ERROR || mode == SMTP_MODE_DISCARD) {
		sm_error_agent(q, mode);
		if (sm_report(q, NULL, mode == SMTP_MODE_ERROR ? "none" : "discard") < 0)
			return -1;
	} else {
		for (size_t i = 0; i < q->nrcpt; i++) {
			char hop[256], relay[400];

			if (q->rcpts[i].reported)
				continue;
			strlcpy(hop, q->rcpts[i].nexthop, sizeof(hop));
			q->connected = 0;
			if (!q->rcpts[i].done)
				sm_deliver_hop(q, hop, relay, sizeof(relay));
			else
				strlcpy(relay, "none", sizeof(relay));
			if (sm_report(q, hop, relay) < 0)
				return -1;
		}
	}
	return 0;
}

static int sm_deliver(struct deliver_job *job, void *ctx)
{
	struct sm_request q;
	int rc;

	sm_init(job, &q);
	rc = sm_deliver_all(&q, *(enum smtp_mode *)ctx);
	buf_free(&q.msg.content);
	free(q.rcpts);
	free(q.hops);
	return rc;
}

void smtp_serve(int fd, void *ctx)
{
	struct deliver_agent agent = {NULL, sm_deliver, ctx};

	deliver_agent_serve(fd, &agent);
}
