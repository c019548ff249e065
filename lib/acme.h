/*
 * acme.h - an ACME client (RFC 8555) that obtains one certificate for a
 * list of DNS names with http-01 challenges.
 *
 * acme_issue() does the whole exchange: the directory; the account of
 * the account key (made on first use; newAccount with the contact
 * mailto: and termsOfServiceAgreed, which also finds an existing
 * account of that key); newOrder for the names; each pending
 * authorization's http-01 challenge, answered by writing the key
 * authorization to challenge_dir/TOKEN (which http serves at
 * /.well-known/acme-challenge/TOKEN) and removed afterwards, or its
 * tls-alpn-01 challenge (RFC 8737), answered by writing the validation
 * certificate and its key to challenge_dir/alpn-DOMAIN.pem (which http's
 * HTTPS listener presents to a ClientHello for "acme-tls/1"); finalize
 * with a CSR of a new EC P-256 key naming every domain; the chain
 * downloaded.  Every request is a JWS POST (POST-as-GET for reading)
 * with a fresh Replay-Nonce, retried on badNonce; polling follows
 * Retry-After, bounded to 1..10 s per wait and poll_ms in all.
 *
 * Blocking and sequential: for "tern cert acme" and "tern cert renew".
 */
#ifndef TERN_ACME_H
#define TERN_ACME_H

#include "buf.h"

struct acme_params {
	const char *server;	   /* the directory URL (https://) */
	const char *ca_file;	   /* PEM CAs to trust for it, or NULL: the system's */
	const char *email;	   /* the account's contact, or NULL */
	char *const *domains;	   /* NULL-terminated */
	const char *account_key;   /* PEM file, made when missing (0600) */
	const char *challenge_dir; /* where http finds the key authorizations */
	const char *challenge;	   /* "http-01" (NULL too) or "tls-alpn-01" */
	long poll_ms;		   /* the longest wait for validation and issuance */
};

struct acme_cert {
	struct buf chain; /* PEM: the certificate and its issuers */
	struct buf key;	  /* PEM: its private key */
};

/*
 * 0, or a sysexits.h status with why set: EX_UNAVAILABLE when the server
 * cannot be reached or refuses (its problem document "type: detail" in
 * why), EX_PROTOCOL for an answer that makes no sense, EX_TEMPFAIL when
 * validation or issuance takes longer than poll_ms, EX_CANTCREAT when a
 * file cannot be written.  out's buffers are to be freed in any case.
 */
int acme_issue(const struct acme_params *p, struct acme_cert *out, struct buf *why);

#endif
