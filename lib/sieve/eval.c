/*
 * sieve/eval.c - the Sieve interpreter: runs a checked tree against one
 * message and fills a struct sieve_result.
 *
 * Tests reduce to "some value matches some key" (sv_test_match) over the
 * values each test extracts: header values, addresses and their parts,
 * envelope addresses, body parts, strings, flags, date parts.  Strings
 * of a script that requires "variables" are expanded when they are used.
 * The internal flag variable of imap4flags is a list kept normalised
 * (split on spaces, no duplicates, any case) and given to keep, fileinto
 * and the implicit keep that have no :flags of their own.
 *
 * A run-time error (a conflict of actions, a limit, an invalid redirect
 * address made from variables) stops the script; the result is then
 * "failed" with the implicit keep, and no action is performed (RFC 5228
 * 2.10.6).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime/address.h"
#include "mime/date.h"
#include "mime/header.h"
#include "mime/rfc2047.h"
#include "sieve/sieve_int.h"
#include "util.h"

struct sv_run {
	const struct sieve_script *s;
	unsigned exts;
	struct sv_msg msg;
	const struct sieve_env *env;
	struct sieve_result *res;
	struct sv_vars vars;
	struct sv_captures caps;
	char **flags; /* internal variable of imap4flags */
	bool stop;    /* stop: the whole run ends */
	bool ret;     /* return: the current script ends */
	int depth;    /* include nesting */
	char **included;
	size_t nincluded;
	time_t now;
	struct buf edited; /* the message after editheader */
	bool is_edited;
};

static bool sv_exec_block(struct sv_run *r, const struct sv_node *cmds, size_t n);

/* ---- strings */

static char *sv_str(struct sv_run *r, const char *s)
{
	struct buf b = BUF_INIT;
	char *out;

	if (!(r->exts & SV_EXT_VARIABLES))
		return xstrdup(s);
	sv_vars_expand(&r->vars, &r->caps, s, &b);
	out = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* The expanded strings of a (NULL-terminated). */
static char **sv_list(struct sv_run *r, const struct sv_arg *a, size_t *n)
{
	char **v = xcalloc(a->n + 1, sizeof(char *));

	for (size_t i = 0; i < a->n; i++)
		v[i] = sv_str(r, a->strs[i]);
	if (n)
		*n = a->n;
	return v;
}

static void sv_free_values(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- flags (RFC 5232) */

/* Adds the space-separated flags of s to *v (no duplicates). */
static void sv_flags_add(char ***v, size_t *n, const char *s)
{
	char *copy = xstrdup(s), *save = NULL;

	for (char *f = strtok_r(copy, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		bool have = false;

		for (size_t i = 0; i < *n && !have; i++)
			have = strcasecmp((*v)[i], f) == 0;
		if (have)
			continue;
		*v = xreallocarray(*v, *n + 2, sizeof(char *));
		(*v)[(*n)++] = xstrdup(f);
		(*v)[*n] = NULL;
	}
	free(copy);
}

static char **sv_flags_from(char *const *strs, size_t nstrs, size_t *n)
{
	char **v = xcalloc(1, sizeof(char *));

	*n = 0;
	for (size_t i = 0; i < nstrs; i++)
		sv_flags_add(&v, n, strs[i]);
	return v;
}

static char *sv_flags_join(char *const *v)
{
	struct buf b = BUF_INIT;
	char *s;

	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			buf_putc(&b, ' ');
		buf_puts(&b, v[i]);
	}
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* The current flag list of variable name (NULL: the internal one). */
static char **sv_flags_get(struct sv_run *r, const char *name, size_t *n)
{
	const char *val;

	if (name == NULL) {
		char *joined = sv_flags_join(r->flags);
		char **v = sv_flags_from(&joined, 1, n);

		free(joined);
		return v;
	}
	val = sv_vars_get(&r->vars, name);
	return sv_flags_from((char *const *)&val, val ? 1 : 0, n);
}

static void sv_flags_put(struct sv_run *r, const char *name, char **v)
{
	if (name == NULL) {
		sv_strv_free(r->flags);
		r->flags = v;
		return;
	}
	char *joined = sv_flags_join(v);

	sv_vars_set(&r->vars, name, joined, strlen(joined));
	free(joined);
	sv_strv_free(v);
}

static void sv_exec_flagcmd(struct sv_run *r, const struct sv_node *x)
{
	const char *var = x->npos == 2 ? x->pos[0]->strs[0] : NULL;
	size_t nl, n;
	char **list = sv_list(r, x->pos[x->npos - 1], &nl);
	char **cur;

	if (x->id == SV_C_SETFLAG) {
		sv_flags_put(r, var, sv_flags_from(list, nl, &n));
	} else if (x->id == SV_C_ADDFLAG) {
		cur = sv_flags_get(r, var, &n);
		for (size_t i = 0; i < nl; i++)
			sv_flags_add(&cur, &n, list[i]);
		sv_flags_put(r, var, cur);
	} else {
		size_t nrm, o = 0;
		char **rm = sv_flags_from(list, nl, &nrm);

		cur = sv_flags_get(r, var, &n);
		for (size_t i = 0; i < n; i++) {
			bool drop = false;

			for (size_t j = 0; j < nrm && !drop; j++)
				drop = strcasecmp(cur[i], rm[j]) == 0;
			if (drop)
				free(cur[i]);
			else
				cur[o++] = cur[i];
		}
		cur[o] = NULL;
		sv_strv_free(rm);
		sv_flags_put(r, var, cur);
	}
	sv_free_values(list, nl);
}

/* ---- matching */

/* Some value matches some key (or, for :count, the count does). */
static bool sv_test_match(struct sv_run *r, const struct sv_node *x, char **vals, size_t nvals,
    const struct sv_arg *keys_arg)
{
	size_t nkeys;
	char **keys = sv_list(r, keys_arg, &nkeys);
	struct sv_captures tmp = {0};
	bool want_caps = (r->exts & SV_EXT_VARIABLES) &&
			 (x->match == SV_TAG_MATCHES || x->match == SV_TAG_REGEX);
	bool ok = false;

	if (x->match == SV_TAG_COUNT) {
		for (size_t k = 0; k < nkeys && !ok; k++)
			ok = sv_match_count(x, nvals, keys[k]);
	} else {
		for (size_t i = 0; i < nvals && !ok; i++)
			for (size_t k = 0; k < nkeys && !ok; k++)
				ok = sv_match_one(x, k, vals[i], strlen(vals[i]), keys[k],
				    want_caps ? &tmp : NULL);
	}
	if (ok && want_caps) {
		sv_captures_clear(&r->caps);
		r->caps = tmp;
	} else {
		sv_captures_clear(&tmp);
	}
	sv_free_values(keys, nkeys);
	return ok;
}

/* Keeps only the :index'th value (from the end with :last). */
static size_t sv_apply_index(const struct sv_node *x, char **vals, size_t n)
{
	struct sv_arg *ix = sv_tag_arg(x, SV_TAG_INDEX);
	size_t want;

	if (ix == NULL)
		return n;
	if (ix->num == 0 || ix->num > n) {
		for (size_t i = 0; i < n; i++)
			free(vals[i]);
		return 0;
	}
	want = sv_has_tag(x, SV_TAG_LAST) ? n - (size_t)ix->num : (size_t)ix->num - 1;
	for (size_t i = 0; i < n; i++)
		if (i != want)
			free(vals[i]);
	vals[0] = vals[want];
	return 1;
}

static void sv_values_add(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = s;
}

/* Field values of every header name of the list, index applied per name. */
static char **sv_header_values(struct sv_run *r, const struct sv_node *x, bool decode, size_t *n)
{
	size_t nnames;
	char **names = sv_list(r, x->pos[0], &nnames), **all = NULL;

	*n = 0;
	for (size_t i = 0; i < nnames; i++) {
		char **vals;
		size_t nv = decode ? sv_msg_header(&r->msg, names[i], &vals)
				   : sv_msg_header_raw(&r->msg, names[i], &vals);

		nv = sv_apply_index(x, vals, nv);
		for (size_t j = 0; j < nv; j++)
			sv_values_add(&all, n, vals[j]);
		free(vals);
	}
	sv_free_values(names, nnames);
	return all;
}

/* One address part of local@host (RFC 5228 2.7.4, RFC 5233); NULL when
 * the part does not exist (:detail without a separator). */
static char *sv_addr_part(struct sv_run *r, int part, const char *local, const char *host)
{
	const char *sep = r->env->subaddress_sep ? r->env->subaddress_sep : "+";
	const char *cut = local ? strstr(local, sep) : NULL;

	if (local == NULL)
		local = "";
	switch (part) {
	case SV_TAG_LOCALPART: return xstrdup(local);
	case SV_TAG_DOMAIN: return xstrdup(host ? host : "");
	case SV_TAG_USER: return cut ? xstrndup(local, (size_t)(cut - local)) : xstrdup(local);
	case SV_TAG_DETAIL: return cut ? xstrdup(cut + strlen(sep)) : NULL;
	default: return host ? xasprintf("%s@%s", local, host) : xstrdup(local);
	}
}

static bool sv_test_address(struct sv_run *r, const struct sv_node *x)
{
	size_t nraw, n = 0;
	char **raw = sv_header_values(r, x, false, &nraw), **vals = NULL;
	bool ok;

	for (size_t i = 0; i < nraw; i++) {
		struct mime_addr *list = mime_addr_parse(raw[i], strlen(raw[i]), 0, 1000);

		for (struct mime_addr *a = list; a; a = a->next) {
			char *p;

			if (mime_addr_is_group_start(a) || mime_addr_is_group_end(a))
				continue;
			if ((p = sv_addr_part(r, x->addrpart, a->mailbox, a->host)) != NULL)
				sv_values_add(&vals, &n, p);
		}
		mime_addr_free(list);
	}
	sv_free_values(raw, nraw);
	ok = sv_test_match(r, x, vals, n, x->pos[1]);
	sv_free_values(vals, n);
	return ok;
}

static bool sv_test_envelope(struct sv_run *r, const struct sv_node *x)
{
	size_t nparts, n = 0;
	char **parts = sv_list(r, x->pos[0], &nparts), **vals = NULL;
	bool ok;

	for (size_t i = 0; i < nparts; i++) {
		const char *addr = NULL, *at;
		char *local, *p;

		if (strcasecmp(parts[i], "from") == 0)
			addr = r->env->envelope_from ? r->env->envelope_from : "";
		else if (strcasecmp(parts[i], "to") == 0)
			addr = r->env->envelope_to;
		else if (strcasecmp(parts[i], "auth") == 0)
			addr = r->env->auth;
		if (addr == NULL)
			continue;
		if (*addr == 0) {
			/* the null reverse-path: "" for every part */
			if (x->addrpart != SV_TAG_DETAIL)
				sv_values_add(&vals, &n, xstrdup(""));
			continue;
		}
		at = strrchr(addr, '@');
		local = at ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
		p = sv_addr_part(r, x->addrpart, local, at ? at + 1 : NULL);
		if (p)
			sv_values_add(&vals, &n, p);
		free(local);
	}
	sv_free_values(parts, nparts);
	ok = sv_test_match(r, x, vals, n, x->pos[1]);
	sv_free_values(vals, n);
	return ok;
}

static bool sv_test_header(struct sv_run *r, const struct sv_node *x)
{
	size_t n;
	char **vals = sv_header_values(r, x, true, &n);
	bool ok = sv_test_match(r, x, vals, n, x->pos[1]);

	sv_free_values(vals, n);
	return ok;
}

static bool sv_test_exists(struct sv_run *r, const struct sv_node *x)
{
	size_t nnames;
	char **names = sv_list(r, x->pos[0], &nnames);
	bool ok = true;

	for (size_t i = 0; i < nnames && ok; i++) {
		char **vals;
		size_t nv = sv_msg_header_raw(&r->msg, names[i], &vals);

		ok = nv > 0;
		sv_free_values(vals, nv);
	}
	sv_free_values(names, nnames);
	return ok;
}

static bool sv_test_body(struct sv_run *r, const struct sv_node *x)
{
	int transform = SV_TAG_TEXT;
	size_t ntypes = 0, n;
	char **types = NULL, **vals;
	struct sv_arg *content = sv_tag_arg(x, SV_TAG_CONTENT);
	bool ok;

	if (sv_has_tag(x, SV_TAG_RAW))
		transform = SV_TAG_RAW;
	if (content) {
		transform = SV_TAG_CONTENT;
		types = sv_list(r, content, &ntypes);
	}
	n = sv_msg_body(&r->msg, transform, types, ntypes, &vals);
	ok = sv_test_match(r, x, vals, n, x->pos[0]);
	sv_free_values(vals, n);
	sv_free_values(types, ntypes);
	return ok;
}

static bool sv_test_string(struct sv_run *r, const struct sv_node *x)
{
	size_t n, o = 0;
	char **vals = sv_list(r, x->pos[0], &n);
	bool ok;

	/* RFC 5229 5: for :count, empty strings are not counted */
	if (x->match == SV_TAG_COUNT) {
		for (size_t i = 0; i < n; i++) {
			if (*vals[i])
				vals[o++] = vals[i];
			else
				free(vals[i]);
		}
		n = o;
	}
	ok = sv_test_match(r, x, vals, n, x->pos[1]);
	sv_free_values(vals, n);
	return ok;
}

static bool sv_test_hasflag(struct sv_run *r, const struct sv_node *x)
{
	size_t n = 0, nkeys, nf;
	char **flags = NULL;
	bool ok;

	if (x->npos == 2) {
		size_t nvars;
		char **vars = sv_list(r, x->pos[0], &nvars);

		flags = xcalloc(1, sizeof(char *));
		for (size_t i = 0; i < nvars; i++) {
			const char *val = sv_vars_get(&r->vars, vars[i]);

			if (val)
				sv_flags_add(&flags, &n, val);
		}
		sv_free_values(vars, nvars);
	} else {
		flags = sv_flags_get(r, NULL, &n);
	}
	/* keys are flag lists too: "\\Seen \\Flagged" is two keys */
	char **raw = sv_list(r, x->pos[x->npos - 1], &nkeys);
	char **keys = sv_flags_from(raw, nkeys, &nf);
	struct sv_arg karg = {.type = SV_ARG_LIST, .strs = keys, .n = nf};
	struct sv_node copy = *x;

	copy.rx = NULL;
	copy.nrx = 0;
	ok = sv_test_match(r, &copy, flags, n, &karg);
	sv_free_values(raw, nkeys);
	sv_strv_free(keys);
	sv_strv_free(flags);
	return ok;
}

/* ---- date (RFC 5260) */

static bool sv_zone_parse(const char *s, int *minutes)
{
	int h, m;

	if (strlen(s) != 5 || (s[0] != '+' && s[0] != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return false;
	*minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	return true;
}

static int sv_local_zone(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return (int)(tm.tm_gmtoff / 60);
}

static char *sv_date_part(time_t t, int zone, const char *part)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mons[] = {
	    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t shifted = t + zone * 60;
	struct tm tm;
	char z[32];
	int az = (zone < 0 ? -zone : zone) % (24 * 60);

	gmtime_r(&shifted, &tm);
	snprintf(z, sizeof(z), "%c%02d%02d", zone < 0 ? '-' : '+', az / 60, az % 60);
	if (strcasecmp(part, "year") == 0)
		return xasprintf("%04d", tm.tm_year + 1900);
	if (strcasecmp(part, "month") == 0)
		return xasprintf("%02d", tm.tm_mon + 1);
	if (strcasecmp(part, "day") == 0)
		return xasprintf("%02d", tm.tm_mday);
	if (strcasecmp(part, "date") == 0)
		return xasprintf("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (strcasecmp(part, "julian") == 0)
		/* Modified Julian Day: days since 1858-11-17 */
		return xasprintf("%lld", (long long)(shifted / 86400 + 40587 -
						     (shifted < 0 && shifted % 86400 ? 1 : 0)));
	if (strcasecmp(part, "hour") == 0)
		return xasprintf("%02d", tm.tm_hour);
	if (strcasecmp(part, "minute") == 0)
		return xasprintf("%02d", tm.tm_min);
	if (strcasecmp(part, "second") == 0)
		return xasprintf("%02d", tm.tm_sec);
	if (strcasecmp(part, "time") == 0)
		return xasprintf("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (strcasecmp(part, "iso8601") == 0)
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, z[0], az / 60,
		    az % 60);
	if (strcasecmp(part, "std11") == 0)
		return xasprintf("%s, %02d %s %04d %02d:%02d:%02d %s", days[tm.tm_wday], tm.tm_mday,
		    mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, z);
	if (strcasecmp(part, "zone") == 0)
		return xstrdup(z);
	if (strcasecmp(part, "weekday") == 0)
		return xasprintf("%d", tm.tm_wday);
	return NULL;
}

static bool sv_test_date(struct sv_run *r, const struct sv_node *x)
{
	bool current = x->id == SV_T_CURRENTDATE;
	struct sv_arg *zarg = sv_tag_arg(x, SV_TAG_ZONE);
	char *part = sv_str(r, x->pos[current ? 0 : 1]->strs[0]);
	size_t n = 0, nd = 0;
	char **vals = NULL, **dates = NULL;
	int zone = 0;
	bool have_zone = false, ok;

	if (zarg) {
		char *z = sv_str(r, zarg->strs[0]);

		have_zone = sv_zone_parse(z, &zone);
		free(z);
	}
	if (current) {
		char *p = sv_date_part(r->now, have_zone ? zone : sv_local_zone(r->now), part);

		if (p)
			sv_values_add(&vals, &n, p);
	} else {
		dates = sv_header_values(r, x, false, &nd);
		/* RFC 5260 4: without :index, only the first field counts */
		if (nd > 1 && !sv_has_tag(x, SV_TAG_INDEX)) {
			for (size_t i = 1; i < nd; i++)
				free(dates[i]);
			nd = 1;
		}
		for (size_t i = 0; i < nd; i++) {
			time_t t;
			int tz;
			char *p;

			/* the date is the last comma-separated part (Received:) */
			const char *d = strrchr(dates[i], ';');

			d = d ? d + 1 : dates[i];
			if (!mime_date_parse(d, strlen(d), &t, &tz))
				continue;
			if (!have_zone && !sv_has_tag(x, SV_TAG_ORIGINALZONE))
				tz = sv_local_zone(t);
			else if (have_zone)
				tz = zone;
			if ((p = sv_date_part(t, tz, part)) != NULL)
				sv_values_add(&vals, &n, p);
		}
		sv_free_values(dates, nd);
	}
	ok = sv_test_match(r, x, vals, n, x->pos[current ? 1 : 2]);
	sv_free_values(vals, n);
	free(part);
	return ok;
}

static bool sv_test_mailboxexists(struct sv_run *r, const struct sv_node *x)
{
	size_t n;
	char **names = sv_list(r, x->pos[0], &n);
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++)
		ok = r->env->mailbox_exists && r->env->mailbox_exists(r->env->ctx, names[i]);
	sv_free_values(names, n);
	return ok;
}

/*
 * RFC 5183: the items tern knows; an unknown one (remote-host and
 * remote-ip are not known at delivery) makes the test false.
 */
static const char *sv_environment_item(
    const struct sv_run *r, const char *name, char *tmp, size_t n)
{
	const char *host = r->env->host ? r->env->host : "";

	if (strcasecmp(name, "host") == 0)
		return *host ? host : NULL;
	if (strcasecmp(name, "domain") == 0) {
		const char *dot = strchr(host, '.');

		return dot && dot[1] ? dot + 1 : NULL;
	}
	if (strcasecmp(name, "location") == 0)
		return "MDA";
	if (strcasecmp(name, "phase") == 0)
		return "during";
	if (strcasecmp(name, "name") == 0)
		return "tern";
	if (strcasecmp(name, "version") == 0) {
		snprintf(tmp, n, "%s", SIEVE_VERSION);
		return tmp;
	}
	return NULL;
}

static bool sv_test_environment(struct sv_run *r, const struct sv_node *x)
{
	size_t n;
	char **names = sv_list(r, x->pos[0], &n), tmp[32];
	const char *v = n ? sv_environment_item(r, names[0], tmp, sizeof(tmp)) : NULL;
	char *vals[1];
	bool ok = false;

	if (v) {
		vals[0] = xstrdup(v);
		ok = sv_test_match(r, x, vals, 1, x->pos[1]);
		free(vals[0]);
	}
	sv_free_values(names, n);
	return ok;
}

/* RFC 5435 5: valid_notify_method, every URI one tern can send to. */
static bool sv_test_valid_notify(struct sv_run *r, const struct sv_node *x)
{
	size_t n;
	char **uris = sv_list(r, x->pos[0], &n);
	bool ok = n > 0;

	for (size_t i = 0; i < n && ok; i++)
		ok = sv_notify_uri_ok(uris[i], NULL);
	sv_free_values(uris, n);
	return ok;
}

/* RFC 5435 6: notify_method_capability URI CAPABILITY KEYS. */
static bool sv_test_notify_capability(struct sv_run *r, const struct sv_node *x)
{
	char *uri = sv_str(r, x->pos[0]->strs[0]), *cap = sv_str(r, x->pos[1]->strs[0]);
	const char *v = sv_notify_capability(uri, cap);
	char *vals[1];
	bool ok = false;

	if (v) {
		vals[0] = xstrdup(v);
		ok = sv_test_match(r, x, vals, 1, x->pos[2]);
		free(vals[0]);
	}
	free(uri);
	free(cap);
	return ok;
}

/* RFC 5235: the score against the key. */
static bool sv_test_score(struct sv_run *r, const struct sv_node *x)
{
	const struct sieve_scoretest *t =
	    x->id == SV_T_VIRUSTEST ? r->env->virustest : r->env->spamtest;
	char score[8], *vals[1];
	bool ok;

	sv_score_value(t, &r->msg, sv_has_tag(x, SV_TAG_PERCENT), score, sizeof(score));
	vals[0] = xstrdup(score);
	ok = sv_test_match(r, x, vals, 1, x->pos[0]);
	free(vals[0]);
	return ok;
}

/* RFC 7352: true when the id was seen; the id is recorded on delivery. */
static bool sv_test_duplicate(struct sv_run *r, const struct sv_node *x)
{
	struct sv_arg *h = sv_tag_arg(x, SV_TAG_HANDLE), *u = sv_tag_arg(x, SV_TAG_UNIQUEID);
	struct sv_arg *hdr = sv_tag_arg(x, SV_TAG_HEADER), *secs = sv_tag_arg(x, SV_TAG_SECONDS);
	char *handle = h ? sv_str(r, h->strs[0]) : xstrdup("");
	char *value = NULL, *id;
	bool seen;

	if (u) {
		value = sv_str(r, u->strs[0]);
	} else {
		char *name = hdr ? sv_str(r, hdr->strs[0]) : xstrdup("message-id");
		char **vals;
		size_t nv = sv_msg_header_raw(&r->msg, name, &vals);

		value = nv ? xstrdup(vals[0]) : NULL;
		sv_free_values(vals, nv);
		free(name);
	}
	if (value == NULL || *value == 0) {
		free(handle);
		free(value);
		return false;
	}
	id = sv_track_id("duplicate", handle, value);
	seen = r->env->track_check && r->env->track_check(r->env->ctx, id);
	for (size_t i = 0; i < r->res->ntrack && !seen; i++)
		seen = strcmp(r->res->track_ids[i], id) == 0;
	r->res->track_ids = xreallocarray(r->res->track_ids, r->res->ntrack + 1, sizeof(char *));
	r->res->track_secs = xreallocarray(r->res->track_secs, r->res->ntrack + 1, sizeof(long));
	r->res->track_ids[r->res->ntrack] = id;
	r->res->track_secs[r->res->ntrack++] = secs ? (long)secs->num : 14 * 86400L;
	free(handle);
	free(value);
	return seen;
}

static bool sv_test(struct sv_run *r, const struct sv_node *x)
{
	switch (x->id) {
	case SV_T_TRUE: return true;
	case SV_T_FALSE: return false;
	case SV_T_NOT: return !sv_test(r, &x->tests[0]);
	case SV_T_ALLOF:
		for (size_t i = 0; i < x->ntests; i++)
			if (!sv_test(r, &x->tests[i]))
				return false;
		return true;
	case SV_T_ANYOF:
		for (size_t i = 0; i < x->ntests; i++)
			if (sv_test(r, &x->tests[i]))
				return true;
		return false;
	case SV_T_SIZE: {
		struct sv_arg *over = sv_tag_arg(x, SV_TAG_OVER),
			      *under = sv_tag_arg(x, SV_TAG_UNDER);

		return over ? r->msg.len > over->num : r->msg.len < under->num;
	}
	case SV_T_ADDRESS: return sv_test_address(r, x);
	case SV_T_HEADER: return sv_test_header(r, x);
	case SV_T_ENVELOPE: return sv_test_envelope(r, x);
	case SV_T_EXISTS: return sv_test_exists(r, x);
	case SV_T_BODY: return sv_test_body(r, x);
	case SV_T_STRING: return sv_test_string(r, x);
	case SV_T_HASFLAG: return sv_test_hasflag(r, x);
	case SV_T_DATE:
	case SV_T_CURRENTDATE: return sv_test_date(r, x);
	case SV_T_MAILBOXEXISTS: return sv_test_mailboxexists(r, x);
	case SV_T_DUPLICATE: return sv_test_duplicate(r, x);
	case SV_T_ENVIRONMENT: return sv_test_environment(r, x);
	case SV_T_SPAMTEST:
	case SV_T_VIRUSTEST: return sv_test_score(r, x);
	case SV_T_VALID_NOTIFY_METHOD: return sv_test_valid_notify(r, x);
	case SV_T_NOTIFY_METHOD_CAPABILITY: return sv_test_notify_capability(r, x);
	default: return false;
	}
}

/* ---- commands */

/* editheader: the message becomes fields[0..flen) + empty line + body. */
static void sv_edit_replace(struct sv_run *r, const char *fields, size_t flen)
{
	struct buf b = BUF_INIT;

	buf_append(&b, fields, flen);
	buf_putc(&b, '\n');
	if (r->msg.body_off < r->msg.len)
		buf_append(&b, r->msg.data + r->msg.body_off, r->msg.len - r->msg.body_off);
	sv_msg_free(&r->msg);
	buf_free(&r->edited);
	r->edited = b;
	r->is_edited = true;
	sv_msg_init(&r->msg, r->edited.data, r->edited.len);
}

static void sv_exec_addheader(struct sv_run *r, const struct sv_node *x)
{
	char *name = sv_str(r, x->pos[0]->strs[0]), *value = sv_str(r, x->pos[1]->strs[0]);
	size_t flen = sv_msg_fields_len(&r->msg);
	struct buf h = BUF_INIT;
	bool last = sv_has_tag(x, SV_TAG_LAST);

	/* a name made from variables is checked now (RFC 5293 7) */
	if (!sv_field_name_ok(name)) {
		sv_result_error(r->res, x->line,
		    "addheader action: specified field name '%s' is invalid", name);
	} else {
		if (last)
			buf_append(&h, r->msg.data, flen);
		if (last && flen && r->msg.data[flen - 1] != '\n')
			buf_putc(&h, '\n');
		sv_edit_field(name, value, &h);
		if (!last)
			buf_append(&h, r->msg.data, flen);
		sv_edit_replace(r, h.data, h.len);
	}
	buf_free(&h);
	free(name);
	free(value);
}

static void sv_exec_deleteheader(struct sv_run *r, const struct sv_node *x)
{
	char *name = sv_str(r, x->pos[0]->strs[0]);
	struct sv_arg *ix = sv_tag_arg(x, SV_TAG_INDEX);
	size_t flen = sv_msg_fields_len(&r->msg), total = 0, seen = 0, want = 0;
	const char *prev = r->msg.data;
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	struct buf h = BUF_INIT;
	bool changed = false;

	if (!sv_field_name_ok(name)) {
		sv_result_error(r->res, x->line,
		    "deleteheader action: specified field name '%s' is invalid", name);
		free(name);
		return;
	}
	if (sv_field_protected(name)) {
		free(name); /* never deleted: the action is denied, the script goes on */
		return;
	}
	mime_hdr_iter_init(&it, r->msg.data, flen);
	while (mime_hdr_iter_next(&it, &f))
		total += mime_hdr_name_is(&f, name);
	if (ix) {
		if (ix->num > total) {
			free(name);
			return;
		}
		want = sv_has_tag(x, SV_TAG_LAST) ? total - (size_t)ix->num + 1 : (size_t)ix->num;
	}
	mime_hdr_iter_init(&it, r->msg.data, flen);
	while (mime_hdr_iter_next(&it, &f)) {
		bool del;

		if (!mime_hdr_name_is(&f, name))
			continue;
		seen++;
		del = !ix || seen == want;
		if (del && x->npos == 2) {
			struct buf raw = BUF_INIT, dec = BUF_INIT;
			char *vals[1];

			mime_hdr_unfold(f.value, f.value_len, &raw);
			mime_2047_decode(raw.data ? raw.data : "", raw.len, &dec);
			vals[0] = xstrdup(buf_cstr(&dec));
			del = sv_test_match(r, x, vals, 1, x->pos[1]);
			free(vals[0]);
			buf_free(&raw);
			buf_free(&dec);
		}
		if (del) {
			buf_append(&h, prev, (size_t)(f.name - prev));
			prev = it.p;
			changed = true;
		}
	}
	if (changed) {
		buf_append(&h, prev, (size_t)(r->msg.data + flen - prev));
		sv_edit_replace(r, h.data ? h.data : "", h.len);
	}
	buf_free(&h);
	free(name);
}

static void sv_exec_set(struct sv_run *r, const struct sv_node *x)
{
	char *val = sv_str(r, x->pos[1]->strs[0]);
	struct buf b = BUF_INIT;
	size_t len = strlen(val);

	/* RFC 5229 4.1: precedence 40 lower/upper, 30 lowerfirst/upperfirst,
	 * 20 quotewildcard/quoteregex, 10 length */
	if (sv_has_tag(x, SV_TAG_LOWER))
		for (size_t i = 0; i < len; i++)
			val[i] = (char)tolower((unsigned char)val[i]);
	if (sv_has_tag(x, SV_TAG_UPPER))
		for (size_t i = 0; i < len; i++)
			val[i] = (char)toupper((unsigned char)val[i]);
	if (sv_has_tag(x, SV_TAG_LOWERFIRST) && len)
		val[0] = (char)tolower((unsigned char)val[0]);
	if (sv_has_tag(x, SV_TAG_UPPERFIRST) && len)
		val[0] = (char)toupper((unsigned char)val[0]);
	for (size_t i = 0; i < len; i++) {
		char c = val[i];

		if ((sv_has_tag(x, SV_TAG_QUOTEWILDCARD) && (c == '*' || c == '?' || c == '\\')) ||
		    (sv_has_tag(x, SV_TAG_QUOTEREGEX) && strchr("\\^$.[]|()?*+{}", c) && c))
			buf_putc(&b, '\\');
		buf_putc(&b, c);
	}
	if (sv_has_tag(x, SV_TAG_ENCODEURL)) { /* RFC 5435 4.1: precedence 15 */
		struct buf enc = BUF_INIT;

		buf_put_urlencoded(&enc, b.data ? b.data : "", b.len);
		buf_free(&b);
		b = enc;
	}
	if (sv_has_tag(x, SV_TAG_LENGTH)) {
		size_t chars = 0;

		for (size_t i = 0; i < b.len; i++)
			if (((unsigned char)b.data[i] & 0xc0) != 0x80)
				chars++;
		buf_reset(&b);
		buf_printf(&b, "%zu", chars);
	}
	sv_vars_set(&r->vars, x->pos[0]->strs[0], b.data ? b.data : "", b.len);
	buf_free(&b);
	free(val);
}

static void sv_exec_store(struct sv_run *r, const struct sv_node *x)
{
	struct sv_arg *fl = sv_tag_arg(x, SV_TAG_FLAGS);
	struct sv_action_req a = {.line = x->line,
	    .copy = sv_has_tag(x, SV_TAG_COPY),
	    .create = sv_has_tag(x, SV_TAG_CREATE)};
	char *target = NULL, **flags = NULL;
	size_t n;

	a.type = x->id == SV_C_KEEP ? SIEVE_ACT_KEEP : SIEVE_ACT_FILEINTO;
	if (x->id == SV_C_FILEINTO)
		a.target = target = sv_str(r, x->pos[0]->strs[0]);
	if (fl) {
		size_t nl;
		char **list = sv_list(r, fl, &nl);

		flags = sv_flags_from(list, nl, &n);
		sv_free_values(list, nl);
	} else if (r->exts & SV_EXT_IMAP4FLAGS) {
		flags = sv_flags_copy(r->flags);
	}
	a.flags = flags;
	sv_result_add(r->res, &a);
	sv_strv_free(flags);
	free(target);
}

static void sv_exec_simple(struct sv_run *r, const struct sv_node *x)
{
	struct sv_action_req a = {.line = x->line, .copy = sv_has_tag(x, SV_TAG_COPY)};
	char *target = x->npos ? sv_str(r, x->pos[0]->strs[0]) : NULL;

	a.target = target;
	switch (x->id) {
	case SV_C_DISCARD: a.type = SIEVE_ACT_DISCARD; break;
	case SV_C_REJECT: a.type = SIEVE_ACT_REJECT; break;
	case SV_C_EREJECT: a.type = SIEVE_ACT_EREJECT; break;
	default:
		a.type = SIEVE_ACT_REDIRECT;
		if (target && *target == '<') {
			size_t len = strlen(target);

			memmove(target, target + 1, len);
			if (len > 1 && target[len - 2] == '>')
				target[len - 2] = 0;
		}
		if (target == NULL || strchr(target, '@') == NULL || *target == '@' ||
		    strchr(target, ' ')) {
			sv_result_error(r->res, x->line,
			    "specified redirect address '%s' is invalid", target ? target : "");
			free(target);
			return;
		}
		break;
	}
	sv_result_add(r->res, &a);
	free(target);
}

static void sv_exec_vacation(struct sv_run *r, const struct sv_node *x)
{
	struct sv_arg *days = sv_tag_arg(x, SV_TAG_DAYS), *secs = sv_tag_arg(x, SV_TAG_SECONDS);
	struct sv_arg *subj = sv_tag_arg(x, SV_TAG_SUBJECT), *from = sv_tag_arg(x, SV_TAG_FROM);
	struct sv_arg *addrs = sv_tag_arg(x, SV_TAG_ADDRESSES), *h = sv_tag_arg(x, SV_TAG_HANDLE);
	struct sv_vacation_req v = {.line = x->line, .mime = sv_has_tag(x, SV_TAG_MIME)};
	char *reason = sv_str(r, x->pos[0]->strs[0]), *s = NULL, *f = NULL, *hd = NULL;
	/* Pigeonhole's defaults: 7 days, at least sieve_vacation_min_period
	 * (1 day), no maximum */
	unsigned long long max = 3650ULL * 86400;

	v.seconds = 7 * 86400L;
	if (days)
		v.seconds = (long)(days->num > max / 86400 ? max : days->num * 86400);
	if (secs)
		v.seconds = (long)(secs->num > max ? max : secs->num);
	if (v.seconds < 86400)
		v.seconds = 86400;
	v.reason = reason;
	v.subject = s = subj ? sv_str(r, subj->strs[0]) : NULL;
	v.from = f = from ? sv_str(r, from->strs[0]) : NULL;
	v.handle = hd = h ? sv_str(r, h->strs[0]) : NULL;
	if (addrs)
		v.addresses = sv_list(r, addrs, &v.naddresses);
	sv_vacation(r->env, &r->msg, &v, r->res);
	sv_free_values(v.addresses, v.naddresses);
	free(reason);
	free(s);
	free(f);
	free(hd);
}

static void sv_exec_notify(struct sv_run *r, const struct sv_node *x)
{
	struct sv_arg *from = sv_tag_arg(x, SV_TAG_FROM), *imp = sv_tag_arg(x, SV_TAG_IMPORTANCE);
	struct sv_arg *msg = sv_tag_arg(x, SV_TAG_MESSAGE);
	struct sv_notify_req n = {.line = x->line, .importance = 2};
	char *uri = sv_str(r, x->pos[0]->strs[0]), *f = NULL, *m = NULL, *i = NULL;

	/* :options: the mailto method takes none (RFC 5436 2.6) */
	if (imp) {
		i = sv_str(r, imp->strs[0]);
		if (strcmp(i, "1") != 0 && strcmp(i, "2") != 0 && strcmp(i, "3") != 0) {
			sv_result_error(
			    r->res, x->line, "notify action: invalid :importance '%s'", i);
			goto out;
		}
		n.importance = i[0] - '0';
	}
	n.uri = uri;
	n.from = f = from ? sv_str(r, from->strs[0]) : NULL;
	n.message = m = msg ? sv_str(r, msg->strs[0]) : NULL;
	if (f && !sv_address_ok(f)) {
		sv_result_error(r->res, x->line, "notify action: invalid :from address '%s'", f);
		goto out;
	}
	sv_notify(&r->msg, &n, r->res);
out:
	free(uri);
	free(f);
	free(m);
	free(i);
}

static void sv_exec_include(struct sv_run *r, const struct sv_node *x)
{
	char *name = sv_str(r, x->pos[0]->strs[0]);
	bool global = sv_has_tag(x, SV_TAG_GLOBAL);
	struct buf text = BUF_INIT, errs = BUF_INIT;
	struct sieve_script *sub;

	if (sv_has_tag(x, SV_TAG_ONCE))
		for (size_t i = 0; i < r->nincluded; i++)
			if (strcmp(r->included[i], name) == 0)
				goto out;
	if (r->depth >= SIEVE_MAX_INCLUDE) {
		sv_result_error(r->res, x->line, "include: nesting too deep");
		goto out;
	}
	if (r->env->include_load == NULL ||
	    !r->env->include_load(r->env->ctx, name, global, &text)) {
		if (!sv_has_tag(x, SV_TAG_OPTIONAL))
			sv_result_error(
			    r->res, x->line, "included script '%s' does not exist", name);
		goto out;
	}
	sub = sieve_compile(text.data ? text.data : "", text.len, name, &errs);
	if (sub == NULL) {
		sv_result_error(r->res, x->line, "failed to compile included script '%s'", name);
		goto out;
	}
	r->included = xreallocarray(r->included, r->nincluded + 1, sizeof(char *));
	r->included[r->nincluded++] = xstrdup(name);
	unsigned saved = r->exts;

	r->exts = sub->exts;
	r->depth++;
	sv_exec_block(r, sub->cmds, sub->n);
	r->depth--;
	r->ret = false;
	r->exts = saved;
	sieve_script_free(sub);
out:
	buf_free(&text);
	buf_free(&errs);
	free(name);
}

/* Runs one command; false stops the block (stop, return, error). */
static bool sv_exec(struct sv_run *r, const struct sv_node *cmds, size_t n, size_t *i)
{
	const struct sv_node *x = &cmds[*i];

	switch (x->id) {
	case SV_C_REQUIRE:
	case SV_C_GLOBAL: break;
	case SV_C_IF: {
		size_t j = *i;

		for (;;) {
			const struct sv_node *c = &cmds[j];

			if (c->id == SV_C_ELSE || sv_test(r, &c->tests[0])) {
				if (!r->res->failed)
					sv_exec_block(r, c->block, c->nblock);
				break;
			}
			if (j + 1 >= n ||
			    (cmds[j + 1].id != SV_C_ELSIF && cmds[j + 1].id != SV_C_ELSE))
				break;
			j++;
		}
		while (
		    *i + 1 < n && (cmds[*i + 1].id == SV_C_ELSIF || cmds[*i + 1].id == SV_C_ELSE))
			(*i)++;
		break;
	}
	case SV_C_STOP: r->stop = true; break;
	case SV_C_RETURN: r->ret = true; break;
	case SV_C_KEEP:
	case SV_C_FILEINTO: sv_exec_store(r, x); break;
	case SV_C_DISCARD:
	case SV_C_REDIRECT:
	case SV_C_REJECT:
	case SV_C_EREJECT: sv_exec_simple(r, x); break;
	case SV_C_SETFLAG:
	case SV_C_ADDFLAG:
	case SV_C_REMOVEFLAG: sv_exec_flagcmd(r, x); break;
	case SV_C_SET: sv_exec_set(r, x); break;
	case SV_C_VACATION: sv_exec_vacation(r, x); break;
	case SV_C_NOTIFY: sv_exec_notify(r, x); break;
	case SV_C_INCLUDE: sv_exec_include(r, x); break;
	case SV_C_ADDHEADER: sv_exec_addheader(r, x); break;
	case SV_C_DELETEHEADER: sv_exec_deleteheader(r, x); break;
	default: break;
	}
	return !(r->stop || r->ret || r->res->failed);
}

static bool sv_exec_block(struct sv_run *r, const struct sv_node *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sv_exec(r, cmds, n, &i))
			return false;
	return !(r->stop || r->ret || r->res->failed);
}

bool sieve_execute(const struct sieve_script *s, const char *msg, size_t len,
    const struct sieve_env *env, struct sieve_result *res)
{
	struct sv_run r;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	res->implicit_keep = true;
	r.s = s;
	r.exts = s->exts;
	r.env = env;
	r.res = res;
	r.now = env->now ? env->now : time(NULL);
	sv_msg_init(&r.msg, msg, len);
	sv_exec_block(&r, s->cmds, s->n);
	if (res->failed) {
		/* RFC 5228 2.10.6: an error cancels every action; keep */
		for (size_t i = 0; i < res->nactions; i++) {
			free(res->actions[i].target);
			sv_strv_free(res->actions[i].flags);
			free(res->actions[i].to);
			free(res->actions[i].subject);
			free(res->actions[i].from);
			free(res->actions[i].handle);
			free(res->actions[i].track_id);
		}
		free(res->actions);
		res->actions = NULL;
		res->nactions = 0;
		res->implicit_keep = true;
	} else {
		if (res->implicit_keep && r.flags && r.flags[0])
			res->keep_flags = sv_flags_copy(r.flags);
		if (r.is_edited) {
			/* LF line ends, as the queue file has them */
			size_t flen = sv_msg_fields_len(&r.msg);
			struct buf h = BUF_INIT;

			for (size_t i = 0; i < flen; i++)
				if (r.msg.data[i] != '\r' || i + 1 >= flen ||
				    r.msg.data[i + 1] != '\n')
					buf_putc(&h, r.msg.data[i]);
			if (h.len && h.data[h.len - 1] != '\n')
				buf_putc(&h, '\n');
			res->header_len = h.len;
			res->header = xstrdup(buf_cstr(&h));
			buf_free(&h);
		}
	}
	sv_captures_clear(&r.caps);
	sv_vars_free(&r.vars);
	sv_strv_free(r.flags);
	for (size_t i = 0; i < r.nincluded; i++)
		free(r.included[i]);
	free(r.included);
	sv_msg_free(&r.msg);
	buf_free(&r.edited);
	return !res->failed;
}
