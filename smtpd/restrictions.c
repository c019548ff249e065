/*
 * restrictions.c - smtpd_{client,helo,sender,relay,recipient,data}_restrictions.
 *
 * Each list is evaluated left to right; the first restriction that
 * decides ends that list: "permit" (and OK in a table) ends only the list
 * it is in, a reject ends the command.  With smtpd_delay_reject = yes (the
 * default, as in Postfix) the client, HELO and sender lists wait until
 * RCPT TO, so that the log shows the recipient and clients that do not
 * expect a reject at MAIL FROM are not confused.  The relay list runs
 * before the recipient list, and an address in a virtual domain must
 * exist whatever the lists said (Postfix's smtpd_reject_unlisted_recipient).
 *
 * Restriction names come from lib/restr_names.c, the one list; tern start
 * and tern check refuse a list with a name tern does not implement
 * (config_check.c).  Should one reach smtpd all the same (a reload), the
 * command is deferred with 451 4.3.5 rather than the restriction skipped.
 * A bare "type:table" is the access table of the list's stage, as in
 * Postfix; reject and defer answer reject_code and defer_code.
 * A table that cannot be read defers too, never permits or rejects.
 * DNS look-ups (reject_unknown_*_domain) do not block: restr_check()
 * returns RESTR_WAIT and the command is run again when the answer is in.
 */
#include "restrictions.h"

#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "dns.h"
#include "dnsbl.h"
#include "greylist.h"
#include "log.h"
#include "maps.h"
#include "policy_service.h"
#include "resolve.h"
#include "restr_names.h"
#include "smtpd.h"
#include "policy_spec.h"
#include "sock.h"
#include "util.h"

/* What one restriction said. */
enum restr_verdict {
	V_DUNNO,  /* no opinion: next restriction */
	V_PERMIT, /* ends this list */
	V_REJECT, /* ends the command; reply set */
	V_WAIT,	  /* a DNS answer is awaited */
};

/*
 * DEFER_IF_PERMIT / DEFER_IF_REJECT (Postfix): a 4xx kept aside while the
 * lists of one command run; it replaces the final permit (explicit or by
 * reaching the end) or a later 5xx.
 */
struct restr_defer {
	bool if_permit, if_reject;
	struct buf permit_reply, reject_reply;
	struct buf warnings; /* warn_if_reject: replies not given, one a line */
};

struct restr_ctx {
	struct smtpd_session *s;
	struct restr_defer *defer;
	enum restr_stage stage; /* of the list being evaluated */
	const char *rcpt;
	struct buf *reply;
	const char *list; /* the list's parameter name */
	char **words;	  /* the list, for "check_x_access table" */
	size_t *pos;
};

/* "Client host rejected" and the <subject> of a reply, per stage. */
static const char *restr_what(enum restr_stage stage)
{
	static const char *const what[] = {"Client host rejected", "Helo command rejected",
	    "Sender address rejected", "Recipient address rejected", "Recipient address rejected",
	    "Data command rejected"};

	return what[stage];
}

static void restr_subject(const struct restr_ctx *c, struct buf *out)
{
	const struct smtpd_session *s = c->s;

	switch (c->stage) {
	case RESTR_CLIENT: buf_printf(out, "%s[%s]", s->name, s->addr); break;
	case RESTR_HELO: buf_puts(out, s->helo ? s->helo : ""); break;
	case RESTR_SENDER: buf_puts(out, s->sender ? s->sender : ""); break;
	case RESTR_RELAY:
	case RESTR_RECIPIENT: buf_puts(out, c->rcpt ? c->rcpt : ""); break;
	case RESTR_DATA: buf_puts(out, "DATA"); break;
	}
}

static enum restr_verdict restr_reject(
    struct restr_ctx *c, int code, const char *dsn, const char *text)
{
	struct buf subj = BUF_INIT;

	restr_subject(c, &subj);
	buf_reset(c->reply);
	buf_printf(
	    c->reply, "%d %s <%s>: %s: %s", code, dsn, buf_cstr(&subj), restr_what(c->stage), text);
	buf_free(&subj);
	return V_REJECT;
}

/* A 4xx or 5xx from a parameter such as access_map_reject_code. */
static int restr_code(const char *param, int fallback)
{
	long v = config_int(param);

	return v >= 400 && v <= 599 ? (int)v : fallback;
}

static enum restr_verdict restr_config_error(struct restr_ctx *c, const char *why)
{
	log_warn("%s: %s", c->list, why);
	buf_reset(c->reply);
	buf_puts(c->reply, "451 4.3.5 Server configuration error");
	return V_REJECT;
}

int restr_access_action(const char *value, const char *what, const char *subject, struct buf *reply)
{
	char *v = xstrdup(value), *word = str_trim(v), *text;
	int code = 0, r = 0, deferred = 0;
	const char *dsn;

	text = word + strcspn(word, " \t");
	if (*text)
		*text++ = 0;
	text = str_trim(text);
	switch (restr_access_word(word)) {
	case RA_PERMIT: r = 1; break;
	case RA_REJECT: code = restr_code("access_map_reject_code", 554); break;
	case RA_DEFER: code = restr_code("access_map_defer_code", 450); break;
	case RA_DEFER_IF_PERMIT:
		code = restr_code("access_map_defer_code", 450);
		deferred = RESTR_ACTION_DEFER_IF_PERMIT;
		break;
	case RA_DEFER_IF_REJECT:
		code = restr_code("access_map_defer_code", 450);
		deferred = RESTR_ACTION_DEFER_IF_REJECT;
		break;
	case RA_CODE: code = atoi(word); break;
	case RA_DUNNO: break;
	case RA_UNSUPPORTED:
		/* tern check refuses the ones it can read beforehand */
		log_warn("access table result not supported, ignored: %s", value);
		break;
	}
	if (code) {
		char own[16] = "";
		size_t n = strspn(text, "0123456789.");

		/* Postfix: text that starts with its own x.y.z of the right class. */
		if (text[0] == (code < 500 ? '4' : '5') && text[1] == '.' && n < sizeof(own) &&
		    (text[n] == ' ' || text[n] == 0)) {
			memcpy(own, text, n);
			text = str_trim(text + n);
		}
		dsn = *own ? own : code < 500 ? "4.7.1" : "5.7.1";
		buf_reset(reply);
		buf_printf(reply, "%d %s <%s>: %s: %s", code, dsn, subject, what,
		    *text ? text : "Access denied");
		/* Table text ends up in a reply line: no control characters. */
		for (size_t i = 0; i < reply->len; i++)
			if ((unsigned char)reply->data[i] < 0x20)
				reply->data[i] = ' ';
		r = deferred ? deferred : -1;
	}
	free(v);
	return r;
}

static enum restr_verdict restr_tempfail(struct restr_ctx *c)
{
	buf_reset(c->reply);
	buf_puts(c->reply, "451 4.3.0 Temporary lookup failure");
	return V_REJECT;
}

/* Looks keys up in order; the first found decides. */
/* A restriction or table said DEFER_IF_PERMIT / _IF_REJECT: the reply in
 * c->reply is kept for later (the first one of each kind counts). */
static enum restr_verdict restr_defer_later(struct restr_ctx *c, bool if_permit)
{
	struct restr_defer *d = c->defer;

	if (if_permit && !d->if_permit) {
		d->if_permit = true;
		buf_reset(&d->permit_reply);
		buf_puts(&d->permit_reply, buf_cstr(c->reply));
	} else if (!if_permit && !d->if_reject) {
		d->if_reject = true;
		buf_reset(&d->reject_reply);
		buf_puts(&d->reject_reply, buf_cstr(c->reply));
	}
	buf_reset(c->reply);
	return V_DUNNO;
}

/* restr_access_action's answer as a verdict. */
static enum restr_verdict restr_action_verdict(struct restr_ctx *c, int r)
{
	if (r == RESTR_ACTION_DEFER_IF_PERMIT || r == RESTR_ACTION_DEFER_IF_REJECT)
		return restr_defer_later(c, r == RESTR_ACTION_DEFER_IF_PERMIT);
	return r > 0 ? V_PERMIT : r < 0 ? V_REJECT : V_DUNNO;
}

static enum restr_verdict restr_access(struct restr_ctx *c, const char *spec, char **keys)
{
	struct maps *m = maps_open(spec);
	enum maps_status st = MAPS_NOTFOUND;
	const char *val = NULL;
	struct buf subj = BUF_INIT;
	int r;

	for (size_t i = 0; keys[i] && st == MAPS_NOTFOUND; i++)
		st = maps_find(m, keys[i], 0, &val);
	if (st != MAPS_FOUND)
		return st == MAPS_TEMPFAIL ? restr_tempfail(c) : V_DUNNO;
	restr_subject(c, &subj);
	r = restr_access_action(val, restr_what(c->stage), buf_cstr(&subj), c->reply);
	buf_free(&subj);
	return restr_action_verdict(c, r);
}

static void keys_add(char ***keys, size_t *n, const char *k)
{
	*keys = xreallocarray(*keys, *n + 2, sizeof(char *));
	(*keys)[(*n)++] = xstrdup(k);
	(*keys)[*n] = NULL;
}

/* A domain, then its parent domains (Postfix's default matching). */
static void keys_domain(char ***keys, size_t *n, const char *domain)
{
	for (const char *d = domain; d && *d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL)
		keys_add(keys, n, d);
}

/* Client, in Postfix's order: the verified name and its parent domains,
 * the address, its shorter prefixes (1.2.3, 1.2, 1). */
static char **keys_client(const struct smtpd_session *s)
{
	char **keys = NULL, *a = xstrdup(s->addr), *p;
	size_t n = 0;
	char sep = strchr(a, ':') ? ':' : '.';

	if (s->name_status == 2)
		keys_domain(&keys, &n, s->name);
	keys_add(&keys, &n, a);
	while ((p = strrchr(a, sep)) != NULL) {
		*p = 0;
		if (*a)
			keys_add(&keys, &n, a);
	}
	free(a);
	return keys;
}

/* Address: full, domain and its parents, "local@"; "<>" for the null sender. */
static char **keys_addr(const char *addr)
{
	char **keys = NULL, *local, *domain, *lp;
	size_t n = 0;

	if (*addr == 0) {
		keys_add(&keys, &n, "<>");
		return keys;
	}
	addr_split(addr, &local, &domain);
	keys_add(&keys, &n, addr);
	keys_domain(&keys, &n, domain);
	lp = xasprintf("%s@", local);
	keys_add(&keys, &n, lp);
	free(lp);
	free(local);
	free(domain);
	return keys;
}

static enum restr_verdict restr_check_access(struct restr_ctx *c, const char *name)
{
	const char *spec = c->words[*c->pos + 1];
	const struct smtpd_session *s = c->s;
	char **keys = NULL;
	size_t n = 0;
	enum restr_verdict v;

	if (spec == NULL)
		return restr_config_error(c, "missing table after check_*_access");
	(*c->pos)++;
	if (strcmp(name, "check_client_access") == 0)
		keys = keys_client(s);
	else if (strcmp(name, "check_helo_access") == 0 && s->helo)
		keys_domain(&keys, &n, s->helo);
	else if (strcmp(name, "check_sender_access") == 0 && s->sender)
		keys = keys_addr(s->sender);
	else if (strcmp(name, "check_recipient_access") == 0 && c->rcpt)
		keys = keys_addr(c->rcpt);
	if (keys == NULL)
		return V_DUNNO;
	v = restr_access(c, spec, keys);
	strv_free(keys);
	return v;
}

static char *restr_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? xstrdup(at + 1) : xstrdup("");
}

/* reject_non_fqdn_*: a domain needs a dot (an address literal is fine). */
static bool restr_fqdn(const char *domain)
{
	return domain[0] == '[' ||
	       (strchr(domain, '.') != NULL && domain[strlen(domain) - 1] != '.');
}

static enum restr_verdict restr_non_fqdn_addr(
    struct restr_ctx *c, const char *addr, const char *dsn)
{
	char *domain;
	bool ok;

	if (addr == NULL || *addr == 0)
		return V_DUNNO;
	domain = restr_domain_of(addr);
	ok = restr_fqdn(domain);
	free(domain);
	return ok ? V_DUNNO : restr_reject(c, 504, dsn, "need fully-qualified address");
}

/* Whether the client's address (or, rhs, a domain) is listed in zone. */
static enum dns_status restr_rbl_listed(
    const char *addr, bool rhs, const char *zone, const char *filter)
{
	struct buf name = BUF_INIT;
	const unsigned char *ans;
	struct dns_addr *a = NULL;
	size_t n = 0;
	unsigned ttl;
	int len;
	enum dns_status st = DNS_NOTFOUND;

	if (rhs ? dnsbl_domain_query_name(addr, zone, &name) : dnsbl_query_name(addr, zone, &name))
		st = dns_poll(buf_cstr(&name), ns_t_a, &ans, &len);
	buf_free(&name);
	if (st != DNS_OK)
		return st;
	st = DNS_NOTFOUND;
	if (dns_addrs_from_answer(ans, len, AF_INET, 0, &a, &n, &ttl) == DNS_OK)
		for (size_t i = 0; i < n && st != DNS_OK; i++) {
			char text[64];

			sock_ntop((const struct sockaddr *)&a[i].sa, text, sizeof(text), NULL);
			if (dnsbl_filter_match(filter, text))
				st = DNS_OK;
		}
	free(a);
	return st;
}

/*
 * reject_rbl_client zone[=filter]: the client's address is listed.  A
 * failed look-up lists nothing (Postfix does the same: a DNSBL that is
 * down must not stop mail).  The reply is Postfix's default_rbl_reply.
 */
static enum restr_verdict restr_rbl_client(struct restr_ctx *c)
{
	const char *site = c->words[*c->pos + 1];
	char *zone, *filter;
	enum dns_status st;

	if (site == NULL || !dnsbl_site_parse(site, &zone, &filter))
		return restr_config_error(c, "missing or bad DNSBL after reject_rbl_client");
	(*c->pos)++;
	st = restr_rbl_listed(c->s->addr, false, zone, filter);
	if (st == DNS_OK) {
		buf_reset(c->reply);
		buf_printf(c->reply,
		    "%d 5.7.1 Service unavailable; Client host [%s] blocked using %s",
		    restr_code("maps_rbl_reject_code", 554), c->s->addr, zone);
	}
	free(zone);
	free(filter);
	return st == DNS_PENDING ? V_WAIT : st == DNS_OK ? V_REJECT : V_DUNNO;
}

/* The protocol_state of the command the lists run for. */
static const char *restr_state(const struct restr_ctx *c)
{
	if (c->stage == RESTR_DATA)
		return "DATA";
	if (c->rcpt)
		return "RCPT";
	if (c->s->sender)
		return "MAIL";
	return c->s->helo ? "HELO" : "CONNECT";
}

/*
 * check_policy_service inet:host:port | unix:path: the server's action is
 * read as an access table's (OK, DUNNO, REJECT text, DEFER text,
 * DEFER_IF_PERMIT text, 4xx/5xx text).  The command waits for the answer
 * as for DNS (policy_service.h).
 */
static enum restr_verdict restr_policy_service(struct restr_ctx *c)
{
	const char *endpoint = c->words[*c->pos + 1];
	struct buf req = BUF_INIT, subj = BUF_INIT;
	struct policy_spec spec;
	char *action = NULL, *why = NULL;
	int r;

	if (endpoint == NULL)
		return restr_config_error(c, "missing server after check_policy_service");
	(*c->pos)++;
	if (!policy_spec_parse(endpoint, &spec, &why)) {
		enum restr_verdict v = restr_config_error(c, why);

		free(why);
		policy_spec_free(&spec);
		return v;
	}
	policy_request_build(c->s, restr_state(c), c->rcpt, spec.policy_context, &req);
	policy_spec_free(&spec);
	r = policy_service_query(c->s->loop, endpoint, buf_cstr(&req), &action);
	buf_free(&req);
	if (r == 0)
		return V_WAIT;
	restr_subject(c, &subj);
	r = restr_access_action(action, restr_what(c->stage), buf_cstr(&subj), c->reply);
	buf_free(&subj);
	free(action);
	return restr_action_verdict(c, r);
}

/*
 * reject_rhsbl_{client,reverse_client,helo,sender,recipient} zone[=filter]:
 * the domain is listed in a right-hand-side list.  Postfix's reply text.
 */
static enum restr_verdict restr_rhsbl(struct restr_ctx *c, const char *domain, const char *cls)
{
	const char *site = c->words[*c->pos + 1];
	char *zone, *filter;
	enum dns_status st = DNS_NOTFOUND;

	if (site == NULL || !dnsbl_site_parse(site, &zone, &filter))
		return restr_config_error(c, "missing or bad DNSBL after reject_rhsbl_*");
	(*c->pos)++;
	if (domain && *domain)
		st = restr_rbl_listed(domain, true, zone, filter);
	if (st == DNS_OK) {
		buf_reset(c->reply);
		buf_printf(c->reply, "%d 5.7.1 Service unavailable; %s [%s] blocked using %s",
		    restr_code("maps_rbl_reject_code", 554), cls, domain, zone);
	}
	free(zone);
	free(filter);
	return st == DNS_PENDING ? V_WAIT : st == DNS_OK ? V_REJECT : V_DUNNO;
}

/* The domain of an address, or NULL for <> and addresses without one. */
static const char *restr_addr_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : NULL;
}

static enum restr_verdict restr_unknown_domain(
    struct restr_ctx *c, const char *addr, const char *dsn_code)
{
	struct resolved r;
	char *domain;
	enum dns_status st;
	int code = restr_code("unknown_address_reject_code", 450);
	bool temp;

	if (addr == NULL || *addr == 0 || (resolve_addr(addr, &r) && r.cls != CLASS_DEFAULT))
		return V_DUNNO;
	domain = restr_domain_of(addr);
	st = domain[0] == '[' ? DNS_OK : dns_poll_domain(domain);
	free(domain);
	if (st == DNS_OK)
		return V_DUNNO;
	if (st == DNS_PENDING)
		return V_WAIT;
	/* A null MX (RFC 7505) counts as no domain, as NXDOMAIN does. */
	temp = st == DNS_RETRY || st == DNS_FAIL;
	if (temp)
		code = restr_code("unknown_address_tempfail_action_code", 450);
	return restr_reject(c, code, code < 500 ? "4.1.8" : dsn_code,
	    temp ? "Domain not found (temporary failure)" : "Domain not found");
}

/* RFC 5321 3.6.1 and 3.6.2: routing in a local part (%, !, @) is the
 * client's attempt to relay through us; only trusted clients get that. */
static bool restr_routed_local(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	for (const char *p = rcpt; at && p < at; p++)
		if (*p == '%' || *p == '!' || *p == '@')
			return true;
	return false;
}

static enum restr_verdict restr_unauth_destination(struct restr_ctx *c, int code)
{
	struct resolved r;

	if (c->rcpt == NULL)
		return V_DUNNO;
	if (!resolve_addr(c->rcpt, &r)) {
		buf_reset(c->reply);
		buf_printf(c->reply, "451 4.3.0 <%s>: Temporary lookup failure", c->rcpt);
		return V_REJECT;
	}
	if (r.cls != CLASS_DEFAULT && !restr_routed_local(c->rcpt))
		return V_DUNNO;
	buf_reset(c->reply);
	buf_printf(c->reply, "%d %s <%s>: Relay access denied", code,
	    code < 500 ? "4.7.1" : "5.7.1", c->rcpt);
	return V_REJECT;
}

/* Is user among the owners (a list) that smtpd_sender_login_maps gives? */
static bool restr_owner_has(const char *owners, const char *user)
{
	char **v = strv_split(owners, " \t,");
	bool found = false;

	for (size_t i = 0; v[i] && !found; i++)
		found = str_case_eq(v[i], user);
	strv_free(v);
	return found;
}

static enum restr_verdict restr_login_mismatch(struct restr_ctx *c)
{
	struct maps *m = maps_open("smtpd_sender_login_maps");
	const struct smtpd_session *s = c->s;
	const char *owners = NULL;
	enum maps_status st;

	if (s->sender == NULL || *s->sender == 0 || maps_empty(m))
		return V_DUNNO;
	/* The full address in every table, then "@domain" (Postfix's order). */
	st = maps_find(m, s->sender, MAPS_ADDR_DOMAIN, &owners);
	if (st == MAPS_TEMPFAIL)
		return restr_tempfail(c);
	if (st == MAPS_NOTFOUND)
		owners = NULL;
	if (s->sasl_user && (owners == NULL || !restr_owner_has(owners, s->sasl_user))) {
		char *text = xasprintf("not owned by user %s", s->sasl_user);

		c->stage = RESTR_SENDER;
		restr_reject(c, 553, "5.7.1", text);
		free(text);
		return V_REJECT;
	}
	if (!s->sasl_user && owners) {
		c->stage = RESTR_SENDER;
		return restr_reject(c, 553, "5.7.1", "not logged in");
	}
	return V_DUNNO;
}

static enum restr_verdict restr_helo(struct restr_ctx *c, bool fqdn)
{
	const char *h = c->s->helo;
	bool valid;

	if (h == NULL)
		return V_DUNNO;
	if (h[0] == '[')
		valid = h[strlen(h) - 1] == ']';
	else
		valid = addr_valid_domain(h, false);
	if (!valid)
		return restr_reject(c, 501, "5.5.2", "Invalid name");
	if (fqdn && h[0] != '[' && !restr_fqdn(h))
		return restr_reject(c, 504, "5.5.2", "need fully-qualified hostname");
	return V_DUNNO;
}

/* RFC 2920 3.1: DATA ends a group; a client that sends more before the
 * 354 is not speaking SMTP but blasting a script (a spamware trait). */
static enum restr_verdict restr_pipelining(struct restr_ctx *c)
{
	if (!c->s->pipelined_ahead || c->stage != RESTR_DATA)
		return V_DUNNO;
	buf_reset(c->reply);
	buf_puts(c->reply, "554 5.5.0 Error: improper use of SMTP command pipelining");
	return V_REJECT;
}

/* reject_unknown_helo_hostname: the HELO name has no A, AAAA or MX record. */
static enum restr_verdict restr_unknown_helo(struct restr_ctx *c)
{
	const char *h = c->s->helo;
	enum dns_status st;
	int code = restr_code("unknown_hostname_reject_code", 450);

	if (h == NULL || h[0] == '[')
		return V_DUNNO;
	st = dns_poll_domain(h);
	if (st == DNS_OK)
		return V_DUNNO;
	if (st == DNS_PENDING)
		return V_WAIT;
	if (st == DNS_RETRY || st == DNS_FAIL)
		code = restr_code("unknown_address_tempfail_action_code", 450);
	return restr_reject(c, code, code < 500 ? "4.7.1" : "5.7.1", "Host not found");
}

/*
 * reject_unknown_client_hostname (forward, FCrDNS) and
 * reject_unknown_reverse_client_hostname: Postfix's replies; a temporary
 * DNS failure is always a 450.
 */
static enum restr_verdict restr_unknown_client(struct restr_ctx *c, bool forward)
{
	int st = forward ? c->s->name_status : c->s->reverse_status;
	int code = restr_code("unknown_client_reject_code", 450);

	if (st == 2)
		return V_DUNNO;
	if (st == 4)
		code = 450;
	buf_reset(c->reply);
	buf_printf(c->reply, "%d %s Client host rejected: cannot find your %shostname, [%s]", code,
	    code < 500 ? "4.7.25" : "5.7.25", forward ? "" : "reverse ", c->s->addr);
	return V_REJECT;
}

/* A bounce (null sender) is for one recipient: RFC 3464 reports go back to
 * the one sender of the original; more than one is a spam trait. */
static enum restr_verdict restr_multi_bounce(struct restr_ctx *c)
{
	const struct smtpd_session *s = c->s;
	size_t n = s->nrcpt + (c->rcpt != NULL);

	if (s->sender == NULL || *s->sender != 0 || n < 2)
		return V_DUNNO;
	return restr_reject(c, restr_code("multi_recipient_bounce_reject_code", 550), "5.5.3",
	    "Multi-recipient bounce");
}

static enum restr_verdict restr_plaintext(struct restr_ctx *c)
{
	if (c->s->tls_phase == SMTPD_TLS_ACTIVE)
		return V_DUNNO;
	buf_reset(c->reply);
	buf_printf(c->reply, "%d 4.7.1 Session encryption is required",
	    restr_code("plaintext_reject_code", 450));
	return V_REJECT;
}

static enum restr_verdict restr_auth_destination(struct restr_ctx *c)
{
	struct resolved r;

	if (c->rcpt == NULL || !resolve_addr(c->rcpt, &r))
		return V_DUNNO;
	return r.cls != CLASS_DEFAULT && !restr_routed_local(c->rcpt) ? V_PERMIT : V_DUNNO;
}

/* A bare "type:table": the access table of the list's own stage. */
static enum restr_verdict restr_bare_table(struct restr_ctx *c, const char *spec)
{
	static const char *const as[] = {"check_client_access", "check_helo_access",
	    "check_sender_access", "check_recipient_access", "check_recipient_access", NULL};
	char *words[] = {NULL, (char *)spec, NULL};
	size_t pos = 0;
	struct restr_ctx bare = *c;

	if (as[c->stage] == NULL)
		return restr_config_error(c, "a table has no meaning in smtpd_data_restrictions");
	bare.words = words;
	bare.pos = &pos;
	return restr_check_access(&bare, as[c->stage]);
}

static const char *const restr_access_names[] = {
    "check_client_access", "check_helo_access", "check_sender_access", "check_recipient_access"};

/* One restriction (restr_names.h); c->pos may advance past its argument. */
static enum restr_verdict restr_one(struct restr_ctx *c, const char *w)
{
	struct smtpd_session *s = c->s;
	const struct restr_name *rn = restr_name_find(w);

	if (rn == NULL && restr_is_table(w))
		return restr_bare_table(c, w);
	switch (rn ? rn->id : RN_UNSUPPORTED) {
	case RN_PERMIT: return V_PERMIT;
	case RN_REJECT:
		return restr_reject(c, restr_code("reject_code", 554), "5.7.1", "Access denied");
	case RN_DEFER:
		return restr_reject(c, restr_code("defer_code", 450), "4.7.1", "Try again later");
	case RN_DEFER_IF_PERMIT:
		restr_reject(c, restr_code("defer_if_permit_code", 450), "4.7.1",
		    "defer_if_permit requested");
		return restr_defer_later(c, true);
	case RN_DEFER_IF_REJECT:
		restr_reject(c, restr_code("defer_if_reject_code", 450), "4.7.1",
		    "defer_if_reject requested");
		return restr_defer_later(c, false);
	case RN_PERMIT_MYNETWORKS:
		return sock_addr_in_networks(s->addr, config_str("mynetworks")) ? V_PERMIT
										: V_DUNNO;
	case RN_PERMIT_SASL_AUTHENTICATED: return s->sasl_user ? V_PERMIT : V_DUNNO;
	case RN_REJECT_UNAUTH_DESTINATION:
		return restr_unauth_destination(c, restr_code("relay_domains_reject_code", 554));
	case RN_DEFER_UNAUTH_DESTINATION:
		/* Postfix: the relay code made temporary (554 -> 454). */
		return restr_unauth_destination(
		    c, restr_code("relay_domains_reject_code", 554) - 100);
	case RN_PERMIT_AUTH_DESTINATION: return restr_auth_destination(c);
	case RN_REJECT_UNAUTH_PIPELINING: return restr_pipelining(c);
	case RN_REJECT_INVALID_HELO_HOSTNAME: return restr_helo(c, false);
	case RN_REJECT_NON_FQDN_HELO_HOSTNAME: return restr_helo(c, true);
	case RN_REJECT_UNKNOWN_HELO_HOSTNAME: return restr_unknown_helo(c);
	case RN_REJECT_UNKNOWN_CLIENT_HOSTNAME: return restr_unknown_client(c, true);
	case RN_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME: return restr_unknown_client(c, false);
	case RN_REJECT_NON_FQDN_SENDER: return restr_non_fqdn_addr(c, s->sender, "5.5.2");
	case RN_REJECT_NON_FQDN_RECIPIENT: return restr_non_fqdn_addr(c, c->rcpt, "5.5.2");
	case RN_REJECT_UNKNOWN_SENDER_DOMAIN: return restr_unknown_domain(c, s->sender, "5.1.8");
	case RN_REJECT_UNKNOWN_RECIPIENT_DOMAIN: return restr_unknown_domain(c, c->rcpt, "5.1.2");
	case RN_REJECT_UNLISTED_RECIPIENT:
		/* done after the lists anyway (policy.c), unless
		 * smtpd_reject_unlisted_recipient = no: then here */
		if (config_bool("smtpd_reject_unlisted_recipient") || c->rcpt == NULL)
			return V_DUNNO;
		return policy_check_rcpt(c->s, c->rcpt, c->reply) == POLICY_OK ? V_DUNNO : V_REJECT;
	case RN_REJECT_SENDER_LOGIN_MISMATCH: return restr_login_mismatch(c);
	case RN_REJECT_MULTI_RECIPIENT_BOUNCE: return restr_multi_bounce(c);
	case RN_REJECT_PLAINTEXT_SESSION: return restr_plaintext(c);
	case RN_CHECK_CLIENT_ACCESS:
	case RN_CHECK_HELO_ACCESS:
	case RN_CHECK_SENDER_ACCESS:
	case RN_CHECK_RECIPIENT_ACCESS:
		return restr_check_access(c, restr_access_names[rn->id - RN_CHECK_CLIENT_ACCESS]);
	case RN_REJECT_RBL_CLIENT: return restr_rbl_client(c);
	case RN_CHECK_POLICY_SERVICE: return restr_policy_service(c);
	case RN_REJECT_RHSBL_CLIENT:
		/* "unknown" is no name: nothing to look up. */
		return restr_rhsbl(c, s->name_status == 2 ? s->name : NULL, "Client host");
	case RN_REJECT_RHSBL_REVERSE_CLIENT:
		return restr_rhsbl(
		    c, s->reverse_status == 2 ? s->reverse_name : NULL, "Unverified Client host");
	case RN_REJECT_RHSBL_HELO: return restr_rhsbl(c, s->helo, "Helo command");
	case RN_REJECT_RHSBL_SENDER:
		return restr_rhsbl(c, restr_addr_domain(s->sender), "Sender address");
	case RN_REJECT_RHSBL_RECIPIENT:
		return restr_rhsbl(c, restr_addr_domain(c->rcpt), "Recipient address");
	case RN_CHECK_GREYLIST:
		/* Only a recipient makes a triplet; elsewhere it says nothing. */
		if (c->rcpt == NULL || c->s->sender == NULL)
			return V_DUNNO;
		return greylist_check(c->s, c->rcpt, c->reply) == GREYLIST_DEFER ? V_REJECT
										 : V_DUNNO;
	case RN_WARN_IF_REJECT: return V_DUNNO; /* restr_list applies it */
	case RN_UNSUPPORTED: break;
	}
	{
		/* config_check refuses these at start; a reload may still bring one. */
		char *why = xasprintf("%s restriction: %s", rn ? "unsupported" : "unknown", w);
		enum restr_verdict v = restr_config_error(c, why);

		free(why);
		return v;
	}
}

/* Runs one list; false when it rejected (or waits), reply set. */
static enum restr_result restr_list(struct smtpd_session *s, enum restr_stage stage,
    const char *rcpt, struct buf *reply, struct restr_defer *defer)
{
	/* restr_names.c lists them in the order of enum restr_stage. */
	const char *const *params = restr_list_params;
	char **words = config_list(params[stage]);
	size_t pos;
	struct restr_ctx c = {s, defer, stage, rcpt, reply, params[stage], words, &pos};
	enum restr_verdict v = V_DUNNO;

	for (pos = 0; words[pos] && v == V_DUNNO; pos++) {
		bool warn = strcmp(words[pos], "warn_if_reject") == 0;

		if (warn && words[++pos] == NULL)
			break;
		c.stage = stage;
		v = restr_one(&c, words[pos]);
		/* Postfix: the reject is logged as reject_warning, and the list
		 * goes on as if the restriction had no opinion. */
		if (warn && v == V_REJECT) {
			buf_printf(&defer->warnings, "%s\n", buf_cstr(reply));
			buf_reset(reply);
			v = V_DUNNO;
		}
	}
	strv_free(words);
	if (v == V_WAIT)
		return RESTR_WAIT;
	/* Postfix: a 5xx after DEFER_IF_REJECT is that 4xx instead. */
	if (v == V_REJECT && defer->if_reject && reply->len > 0 && reply->data[0] == '5') {
		buf_reset(reply);
		buf_puts(reply, buf_cstr(&defer->reject_reply));
		defer->if_reject = false;
	}
	return v == V_REJECT ? RESTR_REJECTED : RESTR_OK;
}

/* The lists said yes: a DEFER_IF_PERMIT seen on the way turns it into 4xx.
 * The warnings are logged once the command's answer is known (a command
 * that waits for DNS runs its lists again). */
static enum restr_result restr_defer_end(struct smtpd_session *s, const char *rcpt,
    enum restr_result r, struct restr_defer *d, struct buf *reply)
{
	if (r != RESTR_WAIT && d->warnings.len > 0) {
		char **lines = strv_split(buf_cstr(&d->warnings), "\n");

		for (size_t i = 0; lines[i]; i++)
			if (*lines[i])
				smtpd_log_reject(
				    s, "reject_warning", s->last_cmd, s->sender, rcpt, lines[i]);
		strv_free(lines);
	}
	buf_free(&d->warnings);
	if (r == RESTR_OK && d->if_permit) {
		buf_reset(reply);
		buf_puts(reply, buf_cstr(&d->permit_reply));
		r = RESTR_REJECTED;
	}
	buf_free(&d->permit_reply);
	buf_free(&d->reject_reply);
	return r;
}

enum restr_result restr_check(
    struct smtpd_session *s, enum restr_stage stage, const char *rcpt, struct buf *reply)
{
	bool delay = config_bool("smtpd_delay_reject");
	enum restr_stage first = RESTR_CLIENT;
	enum restr_result r = RESTR_OK;
	struct restr_defer defer = {.if_permit = false, .permit_reply = BUF_INIT};

	if (stage == RESTR_DATA)
		return restr_defer_end(
		    s, NULL, restr_list(s, RESTR_DATA, NULL, reply, &defer), &defer, reply);
	/* Without delay, earlier lists already ran at their own command. */
	if (!delay && stage == RESTR_RECIPIENT)
		first = RESTR_RELAY;
	if (delay && stage != RESTR_RECIPIENT)
		return RESTR_OK;
	for (enum restr_stage st = first; st <= stage && r == RESTR_OK; st++) {
		if (st == RESTR_HELO && s->helo == NULL)
			continue;
		if ((st == RESTR_RELAY || st == RESTR_RECIPIENT) && rcpt == NULL)
			continue;
		r = restr_list(s, st, rcpt, reply, &defer);
	}
	return restr_defer_end(s, rcpt, r, &defer, reply);
}
