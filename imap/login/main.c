/*
 * main.c - imap-login: IMAP before authentication (imap-login(8)), on the
 * login engine (login/login.h), answering as Dovecot's imap-login does.
 *
 * Not-authenticated state of RFC 9051/3501: CAPABILITY, STARTTLS, LOGIN,
 * AUTHENTICATE (with SASL-IR, RFC 4959), ID (RFC 2971), NOOP, LOGOUT.
 * LOGINDISABLED and no AUTH= while passwords may not be sent in the clear
 * (login_disable_plaintext_auth).  LOGIN becomes a SASL PLAIN exchange
 * with auth.  As with Dovecot, the tagged OK of a successful login is
 * written by the user's imap process, with its post-login capabilities:
 * the tag travels in the hand-off (login/postlogin.h).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "login/imap_cmd.h"
#include "login/login.h"
#include "util.h"

struct imap_login {
	char tag[IMAP_CMD_MAX_TAG + 1]; /* of the AUTHENTICATE under way */
	bool in_sasl;
	size_t literal_sent; /* the "+ OK" went out for the literal ending here */
	unsigned bad_cmds;
};

static bool imap_plaintext_ok(struct login_client *c)
{
	return !login_client_tls_required(c) && login_client_plaintext_ok(c);
}

static void imap_capability(struct login_client *c, struct buf *b)
{
	char **mechs = strv_split(login_mechanisms()[0] ? login_mechanisms() : "PLAIN", " ");

	buf_puts(b, "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+");
	if (login_client_tls_possible(c))
		buf_puts(b, " STARTTLS");
	if (!imap_plaintext_ok(c))
		buf_puts(b, " LOGINDISABLED");
	else
		for (size_t i = 0; mechs[i]; i++)
			buf_printf(b, " AUTH=%s", mechs[i]);
	strv_free(mechs);
}

static void imap_greet(struct login_client *c)
{
	struct buf b = BUF_INIT;

	imap_capability(c, &b);
	login_client_printf(c, "* OK [CAPABILITY %s] %s\r\n", buf_cstr(&b), login_greeting());
	buf_free(&b);
}

static bool arg_string(const struct imap_arg *a)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING) &&
	       memchr(a->s, 0, a->len) == NULL;
}

static void cmd_login(struct login_client *c, const struct imap_cmd *cmd)
{
	struct buf raw = BUF_INIT, b64 = BUF_INIT;

	if (!imap_plaintext_ok(c)) {
		login_client_printf(c,
		    "%s NO [PRIVACYREQUIRED] Plaintext authentication "
		    "disallowed on non-secure (SSL/TLS) connections.\r\n",
		    cmd->tag);
		return;
	}
	if (cmd->argc != 2 || !arg_string(&cmd->argv[0]) || !arg_string(&cmd->argv[1])) {
		login_client_printf(c, "%s BAD Invalid arguments.\r\n", cmd->tag);
		return;
	}
	buf_putc(&raw, 0);
	buf_append(&raw, cmd->argv[0].s, cmd->argv[0].len);
	buf_putc(&raw, 0);
	buf_append(&raw, cmd->argv[1].s, cmd->argv[1].len);
	sasl_base64_encode(raw.data, raw.len, &b64);
	login_auth_start(c, "PLAIN", buf_cstr(&b64), cmd->tag, cmd->argv[0].s);
	explicit_bzero(raw.data, raw.len);
	explicit_bzero(b64.data, b64.len);
	buf_free(&raw);
	buf_free(&b64);
}

static void cmd_authenticate(
    struct login_client *c, struct imap_login *s, const struct imap_cmd *cmd)
{
	const char *mech, *resp = NULL;

	if (cmd->argc < 1 || cmd->argc > 2 || cmd->argv[0].type != IMAP_ARG_ATOM ||
	    (cmd->argc == 2 && !arg_string(&cmd->argv[1]))) {
		login_client_printf(c, "%s BAD Invalid arguments.\r\n", cmd->tag);
		return;
	}
	mech = cmd->argv[0].s;
	if (!imap_plaintext_ok(c) && (str_case_eq(mech, "PLAIN") || str_case_eq(mech, "LOGIN") ||
					 login_client_tls_required(c))) {
		login_client_printf(c,
		    "%s NO [PRIVACYREQUIRED] Plaintext authentication "
		    "disallowed on non-secure (SSL/TLS) connections.\r\n",
		    cmd->tag);
		return;
	}
	if (cmd->argc == 2) /* SASL-IR: "=" is an empty response */
		resp = strcmp(cmd->argv[1].s, "=") == 0 ? "" : cmd->argv[1].s;
	snprintf(s->tag, sizeof(s->tag), "%s", cmd->tag);
	s->in_sasl = true;
	login_auth_start(c, mech, resp, cmd->tag, NULL);
}

static void cmd_starttls(struct login_client *c, const struct imap_cmd *cmd)
{
	if (login_client_tls(c))
		login_client_printf(c, "%s BAD TLS is already active.\r\n", cmd->tag);
	else if (!login_client_tls_possible(c))
		login_client_printf(c, "%s BAD TLS support isn't enabled.\r\n", cmd->tag);
	else {
		login_client_printf(c, "%s OK Begin TLS negotiation now.\r\n", cmd->tag);
		login_client_starttls(c);
	}
}

static void imap_command(struct login_client *c, struct imap_login *s, const struct imap_cmd *cmd)
{
	struct buf b = BUF_INIT;

	if (strcmp(cmd->name, "CAPABILITY") == 0) {
		imap_capability(c, &b);
		login_client_printf(c,
		    "* CAPABILITY %s\r\n%s OK Pre-login capabilities listed, post-login "
		    "capabilities have more.\r\n",
		    buf_cstr(&b), cmd->tag);
	} else if (strcmp(cmd->name, "STARTTLS") == 0) {
		cmd_starttls(c, cmd);
	} else if (strcmp(cmd->name, "LOGIN") == 0) {
		cmd_login(c, cmd);
	} else if (strcmp(cmd->name, "AUTHENTICATE") == 0) {
		cmd_authenticate(c, s, cmd);
	} else if (strcmp(cmd->name, "ID") == 0) {
		login_client_printf(
		    c, "* ID (\"name\" \"tern\")\r\n%s OK ID completed.\r\n", cmd->tag);
	} else if (strcmp(cmd->name, "NOOP") == 0) {
		login_client_printf(c, "%s OK NOOP completed.\r\n", cmd->tag);
	} else if (strcmp(cmd->name, "LOGOUT") == 0) {
		login_client_printf(
		    c, "* BYE Logging out\r\n%s OK Logout completed.\r\n", cmd->tag);
		login_client_close(c, "Logged out");
	} else if (++s->bad_cmds >= 10) {
		login_client_printf(c, "* BYE Too many invalid IMAP commands.\r\n");
		login_client_close(c, "Too many invalid commands");
	} else {
		login_client_printf(
		    c, "%s BAD Error in IMAP command received by server.\r\n", cmd->tag);
	}
	buf_free(&b);
}

static size_t imap_sasl_line(
    struct login_client *c, struct imap_login *s, const char *data, size_t len)
{
	const char *line;
	size_t n, used = 0;
	char *resp;

	if (imap_cmd_line(data, len, &line, &n, &used) != IMAP_CMD_OK)
		return 0;
	resp = xstrndup(line, n);
	if (strcmp(resp, "*") == 0) {
		s->in_sasl = false;
		login_auth_cancel(c);
		login_client_printf(c, "%s BAD Authentication aborted by client.\r\n", s->tag);
	} else
		login_auth_continue(c, resp);
	explicit_bzero(resp, n);
	free(resp);
	return used;
}

static size_t imap_input(struct login_client *c, const char *data, size_t len)
{
	static struct imap_cmd cmd;
	struct imap_login *s = login_client_state(c);
	size_t used = 0;
	enum imap_cmd_result r;

	if (s->in_sasl)
		return imap_sasl_line(c, s, data, len);
	r = imap_cmd_parse(data, len, &cmd, &used);
	if (r == IMAP_CMD_MORE) {
		/* A synchronizing literal: go ahead, once. */
		if (cmd.literal_at > s->literal_sent) {
			login_client_printf(c, "+ OK\r\n");
			s->literal_sent = cmd.literal_at;
		}
		return 0;
	}
	s->literal_sent = 0;
	if (r == IMAP_CMD_TOO_LONG) {
		login_client_printf(c, "* BYE Too long argument.\r\n");
		login_client_close(c, "Input buffer full");
		return 0;
	}
	if (r == IMAP_CMD_BAD) {
		login_client_printf(c, "%s BAD %s\r\n", cmd.tag[0] ? cmd.tag : "*", cmd.error);
		return used;
	}
	imap_command(c, s, &cmd);
	explicit_bzero(cmd.store, sizeof(cmd.store));
	return used;
}

static void imap_challenge(struct login_client *c, const char *challenge)
{
	login_client_printf(c, "+ %s\r\n", challenge);
}

static void imap_failed(struct login_client *c, enum auth_code code, const char *reason)
{
	struct imap_login *s = login_client_state(c);
	const char *tag = s->in_sasl ? s->tag : NULL;

	(void)reason;
	s->in_sasl = false;
	if (tag == NULL)
		tag = login_client_auth_tag(c);
	switch (code) {
	case AUTH_CODE_TEMPFAIL:
	case AUTH_CODE_REFUSED:
		login_client_printf(
		    c, "%s NO [UNAVAILABLE] Temporary authentication failure.\r\n", tag);
		break;
	case AUTH_CODE_MECHANISM:
		login_client_printf(c, "%s NO Unsupported authentication mechanism.\r\n", tag);
		break;
	case AUTH_CODE_MALFORMED:
		login_client_printf(c, "%s BAD Invalid base64 data in continued response\r\n", tag);
		break;
	default:
		login_client_printf(
		    c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag);
	}
}

static void imap_bye(struct login_client *c, enum login_bye why)
{
	static const char *const text[] = {
	    [LOGIN_BYE_TIMEOUT] = "* BYE Disconnected for inactivity.\r\n",
	    [LOGIN_BYE_LIMIT] = "* BYE [UNAVAILABLE] Too many connections, try again later.\r\n",
	    [LOGIN_BYE_TOO_LONG] = "* BYE Too long argument.\r\n",
	    [LOGIN_BYE_FAILURES] = "* BYE Too many failed logins.\r\n",
	    [LOGIN_BYE_SHUTDOWN] = "* BYE Server shutting down.\r\n",
	    [LOGIN_BYE_TLS_FAILED] = "",
	};

	login_client_printf(c, "%s", text[why]);
}

static const struct login_proto imap_login_proto = {
    .name = "imap",
    .max_input = IMAP_LOGIN_MAX_INPUT,
    .state_size = sizeof(struct imap_login),
    .greet = imap_greet,
    .input = imap_input,
    .auth_challenge = imap_challenge,
    .auth_failed = imap_failed,
    .bye = imap_bye,
};

int main(int argc, char **argv)
{
	return login_main(argc, argv, &imap_login_proto);
}
