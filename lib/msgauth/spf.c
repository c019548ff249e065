/*
 * spf.c - the SPF evaluator: check_host() of RFC 7208 4 and 5.
 *
 * spf_evaluate runs check_host over the answers a lookup function knows.
 * When it needs one that is not there yet it stops, says which, and is run
 * again from the start once the answer is in (spf_check.c does the asking,
 * in an event loop or blocking).  A run is deterministic given the
 * answers, so every run takes the same way as far as the previous one got;
 * an evaluation asks at most a few dozen questions (the limits below), so
 * running it again costs far less than one DNS round trip.
 *
 * Limits (4.6.4): include, a, mx, ptr, exists and redirect count toward
 * 10 DNS-querying terms for the whole evaluation; more is a permerror.  Of
 * their look-ups at most 2 may be void (no such name, or no records).  An
 * MX answer with more than 10 names is a permerror; a PTR answer's names
 * beyond the 10th are ignored.
 *
 * Also here: the Received-SPF header value and result names.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "msgauth/spf_int.h"
#include "util.h"

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10
#define SPF_AGAIN 100 /* beside enum spf_result: an answer is missing */
#define SPF_DEFAULT_EXP "%{i} is not one of %{d}'s designated mail servers"

enum spf_match { M_NO, M_YES, M_TEMP, M_PERM, M_AGAIN };

struct spf_ev {
	const struct spf_query *q;
	spf_lookup_fn *lookup;
	void *lctx;
	struct spf_macro_env env;
	int lookups, voids;
	char *need_name;
	int need_type;
	struct buf why;
	char *mech;
	char *exp;
	char *ptr_name; /* %{p}, found once */
	bool ptr_known;
};

static const char *spf_names[] = {
    "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};

const char *spf_result_name(enum spf_result r)
{
	return (size_t)r < sizeof(spf_names) / sizeof(spf_names[0]) ? spf_names[r] : "unknown";
}

void spf_outcome_free(struct spf_outcome *o)
{
	free(o->domain);
	free(o->mechanism);
	free(o->explanation);
	free(o->problem);
	memset(o, 0, sizeof(*o));
}

/* ------------------------------------------------------------ DNS */

static const struct spf_rrset *spf_ask(struct spf_ev *ev, const char *name, int type)
{
	const struct spf_rrset *s = ev->lookup(ev->lctx, name, type);

	if (s == NULL && ev->need_name == NULL) {
		ev->need_name = xstrdup(name);
		ev->need_type = type;
	}
	return s;
}

static bool spf_dns_error(enum dns_status st)
{
	return st != DNS_OK && st != DNS_NOTFOUND && st != DNS_NODATA && st != DNS_NULLMX;
}

/* A void look-up (4.6.4): counted; M_PERM past the limit, else M_NO. */
static enum spf_match spf_void(struct spf_ev *ev, const char *name)
{
	if (++ev->voids > SPF_MAX_VOID) {
		buf_printf(&ev->why, "more than %d void look-ups (at %s)", SPF_MAX_VOID, name);
		return M_PERM;
	}
	return M_NO;
}

static bool spf_count_lookup(struct spf_ev *ev, const struct spf_term *t)
{
	if (++ev->lookups <= SPF_MAX_LOOKUPS)
		return true;
	buf_printf(&ev->why, "more than %d DNS-querying terms (at %s)", SPF_MAX_LOOKUPS, t->text);
	return false;
}

static int spf_addr_type(int family)
{
	return family == AF_INET ? ns_t_a : ns_t_aaaa;
}

static bool spf_ip_in(const struct spf_ip *net, int bits, const struct spf_ip *ip)
{
	int full = bits / 8, rest = bits % 8;

	if (net->family != ip->family)
		return false;
	if (memcmp(net->a, ip->a, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->a[full] & mask) == (ip->a[full] & mask);
}

static struct spf_ip spf_client(const struct spf_ev *ev)
{
	struct spf_ip ip = {.family = ev->env.family};

	memcpy(ip.a, ev->env.ip, 16);
	return ip;
}

/* Does one of name's addresses of the client's family lie in the client's
 * network of bits?  M_TEMP on a DNS error (5), M_NO when void (with
 * counting if count_void). */
static enum spf_match spf_addr_match(struct spf_ev *ev, const char *name, int bits, bool count_void)
{
	const struct spf_rrset *s = spf_ask(ev, name, spf_addr_type(ev->env.family));
	struct spf_ip ip = spf_client(ev);

	if (s == NULL)
		return M_AGAIN;
	if (spf_dns_error(s->st)) {
		buf_printf(&ev->why, "DNS error looking up %s", name);
		return M_TEMP;
	}
	if (s->nips == 0)
		return count_void ? spf_void(ev, name) : M_NO;
	for (size_t i = 0; i < s->nips; i++)
		if (spf_ip_in(&s->ips[i], bits, &ip))
			return M_YES;
	return M_NO;
}

/* ------------------------------------------------------------ names */

/* The reverse name of the client's address (in-addr.arpa / ip6.arpa). */
static char *spf_reverse_name(const struct spf_ev *ev)
{
	const unsigned char *a = ev->env.ip;
	struct buf b = BUF_INIT;

	if (ev->env.family == AF_INET) {
		buf_printf(&b, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	} else {
		for (int i = 15; i >= 0; i--)
			buf_printf(
			    &b, "%c.%c.", hex_digit(a[i], false), hex_digit(a[i] >> 4, false));
		buf_puts(&b, "ip6.arpa");
	}
	return b.data;
}

static bool spf_name_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	while (n > 0 && name[n - 1] == '.')
		n--;
	while (d > 0 && domain[d - 1] == '.')
		d--;
	if (n == d)
		return strncasecmp(name, domain, n) == 0;
	return n > d && name[n - d - 1] == '.' && strncasecmp(name + n - d, domain, d) == 0;
}

/*
 * The client's validated names (5.5): PTR names whose addresses include
 * the client, at most the first 10, DNS errors skipping a name.  With
 * domain, only names at or under it are looked at.  NULL when an answer is
 * missing, else a vector (possibly empty; strv_free it).
 */
static char **spf_validated_names(struct spf_ev *ev, const char *domain, bool *again)
{
	char *rev = spf_reverse_name(ev);
	const struct spf_rrset *s = spf_ask(ev, rev, ns_t_ptr);
	char **out = xcalloc(1, sizeof(*out));
	size_t n = 0;

	free(rev);
	*again = s == NULL;
	if (s == NULL || s->st != DNS_OK)
		return out;
	for (size_t i = 0; i < s->nstrs && i < SPF_MAX_NAMES; i++) {
		if (domain != NULL && !spf_name_under(s->strs[i], domain))
			continue;
		enum spf_match m =
		    spf_addr_match(ev, s->strs[i], ev->env.family == AF_INET ? 32 : 128, false);
		if (m == M_AGAIN) {
			*again = true;
			break;
		}
		if (m == M_YES) {
			out = xreallocarray(out, n + 2, sizeof(*out));
			out[n++] = xstrdup(s->strs[i]);
			out[n] = NULL;
		}
	}
	return out;
}

/* %{p} (7.3): the validated name equal to the domain, else one under
 * it, else any; "unknown" (NULL) when none.  False when an answer is
 * missing. */
static bool spf_find_ptr_name(struct spf_ev *ev)
{
	bool again;
	char **v;
	const char *best = NULL;

	if (ev->ptr_known)
		return true;
	v = spf_validated_names(ev, NULL, &again);
	if (again) {
		strv_free(v);
		return false;
	}
	for (char **p = v; *p && best == NULL; p++)
		if (str_case_eq(*p, ev->env.domain))
			best = *p;
	for (char **p = v; *p && best == NULL; p++)
		if (spf_name_under(*p, ev->env.domain))
			best = *p;
	if (best == NULL)
		best = v[0];
	ev->ptr_name = best ? xstrdup(best) : NULL;
	ev->env.ptr_name = ev->ptr_name;
	ev->ptr_known = true;
	strv_free(v);
	return true;
}

/*
 * Expands a domain-spec for the current domain into a name to look up:
 * more than 253 characters lose labels on the left (7.3), a trailing dot
 * goes.  NULL when %{p} needs an answer first (again set) or on a syntax
 * error.
 */
static char *spf_target(struct spf_ev *ev, const char *spec, const char *domain, bool *again)
{
	struct buf b = BUF_INIT;
	const char *p;

	*again = false;
	if (spec == NULL)
		return xstrdup(domain);
	if (spf_macro_uses_ptr(spec) && !spf_find_ptr_name(ev)) {
		*again = true;
		return NULL;
	}
	ev->env.domain = domain;
	if (!spf_macro_expand(spec, &ev->env, false, &b)) {
		buf_free(&b);
		return NULL;
	}
	while (b.len > 0 && b.data[b.len - 1] == '.')
		buf_truncate(&b, b.len - 1);
	p = buf_cstr(&b);
	while (strlen(p) > 253 && strchr(p, '.') != NULL)
		p = strchr(p, '.') + 1;
	char *out = xstrdup(p);
	buf_free(&b);
	return out;
}

/* 4.3: a domain check_host can look at (a FQDN with sane labels). */
static bool spf_domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0;
	bool dot = false;

	if (len == 0 || len > 253 || d[0] == '.' || d[0] == '[')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0 && i + 1 < len)
				return false;
			dot = dot || i + 1 < len;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return dot;
}

/* Can a DNS query be made of name (no empty label, none over 63)?  A
 * name that cannot is treated as one that does not exist (the suite's
 * preferred reading of 4.3, 4.8 and 5). */
static bool spf_name_queryable(const char *name)
{
	size_t label = 0;

	if (*name == 0)
		return false;
	for (const char *p = name;; p++) {
		if (*p == '.' || *p == 0) {
			if (label == 0 || label > 63)
				return false;
			if (*p == 0)
				return true;
			label = 0;
		} else {
			label++;
		}
	}
}

/* ------------------------------------------------------------ check_host */

static int spf_check_host(struct spf_ev *ev, const char *domain, bool want_exp);

static enum spf_match spf_match_include(struct spf_ev *ev, const char *target)
{
	int r;

	if (!spf_domain_ok(target)) {
		buf_printf(&ev->why, "include of a bad domain name \"%s\"", target);
		return M_PERM;
	}
	r = spf_check_host(ev, target, false);
	switch (r) {
	case SPF_AGAIN: return M_AGAIN;
	case SPF_PASS: return M_YES;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL: return M_NO;
	case SPF_TEMPERROR: return M_TEMP;
	case SPF_NONE:
		buf_printf(&ev->why, "included domain %s has no SPF record", target);
		return M_PERM;
	default: return M_PERM;
	}
}

static enum spf_match spf_match_mx(struct spf_ev *ev, const char *target, int bits)
{
	const struct spf_rrset *s = spf_ask(ev, target, ns_t_mx);

	if (s == NULL)
		return M_AGAIN;
	if (spf_dns_error(s->st)) {
		buf_printf(&ev->why, "DNS error looking up MX of %s", target);
		return M_TEMP;
	}
	if (s->st == DNS_NOTFOUND || s->st == DNS_NODATA)
		return spf_void(ev, target);
	if (s->nstrs > SPF_MAX_NAMES) {
		buf_printf(&ev->why, "%s has more than %d MX records", target, SPF_MAX_NAMES);
		return M_PERM;
	}
	for (size_t i = 0; i < s->nstrs; i++) {
		enum spf_match m = spf_addr_match(ev, s->strs[i], bits, false);
		if (m != M_NO)
			return m;
	}
	return M_NO;
}

static enum spf_match spf_match_ptr(struct spf_ev *ev, const char *target)
{
	bool again;
	char **v = spf_validated_names(ev, target, &again);
	bool found = v[0] != NULL;

	strv_free(v);
	return again ? M_AGAIN : found ? M_YES : M_NO;
}

static enum spf_match spf_match_exists(struct spf_ev *ev, const char *target)
{
	const struct spf_rrset *s = spf_ask(ev, target, ns_t_a);

	if (s == NULL)
		return M_AGAIN;
	if (spf_dns_error(s->st)) {
		buf_printf(&ev->why, "DNS error looking up %s", target);
		return M_TEMP;
	}
	return s->nips > 0 ? M_YES : spf_void(ev, target);
}

static enum spf_match spf_match(struct spf_ev *ev, const struct spf_term *t, const char *domain)
{
	struct spf_ip ip = spf_client(ev);
	enum spf_match m;
	bool again;
	char *target;
	int bits = ev->env.family == AF_INET ? t->cidr4 : t->cidr6;

	switch (t->kind) {
	case SPF_T_ALL: return M_YES;
	case SPF_T_IP4:
	case SPF_T_IP6: {
		struct spf_ip net = {.family = t->kind == SPF_T_IP4 ? AF_INET : AF_INET6};
		memcpy(net.a, t->addr, 16);
		return spf_ip_in(&net, t->kind == SPF_T_IP4 ? t->cidr4 : t->cidr6, &ip) ? M_YES
											: M_NO;
	}
	default: break;
	}
	if (!spf_count_lookup(ev, t))
		return M_PERM;
	if ((target = spf_target(ev, t->spec, domain, &again)) == NULL) {
		if (!again)
			buf_printf(&ev->why, "bad macro in %s", t->text);
		return again ? M_AGAIN : M_PERM;
	}
	if (t->kind != SPF_T_INCLUDE && !spf_name_queryable(target)) {
		m = t->kind == SPF_T_PTR ? M_NO : spf_void(ev, target);
		free(target);
		return m;
	}
	switch (t->kind) {
	case SPF_T_INCLUDE: m = spf_match_include(ev, target); break;
	case SPF_T_A: m = spf_addr_match(ev, target, bits, true); break;
	case SPF_T_MX: m = spf_match_mx(ev, target, bits); break;
	case SPF_T_PTR: m = spf_match_ptr(ev, target); break;
	case SPF_T_EXISTS: m = spf_match_exists(ev, target); break;
	default: m = M_PERM; break;
	}
	free(target);
	return m;
}

/* The one SPF record of domain's TXT records: SPF_AGAIN, a result for
 * none/errors, or -1 with *rec parsed. */
static int spf_get_record(struct spf_ev *ev, const char *domain, struct spf_record *rec)
{
	const struct spf_rrset *s = spf_ask(ev, domain, ns_t_txt);
	const char *found = NULL;
	size_t n = 0;

	if (s == NULL)
		return SPF_AGAIN;
	if (spf_dns_error(s->st)) {
		buf_printf(&ev->why, "DNS error looking up TXT of %s", domain);
		return SPF_TEMPERROR;
	}
	for (size_t i = 0; i < s->nstrs; i++)
		if (spf_record_is_spf(s->strs[i], strlen(s->strs[i]))) {
			found = s->strs[i];
			n++;
		}
	if (n == 0) {
		buf_printf(&ev->why, "%s has no SPF record", domain);
		return SPF_NONE;
	}
	if (n > 1) {
		buf_printf(&ev->why, "%s has more than one SPF record", domain);
		return SPF_PERMERROR;
	}
	buf_printf(&ev->why, "in the SPF record of %s: ", domain);
	if (spf_record_parse(found, strlen(found), rec, &ev->why) != 0)
		return SPF_PERMERROR;
	buf_reset(&ev->why);
	return -1;
}

/* 6.2: the explanation of a fail, from exp= or the default; false when
 * an answer is missing. */
static bool spf_explain(struct spf_ev *ev, const struct spf_record *rec, const char *domain)
{
	const char *text = ev->q->default_exp ? ev->q->default_exp : SPF_DEFAULT_EXP;
	const struct spf_rrset *s = NULL;
	struct buf out = BUF_INIT;
	bool again;
	char *name = NULL;

	if (rec->exp >= 0) {
		name = spf_target(ev, rec->terms[rec->exp].spec, domain, &again);
		if (name == NULL && again)
			return false;
		if (name != NULL && spf_domain_ok(name) &&
		    (s = spf_ask(ev, name, ns_t_txt)) == NULL) {
			free(name);
			return false;
		}
		if (s != NULL && s->st == DNS_OK && s->nstrs == 1 &&
		    spf_macro_valid(s->strs[0], strlen(s->strs[0]), true))
			text = s->strs[0];
	}
	if (spf_macro_uses_ptr(text) && !spf_find_ptr_name(ev)) {
		free(name);
		return false;
	}
	ev->env.domain = domain;
	if (!spf_macro_expand(text, &ev->env, true, &out))
		buf_reset(&out);
	free(ev->exp);
	ev->exp = xstrdup(buf_cstr(&out));
	buf_free(&out);
	free(name);
	return true;
}

static int spf_qualified(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

static int spf_redirect(
    struct spf_ev *ev, const struct spf_record *rec, const char *domain, bool want_exp)
{
	const struct spf_term *t = &rec->terms[rec->redirect];
	bool again;
	char *target;
	int r;

	if (!spf_count_lookup(ev, t))
		return SPF_PERMERROR;
	if ((target = spf_target(ev, t->spec, domain, &again)) == NULL)
		return again ? SPF_AGAIN : SPF_PERMERROR;
	if (!spf_domain_ok(target)) {
		buf_printf(&ev->why, "redirect to a bad domain name \"%s\"", target);
		free(target);
		return SPF_PERMERROR;
	}
	r = spf_check_host(ev, target, want_exp);
	if (r == SPF_NONE) {
		buf_printf(&ev->why, " (redirect=%s)", target);
		r = SPF_PERMERROR;
	}
	free(target);
	return r;
}

static int spf_check_host(struct spf_ev *ev, const char *domain, bool want_exp)
{
	struct spf_record rec;
	int r = spf_get_record(ev, domain, &rec);

	if (r != -1)
		return r;
	r = SPF_NEUTRAL;
	for (size_t i = 0; i < rec.n; i++) {
		const struct spf_term *t = &rec.terms[i];
		enum spf_match m;
		if (t->kind == SPF_T_REDIRECT || t->kind == SPF_T_EXP ||
		    t->kind == SPF_T_UNKNOWN_MOD)
			continue;
		m = spf_match(ev, t, domain);
		if (m == M_NO)
			continue;
		r = m == M_AGAIN  ? SPF_AGAIN
		    : m == M_TEMP ? SPF_TEMPERROR
		    : m == M_PERM ? SPF_PERMERROR
				  : spf_qualified(t->qualifier);
		if (m == M_YES) {
			free(ev->mech);
			ev->mech = xstrdup(t->text);
			if (r == SPF_FAIL && want_exp && !spf_explain(ev, &rec, domain))
				r = SPF_AGAIN;
		}
		spf_record_free(&rec);
		return r;
	}
	if (rec.redirect >= 0)
		r = spf_redirect(ev, &rec, domain, want_exp);
	else {
		free(ev->mech);
		ev->mech = xstrdup("default");
	}
	spf_record_free(&rec);
	return r;
}

/* ------------------------------------------------------------ entry */

static bool spf_parse_client(const char *text, struct spf_macro_env *env)
{
	unsigned char a6[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (text != NULL && inet_pton(AF_INET, text, env->ip) == 1) {
		env->family = AF_INET;
		return true;
	}
	if (text == NULL || inet_pton(AF_INET6, text, a6) != 1)
		return false;
	if (memcmp(a6, mapped, 12) == 0) { /* an IPv4-mapped address is IPv4 */
		env->family = AF_INET;
		memcpy(env->ip, a6 + 12, 4);
	} else {
		env->family = AF_INET6;
		memcpy(env->ip, a6, 16);
	}
	return true;
}

static void spf_ev_free(struct spf_ev *ev, char *sender, char *local)
{
	free(sender);
	free(local);
	free(ev->need_name);
	buf_free(&ev->why);
	free(ev->mech);
	free(ev->exp);
	free(ev->ptr_name);
}

bool spf_evaluate(const struct spf_query *q, long long now, spf_lookup_fn *lookup, void *ctx,
    struct spf_outcome *out, char **need_name, int *need_type)
{
	struct spf_ev ev = {.q = q, .lookup = lookup, .lctx = ctx};
	const char *helo = q->helo ? q->helo : "";
	char *raw, *sender, *local, *at, *dom;
	int r;

	memset(out, 0, sizeof(*out));
	if (q->sender != NULL && q->sender[0] != 0 && !q->helo_identity)
		raw = xstrdup(q->sender);
	else
		raw = xasprintf("postmaster@%s", helo);
	/* No local part (or no "@" at all): "postmaster" (4.3). */
	if ((at = strrchr(raw, '@')) == NULL) {
		local = xstrdup("postmaster");
		dom = raw;
	} else {
		local = at == raw ? xstrdup("postmaster") : xstrndup(raw, (size_t)(at - raw));
		dom = at + 1;
	}
	sender = xasprintf("%s@%s", local, dom);
	free(raw);
	at = strrchr(sender, '@');
	ev.env.sender = sender;
	ev.env.local = local;
	ev.env.sender_dom = at + 1;
	ev.env.domain = at + 1;
	ev.env.helo = helo;
	ev.env.receiver = q->receiver;
	ev.env.now = now;
	out->domain = xstrdup(at + 1);
	if (!spf_parse_client(q->ip, &ev.env)) {
		buf_printf(&ev.why, "bad client address \"%s\"", q->ip ? q->ip : "");
		r = SPF_PERMERROR;
	} else if (!spf_domain_ok(at + 1)) {
		buf_printf(&ev.why, "\"%s\" is no domain name SPF can check", at + 1);
		r = SPF_NONE;
	} else {
		r = spf_check_host(&ev, at + 1, true);
	}
	if (r == SPF_AGAIN) {
		*need_name = ev.need_name;
		*need_type = ev.need_type;
		ev.need_name = NULL;
		spf_outcome_free(out);
		spf_ev_free(&ev, sender, local);
		return false;
	}
	out->result = (enum spf_result)r;
	out->mechanism = ev.mech;
	ev.mech = NULL;
	if (r == SPF_FAIL) {
		out->explanation = ev.exp;
		ev.exp = NULL;
	}
	if (ev.why.len > 0 && (r == SPF_NONE || r == SPF_TEMPERROR || r == SPF_PERMERROR))
		out->problem = xstrdup(buf_cstr(&ev.why));
	spf_ev_free(&ev, sender, local);
	return true;
}

/* ------------------------------------------------------------ reporting */

void spf_outcome_describe(const struct spf_outcome *o, struct buf *out)
{
	buf_puts(out, spf_result_name(o->result));
	if (o->mechanism)
		buf_printf(out, " (mechanism %s)", o->mechanism);
	if (o->problem)
		buf_printf(out, " (%s)", o->problem);
	if (o->explanation)
		buf_printf(out, ": %s", o->explanation);
}

/* A header comment cannot hold unbalanced parentheses or backslashes. */
static void spf_comment_text(const char *s, struct buf *out)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f &&
		    strchr("()\\", *s) == NULL)
			buf_putc(out, *s);
}

static void spf_quoted(const char *s, struct buf *out)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			continue;
		if (*s == '"' || *s == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

void spf_received_value(
    const struct spf_query *q, const struct spf_outcome *o, const char *receiver, struct buf *out)
{
	struct buf c = BUF_INIT;
	bool mailfrom = q->sender && *q->sender && !q->helo_identity;
	const char *who = mailfrom ? q->sender : q->helo ? q->helo : "";

	buf_printf(&c, "%s: ", receiver);
	switch (o->result) {
	case SPF_PASS:
		buf_printf(&c, "domain of %s designates %s as permitted sender", who, q->ip);
		break;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
		buf_printf(
		    &c, "domain of %s does not designate %s as permitted sender", who, q->ip);
		break;
	case SPF_NEUTRAL:
		buf_printf(&c, "%s is neither permitted nor denied by domain of %s", q->ip, who);
		break;
	case SPF_NONE: buf_printf(&c, "domain of %s does not provide an SPF record", who); break;
	default: buf_printf(&c, "error in processing during lookup of %s", who); break;
	}
	if (o->problem)
		buf_printf(&c, ": %s", o->problem);
	buf_printf(out, "%s (", spf_result_name(o->result));
	spf_comment_text(buf_cstr(&c), out);
	buf_printf(out, ") client-ip=%s; envelope-from=", q->ip);
	spf_quoted(q->sender ? q->sender : "", out);
	buf_puts(out, "; helo=");
	spf_quoted(q->helo ? q->helo : "", out);
	buf_printf(out, "; receiver=%s; identity=%s;", receiver, mailfrom ? "mailfrom" : "helo");
	if (o->mechanism && o->result != SPF_NONE) {
		buf_puts(out, " mechanism=");
		spf_quoted(o->mechanism, out);
		buf_putc(out, ';');
	}
	buf_free(&c);
}
