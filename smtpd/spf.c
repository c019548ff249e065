/*
 * spf.c - smtpd's SPF check at MAIL FROM (RFC 7208), with
 * lib/msgauth/spf.h running inside the event loop.
 *
 * smtpd_spf_policy: "none" checks nothing; "mark" checks and records the
 * result as a Received-SPF: header; "reject" also refuses MAIL FROM when
 * the result is fail (550 5.7.23, RFC 7372, with the domain's
 * explanation).  smtpd_spf_temperror_defer answers a temperror with 451
 * 4.7.24 (the client tries again later) instead of accepting the mail.
 * The identity is the MAIL FROM address, or for the null sender the HELO
 * name ("postmaster@helo", RFC 7208 2.4).  Clients in mynetworks and
 * authenticated clients are not checked: they are ours.
 *
 * The MAIL command is run again once the result is in, as smtpd does for
 * its other DNS look-ups (commands.c's CMD_RETRY): the first run starts
 * the check and waits, the check's callback wakes the session, the run
 * again finds the result kept for this sender and HELO name.  The header
 * goes to cleanup as the message's first line (smtpd_spf_prepend), so it
 * lands right below the Received: header cleanup puts on top.
 *
 * Not here: DKIM and DMARC (cleanup's job, DESIGN.md).
 */
#include <string.h>

#include "cleanup_client.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "msgauth/spf.h"
#include "proto.h"
#include "sock.h"
#include "smtpd.h"
#include "smtpd_spf.h"
#include "util.h"

enum smtpd_spf_mode { SPF_MODE_NONE, SPF_MODE_MARK, SPF_MODE_REJECT };

struct smtpd_spf {
	struct spf_check *check; /* running */
	char *sender, *helo;	 /* what the check or result is for */
	bool done;
	struct spf_outcome outcome;
};

static enum smtpd_spf_mode smtpd_spf_mode(void)
{
	const char *v = config_str("smtpd_spf_policy");

	if (str_case_eq(v, "none"))
		return SPF_MODE_NONE;
	if (str_case_eq(v, "mark"))
		return SPF_MODE_MARK;
	if (str_case_eq(v, "reject"))
		return SPF_MODE_REJECT;
	log_fatal("bad smtpd_spf_policy: %s (none, mark or reject)", v);
}

void smtpd_spf_init(void)
{
	(void)smtpd_spf_mode();
}

void smtpd_spf_free(struct smtpd_session *s)
{
	struct smtpd_spf *p = s->spf;

	if (p == NULL)
		return;
	spf_check_cancel(p->check);
	free(p->sender);
	free(p->helo);
	spf_outcome_free(&p->outcome);
	free(p);
	s->spf = NULL;
}

static bool smtpd_spf_exempt(const struct smtpd_session *s)
{
	return s->sasl_user != NULL || sock_addr_in_networks(s->addr, config_str("mynetworks"));
}

static bool smtpd_spf_same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void smtpd_spf_done(void *ctx, const struct spf_outcome *o)
{
	struct smtpd_session *s = ctx;
	struct smtpd_spf *p = s->spf;
	struct buf line = BUF_INIT;

	p->check = NULL;
	p->done = true;
	p->outcome.result = o->result;
	p->outcome.domain = o->domain ? xstrdup(o->domain) : NULL;
	p->outcome.mechanism = o->mechanism ? xstrdup(o->mechanism) : NULL;
	p->outcome.explanation = o->explanation ? xstrdup(o->explanation) : NULL;
	p->outcome.problem = o->problem ? xstrdup(o->problem) : NULL;
	buf_puts(&line, "spf: ");
	session_client(s, &line);
	buf_printf(&line, ": identity=%s from=<%s> helo=<%s>: ", p->sender[0] ? "mailfrom" : "helo",
	    p->sender, p->helo);
	spf_outcome_describe(o, &line);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	if (s->dns_wait) {
		s->dns_wait = false;
		session_run(s);
	}
}

/* Starts a check of the session's sender and HELO name. */
static void smtpd_spf_start(struct smtpd_session *s)
{
	struct spf_query q = {
	    .ip = s->addr,
	    .sender = s->sender,
	    .helo = s->helo ? s->helo : "",
	    .receiver = config_str("myhostname"),
	};

	smtpd_spf_free(s);
	s->spf = xcalloc(1, sizeof(*s->spf));
	s->spf->sender = xstrdup(s->sender);
	s->spf->helo = xstrdup(q.helo);
	s->spf->check = spf_check_start(s->loop, &q, smtpd_spf_done, s);
}

enum smtpd_spf_verdict smtpd_spf_mail(struct smtpd_session *s, struct buf *reply)
{
	enum smtpd_spf_mode mode = smtpd_spf_mode();
	struct smtpd_spf *p = s->spf;

	if (mode == SPF_MODE_NONE || smtpd_spf_exempt(s)) {
		smtpd_spf_free(s);
		return SMTPD_SPF_OK;
	}
	if (p == NULL || !smtpd_spf_same(p->sender, s->sender) ||
	    !smtpd_spf_same(p->helo, s->helo ? s->helo : "")) {
		smtpd_spf_start(s);
		return SMTPD_SPF_WAIT;
	}
	if (!p->done)
		return SMTPD_SPF_WAIT;
	if (p->outcome.result == SPF_FAIL && mode == SPF_MODE_REJECT) {
		buf_printf(reply, "550 5.7.23 SPF: %s",
		    p->outcome.explanation ? p->outcome.explanation : "not a permitted sender");
		return SMTPD_SPF_REJECT;
	}
	if (p->outcome.result == SPF_TEMPERROR && config_bool("smtpd_spf_temperror_defer")) {
		buf_printf(reply, "451 4.7.24 SPF: temporary error checking %s",
		    p->outcome.domain ? p->outcome.domain : "the sender");
		return SMTPD_SPF_DEFER;
	}
	return SMTPD_SPF_OK;
}

/*
 * For cleanup's Authentication-Results: whether the client is trusted (no
 * verification then), and the SPF result of the current sender with what
 * was checked (RFC 8601 2.7.2: smtp.mailfrom, or smtp.helo for the null
 * sender).
 */
void smtpd_spf_attrs(const struct smtpd_session *s, struct buf *rec)
{
	const struct smtpd_spf *p = s->spf;
	char *prop;

	if (smtpd_spf_exempt(s))
		ipc_put_str(rec, A_TRUSTED, "yes");
	if (p == NULL || !p->done || !smtpd_spf_same(p->sender, s->sender))
		return;
	ipc_put_str(rec, A_SPF, spf_result_name(p->outcome.result));
	if (p->sender[0])
		prop = xasprintf("smtp.mailfrom=%s", p->sender);
	else
		prop = xasprintf("smtp.helo=%s", p->helo);
	ipc_put_str(rec, A_SPF_PROP, prop);
	free(prop);
}

/* The header, folded before each key=value pair so no line gets long. */
void smtpd_spf_prepend(struct smtpd_session *s, struct cleanup_client *cc)
{
	struct smtpd_spf *p = s->spf;
	struct spf_query q;
	struct buf v = BUF_INIT, h = BUF_INIT;

	if (p == NULL || !p->done || !smtpd_spf_same(p->sender, s->sender))
		return;
	/* Authentication-Results carries it, unless cleanup does not check. */
	if (!config_bool("smtpd_spf_received_header") && config_bool("dkim_verify"))
		return;
	q.ip = s->addr;
	q.sender = p->sender;
	q.helo = p->helo;
	q.receiver = config_str("myhostname");
	q.default_exp = NULL;
	spf_received_value(&q, &p->outcome, q.receiver, &v);
	buf_puts(&h, "Received-SPF: ");
	for (const char *c = buf_cstr(&v); *c; c++) {
		if (c[0] == ' ' && (c[-1] == ')' || c[-1] == ';'))
			buf_puts(&h, "\n\t");
		else
			buf_putc(&h, *c);
	}
	buf_putc(&h, '\n');
	cleanup_client_data(cc, h.data, h.len);
	buf_free(&v);
	buf_free(&h);
}
