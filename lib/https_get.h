/*
 * https_get.h - one HTTPS GET (or POST) with libcurl, for documents tern
 * fetches from other people's servers (MTA-STS policies; later ACME) and
 * reports it posts to them (TLS-RPT), and ACME's requests (lib/acme.c).
 *
 *   https_get   GET url (POST with post_body): HTTPS only, the server's
 *               certificate verified (the system's CAs, or cafile
 *               instead), no redirects followed, bounded in time and in
 *               size
 *
 * Name resolution is the caller's: tern asks its own resolver (dns.h, so
 * dns_servers holds here too) and passes the addresses in, as curl's
 * CURLOPT_RESOLVE entry ("host:port:addr,addr"); curl then never asks
 * the system resolver.  Blocking: for programs that serve one request at
 * a time (the smtp agent).
 */
#ifndef TERN_HTTPS_GET_H
#define TERN_HTTPS_GET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct https_get_req {
	const char *url;	     /* https://... */
	const char *resolve;	     /* "host:port:addr[,addr]", or NULL */
	const char *cafile;	     /* PEM CAs instead of the system's, or NULL / "" */
	const char *capath;	     /* a hashed folder of CAs, or NULL / "" */
	long timeout_ms;	     /* the whole transfer, connection included */
	size_t max_size;	     /* bytes of body; more is an error */
	const struct buf *post_body; /* POST this instead of GET, or NULL */
	const char *post_type;	     /* its Content-Type */
	bool want_headers;	     /* keep the response's header lines (ACME) */
};

struct https_get_res {
	long status;		/* HTTP status code */
	char content_type[128]; /* "" when the server sent none */
	struct buf body;	/* the body (buf_free it, also on failure) */
	bool pki_failed;	/* the server's certificate failed verification */
	struct buf headers;	/* with want_headers: the header lines (buf_free it) */
};

/* The value of the response's header name (the last one, trimmed),
 * copied to out (truncated to outlen); false when absent. */
bool https_header(const struct https_get_res *res, const char *name, char *out, size_t outlen);

/* curl's resolve entry for host:port ("host:port:a,[b]") from tern's
 * resolver (dns_lookup_host), appended to entry; false (why) when the
 * host has no address. */
bool https_resolve_entry(const char *host, int port, struct buf *entry, struct buf *why);

/* True when a response came (any status: check res->status); false
 * with why filled on a transport, TLS, time or size failure. */
bool https_get(const struct https_get_req *req, struct https_get_res *res, struct buf *why);

#endif
