/*
 * dkim.h - DKIM signature verification (RFC 6376, with RFC 8301's
 * algorithm rules and RFC 8463's Ed25519).
 *
 * Pure parsers (dkim_sig.c): the tag=value lists of DKIM-Signature header
 * fields and of key records, each checked as the RFC says.  The
 * canonicalisations and hashes (dkim_canon.c): simple and relaxed, for
 * header fields and bodies, with l=.  Verification (dkim_verify.c): each
 * signature of a message, its key fetched through a look-up function
 * (dkim_verify_blocking asks lib/dns), checked with OpenSSL.
 *
 * Accepted: v=1, a=rsa-sha256 (keys of 1024 bits and more) and
 * a=ed25519-sha256, c= simple or relaxed for either part, h= that names
 * From, i= under d=, q=dns/txt, t=/x=, l=.  rsa-sha1 is refused (RFC
 * 8301).  A body longer than l= covers is a fail: content appended to a
 * signed message is not trusted (the result says "body extends past
 * l=").  Key records: v=DKIM1, k=rsa|ed25519, h=, s=, t=y|s, an empty p=
 * (revoked).
 *
 * Signing (dkim_sign.c): relaxed/relaxed, RSA-SHA256 or Ed25519-SHA256 by
 * the key, a fixed list of header fields with From/To/Subject/Date
 * over-signed.
 *
 * Streaming (dkim_body.c, dkim_stream.c): the body hash over a body that
 * arrives in pieces, and a verifier that takes the header section first,
 * the body in pieces, the key records as they come (cleanup asks c-ares
 * in its event loop), and gives the outcomes at the end.  dkim_verify is
 * the same verifier run over one buffer.
 *
 * ARC (arc.h) is built on these: its signatures are parsed, hashed,
 * verified and made by the same code (dkim_int.h).
 */
#ifndef TERN_MSGAUTH_DKIM_H
#define TERN_MSGAUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dns.h"

enum dkim_result {
	DKIM_NONE,
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_TEMPERROR,
	DKIM_PERMERROR,
};

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
/* ARC (arc.h) reads its signatures into the same struct: cv= of a seal. */
enum arc_cv { ARC_CV_NONE, ARC_CV_PASS, ARC_CV_FAIL };
#define ARC_MAX_INSTANCE 50
enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };

struct dkim_sig {
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char *d, *s, *i;
	char **h; /* signed header field names, in order */
	size_t nh;
	struct buf b;	/* signature, decoded */
	struct buf bh;	/* body hash, decoded */
	long long l;	/* -1: whole body */
	long long t, x; /* -1 when absent */
	int instance;	/* ARC: i= */
	enum arc_cv cv; /* ARC-Seal: cv= */
};

struct dkim_key {
	bool ed25519;
	struct buf p; /* decoded public key; empty: revoked */
	bool testing; /* t=y */
	bool strict;  /* t=s: i= must be d= exactly */
	bool sha256_ok;
};

/* One signature's outcome. */
struct dkim_outcome {
	enum dkim_result result;
	char *domain;	 /* d= */
	char *selector;	 /* s= */
	const char *alg; /* "rsa-sha256" / "ed25519-sha256" or NULL */
	bool partial;	 /* l= given */
	char *problem;	 /* why not pass */
};

const char *dkim_result_name(enum dkim_result r);
void dkim_outcome_free(struct dkim_outcome *o);

/* A DKIM-Signature value (after the colon); 0, or -1 with err filled. */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *out, struct buf *err);
void dkim_sig_free(struct dkim_sig *s);
/* A key record (TXT); 0, or -1 with err filled. */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *out, struct buf *err);
void dkim_key_free(struct dkim_key *k);

/* One header field (name:value, with its folding, without the final line
 * end), canonicalised with its CRLF appended to out. */
void dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct buf *out);
/* A body (CRLF lines) canonicalised into out. */
void dkim_canon_body(enum dkim_canon c, const char *body, size_t len, struct buf *out);

/* The TXT records of name: DNS_OK and *txt (strv_free it), or a failure. */
typedef enum dns_status dkim_key_lookup_fn(void *ctx, const char *name, char ***txt, size_t *n);

/*
 * Verifies every DKIM-Signature of msg (header and body; LF or CRLF line
 * ends): *out gets one outcome per signature (none at all: *n = 0).
 * Free with dkim_outcomes_free.  now: the time for x= (seconds).
 */
void dkim_verify(const char *msg, size_t len, long long now, dkim_key_lookup_fn *lookup, void *ctx,
    struct dkim_outcome **out, size_t *n);
void dkim_outcomes_free(struct dkim_outcome *v, size_t n);
/* Public keys are decoded once per process and key record (the last 32
 * kept, for DKIM and ARC alike); this forgets them (tests, exit). */
void dkim_pkey_cache_reset(void);

/* A dkim_key_lookup_fn asking lib/dns (blocking); ctx unused. */
enum dns_status dkim_dns_lookup(void *ctx, const char *name, char ***txt, size_t *n);
/* dkim_verify with keys from lib/dns (blocking look-ups). */
void dkim_verify_blocking(const char *msg, size_t len, struct dkim_outcome **out, size_t *n);

/* ---------------------------------------------------------- streaming */

/* A body hash in progress (dkim_body.c). */
struct dkim_body {
	enum dkim_canon canon;
	long long limit;	  /* l=, -1: all */
	unsigned long long total; /* canonical bytes so far (all of them) */
	size_t empty;		  /* empty lines not written yet */
	bool in_line;		  /* content written on the current line */
	bool space;		  /* relaxed: blanks seen, not written yet */
	bool cr;		  /* a CR seen, not known yet whether a LF follows */
	EVP_MD_CTX *md;
};

void dkim_body_init(struct dkim_body *b, enum dkim_canon c, long long limit);
/* Body bytes, LF or CRLF line ends, in any pieces. */
void dkim_body_update(struct dkim_body *b, const char *p, size_t len);
/* The SHA-256 of the canonical body (its first l= bytes); b->total is then
 * the length of the whole canonical body. */
void dkim_body_final(struct dkim_body *b, unsigned char hash[32]);
void dkim_body_free(struct dkim_body *b);

/* Signatures looked at per message; later ones are permerror. */
#define DKIM_MAX_SIGS 8

struct dkim_verifier;

/* From the header section (LF or CRLF, with or without the empty line
 * that ends it); now: the time for x=. */
struct dkim_verifier *dkim_verifier_new(const char *hdr, size_t len, long long now);
/* Number of DKIM-Signature fields (0: nothing to do). */
size_t dkim_verifier_count(const struct dkim_verifier *v);
void dkim_verifier_body(struct dkim_verifier *v, const char *p, size_t len);
/* The key record name signature i needs ("s._domainkey.d"), or NULL when
 * it needs none (unusable already). */
const char *dkim_verifier_key_name(const struct dkim_verifier *v, size_t i);
/* The answer for signature i's key: st, and the TXT strings on DNS_OK. */
void dkim_verifier_key(struct dkim_verifier *v, size_t i, enum dns_status st, char **txt, size_t n);
/* After the body and the keys: one outcome per signature (free with
 * dkim_outcomes_free). */
void dkim_verifier_finish(struct dkim_verifier *v, struct dkim_outcome **out, size_t *n);
void dkim_verifier_free(struct dkim_verifier *v);

/* ------------------------------------------------------------ signing */

/*
 * The DKIM-Signature field (name, value, final CRLF) for msg, to put on
 * top of it; 0, or -1 with err filled (no From:, a key of another type).
 */
int dkim_sign(const char *msg, size_t len, const char *domain, const char *selector, EVP_PKEY *key,
    long long now, struct buf *out, struct buf *err);
/* The same from the header section (LF or CRLF) and the relaxed body
 * hash (dkim_body with DKIM_RELAXED, no limit): for a body that streams. */
int dkim_sign_header(const char *hdr, size_t hlen, const unsigned char bh[32], const char *domain,
    const char *selector, EVP_PKEY *key, long long now, struct buf *out, struct buf *err);
/* A new key: RSA of bits, or Ed25519; NULL when OpenSSL fails. */
EVP_PKEY *dkim_key_generate(bool rsa, int bits);
/* The TXT record publishing key's public half ("v=DKIM1; k=...; p=..."). */
void dkim_key_record(EVP_PKEY *key, struct buf *out);

/* ------------------------------------------------- the key directory */

/* A signing key: the file DOMAIN.SELECTOR.key (dkim_keydir.c). */
struct dkim_keyfile {
	char *domain, *selector;
	EVP_PKEY *pkey;
};

/* dkim_key_directory, or the configuration directory's dkim/ (free it). */
char *dkim_key_dir(void);
/* Every DOMAIN.SELECTOR.key of dir (PEM, as `tern dkim keygen` writes
 * them), sorted by file name; an unreadable or non-PEM one is skipped with
 * a warning, a missing directory is no key.  The count; *out: free it
 * with dkim_keyfiles_free. */
size_t dkim_keyfiles_load(const char *dir, struct dkim_keyfile **out);
void dkim_keyfiles_free(struct dkim_keyfile *k, size_t n);
/* The RSA key of domain among k, selector's (empty or NULL: the first). */
const struct dkim_keyfile *dkim_keyfile_rsa(
    const struct dkim_keyfile *k, size_t n, const char *domain, const char *selector);
/* With arc_sealing: dkim_verify and arc_verify on, arc_seal_domain set,
 * its RSA key in the key directory; false (why) otherwise. */
bool arc_sealing_check(struct buf *why);

#endif
