/*
 * acme_msg.h - the JSON objects an ACME server answers (RFC 8555 7.1),
 * read into C: the directory, an order, an authorization with its
 * http-01 or tls-alpn-01 challenge, and problem documents (RFC 7807, 8555 6.7).  The
 * server is not trusted: every member is checked for its type, URLs must
 * be https, tokens base64url; a missing member the client needs is an
 * error with its name.  Pure functions over a text (fuzzed:
 * tests/fuzz/fuzz_acme_msg.c).
 */
#ifndef TERN_ACME_MSG_H
#define TERN_ACME_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define ACME_TOKEN_MAX 256

struct acme_directory {
	char *new_nonce, *new_account, *new_order;
	bool has_terms; /* meta.termsOfService: the client agrees to it */
};

struct acme_order {
	char *status;	       /* pending, ready, processing, valid, invalid */
	char **authorizations; /* NULL-terminated URLs */
	char *finalize;
	char *certificate; /* once valid, else NULL */
	char *problem;	   /* "type: detail" of an invalid order, or NULL */
};

struct acme_authz {
	char *status;	/* pending, valid, invalid, ... */
	char *domain;	/* identifier.value */
	char *chal_url; /* its http-01 challenge, or NULL when none */
	char *chal_token;
	char *chal_status;
	char *problem; /* the challenge's error as "type: detail", or NULL */
};

/* True when s is a host name: letters, digits and '-' in labels of 1..63
 * between dots (no '/', no "..": also safe in a file name). */
bool acme_name_ok(const char *s);

/* True when s is 1..ACME_TOKEN_MAX base64url characters (no '.', '/'). */
bool acme_token_ok(const char *s);

bool acme_directory_parse(const char *text, size_t len, struct acme_directory *d, struct buf *why);
bool acme_order_parse(const char *text, size_t len, struct acme_order *o, struct buf *why);
/* type: the challenge wanted, "http-01" or "tls-alpn-01". */
bool acme_authz_parse(
    const char *text, size_t len, const char *type, struct acme_authz *a, struct buf *why);
/* "type: detail" (with the subproblems' "identifier: detail") appended
 * to out; false when text is no problem document. */
bool acme_problem_text(const char *text, size_t len, struct buf *out);
/* True when text is a problem of type urn:ietf:params:acme:error:NAME. */
bool acme_problem_is(const char *text, size_t len, const char *name);

void acme_directory_free(struct acme_directory *d);
void acme_order_free(struct acme_order *o);
void acme_authz_free(struct acme_authz *a);

#endif
