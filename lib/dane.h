/*
 * dane.h - DANE for SMTP (RFC 7672): the TLSA records of a server, as the
 * smtp client needs them.
 *
 *   dane_tlsa_from_answer  TLSA answer bytes -> records (pure; fuzzed)
 *   dane_tlsa_lookup       _port._tcp.host TLSA through the validating
 *                          resolver, with whether the answer was secure
 *   dane_tlsa_matches      whether records match a certificate chain
 *                          (tern doctor checks this host's own)
 *
 * Trust comes from the resolver: the look-up asks with the AD and DO bits
 * (RFC 6840 section 5.7) and believes the AD bit of the answer, which is
 * only sound when the resolver is local or the path to it is trusted
 * (smtp_dns_support_level = dnssec says so).  Which records are usable
 * (RFC 7672 section 3.1.3): DANE-TA(2) and DANE-EE(3) with the
 * Cert(0) or SPKI(1) selector and Full(0), SHA2-256(1) or SHA2-512(2)
 * matching, of the right digest length; PKIX-TA(0) and PKIX-EE(1) are
 * unusable for SMTP.  What to do with them (levels, verification) is
 * tls_client.c's and the smtp client's.
 */
#ifndef TERN_DANE_H
#define TERN_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "buf.h"
#include "dns.h"

#define DANE_TLSA_MAX 32	/* records kept from one answer */
#define DANE_TLSA_DATA_MAX 2048 /* bytes of one record's data (a full certificate) */

struct dane_tlsa {
	uint8_t usage, selector, mtype;
	unsigned char *data;
	size_t len;
};

struct dane_tlsa_set {
	struct dane_tlsa *rr; /* the usable records */
	size_t n;
	size_t unusable; /* records seen and left out */
	char base[256];	 /* the TLSA base domain: the host name they were found at */
};

/* Whether one record can be used (see above). */
bool dane_tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len);

/*
 * The TLSA records in the answer section of ans[0..len) (RRSIGs, CNAMEs and
 * other types are skipped): DNS_OK when there is at least one record,
 * usable or not (set filled: free it with dane_tlsa_free); DNS_NODATA when
 * none; DNS_FAIL when the message is malformed.
 */
enum dns_status dane_tlsa_from_answer(const unsigned char *ans, int len, struct dane_tlsa_set *set);
void dane_tlsa_free(struct dane_tlsa_set *set);

/*
 * Looks up _port._tcp.host TLSA (set->base = host).  *secure: the resolver validated the
 * answer (or the denial).  DNS_OK (set filled), DNS_NODATA or DNS_NOTFOUND
 * (no records), DNS_RETRY / DNS_FAIL (why filled).
 */
enum dns_status dane_tlsa_lookup(
    const char *host, int port, struct dane_tlsa_set *set, bool *secure, struct buf *why);

/*
 * The association data of cert for selector (0: the certificate, 1: its
 * SubjectPublicKeyInfo) and matching type (0: the DER itself, 1: SHA-256,
 * 2: SHA-512) into out (DANE_TLSA_DATA_MAX bytes), its length in *len;
 * false when it cannot be made.  The smtp client matches through
 * OpenSSL's DANE verifier; this is for checking records ahead of time.
 */
bool dane_tlsa_digest(X509 *cert, uint8_t selector, uint8_t mtype, unsigned char *out, size_t *len);

/*
 * Whether a usable record of set matches chain[0..n) (the server's
 * certificate first, then its issuers as the server sends them): DANE-EE
 * records against chain[0], DANE-TA records against the issuers.  No
 * name or date checks: only what the records pin.
 */
bool dane_tlsa_matches(const struct dane_tlsa_set *set, X509 *const *chain, size_t n);

#endif
