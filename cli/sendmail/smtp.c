/*
 * smtp.c - sendmail -bs: an SMTP session on standard input and output.
 *
 * For programs that speak SMTP to a local sendmail rather than to a port.
 * The daemons may be down, so this does not relay to smtpd: each message
 * goes to postdrop like any other local submission, and "250" is sent only
 * after postdrop exited 0 (the maildrop file is durable).  The submitter
 * is the calling user, as for every local submission.
 *
 * Supported: HELO, EHLO (PIPELINING, 8BITMIME, DSN, SMTPUTF8,
 * ENHANCEDSTATUSCODES), MAIL FROM with SIZE, BODY, RET, ENVID, SMTPUTF8,
 * RCPT TO with NOTIFY and ORCPT, DATA, RSET, NOOP, VRFY (252), QUIT.  Not:
 * AUTH, STARTTLS, BDAT (nothing to protect or speed up on a pipe).
 */
#include "sendmail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "address.h"
#include "config.h"
#include "maildrop.h"
#include "util.h"

#define SMTP_LINE 4096
#define SMTP_DATA_PIECE 65536

struct sm_session {
	struct sm_envelope env;
	bool have_mail;
	bool helo;
	char *ret, *envid;
};

static void smtp_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void smtp_reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\r\n", stdout);
	fflush(stdout);
}

static void smtp_reset(struct sm_session *s)
{
	sm_env_free(&s->env);
	free(s->ret);
	free(s->envid);
	s->ret = s->envid = NULL;
	s->have_mail = false;
}

/* RFC 3461 xtext ("+XX" escapes) to plain text; NULL when malformed. */
static char *smtp_xtext(const char *in)
{
	struct buf b = BUF_INIT;

	for (; *in; in++) {
		unsigned v;

		if (*in != '+') {
			buf_putc(&b, *in);
			continue;
		}
		if (sscanf(in + 1, "%2X", &v) != 1 || v < 33 || v > 126 || strlen(in) < 3) {
			buf_free(&b);
			return NULL;
		}
		buf_putc(&b, (int)v);
		in += 2;
	}
	return b.data ? b.data : xstrdup("");
}

/* Splits "NAME=VALUE" parameters; fn decides about each.  0 or -1. */
static int smtp_params(const char *rest, int (*fn)(struct sm_session *, const char *, const char *),
    struct sm_session *s)
{
	char **v = strv_split(rest, " ");
	int r = 0;

	for (size_t i = 0; v[i] && r == 0; i++) {
		char *eq = strchr(v[i], '=');

		if (eq)
			*eq++ = 0;
		r = fn(s, v[i], eq);
	}
	strv_free(v);
	return r;
}

static int smtp_mail_param(struct sm_session *s, const char *name, const char *value)
{
	if (strcasecmp(name, "SMTPUTF8") == 0 && value == NULL)
		return 0;
	if (value == NULL)
		return -1;
	if (strcasecmp(name, "SIZE") == 0 || strcasecmp(name, "BODY") == 0)
		return 0;
	if (strcasecmp(name, "RET") == 0 && s->ret == NULL &&
	    (strcasecmp(value, "FULL") == 0 || strcasecmp(value, "HDRS") == 0)) {
		s->ret = xstrdup(strcasecmp(value, "FULL") == 0 ? "FULL" : "HDRS");
		return 0;
	}
	if (strcasecmp(name, "ENVID") == 0 && s->envid == NULL) {
		s->envid = smtp_xtext(value);
		return s->envid && *s->envid && strlen(s->envid) <= MD_MAX_ENVID ? 0 : -1;
	}
	return -1;
}

static void smtp_mail(struct sm_session *s, const char *arg)
{
	char *addr;
	const char *rest, *err;

	if (s->have_mail) {
		smtp_reply("503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		smtp_reply("501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	arg += 5;
	arg += strspn(arg, " ");
	if (addr_parse_path(arg, strlen(arg), ADDR_ALLOW_NULL | ADDR_ALLOW_UTF8 | ADDR_ALLOW_LOCAL,
		&addr, &rest, &err) < 0) {
		smtp_reply("501 5.1.7 Bad sender address syntax: %s", err);
		return;
	}
	if (smtp_params(rest, smtp_mail_param, s) < 0) {
		free(addr);
		smtp_reset(s);
		smtp_reply("555 5.5.4 Unsupported option");
		return;
	}
	s->env.sender = addr;
	s->env.ret = s->ret;
	s->env.envid = s->envid;
	s->have_mail = true;
	smtp_reply("250 2.1.0 Ok");
}

static char *smtp_notify, *smtp_orcpt;

static int smtp_rcpt_param(struct sm_session *s, const char *name, const char *value)
{
	(void)s;
	if (value == NULL)
		return -1;
	if (strcasecmp(name, "NOTIFY") == 0 && smtp_notify == NULL) {
		smtp_notify = xstrdup(value);
		for (char *p = smtp_notify; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		return 0;
	}
	if (strcasecmp(name, "ORCPT") == 0 && smtp_orcpt == NULL) {
		smtp_orcpt = smtp_xtext(value);
		return smtp_orcpt && strlen(smtp_orcpt) <= MD_MAX_ADDR ? 0 : -1;
	}
	return -1;
}

static void smtp_rcpt(struct sm_session *s, const char *arg)
{
	char *addr;
	const char *rest, *err;
	size_t n;

	if (!s->have_mail) {
		smtp_reply("503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0) {
		smtp_reply("501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	arg += 3;
	arg += strspn(arg, " ");
	if (addr_parse_path(
		arg, strlen(arg), ADDR_ALLOW_UTF8 | ADDR_ALLOW_LOCAL, &addr, &rest, &err) < 0) {
		smtp_reply("501 5.1.3 Bad recipient address syntax: %s", err);
		return;
	}
	if (smtp_params(rest, smtp_rcpt_param, s) < 0 || s->env.nrcpt >= MD_MAX_RCPT) {
		smtp_reply(s->env.nrcpt >= MD_MAX_RCPT ? "452 4.5.3 Error: too many recipients"
						       : "555 5.5.4 Unsupported option");
		free(addr);
	} else {
		sm_env_add_rcpt(&s->env, addr);
		n = s->env.nrcpt;
		s->env.orcpts = xreallocarray(s->env.orcpts, n, sizeof(char *));
		s->env.notifies = xreallocarray(s->env.notifies, n, sizeof(char *));
		s->env.orcpts[n - 1] = smtp_orcpt;
		s->env.notifies[n - 1] = smtp_notify;
		smtp_orcpt = smtp_notify = NULL;
		free(addr);
		smtp_reply("250 2.1.5 Ok");
	}
	free(smtp_orcpt);
	free(smtp_notify);
	smtp_orcpt = smtp_notify = NULL;
}

/* Copies the DATA lines to postdrop, dot-unstuffed, CRLF made LF. */
static bool smtp_data_copy(struct sm_submit *sub)
{
	static char line[SMTP_DATA_PIECE];
	bool line_start = true;

	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strlen(line);
		char *p = line;
		bool whole = line_start && line[len - 1] == '\n';

		if (len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\r')
			p[--len - 1] = '\n';
		if (whole && len == 2 && p[0] == '.')
			return true;
		if (line_start && p[0] == '.') {
			p++;
			len--;
		}
		sm_submit_data(sub, p, len);
		line_start = line[strlen(line) - 1] == '\n';
	}
	return false; /* EOF inside DATA: the client gave up */
}

static void smtp_data(struct sm_session *s)
{
	struct sm_submit sub;
	int r;

	if (!s->have_mail || s->env.nrcpt == 0) {
		smtp_reply("503 5.5.1 Error: need RCPT command");
		return;
	}
	if (sm_submit_begin(&sub, &s->env) < 0) {
		smtp_reply("451 4.3.0 Error: queue file write error");
		return;
	}
	smtp_reply("354 End data with <CR><LF>.<CR><LF>");
	if (!smtp_data_copy(&sub)) {
		sm_submit_abort(&sub);
		exit(0);
	}
	r = sm_submit_end(&sub);
	if (r == 0)
		smtp_reply("250 2.0.0 Ok: queued");
	else if (r == EX_DATAERR)
		smtp_reply("552 5.3.4 Error: message rejected by postdrop");
	else
		smtp_reply("451 4.3.0 Error: queue file write error");
	smtp_reset(s);
}

/* One command; false on QUIT. */
static bool smtp_command(struct sm_session *s, char *line)
{
	char *arg = line + strcspn(line, " ");

	if (*arg)
		*arg++ = 0;
	if (strcasecmp(line, "EHLO") == 0) {
		s->helo = true;
		smtp_reply("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n"
			   "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES",
		    config_str("myhostname"));
	} else if (strcasecmp(line, "HELO") == 0) {
		s->helo = true;
		smtp_reply("250 %s", config_str("myhostname"));
	} else if (strcasecmp(line, "MAIL") == 0) {
		smtp_mail(s, arg);
	} else if (strcasecmp(line, "RCPT") == 0) {
		smtp_rcpt(s, arg);
	} else if (strcasecmp(line, "DATA") == 0) {
		smtp_data(s);
	} else if (strcasecmp(line, "RSET") == 0) {
		smtp_reset(s);
		smtp_reply("250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0) {
		smtp_reply("250 2.0.0 Ok");
	} else if (strcasecmp(line, "VRFY") == 0) {
		smtp_reply("252 2.0.0 Send some mail, I'll try my best");
	} else if (strcasecmp(line, "QUIT") == 0) {
		smtp_reply("221 2.0.0 Bye");
		return false;
	} else {
		smtp_reply("502 5.5.2 Error: command not recognized");
	}
	return true;
}

int sm_smtp(void)
{
	struct sm_session s;
	char line[SMTP_LINE];

	memset(&s, 0, sizeof(s));
	smtp_reply("220 %s ESMTP %s", config_str("myhostname"), config_str("mail_name"));
	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strlen(line);

		if (line[len - 1] != '\n') {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			smtp_reply("500 5.5.0 Error: line too long");
			continue;
		}
		line[strcspn(line, "\r\n")] = 0;
		if (!smtp_command(&s, line))
			break;
	}
	smtp_reset(&s);
	return 0;
}
