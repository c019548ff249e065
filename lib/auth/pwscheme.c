/*
 * auth/pwscheme.c - checking and making stored passwords.
 *
 * crypt(3) does the slow work for the CRYPT family; OpenSSL the digests
 * and PBKDF2.  Every comparison of a computed secret with a stored one is
 * constant-time, and buffers that held a password or a derived key are
 * wiped before they are freed.
 */
#include "auth/pwscheme.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/sasl.h"
#include "util.h"

#define PW_SALT_LEN 16 /* bytes of a new salt for SSHA* and SCRAM */

enum pw_kind {
	PW_CRYPT,
	PW_PLAIN,
	PW_DIGEST,
	PW_SALTED,
	PW_SCRAM,
	PW_UNKNOWN,
};

static const struct {
	const char *name;
	enum pw_kind kind;
	const char *md; /* OpenSSL digest name for PW_DIGEST, PW_SALTED */
} pw_schemes[] = {
    {"CRYPT", PW_CRYPT, NULL},
    {"BLF-CRYPT", PW_CRYPT, NULL},
    {"SHA512-CRYPT", PW_CRYPT, NULL},
    {"SHA256-CRYPT", PW_CRYPT, NULL},
    {"MD5-CRYPT", PW_CRYPT, NULL},
    {"DES-CRYPT", PW_CRYPT, NULL},
    {"MD5", PW_CRYPT, NULL}, /* Dovecot's alias of MD5-CRYPT */
    {"PLAIN", PW_PLAIN, NULL},
    {"CLEARTEXT", PW_PLAIN, NULL},
    {"CLEAR", PW_PLAIN, NULL},
    {"SHA", PW_DIGEST, "SHA1"},
    {"SHA1", PW_DIGEST, "SHA1"},
    {"SHA256", PW_DIGEST, "SHA256"},
    {"SHA512", PW_DIGEST, "SHA512"},
    {"SSHA", PW_SALTED, "SHA1"},
    {"SSHA256", PW_SALTED, "SHA256"},
    {"SSHA512", PW_SALTED, "SHA512"},
    {"SCRAM-SHA-256", PW_SCRAM, NULL},
};

#define PW_NSCHEMES (sizeof(pw_schemes) / sizeof(pw_schemes[0]))

struct pw_stored {
	enum pw_kind kind;
	const char *md;
	const char *data;
};

/* Splits "{SCHEME}data"; a value without braces is CRYPT. */
static void pw_split(const char *stored, struct pw_stored *out)
{
	const char *close = stored[0] == '{' ? strchr(stored, '}') : NULL;
	size_t n;

	out->kind = PW_CRYPT;
	out->md = NULL;
	out->data = stored;
	if (close == NULL)
		return;
	out->data = close + 1;
	out->kind = PW_UNKNOWN;
	n = (size_t)(close - stored - 1);
	for (size_t i = 0; i < PW_NSCHEMES; i++)
		if (strlen(pw_schemes[i].name) == n &&
		    strncasecmp(stored + 1, pw_schemes[i].name, n) == 0) {
			out->kind = pw_schemes[i].kind;
			out->md = pw_schemes[i].md;
		}
}

void pw_scheme_name(const char *stored, char *out, size_t size)
{
	const char *close = stored[0] == '{' ? strchr(stored, '}') : NULL;
	size_t n = close ? (size_t)(close - stored - 1) : 5;

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, close ? stored + 1 : "CRYPT", n);
	out[n] = 0;
}

static int pw_crypt_verify(const char *hash, const char *password)
{
	struct crypt_data *cd;
	const char *out;
	int r;

	if (*hash == 0 || *hash == '*' || *hash == '!')
		return *hash == 0 ? -1 : 0; /* locked accounts never match */
	cd = xcalloc(1, sizeof(*cd));
	out = crypt_r(password, hash, cd);
	if (out == NULL || out[0] == '*')
		r = -1;
	else
		r = strlen(out) == strlen(hash) && CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

/* digest(password [+ salt]) into out; its length, or 0 on failure. */
static unsigned pw_digest(const char *md_name, const char *password, const unsigned char *salt,
    size_t salt_len, unsigned char *out)
{
	const EVP_MD *md = EVP_get_digestbyname(md_name);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;

	if (md == NULL || ctx == NULL || !EVP_DigestInit_ex(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, password, strlen(password)) ||
	    (salt_len > 0 && !EVP_DigestUpdate(ctx, salt, salt_len)) ||
	    !EVP_DigestFinal_ex(ctx, out, &len))
		len = 0;
	EVP_MD_CTX_free(ctx);
	return len;
}

/* {SHA256} and {SSHA256} and friends: base64 of digest [+ salt]. */
static int pw_digest_verify(const struct pw_stored *pw, const char *password)
{
	struct buf raw = BUF_INIT;
	unsigned char d[EVP_MAX_MD_SIZE];
	const EVP_MD *md = EVP_get_digestbyname(pw->md);
	size_t dlen = md ? (size_t)EVP_MD_get_size(md) : 0;
	int r = -1;

	if (dlen && sasl_base64_decode(pw->data, strlen(pw->data), &raw) == 0 &&
	    (pw->kind == PW_SALTED ? raw.len > dlen : raw.len == dlen)) {
		const unsigned char *salt = (const unsigned char *)raw.data + dlen;

		if (pw_digest(pw->md, password, salt, raw.len - dlen, d) == dlen)
			r = CRYPTO_memcmp(d, raw.data, dlen) == 0;
	}
	buf_free(&raw);
	return r;
}

static int pw_scram_verify(const char *data, const char *password)
{
	struct scram_keys stored, mine;
	int r;

	if (scram_keys_parse(data, &stored) < 0)
		return -1;
	scram_keys_derive(password, stored.salt, stored.salt_len, stored.iter, &mine);
	r = CRYPTO_memcmp(mine.stored_key, stored.stored_key, SCRAM_HASH_LEN) == 0;
	explicit_bzero(&mine, sizeof(mine));
	return r;
}

int pw_verify(const char *stored, const char *password)
{
	struct pw_stored pw;

	pw_split(stored, &pw);
	switch (pw.kind) {
	case PW_CRYPT: return pw_crypt_verify(pw.data, password);
	case PW_PLAIN:
		return strlen(pw.data) == strlen(password) &&
		       CRYPTO_memcmp(pw.data, password, strlen(password)) == 0;
	case PW_DIGEST:
	case PW_SALTED: return pw_digest_verify(&pw, password);
	case PW_SCRAM: return pw_scram_verify(pw.data, password);
	case PW_UNKNOWN: break;
	}
	return -1;
}

bool pw_scram_capable(const char *stored)
{
	struct pw_stored pw;

	pw_split(stored, &pw);
	return pw.kind == PW_SCRAM || pw.kind == PW_PLAIN;
}

int pw_scram_keys(
    const char *stored, const unsigned char *salt, size_t salt_len, struct scram_keys *k)
{
	struct pw_stored pw;

	pw_split(stored, &pw);
	if (pw.kind == PW_SCRAM)
		return scram_keys_parse(pw.data, k);
	if (pw.kind != PW_PLAIN || salt == NULL || salt_len == 0)
		return -1;
	scram_keys_derive(pw.data, salt, salt_len, SCRAM_DEFAULT_ITER, k);
	return 0;
}

/* ------------------------------------------------------------ making */

static const struct {
	const char *scheme;
	const char *prefix; /* crypt_gensalt prefix, NULL for non-crypt */
} pw_makers[] = {
    {"CRYPT", "$y$"},
    {"BLF-CRYPT", "$2y$"},
    {"SHA512-CRYPT", "$6$"},
    {"SHA256-CRYPT", "$5$"},
    {"SCRAM-SHA-256", NULL},
    {"SSHA256", NULL},
    {"SSHA512", NULL},
};

#define PW_NMAKERS (sizeof(pw_makers) / sizeof(pw_makers[0]))

static int pw_maker(const char *scheme)
{
	for (size_t i = 0; i < PW_NMAKERS; i++)
		if (strcasecmp(scheme, pw_makers[i].scheme) == 0)
			return (int)i;
	return -1;
}

bool pw_hash_scheme_ok(const char *scheme)
{
	return pw_maker(scheme) >= 0;
}

static char *pw_hash_crypt(const char *scheme, const char *prefix, const char *password)
{
	char *setting = crypt_gensalt_ra(prefix, 0, NULL, 0);
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = setting ? crypt_r(password, setting, cd) : NULL;
	char *out = h && h[0] != '*' ? xasprintf("{%s}%s", scheme, h) : NULL;

	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	free(setting);
	return out;
}

static char *pw_hash_salted(const char *md, const char *scheme, const char *password)
{
	unsigned char d[EVP_MAX_MD_SIZE + PW_SALT_LEN];
	unsigned len;
	struct buf out = BUF_INIT;

	if (RAND_bytes(d + EVP_MAX_MD_SIZE, PW_SALT_LEN) != 1)
		return NULL;
	len = pw_digest(md, password, d + EVP_MAX_MD_SIZE, PW_SALT_LEN, d);
	if (len == 0)
		return NULL;
	memmove(d + len, d + EVP_MAX_MD_SIZE, PW_SALT_LEN);
	buf_printf(&out, "{%s}", scheme);
	sasl_base64_encode((const char *)d, len + PW_SALT_LEN, &out);
	return out.data;
}

static char *pw_hash_scram(const char *password)
{
	unsigned char salt[PW_SALT_LEN];
	struct scram_keys k;
	struct buf out = BUF_INIT;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return NULL;
	scram_keys_derive(password, salt, sizeof(salt), SCRAM_DEFAULT_ITER, &k);
	buf_puts(&out, "{SCRAM-SHA-256}");
	scram_keys_format(&k, &out);
	explicit_bzero(&k, sizeof(k));
	return out.data;
}

char *pw_hash(const char *scheme, const char *password, struct buf *err)
{
	int i = pw_maker(scheme);
	char *out = NULL;

	if (i < 0) {
		buf_printf(err, "cannot make passwords of scheme %s", scheme);
		return NULL;
	}
	if (pw_makers[i].prefix)
		out = pw_hash_crypt(pw_makers[i].scheme, pw_makers[i].prefix, password);
	else if (strcmp(pw_makers[i].scheme, "SCRAM-SHA-256") == 0)
		out = pw_hash_scram(password);
	else
		out = pw_hash_salted(
		    strcmp(pw_makers[i].scheme, "SSHA256") == 0 ? "SHA256" : "SHA512",
		    pw_makers[i].scheme, password);
	if (out == NULL)
		buf_printf(err, "hashing with %s failed", scheme);
	return out;
}
