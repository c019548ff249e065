/*
 * tls_client.h - TLS for tern's SMTP client (STARTTLS to other servers).
 *
 * Security levels, as Postfix's smtp_tls_security_level:
 *   none     never TLS
 *   may      TLS when offered, certificate not checked; failure -> plain
 *   encrypt  TLS required, certificate not checked
 *   verify   TLS required, certificate chain valid and the server's host
 *            name (the MX name, or the next hop) in it
 *   secure   as verify, but the name must be the next-hop domain or a
 *            subdomain of it (not taken from an unsigned MX answer)
 *   dane     DANE (RFC 7672) where DNSSEC-validated TLSA records exist,
 *            else may; the smtp client decides per host and then asks
 *            for verify with the records (tls_client_new's tlsa)
 *   dane-only   as dane, but a host without such records is not used
 * Trust: the system CA store plus smtp_tls_CAfile / smtp_tls_CApath.
 * Sessions are cached in-process per destination and resumed.
 * TLSA look-ups and the DANE rules are not here (dane.h, smtp/route.c).
 */
#ifndef TERN_TLS_CLIENT_H
#define TERN_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "dane.h"

enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_SECURE,
	TLS_LEVEL_DANE,	    /* policies only: resolved per host */
	TLS_LEVEL_DANE_ONLY /* to one of the levels above */
};

bool tls_level_parse(const char *word, enum tls_level *out);

/* The parameter family: "smtp" (the default: smtp_tls_policy_maps,
 * smtp_tls_security_level, smtp_tls_CAfile, smtp_tls_CApath) or "lmtp"
 * (lmtp_tls_*).  Called once at start, before any other function here. */
void tls_client_prefix(const char *prefix);

/* The level for a next hop: smtp_tls_policy_maps (keys: the next hop as
 * written, e.g. "[mx.example]:587", then its bare domain), else
 * smtp_tls_security_level.  False when a table could not be read. */
bool tls_client_policy(const char *nexthop, const char *domain, enum tls_level *out);

/*
 * A new client SSL for a connection to host (the name the certificate must
 * carry at verify), next-hop domain (secure), with SNI host, resuming a
 * session cached under key.  With usable TLSA records (level verify), the
 * certificate is checked against them instead of the CA store (RFC 7672:
 * DANE-EE without name checks, DANE-TA with host or domain as names).
 * NULL with err on failure.
 */
SSL *tls_client_new(enum tls_level level, const char *host, const char *domain, const char *key,
    const struct dane_tlsa_set *tlsa, struct buf *err);
/* Names host as the one the certificate must carry without making the
 * handshake depend on it (level may/encrypt): SSL_get_verify_result()
 * says afterwards what verification would have found (MTA-STS testing). */
void tls_client_check_name(SSL *ssl, const char *host);
/* After the handshake: which TLSA record matched, "" when none. */
void tls_client_dane_describe(SSL *ssl, struct buf *out);
/* After the handshake: "TLSv1.3 with cipher X" and whether the
 * certificate was verified (only meaningful at verify/secure). */
void tls_client_describe(SSL *ssl, struct buf *out);
bool tls_client_resumed(SSL *ssl);

#endif
