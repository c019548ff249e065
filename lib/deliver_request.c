/*
 * deliver_request.c - the delivery request and its status replies, both
 * directions (deliver_request.h says what is checked and why).
 *
 * The decoders are pure functions of an ipc_msg: no I/O, no
 * configuration, so they are unit tested and fuzzed (fuzz_deliver_request)
 * apart from the daemons.
 */
#include "deliver_request.h"

#include <string.h>

#include "proto.h"
#include "qid.h"
#include "util.h"

#define DSN_ENVID_MAX 100 /* RFC 3461 4.4 */
#define DSN_RET_MAX 100

/* ------------------------------------------------------------ encoding */

void deliver_request_encode(const struct deliver_request *r, struct buf *out)
{
	ipc_put_str(out, A_OP, OP_DELIVER);
	ipc_put_str(out, A_QUEUE_ID, r->qid);
	ipc_put_str(out, A_SENDER, r->sender ? r->sender : "");
	ipc_put_int(out, A_ARRIVAL, r->arrival);
	ipc_put_int(out, A_HEADER_OFF, r->header_off);
	ipc_put_int(out, A_HEADER_LEN, r->header_len);
	ipc_put_int(out, A_BODY_OFF, r->body_off);
	ipc_put_int(out, A_BODY_LEN, r->body_len);
	if (r->nexthop)
		ipc_put_str(out, A_NEXTHOP, r->nexthop);
	ipc_put_int(out, A_ACTIVATED, r->activated);
	if (r->ret)
		ipc_put_str(out, A_RET, r->ret);
	if (r->envid)
		ipc_put_str(out, A_ENVID, r->envid);
	if (r->requiretls)
		ipc_put_str(out, A_REQUIRETLS, "yes");
	if (r->tls_optional)
		ipc_put_str(out, A_TLS_REQUIRED, "no");
	for (size_t i = 0; i < r->nrcpt; i++) {
		const struct deliver_rcpt *rc = &r->rcpts[i];

		ipc_put_str(out, A_RCPT, rc->addr);
		ipc_put_int(out, A_INDEX, rc->index);
		ipc_put_str(out, A_CLASS, rc->cls ? rc->cls : "");
		if (rc->orcpt)
			ipc_put_str(out, A_ORCPT, rc->orcpt);
		if (rc->notify)
			ipc_put_str(out, A_NOTIFY, rc->notify);
	}
	ipc_end(out);
}

void deliver_status_encode(struct buf *out, long long index, const char *result, const char *dsn,
    const char *reason, bool relayed, bool notified)
{
	ipc_put_str(out, A_OP, OP_STATUS);
	ipc_put_int(out, A_INDEX, index);
	ipc_put_str(out, A_RESULT, result);
	ipc_put_str(out, A_DSN, dsn);
	ipc_put_str(out, A_REASON, reason);
	if (relayed)
		ipc_put_str(out, A_ACTION, "relayed");
	if (notified)
		ipc_put_str(out, A_NOTIFIED, "yes");
	ipc_end(out);
}

void deliver_done_encode(struct buf *out)
{
	ipc_put_str(out, A_OP, OP_DONE);
	ipc_end(out);
}

/* ------------------------------------------------------------ decoding */

/* Text (no NUL) that may stand in an SMTP command and a log line. */
static bool dr_address_ok(const struct ipc_attr *a)
{
	return strlen(a->value) == a->len && strpbrk(a->value, "\r\n<>") == NULL;
}

/* A DSN word from qmgr, or NULL when empty or unsafe on the wire. */
static const char *dr_word(const char *v)
{
	return v && *v && !strpbrk(v, " \t\r\n") ? v : NULL;
}

static bool dr_off(const struct ipc_msg *m, const char *name, off_t *out)
{
	long long v;

	if (!ipc_get_int(m, name, &v) || v < 0)
		return false;
	*out = (off_t)v;
	return true;
}

/* One attribute that belongs to the recipient r. */
static const char *dr_rcpt_attr(const struct ipc_attr *a, struct deliver_rcpt *r, bool *has_index)
{
	bool text = strlen(a->value) == a->len;
	long v;

	if (strcmp(a->name, A_INDEX) == 0) {
		if (*has_index || !parse_long(a->value, 0, QF_MAX_RECIPIENTS - 1, &v))
			return "bad recipient index";
		r->index = v;
		*has_index = true;
	} else if (strcmp(a->name, A_CLASS) == 0 && text && *a->value) {
		if (!resolve_class_from_name(a->value, &r->cls_id))
			return "bad recipient class";
		r->cls = a->value;
		r->has_class = true;
	} else if (strcmp(a->name, A_ORCPT) == 0 && text) {
		r->orcpt = dr_word(a->value);
	} else if (strcmp(a->name, A_NOTIFY) == 0 && text) {
		r->notify = dr_word(a->value);
	}
	return NULL;
}

/* "rcpt" starts a recipient; what follows it, up to the next, is its. */
static const char *dr_rcpts(const struct ipc_msg *m, struct deliver_request *r)
{
	bool has_index = true;
	const char *why = NULL;

	r->rcpts = xcalloc(m->count + 1, sizeof(*r->rcpts));
	for (size_t i = 0; i < m->count && why == NULL; i++) {
		const struct ipc_attr *a = &m->attrs[i];

		if (strcmp(a->name, A_RCPT) == 0) {
			if (!has_index)
				return "recipient without an index";
			if (a->len == 0 || !dr_address_ok(a))
				return "bad rcpt";
			r->rcpts[r->nrcpt++].addr = a->value;
			has_index = false;
		} else if (r->nrcpt > 0) {
			why = dr_rcpt_attr(a, &r->rcpts[r->nrcpt - 1], &has_index);
		}
	}
	if (why == NULL && !has_index)
		why = "recipient without an index";
	if (why == NULL && r->nrcpt == 0)
		why = "no recipients";
	return why;
}

const char *deliver_request_decode(const struct ipc_msg *m, struct deliver_request *r)
{
	const char *op = ipc_get_str(m, A_OP), *envid, *requiretls, *tls_required;

	memset(r, 0, sizeof(*r));
	if (op == NULL || strcmp(op, OP_DELIVER) != 0)
		return "expected op=deliver";
	r->qid = ipc_get_str(m, A_QUEUE_ID);
	r->sender = ipc_get_str(m, A_SENDER);
	if (r->qid == NULL || !qid_valid(r->qid) || r->sender == NULL ||
	    strpbrk(r->sender, "\r\n<>") != NULL)
		return "missing or bad queue_id or sender";
	if (!dr_off(m, A_HEADER_OFF, &r->header_off) || !dr_off(m, A_HEADER_LEN, &r->header_len) ||
	    !dr_off(m, A_BODY_OFF, &r->body_off) || !dr_off(m, A_BODY_LEN, &r->body_len))
		return "bad header or body offsets";
	if (!ipc_get_int(m, A_ARRIVAL, &r->arrival))
		r->arrival = 0;
	if (!ipc_get_int(m, A_ACTIVATED, &r->activated))
		r->activated = 0;
	r->nexthop = ipc_get_str(m, A_NEXTHOP);
	if (r->nexthop && *r->nexthop == 0)
		r->nexthop = NULL;
	r->ret = dr_word(ipc_get_str(m, A_RET));
	if (r->ret && strlen(r->ret) >= DSN_RET_MAX)
		r->ret = NULL;
	/* ENVID goes out as xtext, so any bytes are safe; only its length
	 * is bounded. */
	envid = ipc_get_str(m, A_ENVID);
	r->envid = envid && strlen(envid) <= DSN_ENVID_MAX ? envid : NULL;
	/* Anything but "yes" is no request: a peer cannot weaken it, only
	 * qmgr sends it. */
	requiretls = ipc_get_str(m, A_REQUIRETLS);
	r->requiretls = requiretls && strcmp(requiretls, "yes") == 0;
	tls_required = ipc_get_str(m, A_TLS_REQUIRED);
	r->tls_optional = tls_required && strcmp(tls_required, "no") == 0;
	return dr_rcpts(m, r);
}

void deliver_request_free(struct deliver_request *r)
{
	free(r->rcpts);
	r->rcpts = NULL;
	r->nrcpt = 0;
}

static bool dr_result(const char *s, enum qf_status *st)
{
	if (s == NULL)
		return false;
	if (strcmp(s, RES_SENT) == 0)
		*st = QF_SENT;
	else if (strcmp(s, RES_DEFERRED) == 0)
		*st = QF_DEFERRED;
	else if (strcmp(s, RES_BOUNCED) == 0)
		*st = QF_BOUNCED;
	else
		return false;
	return true;
}

static const char *dr_default_dsn(enum qf_status st)
{
	return st == QF_SENT ? "2.0.0" : st == QF_BOUNCED ? "5.0.0" : "4.0.0";
}

const char *deliver_status_decode(const struct ipc_msg *m, struct deliver_status *st)
{
	const char *op = ipc_get_str(m, A_OP), *action;

	memset(st, 0, sizeof(*st));
	if (op == NULL || strcmp(op, OP_STATUS) != 0)
		return "expected op=status";
	if (!ipc_get_int(m, A_INDEX, &st->index))
		return "status without a valid index";
	if (!dr_result(ipc_get_str(m, A_RESULT), &st->status))
		return "status without a valid result";
	st->dsn = ipc_get_str(m, A_DSN);
	st->reason = ipc_get_str(m, A_REASON);
	action = ipc_get_str(m, A_ACTION);
	if (action != NULL && strcmp(action, "relayed") != 0)
		return "status with an unknown action";
	st->relayed = action != NULL && st->status == QF_SENT;
	st->notified = ipc_get_str(m, A_NOTIFIED) != NULL && st->status == QF_SENT;
	/* The DSN class must agree with the result, or a report could say
	 * "sent" with a failure code; the result is what counts. */
	if (st->dsn == NULL || st->dsn[0] != dr_default_dsn(st->status)[0] || st->dsn[1] != '.')
		st->dsn = dr_default_dsn(st->status);
	if (st->reason == NULL)
		st->reason = "";
	return NULL;
}
