/*
 * spf.c - smtpd's SPF check at MAIL FROM (RFC 7208), with
 * lib/msgauth/spf.h running inside the event loop.
 *
 * smtpd_spf_policy (the MAIL FROM identity) and smtpd_spf_helo_policy
 * (the HELO identity, RFC 7208 2.3): "none" checks nothing; "mark" checks
 * and records the result (Authentication-Results, or Received-SPF:);
 * "reject" also refuses MAIL FROM when the result is one of
 * smtpd_spf_reject_results / smtpd_spf_helo_reject_results (default:
 * fail; 550 5.7.23, RFC 7372, with the domain's explanation) -- what
 * policyd-spf's Mail_From_reject and HELO_reject do.
 * smtpd_spf_temperror_defer answers a temperror with 451 4.7.24 (the
 * client tries again later) instead of accepting the mail.  For the null
 * sender the MAIL FROM identity is the HELO name ("postmaster@helo", 2.4):
 * one check then, under both policies.  The HELO check runs once per HELO
 * name, beside the MAIL FROM one.  Clients in mynetworks or
 * smtpd_spf_exempt_networks and authenticated clients are not checked:
 * they are ours (policyd-spf's skip_addresses).
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

/* One identity's check: MAIL FROM or HELO. */
struct smtpd_spf_id {
	struct smtpd_session *s;
	struct spf_check *check; /* running */
	char *sender, *helo;	 /* what the check or result is for */
	bool helo_identity;
	bool done;
	struct spf_outcome outcome;
};

struct smtpd_spf {
	struct smtpd_spf_id mail; /* the MAIL FROM identity (HELO's for <>) */
	struct smtpd_spf_id helo; /* the HELO identity, for a non-null sender */
};

static enum smtpd_spf_mode smtpd_spf_mode(const char *param)
{
	const char *v = config_str(param);

	if (str_case_eq(v, "none"))
		return SPF_MODE_NONE;
	if (str_case_eq(v, "mark"))
		return SPF_MODE_MARK;
	if (str_case_eq(v, "reject"))
		return SPF_MODE_REJECT;
	log_fatal("bad %s: %s (none, mark or reject)", param, v);
}

/* The results a reject policy refuses: a list of result names. */
static bool smtpd_spf_rejects(const char *param, enum spf_result r)
{
	char **l = config_list(param);
	bool hit = false;

	for (char **p = l; *p; p++) {
		bool known = false;
		for (int i = SPF_NONE; i <= SPF_PERMERROR; i++)
			if (str_case_eq(*p, spf_result_name((enum spf_result)i))) {
				known = true;
				hit |= i == (int)r;
			}
		if (!known)
			log_fatal(
			    "bad %s: %s (fail, softfail, neutral, none or permerror)", param, *p);
	}
	strv_free(l);
	return hit;
}

void smtpd_spf_init(void)
{
	(void)smtpd_spf_mode("smtpd_spf_policy");
	(void)smtpd_spf_mode("smtpd_spf_helo_policy");
	(void)smtpd_spf_rejects("smtpd_spf_reject_results", SPF_NONE);
	(void)smtpd_spf_rejects("smtpd_spf_helo_reject_results", SPF_NONE);
}

static void smtpd_spf_id_free(struct smtpd_spf_id *id)
{
	spf_check_cancel(id->check);
	free(id->sender);
	free(id->helo);
	spf_outcome_free(&id->outcome);
	*id = (struct smtpd_spf_id){.s = NULL};
}

void smtpd_spf_free(struct smtpd_session *s)
{
	struct smtpd_spf *p = s->spf;

	if (p == NULL)
		return;
	smtpd_spf_id_free(&p->mail);
	smtpd_spf_id_free(&p->helo);
	free(p);
	s->spf = NULL;
}

static bool smtpd_spf_exempt(const struct smtpd_session *s)
{
	const char *extra = config_str("smtpd_spf_exempt_networks");

	return s->sasl_user != NULL || sock_addr_in_networks(s->addr, config_str("mynetworks")) ||
	       (*extra && sock_addr_in_networks(s->addr, extra));
}

static bool smtpd_spf_same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* A HELO name SPF can check: a domain name, not an address literal. */
static bool smtpd_spf_helo_name(const char *helo)
{
	return helo && *helo && *helo != '[' && strchr(helo, '.') != NULL;
}

static void smtpd_spf_done(void *ctx, const struct spf_outcome *o)
{
	struct smtpd_spf_id *id = ctx;
	struct smtpd_session *s = id->s;
	struct buf line = BUF_INIT;

	id->check = NULL;
	id->done = true;
	id->outcome.result = o->result;
	id->outcome.domain = o->domain ? xstrdup(o->domain) : NULL;
	id->outcome.mechanism = o->mechanism ? xstrdup(o->mechanism) : NULL;
	id->outcome.explanation = o->explanation ? xstrdup(o->explanation) : NULL;
	id->outcome.problem = o->problem ? xstrdup(o->problem) : NULL;
	buf_puts(&line, "spf: ");
	session_client(s, &line);
	buf_printf(&line, ": identity=%s from=<%s> helo=<%s>: ",
	    id->sender[0] && !id->helo_identity ? "mailfrom" : "helo", id->sender, id->helo);
	spf_outcome_describe(o, &line);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	if (s->dns_wait) {
		s->dns_wait = false;
		session_run(s);
	}
}

/* Is id's check (running or done) the one for this sender and HELO name? */
static bool smtpd_spf_current(const struct smtpd_spf_id *id, const char *sender, const char *helo)
{
	return id->s != NULL && smtpd_spf_same(id->sender, sender) &&
	       smtpd_spf_same(id->helo, helo);
}

/* The HELO identity's check is the same for every sender. */
static bool smtpd_spf_helo_current(const struct smtpd_spf_id *id, const char *helo)
{
	return id->s != NULL && smtpd_spf_same(id->helo, helo);
}

/* Starts a check of one identity (helo_identity: the HELO name's). */
static void smtpd_spf_start(
    struct smtpd_session *s, struct smtpd_spf_id *id, const char *sender, bool helo_identity)
{
	struct spf_query q = {
	    .ip = s->addr,
	    .sender = sender,
	    .helo = s->helo ? s->helo : "",
	    .receiver = config_str("myhostname"),
	    .helo_identity = helo_identity,
	};

	smtpd_spf_id_free(id);
	id->s = s;
	id->sender = xstrdup(sender);
	id->helo = xstrdup(q.helo);
	id->helo_identity = helo_identity;
	id->check = spf_check_start(s->loop, &q, smtpd_spf_done, id);
}

/*
 * The HELO identity is checked once per HELO name (RFC 7208 2.3), the
 * MAIL FROM identity for each sender; both at once.  For the null sender
 * the one check is of the HELO identity (2.4), under both policies.
 */
enum smtpd_spf_verdict smtpd_spf_mail(struct smtpd_session *s, struct buf *reply)
{
	enum smtpd_spf_mode mode = smtpd_spf_mode("smtpd_spf_policy");
	enum smtpd_spf_mode hmode = smtpd_spf_mode("smtpd_spf_helo_policy");
	const char *helo = s->helo ? s->helo : "";
	bool null = s->sender[0] == 0;
	bool want_mail = mode != SPF_MODE_NONE || (null && hmode != SPF_MODE_NONE);
	bool want_helo = !null && hmode != SPF_MODE_NONE && smtpd_spf_helo_name(helo);
	struct smtpd_spf *p;
	const struct spf_outcome *o;

	if ((!want_mail && !want_helo) || smtpd_spf_exempt(s)) {
		smtpd_spf_free(s);
		return SMTPD_SPF_OK;
	}
	if (s->spf == NULL)
		s->spf = xcalloc(1, sizeof(*s->spf));
	p = s->spf;
	if (!want_mail)
		smtpd_spf_id_free(&p->mail);
	else if (!smtpd_spf_current(&p->mail, s->sender, helo))
		smtpd_spf_start(s, &p->mail, s->sender, false);
	if (!want_helo)
		smtpd_spf_id_free(&p->helo);
	else if (!smtpd_spf_helo_current(&p->helo, helo))
		smtpd_spf_start(s, &p->helo, s->sender, true);
	else if (!smtpd_spf_same(p->helo.sender, s->sender)) {
		free(p->helo.sender); /* for Received-SPF's envelope-from= */
		p->helo.sender = xstrdup(s->sender);
	}
	if ((want_mail && !p->mail.done) || (want_helo && !p->helo.done))
		return SMTPD_SPF_WAIT;
	/* The HELO identity first: a forged HELO name says most (2.3). */
	o = null ? &p->mail.outcome : &p->helo.outcome;
	if ((null || want_helo) && hmode == SPF_MODE_REJECT &&
	    smtpd_spf_rejects("smtpd_spf_helo_reject_results", o->result)) {
		buf_printf(reply, "550 5.7.23 SPF: HELO %s: %s", helo,
		    o->explanation ? o->explanation : "not a permitted sender");
		return SMTPD_SPF_REJECT;
	}
	o = &p->mail.outcome;
	if (want_mail && mode == SPF_MODE_REJECT &&
	    smtpd_spf_rejects("smtpd_spf_reject_results", o->result)) {
		buf_printf(reply, "550 5.7.23 SPF: %s",
		    o->explanation ? o->explanation : "not a permitted sender");
		return SMTPD_SPF_REJECT;
	}
	for (int i = 0; i < 2; i++) {
		const struct smtpd_spf_id *id = i == 0 ? &p->helo : &p->mail;
		if (id->done && id->outcome.result == SPF_TEMPERROR &&
		    config_bool("smtpd_spf_temperror_defer")) {
			buf_printf(reply, "451 4.7.24 SPF: temporary error checking %s",
			    id->outcome.domain ? id->outcome.domain : "the sender");
			return SMTPD_SPF_DEFER;
		}
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
	const char *helo = s->helo ? s->helo : "";
	char *prop;

	if (smtpd_spf_exempt(s))
		ipc_put_str(rec, A_TRUSTED, "yes");
	if (p == NULL || s->sender == NULL)
		return;
	if (p->mail.done && smtpd_spf_current(&p->mail, s->sender, helo)) {
		ipc_put_str(rec, A_SPF, spf_result_name(p->mail.outcome.result));
		if (p->mail.sender[0])
			prop = xasprintf("smtp.mailfrom=%s", p->mail.sender);
		else
			prop = xasprintf("smtp.helo=%s", p->mail.helo);
		ipc_put_str(rec, A_SPF_PROP, prop);
		free(prop);
	}
	if (p->helo.done && smtpd_spf_helo_current(&p->helo, helo)) {
		ipc_put_str(rec, A_SPF_HELO, spf_result_name(p->helo.outcome.result));
		prop = xasprintf("smtp.helo=%s", p->helo.helo);
		ipc_put_str(rec, A_SPF_HELO_PROP, prop);
		free(prop);
	}
}

/* One Received-SPF header, folded before each key=value pair so no line
 * gets long. */
static void smtpd_spf_header(
    struct smtpd_session *s, const struct smtpd_spf_id *id, struct cleanup_client *cc)
{
	struct spf_query q = {
	    .ip = s->addr,
	    .sender = id->sender,
	    .helo = id->helo,
	    .receiver = config_str("myhostname"),
	    .helo_identity = id->helo_identity,
	};
	struct buf v = BUF_INIT, h = BUF_INIT;

	spf_received_value(&q, &id->outcome, q.receiver, &v);
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

void smtpd_spf_prepend(struct smtpd_session *s, struct cleanup_client *cc)
{
	struct smtpd_spf *p = s->spf;
	const char *helo = s->helo ? s->helo : "";

	if (p == NULL || s->sender == NULL)
		return;
	/* Authentication-Results carries it, unless cleanup does not check. */
	if (!config_bool("smtpd_spf_received_header") && config_bool("dkim_verify"))
		return;
	if (p->mail.done && smtpd_spf_current(&p->mail, s->sender, helo))
		smtpd_spf_header(s, &p->mail, cc);
	if (p->helo.done && smtpd_spf_helo_current(&p->helo, helo))
		smtpd_spf_header(s, &p->helo, cc);
}
