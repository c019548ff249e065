/*
 * dkim_verify.c - verifying the DKIM signatures of a message (RFC 6376 6).
 *
 * The message is read with CRLF line ends (bare LFs become CRLF, as on
 * the wire).  For each DKIM-Signature field, in order: parse it, compute
 * the body hash over the canonical body (the first l= bytes of it),
 * fetch the key record s._domainkey.d, hash the signed header fields
 * (each name of h= takes the last field of that name not taken yet,
 * bottom up; a name with none left adds nothing, which makes
 * over-signing work) and the signature field itself with b= emptied and
 * no final CRLF, and check the signature with OpenSSL: RSA PKCS#1 v1.5
 * over SHA-256 (keys under 1024 bits refused, RFC 8301), or Ed25519 over
 * the SHA-256 hash (RFC 8463).
 *
 * A result is pass, fail (the signature or the body hash does not match,
 * or the body goes on past l=), permerror (the signature or key record is
 * unusable, the key is revoked or does not fit, x= is past), or temperror
 * (the key look-up failed for now).
 */
#include <arpa/nameser.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "msgauth/dkim.h"
#include "msgauth/dkim_int.h"
#include "util.h"

static const char *dkim_names[] = {"none", "pass", "fail", "neutral", "temperror", "permerror"};

const char *dkim_result_name(enum dkim_result r)
{
	return (size_t)r < sizeof(dkim_names) / sizeof(dkim_names[0]) ? dkim_names[r] : "unknown";
}

void dkim_outcome_free(struct dkim_outcome *o)
{
	free(o->domain);
	free(o->selector);
	free(o->problem);
	memset(o, 0, sizeof(*o));
}

void dkim_outcomes_free(struct dkim_outcome *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dkim_outcome_free(&v[i]);
	free(v);
}

void dkim_crlf(const char *msg, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, msg[i]);
	}
}

size_t dkim_fields(const struct buf *m, struct dkim_field **out, size_t *n)
{
	size_t i = 0;

	*out = NULL;
	*n = 0;
	while (i < m->len) {
		if (m->len - i >= 2 && m->data[i] == '\r' && m->data[i + 1] == '\n')
			return i + 2;
		size_t start = i;
		for (;;) {
			const char *nl = memmem(m->data + i, m->len - i, "\r\n", 2);
			if (nl == NULL) {
				i = m->len;
				break;
			}
			i = (size_t)(nl - m->data) + 2;
			if (i >= m->len || (m->data[i] != ' ' && m->data[i] != '\t'))
				break;
		}
		size_t end = i;
		if (end - start >= 2 && m->data[end - 2] == '\r' && m->data[end - 1] == '\n')
			end -= 2;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct dkim_field){m->data + start, end - start};
	}
	return m->len;
}

bool dkim_field_is(const struct dkim_field *f, const char *name)
{
	size_t n = strlen(name), k = 0;

	if (f->len <= n || strncasecmp(f->p, name, n) != 0)
		return false;
	for (k = n; k < f->len && (f->p[k] == ' ' || f->p[k] == '\t'); k++)
		;
	return k < f->len && f->p[k] == ':';
}

/* The signature field with the value of b= taken out (RFC 6376 3.7). */
static void dkim_strip_b(const struct dkim_field *f, struct buf *out)
{
	const char *colon = memchr(f->p, ':', f->len);
	size_t i = (size_t)(colon - f->p) + 1;

	buf_append(out, f->p, i);
	while (i < f->len) {
		size_t seg = i, eq;
		while (i < f->len && f->p[i] != ';')
			i++;
		for (eq = seg; eq < i && f->p[eq] != '='; eq++)
			;
		size_t a = seg, b = eq;
		while (a < b && strchr(" \t\r\n", f->p[a]))
			a++;
		while (b > a && strchr(" \t\r\n", f->p[b - 1]))
			b--;
		if (eq < i && b - a == 1 && f->p[a] == 'b')
			buf_append(out, f->p + seg, eq + 1 - seg);
		else
			buf_append(out, f->p + seg, i - seg);
		if (i < f->len)
			buf_putc(out, f->p[i++]);
	}
}

void dkim_header_data(const struct dkim_sig *s, const struct dkim_field *fields, size_t n,
    const struct dkim_field *sigf, struct buf *out)
{
	bool *used = xcalloc(n ? n : 1, sizeof(*used));
	struct buf stripped = BUF_INIT;

	for (size_t k = 0; k < s->nh; k++) {
		for (size_t j = n; j-- > 0;) {
			if (!used[j] && dkim_field_is(&fields[j], s->h[k])) {
				used[j] = true;
				dkim_canon_header(s->hcanon, fields[j].p, fields[j].len, out);
				break;
			}
		}
	}
	dkim_strip_b(sigf, &stripped);
	dkim_canon_header(s->hcanon, stripped.data, stripped.len, out);
	buf_truncate(out, out->len - 2);
	buf_free(&stripped);
	free(used);
}

/*
 * The keys made from key records lately, per process: OpenSSL 3 decodes
 * an RSA key through its provider machinery (name look-ups under locks),
 * which cost more than the signature check itself when a sender's mail
 * comes in a stream (the key record is in the DNS cache, its decoding
 * was not).  Keyed by the p= bytes; the oldest goes when all are taken.
 */
#define DKIM_PKEY_CACHE 32

static struct dkim_pkey_entry {
	unsigned char *p;
	size_t len;
	bool ed25519;
	EVP_PKEY *pk;
} dkim_pkeys[DKIM_PKEY_CACHE];
static size_t dkim_pkey_next; /* the slot to fill next */

/* A new reference to the cached key of k, or NULL. */
static EVP_PKEY *dkim_pkey_cached(const struct dkim_key *k)
{
	for (size_t i = 0; i < DKIM_PKEY_CACHE; i++) {
		struct dkim_pkey_entry *e = &dkim_pkeys[i];

		if (e->pk && e->ed25519 == k->ed25519 && e->len == k->p.len &&
		    memcmp(e->p, k->p.data, e->len) == 0)
			return EVP_PKEY_up_ref(e->pk) == 1 ? e->pk : NULL;
	}
	return NULL;
}

static void dkim_pkey_keep(const struct dkim_key *k, EVP_PKEY *pk)
{
	struct dkim_pkey_entry *e = &dkim_pkeys[dkim_pkey_next];

	if (EVP_PKEY_up_ref(pk) != 1)
		return;
	free(e->p);
	EVP_PKEY_free(e->pk);
	e->p = (unsigned char *)xmemdup(k->p.data, k->p.len);
	e->len = k->p.len;
	e->ed25519 = k->ed25519;
	e->pk = pk;
	dkim_pkey_next = (dkim_pkey_next + 1) % DKIM_PKEY_CACHE;
}

void dkim_pkey_cache_reset(void)
{
	for (size_t i = 0; i < DKIM_PKEY_CACHE; i++) {
		free(dkim_pkeys[i].p);
		EVP_PKEY_free(dkim_pkeys[i].pk);
		dkim_pkeys[i] = (struct dkim_pkey_entry){0};
	}
	dkim_pkey_next = 0;
}

static EVP_PKEY *dkim_pkey_decode(const struct dkim_key *k, struct buf *why)
{
	const unsigned char *p = (const unsigned char *)k->p.data;
	EVP_PKEY *pk;

	if (k->ed25519) {
		if (k->p.len != 32) {
			buf_puts(why, "Ed25519 key is not 32 bytes");
			return NULL;
		}
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, p, 32);
	}
	if ((pk = d2i_PUBKEY(NULL, &p, (long)k->p.len)) == NULL) {
		p = (const unsigned char *)k->p.data;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->p.len);
	}
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		buf_puts(why, "unusable RSA key");
		EVP_PKEY_free(pk);
		return NULL;
	}
	if (EVP_PKEY_get_bits(pk) < 1024) {
		buf_puts(why, "RSA key shorter than 1024 bits (RFC 8301)");
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

/* The key of record k (free it): decoded once, then from the cache. */
static EVP_PKEY *dkim_pkey(const struct dkim_key *k, struct buf *why)
{
	EVP_PKEY *pk = dkim_pkey_cached(k);

	if (pk == NULL && (pk = dkim_pkey_decode(k, why)) != NULL)
		dkim_pkey_keep(k, pk);
	return pk;
}

bool dkim_check_sig(const struct dkim_sig *s, EVP_PKEY *pk, const struct buf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char hash[SHA256_DIGEST_LENGTH];
	bool ok;

	if (s->alg == DKIM_ED25519_SHA256) {
		SHA256((const unsigned char *)data->data, data->len, hash);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(
			 ctx, (const unsigned char *)s->b.data, s->b.len, hash, sizeof(hash)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, (const unsigned char *)s->b.data, s->b.len,
			 (const unsigned char *)data->data, data->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

EVP_PKEY *dkim_key_for(const struct dkim_key *key, const struct dkim_sig *s, struct buf *why)
{
	if (key->p.len == 0) {
		buf_puts(why, "key revoked");
		return NULL;
	}
	if (key->ed25519 != (s->alg == DKIM_ED25519_SHA256) || !key->sha256_ok) {
		buf_puts(why, "key does not fit a=");
		return NULL;
	}
	return dkim_pkey(key, why);
}

enum dkim_result dkim_key_answer(const char *name, enum dns_status st, char **txt, size_t n,
    struct dkim_key *key, struct buf *why)
{
	enum dkim_result r = DKIM_PERMERROR;

	if (st == DNS_RETRY || st == DNS_FAIL) {
		buf_printf(why, "key look-up of %s failed", name);
		return DKIM_TEMPERROR;
	}
	if (st != DNS_OK || n == 0) {
		buf_printf(why, "no key at %s", name);
		return r;
	}
	for (size_t k = 0; k < n && r != DKIM_PASS; k++) {
		buf_reset(why);
		dkim_key_free(key);
		if (dkim_key_parse(txt[k], strlen(txt[k]), key, why) == 0)
			r = DKIM_PASS;
	}
	return r;
}

/* One signature being verified. */
struct dkim_vsig {
	const struct dkim_field *field;
	bool parsed;		 /* s holds the parsed signature */
	bool busy;		 /* still open: body hashed, key awaited */
	enum dkim_result result; /* when !busy */
	struct dkim_sig s;
	struct dkim_body body;
	char *key_name;
	bool key_in; /* dkim_verifier_key ran */
	enum dkim_result key_result;
	struct dkim_key key;
	struct buf why;
};

struct dkim_verifier {
	struct buf hdr; /* CRLF; fields point into it */
	struct dkim_field *fields;
	size_t nf;
	struct dkim_vsig *sigs;
	size_t n;
	long long now;
};

/* Parses signature field f into vs; a usable one starts its body hash. */
static void dkim_vsig_open(struct dkim_vsig *vs, const struct dkim_field *f, enum dkim_kind kind,
    size_t max, bool over, long long now)
{
	const char *colon = memchr(f->p, ':', f->len);

	vs->field = f;
	vs->result = DKIM_PERMERROR;
	if (over) {
		buf_printf(&vs->why, "more than %zu signatures", max);
		return;
	}
	if (dkim_sig_parse_kind(
		colon + 1, f->len - (size_t)(colon + 1 - f->p), kind, &vs->s, &vs->why) < 0)
		return;
	vs->parsed = true;
	if (vs->s.x >= 0 && vs->s.x < now) {
		buf_puts(&vs->why, "signature expired (x=)");
		return;
	}
	vs->busy = true;
	vs->key_name = xasprintf("%s._domainkey.%s", vs->s.s, vs->s.d);
	dkim_body_init(&vs->body, vs->s.bcanon, vs->s.l);
}

struct dkim_verifier *dkim_verifier_new_kind(
    const char *hdr, size_t len, long long now, const char *name, enum dkim_kind kind, size_t max)
{
	struct dkim_verifier *v = xcalloc(1, sizeof(*v));
	size_t k = 0;

	v->now = now;
	dkim_crlf(hdr, len, &v->hdr);
	(void)dkim_fields(&v->hdr, &v->fields, &v->nf);
	for (size_t i = 0; i < v->nf; i++)
		v->n += dkim_field_is(&v->fields[i], name);
	v->sigs = xcalloc(v->n ? v->n : 1, sizeof(*v->sigs));
	for (size_t i = 0; i < v->nf; i++) {
		if (!dkim_field_is(&v->fields[i], name))
			continue;
		dkim_vsig_open(&v->sigs[k], &v->fields[i], kind, max, k >= max, now);
		k++;
	}
	return v;
}

struct dkim_verifier *dkim_verifier_new(const char *hdr, size_t len, long long now)
{
	return dkim_verifier_new_kind(
	    hdr, len, now, "DKIM-Signature", DKIM_KIND_SIG, DKIM_MAX_SIGS);
}

int dkim_verifier_instance(const struct dkim_verifier *v, size_t i)
{
	return i < v->n && v->sigs[i].parsed ? v->sigs[i].s.instance : 0;
}

size_t dkim_verifier_count(const struct dkim_verifier *v)
{
	return v->n;
}

void dkim_verifier_body(struct dkim_verifier *v, const char *p, size_t len)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->sigs[i].busy)
			dkim_body_update(&v->sigs[i].body, p, len);
}

const char *dkim_verifier_key_name(const struct dkim_verifier *v, size_t i)
{
	return i < v->n && v->sigs[i].busy ? v->sigs[i].key_name : NULL;
}

void dkim_verifier_key(struct dkim_verifier *v, size_t i, enum dns_status st, char **txt, size_t n)
{
	struct dkim_vsig *vs;

	if (i >= v->n || !v->sigs[i].busy || v->sigs[i].key_in)
		return;
	vs = &v->sigs[i];
	vs->key_in = true;
	vs->key_result = dkim_key_answer(vs->key_name, st, txt, n, &vs->key, &vs->why);
}

/* The key and the signature over the header, once the body hash is known. */
static enum dkim_result dkim_vsig_check(
    struct dkim_verifier *v, struct dkim_vsig *vs, const unsigned char bh[32])
{
	const struct dkim_sig *s = &vs->s;
	struct buf data = BUF_INIT;
	EVP_PKEY *pk = NULL;
	enum dkim_result r = DKIM_PERMERROR;

	if (s->l >= 0 && (unsigned long long)s->l > vs->body.total) {
		buf_puts(&vs->why, "l= is longer than the body");
		return DKIM_FAIL;
	}
	if (!vs->key_in) {
		buf_printf(&vs->why, "key look-up of %s failed", vs->key_name);
		return DKIM_TEMPERROR;
	}
	if (vs->key_result != DKIM_PASS)
		return vs->key_result;
	if ((pk = dkim_key_for(&vs->key, s, &vs->why)) == NULL)
		return r;
	if (vs->key.strict && strcasecmp(strrchr(s->i, '@') + 1, s->d) != 0) {
		buf_puts(&vs->why, "key says t=s but i= is a subdomain");
		EVP_PKEY_free(pk);
		return r;
	}
	r = DKIM_FAIL;
	if (s->bh.len != 32 || memcmp(bh, s->bh.data, 32) != 0) {
		buf_puts(&vs->why, "body hash does not match");
	} else {
		dkim_header_data(s, v->fields, v->nf, vs->field, &data);
		if (!dkim_check_sig(s, pk, &data))
			buf_puts(&vs->why, "signature does not verify");
		else if (s->l >= 0 && (unsigned long long)s->l < vs->body.total)
			buf_puts(&vs->why, "body extends past l=");
		else
			r = DKIM_PASS;
	}
	EVP_PKEY_free(pk);
	buf_free(&data);
	return r;
}

void dkim_verifier_finish(struct dkim_verifier *v, struct dkim_outcome **out, size_t *n)
{
	*out = xcalloc(v->n ? v->n : 1, sizeof(**out));
	*n = v->n;
	for (size_t i = 0; i < v->n; i++) {
		struct dkim_vsig *vs = &v->sigs[i];
		struct dkim_outcome *o = &(*out)[i];
		unsigned char bh[32];

		if (vs->busy) {
			dkim_body_final(&vs->body, bh);
			vs->result = dkim_vsig_check(v, vs, bh);
			dkim_body_free(&vs->body);
			vs->busy = false;
		}
		o->result = vs->result;
		if (vs->parsed) {
			o->domain = xstrdup(vs->s.d);
			o->selector = xstrdup(vs->s.s);
			o->alg = vs->s.alg == DKIM_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256";
			o->partial = vs->s.l >= 0;
		}
		if (o->result != DKIM_PASS)
			o->problem = xstrdup(buf_cstr(&vs->why));
	}
}

void dkim_verifier_free(struct dkim_verifier *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		struct dkim_vsig *vs = &v->sigs[i];

		if (vs->busy)
			dkim_body_free(&vs->body);
		if (vs->parsed)
			dkim_sig_free(&vs->s);
		dkim_key_free(&vs->key);
		free(vs->key_name);
		buf_free(&vs->why);
	}
	free(v->sigs);
	free(v->fields);
	buf_free(&v->hdr);
	free(v);
}

void dkim_verify(const char *msg, size_t len, long long now, dkim_key_lookup_fn *lookup, void *ctx,
    struct dkim_outcome **out, size_t *nout)
{
	struct buf m = BUF_INIT;
	struct dkim_field *fields;
	size_t n, body_off;
	struct dkim_verifier *v;

	dkim_crlf(msg, len, &m);
	body_off = dkim_fields(&m, &fields, &n);
	free(fields);
	v = dkim_verifier_new(buf_cstr(&m), body_off, now);
	dkim_verifier_body(v, buf_cstr(&m) + body_off, m.len - body_off);
	for (size_t i = 0; i < dkim_verifier_count(v); i++) {
		const char *name = dkim_verifier_key_name(v, i);
		char **txt = NULL;
		size_t nt = 0;

		if (name == NULL)
			continue;
		enum dns_status st = lookup(ctx, name, &txt, &nt);
		dkim_verifier_key(v, i, st, txt, nt);
		strv_free(txt);
	}
	dkim_verifier_finish(v, out, nout);
	if (*nout == 0) {
		free(*out);
		*out = NULL;
	}
	dkim_verifier_free(v);
	buf_free(&m);
}

enum dns_status dkim_dns_lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	unsigned char *ans = NULL;
	int len = 0;
	struct buf why = BUF_INIT;
	enum dns_status st = dns_query(name, ns_t_txt, &ans, &len, &why);

	(void)ctx;
	*txt = NULL;
	*n = 0;
	if (st == DNS_OK)
		st = dns_txt_from_answer(ans, len, txt, n);
	else
		log_debug("dkim: %s: %s", name, buf_cstr(&why));
	free(ans);
	buf_free(&why);
	return st;
}

void dkim_verify_blocking(const char *msg, size_t len, struct dkim_outcome **out, size_t *n)
{
	dkim_verify(msg, len, (long long)time(NULL), dkim_dns_lookup, NULL, out, n);
}
