/*
 * auth.c - SMTP AUTH (RFC 4954) through the auth service.
 *
 * smtpd checks no password itself: the mechanism, the initial response
 * and every further client response go to auth (smtpd_sasl_path, the
 * trusted socket private/auth) exactly as the client sent them, base64
 * and all, and auth's challenges come back as base64 to relay after
 * "334 ".  One connection per smtpd process carries the exchanges of all
 * its sessions (auth/client.h); a session waiting for auth holds its
 * input back (auth_wait) while every other session of the process goes
 * on, so a slow password hash in auth delays nobody else.
 *
 * Failures are delayed by auth (penalties shared with IMAP, POP3, the
 * web), so smtpd answers as soon as auth does; auth also writes the one
 * log line of a failure (fail2ban, auth(8)).  The mechanisms offered in
 * EHLO are those auth announced (auth_mechanisms).  AUTH is offered only
 * when smtpd_sasl_auth_enable is set and, unless smtpd_tls_auth_only =
 * no, only inside TLS: PLAIN and LOGIN send the password itself.
 *
 * Replies: 235 success; 334 challenge; 535 5.7.8 wrong credentials or a
 * disabled account; 501 5.5.2 malformed response; 504 5.5.4 unknown
 * mechanism; 454 4.7.0 when auth cannot answer or refuses the client
 * after too many failures (a temporary condition).
 *
 * Not here: what an authenticated client may do (restrictions.c).
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/client.h"
#include "config.h"
#include "log.h"
#include "smtpd.h"
#include "sock.h"
#include "util.h"

#define SMTPD_DEFAULT_MECHS "PLAIN LOGIN" /* until auth has told us */

struct sasl_exchange {
	struct auth_call *call;
	char *method; /* as the client named it, upper case */
};

static struct auth_client *smtpd_auth;

void smtpd_auth_init(struct event_loop *loop)
{
	if (!config_bool("smtpd_sasl_auth_enable") || smtpd_auth)
		return;
	smtpd_auth = auth_client_new(loop, config_str("smtpd_sasl_path"), "smtp",
	    config_time("auth_request_timeout") * 1000);
}

bool auth_offered(const struct smtpd_session *s)
{
	if (!config_bool("smtpd_sasl_auth_enable") || s->sasl_user)
		return false;
	return s->tls_phase == SMTPD_TLS_ACTIVE || !config_bool("smtpd_tls_auth_only");
}

char *auth_ehlo_keyword(void)
{
	const char *m = smtpd_auth ? auth_client_mechanisms(smtpd_auth) : NULL;

	return xasprintf("AUTH %s", m && *m ? m : SMTPD_DEFAULT_MECHS);
}

static void auth_end(struct smtpd_session *s)
{
	if (s->sasl == NULL)
		return;
	if (s->sasl->call)
		auth_call_abort(s->sasl->call);
	free(s->sasl->method);
	free(s->sasl);
	s->sasl = NULL;
	s->auth_wait = false;
}

void auth_reset(struct smtpd_session *s)
{
	auth_end(s);
	free(s->sasl_user);
	s->sasl_user = NULL;
	s->sasl_method = NULL;
}

/* The method name kept for the Received: header and logs (a known one). */
static const char *auth_method_name(const char *m)
{
	static const char *const known[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256", NULL};

	for (int i = 0; known[i]; i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "unknown";
}

static void auth_failed(struct smtpd_session *s, const struct auth_reply *r)
{
	const char *why = r->reason ? r->reason : "authentication failure";

	switch (r->code) {
	case AUTH_CODE_MALFORMED: smtpd_reply(s, "501 5.5.2 Error: %s", why); break;
	case AUTH_CODE_MECHANISM:
		smtpd_reply(s, "504 5.5.4 Unrecognized authentication type");
		break;
	case AUTH_CODE_REFUSED:
	case AUTH_CODE_TEMPFAIL:
		smtpd_reply(s, "454 4.7.0 Temporary authentication failure: %s", why);
		break;
	default: smtpd_reply(s, "535 5.7.8 Error: authentication failed: %s", why); break;
	}
	if (log_verbose())
		log_debug("%s[%s]: SASL %s: %s (%s)", s->name, s->addr, s->sasl->method,
		    auth_code_name(r->code), why);
}

static void auth_succeeded(struct smtpd_session *s, const struct auth_reply *r)
{
	s->sasl_user = xstrdup(r->user ? r->user : "");
	s->sasl_method = auth_method_name(s->sasl->method);
	log_info("%s[%s]: sasl_method=%s, sasl_username=%s", s->name, s->addr, s->sasl_method,
	    s->sasl_user);
	smtpd_reply(s, "235 2.7.0 Authentication successful");
}

/* auth answered one step of the exchange (always from the event loop). */
static void auth_reply_cb(struct auth_call *call, const struct auth_reply *r, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)call;
	s->auth_wait = false;
	s->last_io = event_now(s->loop);
	if (r->status == AUTH_CONTINUE) {
		smtpd_reply(s, "334 %s", r->challenge);
	} else {
		s->sasl->call = NULL; /* the client library frees it */
		if (r->status == AUTH_OK)
			auth_succeeded(s, r);
		else
			auth_failed(s, r);
		auth_end(s);
		smtpd_auth_done(s, r->status == AUTH_OK);
	}
	session_run(s);
}

/* A response line: "*" cancels (RFC 4954 4), else base64 for auth. */
void auth_input(struct smtpd_session *s, const char *line, size_t len)
{
	char *resp;

	if (len == 1 && line[0] == '*') {
		auth_end(s);
		smtpd_reply(s, "501 5.7.0 Authentication aborted");
		smtpd_auth_done(s, false);
		return;
	}
	if (len > AUTH_MAX_RESP || memchr(line, 0, len)) {
		auth_end(s);
		smtpd_reply(s, "501 5.5.2 Error: invalid %s response", "AUTH");
		smtpd_auth_done(s, false);
		return;
	}
	resp = xmemdup(line, len);
	s->auth_wait = true;
	auth_call_continue(s->sasl->call, resp);
	explicit_bzero(resp, len);
	free(resp);
}

/* Checks whether AUTH may run now; replies and returns false if not. */
static bool auth_allowed(struct smtpd_session *s)
{
	if (!config_bool("smtpd_sasl_auth_enable")) {
		smtpd_reply(s, "503 5.5.1 Error: authentication not enabled");
		return false;
	}
	if (s->tls_phase != SMTPD_TLS_ACTIVE && config_bool("smtpd_tls_auth_only")) {
		smtpd_reply(
		    s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return false;
	}
	if (s->helo == NULL || !s->esmtp) {
		smtpd_reply(s, "503 5.5.1 Error: send EHLO first");
		return false;
	}
	if (s->sasl_user) {
		smtpd_reply(s, "503 5.5.1 Error: already authenticated");
		return false;
	}
	if (s->sender) {
		smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return false;
	}
	return true;
}

/* Fills the request's description of this session. */
static void auth_describe(struct smtpd_session *s, struct auth_request *r, char *laddr,
    size_t lsize, char *session, size_t ssize)
{
	static unsigned long serial;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	int lport = 0;

	*laddr = 0;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &slen) == 0)
		sock_ntop((struct sockaddr *)&ss, laddr, lsize, &lport);
	snprintf(session, ssize, "%lX.%lX", (unsigned long)getpid(), ++serial);
	r->service = "smtp";
	r->client_addr = s->addr;
	r->client_port = s->port;
	r->local_addr = *laddr ? laddr : NULL;
	r->local_port = lport;
	r->tls = s->tls_phase == SMTPD_TLS_ACTIVE;
	r->session = session;
}

/* "AUTH mechanism [initial-response]"; true when an exchange started. */
bool auth_command(struct smtpd_session *s, const char *arg, size_t len)
{
	const char *sp = memchr(arg, ' ', len);
	size_t mlen = sp ? (size_t)(sp - arg) : len;
	struct auth_request r;
	char laddr[64], session[64];
	char *resp = NULL;

	if (!auth_allowed(s))
		return false;
	if (mlen == 0 || mlen > 64) {
		smtpd_reply(s, "501 5.5.4 Syntax: AUTH mechanism");
		return false;
	}
	memset(&r, 0, sizeof(r));
	r.op = AUTH_OP_AUTH;
	s->sasl = xcalloc(1, sizeof(*s->sasl));
	s->sasl->method = xmemdup(arg, mlen);
	for (char *p = s->sasl->method; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r.mech = s->sasl->method;
	while (sp && sp < arg + len && *sp == ' ')
		sp++;
	if (sp && sp < arg + len) {
		/* An initial response; "=" stands for an empty one. */
		size_t rlen = (size_t)(arg + len - sp);

		resp = rlen == 1 && *sp == '=' ? xstrdup("") : xmemdup(sp, rlen);
	}
	r.resp = resp;
	auth_describe(s, &r, laddr, sizeof(laddr), session, sizeof(session));
	smtpd_auth_init(s->loop);
	s->auth_wait = true;
	s->sasl->call = auth_client_call(smtpd_auth, &r, auth_reply_cb, s);
	if (resp)
		explicit_bzero(resp, strlen(resp));
	free(resp);
	return true;
}
