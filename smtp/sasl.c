/*
 * sasl.c - AUTH to a smarthost: PLAIN (RFC 4616) and LOGIN.
 *
 * The password is looked up in smtp_sasl_password_maps under the next hop
 * as written ("[smtp.example]:587"), then the server's host name, then
 * "[host]:port" of the connection; the value is "user:password".  No
 * entry: no AUTH (Postfix does the same).  Both mechanisms send the
 * password in the clear, so without TLS they are refused unless
 * smtp_sasl_security_options lacks "noplaintext"; with TLS,
 * smtp_sasl_tls_security_options applies (default allows them).  A
 * failure is temporary: the server may let us in later, and a bounce for
 * our own mistake would be wrong.
 *
 * The lmtp transport reads the same parameters under lmtp_ names
 * (lmtp_sasl_auth_enable, lmtp_sasl_password_maps, ..., smtp_pname), as
 * Postfix's lmtp(8); its next hop as written is "inet:host:port" or
 * "unix:/path".
 */
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "maps.h"
#include "smtp.h"
#include "util.h"

void smtp_base64(const void *data, size_t len, struct buf *out)
{
	buf_reserve(out, 4 * ((len + 2) / 3) + 1);
	buf_commit(out, (size_t)EVP_EncodeBlock((unsigned char *)buf_tail(out), data, (int)len));
}

/* The "user:password" for this session, or NULL; *error on table error. */
static char *sasl_lookup(struct smtp_session *s, const char *nexthop, bool *error)
{
	struct maps *m = maps_open(smtp_pname("sasl_password_maps"));
	const char *v = NULL;
	char hostport[400];
	enum maps_status st;

	snprintf(hostport, sizeof(hostport), "[%s]:%d", s->host, s->port);
	st = maps_find(m, nexthop, 0, &v);
	if (st == MAPS_NOTFOUND)
		st = maps_find(m, s->host, 0, &v);
	if (st == MAPS_NOTFOUND)
		st = maps_find(m, hostport, 0, &v);
	*error = st == MAPS_TEMPFAIL;
	return st == MAPS_FOUND ? xstrdup(v) : NULL;
}

static bool sasl_mech_allowed(const char *mech)
{
	const char *filter = config_str(smtp_pname("sasl_mechanism_filter"));
	char **v;
	bool ok = false;

	if (*filter == 0)
		return true;
	v = strv_split(filter, " ,\t");
	for (char **p = v; *p; p++)
		ok |= str_case_eq(*p, mech);
	strv_free(v);
	return ok;
}

static int sasl_step(struct smtp_session *s, struct smtp_reply *r, const char *line)
{
	long t = smtp_step_timeout("helo");

	buf_printf(&s->io.out, "%s\r\n", line);
	if (smtp_io_flush(&s->io, t) < 0)
		return -1;
	return smtp_io_reply(&s->io, r, t);
}

/* Runs one mechanism; the final reply is left in r.  -1 on I/O error. */
static int sasl_run(
    struct smtp_session *s, bool plain, const char *user, const char *pass, struct smtp_reply *r)
{
	struct buf b = BUF_INIT, enc = BUF_INIT;
	int rc;

	if (plain) {
		buf_putc(&b, 0);
		buf_puts(&b, user);
		buf_putc(&b, 0);
		buf_puts(&b, pass);
		buf_puts(&enc, "AUTH PLAIN ");
		smtp_base64(b.data, b.len, &enc);
		rc = sasl_step(s, r, buf_cstr(&enc));
	} else {
		rc = sasl_step(s, r, "AUTH LOGIN");
		if (rc == 0 && r->code == 334) {
			smtp_base64(user, strlen(user), &enc);
			rc = sasl_step(s, r, buf_cstr(&enc));
		}
		if (rc == 0 && r->code == 334) {
			buf_reset(&enc);
			smtp_base64(pass, strlen(pass), &enc);
			rc = sasl_step(s, r, buf_cstr(&enc));
		}
	}
	/* Wipe the secret from our buffers. */
	explicit_bzero(b.data, b.len);
	explicit_bzero(enc.data, enc.len);
	buf_free(&b);
	buf_free(&enc);
	return rc;
}

static int sasl_fail(struct smtp_session *s, struct smtp_fail *f, const char *why)
{
	char relay[400];

	smtp_session_relay(s, relay, sizeof(relay));
	f->permanent = false;
	strlcpy(f->dsn, "4.7.0", sizeof(f->dsn));
	{
		char *text = xasprintf(
		    "SASL authentication failed; cannot authenticate to server %s: %s", relay, why);

		strlcpy(f->reason, text, sizeof(f->reason));
		free(text);
	}
	return -1;
}

int smtp_sasl_auth(struct smtp_session *s, const char *nexthop, struct smtp_fail *f)
{
	bool error = false, plain, login, plaintext_ok;
	char *cred, *colon;
	struct smtp_reply r;
	struct buf line = BUF_INIT;
	int rc;

	if (!config_bool(smtp_pname("sasl_auth_enable")))
		return 0;
	cred = sasl_lookup(s, nexthop, &error);
	if (error) {
		char *why = xasprintf("cannot read %s", smtp_pname("sasl_password_maps"));

		rc = sasl_fail(s, f, why);
		free(why);
		return rc;
	}
	if (cred == NULL)
		return 0;
	if ((colon = strchr(cred, ':')) == NULL) {
		free(cred);
		return sasl_fail(s, f, "password table entry is not user:password");
	}
	*colon = 0;
	plaintext_ok = strstr(config_str(smtp_pname(
				  s->tls ? "sasl_tls_security_options" : "sasl_security_options")),
			   "noplaintext") == NULL;
	plain = s->ext.auth_plain && plaintext_ok && sasl_mech_allowed("plain");
	login = s->ext.auth_login && plaintext_ok && sasl_mech_allowed("login");
	if (!plain && !login) {
		char *why = !s->ext.auth_plain && !s->ext.auth_login
				? xstrdup("no mechanism available")
			    : !s->tls ? xstrdup("no mechanism is allowed without TLS")
				      : xasprintf("no mechanism is allowed by %s",
					    smtp_pname(plaintext_ok ? "sasl_mechanism_filter"
								    : "sasl_tls_security_options"));

		free(cred);
		rc = sasl_fail(s, f, why);
		free(why);
		return rc;
	}
	smtp_reply_init(&r);
	rc = sasl_run(s, plain, cred, colon + 1, &r);
	explicit_bzero(colon + 1, strlen(colon + 1));
	free(cred);
	if (rc < 0)
		rc = sasl_fail(s, f, s->io.err);
	else if (r.code != 235) {
		smtp_reply_line(&r, &line);
		rc = sasl_fail(s, f, buf_cstr(&line));
	}
	smtp_reply_free(&r);
	buf_free(&line);
	return rc;
}
