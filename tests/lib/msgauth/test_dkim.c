/*
 * test_dkim.c - unit tests for lib/msgauth's DKIM: the DKIM-Signature and
 * key record parsers (required tags, algorithms, i= under d=, repeated
 * tags, FWS inside base64), the canonicalisations (the examples of RFC
 * 6376 3.4.5), and verification of a message with a key served by a
 * look-up function (the RFC 8463 example signature), tampered and not, and
 * signatures dkim_sign makes with new RSA and Ed25519 keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msgauth/dkim.h"
#include "util.h"

#define BH "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; "

static int sig(const char *v)
{
	struct dkim_sig s;
	struct buf err = BUF_INIT;
	int rc = dkim_sig_parse(v, strlen(v), &s, &err);

	if (rc == 0)
		dkim_sig_free(&s);
	buf_free(&err);
	return rc;
}

static void test_sig_parse(void **state)
{
	const char *v = " v=1; a=ed25519-sha256; c=relaxed/simple;\r\n d=Example.com; s=sel;"
			" i=user@sub.example.com; l=100; t=10; x=20;\r\n h=From : To:subject; " BH
			"b=AAAA\r\n BBBB;";
	struct dkim_sig s;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(dkim_sig_parse(v, strlen(v), &s, &err), 0);
	assert_int_equal(s.alg, DKIM_ED25519_SHA256);
	assert_int_equal(s.hcanon, DKIM_RELAXED);
	assert_int_equal(s.bcanon, DKIM_SIMPLE);
	assert_string_equal(s.d, "Example.com");
	assert_string_equal(s.s, "sel");
	assert_int_equal(s.nh, 3);
	assert_string_equal(s.h[0], "From");
	assert_string_equal(s.h[2], "subject");
	assert_int_equal(s.l, 100);
	assert_int_equal(s.b.len, 6);
	assert_int_equal(s.bh.len, 32);
	dkim_sig_free(&s);
	buf_free(&err);

	assert_int_equal(sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; " BH "b=AAAA"), 0);
	assert_int_equal(sig("v=1; a=rsa-sha1; d=a.example; s=s; h=from; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=2; a=rsa-sha256; d=a.example; s=s; h=from; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=1; a=rsa-sha256; d=a.example; s=s; h=to; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=1; a=rsa-sha256; s=s; h=from; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; " BH "b=A*AA"), -1);
	assert_int_equal(sig("v=1; v=1; a=rsa-sha256; d=a.example; s=s; h=from; " BH "b=AAAA"), -1);
	assert_int_equal(
	    sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; i=@evil.example; " BH "b=AAAA"), -1);
	assert_int_equal(
	    sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; i=@x.a.example; " BH "b=AAAA"), 0);
	assert_int_equal(
	    sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; c=odd; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; l=x; " BH "b=AAAA"), -1);
	assert_int_equal(
	    sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; t=5; x=4; " BH "b=AAAA"), -1);
	assert_int_equal(sig("v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AAAA; b=AAAA"), -1);
	assert_int_equal(sig("v=1;; a=rsa-sha256"), -1);
	assert_int_equal(sig(""), -1);
}

static int key(const char *v, struct dkim_key *k)
{
	struct buf err = BUF_INIT;
	int rc = dkim_key_parse(v, strlen(v), k, &err);

	buf_free(&err);
	return rc;
}

static void test_key_parse(void **state)
{
	struct dkim_key k;

	(void)state;
	assert_int_equal(
	    key("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", &k), 0);
	assert_true(k.ed25519);
	assert_int_equal(k.p.len, 32);
	assert_true(k.sha256_ok);
	dkim_key_free(&k);
	assert_int_equal(key("p=; t=y:s; h=sha1", &k), 0);
	assert_int_equal(k.p.len, 0); /* revoked */
	assert_false(k.ed25519);
	assert_true(k.testing);
	assert_true(k.strict);
	assert_false(k.sha256_ok);
	dkim_key_free(&k);
	assert_int_equal(key("k=rsa; p=AAAA; v=DKIM1", &k), -1); /* v= not first */
	assert_int_equal(key("v=DKIM2; p=AAAA", &k), -1);
	assert_int_equal(key("k=dsa; p=AAAA", &k), -1);
	assert_int_equal(key("k=rsa", &k), -1);
	assert_int_equal(key("s=tlsrpt; p=AAAA", &k), -1);
	assert_int_equal(key("s=email:tlsrpt; p=AAAA", &k), 0);
	dkim_key_free(&k);
}

static void canon_h(enum dkim_canon c, const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	dkim_canon_header(c, in, strlen(in), &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void canon_b(enum dkim_canon c, const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	dkim_canon_body(c, in, strlen(in), &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

/* RFC 6376 3.4.5's example, and the edge cases around empty bodies. */
static void test_canon(void **state)
{
	(void)state;
	canon_h(DKIM_RELAXED, "A: X", "a:X\r\n");
	canon_h(DKIM_RELAXED, "B : Y\t\r\n\tZ  ", "b:Y Z\r\n");
	canon_h(DKIM_SIMPLE, "B : Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  \r\n");
	canon_b(DKIM_RELAXED, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
	canon_b(DKIM_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n");
	canon_b(DKIM_SIMPLE, "", "\r\n");
	canon_b(DKIM_RELAXED, "", "");
	canon_b(DKIM_RELAXED, "\r\n\r\n", "");
	canon_b(DKIM_SIMPLE, "\r\n\r\n", "\r\n");
	canon_b(DKIM_SIMPLE, "no final line end", "no final line end\r\n");
}

static const char rfc8463_msg[] = "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \r\n"
				  " d=football.example.com; i=@football.example.com; \r\n"
				  " q=dns/txt; s=brisbane; t=1518460054; h=from : to : \r\n"
				  " subject : date : message-id : from : subject : date; \r\n"
				  " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \r\n"
				  " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\r\n"
				  " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==\r\n"
				  "From: Joe SixPack <joe@football.example.com>\r\n"
				  "To: Suzie Q <suzie@shopping.example.net>\r\n"
				  "Subject: Is dinner ready?\r\n"
				  "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
				  "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
				  "\r\n"
				  "Hi.\r\n"
				  "\r\n"
				  "We lost the game.  Are you hungry yet?\r\n"
				  "\r\n"
				  "Joe.\r\n";

static enum dns_status lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	const char *rec = ctx;

	assert_string_equal(name, "brisbane._domainkey.football.example.com");
	if (rec == NULL)
		return DNS_RETRY;
	*txt = xcalloc(2, sizeof(char *));
	(*txt)[0] = xstrdup(rec);
	*n = 1;
	return DNS_OK;
}

static enum dkim_result verify(const char *msg, const char *rec, char **problem)
{
	struct dkim_outcome *o;
	size_t n;
	enum dkim_result r;

	dkim_verify(msg, strlen(msg), 1600000000, lookup, (void *)rec, &o, &n);
	assert_int_equal(n, 1);
	r = o[0].result;
	if (problem)
		*problem = o[0].problem ? xstrdup(o[0].problem) : NULL;
	dkim_outcomes_free(o, n);
	return r;
}

static void test_verify_rfc8463(void **state)
{
	const char *good = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	char *m, *p;

	(void)state;
	assert_int_equal(verify(rfc8463_msg, good, NULL), DKIM_PASS);
	assert_int_equal(verify(rfc8463_msg, NULL, NULL), DKIM_TEMPERROR);
	assert_int_equal(verify(rfc8463_msg, "v=DKIM1; k=ed25519; p=", NULL), DKIM_PERMERROR);
	assert_int_equal(verify(rfc8463_msg, "v=DKIM1; k=rsa; p=AAAA", NULL), DKIM_PERMERROR);
	m = xstrdup(rfc8463_msg);
	*strstr(m, "dinner") = 'D';
	assert_int_equal(verify(m, good, &p), DKIM_FAIL);
	assert_string_equal(p, "signature does not verify");
	free(p);
	free(m);
	m = xstrdup(rfc8463_msg);
	*strstr(m, "game") = 'G';
	assert_int_equal(verify(m, good, &p), DKIM_FAIL);
	assert_string_equal(p, "body hash does not match");
	free(p);
	free(m);
	/* simple/simple: trailing blank lines do not matter, other spaces do */
	m = xasprintf("%s\r\n\r\n", rfc8463_msg);
	assert_int_equal(verify(m, good, NULL), DKIM_PASS);
	free(m);
}

static enum dns_status record_lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	assert_string_equal(name, "sel._domainkey.example.com");
	*txt = xcalloc(2, sizeof(char *));
	(*txt)[0] = xstrdup(ctx);
	*n = 1;
	return DNS_OK;
}

/* What dkim_sign makes, dkim_verify accepts, for both key types; a field
 * added after signing under an over-signed name breaks it. */
static void test_sign_then_verify(void **state)
{
	const char *msg = "From: a@example.com\nTo: b@example.org\nSubject: hi\n\nbody  \n\n";

	(void)state;
	for (int rsa = 0; rsa < 2; rsa++) {
		EVP_PKEY *key = dkim_key_generate(rsa, 2048);
		struct buf sig = BUF_INIT, err = BUF_INIT, rec = BUF_INIT;
		struct dkim_outcome *o;
		size_t n;
		char *signed_msg, *forged;

		assert_non_null(key);
		assert_int_equal(
		    dkim_sign(msg, strlen(msg), "example.com", "sel", key, 1000, &sig, &err), 0);
		dkim_key_record(key, &rec);
		signed_msg = xasprintf("%s%s", buf_cstr(&sig), msg);
		dkim_verify(signed_msg, strlen(signed_msg), 2000, record_lookup, rec.data, &o, &n);
		assert_int_equal(n, 1);
		assert_int_equal(o[0].result, DKIM_PASS);
		assert_string_equal(o[0].alg, rsa ? "rsa-sha256" : "ed25519-sha256");
		dkim_outcomes_free(o, n);
		forged = xasprintf("%sSubject: other\n%s", buf_cstr(&sig), msg);
		dkim_verify(forged, strlen(forged), 2000, record_lookup, rec.data, &o, &n);
		assert_int_equal(o[0].result, DKIM_FAIL);
		dkim_outcomes_free(o, n);
		buf_reset(&sig);
		assert_int_equal(
		    dkim_sign("Subject: x\n\n", 12, "example.com", "sel", key, 1000, &sig, &err),
		    -1);
		free(forged);
		free(signed_msg);
		buf_free(&sig);
		buf_free(&err);
		buf_free(&rec);
		EVP_PKEY_free(key);
	}
}

static enum dkim_result verify_with(const char *m, const struct buf *rec)
{
	struct dkim_outcome *o;
	size_t n;
	enum dkim_result r;

	dkim_verify(m, strlen(m), 2000, record_lookup, rec->data, &o, &n);
	assert_int_equal(n, 1);
	r = o[0].result;
	dkim_outcomes_free(o, n);
	return r;
}

/* Decoded keys are kept per key record: the same record again verifies
 * from the cache, another key under the same name is its own (the
 * signature made with the first fails with it), for both key types. */
static void test_key_cache(void **state)
{
	const char *msg = "From: a@example.com\nSubject: hi\n\nbody\n";

	(void)state;
	dkim_pkey_cache_reset();
	for (int rsa = 0; rsa < 2; rsa++) {
		EVP_PKEY *a = dkim_key_generate(rsa, 2048), *b = dkim_key_generate(rsa, 2048);
		struct buf sig = BUF_INIT, err = BUF_INIT, ra = BUF_INIT, rb = BUF_INIT;
		char *m;

		assert_int_equal(
		    dkim_sign(msg, strlen(msg), "example.com", "sel", a, 1000, &sig, &err), 0);
		dkim_key_record(a, &ra);
		dkim_key_record(b, &rb);
		m = xasprintf("%s%s", buf_cstr(&sig), msg);
		assert_int_equal(verify_with(m, &ra), DKIM_PASS);
		assert_int_equal(verify_with(m, &ra), DKIM_PASS);
		assert_int_equal(verify_with(m, &rb), DKIM_FAIL);
		assert_int_equal(verify_with(m, &ra), DKIM_PASS);
		free(m);
		buf_free(&sig);
		buf_free(&err);
		buf_free(&ra);
		buf_free(&rb);
		EVP_PKEY_free(a);
		EVP_PKEY_free(b);
	}
	dkim_pkey_cache_reset();
}

/* The body hash of body (CRLF'd as dkim_verify does) in one piece. */
static void whole_hash(enum dkim_canon c, const char *body, size_t len, long long l,
    unsigned char out[32], unsigned long long *total)
{
	struct buf crlf = BUF_INIT, canon = BUF_INIT;
	unsigned int n = 32;
	size_t take;

	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
			buf_putc(&crlf, '\r');
		buf_putc(&crlf, body[i]);
	}
	dkim_canon_body(c, buf_cstr(&crlf), crlf.len, &canon);
	*total = canon.len;
	take = l >= 0 && (size_t)l < canon.len ? (size_t)l : canon.len;
	EVP_Digest(buf_cstr(&canon), take, out, &n, EVP_sha256(), NULL);
	buf_free(&crlf);
	buf_free(&canon);
}

/* The streaming body hash agrees with dkim_canon_body, however the body
 * is cut into pieces. */
static void test_body_stream(void **state)
{
	static const char *bodies[] = {"", "\n", "\r\n", "a", "a\n", "a\r\n\r\n\r\n",
	    "  x  y \t\n\n \t \n", "line\r\rmid\r\n", "a\r", "\r", "\r\r\n", "x\n\n\ny\n\n",
	    " \t\n", "tail  ", "\n\nstart\n", "a\tb  c\r\n  d\n"};
	(void)state;
	srand(7);
	for (size_t bi = 0; bi < sizeof(bodies) / sizeof(bodies[0]); bi++) {
		const char *b = bodies[bi];
		size_t len = strlen(b);

		for (int c = 0; c < 2; c++) {
			for (long long l = -1; l < 6; l++) {
				for (int round = 0; round < 8; round++) {
					unsigned char want[32], got[32];
					unsigned long long total;
					struct dkim_body st;
					size_t i = 0;

					whole_hash((enum dkim_canon)c, b, len, l, want, &total);
					dkim_body_init(&st, (enum dkim_canon)c, l);
					while (i < len) {
						size_t k = 1 + (size_t)rand() % 3;
						if (k > len - i)
							k = len - i;
						dkim_body_update(&st, b + i, k);
						i += k;
					}
					dkim_body_final(&st, got);
					assert_int_equal(st.total, total);
					assert_memory_equal(got, want, 32);
					dkim_body_free(&st);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sig_parse),
	    cmocka_unit_test(test_key_parse),
	    cmocka_unit_test(test_canon),
	    cmocka_unit_test(test_verify_rfc8463),
	    cmocka_unit_test(test_sign_then_verify),
	    cmocka_unit_test(test_key_cache),
	    cmocka_unit_test(test_body_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
