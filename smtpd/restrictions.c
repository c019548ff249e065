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
 * An unknown restriction name is a configuration error: the command is
 * deferred with 451 4.3.5 rather than the restriction silently skipped.
 * A table that cannot be read defers too, never permits or rejects.
 * DNS look-ups (reject_unknown_*_domain) do not block: restr_check()
 * returns RESTR_WAIT and the command is run again when the answer is in.
 */
#include "restrictions.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "dns_async.h"
#include "log.h"
#include "resolve.h"
#include "smtpd.h"
#include "sock.h"
#include "table.h"
#include "util.h"

/* What one restriction said. */
enum restr_verdict {
	V_DUNNO,  /* no opinion: next restriction */
	V_PERMIT, /* ends this list */
	V_REJECT, /* ends the command; reply set */
	V_WAIT,	  /* a DNS answer is awaited */
};

struct restr_ctx {
	struct smtpd_session *s;
	enum restr_stage stage; /* of the list being evaluated */
	const char *rcpt;
	struct buf *reply;
	const char *list; /* the list's parameter name */
	char **words;	  /* the list, for "check_x_access table" */
	size_t *pos;
};

/* Opened access tables, by spec; a failed open is retried next time. */
static struct {
	char **specs;
	struct table **tables;
	size_t n;
} restr_tables;

static struct table *restr_table(const char *spec)
{
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < restr_tables.n; i++)
		if (strcmp(restr_tables.specs[i], spec) == 0)
			break;
	if (i == restr_tables.n) {
		restr_tables.specs = xreallocarray(restr_tables.specs, i + 1, sizeof(char *));
		restr_tables.tables =
		    xreallocarray(restr_tables.tables, i + 1, sizeof(struct table *));
		restr_tables.specs[i] = xstrdup(spec);
		restr_tables.tables[i] = NULL;
		restr_tables.n++;
	}
	if (restr_tables.tables[i] == NULL) {
		restr_tables.tables[i] = table_open(spec, 0, &err);
		if (restr_tables.tables[i] == NULL)
			log_warn("access table %s: %s", spec, buf_cstr(&err));
	}
	buf_free(&err);
	return restr_tables.tables[i];
}

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
	int code = 0, r = 0;
	const char *dsn;

	text = word + strcspn(word, " \t");
	if (*text)
		*text++ = 0;
	text = str_trim(text);
	if (str_case_eq(word, "OK") || str_case_eq(word, "PERMIT")) {
		r = 1;
	} else if (str_case_eq(word, "REJECT")) {
		code = restr_code("access_map_reject_code", 554);
	} else if (str_case_eq(word, "DEFER") || str_case_eq(word, "DEFER_IF_PERMIT")) {
		code = restr_code("access_map_defer_code", 450);
	} else if (strlen(word) == 3 && (word[0] == '4' || word[0] == '5') &&
		   strspn(word, "0123456789") == 3) {
		code = atoi(word);
	} else if (strspn(word, "0123456789") == strlen(word) && word[0] == '2') {
		r = 1;
	} else if (!str_case_eq(word, "DUNNO")) {
		log_warn("access table result not supported, ignored: %s", value);
	}
	if (code) {
		dsn = code < 500 ? "4.7.1" : "5.7.1";
		buf_reset(reply);
		buf_printf(reply, "%d %s <%s>: %s: %s", code, dsn, subject, what,
		    *text ? text : "Access denied");
		/* Table text ends up in a reply line: no control characters. */
		for (size_t i = 0; i < reply->len; i++)
			if ((unsigned char)reply->data[i] < 0x20)
				reply->data[i] = ' ';
		r = -1;
	}
	free(v);
	return r;
}

/* Looks keys up in order; the first found decides. */
static enum restr_verdict restr_access(struct restr_ctx *c, const char *spec, char **keys)
{
	struct table *t = restr_table(spec);
	struct buf subj = BUF_INIT;
	enum restr_verdict v = V_DUNNO;

	if (t == NULL) {
		buf_reset(c->reply);
		buf_puts(c->reply, "451 4.3.0 Temporary lookup failure");
		return V_REJECT;
	}
	restr_subject(c, &subj);
	for (size_t i = 0; keys[i]; i++) {
		bool err = false;
		const char *val = table_lookup(t, keys[i], &err);
		int r;

		if (err) {
			buf_reset(c->reply);
			buf_puts(c->reply, "451 4.3.0 Temporary lookup failure");
			v = V_REJECT;
			break;
		}
		if (val == NULL)
			continue;
		r = restr_access_action(val, restr_what(c->stage), buf_cstr(&subj), c->reply);
		v = r > 0 ? V_PERMIT : r < 0 ? V_REJECT : V_DUNNO;
		break;
	}
	buf_free(&subj);
	return v;
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

/* Client: the address, its shorter prefixes (1.2.3, 1.2, 1), the name. */
static char **keys_client(const struct smtpd_session *s)
{
	char **keys = NULL, *a = xstrdup(s->addr), *p;
	size_t n = 0;
	char sep = strchr(a, ':') ? ':' : '.';

	keys_add(&keys, &n, a);
	while ((p = strrchr(a, sep)) != NULL) {
		*p = 0;
		if (*a)
			keys_add(&keys, &n, a);
	}
	if (strcmp(s->name, "unknown") != 0)
		keys_domain(&keys, &n, s->name);
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

static enum restr_verdict restr_unknown_domain(
    struct restr_ctx *c, const char *addr, const char *dsn_code)
{
	struct resolved r;
	char *domain;
	enum dns_state st;
	int code = restr_code("unknown_address_reject_code", 450);

	if (addr == NULL || *addr == 0 || (resolve_addr(addr, &r) && r.cls != CLASS_DEFAULT))
		return V_DUNNO;
	domain = restr_domain_of(addr);
	st = domain[0] == '[' ? DNS_EXISTS : dns_domain_state(domain);
	free(domain);
	switch (st) {
	case DNS_EXISTS: return V_DUNNO;
	case DNS_PENDING: return V_WAIT;
	case DNS_TEMPFAIL: code = restr_code("unknown_address_tempfail_action_code", 450); break;
	case DNS_NONE: break;
	}
	return restr_reject(c, code, code < 500 ? "4.1.8" : dsn_code,
	    st == DNS_TEMPFAIL ? "Domain not found (temporary failure)" : "Domain not found");
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

static enum restr_verdict restr_unauth_destination(struct restr_ctx *c)
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
	buf_printf(c->reply, "%d 5.7.1 <%s>: Relay access denied",
	    restr_code("relay_domains_reject_code", 554), c->rcpt);
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
	char **specs = config_list("smtpd_sender_login_maps");
	const struct smtpd_session *s = c->s;
	char **keys;
	const char *owners = NULL;
	bool err = false;

	if (s->sender == NULL || *s->sender == 0 || specs[0] == NULL) {
		strv_free(specs);
		return V_DUNNO;
	}
	keys = keys_addr(s->sender);
	for (size_t i = 0; specs[i] && owners == NULL; i++) {
		struct table *t = restr_table(specs[i]);

		/* The full address first, then "@domain" (Postfix's order). */
		if (t && (owners = table_lookup(t, keys[0], &err)) == NULL) {
			char *at = xasprintf(
			    "@%s", strrchr(s->sender, '@') ? strrchr(s->sender, '@') + 1 : "");

			owners = table_lookup(t, at, &err);
			free(at);
		}
		err |= t == NULL;
	}
	strv_free(keys);
	strv_free(specs);
	if (err && owners == NULL) {
		buf_reset(c->reply);
		buf_puts(c->reply, "451 4.3.0 Temporary lookup failure");
		return V_REJECT;
	}
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

/* One restriction; c->pos may advance past its argument. */
static enum restr_verdict restr_one(struct restr_ctx *c, const char *w)
{
	struct smtpd_session *s = c->s;

	if (strcmp(w, "permit") == 0)
		return V_PERMIT;
	if (strcmp(w, "reject") == 0)
		return restr_reject(c, 554, "5.7.1", "Access denied");
	if (strcmp(w, "defer") == 0)
		return restr_reject(c, 450, "4.7.1", "Try again later");
	if (strcmp(w, "permit_mynetworks") == 0)
		return sock_addr_in_networks(s->addr, config_str("mynetworks")) ? V_PERMIT
										: V_DUNNO;
	if (strcmp(w, "permit_sasl_authenticated") == 0)
		return s->sasl_user ? V_PERMIT : V_DUNNO;
	if (strcmp(w, "reject_unauth_destination") == 0)
		return restr_unauth_destination(c);
	if (strcmp(w, "reject_unauth_pipelining") == 0)
		return restr_pipelining(c);
	if (strcmp(w, "reject_invalid_helo_hostname") == 0)
		return restr_helo(c, false);
	if (strcmp(w, "reject_non_fqdn_helo_hostname") == 0)
		return restr_helo(c, true);
	if (strcmp(w, "reject_non_fqdn_sender") == 0)
		return restr_non_fqdn_addr(c, s->sender, "5.5.2");
	if (strcmp(w, "reject_non_fqdn_recipient") == 0)
		return restr_non_fqdn_addr(c, c->rcpt, "5.5.2");
	if (strcmp(w, "reject_unknown_sender_domain") == 0)
		return restr_unknown_domain(c, s->sender, "5.1.8");
	if (strcmp(w, "reject_unknown_recipient_domain") == 0)
		return restr_unknown_domain(c, c->rcpt, "5.1.2");
	if (strcmp(w, "reject_unlisted_recipient") == 0)
		return V_DUNNO; /* always done after the lists (restr_unlisted) */
	if (strcmp(w, "reject_sender_login_mismatch") == 0)
		return restr_login_mismatch(c);
	if (strncmp(w, "check_", 6) == 0 && strlen(w) > 13 &&
	    strcmp(w + strlen(w) - 7, "_access") == 0)
		return restr_check_access(c, w);
	{
		char *why = xasprintf("unknown restriction: %s", w);
		enum restr_verdict v = restr_config_error(c, why);

		free(why);
		return v;
	}
}

/* Runs one list; false when it rejected (or waits), reply set. */
static enum restr_result restr_list(
    struct smtpd_session *s, enum restr_stage stage, const char *rcpt, struct buf *reply)
{
	static const char *const params[] = {"smtpd_client_restrictions", "smtpd_helo_restrictions",
	    "smtpd_sender_restrictions", "smtpd_relay_restrictions", "smtpd_recipient_restrictions",
	    "smtpd_data_restrictions"};
	char **words = config_list(params[stage]);
	size_t pos;
	struct restr_ctx c = {s, stage, rcpt, reply, params[stage], words, &pos};
	enum restr_verdict v = V_DUNNO;

	for (pos = 0; words[pos] && v == V_DUNNO; pos++) {
		c.stage = stage;
		v = restr_one(&c, words[pos]);
	}
	strv_free(words);
	if (v == V_WAIT)
		return RESTR_WAIT;
	return v == V_REJECT ? RESTR_REJECTED : RESTR_OK;
}

enum restr_result restr_check(
    struct smtpd_session *s, enum restr_stage stage, const char *rcpt, struct buf *reply)
{
	bool delay = config_bool("smtpd_delay_reject");
	enum restr_stage first = RESTR_CLIENT;
	enum restr_result r = RESTR_OK;

	if (stage == RESTR_DATA)
		return restr_list(s, RESTR_DATA, NULL, reply);
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
		r = restr_list(s, st, rcpt, reply);
	}
	return r;
}
