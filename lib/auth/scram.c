/*
 * auth/scram.c - SCRAM-SHA-256 messages (RFC 5802 section 7) and keys.
 *
 *   SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = H(ClientKey)
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The server knows StoredKey and ServerKey only; it recovers ClientKey
 * from the proof and checks that it hashes to StoredKey.  Comparisons of
 * secrets are constant-time.
 */
#include "auth/scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth/sasl.h"
#include "util.h"

static void hmac(const unsigned char *key, size_t klen, const void *data, size_t len,
    unsigned char out[SCRAM_HASH_LEN])
{
	unsigned int olen = SCRAM_HASH_LEN;

	HMAC(EVP_sha256(), key, (int)klen, data, len, out, &olen);
}

void scram_keys_derive(const char *password, const unsigned char *salt, size_t salt_len,
    unsigned iter, struct scram_keys *k)
{
	unsigned char salted[SCRAM_HASH_LEN], client_key[SCRAM_HASH_LEN];

	memset(k, 0, sizeof(*k));
	k->iter = iter;
	k->salt_len = salt_len < SCRAM_MAX_SALT ? salt_len : SCRAM_MAX_SALT;
	if (k->salt_len)
		memcpy(k->salt, salt, k->salt_len);
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), k->salt, (int)k->salt_len, (int)iter,
	    EVP_sha256(), SCRAM_HASH_LEN, salted);
	hmac(salted, sizeof(salted), "Client Key", 10, client_key);
	SHA256(client_key, sizeof(client_key), k->stored_key);
	hmac(salted, sizeof(salted), "Server Key", 10, k->server_key);
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
}

/* Decodes base64 of exactly want bytes (or at most want when exact is false). */
static int b64_field(
    const char *s, size_t len, unsigned char *out, size_t want, bool exact, size_t *got)
{
	struct buf b = BUF_INIT;
	int r = -1;

	if (sasl_base64_decode(s, len, &b) == 0 && (exact ? b.len == want : b.len <= want) &&
	    b.len > 0) {
		memcpy(out, b.data, b.len);
		if (got)
			*got = b.len;
		r = 0;
	}
	buf_free(&b);
	return r;
}

int scram_keys_parse(const char *text, struct scram_keys *k)
{
	const char *f[4], *p = text;
	size_t len[4];
	long iter;
	char num[16];

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 4; i++) {
		const char *comma = strchr(p, ',');

		if ((comma == NULL) != (i == 3))
			return -1;
		f[i] = p;
		len[i] = comma ? (size_t)(comma - p) : strlen(p);
		p = comma ? comma + 1 : p;
	}
	if (len[0] == 0 || len[0] >= sizeof(num))
		return -1;
	memcpy(num, f[0], len[0]);
	num[len[0]] = 0;
	if (!parse_long(num, 1, SCRAM_MAX_ITER, &iter))
		return -1;
	k->iter = (unsigned)iter;
	if (b64_field(f[1], len[1], k->salt, SCRAM_MAX_SALT, false, &k->salt_len) < 0 ||
	    b64_field(f[2], len[2], k->stored_key, SCRAM_HASH_LEN, true, NULL) < 0 ||
	    b64_field(f[3], len[3], k->server_key, SCRAM_HASH_LEN, true, NULL) < 0)
		return -1;
	return 0;
}

void scram_keys_format(const struct scram_keys *k, struct buf *out)
{
	buf_printf(out, "%u,", k->iter);
	sasl_base64_encode((const char *)k->salt, k->salt_len, out);
	buf_putc(out, ',');
	sasl_base64_encode((const char *)k->stored_key, SCRAM_HASH_LEN, out);
	buf_putc(out, ',');
	sasl_base64_encode((const char *)k->server_key, SCRAM_HASH_LEN, out);
}

/* ------------------------------------------------------------ parsing */

/* A saslname value: "=2C" is ',', "=3D" is '='; no other '=' allowed. */
static int saslname_decode(const char *s, size_t len, char *out, size_t max)
{
	size_t o = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == 0 || c == ',')
			return -1;
		if (c == '=') {
			if (i + 3 > len)
				return -1;
			if (s[i + 1] == '2' && s[i + 2] == 'C')
				c = ',';
			else if (s[i + 1] == '3' && s[i + 2] == 'D')
				c = '=';
			else
				return -1;
			i += 2;
		}
		if (o == max)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* printable = %x21-2B / %x2D-7E */
static bool nonce_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

/* The next comma-separated part of [*p, end). */
static bool next_part(const char **p, const char *end, const char **part, size_t *len)
{
	const char *comma;

	if (*p == NULL)
		return false;
	comma = memchr(*p, ',', (size_t)(end - *p));
	*part = *p;
	*len = comma ? (size_t)(comma - *p) : (size_t)(end - *p);
	*p = comma ? comma + 1 : NULL;
	return true;
}

/*
 * "r=nonce" then optional extensions ("x=...", none is known, so they are
 * ignored) up to end; the nonce is copied into out (max bytes).
 */
static int nonce_and_extensions(
    const char **p, const char *end, char *out, size_t max, const char **why)
{
	const char *part = NULL;
	size_t plen = 0;

	if (!next_part(p, end, &part, &plen) || plen < 3 || part[0] != 'r' || part[1] != '=' ||
	    plen - 2 > max || !nonce_valid(part + 2, plen - 2)) {
		*why = "bad nonce";
		return -1;
	}
	memcpy(out, part + 2, plen - 2);
	out[plen - 2] = 0;
	while (next_part(p, end, &part, &plen))
		if (plen < 2 || part[1] != '=') {
			*why = "bad extension";
			return -1;
		}
	return 0;
}

static int gs2_header(
    const char **p, const char *end, struct scram_client_first *out, const char **why)
{
	const char *part = NULL;
	size_t len = 0;

	if (!next_part(p, end, &part, &len) || len != 1 || (part[0] != 'n' && part[0] != 'y')) {
		*why = len > 1 && part[0] == 'p' ? "channel binding is not supported"
						 : "bad GS2 header";
		return -1;
	}
	out->cbind = part[0];
	if (!next_part(p, end, &part, &len)) {
		*why = "bad GS2 header";
		return -1;
	}
	if (len > 0 && (len < 3 || part[0] != 'a' || part[1] != '=' ||
			   saslname_decode(part + 2, len - 2, out->authzid, SCRAM_MAX_NAME) < 0)) {
		*why = "bad authzid";
		return -1;
	}
	return 0;
}

int scram_parse_client_first(
    const char *msg, size_t len, struct scram_client_first *out, const char **why)
{
	const char *p = msg, *end = msg + len, *part = NULL;
	size_t plen = 0;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (memchr(msg, 0, len) != NULL) {
		*why = "NUL in message";
		return -1;
	}
	if (gs2_header(&p, end, out, why) < 0)
		return -1;
	out->gs2_len = (size_t)(p ? p - msg : (ptrdiff_t)len);
	if (!next_part(&p, end, &part, &plen) || plen < 2 || part[0] == 'm' || part[0] != 'n' ||
	    part[1] != '=' || saslname_decode(part + 2, plen - 2, out->user, SCRAM_MAX_NAME) < 0) {
		*why = plen && part && part[0] == 'm' ? "mandatory extension not supported"
						      : "bad user name";
		return -1;
	}
	return nonce_and_extensions(&p, end, out->nonce, SCRAM_MAX_NONCE, why);
}

int scram_parse_client_final(
    const char *msg, size_t len, struct scram_client_final *out, const char **why)
{
	const char *p = msg, *end, *part = NULL, *proof = NULL;
	size_t plen = 0;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (memchr(msg, 0, len) != NULL) {
		*why = "NUL in message";
		return -1;
	}
	/* The proof is the last attribute. */
	for (size_t i = len; i >= 3 && proof == NULL; i--)
		if (memcmp(msg + i - 3, ",p=", 3) == 0)
			proof = msg + i - 3;
	if (proof == NULL) {
		*why = "no proof";
		return -1;
	}
	out->without_proof_len = (size_t)(proof - msg);
	end = proof;
	if (!next_part(&p, end, &part, &plen) || plen < 2 || part[0] != 'c' || part[1] != '=' ||
	    b64_field(part + 2, plen - 2, out->cbind, sizeof(out->cbind), false, &out->cbind_len) <
		0) {
		*why = "bad channel binding";
		return -1;
	}
	if (nonce_and_extensions(&p, end, out->nonce, 2 * SCRAM_MAX_NONCE, why) < 0)
		return -1;
	if (b64_field(proof + 3, (size_t)(msg + len - proof - 3), out->proof, SCRAM_HASH_LEN, true,
		NULL) < 0) {
		*why = "bad proof";
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ exchange */

void scram_server_first(const struct scram_client_first *cf, const char *server_nonce,
    const struct scram_keys *k, struct buf *out)
{
	buf_printf(out, "r=%s%s,s=", cf->nonce, server_nonce);
	sasl_base64_encode((const char *)k->salt, k->salt_len, out);
	buf_printf(out, ",i=%u", k->iter);
}

static void auth_message(const char *client_first_bare, size_t cfb_len, const char *server_first,
    const char *client_final, size_t without_proof, struct buf *out)
{
	buf_append(out, client_first_bare, cfb_len);
	buf_putc(out, ',');
	buf_puts(out, server_first);
	buf_putc(out, ',');
	buf_append(out, client_final, without_proof);
}

int scram_server_final(const char *client_first, size_t cf_len, const struct scram_client_first *cf,
    const char *server_first, const char *client_final, size_t cfin_len, const struct scram_keys *k,
    struct buf *server_final, const char **why)
{
	struct scram_client_final fin;
	struct buf am = BUF_INIT;
	unsigned char sig[SCRAM_HASH_LEN], client_key[SCRAM_HASH_LEN], check[SCRAM_HASH_LEN];
	const char *r = strchr(server_first, '=');
	size_t nonce_len = strcspn(r ? r + 1 : "", ",");
	int ok;

	if (scram_parse_client_final(client_final, cfin_len, &fin, why) < 0)
		return -1;
	if (r == NULL || strlen(fin.nonce) != nonce_len || memcmp(fin.nonce, r + 1, nonce_len)) {
		*why = "nonce mismatch";
		return -1;
	}
	if (fin.cbind_len != cf->gs2_len || memcmp(fin.cbind, client_first, cf->gs2_len) != 0) {
		*why = "channel binding mismatch";
		return -1;
	}
	auth_message(client_first + cf->gs2_len, cf_len - cf->gs2_len, server_first, client_final,
	    fin.without_proof_len, &am);
	hmac(k->stored_key, SCRAM_HASH_LEN, am.data, am.len, sig);
	for (size_t i = 0; i < SCRAM_HASH_LEN; i++)
		client_key[i] = fin.proof[i] ^ sig[i];
	SHA256(client_key, sizeof(client_key), check);
	ok = CRYPTO_memcmp(check, k->stored_key, SCRAM_HASH_LEN) == 0;
	if (ok) {
		hmac(k->server_key, SCRAM_HASH_LEN, am.data, am.len, sig);
		buf_puts(server_final, "v=");
		sasl_base64_encode((const char *)sig, sizeof(sig), server_final);
	}
	explicit_bzero(client_key, sizeof(client_key));
	buf_free(&am);
	*why = ok ? NULL : "wrong proof";
	return ok ? 0 : -1;
}

void scram_client_final(const char *password, const char *client_first_bare,
    const char *server_first, const char *gs2_header, struct buf *out)
{
	struct scram_keys k;
	struct buf am = BUF_INIT, salt = BUF_INIT;
	unsigned char salted[SCRAM_HASH_LEN], client_key[SCRAM_HASH_LEN], sig[SCRAM_HASH_LEN];
	const char *s = strstr(server_first, ",s="), *i = strstr(server_first, ",i=");
	const char *r = server_first + 2;
	size_t start = out->len;

	if (s == NULL || i == NULL)
		return;
	sasl_base64_decode(s + 3, (size_t)(i - s - 3), &salt);
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (unsigned char *)salt.data,
	    (int)salt.len, atoi(i + 3), EVP_sha256(), SCRAM_HASH_LEN, salted);
	hmac(salted, sizeof(salted), "Client Key", 10, client_key);
	SHA256(client_key, sizeof(client_key), k.stored_key);
	buf_puts(out, "c=");
	sasl_base64_encode(gs2_header, strlen(gs2_header), out);
	buf_printf(out, ",r=%.*s", (int)strcspn(r, ","), r);
	auth_message(client_first_bare, strlen(client_first_bare), server_first, out->data + start,
	    out->len - start, &am);
	hmac(k.stored_key, SCRAM_HASH_LEN, am.data, am.len, sig);
	for (size_t n = 0; n < SCRAM_HASH_LEN; n++)
		client_key[n] ^= sig[n];
	buf_puts(out, ",p=");
	sasl_base64_encode((const char *)client_key, SCRAM_HASH_LEN, out);
	buf_free(&am);
	buf_free(&salt);
}
