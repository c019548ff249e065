/*
 * config_check.c - the configuration report (config_check.h).
 *
 * Each main.cf setting and each "-o name=value" of a master.cf service
 * goes through one function, cc_param(), so both are judged alike:
 *
 *   - a name params.c does not know is a warning, unless some value refers
 *     to it as $name (a user's own variable, as Postfix allows) or it is a
 *     per-transport parameter of a master.cf service (relay_..._limit);
 *   - a name of params.c's compatibility groups is silent (IGNORED),
 *     one info line (DIFFERENT), or a warning when its value differs from
 *     the default (UNSUPPORTED);
 *   - a number, time, size or boolean that does not parse is an error
 *     (the daemon that reads it would exit);
 *   - a "/file/name" in a list or name parameter must be readable;
 *   - restriction lists must name only restrictions smtpd implements
 *     (restr_names.c), their arguments and tables: anything else is an
 *     error, so that tern does not start to answer 451 at RCPT time.
 *
 * Then master.cf: every entry goes through mastercf_plan(); the
 * transports main.cf routes mail to must have a service that runs.
 */
#include "config_check.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/pwscheme.h"
#include "buf.h"
#include "config.h"
#include "dnsbl.h"
#include "inet_listen.h"
#include "log.h"
#include "maps.h"
#include "mastercf.h"
#include "milter/chain.h"
#include "msgauth/dkim.h"
#include "mtasts.h"
#include "pipe_conf.h"
#include "policy_spec.h"
#include "restr_names.h"
#include "sieve/sieve.h"
#include "sock.h"
#include "table.h"
#include "tls_client.h"
#include "util.h"

#define CC_SEPS " \t\r\n,"

/* Postfix's per-transport parameters: "<service>_<suffix>". */
static const char *const cc_transport_suffixes[] = {
    "destination_concurrency_limit",
    "destination_recipient_limit",
    "destination_rate_delay",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_positive_feedback",
    "destination_concurrency_negative_feedback",
    "initial_destination_concurrency",
    "extra_recipient_limit",
    "recipient_limit",
    "recipient_refill_limit",
    "recipient_refill_delay",
    "delivery_slot_cost",
    "delivery_slot_discount",
    "delivery_slot_loan",
    "minimum_delivery_slots",
    "time_limit",
    "transport_rate_delay",
    NULL,
};

static const char *const cc_transport_params[] = {
    "local_transport",
    "virtual_transport",
    "relay_transport",
    "default_transport",
    NULL,
};

struct cc {
	struct check_report *r;
	struct master_cf cf;
	bool have_cf;
	char *mastercf;
	struct config_setting *set;
	size_t nset;
};

static void cc_add(struct cc *c, enum check_level level, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void cc_add(
    struct cc *c, enum check_level level, const char *file, int line, const char *fmt, ...)
{
	struct check_report *r = c->r;
	struct check_item *it;
	va_list ap;

	r->items = xreallocarray(r->items, r->count + 1, sizeof(*r->items));
	it = &r->items[r->count++];
	it->level = level;
	it->where = file ? (line > 0 ? xasprintf("%s:%d", file, line) : xstrdup(file)) : NULL;
	va_start(ap, fmt);
	it->text = xvasprintf(fmt, ap);
	va_end(ap);
	r->errors += level == CHECK_ERROR;
	r->warnings += level == CHECK_WARN;
}

static bool cc_in(const char *const *list, const char *word)
{
	for (; *list; list++)
		if (strcmp(*list, word) == 0)
			return true;
	return false;
}

/* Some main.cf value or master.cf argument says $name. */
static bool cc_referenced(struct cc *c, const char *name)
{
	for (size_t i = 0; i < c->nset; i++)
		if (config_refers_to(c->set[i].value, name))
			return true;
	for (size_t i = 0; c->have_cf && i < c->cf.count; i++)
		for (int a = 1; a < c->cf.services[i].argc; a++)
			if (config_refers_to(c->cf.services[i].argv[a], name))
				return true;
	return false;
}

/* "relay_destination_recipient_limit" for a master.cf service "relay". */
static bool cc_transport_param(struct cc *c, const char *name)
{
	for (size_t i = 0; c->have_cf && i < c->cf.count; i++) {
		const char *s = c->cf.services[i].name;
		size_t len = strlen(s);

		if (c->cf.services[i].type != SERVICE_INET && strncmp(name, s, len) == 0 &&
		    name[len] == '_' && cc_in(cc_transport_suffixes, name + len + 1))
			return true;
	}
	return false;
}

static bool cc_value_ok(const struct param_def *def, const char *val, const char **what)
{
	long l;
	bool b;

	switch (def->type) {
	case PARAM_INT: *what = "number"; return parse_long(val, -2147483647L, 2147483647L, &l);
	case PARAM_BOOL: *what = "boolean (yes or no)"; return config_parse_bool(val, &b);
	case PARAM_TIME:
		*what = "time (a number with s, m, h, d or w)";
		return config_parse_time(val, def->unit ? def->unit : 's', &l);
	case PARAM_SIZE:
		*what = "size (a number of bytes)";
		return *val && strspn(val, "0123456789") == strlen(val);
	default: return true;
	}
}

/* An UNSUPPORTED parameter matters when its value is not the default. */
static bool cc_differs_from_default(const struct param_def *def, const char *val)
{
	char *dv = config_expand(def->def ? def->def : "");
	char **a, **b;
	bool x, y, differs = false;

	if (def->type == PARAM_BOOL && config_parse_bool(val, &x) && config_parse_bool(dv, &y)) {
		free(dv);
		return x != y;
	}
	a = strv_split(val, CC_SEPS);
	b = strv_split(dv, CC_SEPS);
	for (size_t i = 0; !differs && (a[i] || b[i]); i++)
		differs = a[i] == NULL || b[i] == NULL || strcmp(a[i], b[i]) != 0;
	strv_free(a);
	strv_free(b);
	free(dv);
	return differs;
}

/* "/file/name" entries must be readable (inside "{ }" is a table's text). */
static void cc_files(struct cc *c, const char *file, int line, const char *name,
    const struct param_def *def, const char *val)
{
	char **v = strv_split(val, CC_SEPS);
	int depth = 0;

	for (char **p = v; *p; p++) {
		bool entry = (*p)[0] == '/' && depth == 0 && (def->type == PARAM_LIST || p == v);

		for (const char *q = *p; *q; q++)
			depth += *q == '{' ? 1 : *q == '}' && depth > 0 ? -1 : 0;
		if (entry && access(*p, R_OK) < 0)
			cc_add(c, CHECK_ERROR, file, line, "%s: cannot read %s: %s", name, *p,
			    strerror(errno));
	}
	strv_free(v);
}

static void cc_networks(struct cc *c, const char *file, int line, const char *name)
{
	char **v = config_list(name); /* files read, entries as used */

	for (char **p = v; *p; p++)
		if (!sock_network_valid(*p))
			cc_add(c, CHECK_WARN, file, line,
			    "%s: \"%s\" is not a network address or prefix; it is ignored", name,
			    *p);
	strv_free(v);
}

/*
 * A table a daemon will open, opened now as it will be (maps_check).  A
 * file that cannot be read is a warning: its look-ups defer (4xx) until it
 * can be read.  A table tern cannot use - an unknown type, a line it
 * refuses where Postfix would skip the line with a warning - is an error:
 * every look-up in it would defer, and mail would wait for no visible
 * reason (virtual_alias_maps and header_checks: every message).
 */
static void cc_table(struct cc *c, const char *file, int line, const char *name, const char *spec)
{
	struct buf err = BUF_INIT;
	int rc = maps_check(spec, &err);

	if (rc == TABLE_UNREADABLE)
		cc_add(c, CHECK_WARN, file, line,
		    "%s: cannot read %s (%s); its look-ups are deferred (4xx) until it can be read",
		    name, spec, buf_cstr(&err));
	else if (rc < 0)
		cc_add(c, CHECK_ERROR, file, line, "%s: %s: %s", name, spec, buf_cstr(&err));
	buf_free(&err);
}

/* Every table of a "*_maps" or "*_checks" list. */
static void cc_tables(struct cc *c, const char *file, int line, const char *name, const char *val)
{
	char **v = maps_split(val);

	for (char **p = v; *p; p++)
		cc_table(c, file, line, name, *p);
	strv_free(v);
}

/* Domain lists whose words may be tables (lib/resolve.c looks them up). */
static const char *const domain_list_params[] = {
    "mydestination", "relay_domains", "virtual_alias_domains", "virtual_mailbox_domains", NULL};

/* The "type:table" words of a domain list, opened as resolve will. */
static void cc_domain_list_tables(
    struct cc *c, const char *file, int line, const char *name, const char *val)
{
	char **v = maps_split(val);

	for (char **p = v; *p; p++)
		if (strchr(*p, ':') != NULL && (*p)[0] != '[')
			cc_table(c, file, line, name, *p);
	strv_free(v);
}

/* Parameters whose value is a list of tables. */
static bool cc_is_tables(const struct param_def *def)
{
	size_t n = strlen(def->name);

	return def->compat != PARAM_UNSUPPORTED &&
	       ((n > 5 && strcmp(def->name + n - 5, "_maps") == 0) ||
		   (n > 7 && strcmp(def->name + n - 7, "_checks") == 0));
}

/*
 * Every word of a restriction list must be a restriction smtpd implements
 * (restr_names.c), the argument of one, or a "type:table": anything else
 * would be a 451 at RCPT time, so it is an error now.
 */
struct cc_access {
	struct cc *c;
	const char *file, *name, *spec;
	int line;
	bool reported;
};

/* A result of an access table: its first word must be one smtpd acts on
 * (restr_access_word); one made by substitution ($1) is not judged. */
static void cc_access_value(const char *key, const char *value, void *ctx)
{
	struct cc_access *a = ctx;
	char *v = xstrdup(value), *word = str_trim(v);

	word[strcspn(word, " \t")] = 0;
	if (!a->reported && strchr(word, '$') == NULL &&
	    restr_access_word(word) == RA_UNSUPPORTED) {
		cc_add(a->c, CHECK_ERROR, a->file, a->line,
		    "%s: %s: result \"%s\"%s%s: tern does not implement %s in access tables "
		    "(OK, REJECT, DEFER, DEFER_IF_PERMIT, DEFER_IF_REJECT, DUNNO or a 4xx/5xx "
		    "code)",
		    a->name, a->spec, value, key ? " for " : "", key ? key : "", word);
		a->reported = true; /* one line a table */
	}
	free(v);
}

/* The results of an access table (check_*_access, or a bare table). */
static void cc_access_results(
    struct cc *c, const char *file, int line, const char *name, const char *spec)
{
	struct cc_access a = {c, file, name, spec, line, false};
	struct table *t = table_open(spec, 0, NULL);

	if (t == NULL)
		return; /* reported by cc_table */
	table_walk_values(t, cc_access_value, &a);
	table_close(t);
}

static void cc_restriction_words(
    struct cc *c, const char *file, int line, const char *name, const char *val)
{
	char **v = strv_split_list(val);

	for (char **p = v; *p; p++) {
		const struct restr_name *rn = restr_name_find(*p);

		if (rn == NULL && !restr_is_table(*p))
			cc_add(c, CHECK_ERROR, file, line, "%s: unknown restriction %s", name, *p);
		else if (rn && rn->id == RN_UNSUPPORTED)
			cc_add(c, CHECK_ERROR, file, line,
			    "%s: restriction %s is not implemented by tern", name, *p);
		else if (rn && rn->arg && p[1] == NULL)
			cc_add(c, CHECK_ERROR, file, line, "%s: restriction %s needs an argument",
			    name, *p);
		if (rn == NULL && restr_is_table(*p)) {
			cc_table(c, file, line, name, *p);
			cc_access_results(c, file, line, name, *p);
		}
		if (rn && p[1] &&
		    (rn->id == RN_CHECK_CLIENT_ACCESS || rn->id == RN_CHECK_HELO_ACCESS ||
			rn->id == RN_CHECK_SENDER_ACCESS || rn->id == RN_CHECK_RECIPIENT_ACCESS)) {
			cc_table(c, file, line, name, p[1]);
			cc_access_results(c, file, line, name, p[1]);
		}
		if (rn && rn->id == RN_CHECK_POLICY_SERVICE && p[1]) {
			struct policy_spec spec;
			char *why = NULL;

			if (!policy_spec_parse(p[1], &spec, &why))
				cc_add(c, CHECK_ERROR, file, line, "%s: %s", name, why);
			free(why);
			policy_spec_free(&spec);
		}
		if (rn && rn->arg && p[1])
			p++;
	}
	strv_free(v);
}

/* smtpd's screening (smtpd/screen.c): actions and weighted DNSBL sites. */
static void cc_screening(
    struct cc *c, const char *file, int line, const char *name, const char *val)
{
	static const char *const actions[] = {"postscreen_greet_action", "postscreen_dnsbl_action",
	    "postscreen_denylist_action", NULL};
	char **v;

	if (cc_in(actions, name)) {
		if (strcasecmp(val, "ignore") != 0 && strcasecmp(val, "enforce") != 0 &&
		    strcasecmp(val, "drop") != 0)
			cc_add(c, CHECK_ERROR, file, line, "%s = %s: not ignore, enforce or drop",
			    name, val);
		return;
	}
	if (strcmp(name, "postscreen_dnsbl_sites") != 0)
		return;
	v = strv_split_list(val);
	for (char **p = v; *p; p++) {
		char *zone, *filter;
		int weight;

		if (!dnsbl_weighted_site_parse(*p, &zone, &filter, &weight)) {
			cc_add(c, CHECK_ERROR, file, line,
			    "%s: \"%s\" is not zone[=filter][*weight]", name, *p);
			continue;
		}
		free(zone);
		free(filter);
	}
	strv_free(v);
}

/* smtpd_milters, non_smtpd_milters: the list parses (lib/milter/chain.h). */
static void cc_milters(struct cc *c, const char *file, int line, const char *name, const char *val)
{
	struct buf err = BUF_INIT;

	if (!milter_chain_syntax_ok(val, &err))
		cc_add(c, CHECK_ERROR, file, line, "%s: %s", name, buf_cstr(&err));
	buf_free(&err);
}

/* Parameters that take one word of a few: name, then the words. */
static const char *const cc_choices[][5] = {
    {"dmarc_organizational_domain", "dns_tree_walk", "public_suffix_list", NULL},
    {"smtpd_spf_policy", "none", "mark", "reject"},
    {"smtpd_spf_helo_policy", "none", "mark", "reject"},
    {"mta_sts_mode", "off", "none", "testing", "enforce"},
};

static void cc_choice(struct cc *c, const char *file, int line, const char *name, const char *val)
{
	for (size_t i = 0; i < sizeof(cc_choices) / sizeof(cc_choices[0]); i++) {
		const char *const *w = cc_choices[i];
		bool ok = false;

		if (strcmp(w[0], name) != 0)
			continue;
		struct buf words = BUF_INIT;
		size_t n = 1;

		while (n < 5 && w[n])
			n++;
		for (size_t k = 1; k < n; k++) {
			ok |= strcasecmp(w[k], val) == 0;
			buf_printf(&words, "%s%s", k == 1 ? "" : k == n - 1 ? " or " : ", ", w[k]);
		}
		if (!ok)
			cc_add(c, CHECK_ERROR, file, line, "%s = %s: not %s", name, val,
			    buf_cstr(&words));
		buf_free(&words);
	}
}

/* internal_mail_filter_classes: Postfix's words (cleanup/conn.c). */
static void cc_filter_classes(
    struct cc *c, const char *file, int line, const char *name, const char *val)
{
	char **v = strv_split_list(val);

	for (size_t i = 0; v[i]; i++)
		if (strcasecmp(v[i], "bounce") != 0 && strcasecmp(v[i], "notify") != 0)
			cc_add(c, CHECK_ERROR, file, line, "%s: \"%s\" is not bounce or notify",
			    name, v[i]);
	strv_free(v);
}

/* A list of percentages, 1 to 100 (quota_warning_percent). */
static void cc_percents(struct cc *c, const char *file, int line, const char *name, const char *val)
{
	char **v = strv_split_list(val);
	long p;

	for (size_t i = 0; v[i]; i++)
		if (*v[i] && !parse_long(v[i], 1, 100, &p))
			cc_add(c, CHECK_ERROR, file, line, "%s: \"%s\" is not a percentage (1-100)",
			    name, v[i]);
	strv_free(v);
}

/* One "name = value", from main.cf or a master.cf -o. */
static void cc_param(struct cc *c, const char *file, int line, const char *name, const char *raw)
{
	const struct param_def *def = config_param_def(name);
	const char *what;
	char *val;
	long secs;

	if (def == NULL) {
		if (!cc_referenced(c, name) && !cc_transport_param(c, name))
			cc_add(c, CHECK_WARN, file, line,
			    "unknown parameter %s: tern does not know it and ignores it", name);
		return;
	}
	val = config_expand(raw);
	if (def->compat == PARAM_DIFFERENT)
		cc_add(c, CHECK_INFO, file, line, "%s: %s", name, def->note);
	else if (def->compat == PARAM_UNSUPPORTED && cc_differs_from_default(def, val))
		cc_add(c, CHECK_WARN, file, line, "%s = %s is not supported by tern: %s", name, val,
		    def->note);
	else if (!cc_value_ok(def, val, &what))
		cc_add(c, CHECK_ERROR, file, line, "%s = %s: not a valid %s", name, val, what);
	if (def->type == PARAM_LIST || def->type == PARAM_NAME)
		cc_files(c, file, line, name, def, val);
	if (cc_in(restr_list_params, name))
		cc_restriction_words(c, file, line, name, val);
	if (cc_is_tables(def))
		cc_tables(c, file, line, name, val);
	if (cc_in(domain_list_params, name))
		cc_domain_list_tables(c, file, line, name, val);
	if (strncmp(name, "postscreen_", 11) == 0)
		cc_screening(c, file, line, name, val);
	if (strcmp(name, "smtpd_milters") == 0 || strcmp(name, "non_smtpd_milters") == 0)
		cc_milters(c, file, line, name, val);
	if (strcmp(name, "quota_warning_percent") == 0)
		cc_percents(c, file, line, name, val);
	if (strcmp(name, "internal_mail_filter_classes") == 0)
		cc_filter_classes(c, file, line, name, val);
	cc_choice(c, file, line, name, val);
	if (strcmp(name, "mta_sts_max_age") == 0 && config_parse_time(val, def->unit, &secs) &&
	    secs > MTASTS_MAX_AGE)
		cc_add(c, CHECK_ERROR, file, line,
		    "%s = %s: more than RFC 8461's limit of %ld seconds", name, val,
		    MTASTS_MAX_AGE);
	if (strcmp(name, "acme_renew_days") == 0 && !parse_long(val, 1, 3650000, &secs))
		cc_add(c, CHECK_ERROR, file, line, "%s = %s: not a number of days (1 or more)",
		    name, val);
	if (strcmp(name, "auth_password_scheme") == 0 && !pw_hash_scheme_ok(val))
		cc_add(c, CHECK_ERROR, file, line,
		    "%s = %s: not a scheme tern can make (CRYPT, BLF-CRYPT, SHA512-CRYPT, "
		    "SHA256-CRYPT, SCRAM-SHA-256, SSHA256, SSHA512)",
		    name, val);
	if (strcmp(name, "acme_server") == 0 && strncmp(val, "https://", 8) != 0)
		cc_add(c, CHECK_ERROR, file, line, "%s = %s: not an https:// URL", name, val);
	free(val);
}

static const char *cc_param_str(const char *name, void *ctx)
{
	(void)ctx;
	return config_str(name);
}

/* sieve_spamtest_* and sieve_virustest_* as local will read them. */
static void cc_scoretests(struct cc *c, const char *file)
{
	for (int virus = 0; virus < 2; virus++) {
		struct sieve_scoretest *t = NULL;
		struct buf err = BUF_INIT;

		if (!sieve_scoretest_load(virus, cc_param_str, NULL, &t, &err))
			cc_add(c, CHECK_ERROR, file, 0, "%s", buf_cstr(&err));
		sieve_scoretest_free(t);
		buf_free(&err);
	}
}

static int cc_setting_line(struct cc *c, const char *name);

static void cc_main_cf(struct cc *c)
{
	const char *file = config_file_path();
	struct buf err = BUF_INIT;

	cc_scoretests(c, file);
	if (!arc_sealing_check(&err))
		cc_add(
		    c, CHECK_ERROR, file, cc_setting_line(c, "arc_sealing"), "%s", buf_cstr(&err));
	buf_free(&err);

	for (size_t i = 0; i < c->nset; i++) {
		cc_param(c, file, c->set[i].line, c->set[i].name, c->set[i].value);
		if (strcmp(c->set[i].name, "mynetworks") == 0)
			cc_networks(c, file, c->set[i].line, "mynetworks");
	}
}

static int cc_setting_line(struct cc *c, const char *name)
{
	for (size_t i = 0; i < c->nset; i++)
		if (strcmp(c->set[i].name, name) == 0)
			return c->set[i].line;
	return 0;
}

/* -o name=value arguments of a service that runs. */
static void cc_overrides(struct cc *c, const struct master_service *s)
{
	for (int a = 1; a + 1 < s->argc; a++) {
		const char *arg = s->argv[a + 1];
		const char *eq = strchr(arg, '=');
		char *name;

		if (strcmp(s->argv[a], "-o") != 0)
			continue;
		a++;
		if (eq == NULL || eq == arg) {
			cc_add(c, CHECK_ERROR, c->mastercf, s->line,
			    "service %s: bad -o argument \"%s\" (need name=value)", s->name, arg);
			continue;
		}
		name = xstrndup(arg, (size_t)(eq - arg));
		cc_param(c, c->mastercf, s->line, name, eq + 1);
		free(name);
	}
}

static void cc_program(struct cc *c, const struct master_service *s, const char *program)
{
	char *path = strchr(program, '/')
			 ? xstrdup(program)
			 : xasprintf("%s/%s", config_str("daemon_directory"), program);

	if (access(path, X_OK) < 0)
		cc_add(c, CHECK_WARN, c->mastercf, s->line, "service %s: cannot execute %s: %s",
		    s->name, path, strerror(errno));
	free(path);
}

static void cc_inet(struct cc *c, const struct master_service *s)
{
	struct inet_listen_addr *addrs;
	struct buf err = BUF_INIT;
	int n = inet_listen_addrs(s->name, &addrs, &err);

	if (n < 0)
		cc_add(c, CHECK_ERROR, c->mastercf, s->line, "service %s: %s", s->name,
		    buf_cstr(&err));
	else
		inet_listen_free(addrs, n);
	buf_free(&err);
}

/* The *_transport parameter whose transport is service, or NULL. */
static const char *cc_transport_param_of(const char *service)
{
	for (int i = 0; cc_transport_params[i]; i++) {
		const char *val = config_str(cc_transport_params[i]);
		size_t n = strcspn(val, ":");

		if (n > 0 && strlen(service) == n && strncmp(val, service, n) == 0)
			return cc_transport_params[i];
	}
	return NULL;
}

struct cc_route {
	const char *service;
	bool found;
};

/* A transport_maps result "transport[:nexthop]" naming the service. */
static void cc_route_value(const char *key, const char *value, void *ctx)
{
	struct cc_route *r = ctx;
	size_t n = strcspn(value, ":");

	(void)key;
	if (n == strlen(r->service) && strncmp(value, r->service, n) == 0)
		r->found = true;
}

/* The parameter that routes mail to service (a *_transport, or
 * transport_maps when one of its results names it), or NULL.  Tables
 * that cannot be opened are reported by cc_tables. */
static const char *cc_routed_by(const char *service)
{
	const char *param = cc_transport_param_of(service);
	struct cc_route r = {service, false};
	char **v;

	if (param != NULL)
		return param;
	v = maps_split(config_str("transport_maps"));
	for (char **p = v; *p && !r.found; p++) {
		struct table *t = table_open(*p, 0, NULL);

		if (t != NULL) {
			table_walk_values(t, cc_route_value, &r);
			table_close(t);
		}
	}
	strv_free(v);
	return r.found ? "transport_maps" : NULL;
}

/* A pipe(8) service's attributes: what the daemon would refuse at its
 * start is an error now.  A user= that does not exist is an info line
 * only: Debian's master.cf names users of software that may not be
 * installed, and pipe defers (4.3.5) what is routed to such a service.
 * When a *_transport parameter or a transport_maps result routes mail
 * to it, it is an error. */
static void cc_pipe(struct cc *c, const struct master_service *s, const char *program)
{
	const char *base = strrchr(program, '/');
	struct pipe_conf pc;
	struct buf err = BUF_INIT;
	char *const *args = s->argv + 1;

	if (strcmp(base ? base + 1 : program, "pipe") != 0)
		return;
	args += pipe_conf_first_attr(args);
	if (pipe_conf_parse(args, &pc, &err) < 0) {
		cc_add(c, CHECK_ERROR, c->mastercf, s->line, "service %s (pipe): %s", s->name,
		    buf_cstr(&err));
	} else if (pipe_conf_user(&pc, &err) < 0) {
		bool unknown =
		    getpwnam(pc.user) == NULL || (pc.group && getgrnam(pc.group) == NULL);
		const char *param = unknown ? cc_routed_by(s->name) : NULL;

		if (param)
			cc_add(c, CHECK_ERROR, c->mastercf, s->line,
			    "service %s (pipe): %s (%s routes mail to it)", s->name, buf_cstr(&err),
			    param);
		else
			cc_add(c, unknown ? CHECK_INFO : CHECK_ERROR, c->mastercf, s->line,
			    "service %s (pipe): %s%s", s->name, buf_cstr(&err),
			    unknown ? " (mail routed to it is deferred)" : "");
	}
	pipe_conf_free(&pc);
	buf_free(&err);
}

static void cc_service(struct cc *c, const struct master_service *s)
{
	struct service_plan plan;
	const char *type = mastercf_type_name(s->type);

	mastercf_plan(s, &plan);
	if (s->line == 0) /* mastercf_add_implicit */
		cc_add(c, CHECK_INFO, c->mastercf, 0,
		    "service %s: not in master.cf; tern's %s service runs all the same", s->name,
		    s->name);
	switch (plan.action) {
	case SERVICE_SKIP:
		cc_add(c, CHECK_INFO, c->mastercf, s->line, "service %s (%s, %s): skipped: %s",
		    s->name, type, s->argv[0], plan.note);
		return;
	case SERVICE_UNSERVED:
		cc_add(c, s->type == SERVICE_INET ? CHECK_ERROR : CHECK_WARN, c->mastercf, s->line,
		    "service %s (%s, %s): not served: %s", s->name, type, s->argv[0], plan.note);
		return;
	case SERVICE_RUN: break;
	}
	if (plan.note)
		cc_add(c, CHECK_INFO, c->mastercf, s->line, "service %s (%s, %s): %s", s->name,
		    type, s->argv[0], plan.note);
	cc_program(c, s, plan.program ? plan.program : s->argv[0]);
	cc_pipe(c, s, plan.program ? plan.program : s->argv[0]);
	if (s->type == SERVICE_INET)
		cc_inet(c, s);
	cc_overrides(c, s);
}

/* A transport name that no running unix service serves. */
static bool cc_served(struct cc *c, const char *transport)
{
	for (size_t i = 0; i < c->cf.count; i++) {
		struct service_plan plan;

		mastercf_plan(&c->cf.services[i], &plan);
		if (plan.action == SERVICE_RUN && plan.type == SERVICE_UNIX &&
		    strcmp(c->cf.services[i].name, transport) == 0)
			return true;
	}
	return false;
}

static void cc_transports(struct cc *c)
{
	for (int i = 0; cc_transport_params[i]; i++) {
		const char *name = cc_transport_params[i];
		const char *val = config_str(name);
		char *tp = xstrndup(val, strcspn(val, ":"));
		int line = cc_setting_line(c, name);

		if (*tp && !cc_served(c, tp))
			cc_add(c, CHECK_WARN, line ? config_file_path() : NULL, line,
			    "%s = %s%s: no master.cf service runs transport %s; that mail waits "
			    "in the queue",
			    name, val, line ? "" : " (the default)", tp);
		free(tp);
	}
}

/* The smtp client's TLS level and DNS support level: words tern knows. */
static void cc_smtp_tls(struct cc *c)
{
	const char *v = config_str("smtp_tls_security_level");
	const char *dns = config_str("smtp_dns_support_level");
	enum tls_level lvl;

	const char *lv = config_str("lmtp_tls_security_level");

	if (*v && !tls_level_parse(v, &lvl))
		cc_add(c, CHECK_ERROR, config_file_path(),
		    cc_setting_line(c, "smtp_tls_security_level"),
		    "unknown smtp_tls_security_level \"%s\"", v);
	if (*lv && (!tls_level_parse(lv, &lvl) || lvl >= TLS_LEVEL_DANE))
		cc_add(c, CHECK_ERROR, config_file_path(),
		    cc_setting_line(c, "lmtp_tls_security_level"),
		    "lmtp_tls_security_level must be none, may, encrypt, verify or secure, not "
		    "\"%s\"",
		    lv);
	if (*dns && !str_case_eq(dns, "disabled") && !str_case_eq(dns, "enabled") &&
	    !str_case_eq(dns, "dnssec"))
		cc_add(c, CHECK_ERROR, config_file_path(),
		    cc_setting_line(c, "smtp_dns_support_level"),
		    "smtp_dns_support_level must be disabled, enabled or dnssec, not \"%s\"", dns);
	else if (str_case_eq(v, "dane") || str_case_eq(v, "dane-only")) {
		if (!str_case_eq(dns, "dnssec"))
			cc_add(c, CHECK_WARN, config_file_path(),
			    cc_setting_line(c, "smtp_tls_security_level"),
			    "smtp_tls_security_level = %s needs smtp_dns_support_level = dnssec",
			    v);
	}
}

static void cc_master_cf(struct cc *c)
{
	struct buf err = BUF_INIT;

	if (mastercf_load(c->mastercf, &c->cf, &err) < 0) {
		cc_add(c, CHECK_ERROR, NULL, 0, "%s", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	c->have_cf = true;
}

void config_check(struct check_report *r)
{
	struct cc c = {.r = r};
	struct buf err = BUF_INIT;
	bool v4, v6;

	memset(r, 0, sizeof(*r));
	c.mastercf = xasprintf("%s/master.cf", config_dir());
	c.nset = config_file_settings(&c.set);
	cc_master_cf(&c);
	cc_main_cf(&c);
	if (!inet_protocols_parse(config_str("inet_protocols"), &v4, &v6, &err))
		cc_add(&c, CHECK_ERROR, config_file_path(), cc_setting_line(&c, "inet_protocols"),
		    "%s", buf_cstr(&err));
	cc_smtp_tls(&c);
	for (size_t i = 0; c.have_cf && i < c.cf.count; i++)
		cc_service(&c, &c.cf.services[i]);
	if (c.have_cf)
		cc_transports(&c);
	if (c.have_cf)
		mastercf_free(&c.cf);
	free(c.set);
	free(c.mastercf);
	buf_free(&err);
}

void check_report_free(struct check_report *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->items[i].where);
		free(r->items[i].text);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

const char *check_level_name(enum check_level level)
{
	return level == CHECK_ERROR ? "error" : level == CHECK_WARN ? "warning" : "info";
}

void check_report_log(const struct check_report *r)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct check_item *it = &r->items[i];
		const char *sep = it->where ? ": " : "";
		const char *where = it->where ? it->where : "";

		if (it->level == CHECK_ERROR)
			log_error("%s%s%s", where, sep, it->text);
		else if (it->level == CHECK_WARN)
			log_warn("%s%s%s", where, sep, it->text);
		else
			log_info("%s%s%s", where, sep, it->text);
	}
}
