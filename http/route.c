/*
 * route.c - every request's way through http: its limits, its route and
 * the security headers of every answer.
 *
 *   /api/...               login, logout, session, view (session.c)
 *   /view/TOKEN            a message body the client sanitised (session.c)
 *   /.well-known/jmap, /jmap/...   authenticated, to the user's jmap
 *   /mail/config-v1.1.xml, /.well-known/autoconfig/..., /autodiscover/...,
 *   /metrics               metrics.c
 *   /.well-known/acme-challenge/TOKEN   acme.c
 *
 * The plain HTTP listener (http_tls_security_level = none) answers
 * clients other than loopback ones only at /.well-known/acme-challenge/
 * (403 elsewhere): it is the one on port 80 that the ACME CA asks.
 *   anything else under /  a static file of the webmail (files.c)
 *
 * A body larger than http_max_request_size is refused with 413 as soon
 * as its Content-Length (or its running size) says so; the header block
 * is bounded by libmicrohttpd (http_max_header_size: 431).  A request
 * that waits (for auth or jmap) is suspended, and resumed with its answer.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "sock.h"
#include "util.h"

#define CSP                                                                                        \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "    \
	"frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

void http_headers(struct MHD_Response *r)
{
	if (MHD_get_response_header(r, "Content-Security-Policy") == NULL)
		MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (MHD_get_response_header(r, "X-Frame-Options") == NULL)
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (http.tls)
		MHD_add_response_header(
		    r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

struct MHD_Response *http_text(const char *ctype, const void *p, size_t n)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);

	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	return r;
}

struct MHD_Response *http_error_json(const char *why)
{
	struct buf b = BUF_INIT;
	struct MHD_Response *r;

	buf_puts(&b, "{\"error\": \"");
	for (const char *p = why; *p; p++)
		if (*p == '"' || *p == '\\')
			buf_printf(&b, "\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			buf_putc(&b, *p);
	buf_puts(&b, "\"}");
	r = http_text("application/json", b.data, b.len);
	buf_free(&b);
	return r;
}

enum MHD_Result http_queue(struct hreq *q, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result rc;

	http_headers(r);
	rc = MHD_queue_response(q->conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

void http_finish(struct hreq *q, unsigned status, struct MHD_Response *r)
{
	if (q->resp)
		MHD_destroy_response(q->resp);
	q->resp = r;
	q->status = status;
	if (q->suspended) {
		q->suspended = false;
		MHD_resume_connection(q->conn);
		http_server_kick();
	}
}

const char *http_client_addr(struct MHD_Connection *conn, char *buf, size_t len, int *port)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int p = 0;

	snprintf(buf, len, "unknown");
	if (ci && ci->client_addr)
		sock_ntop(ci->client_addr, buf, len, &p);
	if (port)
		*port = p;
	return buf;
}

void http_req_release(struct hreq *q)
{
	if (!q->done || q->chan || q->call || q->es)
		return;
	if (q->resp)
		MHD_destroy_response(q->resp);
	buf_free(&q->body);
	buf_free(&q->es_out);
	free(q->method);
	free(q->url);
	free(q->cred_user);
	free(q);
}

void http_completed(
    void *cls, struct MHD_Connection *conn, void **ptr, enum MHD_RequestTerminationCode why)
{
	struct hreq *q = *ptr;

	(void)cls;
	(void)conn;
	(void)why;
	if (q == NULL)
		return;
	*ptr = NULL;
	if (!q->es && why == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		http_metrics_observe(q);
	q->done = true;
	q->conn = NULL;
	if (q->call) {
		auth_call_abort(q->call);
		q->call = NULL;
	}
	http_channel_forget(q);
	http_req_release(q);
}

static bool is_jmap_path(const char *url)
{
	return strcmp(url, "/.well-known/jmap") == 0 || strncmp(url, "/jmap/", 6) == 0;
}

/* /.well-known/jmap and /jmap/...: a cookie session (CSRF checked), or
 * Basic/Bearer credentials. */
static enum MHD_Result route_jmap(struct hreq *q)
{
	const char *authz =
	    MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct hsession *s;

	if (authz)
		return http_auth_basic(q, authz);
	if ((s = http_session_of(q)) == NULL) {
		struct MHD_Response *r = http_error_json("authentication required");

		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"tern\"");
		return http_queue(q, 401, r);
	}
	if (!http_session_csrf_ok(q, s))
		return http_queue(q, 403, http_error_json("missing or wrong X-CSRF-Token"));
	return http_jmap(q, http_session_user(s), NULL);
}

static enum MHD_Result route(struct hreq *q, const char *url)
{
	bool handled = false;
	enum MHD_Result rc;
	char addr[64];

	if (!http.tls && !http_acme_path(url) &&
	    !sock_addr_in_networks(
		http_client_addr(q->conn, addr, sizeof(addr), NULL), HTTP_LOOPBACK)) {
		log_warn("plain HTTP request from %s refused (loopback only, but for ACME)", addr);
		return http_queue(
		    q, 403, http_text("text/plain; charset=utf-8", "Forbidden\n", 10));
	}
	if (strncmp(url, "/api/", 5) == 0)
		return http_api(q, url);
	if (is_jmap_path(url))
		return route_jmap(q);
	if (strncmp(url, "/view/", 6) == 0)
		return http_view(q, url);
	rc = http_misc(q, url, &handled);
	if (handled)
		return rc;
	if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
		struct MHD_Response *r = http_error_json("method not allowed");

		MHD_add_response_header(r, "Allow", "GET, HEAD");
		return http_queue(q, 405, r);
	}
	return http_static(q, url);
}

enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size, void **ptr)
{
	struct hreq *q = *ptr;
	const char *clen;
	long long n;

	(void)cls;
	(void)version;
	if (q == NULL) {
		q = xcalloc(1, sizeof(*q));
		q->conn = conn;
		q->method = xstrdup(method);
		q->url = xstrdup(url);
		q->start_us = mono_usec();
		*ptr = q;
		http.requests++;
		clen = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen && (n = strtoll(clen, NULL, 10)) > 0 && (size_t)n > http.max_body) {
			/* answered before the body is read: libmicrohttpd closes
			 * the connection afterwards */
			struct MHD_Response *r = http_error_json("request too large");

			q->too_big = true;
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
			return http_queue(q, 413, r);
		}
		return MHD_YES;
	}
	if (*size) {
		if (!q->too_big && q->body.len + *size > http.max_body) {
			q->too_big = true;
			buf_free(&q->body);
		}
		if (!q->too_big)
			buf_append(&q->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (q->resp) { /* the answer to a suspended request */
		struct MHD_Response *r = q->resp;

		q->resp = NULL;
		return http_queue(q, q->status, r);
	}
	if (q->es_wait)
		return http_eventsource(q);
	if (q->suspended || q->es)
		return MHD_YES;
	if (q->too_big) {
		struct MHD_Response *r = http_error_json("request too large");

		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		return http_queue(q, 413, r);
	}
	return route(q, q->url);
}
