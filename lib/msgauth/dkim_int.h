/*
 * dkim_int.h - DKIM's internals shared by dkim_verify.c, dkim_sign.c and
 * ARC (arc.c): the message as header fields and body, the header data a
 * signature covers (the same code for both sides, so they cannot
 * disagree), key answers, signature checks and signing.
 */
#ifndef TERN_MSGAUTH_DKIM_INT_H
#define TERN_MSGAUTH_DKIM_INT_H

#include "msgauth/dkim.h"

struct dkim_field {
	const char *p; /* name:value with folding, no final CRLF */
	size_t len;
};

/* The message with CRLF line ends. */
void dkim_crlf(const char *msg, size_t len, struct buf *out);
/* Splits m's header into fields (*out: free it); the body's offset. */
size_t dkim_fields(const struct buf *m, struct dkim_field **out, size_t *n);
/* Is f a field of this name (any case)? */
bool dkim_field_is(const struct dkim_field *f, const char *name);
/* The header data s covers, sigf being the signature field itself. */
void dkim_header_data(const struct dkim_sig *s, const struct dkim_field *fields, size_t n,
    const struct dkim_field *sigf, struct buf *out);

/* Which field a tag list is read as. */
enum dkim_kind { DKIM_KIND_SIG, DKIM_KIND_AMS, DKIM_KIND_SEAL };
int dkim_sig_parse_kind(
    const char *value, size_t len, enum dkim_kind kind, struct dkim_sig *out, struct buf *err);

/* The TXT answer for a key: DKIM_PASS with key filled, DKIM_TEMPERROR
 * or DKIM_PERMERROR with why filled. */
enum dkim_result dkim_key_answer(const char *name, enum dns_status st, char **txt, size_t n,
    struct dkim_key *key, struct buf *why);
/* key as an OpenSSL key for s (not revoked, fits a=), or NULL (why). */
EVP_PKEY *dkim_key_for(const struct dkim_key *key, const struct dkim_sig *s, struct buf *why);
/* Does s's b= sign data with pk? */
bool dkim_check_sig(const struct dkim_sig *s, EVP_PKEY *pk, const struct buf *data);

/* A verifier of the fields named name (DKIM-Signature, or
 * ARC-Message-Signature read as kind), at most max of them. */
struct dkim_verifier *dkim_verifier_new_kind(
    const char *hdr, size_t len, long long now, const char *name, enum dkim_kind kind, size_t max);
/* The ARC instance of signature i (0: unparsable). */
int dkim_verifier_instance(const struct dkim_verifier *v, size_t i);

/* The algorithm name for key ("rsa-sha256", "ed25519-sha256"), or NULL. */
const char *dkim_key_alg(EVP_PKEY *key);
/*
 * Signs a field: "name:" and tags (tag=value; words, folded), then h=hlist
 * when hlist, bh= when bh, and b=; the data signed is prefix (may be NULL)
 * then the fields of f named by hlist (dkim_header_data, relaxed) and the
 * field itself.  The field with its CRLF onto out; 0, or -1 (err).
 */
int dkim_sign_field(const char *name, const char *tags, const char *hlist, const unsigned char *bh,
    const struct dkim_field *f, size_t n, const struct buf *prefix, EVP_PKEY *key, struct buf *out,
    struct buf *err);
/* The header names DKIM signs for these fields, over-signing included. */
void dkim_sign_hlist(const struct dkim_field *f, size_t n, struct buf *h);

#endif
