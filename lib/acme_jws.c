/*
 * acme_jws.c - ES256 JWS, JWK and CSR for the ACME client (acme_jws.h).
 *
 * ES256's signature is R || S, 32 bytes each (RFC 7518 3.4), where
 * OpenSSL gives a DER ECDSA-Sig-Value: it is converted here.  The JSON
 * texts are built by hand: every value is base64url or a URL the server
 * gave, and the JWK's member order must be RFC 7638's for the thumbprint.
 */
#include "acme_jws.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "file_replace.h"
#include "util.h"

static void ossl_why(struct buf *err, const char *what)
{
	unsigned long e = ERR_get_error();

	buf_printf(err, "%s: %s", what, e ? ERR_reason_error_string(e) : "failed");
}

EVP_PKEY *acme_key_load(const char *path, bool make, struct buf *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *key;
	struct buf pem = BUF_INIT;

	if (f) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
		    EVP_PKEY_get_bits(key) != 256) {
			buf_printf(err, "%s: not an EC P-256 private key in PEM", path);
			EVP_PKEY_free(key);
			return NULL;
		}
		return key;
	}
	if (errno != ENOENT || !make) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		ossl_why(err, "key generation");
		return NULL;
	}
	if (!acme_key_pem(key, &pem) || file_replace(path, pem.data, pem.len, 0600, err) < 0) {
		if (err->len == 0)
			ossl_why(err, "key");
		EVP_PKEY_free(key);
		key = NULL;
	}
	OPENSSL_cleanse(pem.data, pem.len);
	buf_free(&pem);
	return key;
}

bool acme_key_pem(EVP_PKEY *key, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	bool ok;

	if (b == NULL)
		return false;
	ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1;
	if (ok && (n = BIO_get_mem_data(b, &p)) > 0)
		buf_append(out, p, (size_t)n);
	BIO_free(b);
	return ok;
}

/* The public point's coordinates, 32 bytes each. */
static bool ec_xy(EVP_PKEY *key, unsigned char x[32], unsigned char y[32])
{
	BIGNUM *bx = NULL, *by = NULL;
	bool ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) &&
		  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) &&
		  BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32;

	BN_free(bx);
	BN_free(by);
	return ok;
}

bool acme_jwk(EVP_PKEY *key, struct buf *out)
{
	unsigned char x[32], y[32];

	if (!ec_xy(key, x, y))
		return false;
	buf_puts(out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
	base64url_encode(x, 32, out);
	buf_puts(out, "\",\"y\":\"");
	base64url_encode(y, 32, out);
	buf_puts(out, "\"}");
	return true;
}

bool acme_thumbprint(EVP_PKEY *key, struct buf *out)
{
	struct buf jwk = BUF_INIT;
	unsigned char md[32];
	unsigned int n = 0;
	bool ok = acme_jwk(key, &jwk) &&
		  EVP_Digest(jwk.data, jwk.len, md, &n, EVP_sha256(), NULL) == 1 && n == 32;

	if (ok)
		base64url_encode(md, n, out);
	buf_free(&jwk);
	return ok;
}

/* ES256 over in: R || S, base64url, appended to out. */
static bool es256(EVP_PKEY *key, const char *in, size_t len, struct buf *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80], rs[64];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	bool ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		  EVP_DigestSign(md, der, &dlen, (const unsigned char *)in, len) == 1 &&
		  (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) != NULL;

	if (ok) {
		ECDSA_SIG_get0(sig, &r, &s);
		ok = BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32;
	}
	if (ok)
		base64url_encode(rs, 64, out);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ok;
}

/* A JSON string: the values here are URLs and nonces from the server. */
static void json_str(struct buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	buf_puts(b, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

bool acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
    const char *payload, struct buf *out)
{
	struct buf prot = BUF_INIT, signing = BUF_INIT;
	bool ok = true;

	buf_puts(&prot, "{\"alg\":\"ES256\",");
	if (kid) {
		buf_puts(&prot, "\"kid\":");
		json_str(&prot, kid);
	} else {
		buf_puts(&prot, "\"jwk\":");
		ok = acme_jwk(key, &prot);
	}
	buf_puts(&prot, ",\"nonce\":");
	json_str(&prot, nonce);
	buf_puts(&prot, ",\"url\":");
	json_str(&prot, url);
	buf_putc(&prot, '}');
	base64url_encode(prot.data, prot.len, &signing);
	buf_putc(&signing, '.');
	if (payload)
		base64url_encode(payload, strlen(payload), &signing);
	buf_puts(out, "{\"protected\":\"");
	buf_append(out, signing.data, strchr(signing.data, '.') - signing.data);
	buf_puts(out, "\",\"payload\":\"");
	buf_puts(out, strchr(signing.data, '.') + 1);
	buf_puts(out, "\",\"signature\":\"");
	ok = ok && es256(key, signing.data, signing.len, out);
	buf_puts(out, "\"}");
	buf_free(&prot);
	buf_free(&signing);
	return ok;
}

static bool csr_san(X509_REQ *req, char *const *names)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	struct buf san = BUF_INIT;
	X509_EXTENSION *ext;
	bool ok;

	for (size_t i = 0; names[i]; i++)
		buf_printf(&san, "%sDNS:%s", i ? "," : "", names[i]);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san.data);
	ok = exts && ext && sk_X509_EXTENSION_push(exts, ext) &&
	     X509_REQ_add_extensions(req, exts) == 1;
	if (!ok)
		X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	buf_free(&san);
	return ok;
}

bool acme_csr(EVP_PKEY *key, char *const *names, struct buf *out)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int n = -1;
	/* A CN holds 64 characters at most; the names are in the SAN. */
	bool ok = req && names[0] && X509_REQ_set_version(req, 0) == 1 &&
		  (strlen(names[0]) > 64 ||
		      X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
			  (const unsigned char *)names[0], -1, -1, 0) == 1) &&
		  X509_REQ_set_pubkey(req, key) == 1 && csr_san(req, names) &&
		  X509_REQ_sign(req, key, EVP_sha256()) > 0 && (n = i2d_X509_REQ(req, &der)) > 0;

	if (ok)
		base64url_encode(der, (size_t)n, out);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return ok;
}

/* id-pe-acmeIdentifier (RFC 8737 6.1) */
#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"

static bool alpn_ext(X509 *x, const char *keyauth)
{
	unsigned char der[34] = {0x04, 0x20}; /* OCTET STRING, 32 bytes */
	unsigned int n = 0;
	ASN1_OBJECT *oid = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	bool ok = oid && val &&
		  EVP_Digest(keyauth, strlen(keyauth), der + 2, &n, EVP_sha256(), NULL) == 1 &&
		  n == 32 && ASN1_OCTET_STRING_set(val, der, sizeof(der)) == 1 &&
		  (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) != NULL &&
		  X509_add_ext(x, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(oid);
	return ok;
}

bool acme_alpn_cert(const char *name, const char *keyauth, struct buf *pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	char *san = xasprintf("DNS:%s", name);
	X509_EXTENSION *ext = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	bool ok = key && x && b && X509_set_version(x, 2) == 1 &&
		  ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) &&
		  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
		      (const unsigned char *)"tern tls-alpn-01", -1, -1, 0) == 1 &&
		  X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
		  X509_set_pubkey(x, key) == 1 &&
		  (ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san)) != NULL &&
		  X509_add_ext(x, ext, -1) == 1 && alpn_ext(x, keyauth) &&
		  X509_sign(x, key, EVP_sha256()) > 0 &&
		  PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
		  PEM_write_bio_X509(b, x) == 1;
	char *p;
	long n;

	if (ok && (n = BIO_get_mem_data(b, &p)) > 0)
		buf_append(pem, p, (size_t)n);
	BIO_free(b);
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(key);
	free(san);
	return ok;
}
