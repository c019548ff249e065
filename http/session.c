/*
 * session.c - who a request is from: cookie sessions of the webmail
 * (WEB-CONTRACT: /api/login, /api/logout, /api/session, CSRF) and
 * Basic/Bearer credentials of JMAP clients.
 *
 * Passwords are checked by auth (op verify, service "jmap"), so failure
 * delays and refusals are the ones every protocol shares; the request
 * waits (suspended) for the answer.  A session is two random values of
 * 256 bits: its id (the HttpOnly, SameSite=Strict cookie tern_session,
 * Secure on TLS) and its CSRF token, which every cookie-authenticated
 * request but GET and HEAD must repeat in X-CSRF-Token.  Sessions live
 * in this process only (a restart logs everyone out), end at logout
 * (a replayed cookie gets 401) or after http_session_timeout unused.
 * "Authorization: Bearer <session id>" names a session without the
 * cookie, for scripts; Basic credentials are checked on every request
 * (auth caches successes briefly).
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define COOKIE "tern_session"
#define MAX_CRED 1024

/* A message body the client sanitised, served back from its own URL
 * (/view/TOKEN) under its own CSP: see view_csp. */
struct hview {
	char token[65];
	bool images; /* the user allowed remote images */
	struct buf html;
};

#define VIEWS 3 /* per session: the reader's frame and a reload or two */

struct hsession {
	char id[65], csrf[65];
	char *user;
	long long used;
	struct hview views[VIEWS];
	unsigned next_view;
	struct hsession *next;
};

static struct hsession *sessions;

static void random_hex(char out[65])
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		log_fatal("no random bytes");
	hex_encode(raw, sizeof(raw), out);
}

static void session_free(struct hsession *s)
{
	http_channel_release(s->user);
	for (unsigned i = 0; i < VIEWS; i++)
		buf_free(&s->views[i].html);
	OPENSSL_cleanse(s->id, sizeof(s->id));
	free(s->user);
	free(s);
}

void http_session_expire(void)
{
	long long now = event_now(http.loop);
	struct hsession **pp = &sessions, *s;

	while ((s = *pp) != NULL)
		if (now - s->used > http.session_ms) {
			*pp = s->next;
			session_free(s);
		} else {
			pp = &s->next;
		}
}

unsigned http_sessions_live(void)
{
	long long now = event_now(http.loop);
	unsigned n = 0;

	for (const struct hsession *s = sessions; s; s = s->next)
		n += now - s->used <= http.session_ms;
	return n;
}

static struct hsession *session_find(const char *id)
{
	if (id == NULL || strlen(id) != 64)
		return NULL;
	for (struct hsession *s = sessions; s; s = s->next)
		if (CRYPTO_memcmp(s->id, id, 64) == 0) {
			s->used = event_now(http.loop);
			return s;
		}
	return NULL;
}

struct hsession *http_session_of(struct hreq *q)
{
	return session_find(MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, COOKIE));
}

const char *http_session_user(const struct hsession *s)
{
	return s->user;
}

bool http_session_csrf_ok(struct hreq *q, const struct hsession *s)
{
	const char *t;

	if (strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0)
		return true;
	t = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	return t && strlen(t) == 64 && CRYPTO_memcmp(t, s->csrf, 64) == 0;
}

static struct MHD_Response *session_json(const struct hsession *s)
{
	json_t *o = json_pack("{s:s, s:s}", "csrf", s->csrf, "username", s->user);
	char *text = json_dumps(o, JSON_COMPACT);
	struct MHD_Response *r = http_text("application/json", text, strlen(text));

	free(text);
	json_decref(o);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

static enum auth_code auth_start(struct hreq *q, const char *user, const char *pass);

static void login_reply(struct auth_call *call, const struct auth_reply *r, void *ctx)
{
	struct hreq *q = ctx;
	char rip[64], cookie[256];
	struct hsession *s;
	struct MHD_Response *resp;
	int rport;

	(void)call;
	q->call = NULL;
	if (q->done) {
		http_req_release(q);
		return;
	}
	http_client_addr(q->conn, rip, sizeof(rip), &rport);
	if (r->status != AUTH_OK || r->user == NULL || r->token == NULL) {
		bool temp = r->status == AUTH_OK || auth_code_temporary(r->code);

		http.login_failures++;
		http_finish(q, temp ? 503 : 401,
		    http_error_json(temp ? "try again later" : "authentication failed"));
		return;
	}
	http.logins++;
	if (!q->login_api) { /* Basic: on to jmap, still suspended */
		http_jmap(q, r->user, r->token);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	random_hex(s->id);
	random_hex(s->csrf);
	s->user = xstrdup(r->user);
	s->used = event_now(http.loop);
	s->next = sessions;
	sessions = s;
	http.sessions_opened++;
	http_channel_open(s->user, r->token, rip, rport);
	log_info("http: Login: user=<%s>, method=PLAIN, rip=%s%s", s->user, rip,
	    http.tls ? ", TLS" : "");
	resp = session_json(s);
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s", s->id,
	    http.tls ? "; Secure" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	http_finish(q, 200, resp);
}

/* Asks auth; the request waits (suspended) for login_reply. */
static enum auth_code auth_start(struct hreq *q, const char *user, const char *pass)
{
	struct auth_request req = {.op = AUTH_OP_VERIFY};
	char rip[64], lip[64] = "";
	int rport;

	http_client_addr(q->conn, rip, sizeof(rip), &rport);
	req.service = "jmap";
	req.mech = "PLAIN";
	req.user = user;
	req.secret = pass;
	req.client_addr = rip;
	req.client_port = rport;
	req.local_addr = lip;
	req.tls = http.tls;
	req.session = "";
	q->call = auth_client_call(http.auth, &req, login_reply, q);
	q->suspended = true;
	MHD_suspend_connection(q->conn);
	return AUTH_CODE_NONE;
}

static enum MHD_Result api_login(struct hreq *q)
{
	json_t *o;
	json_error_t err;
	const char *u = NULL, *p = NULL;

	if (strcmp(q->method, "POST") != 0)
		return http_queue(q, 405, http_error_json("POST only"));
	o = json_loadb(q->body.data ? q->body.data : "", q->body.len, 0, &err);
	if (o == NULL || json_unpack(o, "{s:s, s:s}", "username", &u, "password", &p) < 0 ||
	    *u == 0 || *p == 0 || strlen(u) > MAX_CRED || strlen(p) > MAX_CRED) {
		json_decref(o);
		return http_queue(q, 400, http_error_json("expected {\"username\", \"password\"}"));
	}
	q->login_api = true;
	auth_start(q, u, p);
	json_decref(o);
	return MHD_YES;
}

/* The session a request to /api/... or /view/... names, when its method
 * is post's (POST, with the CSRF token) or else GET's (GET or HEAD);
 * NULL with the refusal (405, 401, 403) queued in *rc. */
static struct hsession *api_session(struct hreq *q, bool post, enum MHD_Result *rc)
{
	struct hsession *s;
	bool ok = post ? strcmp(q->method, "POST") == 0
		       : strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;

	if (!ok)
		*rc = http_queue(q, 405, http_error_json(post ? "POST only" : "GET only"));
	else if ((s = http_session_of(q)) == NULL)
		*rc = http_queue(q, 401, http_error_json("no session"));
	else if (post && !http_session_csrf_ok(q, s))
		*rc = http_queue(q, 403, http_error_json("missing or wrong X-CSRF-Token"));
	else
		return s;
	return NULL;
}

/* POST /api/view[?images=1]: keeps the body (HTML the client sanitised)
 * for GET /view/TOKEN; answers {"url": "/view/TOKEN"}. */
static enum MHD_Result api_view(struct hreq *q)
{
	const char *images = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "images");
	struct hsession *s;
	struct hview *v;
	char out[128];
	enum MHD_Result rc;

	if ((s = api_session(q, true, &rc)) == NULL)
		return rc;
	v = &s->views[s->next_view++ % VIEWS];
	random_hex(v->token);
	v->images = images && strcmp(images, "1") == 0;
	buf_free(&v->html);
	buf_append(&v->html, q->body.data ? q->body.data : "", q->body.len);
	snprintf(out, sizeof(out), "{\"url\": \"/view/%s\"}", v->token);
	{
		struct MHD_Response *r = http_text("application/json", out, strlen(out));

		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		return http_queue(q, 200, r);
	}
}

/* The CSP of a message body: nothing runs (no script source, and the
 * sandbox without allow-scripts makes it an opaque origin that could not
 * use the session even if something did), nothing submits, styles of the
 * mail apply, and images come from data: URLs only, or from anywhere
 * once the user asked for them.  Only the webmail's own page may frame
 * it. */
#define VIEW_CSP                                                                                   \
	"default-src 'none'; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "         \
	"form-action 'none'; frame-ancestors 'self'; "                                             \
	"sandbox allow-popups allow-popups-to-escape-sandbox; img-src data:"

enum MHD_Result http_view(struct hreq *q, const char *url)
{
	const char *token = url + strlen("/view/");
	struct hsession *s;
	struct MHD_Response *r;
	enum MHD_Result rc;

	if ((s = api_session(q, false, &rc)) == NULL)
		return rc;
	if (strlen(token) != 64)
		return http_queue(q, 404, http_error_json("no such view"));
	for (unsigned i = 0; i < VIEWS; i++) {
		struct hview *v = &s->views[i];

		if (v->token[0] == 0 || CRYPTO_memcmp(v->token, token, 64) != 0)
			continue;
		r = http_text(
		    "text/html; charset=utf-8", v->html.data ? v->html.data : "", v->html.len);
		MHD_add_response_header(
		    r, "Content-Security-Policy", v->images ? VIEW_CSP " http: https:" : VIEW_CSP);
		MHD_add_response_header(r, "X-Frame-Options", "SAMEORIGIN");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		return http_queue(q, 200, r);
	}
	return http_queue(q, 404, http_error_json("no such view"));
}

enum MHD_Result http_api(struct hreq *q, const char *url)
{
	struct hsession *s, **pp;
	enum MHD_Result rc;

	if (strcmp(url, "/api/login") == 0)
		return api_login(q);
	if (strcmp(url, "/api/view") == 0)
		return api_view(q);
	if (strcmp(url, "/api/session") == 0) {
		if ((s = api_session(q, false, &rc)) == NULL)
			return rc;
		return http_queue(q, 200, session_json(s));
	}
	if (strcmp(url, "/api/logout") == 0) {
		if ((s = api_session(q, true, &rc)) == NULL)
			return rc;
		for (pp = &sessions; *pp != s; pp = &(*pp)->next)
			;
		*pp = s->next;
		log_info("http: Logout: user=<%s>", s->user);
		session_free(s);
		{
			struct MHD_Response *r = http_text(NULL, "", 0);
			char cookie[128];

			snprintf(cookie, sizeof(cookie),
			    COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
			    http.tls ? "; Secure" : "");
			MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
			return http_queue(q, 204, r);
		}
	}
	return http_queue(q, 404, http_error_json("no such API"));
}

enum MHD_Result http_auth_basic(struct hreq *q, const char *authz)
{
	struct buf dec = BUF_INIT;
	struct hsession *s;
	char *colon;

	if (str_prefix_case(authz, "Bearer ")) {
		if ((s = session_find(authz + 7)) == NULL)
			return http_queue(q, 401, http_error_json("unknown bearer token"));
		return http_jmap(q, s->user, NULL);
	}
	if (!str_prefix_case(authz, "Basic ") || strlen(authz + 6) > 2 * MAX_CRED ||
	    sasl_base64_decode(authz + 6, strlen(authz + 6), &dec) < 0 ||
	    memchr(dec.data, 0, dec.len) != NULL || (colon = strchr(buf_cstr(&dec), ':')) == NULL ||
	    colon == dec.data || colon[1] == 0) {
		buf_free(&dec);
		return http_queue(q, 401, http_error_json("malformed Authorization"));
	}
	*colon = 0;
	q->cred_user = xstrdup(dec.data);
	auth_start(q, dec.data, colon + 1);
	OPENSSL_cleanse(dec.data, dec.len);
	buf_free(&dec);
	return MHD_YES;
}
