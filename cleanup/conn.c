/*
 * conn.c - one cleanup conversation per connection, inside the event loop.
 *
 * States (proto.h): BEGIN -> HEADER -> BODY -> COMMIT -> (reply) CLOSING;
 * COMMIT waits for the group commit of this round (commit.c).  An error
 * sends the reply at once and goes to DRAIN, which reads and drops the
 * rest of the message until {op=end} or EOF: smtpd keeps streaming until
 * it sends op=end and only then reads the reply, so closing early would
 * hand it an EPIPE instead of our reason.
 *
 * The message is never held in memory: only the header section is
 * buffered (bounded by header_size_limit plus one data chunk), the body
 * goes to the queue file as it arrives.  A client that stops talking for
 * smtpd_timeout + 60 s is dropped; one that closes before op=end abandons
 * its message, which simply vanishes (store.c).
 *
 * Every recipient goes through virtual_alias_maps and the duplicate
 * filter (valias.h) before it is written: qmgr sees final addresses only.
 *
 * Local submissions (pickup: a "uid" and no client address) get their
 * unqualified envelope addresses completed with @$myorigin and, like any
 * client that sends rewrite=yes, their missing Date:, Message-ID: (and,
 * local only, From:) headers added (missing.c).
 *
 * Not here: the header parsing (header.c), the file handling (store.c),
 * header rewriting beyond adding what is missing.
 */
#include "cleanup.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "checks.h"
#include "config.h"
#include "header.h"
#include "ipc.h"
#include "dkim_sign.h"
#include "log.h"
#include "milter.h"
#include "msgauth.h"
#include "proto.h"
#include "queue.h"
#include "util.h"
#include "valias.h"

enum cc_state {
	CC_BEGIN,
	CC_MILTER_HOLD, /* a local submission held for non_smtpd_milters */
	CC_MILTER,	/* op=end came: the milters are asked (milter.c) */
	CC_HEADER,
	CC_BODY,
	CC_VERIFY,  /* op=end came: DKIM key look-ups run (msgauth.c) */
	CC_COMMIT,  /* queued for the group commit (commit.c): input paused */
	CC_DRAIN,   /* replied with an error: drop input until end/EOF */
	CC_DISCARD, /* a check said DISCARD: drop input, then say ok */
	CC_CLOSING, /* replied: close once the reply is out */
};

struct cc_rcpt {
	const char *addr, *orcpt, *notify;
};

struct cleanup_conn {
	struct ipc_conn ipc;
	struct ipc_msg msg;
	struct event_loop *loop;
	struct event_timer *timer;
	long long last_active; /* event_now() of the last input */
	enum cc_state state;
	struct cleanup_file file;
	struct buf head; /* message bytes until the split is known */
	struct hdr_split split;
	struct received_info ri; /* strings owned here */
	char *sender;
	size_t nrcpt;
	long long size;	 /* message bytes received (the limit) */
	long long added; /* bytes we added: Received:, a LF */
	struct buf msgid;
	bool have_msgid;
	bool local;		     /* a local submission: uid, no client address */
	bool rewrite;		     /* add missing headers */
	bool milter_headers;	     /* Received: and the missing ones added for the milters */
	char *fullname;		     /* sendmail -F, local only */
	struct cleanup_msgauth *ma;  /* DKIM verification, NULL: none */
	struct cleanup_signer *sign; /* DKIM signing, NULL: none */
	/* The header section to write once the body is in (the 'H' record
	 * follows the body, so results known at the end can go on top):
	 * Received: first, then the message's own headers. */
	struct buf hdr_top, hdr_rest;
	struct valias_list rcpts;      /* final recipients, written last */
	struct cleanup_checks *checks; /* header/body checks, NULL: none */
	char *origin;		       /* "name[addr]" for the checks' log */
	char discard_qid[QID_LEN + 1];
	bool tls_optional; /* the header says "TLS-Required: No" (RFC 8689) */
	/* non_smtpd_milters: the begin record and the message, held until
	 * the milters answered, then written as any message. */
	struct cleanup_milter *milter;
	struct buf begin_rec;
	char *reject; /* a milter's 5xx: every recipient bounces with it */
};

static size_t cc_count;

static long cc_idle_ms(void)
{
	return (config_time("smtpd_timeout") + 60) * 1000;
}

static void cc_free_strings(struct cleanup_conn *cc)
{
	free((char *)cc->ri.helo);
	free((char *)cc->ri.client_name);
	free((char *)cc->ri.client_addr);
	free((char *)cc->ri.protocol);
	free((char *)cc->ri.uid);
	free((char *)cc->ri.tls_proto);
	free((char *)cc->ri.tls_cipher);
	free((char *)cc->ri.tls_bits);
	free((char *)cc->ri.rcpt);
	free(cc->sender);
	free(cc->fullname);
	free(cc->origin);
}

static void cc_free(struct cleanup_conn *cc)
{
	event_fd_del(cc->loop, cc->ipc.fd);
	if (cc->timer)
		event_timer_cancel(cc->loop, cc->timer);
	cleanup_file_discard(&cc->file);
	ipc_conn_close(&cc->ipc);
	ipc_msg_free(&cc->msg);
	buf_free(&cc->head);
	buf_free(&cc->msgid);
	buf_free(&cc->hdr_top);
	valias_list_free(&cc->rcpts);
	checks_free(cc->checks);
	buf_free(&cc->hdr_rest);
	cleanup_msgauth_free(cc->ma);
	cleanup_sign_free(cc->sign);
	cleanup_milter_free(cc->milter);
	buf_free(&cc->begin_rec);
	free(cc->reject);
	cc_free_strings(cc);
	free(cc);
	cc_count--;
}

/* Queues the one reply; the event handler flushes it. */
static void cc_reply(struct cleanup_conn *cc, const char *status, const char *name,
    const char *value, enum cc_state next)
{
	ipc_put_str(&cc->ipc.out, A_STATUS, status);
	ipc_put_str(&cc->ipc.out, name, value);
	ipc_end(&cc->ipc.out);
	cc->state = next;
}

/*
 * Sends what is queued, closes once the reply is out, else watches for
 * what comes next.  May free cc.
 */
static void cc_pump(struct cleanup_conn *cc)
{
	int events = EV_READ;

	if (cc->ipc.out.len > 0 && ipc_conn_flush(&cc->ipc) < 0) {
		log_debug("cannot send reply: %s", strerror(errno));
		buf_reset(&cc->ipc.out);
		cc->state = CC_CLOSING;
	}
	if (cc->state == CC_CLOSING && cc->ipc.out.len == 0) {
		cc_free(cc);
		return;
	}
	/* While a reply waits for room, stop reading: one reply at a time.
	 * A message in the group commit reads nothing until its reply. */
	if (cc->state == CC_COMMIT || cc->state == CC_MILTER)
		events = 0;
	else if (cc->ipc.out.len > 0)
		events = EV_WRITE;
	event_fd_events(cc->loop, cc->ipc.fd, events);
}

/* An error before op=end: the file goes, the reason goes to the client. */
static void cc_fail(struct cleanup_conn *cc, const char *status, const char *reason)
{
	const char *qid = cc->file.fd >= 0 ? cc->file.qid : "NOQUEUE";

	log_qid(qid, "%s: %s", status, reason);
	cleanup_file_discard(&cc->file);
	cc_reply(cc, status, A_REASON, reason, CC_DRAIN);
}

/* A full file system is RFC 3463's 4.3.1 (smtpd answers 452), not a bug. */
static const char *cc_write_error(int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return "4.3.1 Error: insufficient system storage";
	return "4.3.0 Error: queue file write error";
}

static void cc_protocol_error(struct cleanup_conn *cc, const char *what)
{
	log_warn("protocol error from client: %s", what);
	cc_fail(cc, ST_DEFER, "4.3.0 Error: malformed request");
}

/* The value of attribute a as a C string: no NUL inside, at most max bytes. */
static bool cc_value_ok(const struct ipc_attr *a, size_t max)
{
	return a->len <= max && strlen(a->value) == a->len;
}

/* Collects the recipients in order; orcpt/notify apply to the one before. */
static const char *cc_collect_rcpts(const struct ipc_msg *m, struct cc_rcpt *r, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < m->count; i++) {
		const struct ipc_attr *a = &m->attrs[i];

		if (strcmp(a->name, A_RCPT) == 0) {
			if (a->len == 0 || !cc_value_ok(a, CLEANUP_MAX_ADDR))
				return "bad recipient";
			if (*n == CLEANUP_MAX_RCPT)
				return "too many recipients";
			r[(*n)++] = (struct cc_rcpt){a->value, NULL, NULL};
		} else if (strcmp(a->name, A_ORCPT) == 0 || strcmp(a->name, A_NOTIFY) == 0) {
			if (*n == 0 || !cc_value_ok(a, CLEANUP_MAX_ADDR))
				return "bad orcpt/notify";
			if (strcmp(a->name, A_ORCPT) == 0)
				r[*n - 1].orcpt = a->value;
			else
				r[*n - 1].notify = a->value;
		}
	}
	return *n == 0 ? "no recipients" : NULL;
}

static size_t cc_count_rcpts(const struct ipc_msg *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->count; i++)
		n += strcmp(m->attrs[i].name, A_RCPT) == 0;
	return n;
}

/* Writes T, S, A records and keeps what the Received: header needs. */
static const char *cc_write_envelope(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	const struct {
		const char *name;
		const char **keep;
	} attrs[] = {
	    {A_CLIENT_NAME, &cc->ri.client_name},
	    {A_CLIENT_ADDR, &cc->ri.client_addr},
	    {A_CLIENT_PORT, NULL},
	    {A_HELO, &cc->ri.helo},
	    {A_PROTOCOL, &cc->ri.protocol},
	    {A_UID, &cc->ri.uid},
	    {A_TLS_PROTO, &cc->ri.tls_proto},
	    {A_TLS_CIPHER, &cc->ri.tls_cipher},
	    {A_TLS_BITS, &cc->ri.tls_bits},
	    {A_RET, NULL},
	    {A_ENVID, NULL},
	    {A_REQUIRETLS, NULL},
	};

	qfw_arrival(&cc->file.w, now_usec());
	qfw_sender(&cc->file.w, cc->sender);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		const struct ipc_attr *a = ipc_get(m, attrs[i].name);

		if (a == NULL)
			continue;
		if (!cc_value_ok(a, CLEANUP_MAX_ATTR))
			return "bad client attribute";
		qfw_attr(&cc->file.w, a->name, a->value);
		if (attrs[i].keep)
			*attrs[i].keep = xstrdup(a->value);
	}
	return NULL;
}

/* A locally posted "user" means user@$myorigin (Postfix: append_at_myorigin). */
static char *cc_qualify(const struct cleanup_conn *cc, const char *addr)
{
	const char *origin = config_str("myorigin");

	if (!cc->local || *addr == 0 || strchr(addr, '@') || *origin == 0)
		return xstrdup(addr);
	return xasprintf("%s@%s", addr, origin);
}

/* A local submission (pickup): a uid and no client address. */
static bool cc_is_local(const struct ipc_msg *m)
{
	return ipc_get(m, A_UID) != NULL && ipc_get(m, A_CLIENT_ADDR) == NULL;
}

/* Sender and size; NULL when fine, else what is wrong. */
static const char *cc_begin_checks(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	const struct ipc_attr *s = ipc_get(m, A_SENDER);
	const struct ipc_attr *fullname = ipc_get(m, A_FULLNAME);
	const char *rewrite = ipc_get_str(m, A_REWRITE);
	long long size = 0;

	if (s == NULL || !cc_value_ok(s, CLEANUP_MAX_ADDR))
		return "bad sender";
	if (ipc_get(m, A_SIZE) && (!ipc_get_int(m, A_SIZE, &size) || size < 0))
		return "bad size";
	cc->local = cc_is_local(m);
	cc->rewrite = cc->local || (rewrite && strcmp(rewrite, "yes") == 0);
	if (cc->local && fullname) {
		if (!cc_value_ok(fullname, CLEANUP_MAX_ATTR))
			return "bad fullname";
		cc->fullname = xstrdup(fullname->value);
	}
	cc->sender = cc_qualify(cc, s->value);
	return NULL;
}

/* SIZE= announced more than we take: refuse before writing anything. */
static bool cc_too_big(const struct ipc_msg *m)
{
	long long size, limit = config_size("message_size_limit");

	return limit > 0 && ipc_get_int(m, A_SIZE, &size) && size > limit;
}

/*
 * The recipients after virtual alias expansion, duplicates dropped
 * (valias.h), into the queue file.  A table that cannot be read or a
 * runaway expansion defers the whole message: "" after the reply is sent.
 */
static const char *cc_write_rcpts(struct cleanup_conn *cc, const struct cc_rcpt *r)
{
	struct valias_list list = {0};
	enum valias_status st = VALIAS_OK;
	const char *why = NULL;
	size_t given = cc->nrcpt;

	for (size_t i = 0; i < given && st == VALIAS_OK; i++) {
		char *addr = cc_qualify(cc, r[i].addr);

		st = valias_expand(&list, addr, r[i].orcpt, r[i].notify, &why);
		if (st != VALIAS_OK)
			log_qid_warn(
			    cc->file.qid, "%s for <%s> -- message not accepted", why, addr);
		free(addr);
	}
	if (st == VALIAS_OK && list.n > CLEANUP_MAX_RCPT) {
		log_qid_warn(cc->file.qid,
		    "virtual alias expansion gives %zu recipients, more than %d", list.n,
		    CLEANUP_MAX_RCPT);
		st = VALIAS_LIMIT;
	}
	if (st != VALIAS_OK) {
		valias_list_free(&list);
		cc_fail(cc, ST_DEFER,
		    st == VALIAS_TEMPFAIL ? "4.3.0 Error: virtual alias table lookup failure"
					  : "4.6.0 Error: virtual alias expansion error");
		return "";
	}
	if (list.dropped)
		log_qid(cc->file.qid, "%zu duplicate recipient%s dropped", list.dropped,
		    list.dropped == 1 ? "" : "s");
	cc->nrcpt = list.n;
	if (list.n == 1)
		cc->ri.rcpt = xstrdup(list.v[0].addr);
	cc->rcpts = list;
	return NULL;
}

/*
 * The recipients go after the body (qfile.h allows it), so that a header
 * or body check's REDIRECT can still replace them all.
 */
static void cc_put_rcpts(struct cleanup_conn *cc)
{
	const char *redirect = cc->checks ? checks_redirect(cc->checks) : NULL;

	if (redirect) {
		qfw_rcpt(&cc->file.w, redirect, NULL, NULL);
		cc->nrcpt = 1;
		return;
	}
	for (size_t i = 0; i < cc->rcpts.n; i++)
		qfw_rcpt(
		    &cc->file.w, cc->rcpts.v[i].addr, cc->rcpts.v[i].orcpt, cc->rcpts.v[i].notify);
}

/*
 * A notice qmgr makes (protocol "bounce"), which header/body checks and
 * non_smtpd_milters leave alone unless internal_mail_filter_classes has
 * "bounce": a bounce quotes the message a check refused and would be
 * refused in turn (Postfix's warning about the parameter).  tern makes no
 * notices of the "notify" class (no notify_classes transcripts).
 */
static bool cc_notice_unfiltered(const char *protocol)
{
	char **v;
	bool filtered = false;

	if (protocol == NULL || strcmp(protocol, "bounce") != 0)
		return false;
	v = config_list("internal_mail_filter_classes");
	for (size_t i = 0; v[i]; i++)
		filtered |= strcasecmp(v[i], "bounce") == 0;
	strv_free(v);
	return !filtered;
}

/* header_checks and friends, when any is set (checks.h). */
static void cc_checks_start(struct cleanup_conn *cc)
{
	struct checks_origin o = {0};

	if (!checks_enabled() || cc_notice_unfiltered(cc->ri.protocol))
		return;
	if (cc->ri.client_addr)
		cc->origin = xasprintf("%s[%s]",
		    cc->ri.client_name ? cc->ri.client_name : "unknown", cc->ri.client_addr);
	o.qid = cc->file.qid;
	o.sender = cc->sender;
	o.rcpt = cc->rcpts.n > 0 ? cc->rcpts.v[0].addr : NULL;
	o.client = cc->origin;
	o.proto = cc->ri.protocol;
	o.helo = cc->ri.helo;
	cc->checks = checks_new(&o);
}

/*
 * After the checks saw more of the message: a REJECT or DEFER answers at
 * once (the file goes, the rest is drained), a DISCARD drops the rest
 * and says ok at the end.  True when the message goes on.
 */
static bool cc_checks_verdict(struct cleanup_conn *cc)
{
	if (cc->checks == NULL || cc->reject)
		return true;
	switch (checks_verdict(cc->checks)) {
	case CHECKS_PASS: return true;
	case CHECKS_REJECT:
		if (cc->local || (cc->ri.protocol && strcmp(cc->ri.protocol, "bounce") == 0)) {
			/* sendmail has long exited: as Postfix's cleanup does for
			 * pickup, the message is kept and qmgr bounces it to the
			 * sender with the reason (A_REJECT, as a milter's).  A
			 * notice (internal_mail_filter_classes) goes the same way,
			 * to bounce_notice_recipient, rather than back to a qmgr
			 * that would make it again and again. */
			cc->reject = xstrdup(checks_reason(cc->checks));
			return true;
		}
		cc_fail(cc, ST_REJECT, checks_reason(cc->checks));
		break;
	case CHECKS_DEFER: cc_fail(cc, ST_DEFER, checks_reason(cc->checks)); break;
	case CHECKS_DISCARD:
		strlcpy(cc->discard_qid, cc->file.qid, sizeof(cc->discard_qid));
		cleanup_file_discard(&cc->file);
		cc->state = CC_DISCARD;
		break;
	}
	return false;
}

/* Stored body bytes: to the queue file and DKIM's verifier and signer. */
static void cc_body_store(struct cleanup_conn *cc, const char *p, size_t n)
{
	qfw_body_write(&cc->file.w, p, n);
	if (cc->ma)
		cleanup_msgauth_body(cc->ma, p, n);
	if (cc->sign)
		cleanup_sign_body(cc->sign, p, n);
}

/* Body bytes as received, through the body checks when on. */
static void cc_body_write(struct cleanup_conn *cc, const char *p, size_t n)
{
	struct buf out = BUF_INIT;

	if (cc->checks == NULL) {
		cc_body_store(cc, p, n);
		return;
	}
	checks_body(cc->checks, p, n, &out);
	if (out.len > 0)
		cc_body_store(cc, out.data, out.len);
	buf_free(&out);
}

static bool cc_str_is(const struct ipc_msg *m, const char *name, const char *value)
{
	const char *v = ipc_get_str(m, name);

	return v && strcmp(v, value) == 0;
}

/* qmgr's notice, when internal_mail_filter_classes has "bounce". */
static bool cc_is_filtered_notice(const struct ipc_msg *m)
{
	const char *proto = ipc_get_str(m, A_PROTOCOL);

	return proto && ipc_get(m, A_CLIENT_ADDR) == NULL && strcmp(proto, "bounce") == 0 &&
	       !cc_notice_unfiltered(proto);
}

/*
 * A well-formed local submission (or a notice, cc_is_filtered_notice),
 * when non_smtpd_milters are set: the
 * begin record is kept and the message held (CC_MILTER_HOLD) until the
 * milters answered (cc_milter_done).  False: cc_begin goes on as usual
 * (and finds what is wrong, if anything).
 */
static bool cc_milter_hold(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	const struct ipc_attr *s = ipc_get(m, A_SENDER);
	size_t n = cc_count_rcpts(m);
	struct cc_rcpt *r;
	char *q;

	if (cc->milter || !cleanup_milter_enabled() ||
	    !(cc_is_local(m) || cc_is_filtered_notice(m)) || s == NULL ||
	    !cc_value_ok(s, CLEANUP_MAX_ADDR) || cc_too_big(m))
		return false;
	r = xreallocarray(NULL, n ? n : 1, sizeof(*r));
	if (cc_collect_rcpts(m, r, &n) != NULL) {
		free(r);
		return false;
	}
	cc->local = true; /* for cc_qualify: the milters see full addresses */
	q = cc_qualify(cc, s->value);
	cc->milter = cleanup_milter_new(cc->loop, q);
	free(q);
	for (size_t i = 0; i < n; i++) {
		q = cc_qualify(cc, r[i].addr);
		cleanup_milter_add_rcpt(cc->milter, q, r[i].orcpt, r[i].notify);
		free(q);
	}
	free(r);
	for (size_t i = 0; i < m->count; i++)
		ipc_put(&cc->begin_rec, m->attrs[i].name, m->attrs[i].value, m->attrs[i].len);
	ipc_end(&cc->begin_rec);
	cc->state = CC_MILTER_HOLD;
	return true;
}

static void cc_begin(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	size_t n;
	struct cc_rcpt *r;
	const char *err;

	if (cc_milter_hold(cc, m))
		return;
	n = cc_count_rcpts(m);
	r = xreallocarray(NULL, n ? n : 1, sizeof(*r));
	err = cc_begin_checks(cc, m);

	if (err == NULL)
		err = cc_collect_rcpts(m, r, &cc->nrcpt);
	if (err == NULL && cc_too_big(m)) {
		cc_fail(cc, ST_REJECT, "5.3.4 Message size exceeds fixed limit");
		err = "";
	}
	/* A held local submission has its file since cc_milter_headers. */
	if (err == NULL && cc->file.fd < 0 && cleanup_file_create(&cc->file) < 0) {
		int e = errno;

		log_error("cannot create queue file in %s: %s", QUEUE_INCOMING, strerror(e));
		cc_fail(cc, ST_DEFER, cc_write_error(e));
		err = "";
	}
	if (err == NULL) {
		/* A milter's quarantine (smtpd): the file goes to hold/. */
		const char *hold = ipc_get_str(m, A_HOLD);

		cc->file.hold = hold && strcmp(hold, "yes") == 0;
		cc->ma = cleanup_msgauth_begin(m, cc->file.qid);
		cc->sign = cleanup_sign_begin(m, cc->local, cc->file.qid);
		err = cc_write_envelope(cc, m);
	}
	if (err == NULL)
		err = cc_write_rcpts(cc, r);
	if (err == NULL) {
		cc_checks_start(cc);
		hdr_split_init(&cc->split, (size_t)config_size("header_size_limit"));
		cc->state = CC_HEADER;
		if (cc_str_is(m, A_READY, "yes")) {
			/* Not the reply: smtpd says 354 on it and logs its
			 * client= line under the queue ID (proto.h). */
			ipc_put_str(&cc->ipc.out, A_STATUS, ST_READY);
			ipc_put_str(&cc->ipc.out, A_QUEUE_ID, cc->file.qid);
			ipc_end(&cc->ipc.out);
		}
	} else if (*err) {
		cc_protocol_error(cc, err);
	}
	free(r);
}

/* The Message-ID cleanup gives a message without one. */
static char *cc_new_msgid(const struct cleanup_conn *cc)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	return xasprintf("<%s.%s@%s>", stamp, cc->file.qid, config_str("myhostname"));
}

/* Date:, Message-ID: (and From:) when due; notes an added Message-ID. */
static void cc_add_missing(struct cleanup_conn *cc, struct buf *h, const char *date)
{
	struct missing_info mi = {0};
	char *msgid = cc_new_msgid(cc);

	mi.date = date;
	mi.msgid = msgid;
	mi.from_addr = cc->local ? cc->sender : NULL;
	mi.fullname = cc->fullname;
	hdr_missing_build(h, buf_cstr(&cc->head), cc->split.header_len, &mi);
	if (!cc->have_msgid) {
		buf_reset(&cc->msgid);
		buf_puts(&cc->msgid, msgid);
		cc->have_msgid = true;
	}
	free(msgid);
}

/* RFC 8689 section 5: "TLS-Required: No" (the first such header, as the
 * smtp client read it before it was recorded at ingest). */
static bool cc_tls_optional(const char *hdr, size_t len)
{
	struct buf v = BUF_INIT;
	bool no = hdr_value(hdr, len, "TLS-Required", &v) && str_case_eq(buf_cstr(&v), "No");

	buf_free(&v);
	return no;
}

/*
 * The header section is known: Received: and the headers are kept for the
 * end (cc_commit), the body starts.  The message is read through
 * buf_cstr(): an empty one has no head.data at all, and NULL + 0 is
 * undefined behaviour.
 */
static void cc_header_done(struct cleanup_conn *cc)
{
	const char *head = buf_cstr(&cc->head), *hs = head;
	size_t hlen = cc->split.header_len;
	struct buf *h = &cc->hdr_rest, checked = BUF_INIT;
	char date[HDR_DATE_SIZE];
	time_t now = time(NULL);
	struct tm tm;
	size_t removed = 0;

	localtime_r(&now, &tm);
	hdr_date_format(date, &tm);
	cc->ri.myhostname = config_str("myhostname");
	cc->ri.qid = cc->file.qid;
	cc->ri.date = date;
	if (!cc->milter_headers)
		hdr_received_build(&cc->hdr_top, &cc->ri);
	if (cc->checks) {
		/* The header as the checks left it is the message's header. */
		checks_header(cc->checks, head, hlen, &checked);
		hs = buf_cstr(&checked);
		hlen = checked.len;
	}
	if (cc->ma) {
		cleanup_msgauth_header(cc->ma, hs, hlen);
		removed = cleanup_msgauth_filter(hs, hlen, h);
		if (removed)
			log_qid(cc->file.qid, "removed an Authentication-Results header with our "
					      "authserv-id");
	} else {
		buf_append(h, hs, hlen);
	}
	if (h->len > 0 && h->data[h->len - 1] != '\n')
		buf_putc(h, '\n');
	cc->have_msgid = hdr_value(hs, hlen, "Message-ID", &cc->msgid);
	cc->tls_optional = cc_tls_optional(hs, hlen);
	if (cc->rewrite)
		cc_add_missing(cc, h, date);
	if (cc->sign)
		cleanup_sign_header(cc->sign, buf_cstr(h), h->len);
	qfw_body_begin(&cc->file.w);
	cc_body_write(cc, head + cc->split.body_off, cc->head.len - cc->split.body_off);
	cc->added = (long long)(cc->hdr_top.len + h->len) - (long long)cc->split.header_len;
	buf_free(&checked);
	buf_free(&cc->head);
	cc->state = CC_BODY;
}

/* Message bytes: held for the milters, or into the header or body. */
static void cc_data_bytes(struct cleanup_conn *cc, const char *p, size_t len)
{
	long long limit = config_size("message_size_limit");

	cc->size += (long long)len;
	if (limit > 0 && cc->size > limit) {
		cc_fail(cc, ST_REJECT, "5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (cc->state == CC_MILTER_HOLD) {
		buf_append(&cc->milter->message, p, len);
		return;
	}
	if (cc->state == CC_HEADER) {
		buf_append(&cc->head, p, len);
		if (hdr_split_scan(&cc->split, cc->head.data, cc->head.len))
			cc_header_done(cc);
	} else {
		cc_body_write(cc, p, len);
	}
	if (!cc_checks_verdict(cc))
		return;
	if (cc->file.w.error) {
		errno = cc->file.w.error;
		int e = errno;

		log_error("%s: queue file write error: %s", cc->file.qid, strerror(e));
		cc_fail(cc, ST_DEFER, cc_write_error(e));
	}
}

static void cc_data(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	const struct ipc_attr *a = ipc_get(m, A_DATA);

	if (a == NULL)
		cc_protocol_error(cc, "op=data without data");
	else
		cc_data_bytes(cc, a->value, a->len);
}

/* Printable for the log: client text must not forge log lines. */
static void cc_log_safe(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] == 127)
			s[i] = '?';
}

static void cc_log_accepted(struct cleanup_conn *cc)
{
	const char *id = buf_cstr(&cc->msgid);
	size_t n = strlen(id);

	cc_log_safe(cc->msgid.data, cc->msgid.len);
	cc_log_safe(cc->sender, strlen(cc->sender));
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		log_qid(cc->file.qid, "message-id=%s", id);
	else
		log_qid(cc->file.qid, "message-id=<%s>", cc->have_msgid ? id : "");
	log_qid(cc->file.qid, "from=<%s>, size=%lld, nrcpt=%zu (queue active)", cc->sender,
	    cc->size + cc->added, cc->nrcpt);
}

/* The group commit is done (commit.c): the reply; true when qmgr is to
 * be told. */
static bool cc_committed(void *ctx, int err)
{
	struct cleanup_conn *cc = ctx;
	const char *qid = cc->file.qid;
	bool tell_qmgr = false;

	if (err != 0) {
		log_error("%s: queue file write error: %s", qid, strerror(err));
		cc_reply(cc, ST_DEFER, A_REASON, cc_write_error(err), CC_CLOSING);
	} else {
		cc_reply(cc, ST_OK, A_QUEUE_ID, qid, CC_CLOSING);
		cc_log_accepted(cc);
		if (cc->file.hold && !(cc->checks && checks_hold(cc->checks)))
			log_qid(qid, "hold: quarantined by a milter");
		else
			tell_qmgr = true;
	}
	cc_pump(cc);
	return tell_qmgr;
}

/* The header record (after the body: results known at the end go on
 * top), the completion mark; the reply comes from cc_committed(). */
static void cc_commit(struct cleanup_conn *cc)
{
	struct buf ar = BUF_INIT;

	if (cc->ma) {
		struct buf why = BUF_INIT;

		cleanup_msgauth_result(cc->ma, buf_cstr(&cc->hdr_rest), cc->hdr_rest.len, &ar);
		if (cleanup_msgauth_reject(cc->ma, &why)) {
			/* Before the 250: an SMTP refusal, nothing queued. */
			cc_fail(cc, ST_REJECT, buf_cstr(&why));
			cc->state = CC_CLOSING;
			buf_free(&why);
			buf_free(&ar);
			return;
		}
		buf_free(&why);
	}
	if (cc->sign)
		cleanup_sign_result(cc->sign, buf_cstr(&cc->hdr_rest), cc->hdr_rest.len, &ar);
	cc->added += (long long)ar.len;
	buf_append(&ar, buf_cstr(&cc->hdr_top), cc->hdr_top.len);
	buf_append(&ar, buf_cstr(&cc->hdr_rest), cc->hdr_rest.len);
	qfw_header(&cc->file.w, buf_cstr(&ar), ar.len);
	buf_free(&ar);
	cc->state = CC_COMMIT;
	cleanup_commit_queue(cc->loop, &cc->file, cc_committed, cc);
}

/* The last key look-up answered (from the event loop). */
static void cc_verified(void *ctx)
{
	struct cleanup_conn *cc = ctx;

	if (cc->state != CC_VERIFY)
		return;
	cc_commit(cc);
	if (cc->state != CC_COMMIT)
		event_fd_events(cc->loop, cc->ipc.fd, EV_WRITE);
}

/* The end of a DISCARDed message: smtpd hears ok, nothing is queued. */
static void cc_discard_end(struct cleanup_conn *cc)
{
	if (cc->state != CC_DISCARD) {
		cc->state = CC_CLOSING; /* rejected or deferred: answered */
		return;
	}
	log_qid(cc->discard_qid, "discarded by header/body checks");
	cc_reply(cc, ST_OK, A_QUEUE_ID, cc->discard_qid, CC_CLOSING);
}

static void cc_end(struct cleanup_conn *cc)
{
	if (cc->state == CC_HEADER) {
		hdr_split_finish(&cc->split, buf_cstr(&cc->head), cc->head.len);
		cc_header_done(cc);
	}
	if (cc->checks) {
		struct buf out = BUF_INIT;

		checks_body_end(cc->checks, &out);
		if (out.len > 0)
			cc_body_store(cc, out.data, out.len);
		buf_free(&out);
		if (!cc_checks_verdict(cc)) {
			cc_discard_end(cc);
			return;
		}
		if (checks_hold(cc->checks))
			cc->file.hold = true;
	}
	qfw_body_end(&cc->file.w);
	/* Known once the header is: smtp reads it from the envelope. */
	if (cc->tls_optional)
		qfw_attr(&cc->file.w, A_TLS_REQUIRED, "no");
	if (cc->reject)
		qfw_attr(&cc->file.w, A_REJECT, cc->reject);
	cc_put_rcpts(cc);
	if (cc->ma && cleanup_msgauth_end(cc->ma, cc_verified, cc)) {
		cc->state = CC_VERIFY;
		return;
	}
	cc_commit(cc);
}

/* "QID: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: ...". */
static void cc_milter_log(
    const char *qid, const struct cleanup_milter *cm, const char *action, const char *text)
{
	char *from = xstrdup(cm->sender);

	cc_log_safe(from, strlen(from));
	log_qid(
	    qid, "%s: %s from localhost[127.0.0.1]: %s; from=<%s>", action, cm->stage, text, from);
	free(from);
}

/* The begin record to write the message with: the one received, with the
 * envelope (and hold) as the milters left it when they accepted. */
static bool cc_milter_begin(
    struct cleanup_conn *cc, const struct cleanup_milter *cm, bool edited, struct ipc_msg *out)
{
	static const char *const envelope[] = {A_SENDER, A_RCPT, A_ORCPT, A_NOTIFY, A_HOLD};
	struct ipc_msg orig;
	struct buf rec = BUF_INIT;
	size_t used;
	bool ok;

	ipc_msg_init(&orig);
	ok = ipc_parse(cc->begin_rec.data, cc->begin_rec.len, cc->begin_rec.len, &orig, &used,
		 NULL) == IPC_OK;
	for (size_t i = 0; ok && i < orig.count; i++) {
		bool skip = false;

		for (size_t k = 0; edited && k < sizeof(envelope) / sizeof(envelope[0]); k++)
			skip |= strcmp(orig.attrs[i].name, envelope[k]) == 0;
		if (!skip)
			ipc_put(&rec, orig.attrs[i].name, orig.attrs[i].value, orig.attrs[i].len);
	}
	if (edited) {
		ipc_put_str(&rec, A_SENDER, cm->sender);
		for (size_t i = 0; i < cm->nrcpt; i++) {
			ipc_put_str(&rec, A_RCPT, cm->rcpt[i].addr);
			if (cm->rcpt[i].orcpt)
				ipc_put_str(&rec, A_ORCPT, cm->rcpt[i].orcpt);
			if (cm->rcpt[i].notify)
				ipc_put_str(&rec, A_NOTIFY, cm->rcpt[i].notify);
		}
		if (cm->quarantine)
			ipc_put_str(&rec, A_HOLD, "yes");
	}
	ipc_end(&rec);
	ok = ok && ipc_parse(rec.data, rec.len, rec.len, out, &used, NULL) == IPC_OK;
	ipc_msg_free(&orig);
	buf_free(&rec);
	return ok;
}

/*
 * The milters accepted, rejected (5xx) or discarded the message: it is
 * written as any message from its begin record (edited when accepted), a
 * rejected one marked so that qmgr bounces every recipient with the
 * milter's reply, as Postfix's cleanup bounces it.
 */
static void cc_milter_write(struct cleanup_conn *cc, struct cleanup_milter *cm, const char *text)
{
	bool accept = cm->verdict == CM_ACCEPT;
	struct ipc_msg m;

	ipc_msg_init(&m);
	if (accept && cm->nrcpt == 0) {
		cm->verdict = CM_DISCARD;
		cm->stage = "END-OF-MESSAGE";
		accept = false;
		text = "milter removed every recipient";
	}
	if (!cc_milter_begin(cc, cm, accept, &m)) {
		cc_protocol_error(cc, "begin record");
		cc->state = CC_CLOSING;
		ipc_msg_free(&m);
		return;
	}
	cc->state = CC_BEGIN;
	cc_begin(cc, &m);
	ipc_msg_free(&m);
	if (cc->state == CC_HEADER && cm->verdict == CM_DISCARD) {
		cc_milter_log(cc->file.qid, cm, "milter-discard",
		    text ? text : "milter triggers DISCARD action");
		strlcpy(cc->discard_qid, cc->file.qid, sizeof(cc->discard_qid));
		cleanup_file_discard(&cc->file);
		cc_reply(cc, ST_OK, A_QUEUE_ID, cc->discard_qid, CC_CLOSING);
		return;
	}
	if (cc->state == CC_HEADER) {
		if (cm->verdict == CM_REJECT) {
			cc_milter_log(cc->file.qid, cm, "milter-reject", text);
			cc->reject = xstrdup(text);
		} else if (cm->quarantine) {
			cc_milter_log(cc->file.qid, cm, "milter-hold", cm->quarantine);
		}
		cc->size = 0;
		cc_data_bytes(cc, buf_cstr(&cm->message), cm->message.len);
	}
	/* As op=end would (cc_dispatch). */
	if (cc->state == CC_HEADER || cc->state == CC_BODY)
		cc_end(cc);
	else if (cc->state == CC_DISCARD)
		cc_discard_end(cc);
	else if (cc->state == CC_DRAIN)
		cc->state = CC_CLOSING;
}

/*
 * op=end of a held local submission: the queue file is made now, and the
 * Received:, Date:, Message-ID: (and From:) that cleanup adds go into the
 * held message before the milters see it, as Postfix's milters see them in
 * its queue file (and an OpenDKIM milter signs them).  The message is then
 * written without adding them again.  False when the answer was given.
 */
static bool cc_milter_headers(struct cleanup_conn *cc)
{
	struct cleanup_milter *cm = cc->milter;
	struct received_info ri = {0};
	struct missing_info mi = {0};
	struct hdr_split split;
	struct ipc_msg m;
	struct buf out = BUF_INIT;
	const char *msg = buf_cstr(&cm->message);
	char date[HDR_DATE_SIZE], *msgid;
	time_t now = time(NULL);
	struct tm tm;
	size_t used;

	if (cleanup_file_create(&cc->file) < 0) {
		int e = errno;

		log_error("cannot create queue file in %s: %s", QUEUE_INCOMING, strerror(e));
		cc_fail(cc, ST_DEFER, cc_write_error(e));
		return false;
	}
	ipc_msg_init(&m);
	if (ipc_parse(cc->begin_rec.data, cc->begin_rec.len, cc->begin_rec.len, &m, &used, NULL) !=
	    IPC_OK) {
		ipc_msg_free(&m);
		cc_protocol_error(cc, "begin record");
		return false;
	}
	hdr_split_init(&split, (size_t)config_size("header_size_limit"));
	if (!hdr_split_scan(&split, msg, cm->message.len))
		hdr_split_finish(&split, msg, cm->message.len);
	localtime_r(&now, &tm);
	hdr_date_format(date, &tm);
	ri.myhostname = config_str("myhostname");
	ri.qid = cc->file.qid;
	ri.date = date;
	ri.uid = ipc_get_str(&m, A_UID);
	ri.protocol = ipc_get_str(&m, A_PROTOCOL);
	ri.rcpt = cm->nrcpt == 1 ? cm->rcpt[0].addr : NULL;
	hdr_received_build(&out, &ri);
	buf_append(&out, msg, split.header_len);
	if (out.len > 0 && out.data[out.len - 1] != '\n')
		buf_putc(&out, '\n');
	msgid = cc_new_msgid(cc);
	mi.date = date;
	mi.msgid = msgid;
	mi.from_addr = cm->sender;
	mi.fullname = ipc_get_str(&m, A_FULLNAME);
	hdr_missing_build(&out, msg, split.header_len, &mi);
	buf_append(&out, msg + split.header_len, cm->message.len - split.header_len);
	free(msgid);
	ipc_msg_free(&m);
	buf_free(&cm->message);
	cm->message = out;
	cc->milter_headers = true;
	return true;
}

/* The milters' verdict on a held local submission (milter.h). */
static void cc_milter_done(void *ctx, struct cleanup_milter *cm)
{
	struct cleanup_conn *cc = ctx;
	const char *text = cm->reply ? cm->reply : "";

	/* "550 5.7.1 text" -> "5.7.1 text", as cleanup's reasons read. */
	text += strspn(text, "0123456789");
	text += strspn(text, " -");
	if (cm->verdict == CM_TEMPFAIL || cm->verdict == CM_CONFIG) {
		cc_milter_log("NOQUEUE", cm, "milter-reject", text);
		cleanup_file_discard(&cc->file); /* made for the headers; pickup tries again */
		cc_reply(cc, ST_DEFER, A_REASON, text, CC_CLOSING);
	} else {
		cc_milter_write(cc, cm, cm->verdict == CM_REJECT ? text : NULL);
	}
	cc->milter = NULL;
	cleanup_milter_free(cm);
	cc_pump(cc);
}

/* Acts on one record according to the state. */
static void cc_dispatch(struct cleanup_conn *cc, const struct ipc_msg *m)
{
	const char *op = ipc_get_str(m, A_OP);
	bool is_end = op && strcmp(op, OP_END) == 0;

	if (cc->state == CC_BEGIN) {
		if (op && strcmp(op, OP_BEGIN) == 0)
			cc_begin(cc, m);
		else
			cc_protocol_error(cc, "expected op=begin");
	} else if (cc->state == CC_MILTER_HOLD) {
		if (op && strcmp(op, OP_DATA) == 0) {
			cc_data(cc, m);
		} else if (is_end && cc_milter_headers(cc)) {
			cc->state = CC_MILTER;
			cleanup_milter_run(cc->milter, cc_milter_done, cc);
		} else if (is_end) {
			/* answered by cc_milter_headers */
		} else {
			cc_protocol_error(cc, "expected op=data or op=end");
		}
	} else if (cc->state == CC_HEADER || cc->state == CC_BODY) {
		if (op && strcmp(op, OP_DATA) == 0)
			cc_data(cc, m);
		else if (is_end)
			cc_end(cc);
		else
			cc_protocol_error(cc, "expected op=data or op=end");
	} else if (cc->state == CC_DRAIN && is_end) {
		cc->state = CC_CLOSING;
	} else if (cc->state == CC_DISCARD && is_end) {
		cc_discard_end(cc);
	}
}

/* Reads what is there and acts on every complete record. */
static void cc_read(struct cleanup_conn *cc)
{
	const char *why = NULL;
	enum ipc_result r;
	ssize_t n = ipc_conn_fill(&cc->ipc);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	cc->last_active = event_now(cc->loop);
	while (
	    cc->state != CC_CLOSING && (r = ipc_conn_next(&cc->ipc, &cc->msg, &why)) != IPC_MORE) {
		if (r == IPC_ERROR) {
			cc_protocol_error(cc, why ? why : "malformed record");
			cc->state = CC_CLOSING; /* nothing after it can be trusted */
			break;
		}
		cc_dispatch(cc, &cc->msg);
	}
	if (n <= 0 && cc->state != CC_CLOSING && cc->state != CC_COMMIT) {
		/* EOF or error before op=end: the client gave up on the message. */
		log_debug("%s: client went away before the end of the message",
		    cc->file.fd >= 0 ? cc->file.qid : "NOQUEUE");
		cleanup_file_discard(&cc->file);
		buf_reset(&cc->ipc.out);
		cc->state = CC_CLOSING;
	}
}

static void cc_on_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct cleanup_conn *cc = ctx;

	(void)loop;
	(void)fd;
	if (events & (EV_READ | EV_ERROR))
		cc_read(cc);
	cc_pump(cc);
}

static void cc_on_timer(struct event_loop *loop, void *ctx)
{
	struct cleanup_conn *cc = ctx;
	long long idle = event_now(loop) - cc->last_active;

	cc->timer = NULL;
	if (idle < cc_idle_ms() || cc->state == CC_COMMIT || cc->state == CC_MILTER) {
		cc->timer = event_timer_add(
		    loop, idle < cc_idle_ms() ? cc_idle_ms() - idle : 1000, cc_on_timer, cc);
		return;
	}
	log_warn("%s: timeout: no input for %lld s, connection dropped",
	    cc->file.fd >= 0 ? cc->file.qid : "NOQUEUE", idle / 1000);
	cc_free(cc);
}

void cleanup_conn_accept(struct event_loop *loop, int fd, void *ctx)
{
	struct cleanup_conn *cc = xcalloc(1, sizeof(*cc));

	(void)ctx;
	cc->loop = loop;
	ipc_conn_init(&cc->ipc, fd);
	ipc_msg_init(&cc->msg);
	cc->file.fd = -1;
	cc->file.finished = true;
	cc->state = CC_BEGIN;
	cc->last_active = event_now(loop);
	cc->timer = event_timer_add(loop, cc_idle_ms(), cc_on_timer, cc);
	event_fd_set(loop, fd, EV_READ, cc_on_event, cc);
	cc_count++;
}

bool cleanup_conn_idle(void *ctx)
{
	(void)ctx;
	return cc_count == 0;
}
