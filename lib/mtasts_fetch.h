/*
 * mtasts_fetch.h - fetching an MTA-STS policy (RFC 8461 section 3.3):
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
 *
 *   mtasts_fetch  domain -> the policy's text (parse it with mtasts.h)
 *
 * The host's addresses come from tern's resolver (dns_lookup_host, so
 * dns_servers applies, as for every other look-up); the transfer is
 * https_get's (https_get.h: certificate verified, no redirects, bounded
 * in time and size).  Blocking: for programs that serve one request at a
 * time (tern doctor, the smtp agent).
 *
 * Not here: parsing the policy, caching it, deciding what it means.
 */
#ifndef TERN_MTASTS_FETCH_H
#define TERN_MTASTS_FETCH_H

#include <stdbool.h>

#include "buf.h"

struct mtasts_fetch_opts {
	const char *cafile; /* trust anchors (PEM); NULL or "": the system's */
	const char *capath; /* a hashed folder of them; NULL or "": none */
	long timeout_ms;    /* the whole fetch, connection included */
	int port;	    /* 0: 443 (another only for tests) */
	bool *pki_failed;   /* set when the server's certificate failed
			       verification (TLS-RPT's sts-webpki-invalid); or NULL */
};

/*
 * RFC 8461 3.3: HTTPS only, the certificate valid for mta-sts.DOMAIN
 * (verified against opts' trust anchors), status 200 with media type
 * text/plain, no redirect followed, at most MTASTS_POLICY_MAX bytes.
 * True with the body in policy (replacing what it held); false with why
 * filled ("https://mta-sts.DOMAIN/...: ..."), policy then undefined.
 */
bool mtasts_fetch(
    const char *domain, const struct mtasts_fetch_opts *opts, struct buf *policy, struct buf *why);

#endif
