/*
 * test_arc.c - unit tests for lib/msgauth's ARC (arc.h): the instance of
 * each ARC field (ARC-Seal and AMS through DKIM's tag parser, the AAR's
 * leading i=), a chain of two sets made by dkimpy's arc_sign
 * (arc_vectors.h) passing, tampered (body, signed header, AAR, seal, cv=,
 * a set removed or doubled) failing, the key look-up failing, the
 * streaming verifier fed in small pieces, and arc_seal's sets (cv=none,
 * then cv=pass on top) verifying in arc_verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arc_vectors.h"
#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "util.h"

#define NOW 1765000200LL

static const char *served_record = arc_key_record;

static enum dns_status lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	(void)name;
	if (ctx != NULL) /* a failing DNS */
		return DNS_RETRY;
	*txt = xcalloc(2, sizeof(char *));
	(*txt)[0] = xstrdup(served_record);
	*n = 1;
	return DNS_OK;
}

/* The result of msg, its problem into why (may be NULL). */
static enum arc_result verify(const char *msg, void *fail, char **why)
{
	struct arc_outcome o;
	enum arc_result r;

	arc_verify(msg, strlen(msg), NOW, lookup, fail, &o);
	r = o.result;
	if (why)
		*why = o.problem ? xstrdup(o.problem) : NULL;
	arc_outcome_free(&o);
	return r;
}

static int inst(const char *field)
{
	struct buf why = BUF_INIT;
	int n = arc_field_instance(field, strlen(field), &why);

	buf_free(&why);
	return n;
}

static void test_field_instance(void **state)
{
	(void)state;
	assert_int_equal(inst("ARC-Authentication-Results: i=3; mx.example; spf=pass"), 3);
	assert_int_equal(inst("arc-authentication-results:\r\n\ti = 50 ;x"), 50);
	assert_int_equal(inst("ARC-Authentication-Results: i=51; x"), -1);
	assert_int_equal(inst("ARC-Authentication-Results: i=0; x"), -1);
	assert_int_equal(inst("ARC-Authentication-Results: mx.example; i=1"), -1);
	assert_int_equal(inst("Authentication-Results: i=1; x"), 0);
	assert_int_equal(inst("ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=e.x; s=s; b=AAAA"), 2);
	assert_int_equal(inst("ARC-Seal: i=2; cv=maybe; a=rsa-sha256; d=e.x; s=s; b=AAAA"), -1);
	assert_int_equal(
	    inst("ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=e.x; s=s; h=from; b=AAAA"), -1);
	assert_int_equal(inst("ARC-Message-Signature: i=1; a=rsa-sha256; d=e.x; s=s; h=subject; "
			      "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; b=AAAA"),
	    1);
	assert_int_equal(
	    inst("ARC-Message-Signature: i=1; a=rsa-sha256; d=e.x; s=s; h=arc-seal:from; "
		 "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; b=AAAA"),
	    -1);
	assert_int_equal(inst("ARC-Message-Signature: i=x; a=rsa-sha256"), -1);
}

static void test_dkimpy_chain_passes(void **state)
{
	struct arc_outcome o;
	char *lf = xstrdup(arc_two_sets), *w = lf;

	(void)state;
	arc_verify(arc_two_sets, strlen(arc_two_sets), NOW, lookup, NULL, &o);
	assert_int_equal(o.result, ARC_PASS);
	assert_int_equal(o.instance, 2);
	assert_int_equal(o.oldest_pass, 0);
	assert_string_equal(o.seal_domain, "example.net");
	assert_null(o.problem);
	arc_outcome_free(&o);
	/* stored with LF line ends */
	for (const char *r = arc_two_sets; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = 0;
	assert_int_equal(verify(lf, NULL, NULL), ARC_PASS);
	free(lf);
	assert_int_equal(verify("From: a@b.example\r\n\r\nno chain\r\n", NULL, NULL), ARC_NONE);
}

/* arc_two_sets with from replaced by to (once), expected to fail. */
static void tampered(const char *from, const char *to, const char *why_has)
{
	const char *at = strstr(arc_two_sets, from);
	struct buf m = BUF_INIT;
	char *why = NULL;

	assert_non_null(at);
	buf_append(&m, arc_two_sets, (size_t)(at - arc_two_sets));
	buf_puts(&m, to);
	buf_puts(&m, at + strlen(from));
	assert_int_equal(verify(buf_cstr(&m), NULL, &why), ARC_FAIL);
	assert_non_null(why);
	if (strstr(why, why_has) == NULL)
		fail_msg("problem \"%s\" lacks \"%s\"", why, why_has);
	free(why);
	buf_free(&m);
}

static void test_tampered_chains_fail(void **state)
{
	(void)state;
	tampered("Hello list.", "Hello world", "ARC-Message-Signature i=2: body hash");
	tampered("Subject: hello", "Subject: hullo", "ARC-Message-Signature i=2");
	tampered("i=1; lists.example.org; spf=pass", "i=1; lists.example.org; spf=fail",
	    "ARC-Seal i=2: signature does not verify");
	tampered("ARC-Seal: i=1; cv=none", "ARC-Seal: i=1; cv=pass", "cv=pass");
	tampered("ARC-Seal: i=2; cv=pass", "ARC-Seal: i=2; cv=fail", "says cv=fail");
	tampered("ARC-Authentication-Results: i=1;", "ARC-Authentication-Results: i=3;",
	    "no ARC-Authentication-Results for i=1");
	tampered("ARC-Authentication-Results: i=2;",
	    "ARC-Authentication-Results: i=1; x\r\nARC-Authentication-Results: i=2;",
	    "two ARC-Authentication-Results fields for i=1");
	tampered("ARC-Message-Signature: i=2", "X-Gone: i=2", "no ARC-Message-Signature for i=2");
	tampered("ARC-Seal: i=1;", "ARC-Seal: i=1; h=from;", "h= in an ARC-Seal");
}

static void test_key_failures(void **state)
{
	char *why = NULL;

	(void)state;
	assert_int_equal(verify(arc_two_sets, (void *)1, &why), ARC_FAIL);
	assert_non_null(strstr(why, "key look-up of arc._domainkey.example.net failed"));
	free(why);
	served_record = "v=DKIM1; k=rsa; p=";
	assert_int_equal(verify(arc_two_sets, NULL, &why), ARC_FAIL);
	assert_non_null(strstr(why, "key revoked"));
	free(why);
	served_record = arc_key_record;
}

static void test_streaming(void **state)
{
	const char *sep = strstr(arc_two_sets, "\r\n\r\n") + 4;
	size_t hlen = (size_t)(sep - arc_two_sets);
	struct arc_verifier *v = arc_verifier_new(arc_two_sets, hlen, NOW);
	struct arc_outcome o;

	(void)state;
	for (const char *p = sep; *p; p++) /* one byte at a time */
		arc_verifier_body(v, p, 1);
	assert_int_equal(arc_verifier_nkeys(v), 4); /* two AMSs, two seals */
	for (size_t i = 0; i < arc_verifier_nkeys(v); i++) {
		char *txt[] = {(char *)arc_key_record, NULL};
		const char *name = arc_verifier_key_name(v, i);

		assert_non_null(name);
		assert_non_null(strstr(name, "arc._domainkey.example."));
		arc_verifier_key(v, i, DNS_OK, txt, 1);
	}
	arc_verifier_finish(v, &o);
	assert_int_equal(o.result, ARC_PASS);
	arc_outcome_free(&o);
	arc_verifier_free(v);
}

static void test_seal_then_verify(void **state)
{
	const char *msg = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
			  "Subject: sealed\r\n\r\nBody  text \r\n\r\n";
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	EVP_PKEY *key = dkim_key_generate(true, 1024);
	struct buf rec = BUF_INIT, one = BUF_INIT, two = BUF_INIT, err = BUF_INIT;
	struct dkim_body b;
	unsigned char bh[32];
	struct arc_outcome o;

	(void)state;
	assert_non_null(key);
	dkim_key_record(key, &rec);
	served_record = buf_cstr(&rec);
	dkim_body_init(&b, DKIM_RELAXED, -1);
	dkim_body_update(&b, body, strlen(body));
	dkim_body_final(&b, bh);
	dkim_body_free(&b);
	/* a failed chain and one that does not fit its sets are refused */
	assert_int_equal(arc_seal(msg, strlen(msg), bh, "mx.a.example; spf=pass", ARC_FAIL,
			     "a.example", "s", key, NOW, &one, &err),
	    -1);
	assert_int_equal(arc_seal(msg, strlen(msg), bh, "mx.a.example; spf=pass", ARC_PASS,
			     "a.example", "s", key, NOW, &one, &err),
	    -1);
	assert_int_equal(one.len, 0);
	assert_int_equal(arc_seal(msg, strlen(msg), bh, "mx.a.example; spf=pass\n\tdkim=none",
			     ARC_NONE, "a.example", "s", key, NOW, &one, &err),
	    0);
	buf_puts(&one, msg);
	assert_non_null(
	    strstr(buf_cstr(&one), "ARC-Seal: i=1; cv=none; a=rsa-sha256; d=a.example"));
	assert_non_null(strstr(buf_cstr(&one),
	    "ARC-Authentication-Results: i=1; mx.a.example; spf=pass\r\n\tdkim=none\r\n"));
	arc_verify(buf_cstr(&one), one.len, NOW, lookup, NULL, &o);
	assert_int_equal(o.result, ARC_PASS);
	assert_int_equal(o.instance, 1);
	arc_outcome_free(&o);
	/* the next hop seals on top */
	assert_int_equal(
	    arc_seal(buf_cstr(&one), strstr(buf_cstr(&one), "\r\n\r\n") + 4 - buf_cstr(&one), bh,
		"mx.b.example; arc=pass", ARC_PASS, "b.example", "s", key, NOW, &two, &err),
	    0);
	buf_append(&two, one.data, one.len);
	arc_verify(buf_cstr(&two), two.len, NOW, lookup, NULL, &o);
	assert_int_equal(o.result, ARC_PASS);
	assert_int_equal(o.instance, 2);
	assert_string_equal(o.seal_domain, "b.example");
	arc_outcome_free(&o);
	served_record = arc_key_record;
	EVP_PKEY_free(key);
	buf_free(&rec);
	buf_free(&one);
	buf_free(&two);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_field_instance),
	    cmocka_unit_test(test_dkimpy_chain_passes),
	    cmocka_unit_test(test_tampered_chains_fail),
	    cmocka_unit_test(test_key_failures),
	    cmocka_unit_test(test_streaming),
	    cmocka_unit_test(test_seal_then_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
