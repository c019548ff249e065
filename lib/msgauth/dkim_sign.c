/*
 * dkim_sign.c - making DKIM signatures (RFC 6376 5, RFC 8463).
 *
 * relaxed/relaxed, a=rsa-sha256 or ed25519-sha256 by the key's type.
 * The signed header fields are those of DKIM_SIGN_HEADERS present in the
 * message, each as often as it occurs, and From, To, Subject and Date once
 * more (over-signing: a field of that name added later breaks the
 * signature).  The signature field is built with an empty b=, hashed as a
 * verifier will hash it (dkim_verify.c's header data, the same code), and
 * b= is filled in last; folding only ever replaces a space or comes inside
 * b=, so relaxed canonicalisation sees the same bytes.  Also here: key
 * generation and the DNS record of a key.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <string.h>
#include <strings.h>

#include "auth/sasl.h"
#include "msgauth/dkim.h"
#include "msgauth/dkim_int.h"
#include "util.h"

static const char *const dkim_sign_headers[] = {"from", "reply-to", "subject", "date", "to", "cc",
    "message-id", "in-reply-to", "references", "mime-version", "content-type",
    "content-transfer-encoding", "list-id", "list-unsubscribe", "list-unsubscribe-post", NULL};
static const char *const dkim_oversign[] = {"from", "to", "subject", "date", NULL};

static bool dkim_in(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* "from:from:to:..." for the fields present. */
void dkim_sign_hlist(const struct dkim_field *f, size_t n, struct buf *h)
{
	for (const char *const *name = dkim_sign_headers; *name; name++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += dkim_field_is(&f[i], *name);
		if (dkim_in(dkim_oversign, *name))
			count++;
		for (size_t i = 0; i < count; i++)
			buf_printf(h, "%s%s", h->len ? ":" : "", *name);
	}
}

/* Appends text, folding before it when the line would grow past 76. */
static void dkim_fold_put(struct buf *out, size_t *col, const char *text)
{
	size_t n = strlen(text);

	if (*col + n + 1 > 76 && *col > 1) {
		buf_puts(out, "\r\n\t");
		*col = 8;
	} else if (out->len > 0) {
		buf_putc(out, ' ');
		(*col)++;
	}
	buf_puts(out, text);
	*col += n;
}

int dkim_sign(const char *msg, size_t len, const char *domain, const char *selector, EVP_PKEY *key,
    long long now, struct buf *out, struct buf *err)
{
	struct buf m = BUF_INIT;
	struct dkim_field *f = NULL;
	struct dkim_body body;
	unsigned char bh[32];
	size_t n, body_off;
	int rc;

	dkim_crlf(msg, len, &m);
	body_off = dkim_fields(&m, &f, &n);
	free(f);
	dkim_body_init(&body, DKIM_RELAXED, -1);
	dkim_body_update(&body, buf_cstr(&m) + body_off, m.len - body_off);
	dkim_body_final(&body, bh);
	dkim_body_free(&body);
	rc = dkim_sign_header(buf_cstr(&m), body_off, bh, domain, selector, key, now, out, err);
	buf_free(&m);
	return rc;
}

const char *dkim_key_alg(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519: return "ed25519-sha256";
	case EVP_PKEY_RSA: return "rsa-sha256";
	default: return NULL;
	}
}

/* b= for data: RSA over the data, Ed25519 over its SHA-256 (RFC 8463). */
static bool dkim_sign_bytes(EVP_PKEY *key, const struct buf *data, struct buf *sig)
{
	bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	unsigned char hash[SHA256_DIGEST_LENGTH];
	const unsigned char *p = (const unsigned char *)data->data;
	size_t len = data->len, siglen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;

	if (ed) {
		SHA256(p, len, hash);
		p = hash;
		len = sizeof(hash);
	}
	ok = EVP_DigestSignInit(ctx, NULL, ed ? NULL : EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestSign(ctx, NULL, &siglen, p, len) == 1;
	if (ok) {
		buf_reserve(sig, siglen);
		ok = EVP_DigestSign(ctx, (unsigned char *)sig->data, &siglen, p, len) == 1;
		sig->len = ok ? siglen : 0;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

int dkim_sign_field(const char *name, const char *tags, const char *hlist, const unsigned char *bh,
    const struct dkim_field *f, size_t n, const struct buf *prefix, EVP_PKEY *key, struct buf *out,
    struct buf *err)
{
	struct buf field = BUF_INIT, data = BUF_INIT, b64 = BUF_INIT, sig = BUF_INIT;
	struct dkim_sig s = {.hcanon = DKIM_RELAXED, .bcanon = DKIM_RELAXED};
	struct dkim_field self;
	size_t col = strlen(name) + 1;
	char *words = xstrdup(tags), *tag;
	char **names = hlist ? strv_split(hlist, ":") : NULL;
	int rc = -1;

	/* the field, b= empty */
	buf_printf(&field, "%s:", name);
	for (char *w = strtok(words, " "); w; w = strtok(NULL, " "))
		dkim_fold_put(&field, &col, w);
	free(words);
	if (hlist) {
		tag = xasprintf("h=%s;", hlist);
		dkim_fold_put(&field, &col, tag);
		free(tag);
	}
	if (bh) {
		sasl_base64_encode((const char *)bh, 32, &b64);
		tag = xasprintf("bh=%s;", buf_cstr(&b64));
		dkim_fold_put(&field, &col, tag);
		free(tag);
	}
	dkim_fold_put(&field, &col, "b=");
	/* what a verifier hashes */
	if (prefix)
		buf_append(&data, prefix->data, prefix->len);
	s.h = names;
	s.nh = names ? strv_len(names) : 0;
	self = (struct dkim_field){field.data, field.len};
	dkim_header_data(&s, f, n, &self, &data);
	strv_free(names);
	if (!dkim_sign_bytes(key, &data, &sig)) {
		buf_puts(err, "signing failed (OpenSSL)");
		goto done;
	}
	buf_reset(&b64);
	sasl_base64_encode(sig.data, sig.len, &b64);
	buf_append(out, field.data, field.len);
	for (size_t i = 0; i < b64.len; i += 64) {
		if (i > 0 || col + 64 > 76)
			buf_puts(out, "\r\n\t");
		buf_append(out, b64.data + i, b64.len - i < 64 ? b64.len - i : 64);
	}
	buf_puts(out, "\r\n");
	rc = 0;
done:
	buf_free(&field);
	buf_free(&data);
	buf_free(&b64);
	buf_free(&sig);
	return rc;
}

int dkim_sign_header(const char *hdr, size_t hlen, const unsigned char bh[32], const char *domain,
    const char *selector, EVP_PKEY *key, long long now, struct buf *out, struct buf *err)
{
	struct buf m = BUF_INIT, h = BUF_INIT;
	struct dkim_field *f = NULL;
	const char *alg = dkim_key_alg(key);
	size_t n;
	char *tags;
	int rc = -1;

	if (alg == NULL) {
		buf_puts(err, "the key is neither RSA nor Ed25519");
		return -1;
	}
	dkim_crlf(hdr, hlen, &m);
	(void)dkim_fields(&m, &f, &n);
	dkim_sign_hlist(f, n, &h);
	if (h.len == 0 || strncmp(h.data, "from:from", 9) != 0) {
		buf_puts(err, "the message has no From: field");
	} else {
		tags = xasprintf("v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%lld;", alg, domain,
		    selector, now);
		rc = dkim_sign_field(
		    "DKIM-Signature", tags, buf_cstr(&h), bh, f, n, NULL, key, out, err);
		free(tags);
	}
	free(f);
	buf_free(&m);
	buf_free(&h);
	return rc;
}

EVP_PKEY *dkim_key_generate(bool rsa, int bits)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519, NULL);

	if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
	    (rsa && EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) != 1) || EVP_PKEY_keygen(c, &pk) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(c);
	return pk;
}

void dkim_key_record(EVP_PKEY *key, struct buf *out)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	int n;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		EVP_PKEY_get_raw_public_key(key, raw, &rawlen);
		buf_puts(out, "v=DKIM1; k=ed25519; p=");
		sasl_base64_encode((const char *)raw, rawlen, out);
		return;
	}
	n = i2d_PUBKEY(key, &der);
	buf_puts(out, "v=DKIM1; k=rsa; p=");
	if (n > 0)
		sasl_base64_encode((const char *)der, (size_t)n, out);
	OPENSSL_free(der);
}
