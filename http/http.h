/*
 * http.h - the parts of http(8), the HTTPS front of the web access:
 *   main.c     set-up, privileges, the listener
 *   server.c   libmicrohttpd driven from tern's event loop; TLS relay
 *   route.c    the request handler: limits, routes, security headers
 *   files.c    static files of the webmail (openat2 beneath the folder)
 *   session.c  cookie sessions, CSRF, login and logout through auth
 *   channel.c  one channel per user to its jmap process (postlogin)
 *   misc.c     autoconfig, autodiscover, MTA-STS policy
 *   metrics.c  /metrics (Prometheus text format)
 *   metrics_log.c  the maillog lines /metrics counts (fuzzed)
 */
#ifndef TERN_HTTP_H
#define TERN_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/client.h"
#include "buf.h"
#include "event.h"

struct hchan;
struct hsession;

/* One HTTP request (libmicrohttpd's per-request closure). */
struct hreq {
	struct MHD_Connection *conn;
	char *method, *url;
	struct buf body;
	bool too_big;
	bool suspended;
	bool done; /* MHD finished with it: free when nothing refers to it */
	/* an answer produced while suspended */
	struct MHD_Response *resp;
	unsigned status;
	/* waiting for auth */
	struct auth_call *call;
	char *cred_user; /* Basic: who is logging in */
	bool login_api;	 /* POST /api/login */
	/* waiting for jmap */
	struct hchan *chan;
	unsigned long long id;
	struct hreq *qnext;
	/* EventSource */
	bool es;
	struct hchan *es_wait; /* Basic: the EventSource starts when resumed */
	struct buf es_out;
	struct hreq *es_next;
	long long start_us; /* when its first byte was handled (latency) */
};

struct http_state {
	struct event_loop *loop;
	struct MHD_Daemon *mhd;
	struct auth_client *auth;
	bool tls;
	int static_fd; /* the static folder, opened before the chroot */
	size_t max_body;
	long session_ms;
	unsigned long requests, logins, login_failures, sessions_opened;
};
extern struct http_state http;

/* server.c */
void http_server_start(void);
void http_server_accept(struct event_loop *loop, int fd, void *ctx);
/* libmicrohttpd must run: a resumed connection, a new one. */
void http_server_kick(void);
unsigned http_server_clients(void);

/* route.c */
enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size, void **ptr);
void http_completed(
    void *cls, struct MHD_Connection *conn, void **ptr, enum MHD_RequestTerminationCode why);
/* Adds the security headers every response carries. */
void http_headers(struct MHD_Response *r);
struct MHD_Response *http_text(const char *ctype, const void *p, size_t n);
/* A JSON {"error": why} or problem-details body. */
struct MHD_Response *http_error_json(const char *why);
enum MHD_Result http_queue(struct hreq *q, unsigned status, struct MHD_Response *r);
/* Finishes a suspended request with r. */
void http_finish(struct hreq *q, unsigned status, struct MHD_Response *r);
void http_req_release(struct hreq *q);
const char *http_client_addr(struct MHD_Connection *conn, char *buf, size_t len, int *port);

/* files.c */
enum MHD_Result http_static(struct hreq *q, const char *url);

/* session.c */
struct hsession;
enum MHD_Result http_api(struct hreq *q, const char *url);
/* GET /view/TOKEN: a body kept by POST /api/view, under its own CSP. */
enum MHD_Result http_view(struct hreq *q, const char *url);
/* Who the request is from: a live cookie session (csrf_ok: the token
 * came with a non-GET request) or NULL. */
struct hsession *http_session_of(struct hreq *q);
const char *http_session_user(const struct hsession *s);
bool http_session_csrf_ok(struct hreq *q, const struct hsession *s);
/* Basic/Bearer credentials: starts the check, or answers 401. */
enum MHD_Result http_auth_basic(struct hreq *q, const char *authz);
void http_session_expire(void);
/* Cookie sessions not yet expired. */
unsigned http_sessions_live(void);

/* channel.c */
/* Forwards q (already authenticated as user) to the user's jmap process;
 * token: auth's one-time token when the channel must be opened. */
enum MHD_Result http_jmap(struct hreq *q, const char *user, const char *token);
void http_channel_open(const char *user, const char *token, const char *rip, int rport);
void http_channel_forget(struct hreq *q);
enum MHD_Result http_eventsource(struct hreq *q);
void http_channel_release(const char *user);

/* misc.c: autoconfig, autodiscover; /metrics through metrics.c */
enum MHD_Result http_misc(struct hreq *q, const char *url, bool *handled);

/* metrics.c */
enum MHD_Result http_metrics(struct hreq *q);
/* A request ended: its latency into /metrics' histogram. */
void http_metrics_observe(const struct hreq *q);
/* Opens the queue folders and maillog_file for /metrics (before the
 * process confines itself). */
void http_metrics_open(void);

#endif
