/*
 * main.c - managesieve-login: ManageSieve before authentication
 * (managesieve(8)), on the login engine (login/login.h), as Pigeonhole's
 * managesieve-login answers it.
 *
 * The non-authenticated state of RFC 5804: the capability greeting,
 * CAPABILITY, STARTTLS (the capabilities again once TLS is up, 2.2),
 * AUTHENTICATE with an optional initial response (2.1; each SASL
 * response a string, "*" cancels), NOOP, LOGOUT.  After a success the
 * managesieve process of that user writes OK "Logged in.".  The engine
 * keeps every connection (keep_connection), so that UNAUTHENTICATE
 * (2.14.1) can bring the client back here.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "login/login.h"
#include "managesieve/cmd.h"
#include "util.h"

/* A login command never needs more: SASL responses are short. */
#define MSV_LOGIN_LITERAL 8192

struct msv_login {
	bool in_sasl; /* the next line is a SASL response */
	unsigned bad_cmds;
};

/* Mechanisms that may be offered on this connection. */
static bool msv_mech_ok(struct login_client *c, const char *mech)
{
	if (login_client_tls_required(c))
		return false;
	if (login_client_plaintext_ok(c))
		return true;
	return !(str_case_eq(mech, "PLAIN") || str_case_eq(mech, "LOGIN"));
}

static void msv_caps(struct login_client *c)
{
	char **mechs = strv_split(login_mechanisms()[0] ? login_mechanisms() : "PLAIN", " ");
	struct buf sasl = BUF_INIT, out = BUF_INIT;

	for (size_t i = 0; mechs[i]; i++)
		if (msv_mech_ok(c, mechs[i]))
			buf_printf(&sasl, "%s%s", sasl.len ? " " : "", mechs[i]);
	msv_capability(&out, buf_cstr(&sasl), login_client_tls_possible(c));
	login_client_write(c, out.data, out.len);
	buf_free(&out);
	buf_free(&sasl);
	strv_free(mechs);
}

static void msv_greet(struct login_client *c)
{
	struct buf g = BUF_INIT;

	msv_caps(c);
	buf_puts(&g, "OK ");
	msv_put_string(&g, login_greeting(), strlen(login_greeting()));
	buf_puts(&g, "\r\n");
	login_client_write(c, g.data, g.len);
	buf_free(&g);
}

static void msv_tls_started(struct login_client *c)
{
	msv_caps(c);
	login_client_printf(c, "OK \"TLS negotiation successful.\"\r\n");
}

static void msv_authenticate(struct login_client *c, struct msv_login *s, const struct msv_cmd *cmd)
{
	const char *mech = cmd->argv[0].s;

	if (login_client_tls_required(c)) {
		login_client_printf(c, "NO (ENCRYPT-NEEDED) \"TLS is required (STARTTLS).\"\r\n");
		return;
	}
	if (!msv_mech_ok(c, mech)) {
		login_client_printf(c, "NO (ENCRYPT-NEEDED) \"Plaintext authentication disallowed "
				       "on non-secure (SSL/TLS) connections.\"\r\n");
		return;
	}
	s->in_sasl = true;
	login_auth_start(c, mech, cmd->argc > 1 ? cmd->argv[1].s : NULL, NULL, NULL);
}

static void msv_command(struct login_client *c, struct msv_login *s, const struct msv_cmd *cmd)
{
	switch (cmd->id) {
	case MSV_CMD_CAPABILITY:
		msv_caps(c);
		login_client_printf(c, "OK \"Capability completed.\"\r\n");
		return;
	case MSV_CMD_STARTTLS:
		if (login_client_tls(c))
			login_client_printf(c, "NO \"TLS is already active.\"\r\n");
		else if (!login_client_tls_possible(c))
			login_client_printf(c, "NO \"TLS support isn't enabled.\"\r\n");
		else {
			login_client_printf(c, "OK \"Begin TLS negotiation now.\"\r\n");
			login_client_starttls(c);
		}
		return;
	case MSV_CMD_LOGOUT:
		login_client_printf(c, "OK \"Logout completed.\"\r\n");
		login_client_close(c, "Logged out");
		return;
	case MSV_CMD_NOOP:
		if (cmd->argc) {
			struct buf b = BUF_INIT;

			buf_puts(&b, "OK (TAG ");
			msv_put_string(&b, cmd->argv[0].s, cmd->argv[0].len);
			buf_puts(&b, ") \"Done\"\r\n");
			login_client_write(c, b.data, b.len);
			buf_free(&b);
		} else
			login_client_printf(c, "OK \"NOOP Completed\"\r\n");
		return;
	case MSV_CMD_AUTHENTICATE: msv_authenticate(c, s, cmd); return;
	case MSV_CMD_HAVESPACE:
	case MSV_CMD_PUTSCRIPT:
	case MSV_CMD_LISTSCRIPTS:
	case MSV_CMD_SETACTIVE:
	case MSV_CMD_GETSCRIPT:
	case MSV_CMD_DELETESCRIPT:
	case MSV_CMD_RENAMESCRIPT:
	case MSV_CMD_CHECKSCRIPT:
	case MSV_CMD_UNAUTHENTICATE: login_client_printf(c, "NO \"Not logged in.\"\r\n"); return;
	case MSV_CMD_BAD:
	case MSV_CMD_UNKNOWN:
	default: break;
	}
	if (++s->bad_cmds >= 10) {
		login_client_printf(c, "BYE \"Too many invalid commands.\"\r\n");
		login_client_close(c, "Too many invalid commands");
		return;
	}
	if (cmd->id == MSV_CMD_BAD)
		login_client_printf(c, "NO \"Error in MANAGESIEVE command: %s.\"\r\n", cmd->error);
	else
		login_client_printf(c, "NO \"Unknown command.\"\r\n");
}

static size_t msv_input(struct login_client *c, const char *data, size_t len)
{
	struct msv_login *s = login_client_state(c);
	struct msv_cmd cmd;
	size_t used = 0;
	enum msv_parse r;

	if (s->in_sasl)
		r = msv_response_parse(data, len, MSV_LOGIN_LITERAL, &cmd, &used);
	else
		r = msv_cmd_parse(data, len, MSV_LOGIN_LITERAL, &cmd, &used);
	if (r == MSV_PARSE_MORE)
		return 0;
	if (r == MSV_PARSE_TOO_LONG || r == MSV_PARSE_TOO_BIG) {
		msv_cmd_free(&cmd);
		login_client_printf(c, "BYE \"Command too long.\"\r\n");
		login_client_close(c, "Command too long");
		return len;
	}
	if (s->in_sasl) {
		s->in_sasl = false;
		if (cmd.id == MSV_CMD_BAD || strcmp(cmd.argv[0].s, "*") == 0) {
			login_auth_cancel(c);
			login_client_printf(c,
			    cmd.id == MSV_CMD_BAD ? "NO \"Invalid SASL response.\"\r\n"
						  : "NO \"Authentication aborted by client.\"\r\n");
		} else {
			s->in_sasl = true;
			login_auth_continue(c, cmd.argv[0].s);
			explicit_bzero(cmd.argv[0].s, cmd.argv[0].len);
		}
	} else {
		msv_command(c, s, &cmd);
		if (cmd.id == MSV_CMD_AUTHENTICATE && cmd.argc > 1)
			explicit_bzero(cmd.argv[1].s, cmd.argv[1].len);
	}
	msv_cmd_free(&cmd);
	return used;
}

static void msv_challenge(struct login_client *c, const char *challenge)
{
	struct buf b = BUF_INIT;

	msv_put_string(&b, challenge, strlen(challenge));
	buf_puts(&b, "\r\n");
	login_client_write(c, b.data, b.len);
	buf_free(&b);
}

static void msv_failed(struct login_client *c, enum auth_code code, const char *reason)
{
	struct msv_login *s = login_client_state(c);

	(void)reason;
	s->in_sasl = false;
	switch (code) {
	case AUTH_CODE_TEMPFAIL:
	case AUTH_CODE_REFUSED:
		login_client_printf(c, "NO (TRYLATER) \"Temporary authentication failure.\"\r\n");
		break;
	case AUTH_CODE_MECHANISM:
		login_client_printf(c, "NO \"Unsupported authentication mechanism.\"\r\n");
		break;
	case AUTH_CODE_MALFORMED:
		login_client_printf(c, "NO \"Invalid base64 data in continued response\"\r\n");
		break;
	default: login_client_printf(c, "NO \"Authentication failed.\"\r\n");
	}
}

static void msv_bye(struct login_client *c, enum login_bye why)
{
	static const char *const text[] = {
	    [LOGIN_BYE_TIMEOUT] = "BYE \"Disconnected for inactivity.\"\r\n",
	    [LOGIN_BYE_LIMIT] = "BYE (TRYLATER) \"Too many connections, try again later.\"\r\n",
	    [LOGIN_BYE_TOO_LONG] = "BYE \"Command too long.\"\r\n",
	    [LOGIN_BYE_FAILURES] = "BYE \"Too many failed logins.\"\r\n",
	    [LOGIN_BYE_SHUTDOWN] = "BYE \"Server shutting down.\"\r\n",
	    [LOGIN_BYE_TLS_FAILED] = "",
	};

	login_client_printf(c, "%s", text[why]);
}

/* Back from the managesieve process (UNAUTHENTICATE): a fresh start. */
static void msv_unauthenticated(struct login_client *c)
{
	struct msv_login *s = login_client_state(c);

	s->in_sasl = false;
	s->bad_cmds = 0;
}

static const struct login_proto msv_login_proto = {
    .name = "sieve", /* Dovecot's service name: auth, app passwords */
    .program = "managesieve-login",
    .max_input = MSV_MAX_LINE + MSV_LOGIN_LITERAL + 64,
    .state_size = sizeof(struct msv_login),
    .greet = msv_greet,
    .input = msv_input,
    .auth_challenge = msv_challenge,
    .auth_failed = msv_failed,
    .bye = msv_bye,
    .tls_started = msv_tls_started,
    .keep_connection = true,
    .unauthenticated = msv_unauthenticated,
};

int main(int argc, char **argv)
{
	return login_main(argc, argv, &msv_login_proto);
}
