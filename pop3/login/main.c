/*
 * main.c - pop3-login: POP3 before authentication (pop3(8)), on the
 * login engine (login/login.h), as Dovecot's pop3-login answers it.
 *
 * The AUTHORIZATION state of RFC 1939: CAPA (RFC 2449), STLS (RFC 2595),
 * USER and PASS, AUTH (RFC 5034, initial response included), UTF8
 * (RFC 6856, remembered for the pop3 process), QUIT.  USER/PASS become a
 * SASL PLAIN exchange with auth, so every login goes one way.  After a
 * success the pop3 process of that user writes "+OK Logged in." (or
 * "-ERR [IN-USE]" when another session has the mailbox).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "config.h"
#include "login/login.h"
#include "mime/charset.h"
#include "pop3/cmd.h"
#include "util.h"

#define POP3_PLAINTEXT_MSG                                                                         \
	"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"

struct pop3_login {
	char *user;   /* from USER */
	bool in_sasl; /* the next line is a SASL response */
	unsigned bad_cmds;
};

/* Mechanisms that may be offered on this connection. */
static bool pop3_mech_ok(struct login_client *c, const char *mech)
{
	if (login_client_tls_required(c))
		return false;
	if (login_client_plaintext_ok(c))
		return true;
	return !(str_case_eq(mech, "PLAIN") || str_case_eq(mech, "LOGIN"));
}

static void pop3_greet(struct login_client *c)
{
	login_client_printf(c, "+OK %s\r\n", login_greeting());
}

static void pop3_capa(struct login_client *c)
{
	char **mechs = strv_split(login_mechanisms()[0] ? login_mechanisms() : "PLAIN", " ");
	struct buf sasl = BUF_INIT;

	login_client_printf(c, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
			       "AUTH-RESP-CODE\r\nUTF8 USER\r\n");
	if (login_client_tls_possible(c))
		login_client_printf(c, "STLS\r\n");
	if (login_client_plaintext_ok(c) && !login_client_tls_required(c))
		login_client_printf(c, "USER\r\n");
	for (size_t i = 0; mechs[i]; i++)
		if (pop3_mech_ok(c, mechs[i]))
			buf_printf(&sasl, " %s", mechs[i]);
	if (sasl.len)
		login_client_printf(c, "SASL%s\r\n", buf_cstr(&sasl));
	/* EXPIRE and LOGIN-DELAY as configured (pop3(8)). */
	if (*config_str("pop3_expire"))
		login_client_printf(c, "EXPIRE %s\r\n", config_str("pop3_expire"));
	if (*config_str("pop3_login_delay"))
		login_client_printf(c, "LOGIN-DELAY %s\r\n", config_str("pop3_login_delay"));
	login_client_printf(c, ".\r\n");
	buf_free(&sasl);
	strv_free(mechs);
}

static void pop3_stls(struct login_client *c)
{
	if (login_client_tls(c))
		login_client_printf(c, "-ERR TLS is already active.\r\n");
	else if (!login_client_tls_possible(c))
		login_client_printf(c, "-ERR TLS support isn't enabled.\r\n");
	else {
		login_client_printf(c, "+OK Begin TLS negotiation now.\r\n");
		login_client_starttls(c);
	}
}

/* An argument of USER or PASS after UTF8 must be UTF-8 (RFC 6856 2,
 * "UTF8 USER"); before it, bytes go to auth as sent (as Dovecot does).
 * Else the -ERR sent and false. */
static bool pop3_arg_ok(struct login_client *c, const char *arg)
{
	if (!login_client_utf8(c) || mime_utf8_valid(arg, strlen(arg)))
		return true;
	login_client_printf(c, "-ERR [AUTH] Invalid UTF-8.\r\n");
	return false;
}

static void pop3_pass(struct login_client *c, struct pop3_login *s, const struct pop3_cmd *cmd)
{
	struct buf raw = BUF_INIT, b64 = BUF_INIT;

	if (s->user == NULL) {
		login_client_printf(c, "-ERR No username given.\r\n");
		return;
	}
	if (cmd->argc == 0) {
		login_client_printf(c, "-ERR No password given.\r\n");
		return;
	}
	if (!pop3_arg_ok(c, cmd->argv[0]))
		return;
	buf_putc(&raw, 0);
	buf_puts(&raw, s->user);
	buf_putc(&raw, 0);
	buf_puts(&raw, cmd->argv[0]);
	sasl_base64_encode(raw.data, raw.len, &b64);
	login_auth_start(c, "PLAIN", buf_cstr(&b64), NULL, s->user);
	explicit_bzero(raw.data, raw.len);
	explicit_bzero(b64.data, b64.len);
	buf_free(&raw);
	buf_free(&b64);
	free(s->user);
	s->user = NULL;
}

static void pop3_auth(struct login_client *c, struct pop3_login *s, const struct pop3_cmd *cmd)
{
	const char *resp = NULL;

	if (cmd->argc == 0) { /* RFC 5034 4: the list of mechanisms */
		char **mechs = strv_split(login_mechanisms(), " ");

		login_client_printf(c, "+OK\r\n");
		for (size_t i = 0; mechs[i]; i++)
			if (pop3_mech_ok(c, mechs[i]))
				login_client_printf(c, "%s\r\n", mechs[i]);
		login_client_printf(c, ".\r\n");
		strv_free(mechs);
		return;
	}
	if (!pop3_mech_ok(c, cmd->argv[0])) {
		login_client_printf(c, login_client_tls_required(c)
					   ? "-ERR [AUTH] TLS is required (STLS).\r\n"
					   : POP3_PLAINTEXT_MSG);
		return;
	}
	if (cmd->argc > 1) /* "=": an empty initial response */
		resp = strcmp(cmd->argv[1], "=") == 0 ? "" : cmd->argv[1];
	s->in_sasl = true;
	login_auth_start(c, cmd->argv[0], resp, NULL, NULL);
}

static void pop3_command(struct login_client *c, struct pop3_login *s, const struct pop3_cmd *cmd)
{
	switch (cmd->id) {
	case POP3_CMD_CAPA: pop3_capa(c); break;
	case POP3_CMD_STLS: pop3_stls(c); break;
	case POP3_CMD_QUIT:
		login_client_printf(c, "+OK Logging out\r\n");
		login_client_close(c, "Logged out");
		break;
	case POP3_CMD_UTF8:
		login_client_set_utf8(c);
		login_client_printf(c, "+OK UTF8 enabled\r\n");
		break;
	case POP3_CMD_USER:
		if (login_client_tls_required(c) || !login_client_plaintext_ok(c)) {
			login_client_printf(c, login_client_tls_required(c)
						   ? "-ERR [AUTH] TLS is required (STLS).\r\n"
						   : POP3_PLAINTEXT_MSG);
		} else if (cmd->argc != 1 || cmd->extra_args) {
			login_client_printf(c, "-ERR USER takes one argument.\r\n");
		} else if (pop3_arg_ok(c, cmd->argv[0])) {
			free(s->user);
			s->user = xstrdup(cmd->argv[0]);
			login_client_printf(c, "+OK\r\n");
		}
		break;
	case POP3_CMD_PASS: pop3_pass(c, s, cmd); break;
	case POP3_CMD_AUTH: pop3_auth(c, s, cmd); break;
	case POP3_CMD_BAD:
	default:
		if (++s->bad_cmds >= 10) {
			login_client_printf(c, "-ERR Too many invalid commands.\r\n");
			login_client_close(c, "Too many invalid commands");
			return;
		}
		login_client_printf(c, "-ERR Unknown command.\r\n");
	}
}

static size_t pop3_input(struct login_client *c, const char *data, size_t len)
{
	struct pop3_login *s = login_client_state(c);
	struct pop3_cmd cmd;
	size_t used = 0;

	if (s->in_sasl) {
		const char *line;
		size_t n;
		char *resp;

		if (pop3_line(data, len, &line, &n, &used) != POP3_PARSE_OK)
			return 0;
		resp = xstrndup(line, n);
		if (strcmp(resp, "*") == 0) {
			s->in_sasl = false;
			login_auth_cancel(c);
			login_client_printf(c, "-ERR Authentication aborted by client.\r\n");
		} else
			login_auth_continue(c, resp);
		free(resp);
		return used;
	}
	if (pop3_cmd_parse(data, len, &cmd, &used) != POP3_PARSE_OK)
		return 0;
	pop3_command(c, s, &cmd);
	explicit_bzero(cmd.line, sizeof(cmd.line));
	return used;
}

static void pop3_challenge(struct login_client *c, const char *challenge)
{
	login_client_printf(c, "+ %s\r\n", challenge);
}

static void pop3_failed(struct login_client *c, enum auth_code code, const char *reason)
{
	struct pop3_login *s = login_client_state(c);

	(void)reason;
	s->in_sasl = false;
	switch (code) {
	case AUTH_CODE_TEMPFAIL:
	case AUTH_CODE_REFUSED:
		login_client_printf(c, "-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
		break;
	case AUTH_CODE_MECHANISM:
		login_client_printf(c, "-ERR Unsupported authentication mechanism.\r\n");
		break;
	case AUTH_CODE_MALFORMED:
		login_client_printf(c, "-ERR Invalid base64 data in continued response\r\n");
		break;
	default: login_client_printf(c, "-ERR [AUTH] Authentication failed.\r\n");
	}
}

static void pop3_bye(struct login_client *c, enum login_bye why)
{
	static const char *const text[] = {
	    [LOGIN_BYE_TIMEOUT] = "-ERR Disconnected for inactivity.\r\n",
	    [LOGIN_BYE_LIMIT] = "-ERR [SYS/TEMP] Too many connections, try again later.\r\n",
	    [LOGIN_BYE_TOO_LONG] = "-ERR Input line too long.\r\n",
	    [LOGIN_BYE_FAILURES] = "-ERR Too many failed logins.\r\n",
	    [LOGIN_BYE_SHUTDOWN] = "-ERR Server shutting down.\r\n",
	    [LOGIN_BYE_TLS_FAILED] = "",
	};

	login_client_printf(c, "%s", text[why]);
}

static void pop3_destroy(struct login_client *c)
{
	struct pop3_login *s = login_client_state(c);

	free(s->user);
}

static const struct login_proto pop3_login_proto = {
    .name = "pop3",
    .max_input = POP3_MAX_LINE,
    .state_size = sizeof(struct pop3_login),
    .greet = pop3_greet,
    .input = pop3_input,
    .auth_challenge = pop3_challenge,
    .auth_failed = pop3_failed,
    .bye = pop3_bye,
    .destroy = pop3_destroy,
};

int main(int argc, char **argv)
{
	return login_main(argc, argv, &pop3_login_proto);
}
