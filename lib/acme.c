/*
 * acme.c - the ACME exchange of acme.h, over lib/https_get (libcurl),
 * with lib/acme_jws (signatures) and lib/acme_msg (answers).
 */
#include "acme.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "acme_jws.h"
#include "acme_msg.h"
#include "file_replace.h"
#include "https_get.h"
#include "log.h"
#include "util.h"

#define ACME_MAX_BODY (1024 * 1024)
#define ACME_TIMEOUT_MS 30000
#define ACME_NONCE_TRIES 10

struct acme {
	const struct acme_params *p;
	EVP_PKEY *key;
	char *kid;
	char nonce[512];
	struct acme_directory dir;
};

static int fetch(struct acme *a, const char *url, const struct buf *body, struct https_get_res *res,
    struct buf *why)
{
	struct https_get_req req = {
	    .url = url,
	    .cafile = a->p->ca_file,
	    .timeout_ms = ACME_TIMEOUT_MS,
	    .max_size = ACME_MAX_BODY,
	    .post_body = body,
	    .post_type = "application/jose+json",
	    .want_headers = true,
	};

	buf_reset(&res->body);
	if (!https_get(&req, res, why))
		return EX_UNAVAILABLE;
	if (https_header(res, "Replay-Nonce", a->nonce, sizeof(a->nonce)) &&
	    !acme_token_ok(a->nonce))
		a->nonce[0] = 0;
	return 0;
}

/* The server's error for a status >= 400: its problem document. */
static int refused(const char *what, struct https_get_res *res, struct buf *why)
{
	buf_printf(why, "%s: HTTP status %ld: ", what, res->status);
	if (!acme_problem_text(res->body.data, res->body.len, why))
		buf_puts(why, "(no problem document)");
	return EX_UNAVAILABLE;
}

static int new_nonce(struct acme *a, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	int r;

	a->nonce[0] = 0;
	if ((r = fetch(a, a->dir.new_nonce, NULL, &res, why)) == 0 && a->nonce[0] == 0) {
		buf_printf(
		    why, "%s: no Replay-Nonce (HTTP status %ld)", a->dir.new_nonce, res.status);
		r = EX_PROTOCOL;
	}
	buf_free(&res.body);
	buf_free(&res.headers);
	return r;
}

/* A signed POST (payload NULL: POST-as-GET); res is the answer, < 400. */
static int post(struct acme *a, const char *url, const char *payload, struct https_get_res *res,
    struct buf *why)
{
	for (int tries = 0;; tries++) {
		struct buf jws = BUF_INIT;
		int r;

		if (a->nonce[0] == 0 && (r = new_nonce(a, why)) != 0)
			return r;
		if (!acme_jws(a->key, a->kid, a->nonce, url, payload ? payload : "", &jws)) {
			buf_free(&jws);
			buf_puts(why, "cannot sign the request");
			return EX_SOFTWARE;
		}
		a->nonce[0] = 0;
		r = fetch(a, url, &jws, res, why);
		buf_free(&jws);
		if (r != 0)
			return r;
		if (res->status == 400 && tries + 1 < ACME_NONCE_TRIES &&
		    acme_problem_is(res->body.data, res->body.len, "badNonce")) {
			log_info("acme: %s: badNonce, sending again", url);
			continue; /* RFC 8555 6.5: retry with the nonce it gave */
		}
		if (res->status >= 400)
			return refused(url, res, why);
		return 0;
	}
}

static char *json_text(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static int account(struct acme *a, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	json_t *req = json_object();
	char loc[2048], *payload;
	int r;

	json_object_set_new(req, "termsOfServiceAgreed", json_true());
	if (a->p->email && *a->p->email) {
		char *mailto = xasprintf("mailto:%s", a->p->email);

		json_object_set_new(req, "contact", json_pack("[s]", mailto));
		free(mailto);
	}
	payload = json_text(req);
	r = post(a, a->dir.new_account, payload, &res, why);
	free(payload);
	if (r == 0 && (!https_header(&res, "Location", loc, sizeof(loc)) ||
			  strncmp(loc, "https://", 8) != 0)) {
		buf_printf(why, "%s: no account URL (Location) in the answer", a->dir.new_account);
		r = EX_PROTOCOL;
	}
	if (r == 0)
		a->kid = xstrdup(loc);
	buf_free(&res.body);
	buf_free(&res.headers);
	return r;
}

/* Seconds to wait before polling again: Retry-After, 1..10. */
static long retry_after(const struct https_get_res *res)
{
	char v[64];
	long s = 1;

	if (https_header(res, "Retry-After", v, sizeof(v)) && !parse_long(v, 1, 10, &s))
		s = strtol(v, NULL, 10) > 10 ? 10 : 1;
	return s;
}

static const char *chal_type(const struct acme *a)
{
	return a->p->challenge ? a->p->challenge : "http-01";
}

/* POST-as-GET of an authorization until it is no longer pending. */
static int authz_wait(struct acme *a, const char *url, struct acme_authz *az, struct buf *why)
{
	long long deadline = mono_msec() + a->p->poll_ms;

	for (;;) {
		struct https_get_res res = {.body = BUF_INIT};
		struct buf perr = BUF_INIT;
		int r = post(a, url, NULL, &res, why);
		long wait = retry_after(&res);

		acme_authz_free(az);
		if (r == 0 &&
		    !acme_authz_parse(res.body.data, res.body.len, chal_type(a), az, &perr)) {
			buf_printf(why, "%s: %s", url, buf_cstr(&perr));
			r = EX_PROTOCOL;
		}
		buf_free(&perr);
		buf_free(&res.body);
		buf_free(&res.headers);
		if (r != 0)
			return r;
		if (strcmp(az->status, "pending") != 0 &&
		    (az->chal_status == NULL || strcmp(az->chal_status, "processing") != 0))
			return 0;
		if (mono_msec() + wait * 1000 > deadline) {
			buf_printf(why, "%s: still %s after %ld s", az->domain, az->status,
			    a->p->poll_ms / 1000);
			return EX_TEMPFAIL;
		}
		sleep((unsigned)wait);
	}
}

static int challenge(struct acme *a, const char *url, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	struct acme_authz az = {.status = NULL};
	struct buf keyauth = BUF_INIT, perr = BUF_INIT;
	char *file = NULL;
	int r = post(a, url, NULL, &res, why);

	if (r == 0 && !acme_authz_parse(res.body.data, res.body.len, chal_type(a), &az, &perr)) {
		buf_printf(why, "%s: %s", url, buf_cstr(&perr));
		r = EX_PROTOCOL;
	}
	if (r != 0 || strcmp(az.status, "valid") == 0)
		goto out;
	if (strcmp(az.status, "pending") != 0) {
		buf_printf(why, "%s: authorization is %s", az.domain, az.status);
		r = EX_UNAVAILABLE;
		goto out;
	}
	buf_printf(&keyauth, "%s.", az.chal_token);
	acme_thumbprint(a->key, &keyauth);
	if (strcmp(chal_type(a), "tls-alpn-01") == 0) {
		struct buf pem = BUF_INIT;

		/* The validation certificate's key is for this handshake only;
		 * http reads it as default_login_user, hence 0644. */
		file = xasprintf("%s/alpn-%s.pem", a->p->challenge_dir, az.domain);
		str_lower(file + strlen(a->p->challenge_dir));
		if (!acme_alpn_cert(az.domain, keyauth.data, &pem) ||
		    file_replace(file, pem.data, pem.len, 0644, why) < 0) {
			if (why->len == 0)
				buf_puts(why, "cannot make the tls-alpn-01 certificate");
			buf_free(&pem);
			r = EX_CANTCREAT;
			goto out;
		}
		buf_free(&pem);
	} else {
		file = xasprintf("%s/%s", a->p->challenge_dir, az.chal_token);
		if (file_replace(file, keyauth.data, keyauth.len, 0644, why) < 0) {
			r = EX_CANTCREAT;
			goto out;
		}
	}
	log_info("acme: %s: answering %s with %s", az.domain, chal_type(a), file);
	if ((r = post(a, az.chal_url, "{}", &res, why)) == 0 &&
	    (r = authz_wait(a, url, &az, why)) == 0 && strcmp(az.status, "valid") != 0) {
		buf_printf(why, "%s: authorization %s: %s", az.domain, az.status,
		    az.problem ? az.problem : "(the server gave no reason)");
		r = EX_UNAVAILABLE;
	}
	unlink(file);
out:
	free(file);
	acme_authz_free(&az);
	buf_free(&keyauth);
	buf_free(&perr);
	buf_free(&res.body);
	buf_free(&res.headers);
	return r;
}

/* POST-as-GET of the order until its status is not `from`. */
static int order_wait(
    struct acme *a, const char *url, const char *from, struct acme_order *o, struct buf *why)
{
	long long deadline = mono_msec() + a->p->poll_ms;

	while (strcmp(o->status, from) == 0) {
		struct https_get_res res = {.body = BUF_INIT};
		struct buf perr = BUF_INIT;
		int r;

		if (mono_msec() + 1000 > deadline) {
			buf_printf(
			    why, "the order is still %s after %ld s", from, a->p->poll_ms / 1000);
			return EX_TEMPFAIL;
		}
		sleep(1);
		r = post(a, url, NULL, &res, why);
		acme_order_free(o);
		if (r == 0 && !acme_order_parse(res.body.data, res.body.len, o, &perr)) {
			buf_printf(why, "%s: %s", url, buf_cstr(&perr));
			r = EX_PROTOCOL;
		}
		buf_free(&perr);
		buf_free(&res.body);
		buf_free(&res.headers);
		if (r != 0)
			return r;
	}
	return 0;
}

static int order_new(
    struct acme *a, struct acme_order *o, char *url, size_t urllen, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	struct buf perr = BUF_INIT;
	json_t *ids = json_array();
	char *payload;
	int r;

	for (size_t i = 0; a->p->domains[i]; i++)
		json_array_append_new(
		    ids, json_pack("{s:s,s:s}", "type", "dns", "value", a->p->domains[i]));
	payload = json_text(json_pack("{s:o}", "identifiers", ids));
	r = post(a, a->dir.new_order, payload, &res, why);
	free(payload);
	if (r == 0 &&
	    (!https_header(&res, "Location", url, urllen) || strncmp(url, "https://", 8) != 0)) {
		buf_printf(why, "%s: no order URL (Location) in the answer", a->dir.new_order);
		r = EX_PROTOCOL;
	}
	if (r == 0 && !acme_order_parse(res.body.data, res.body.len, o, &perr)) {
		buf_printf(why, "%s: %s", a->dir.new_order, buf_cstr(&perr));
		r = EX_PROTOCOL;
	}
	buf_free(&perr);
	buf_free(&res.body);
	buf_free(&res.headers);
	return r;
}

/* Is the first certificate of chain the one of key? */
static bool chain_matches(const struct buf *chain, EVP_PKEY *key)
{
	BIO *b = BIO_new_mem_buf(chain->data, (int)chain->len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	bool ok = x && X509_check_private_key(x, key) == 1;

	X509_free(x);
	BIO_free(b);
	return ok;
}

static int finalize(struct acme *a, const char *order_url, struct acme_order *o,
    struct acme_cert *out, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	struct buf csr = BUF_INIT, perr = BUF_INIT;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char *payload = NULL;
	int r = 0;

	if (key == NULL || !acme_csr(key, a->p->domains, &csr) || !acme_key_pem(key, &out->key)) {
		buf_puts(why, "cannot make the certificate's key and request");
		r = EX_SOFTWARE;
		goto out;
	}
	payload = json_text(json_pack("{s:s}", "csr", csr.data));
	if ((r = post(a, o->finalize, payload, &res, why)) != 0)
		goto out;
	acme_order_free(o);
	if (!acme_order_parse(res.body.data, res.body.len, o, &perr)) {
		buf_printf(why, "finalize: %s", buf_cstr(&perr));
		r = EX_PROTOCOL;
		goto out;
	}
	if ((r = order_wait(a, order_url, "processing", o, why)) != 0)
		goto out;
	if (strcmp(o->status, "valid") != 0 || o->certificate == NULL) {
		buf_printf(why, "the order is %s: %s", o->status,
		    o->problem ? o->problem : "(the server gave no reason)");
		r = EX_UNAVAILABLE;
		goto out;
	}
	if ((r = post(a, o->certificate, NULL, &res, why)) != 0)
		goto out;
	buf_append(&out->chain, res.body.data, res.body.len);
	if (!chain_matches(&out->chain, key)) {
		buf_printf(why, "%s: not a PEM certificate of the key sent", o->certificate);
		r = EX_PROTOCOL;
	}
out:
	EVP_PKEY_free(key);
	free(payload);
	buf_free(&csr);
	buf_free(&perr);
	buf_free(&res.body);
	buf_free(&res.headers);
	return r;
}

static int directory(struct acme *a, struct buf *why)
{
	struct https_get_res res = {.body = BUF_INIT};
	struct https_get_req req = {
	    .url = a->p->server,
	    .cafile = a->p->ca_file,
	    .timeout_ms = ACME_TIMEOUT_MS,
	    .max_size = ACME_MAX_BODY,
	};
	struct buf perr = BUF_INIT;
	int r = 0;

	if (strncmp(a->p->server, "https://", 8) != 0) {
		buf_printf(why, "%s: the ACME server must be an https:// URL", a->p->server);
		return EX_USAGE;
	}
	if (!https_get(&req, &res, why))
		r = EX_UNAVAILABLE;
	else if (res.status != 200)
		r = refused(a->p->server, &res, why);
	else if (!acme_directory_parse(res.body.data, res.body.len, &a->dir, &perr)) {
		buf_printf(why, "%s: not an ACME directory: %s", a->p->server, buf_cstr(&perr));
		r = EX_PROTOCOL;
	}
	buf_free(&perr);
	buf_free(&res.body);
	return r;
}

int acme_issue(const struct acme_params *p, struct acme_cert *out, struct buf *why)
{
	struct acme a = {.p = p, .key = NULL, .kid = NULL};
	struct acme_order o = {.status = NULL};
	char order_url[2048];
	int r;

	if (mkdir(p->challenge_dir, 0755) < 0 && errno != EEXIST) {
		buf_printf(why, "%s: %s", p->challenge_dir, strerror(errno));
		return EX_CANTCREAT;
	}
	if ((a.key = acme_key_load(p->account_key, true, why)) == NULL)
		return EX_CANTCREAT;
	if ((r = directory(&a, why)) != 0 || (r = account(&a, why)) != 0 ||
	    (r = order_new(&a, &o, order_url, sizeof(order_url), why)) != 0)
		goto out;
	for (size_t i = 0; o.authorizations[i]; i++)
		if ((r = challenge(&a, o.authorizations[i], why)) != 0)
			goto out;
	if ((r = order_wait(&a, order_url, "pending", &o, why)) != 0)
		goto out;
	if (strcmp(o.status, "ready") != 0 && strcmp(o.status, "valid") != 0) {
		buf_printf(why, "the order is %s: %s", o.status,
		    o.problem ? o.problem : "(the server gave no reason)");
		r = EX_UNAVAILABLE;
		goto out;
	}
	r = finalize(&a, order_url, &o, out, why);
out:
	acme_order_free(&o);
	acme_directory_free(&a.dir);
	EVP_PKEY_free(a.key);
	free(a.kid);
	return r;
}
