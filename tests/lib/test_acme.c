/*
 * test_acme.c - unit tests for the ACME client's pieces: base64url
 * (RFC 4648 section 10's vectors), the JWK and its thumbprint (RFC 7638's
 * member order), an ES256 JWS verified with OpenSSL from its R || S form,
 * the CSR's names, tls-alpn-01's certificate (RFC 8737 3), and the answers of lib/acme_msg.c
 * (directory, order, authorization, problem documents; http URLs and bad tokens refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_jws.h"
#include "acme_msg.h"
#include "base64.h"

static void test_base64url(void **state)
{
	static const char *const v[][2] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"}, {"\xfb\xff", "-_8"}};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;

		base64url_encode(v[i][0], strlen(v[i][0]), &b);
		assert_string_equal(buf_cstr(&b), v[i][1]);
		buf_free(&b);
	}
}

/* Decodes base64url (test helper: valid input only). */
static size_t b64url_decode(const char *s, unsigned char *out)
{
	size_t n = 0, bits = 0;
	unsigned acc = 0;

	for (; *s; s++) {
		int v = base64_value((unsigned char)(*s == '-' ? '+' : *s == '_' ? '/' : *s), '/');

		assert_true(v >= 0);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void test_jws_verifies(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct buf jws = BUF_INIT, jwk = BUF_INIT, tp = BUF_INIT, signing = BUF_INIT;
	json_t *j, *prot;
	unsigned char raw[512], sig[64], *der = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int dlen;

	(void)state;
	assert_true(acme_jwk(key, &jwk));
	assert_non_null(strstr(jwk.data, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""));
	assert_true(jwk.data == strstr(jwk.data, "{\"crv\""));
	assert_true(acme_thumbprint(key, &tp));
	assert_int_equal(tp.len, 43); /* 32 bytes */
	assert_true(acme_jws(key, NULL, "nonce-1", "https://ca/new-acct", "{\"a\":1}", &jws));
	j = json_loads(jws.data, 0, NULL);
	assert_non_null(j);
	prot = json_loadb((const char *)raw,
	    b64url_decode(json_string_value(json_object_get(j, "protected")), raw), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(prot, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(prot, "nonce")), "nonce-1");
	assert_string_equal(json_string_value(json_object_get(prot, "url")), "https://ca/new-acct");
	assert_non_null(json_object_get(prot, "jwk"));
	assert_null(json_object_get(prot, "kid"));
	assert_int_equal(
	    b64url_decode(json_string_value(json_object_get(j, "signature")), sig), 64);
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	dlen = i2d_ECDSA_SIG(es, &der);
	buf_printf(&signing, "%s.%s", json_string_value(json_object_get(j, "protected")),
	    json_string_value(json_object_get(j, "payload")));
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(
	    EVP_DigestVerify(md, der, (size_t)dlen, (unsigned char *)signing.data, signing.len), 1);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	json_decref(prot);
	json_decref(j);
	buf_free(&jws);
	buf_free(&jwk);
	buf_free(&tp);
	buf_free(&signing);
	EVP_PKEY_free(key);
}

static void test_csr(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char *names[] = {"a.example", "b.example", NULL};
	struct buf csr = BUF_INIT;
	unsigned char raw[2048];
	const unsigned char *p = raw;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) * exts;

	(void)state;
	assert_true(acme_csr(key, names, &csr));
	req = d2i_X509_REQ(NULL, &p, (long)b64url_decode(csr.data, raw));
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	buf_free(&csr);
	EVP_PKEY_free(key);
}

static void test_alpn_cert(void **state)
{
	struct buf pem = BUF_INIT;
	BIO *b;
	EVP_PKEY *k;
	X509 *x;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *v;
	unsigned char md[32];

	(void)state;
	assert_true(acme_alpn_cert("a.example", "tok.thumb", &pem));
	b = BIO_new_mem_buf(pem.data, (int)pem.len);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_int_equal(X509_check_host(x, "a.example", 0, 0, NULL), 1);
	ext = X509_get_ext(x, X509_get_ext_by_OBJ(x, oid, -1));
	assert_non_null(ext);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	v = X509_EXTENSION_get_data(ext);
	assert_int_equal(ASN1_STRING_length(v), 34);
	assert_int_equal(ASN1_STRING_get0_data(v)[0], 0x04);
	SHA256((const unsigned char *)"tok.thumb", 9, md);
	assert_memory_equal(ASN1_STRING_get0_data(v) + 2, md, 32);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	buf_free(&pem);
}

#define T(s) s, strlen(s)

static void test_msg(void **state)
{
	struct acme_directory d;
	struct acme_order o;
	struct acme_authz a;
	struct buf why = BUF_INIT, prob = BUF_INIT;

	(void)state;
	assert_true(acme_directory_parse(T("{\"newNonce\":\"https://c/n\",\"newAccount\":"
					   "\"https://c/a\",\"newOrder\":\"https://c/o\"}"),
	    &d, &why));
	assert_string_equal(d.new_order, "https://c/o");
	acme_directory_free(&d);
	assert_false(acme_directory_parse(T("{\"newNonce\":\"http://c/n\",\"newAccount\":\"https://"
					    "c/a\",\"newOrder\":\"https://c/o\"}"),
	    &d, &why));
	assert_non_null(strstr(why.data, "newNonce"));
	acme_directory_free(&d);
	assert_false(acme_directory_parse(T("[1]"), &d, &why));
	acme_directory_free(&d);

	assert_true(acme_order_parse(T("{\"status\":\"pending\",\"finalize\":\"https://c/f\","
				       "\"authorizations\":[\"https://c/1\",\"http://c/2\",7]}"),
	    &o, &why));
	assert_string_equal(o.authorizations[0], "https://c/1");
	assert_null(o.authorizations[1]);
	acme_order_free(&o);

	assert_true(acme_authz_parse(
	    T("{\"status\":\"pending\",\"identifier\":{\"value\":\"a.example\"},\"challenges\":[{"
	      "\"type\":\"dns-01\",\"url\":\"https://c/d\",\"token\":\"x\"},{\"type\":\"http-01\","
	      "\"url\":\"https://c/h\",\"token\":\"tok_en-1\",\"status\":\"pending\"}]}"),
	    "http-01", &a, &why));
	assert_string_equal(a.chal_url, "https://c/h");
	assert_string_equal(a.chal_token, "tok_en-1");
	acme_authz_free(&a);
	/* A token with a path in it is refused: a pending authz needs one. */
	assert_false(acme_authz_parse(
	    T("{\"status\":\"pending\",\"identifier\":{\"value\":\"a.example\"},\"challenges\":[{"
	      "\"type\":\"http-01\",\"url\":\"https://c/h\",\"token\":\"../main.cf\"}]}"),
	    "http-01", &a, &why));
	acme_authz_free(&a);

	assert_true(
	    acme_problem_text(T("{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
				"\"detail\":\"no\",\"subproblems\":[{\"detail\":\"bad\","
				"\"identifier\":{\"value\":\"x.example\"}}]}"),
		&prob));
	assert_string_equal(prob.data, "urn:ietf:params:acme:error:rejectedIdentifier: no; "
				       "x.example: bad");
	assert_true(
	    acme_problem_is(T("{\"type\":\"urn:ietf:params:acme:error:badNonce\"}"), "badNonce"));
	assert_false(acme_problem_is(T("{\"type\":\"badNonce\"}"), "badNonce"));
	assert_false(acme_token_ok(""));
	assert_false(acme_token_ok("a.b"));
	assert_true(acme_token_ok("AZaz09-_"));
	buf_free(&why);
	buf_free(&prob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64url),
	    cmocka_unit_test(test_jws_verifies),
	    cmocka_unit_test(test_csr),
	    cmocka_unit_test(test_alpn_cert),
	    cmocka_unit_test(test_msg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
