/*
 * test_spf.c - unit tests for lib/msgauth's SPF: the record parser (terms,
 * CIDR lengths, domain-specs, duplicate modifiers, bad bytes), macro
 * expansion (the examples of RFC 7208 7.4), the evaluator over a zone held
 * in memory (mechanisms, include/redirect, the 10-look-up and void look-up
 * limits, exp=, HELO identity, IPv6 and IPv4-mapped clients, run again
 * until every answer is in), the TXT/PTR answer conversion, and the
 * Received-SPF header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <cmocka.h>

#include "msgauth/spf_int.h"
#include "util.h"

/* ------------------------------------------------------------ records */

static int parse(const char *txt)
{
	struct spf_record r;
	struct buf err = BUF_INIT;
	int rc = spf_record_parse(txt, strlen(txt), &r, &err);

	if (rc == 0)
		spf_record_free(&r);
	buf_free(&err);
	return rc;
}

static void test_record_parse(void **state)
{
	struct spf_record r;
	struct buf err = BUF_INIT;
	const char *txt = "v=spf1 +a -mx:example.com/24//64 ~ip4:192.0.2.0/24 "
			  "?ip6:2001:db8::/32 include:_spf.example.org exists:%{i}.x.example "
			  "ptr redirect=other.example exp=exp.example moo=cow -all";

	(void)state;
	assert_int_equal(spf_record_parse(txt, strlen(txt), &r, &err), 0);
	assert_int_equal(r.n, 11);
	assert_int_equal(r.terms[0].kind, SPF_T_A);
	assert_int_equal(r.terms[0].qualifier, '+');
	assert_null(r.terms[0].spec);
	assert_int_equal(r.terms[1].kind, SPF_T_MX);
	assert_int_equal(r.terms[1].qualifier, '-');
	assert_string_equal(r.terms[1].spec, "example.com");
	assert_int_equal(r.terms[1].cidr4, 24);
	assert_int_equal(r.terms[1].cidr6, 64);
	assert_int_equal(r.terms[2].kind, SPF_T_IP4);
	assert_int_equal(r.terms[2].cidr4, 24);
	assert_int_equal(r.terms[2].addr[0], 192);
	assert_int_equal(r.terms[3].kind, SPF_T_IP6);
	assert_int_equal(r.terms[3].cidr6, 32);
	assert_int_equal(r.terms[4].kind, SPF_T_INCLUDE);
	assert_int_equal(r.terms[5].kind, SPF_T_EXISTS);
	assert_int_equal(r.terms[6].kind, SPF_T_PTR);
	assert_int_equal(r.redirect, 7);
	assert_int_equal(r.exp, 8);
	assert_int_equal(r.terms[9].kind, SPF_T_UNKNOWN_MOD);
	assert_int_equal(r.terms[10].kind, SPF_T_ALL);
	spf_record_free(&r);
	buf_free(&err);

	assert_int_equal(parse("v=spf1"), 0);
	assert_int_equal(parse("V=SPF1  A  -ALL "), 0);
	assert_int_equal(parse("v=spf1 a/0 ip4:0.0.0.0/0 ip6:::/0"), 0);
	assert_int_equal(parse("v=spf1 a:%{d}"), 0);
	/* errors, each a permerror */
	assert_int_equal(parse("v=spf10"), -1);
	assert_int_equal(parse("v=spf1 foo"), -1);
	assert_int_equal(parse("v=spf1 all:x"), -1);
	assert_int_equal(parse("v=spf1 include"), -1);
	assert_int_equal(parse("v=spf1 a:"), -1);
	assert_int_equal(parse("v=spf1 ip4:1.2.3.4/33"), -1);
	assert_int_equal(parse("v=spf1 ip4:1.2.3.4/032"), -1);
	assert_int_equal(parse("v=spf1 ip6:::1/129"), -1);
	assert_int_equal(parse("v=spf1 ip4:1.2.3"), -1);
	assert_int_equal(parse("v=spf1 a//129"), -1);
	assert_int_equal(parse("v=spf1 a:111.222.33.44"), -1); /* numeric top label */
	assert_int_equal(parse("v=spf1 a:museum"), -1);	       /* no dot */
	assert_int_equal(parse("v=spf1 a:%{x}.example.com"), -1);
	assert_int_equal(parse("v=spf1 a:%{d0}.example.com"), -1);
	assert_int_equal(parse("v=spf1 a:%{c}.example.com"), -1); /* exp only */
	assert_int_equal(parse("v=spf1 redirect=a.example redirect=b.example"), -1);
	assert_int_equal(parse("v=spf1 exp=a.example exp=b.example"), -1);
	assert_int_equal(parse("v=spf1 a:ex\x80mple.com"), -1);
	assert_int_equal(parse("v=spf1 a\rptr"), -1);
	assert_int_equal(parse("v=spf1 =x"), -1);

	assert_true(spf_record_is_spf("v=spf1", 6));
	assert_true(spf_record_is_spf("v=spf1 -all", 11));
	assert_false(spf_record_is_spf("v=spf10", 7));
	assert_false(spf_record_is_spf("spf1", 4));
}

/* ------------------------------------------------------------ macros */

static void env_7_4(struct spf_macro_env *env, const char *ip)
{
	memset(env, 0, sizeof(*env));
	env->sender = "strong-bad@email.example.com";
	env->local = "strong-bad";
	env->sender_dom = "email.example.com";
	env->domain = "email.example.com";
	env->helo = "mx.example.org";
	env->receiver = "mx.example.org";
	env->now = 1234;
	if (inet_pton(AF_INET, ip, env->ip) == 1)
		env->family = AF_INET;
	else {
		env->family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, env->ip), 1);
	}
}

static void expands(const struct spf_macro_env *env, const char *in, bool exp, const char *want)
{
	struct buf out = BUF_INIT;

	assert_true(spf_macro_expand(in, env, exp, &out));
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_macros_rfc_7_4(void **state)
{
	struct spf_macro_env env;
	struct buf out = BUF_INIT;

	(void)state;
	env_7_4(&env, "192.0.2.3");
	expands(&env, "%{s}", false, "strong-bad@email.example.com");
	expands(&env, "%{o}", false, "email.example.com");
	expands(&env, "%{d}", false, "email.example.com");
	expands(&env, "%{d4}", false, "email.example.com");
	expands(&env, "%{d3}", false, "email.example.com");
	expands(&env, "%{d2}", false, "example.com");
	expands(&env, "%{d1}", false, "com");
	expands(&env, "%{dr}", false, "com.example.email");
	expands(&env, "%{d2r}", false, "example.email");
	expands(&env, "%{l}", false, "strong-bad");
	expands(&env, "%{l-}", false, "strong.bad");
	expands(&env, "%{lr}", false, "strong-bad");
	expands(&env, "%{lr-}", false, "bad.strong");
	expands(&env, "%{l1r-}", false, "strong");
	expands(&env, "%{ir}.%{v}._spf.%{d2}", false, "3.2.0.192.in-addr._spf.example.com");
	expands(&env, "%{lr-}.lp._spf.%{d2}", false, "bad.strong.lp._spf.example.com");
	expands(&env, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", false,
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expands(&env, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", false,
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expands(&env, "%{d2}.trusted-domains.example.net", false,
	    "example.com.trusted-domains.example.net");
	expands(&env, "%%%_%-", false, "% %20");
	expands(&env, "%{c} at %{t} for %{r}", true, "192.0.2.3 at 1234 for mx.example.org");
	expands(&env, "%{p}", false, "unknown");
	env.local = "a b/c";
	expands(&env, "%{L}", false, "a%20b%2Fc");

	env_7_4(&env, "2001:db8::cb01");
	expands(&env, "%{ir}.%{v}._spf.%{d2}", false,
	    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
	expands(&env, "%{c}", true, "2001:db8::cb01");

	assert_false(spf_macro_expand("%{c}", &env, false, &out));
	assert_false(spf_macro_expand("%{d0}", &env, false, &out));
	assert_false(spf_macro_expand("%{d", &env, false, &out));
	assert_false(spf_macro_expand("%x", &env, false, &out));
	assert_false(spf_macro_valid("a b", 3, false));
	assert_true(spf_macro_valid("a b", 3, true));
	assert_true(spf_macro_ends_with_expand("x.%{d}", 6));
	assert_false(spf_macro_ends_with_expand("%{d}.com", 8));
	buf_free(&out);
}

/* ------------------------------------------------------------ evaluator */

/* A zone in memory: "name type value" lines; value "SERVFAIL" fails. */
struct zone {
	const char *const *rr;
	struct spf_rrset sets[64];
	char *names[64];
	int types[64];
	int n;
	int asked;
};

static int type_of(const char *t)
{
	if (strcmp(t, "A") == 0)
		return ns_t_a;
	if (strcmp(t, "AAAA") == 0)
		return ns_t_aaaa;
	if (strcmp(t, "MX") == 0)
		return ns_t_mx;
	if (strcmp(t, "PTR") == 0)
		return ns_t_ptr;
	return ns_t_txt;
}

/* Answers a question from the zone (as the driver would after a DNS
 * round trip) and keeps the answer. */
static void zone_answer(struct zone *z, const char *name, int type)
{
	struct spf_rrset *s = &z->sets[z->n];
	bool known = false;

	assert_true(z->n < 64);
	memset(s, 0, sizeof(*s));
	s->st = DNS_NOTFOUND;
	for (const char *const *p = z->rr; *p; p++) {
		char rn[256], rt[16], rv[512];
		assert_int_equal(sscanf(*p, "%255s %15s %511[^\n]", rn, rt, rv), 3);
		if (strcasecmp(rn, name) != 0)
			continue;
		known = true;
		if (type_of(rt) != type)
			continue;
		if (strcmp(rv, "SERVFAIL") == 0) {
			s->st = DNS_RETRY;
			break;
		}
		s->st = DNS_OK;
		if (type == ns_t_a || type == ns_t_aaaa) {
			s->ips = xreallocarray(s->ips, s->nips + 1, sizeof(*s->ips));
			s->ips[s->nips].family = type == ns_t_a ? AF_INET : AF_INET6;
			assert_int_equal(
			    inet_pton(s->ips[s->nips].family, rv, s->ips[s->nips].a), 1);
			s->nips++;
		} else {
			s->strs = xreallocarray(s->strs, s->nstrs + 1, sizeof(char *));
			s->strs[s->nstrs++] = xstrdup(rv);
		}
	}
	if (known && s->st == DNS_NOTFOUND)
		s->st = DNS_NODATA;
	z->names[z->n] = xstrdup(name);
	z->types[z->n++] = type;
}

static const struct spf_rrset *zone_get(void *ctx, const char *name, int type)
{
	struct zone *z = ctx;

	for (int i = 0; i < z->n; i++)
		if (z->types[i] == type && strcasecmp(z->names[i], name) == 0)
			return &z->sets[i];
	return NULL;
}

static void zone_free(struct zone *z)
{
	for (int i = 0; i < z->n; i++) {
		free(z->names[i]);
		spf_rrset_clear(&z->sets[i]);
	}
}

/* Runs the evaluator until done, answering from rr. */
static enum spf_result check(const char *const *rr, const char *ip, const char *sender,
    const char *helo, struct spf_outcome *o, int *asked)
{
	struct zone z = {.rr = rr};
	struct spf_query q = {.ip = ip, .sender = sender, .helo = helo, .default_exp = "DEFAULT"};
	char *name;
	int type, runs = 0;

	while (!spf_evaluate(&q, 1000, zone_get, &z, o, &name, &type)) {
		assert_true(++runs < 200);
		zone_answer(&z, name, type);
		free(name);
	}
	if (asked)
		*asked = z.n;
	zone_free(&z);
	return o->result;
}

static enum spf_result result_of(const char *const *rr, const char *ip, const char *sender)
{
	struct spf_outcome o;
	enum spf_result r = check(rr, ip, sender, "helo.example.org", &o, NULL);

	spf_outcome_free(&o);
	return r;
}

static void test_mechanisms(void **state)
{
	static const char *const zone[] = {
	    "a.example TXT v=spf1 a mx -all",
	    "a.example A 192.0.2.1",
	    "a.example AAAA 2001:db8::1",
	    "a.example MX mx.a.example",
	    "mx.a.example A 192.0.2.10",
	    "n.example TXT v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 ~all",
	    "i.example TXT v=spf1 include:a.example ?all",
	    "r.example TXT v=spf1 redirect=a.example",
	    "e.example TXT v=spf1 exists:%{i}.ok.example -all",
	    "192.0.2.7.ok.example A 127.0.0.2",
	    "p.example TXT v=spf1 ptr -all",
	    "9.2.0.192.in-addr.arpa PTR host.p.example",
	    "host.p.example A 192.0.2.9",
	    "t.example TXT v=spf1 a:err.example -all",
	    "err.example A SERVFAIL",
	    "two.example TXT v=spf1 -all",
	    "two.example TXT v=spf1 +all",
	    "other.example TXT hello world",
	    "bad.example TXT v=spf1 ip4:1.2.3.4/40",
	    NULL,
	};

	(void)state;
	assert_int_equal(result_of(zone, "192.0.2.1", "u@a.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.10", "u@a.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.2", "u@a.example"), SPF_FAIL);
	assert_int_equal(result_of(zone, "2001:db8::1", "u@a.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "::ffff:192.0.2.1", "u@a.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "198.51.100.77", "u@n.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "2001:db8:1:ff::5", "u@n.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "203.0.113.1", "u@n.example"), SPF_SOFTFAIL);
	assert_int_equal(result_of(zone, "192.0.2.1", "u@i.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.3", "u@i.example"), SPF_NEUTRAL);
	assert_int_equal(result_of(zone, "192.0.2.3", "u@r.example"), SPF_FAIL);
	assert_int_equal(result_of(zone, "192.0.2.7", "u@e.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@e.example"), SPF_FAIL);
	assert_int_equal(result_of(zone, "192.0.2.9", "u@p.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@p.example"), SPF_FAIL);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@t.example"), SPF_TEMPERROR);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@two.example"), SPF_PERMERROR);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@other.example"), SPF_NONE);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@nowhere.example"), SPF_NONE);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@bad.example"), SPF_PERMERROR);
	assert_int_equal(result_of(zone, "192.0.2.8", "u@localhost"), SPF_NONE);
	assert_int_equal(result_of(zone, "not-an-ip", "u@a.example"), SPF_PERMERROR);
}

static void test_helo_identity_and_explanation(void **state)
{
	static const char *const zone[] = {
	    "helo.example.org TXT v=spf1 -all exp=why.example.org",
	    "why.example.org TXT %{i} may not say %{h}: ask postmaster@%{o} (%{l})",
	    "plain.example TXT v=spf1 -all",
	    NULL,
	};
	struct spf_outcome o;

	(void)state;
	assert_int_equal(check(zone, "192.0.2.1", "", "helo.example.org", &o, NULL), SPF_FAIL);
	assert_string_equal(o.domain, "helo.example.org");
	assert_string_equal(o.mechanism, "-all");
	assert_string_equal(o.explanation,
	    "192.0.2.1 may not say helo.example.org: ask postmaster@helo.example.org (postmaster)");
	spf_outcome_free(&o);
	assert_int_equal(
	    check(zone, "192.0.2.1", "x@plain.example", "h.example", &o, NULL), SPF_FAIL);
	assert_string_equal(o.explanation, "DEFAULT");
	spf_outcome_free(&o);
	/* helo_identity: the HELO name is checked though a sender is set */
	{
		struct zone z = {.rr = zone};
		struct spf_query q = {.ip = "192.0.2.1",
		    .sender = "x@plain.example",
		    .helo = "helo.example.org",
		    .helo_identity = true};
		char *name;
		int type;

		while (!spf_evaluate(&q, 1000, zone_get, &z, &o, &name, &type)) {
			zone_answer(&z, name, type);
			free(name);
		}
		zone_free(&z);
		assert_int_equal(o.result, SPF_FAIL);
		assert_string_equal(o.domain, "helo.example.org");
		spf_outcome_free(&o);
	}
}

static void test_limits(void **state)
{
	static const char *const zone[] = {
	    /* 11 DNS-querying terms: a permerror at the 11th */
	    "many.example TXT v=spf1 a:x1.example a:x2.example a:x3.example a:x4.example "
	    "a:x5.example a:x6.example a:x7.example a:x8.example a:x9.example "
	    "a:x10.example a:x11.example -all",
	    "ten.example TXT v=spf1 a:x1.example a:x2.example a:x3.example a:x4.example "
	    "a:x5.example a:x6.example a:x7.example a:x8.example a:x9.example "
	    "a:x10.example -all",
	    "x1.example A 192.0.2.101",
	    "x2.example A 192.0.2.102",
	    "x3.example A 192.0.2.103",
	    "x4.example A 192.0.2.104",
	    "x5.example A 192.0.2.105",
	    "x6.example A 192.0.2.106",
	    "x7.example A 192.0.2.107",
	    "x8.example A 192.0.2.108",
	    "x9.example A 192.0.2.109",
	    "x10.example A 192.0.2.110",
	    "x11.example A 192.0.2.111",
	    /* three void look-ups */
	    "void.example TXT v=spf1 a:v1.example a:v2.example a:v3.example -all",
	    "twovoid.example TXT v=spf1 a:v1.example a:v2.example -all",
	    /* an include loop ends at the look-up limit */
	    "loop.example TXT v=spf1 include:loop.example -all",
	    "mx11.example TXT v=spf1 mx -all",
	    "mx11.example MX m1.example",
	    "mx11.example MX m2.example",
	    "mx11.example MX m3.example",
	    "mx11.example MX m4.example",
	    "mx11.example MX m5.example",
	    "mx11.example MX m6.example",
	    "mx11.example MX m7.example",
	    "mx11.example MX m8.example",
	    "mx11.example MX m9.example",
	    "mx11.example MX m10.example",
	    "mx11.example MX m11.example",
	    NULL,
	};
	struct spf_outcome o;

	(void)state;
	assert_int_equal(result_of(zone, "192.0.2.110", "u@ten.example"), SPF_PASS);
	assert_int_equal(result_of(zone, "192.0.2.1", "u@ten.example"), SPF_FAIL);
	assert_int_equal(
	    check(zone, "192.0.2.111", "u@many.example", "h.example", &o, NULL), SPF_PERMERROR);
	assert_non_null(strstr(o.problem, "more than 10"));
	spf_outcome_free(&o);
	assert_int_equal(result_of(zone, "192.0.2.1", "u@twovoid.example"), SPF_FAIL);
	assert_int_equal(
	    check(zone, "192.0.2.1", "u@void.example", "h.example", &o, NULL), SPF_PERMERROR);
	assert_non_null(strstr(o.problem, "void"));
	spf_outcome_free(&o);
	assert_int_equal(result_of(zone, "192.0.2.1", "u@loop.example"), SPF_PERMERROR);
	assert_int_equal(result_of(zone, "192.0.2.1", "u@mx11.example"), SPF_PERMERROR);
}

/* ------------------------------------------------------------ answers */

static void test_txt_and_ptr_answers(void **state)
{
	/* one TXT record of two strings, one of one string, for x.example */
	static const unsigned char txt[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, 'x',
	    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 16, 0, 1, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0,
	    60, 0, 13, 6, 'v', '=', 's', 'p', 'f', '1', 5, ' ', '-', 'a', 'l', 'l', 0xc0, 12, 0, 16,
	    0, 1, 0, 0, 0, 60, 0, 4, 3, 'a', 0, 'b'};
	static const unsigned char ptr[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, '1',
	    4, 'a', 'r', 'p', 'a', 0, 0, 12, 0, 1, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 7, 1, 'h',
	    2, 'e', 'x', 0xc0, 14, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'g', 0xc0, 36};
	struct spf_rrset s;

	(void)state;
	spf_rrset_from_answer(ns_t_txt, DNS_OK, txt, sizeof(txt), &s);
	assert_int_equal(s.st, DNS_OK);
	assert_int_equal(s.nstrs, 2);
	assert_string_equal(s.strs[0], "v=spf1 -all");
	assert_string_equal(s.strs[1], "a\001b"); /* a NUL stays visible */
	spf_rrset_clear(&s);
	spf_rrset_from_answer(ns_t_ptr, DNS_OK, ptr, sizeof(ptr), &s);
	assert_int_equal(s.st, DNS_OK);
	assert_int_equal(s.nstrs, 2);
	assert_string_equal(s.strs[0], "h.ex.arpa");
	assert_string_equal(s.strs[1], "g.h.ex.arpa");
	spf_rrset_clear(&s);
	spf_rrset_from_answer(ns_t_txt, DNS_OK, txt, 20, &s);
	assert_int_equal(s.st, DNS_FAIL);
	spf_rrset_clear(&s);
	spf_rrset_from_answer(ns_t_txt, DNS_NOTFOUND, NULL, 0, &s);
	assert_int_equal(s.st, DNS_NOTFOUND);
	spf_rrset_clear(&s);
}

static void test_received_spf(void **state)
{
	struct spf_query q = {.ip = "192.0.2.1", .sender = "a\"b@example.com", .helo = "h.example"};
	struct spf_outcome o = {.result = SPF_PASS, .mechanism = (char *)"ip4:192.0.2.0/24"};
	struct buf b = BUF_INIT;

	(void)state;
	spf_received_value(&q, &o, "mx.example.org", &b);
	assert_string_equal(buf_cstr(&b),
	    "pass (mx.example.org: domain of a\"b@example.com designates 192.0.2.1 as permitted "
	    "sender) client-ip=192.0.2.1; envelope-from=\"a\\\"b@example.com\"; "
	    "helo=\"h.example\"; receiver=mx.example.org; identity=mailfrom; "
	    "mechanism=\"ip4:192.0.2.0/24\";");
	buf_free(&b);
	q.helo_identity = true;
	spf_received_value(&q, &o, "mx.example.org", &b);
	assert_string_equal(buf_cstr(&b),
	    "pass (mx.example.org: domain of h.example designates 192.0.2.1 as permitted "
	    "sender) client-ip=192.0.2.1; envelope-from=\"a\\\"b@example.com\"; "
	    "helo=\"h.example\"; receiver=mx.example.org; identity=helo; "
	    "mechanism=\"ip4:192.0.2.0/24\";");
	buf_free(&b);
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	assert_string_equal(spf_result_name(SPF_TEMPERROR), "temperror");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_parse),
	    cmocka_unit_test(test_macros_rfc_7_4),
	    cmocka_unit_test(test_mechanisms),
	    cmocka_unit_test(test_helo_identity_and_explanation),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_txt_and_ptr_answers),
	    cmocka_unit_test(test_received_spf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
