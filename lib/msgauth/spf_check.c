/*
 * spf_check.c - running the SPF evaluator against the DNS: in an event
 * loop (spf_check_start) or blocking (spf_check_blocking).
 *
 * Each check keeps the answers it has been given (a small table, looked
 * through linearly: an evaluation asks a few dozen questions at most) and
 * runs spf_evaluate again whenever one more is in (spf.c explains why that
 * is cheap and correct).  Answers come from lib/dns, so its per-process
 * cache serves every check.  The raw answer bytes are turned into what the
 * evaluator looks at by spf_rrset_from_answer, a pure function (fuzzed
 * through the DNS answer harness's inputs in the unit tests).
 *
 * An asynchronous check ends after SPF_CHECK_TIMEOUT_MS with temperror,
 * and after SPF_MAX_QUESTIONS distinct questions with permerror (the
 * evaluator's own limits keep a real record well below that).
 */
#include <arpa/nameser.h>
#include <ares.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "event.h"
#include "log.h"
#include "msgauth/spf_int.h"
#include "util.h"

#define SPF_MAX_QUESTIONS 250

struct spf_answer {
	char *name; /* lower case */
	int type;
	struct spf_rrset set;
};

struct spf_store {
	struct spf_answer *v;
	size_t n;
};

struct spf_check {
	struct event_loop *loop;
	struct spf_query q;
	char *strs[5]; /* the query's own copies */
	long long now;
	spf_done_fn *fn;
	void *ctx;
	struct spf_store store;
	struct dns_request *req;
	char *req_name;
	int req_type;
	struct event_timer *step;     /* zero-delay: run the evaluator */
	struct event_timer *deadline; /* SPF_CHECK_TIMEOUT_MS */
};

/* ------------------------------------------------------------ answers */

static void spf_txt_from_answer(const unsigned char *ans, int len, struct spf_rrset *set)
{
	set->st = dns_txt_from_answer(ans, len, &set->strs, &set->nstrs);
}

static void spf_addrs_from_answer(
    int family, const unsigned char *ans, int len, struct spf_rrset *set)
{
	struct dns_addr *a = NULL;
	size_t n = 0;
	unsigned ttl;

	set->st = dns_addrs_from_answer(ans, len, family, 0, &a, &n, &ttl);
	if (set->st == DNS_NODATA)
		return;
	set->ips = xcalloc(n ? n : 1, sizeof(*set->ips));
	for (size_t i = 0; i < n; i++) {
		set->ips[i].family = family;
		if (family == AF_INET)
			memcpy(set->ips[i].a, &((struct sockaddr_in *)&a[i].sa)->sin_addr, 4);
		else
			memcpy(set->ips[i].a, &((struct sockaddr_in6 *)&a[i].sa)->sin6_addr, 16);
	}
	set->nips = n;
	free(a);
}

static void spf_add_str(struct spf_rrset *set, const char *s)
{
	set->strs = xreallocarray(set->strs, set->nstrs + 1, sizeof(char *));
	set->strs[set->nstrs++] = xstrdup(s);
}

static void spf_mx_from_answer(const unsigned char *ans, int len, struct spf_rrset *set)
{
	struct dns_mx *mx = NULL;
	size_t n = 0;
	unsigned ttl;

	set->st = dns_mx_from_answer(ans, len, &mx, &n, &ttl);
	if (set->st == DNS_NULLMX) /* RFC 7505: no host, a positive answer */
		set->st = DNS_OK;
	for (size_t i = 0; i < n; i++)
		spf_add_str(set, mx[i].host);
	free(mx);
}

static void spf_ptr_from_answer(const unsigned char *ans, int len, struct spf_rrset *set)
{
	struct hostent *h = NULL;
	int rc = ares_parse_ptr_reply(ans, len, NULL, 0, AF_INET, &h);

	if (rc == ARES_ENODATA) {
		set->st = DNS_NODATA;
		return;
	}
	if (rc != ARES_SUCCESS || h == NULL) {
		set->st = DNS_FAIL;
		return;
	}
	/* c-ares lists every name, in answer order, as an alias (and the
	 * last again as h_name); the order matters for the first 10 (5.5). */
	for (char **p = h->h_aliases; p && *p; p++) {
		bool seen = false;
		for (size_t i = 0; i < set->nstrs && !seen; i++)
			seen = str_case_eq(set->strs[i], *p);
		if (!seen)
			spf_add_str(set, *p);
	}
	if (set->nstrs == 0 && h->h_name)
		spf_add_str(set, h->h_name);
	ares_free_hostent(h);
}

void spf_rrset_from_answer(
    int type, enum dns_status st, const unsigned char *ans, int len, struct spf_rrset *set)
{
	memset(set, 0, sizeof(*set));
	set->st = st;
	if (st != DNS_OK)
		return;
	switch (type) {
	case ns_t_txt: spf_txt_from_answer(ans, len, set); break;
	case ns_t_a: spf_addrs_from_answer(AF_INET, ans, len, set); break;
	case ns_t_aaaa: spf_addrs_from_answer(AF_INET6, ans, len, set); break;
	case ns_t_mx: spf_mx_from_answer(ans, len, set); break;
	case ns_t_ptr: spf_ptr_from_answer(ans, len, set); break;
	default: set->st = DNS_FAIL; break;
	}
	if (set->st == DNS_OK && type != ns_t_mx && set->nstrs == 0 && set->nips == 0)
		set->st = DNS_NODATA;
}

void spf_rrset_clear(struct spf_rrset *set)
{
	for (size_t i = 0; i < set->nstrs; i++)
		free(set->strs[i]);
	free(set->strs);
	free(set->ips);
	memset(set, 0, sizeof(*set));
}

/* ------------------------------------------------------------ the store */

static const struct spf_rrset *spf_store_get(void *ctx, const char *name, int type)
{
	struct spf_store *s = ctx;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].type == type && str_case_eq(s->v[i].name, name))
			return &s->v[i].set;
	return NULL;
}

static void spf_store_put(struct spf_store *s, const char *name, int type, enum dns_status st,
    const unsigned char *ans, int len)
{
	struct spf_answer *a;

	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	a = &s->v[s->n++];
	a->name = xstrdup(name);
	str_lower(a->name);
	a->type = type;
	spf_rrset_from_answer(type, st, ans, len, &a->set);
}

static void spf_store_free(struct spf_store *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		spf_rrset_clear(&s->v[i].set);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void spf_outcome_error(struct spf_outcome *o, enum spf_result r, const char *why)
{
	memset(o, 0, sizeof(*o));
	o->result = r;
	o->problem = xstrdup(why);
}

/* ------------------------------------------------------------ blocking */

void spf_check_blocking(const struct spf_query *q, struct spf_outcome *out)
{
	struct spf_store store = {0};
	long long now = now_usec() / 1000000;
	char *name = NULL;
	int type = 0;

	while (!spf_evaluate(q, now, spf_store_get, &store, out, &name, &type)) {
		unsigned char *ans = NULL;
		int len = 0;
		struct buf why = BUF_INIT;
		enum dns_status st;

		if (store.n >= SPF_MAX_QUESTIONS) {
			spf_outcome_error(out, SPF_PERMERROR, "too many DNS look-ups");
			free(name);
			break;
		}
		st = dns_query(name, type, &ans, &len, &why);
		log_debug("spf: %s/%d: %d %s", name, type, st, buf_cstr(&why));
		spf_store_put(&store, name, type, st, ans, len);
		free(ans);
		free(name);
		buf_free(&why);
	}
	spf_store_free(&store);
}

/* ------------------------------------------------------------ async */

static void spf_check_free(struct spf_check *c)
{
	if (c->req)
		dns_request_cancel(c->req);
	if (c->step)
		event_timer_cancel(c->loop, c->step);
	if (c->deadline)
		event_timer_cancel(c->loop, c->deadline);
	for (size_t i = 0; i < sizeof(c->strs) / sizeof(c->strs[0]); i++)
		free(c->strs[i]);
	free(c->req_name);
	spf_store_free(&c->store);
	free(c);
}

static void spf_check_finish(struct spf_check *c, const struct spf_outcome *o)
{
	c->fn(c->ctx, o);
	spf_check_free(c);
}

static void spf_check_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len);

static void spf_check_step(struct event_loop *loop, void *ctx)
{
	struct spf_check *c = ctx;
	struct spf_outcome o;
	char *name = NULL;
	int type = 0;

	(void)loop;
	c->step = NULL;
	if (spf_evaluate(&c->q, c->now, spf_store_get, &c->store, &o, &name, &type)) {
		spf_check_finish(c, &o);
		spf_outcome_free(&o);
		return;
	}
	if (c->store.n >= SPF_MAX_QUESTIONS) {
		free(name);
		spf_outcome_error(&o, SPF_PERMERROR, "too many DNS look-ups");
		spf_check_finish(c, &o);
		spf_outcome_free(&o);
		return;
	}
	free(c->req_name);
	c->req_name = name;
	c->req_type = type;
	c->req = dns_request_start(name, type, spf_check_answer, c);
}

static void spf_check_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct spf_check *c = ctx;

	c->req = NULL;
	spf_store_put(&c->store, c->req_name, c->req_type, st, ans, len);
	spf_check_step(c->loop, c);
}

static void spf_check_expired(struct event_loop *loop, void *ctx)
{
	struct spf_check *c = ctx;
	struct spf_outcome o;

	(void)loop;
	c->deadline = NULL;
	spf_outcome_error(&o, SPF_TEMPERROR, "SPF evaluation timed out");
	spf_check_finish(c, &o);
	spf_outcome_free(&o);
}

static const char *spf_keep(struct spf_check *c, int i, const char *s)
{
	return s ? (c->strs[i] = xstrdup(s)) : NULL;
}

struct spf_check *spf_check_start(
    struct event_loop *loop, const struct spf_query *q, spf_done_fn *fn, void *ctx)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->fn = fn;
	c->ctx = ctx;
	c->now = now_usec() / 1000000;
	c->q.ip = spf_keep(c, 0, q->ip);
	c->q.sender = spf_keep(c, 1, q->sender);
	c->q.helo = spf_keep(c, 2, q->helo);
	c->q.receiver = spf_keep(c, 3, q->receiver);
	c->q.default_exp = spf_keep(c, 4, q->default_exp);
	c->q.helo_identity = q->helo_identity;
	c->step = event_timer_add(loop, 0, spf_check_step, c);
	c->deadline = event_timer_add(loop, SPF_CHECK_TIMEOUT_MS, spf_check_expired, c);
	return c;
}

void spf_check_cancel(struct spf_check *c)
{
	if (c != NULL)
		spf_check_free(c);
}
