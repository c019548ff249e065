/*
 * arc.h - ARC, the Authenticated Received Chain (RFC 8617), on top of the
 * DKIM code (dkim.h): the same tag parser, canonicalisations, body hash,
 * key records and signature code.
 *
 * Verification (arc.c): the ARC sets of a message (ARC-Authentication-
 * Results, ARC-Message-Signature, ARC-Seal with i=1..50) are checked for
 * structure (RFC 8617 5.1.1: one of each field per instance, instances
 * 1..N without a gap, cv=none on i=1 and cv=pass above, the newest not
 * cv=fail), the newest AMS is verified (and the older ones, for
 * oldest-pass), and every seal over the sets up to its own.  The result
 * is none (no ARC field), pass or fail.  Streaming as dkim_verifier: the
 * header section first, the body in pieces, the keys as they come.
 *
 * Sealing (arc_seal): the next set for a message we relay, its AAR made
 * from our Authentication-Results, its AMS over the header and body, its
 * seal with the chain's cv=.
 */
#ifndef TERN_MSGAUTH_ARC_H
#define TERN_MSGAUTH_ARC_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dns.h"
#include "msgauth/dkim.h"

enum arc_result { ARC_NONE, ARC_PASS, ARC_FAIL };

struct arc_outcome {
	enum arc_result result;
	int instance;	   /* N, the newest set (0: none) */
	int oldest_pass;   /* the oldest instance whose AMS and all newer pass;
			      0 when every AMS passes */
	char *seal_domain; /* d= of the newest seal (when parsed) */
	char *problem;	   /* why not pass */
};

const char *arc_result_name(enum arc_result r);
void arc_outcome_free(struct arc_outcome *o);

/* One ARC field's instance (name:value, folded, no final CRLF): i= of an
 * ARC-Seal or ARC-Message-Signature (the whole tag list parsed), the
 * leading i= of an ARC-Authentication-Results; 0 when not an ARC field,
 * -1 when an ARC field is unusable (why). */
int arc_field_instance(const char *field, size_t len, struct buf *why);

struct arc_verifier;

/* From the header section (LF or CRLF); now: the time for x=. */
struct arc_verifier *arc_verifier_new(const char *hdr, size_t len, long long now);
void arc_verifier_body(struct arc_verifier *v, const char *p, size_t len);
/* Keys to look up: their number, and the name of key i (NULL: none). */
size_t arc_verifier_nkeys(const struct arc_verifier *v);
const char *arc_verifier_key_name(const struct arc_verifier *v, size_t i);
void arc_verifier_key(struct arc_verifier *v, size_t i, enum dns_status st, char **txt, size_t n);
/* After the body and the keys. */
void arc_verifier_finish(struct arc_verifier *v, struct arc_outcome *out);
void arc_verifier_free(struct arc_verifier *v);

/* Verifies msg (LF or CRLF) in one go, keys from lookup (dkim.h's
 * dkim_dns_lookup: lib/dns). */
void arc_verify(const char *msg, size_t len, long long now, dkim_key_lookup_fn *lookup, void *ctx,
    struct arc_outcome *out);

/*
 * The next ARC set for a message: hdr its header section (LF or CRLF, with
 * the sets it came with), bh the relaxed body hash (dkim_body), ar our
 * Authentication-Results value (authserv-id; results..., without the
 * field name), cv the chain's result (ARC_NONE when it had no set, else
 * ARC_PASS; a failed chain is not sealed).  ARC-Seal, ARC-Message-
 * Signature, ARC-Authentication-Results with CRLF onto out; 0, or -1 (err).
 */
int arc_seal(const char *hdr, size_t hlen, const unsigned char bh[32], const char *ar,
    enum arc_result cv, const char *domain, const char *selector, EVP_PKEY *key, long long now,
    struct buf *out, struct buf *err);

#endif
