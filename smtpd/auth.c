/*
 * auth.c - SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN.
 *
 * Users and their crypt(3) hashes (yescrypt, sha512-crypt, anything
 * libxcrypt knows) live in smtpd_sasl_password_maps, a table written by
 * "tern passwd".  AUTH is offered only when smtpd_sasl_auth_enable is set
 * and, unless smtpd_tls_auth_only = no, only inside TLS: PLAIN and LOGIN
 * send the password itself.
 *
 * A failed attempt is answered 535 5.7.8 only after a delay that grows
 * with each failure of the session (smtpd_error_sleep_time times the
 * number of failures, at most ten times that): the session is paused by a
 * timer, never by sleeping, so other clients are not held up.  An unknown
 * user costs the same hashing work as a wrong password, so response times
 * do not tell which user names exist.
 *
 * Not here: base64 and PLAIN parsing (lib/auth/sasl.c), what an
 * authenticated client may do (restrictions.c).
 */
#include "auth.h"

#include <crypt.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "log.h"
#include "auth/sasl.h"
#include "smtpd.h"
#include "table.h"
#include "util.h"

#define AUTH_MAX_DELAY_FACTOR 10

enum sasl_step {
	SASL_PLAIN_RESPONSE, /* waiting for the PLAIN message */
	SASL_LOGIN_USER,     /* waiting for the user name */
	SASL_LOGIN_PASS,     /* waiting for the password */
};

struct sasl_exchange {
	const char *method;
	enum sasl_step step;
	char *user; /* LOGIN: the name given first */
};

static struct {
	bool loaded;
	char **specs;
	struct table **maps;
	size_t n;
	char dummy[CRYPT_OUTPUT_SIZE]; /* a valid hash for unknown users */
} auth_db;

bool auth_offered(const struct smtpd_session *s)
{
	if (!config_bool("smtpd_sasl_auth_enable") || s->sasl_user)
		return false;
	return s->tls_phase == SMTPD_TLS_ACTIVE || !config_bool("smtpd_tls_auth_only");
}

static void auth_load(void)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;

	if (auth_db.loaded)
		return;
	auth_db.loaded = true;
	auth_db.specs = config_list("smtpd_sasl_password_maps");
	auth_db.n = strv_len(auth_db.specs);
	auth_db.maps = xcalloc(auth_db.n + 1, sizeof(*auth_db.maps));
	cd = xcalloc(1, sizeof(*cd));
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) != NULL &&
	    crypt_r("tern-dummy-password", setting, cd) != NULL)
		strlcpy(auth_db.dummy, cd->output, sizeof(auth_db.dummy));
	free(cd);
}

/* The user's hash (a new string), NULL when unknown; *tempfail on errors. */
static char *auth_lookup(const char *user, bool *tempfail)
{
	struct buf err = BUF_INIT;
	char *key = xstrdup(user);
	char *found = NULL;

	str_lower(key);
	auth_load();
	for (size_t i = 0; i < auth_db.n && found == NULL; i++) {
		const char *v;
		bool error = false;

		if (auth_db.maps[i] == NULL) {
			buf_reset(&err);
			auth_db.maps[i] = table_open(auth_db.specs[i], 0, &err);
			if (auth_db.maps[i] == NULL) {
				log_warn("smtpd_sasl_password_maps: %s", buf_cstr(&err));
				*tempfail = true;
				continue;
			}
		}
		if ((v = table_lookup(auth_db.maps[i], key, &error)) != NULL)
			found = xstrdup(v);
		if (error)
			*tempfail = true;
	}
	buf_free(&err);
	free(key);
	return found;
}

/* Constant-time comparison of the computed hash with the stored one. */
static bool auth_check_hash(const char *pass, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *out = crypt_r(pass, hash, cd);
	bool ok = out && out[0] != '*' && strlen(out) == strlen(hash) &&
		  CRYPTO_memcmp(out, hash, strlen(hash)) == 0;

	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* 1: good; 0: wrong user or password; -1: could not tell (tables). */
static int auth_verify(const char *user, const char *pass)
{
	bool tempfail = false;
	char *hash = auth_lookup(user, &tempfail);
	int r;

	if (hash == NULL) {
		if (auth_db.dummy[0])
			(void)auth_check_hash(pass, auth_db.dummy);
		return tempfail ? -1 : 0;
	}
	r = auth_check_hash(pass, str_trim(hash)) ? 1 : 0;
	free(hash);
	return r;
}

static void auth_end(struct smtpd_session *s)
{
	if (s->sasl == NULL)
		return;
	if (s->sasl->user)
		explicit_bzero(s->sasl->user, strlen(s->sasl->user));
	free(s->sasl->user);
	free(s->sasl);
	s->sasl = NULL;
}

void auth_reset(struct smtpd_session *s)
{
	auth_end(s);
	free(s->sasl_user);
	s->sasl_user = NULL;
	s->sasl_method = NULL;
}

static void auth_fail(struct smtpd_session *s, const char *method, const char *why)
{
	long base = config_time("smtpd_error_sleep_time") * 1000;
	unsigned factor;

	s->sasl_failures++;
	factor =
	    s->sasl_failures < AUTH_MAX_DELAY_FACTOR ? s->sasl_failures : AUTH_MAX_DELAY_FACTOR;
	log_warn("%s[%s]: SASL %s authentication failed: %s", s->name, s->addr, method, why);
	smtpd_reply(s, "535 5.7.8 Error: authentication failed: %s", why);
	session_pause(s, base * (long)factor);
	smtpd_auth_done(s, false);
}

/* Checks the credentials and answers; the exchange is over either way. */
static void auth_finish(
    struct smtpd_session *s, const char *method, const char *user, const char *pass)
{
	int r;

	auth_end(s);
	if (*user == 0) {
		auth_fail(s, method, "authentication failure");
		return;
	}
	r = auth_verify(user, pass);
	if (r < 0) {
		log_warn("%s[%s]: SASL %s: password table unavailable", s->name, s->addr, method);
		smtpd_reply(s, "454 4.7.0 Temporary authentication failure");
		smtpd_auth_done(s, false);
		return;
	}
	if (r == 0) {
		auth_fail(s, method, "authentication failure");
		return;
	}
	s->sasl_user = xstrdup(user);
	s->sasl_method = method;
	log_info("%s[%s]: sasl_method=%s, sasl_username=%s", s->name, s->addr, method, user);
	smtpd_reply(s, "235 2.7.0 Authentication successful");
	smtpd_auth_done(s, true);
}

static void auth_plain(struct smtpd_session *s, const struct buf *msg)
{
	struct sasl_plain p;
	char *user, *pass, *authz;

	if (sasl_plain_parse(msg->data ? msg->data : "", msg->len, &p) < 0) {
		auth_end(s);
		auth_fail(s, "PLAIN", "malformed PLAIN message");
		return;
	}
	user = xmemdup(p.authcid, p.authcid_len);
	pass = xmemdup(p.passwd, p.passwd_len);
	authz = xmemdup(p.authzid, p.authzid_len);
	/* Acting as someone else (an authzid) is not supported. */
	if (*authz && strcmp(authz, user) != 0) {
		auth_end(s);
		auth_fail(s, "PLAIN", "authorization identity not allowed");
	} else {
		auth_finish(s, "PLAIN", user, pass);
	}
	explicit_bzero(pass, p.passwd_len);
	free(user);
	free(pass);
	free(authz);
}

/* One client response of the exchange, already base64-decoded. */
static void auth_step(struct smtpd_session *s, const struct buf *msg)
{
	char *pass;

	switch (s->sasl->step) {
	case SASL_PLAIN_RESPONSE: auth_plain(s, msg); return;
	case SASL_LOGIN_USER:
		if (msg->len == 0 || memchr(msg->data, 0, msg->len)) {
			auth_end(s);
			auth_fail(s, "LOGIN", "malformed user name");
			return;
		}
		s->sasl->user = xmemdup(msg->data ? msg->data : "", msg->len);
		s->sasl->step = SASL_LOGIN_PASS;
		smtpd_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
		return;
	case SASL_LOGIN_PASS:
		pass = xmemdup(msg->data ? msg->data : "", msg->len);
		if (strlen(pass) != msg->len || msg->len == 0) {
			auth_end(s);
			auth_fail(s, "LOGIN", "authentication failure");
		} else {
			char *user = xstrdup(s->sasl->user);

			auth_finish(s, "LOGIN", user, pass);
			free(user);
		}
		explicit_bzero(pass, msg->len);
		free(pass);
		return;
	}
}

/* A response line: "*" cancels (RFC 4954 4), else base64. */
void auth_input(struct smtpd_session *s, const char *line, size_t len)
{
	struct buf msg = BUF_INIT;
	const char *method = s->sasl->method;

	if (len == 1 && line[0] == '*') {
		auth_end(s);
		smtpd_reply(s, "501 5.7.0 Authentication aborted");
		smtpd_auth_done(s, false);
	} else if (sasl_base64_decode(line, len, &msg) < 0) {
		auth_end(s);
		smtpd_reply(s, "501 5.5.2 Error: invalid base64 data in %s response", method);
		smtpd_auth_done(s, false);
	} else {
		auth_step(s, &msg);
	}
	if (msg.data)
		explicit_bzero(msg.data, msg.len);
	buf_free(&msg);
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

/* "AUTH mechanism [initial-response]"; true when an exchange started. */
bool auth_command(struct smtpd_session *s, const char *arg, size_t len)
{
	const char *sp = memchr(arg, ' ', len);
	size_t mlen = sp ? (size_t)(sp - arg) : len;
	char *mech = xmemdup(arg, mlen);
	const char *method = NULL;

	if (!auth_allowed(s)) {
		free(mech);
		return false;
	}
	if (str_case_eq(mech, "PLAIN"))
		method = "PLAIN";
	else if (str_case_eq(mech, "LOGIN"))
		method = "LOGIN";
	free(mech);
	if (method == NULL) {
		smtpd_reply(s, "504 5.5.4 Unrecognized authentication type");
		return false;
	}
	s->sasl = xcalloc(1, sizeof(*s->sasl));
	s->sasl->method = method;
	s->sasl->step = method[0] == 'P' ? SASL_PLAIN_RESPONSE : SASL_LOGIN_USER;
	while (sp && sp < arg + len && *sp == ' ')
		sp++;
	if (sp && sp < arg + len) {
		/* An initial response; "=" stands for an empty one. */
		size_t rlen = (size_t)(arg + len - sp);

		if (rlen == 1 && *sp == '=')
			auth_input(s, "", 0);
		else
			auth_input(s, sp, rlen);
	} else {
		smtpd_reply(s, "334 %s", method[0] == 'P' ? "" : "VXNlcm5hbWU6"); /* "Username:" */
	}
	return true;
}
