/*
 * tls_client.c - client-side TLS contexts, policy and session cache.
 *
 * One SSL_CTX per process.  OpenSSL does the certificate checks
 * (SSL_VERIFY_PEER with SSL_set1_host); this file decides what to check.
 * Client sessions are caught with the new-session callback, because with
 * TLS 1.3 the tickets arrive after the handshake, and kept per destination
 * key so the next connection to the same server can resume.
 *
 * The parameters are the SMTP client's (smtp_tls_*), or the LMTP client's
 * (lmtp_tls_*) once tls_client_prefix("lmtp") was called, as Postfix's
 * smtp(8) and lmtp(8) share one program and differ in their parameter
 * names only.
 */
#include "tls_client.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "log.h"
#include "maps.h"
#include "util.h"

#define TLS_SESS_MAX 64

/* "smtp" or "lmtp": the parameter family (tls_client_prefix). */
static const char *tls_prefix = "smtp";

void tls_client_prefix(const char *prefix)
{
	tls_prefix = prefix;
}

/* The name of this client's parameter "<prefix>_<suffix>". */
static const char *tls_pname(const char *suffix)
{
	static char names[4][64];
	static unsigned next;
	char *n = names[next++ % 4];

	strlcpy(n, tls_prefix, sizeof(names[0]));
	strlcat(n, "_", sizeof(names[0]));
	strlcat(n, suffix, sizeof(names[0]));
	return n;
}

static const char *const level_names[] = {
    "none", "may", "encrypt", "verify", "secure", "dane", "dane-only"};

bool tls_level_parse(const char *word, enum tls_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (str_case_eq(word, level_names[i])) {
			*out = (enum tls_level)i;
			return true;
		}
	}
	/* Postfix's synonym. */
	if (str_case_eq(word, "fingerprint")) {
		*out = TLS_LEVEL_VERIFY;
		return true;
	}
	return false;
}

bool tls_client_policy(const char *nexthop, const char *domain, enum tls_level *out)
{
	struct maps *m = maps_open(tls_pname("tls_policy_maps"));
	const char *v = NULL;
	enum maps_status st = maps_find(m, nexthop, 0, &v);

	if (st == MAPS_NOTFOUND && domain)
		st = maps_find(m, domain, 0, &v);
	if (st == MAPS_TEMPFAIL)
		return false;
	if (st == MAPS_NOTFOUND)
		v = config_str(tls_pname("tls_security_level"));
	{
		char word[32];
		size_t n = strcspn(v, " \t,");

		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, v, n);
		word[n] = 0;
		if (*word == 0)
			strlcpy(word, "none", sizeof(word));
		if (!tls_level_parse(word, out)) {
			log_warn("unknown TLS security level \"%s\" for %s: using encrypt", word,
			    nexthop);
			*out = TLS_LEVEL_ENCRYPT;
		}
	}
	return true;
}

/* ------------------------------------------------------------ sessions */

struct tls_sess {
	char *key;
	SSL_SESSION *sess;
};

static struct tls_sess tls_sessions[TLS_SESS_MAX];
static size_t tls_nsess;
static int tls_key_index = -1;

static void tls_sess_store(const char *key, SSL_SESSION *sess)
{
	for (size_t i = 0; i < tls_nsess; i++) {
		if (strcmp(tls_sessions[i].key, key) == 0) {
			SSL_SESSION_free(tls_sessions[i].sess);
			tls_sessions[i].sess = sess;
			return;
		}
	}
	if (tls_nsess == TLS_SESS_MAX) {
		free(tls_sessions[0].key);
		SSL_SESSION_free(tls_sessions[0].sess);
		tls_sessions[0] = tls_sessions[--tls_nsess];
	}
	tls_sessions[tls_nsess].key = xstrdup(key);
	tls_sessions[tls_nsess++].sess = sess;
}

static SSL_SESSION *tls_sess_find(const char *key)
{
	for (size_t i = 0; i < tls_nsess; i++)
		if (strcmp(tls_sessions[i].key, key) == 0)
			return tls_sessions[i].sess;
	return NULL;
}

/* OpenSSL hands us a reference; returning 1 keeps it. */
static int tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	const char *key = SSL_get_ex_data(ssl, tls_key_index);

	if (key == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	tls_sess_store(key, sess);
	return 1;
}

static void tls_key_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

/* ------------------------------------------------------------ contexts */

static SSL_CTX *tls_ctx(struct buf *err)
{
	static SSL_CTX *ctx;
	const char *cafile, *capath;

	if (ctx)
		return ctx;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		buf_printf(err, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_default_verify_paths(ctx);
	cafile = config_str(tls_pname("tls_CAfile"));
	capath = config_str(tls_pname("tls_CApath"));
	if ((*cafile || *capath) &&
	    !SSL_CTX_load_verify_locations(ctx, *cafile ? cafile : NULL, *capath ? capath : NULL))
		log_warn("cannot load %s_tls_CAfile/CApath \"%s%s\"", tls_prefix, cafile, capath);
	ERR_clear_error();
	tls_key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_key_free);
	/* DANE needs the digests registered in the context (OpenSSL's
	 * defaults: SHA2-256 and SHA2-512). */
	if (SSL_CTX_dane_enable(ctx) <= 0)
		log_warn("cannot enable DANE in the TLS context");
	SSL_CTX_set_session_cache_mode(
	    ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tls_new_session);
	return ctx;
}

/* RFC 7672 on an SSL: the usable records, names for DANE-TA(2) (the TLSA
 * base domain host, and the next-hop domain), none for DANE-EE(3). */
static bool tls_client_dane(
    SSL *ssl, const char *host, const char *domain, const struct dane_tlsa_set *tlsa)
{
	int added = 0;

	if (SSL_dane_enable(ssl, host) <= 0)
		return false;
	if (domain && *domain && !str_case_eq(domain, host))
		SSL_add1_host(ssl, domain);
	/* RFC 7672 2.2.3: records found at the CNAME-expanded name make it
	 * a reference identifier too. */
	if (tlsa->base[0] && !str_case_eq(tlsa->base, host))
		SSL_add1_host(ssl, tlsa->base);
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < tlsa->n; i++) {
		const struct dane_tlsa *r = &tlsa->rr[i];

		if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype, r->data, r->len) > 0)
			added++;
	}
	ERR_clear_error();
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return added > 0;
}

void tls_client_dane_describe(SSL *ssl, struct buf *out)
{
	uint8_t usage, selector, mtype;

	if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, NULL, NULL) >= 0)
		buf_printf(out, "TLSA %u %u %u matched", usage, selector, mtype);
}

SSL *tls_client_new(enum tls_level level, const char *host, const char *domain, const char *key,
    const struct dane_tlsa_set *tlsa, struct buf *err)
{
	SSL_CTX *ctx = tls_ctx(err);
	SSL *ssl;
	SSL_SESSION *sess;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL) {
		buf_printf(err, "cannot create a TLS connection");
		return NULL;
	}
	if (host && *host && strchr(host, ':') == NULL && strchr(host, '[') == NULL)
		SSL_set_tlsext_host_name(ssl, host);
	SSL_set_ex_data(ssl, tls_key_index, xstrdup(key));
	if ((sess = tls_sess_find(key)) != NULL)
		SSL_set_session(ssl, sess);
	if (tlsa && tlsa->n) {
		if (!tls_client_dane(ssl, host, domain, tlsa)) {
			buf_printf(err, "cannot use the TLSA records of %s", host);
			SSL_free(ssl);
			return NULL;
		}
	} else if (level >= TLS_LEVEL_VERIFY) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (level == TLS_LEVEL_SECURE) {
			char *dot = xasprintf(".%s", domain);

			SSL_set1_host(ssl, domain);
			SSL_add1_host(ssl, dot);
			free(dot);
		} else {
			SSL_set1_host(ssl, host);
		}
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	return ssl;
}

void tls_client_check_name(SSL *ssl, const char *host)
{
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_set1_host(ssl, host);
}

void tls_client_describe(SSL *ssl, struct buf *out)
{
	buf_printf(out, "%s with cipher %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

bool tls_client_resumed(SSL *ssl)
{
	return SSL_session_reused(ssl) == 1;
}
