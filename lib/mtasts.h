/*
 * mtasts.h - MTA-STS (RFC 8461) texts: the _mta-sts TXT record, the policy
 * file and the MX patterns, as pure functions over the caller's bytes
 * (unit tested and fuzzed: both come from the network).
 *
 *   mtasts_txt_parse     "v=STSv1; id=20190429T010101;" -> the id
 *   mtasts_policy_parse  the text of /.well-known/mta-sts.txt -> policy
 *   mtasts_mx_match      whether an MX host is allowed by the policy
 *   mtasts_policy_text   the policy text a domain publishes (http serves it)
 *   mtasts_policy_id     a TXT record id that changes with that text
 *
 * Not here: fetching the policy (mtasts_fetch.h), its cache
 * (mtasts_cache.h), and the smtp client's use of it (smtp/sts.c).
 */
#ifndef TERN_MTASTS_H
#define TERN_MTASTS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define MTASTS_ID_MAX 32	 /* RFC 8461 3.1: 1*32(ALPHA / DIGIT) */
#define MTASTS_MAX_AGE 31557600L /* RFC 8461 3.2: at most about a year */
#define MTASTS_MX_MAX 64	 /* patterns kept from one policy */
#define MTASTS_POLICY_MAX 65536	 /* RFC 8461 3.3: bytes of policy text */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
	enum mtasts_mode mode;
	long max_age; /* seconds */
	char **mx;    /* patterns, lower case, without a final dot */
	size_t nmx;
};

/*
 * RFC 8461 3.1: a TXT record's text.  True when it is an STSv1 record
 * ("v=STSv1" first, then "id=" 1 to 32 letters and digits, fields
 * separated by ';' with optional white space, unknown fields ignored);
 * id (at least MTASTS_ID_MAX + 1 bytes) gets the id.
 */
bool mtasts_txt_parse(const char *txt, char *id);

/*
 * RFC 8461 3.2: the policy text text[0..len): "key: value" lines ending in
 * LF or CRLF; version (STSv1), mode (enforce, testing or none) and max_age
 * (0 to MTASTS_MAX_AGE) are required, as is at least one mx unless the
 * mode is none; unknown keys are ignored, a repeated key other than mx
 * keeps its first value.  False with why filled when the policy is
 * invalid; p is filled on success (free it with mtasts_policy_free).
 */
bool mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p, struct buf *why);
void mtasts_policy_free(struct mtasts_policy *p);

/* RFC 8461 4.1: host (any case, a final dot allowed) equals a pattern, or
 * a "*.domain" pattern with exactly one more label on the left. */
bool mtasts_mx_match(const struct mtasts_policy *p, const char *host);

/* "enforce", "testing" or "none". */
const char *mtasts_mode_name(enum mtasts_mode mode);

/*
 * The policy text a domain serves at https://mta-sts.DOMAIN/.well-known/
 * mta-sts.txt (RFC 8461 3.2), CRLF lines, appended to out: version, mode,
 * one mx line per pattern, max_age (the caller keeps it within
 * 0..MTASTS_MAX_AGE).  mtasts_policy_parse reads it back.
 */
void mtasts_policy_text(
    struct buf *out, enum mtasts_mode mode, const char *const *mx, size_t nmx, long max_age);

/*
 * The id for the domain's _mta-sts TXT record: the first
 * MTASTS_PUBLISH_ID_LEN hex digits of the SHA-256 of the policy text, so
 * that it changes exactly when the text does (senders fetch the policy
 * again only when the id changes).  id gets MTASTS_PUBLISH_ID_LEN + 1
 * bytes.
 */
#define MTASTS_PUBLISH_ID_LEN 20
void mtasts_policy_id(const char *text, size_t len, char *id);

#endif
