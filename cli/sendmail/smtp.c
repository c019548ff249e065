/*
 * smtp.c - sendmail -bs: an SMTP session on standard input and output.
 *
 * For programs that speak SMTP to a local sendmail rather than to a port.
 * The daemons may be down, so this does not relay to smtpd: each message
 * goes to postdrop like any other local submission, and "250" is sent only
 * after postdrop exited 0 (the maildrop file is durable).  The submitter
 * is the calling user, as for every local submission.
 *
 * Supported: HELO, EHLO (PIPELINING, SIZE, 8BITMIME, DSN, SMTPUTF8,
 * ENHANCEDSTATUSCODES), MAIL FROM with SIZE, BODY, RET, ENVID, SMTPUTF8,
 * RCPT TO with NOTIFY and ORCPT, DATA, RSET, NOOP, VRFY (252), QUIT.  Not:
 * AUTH, STARTTLS, BDAT (nothing to protect or speed up on a pipe).  Command
 * lines and ESMTP parameters are parsed by the same code as smtpd's
 * (lib/smtp/), so both accept and refuse the same commands.
 */
#include "sendmail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "address.h"
#include "config.h"
#include "maildrop.h"
#include "smtp/cmd.h"
#include "smtp/esmtp.h"
#include "util.h"

#define SMTP_LINE 4096 /* longer command lines are refused */

/* What EHLO offers; the parameters are checked as smtpd checks them. */
#define SMTP_OFFERED                                                                               \
	(ESMTP_OFFER_SIZE | ESMTP_OFFER_8BITMIME | ESMTP_OFFER_DSN | ESMTP_OFFER_SMTPUTF8)

struct sm_session {
	struct sm_envelope env;
	bool have_mail;
	bool smtputf8; /* MAIL ... SMTPUTF8 */
	char *envid;
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
	free(s->envid);
	s->envid = NULL;
	s->have_mail = false;
	s->smtputf8 = false;
}

/* RFC 6531 3.4: UTF-8 in an address only after MAIL ... SMTPUTF8. */
static bool smtp_utf8_undeclared(const struct sm_session *s, const char *addr)
{
	if (s->smtputf8 || !addr_is_utf8(addr))
		return false;
	smtp_reply("553 5.6.7 Must declare SMTPUTF8 to send UTF8 address");
	return true;
}

static void smtp_mail(struct sm_session *s, const struct smtp_cmd *c)
{
	struct esmtp_mail m;
	char *addr, *reply;
	const char *rest, *err;

	if (s->have_mail) {
		smtp_reply("503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (addr_parse_path(c->arg, c->arg_len,
		ADDR_ALLOW_NULL | ADDR_ALLOW_UTF8 | ADDR_ALLOW_LOCAL, &addr, &rest, &err) < 0) {
		smtp_reply("501 5.1.7 Bad sender address syntax: %s", err);
		return;
	}
	reply = esmtp_mail_parse(rest, (size_t)(c->arg + c->arg_len - rest), SMTP_OFFERED,
	    config_size("message_size_limit"), &m);
	s->smtputf8 = m.smtputf8;
	if (reply || smtp_utf8_undeclared(s, addr)) {
		if (reply)
			smtp_reply("%s", reply);
		free(reply);
		free(addr);
		esmtp_mail_free(&m);
		smtp_reset(s);
		return;
	}
	s->env.sender = addr;
	s->env.ret = m.ret;
	s->env.envid = s->envid = m.envid; /* the session owns it now */
	m.envid = NULL;
	esmtp_mail_free(&m);
	s->have_mail = true;
	smtp_reply("250 2.1.0 Ok");
}

static void smtp_rcpt(struct sm_session *s, const struct smtp_cmd *c)
{
	struct esmtp_rcpt r;
	char *addr, *reply;
	const char *rest, *err;
	size_t n;

	if (!s->have_mail) {
		smtp_reply("503 5.5.1 Error: need MAIL command");
		return;
	}
	if (addr_parse_path(
		c->arg, c->arg_len, ADDR_ALLOW_UTF8 | ADDR_ALLOW_LOCAL, &addr, &rest, &err) < 0) {
		smtp_reply("501 5.1.3 Bad recipient address syntax: %s", err);
		return;
	}
	if (smtp_utf8_undeclared(s, addr)) {
		free(addr);
		return;
	}
	reply = esmtp_rcpt_parse(rest, (size_t)(c->arg + c->arg_len - rest), SMTP_OFFERED, &r);
	if (reply == NULL && s->env.nrcpt >= MD_MAX_RCPT)
		reply = xstrdup("452 4.5.3 Error: too many recipients");
	if (reply) {
		smtp_reply("%s", reply);
		free(reply);
		free(addr);
		esmtp_rcpt_free(&r);
		return;
	}
	sm_env_add_rcpt(&s->env, addr);
	n = s->env.nrcpt;
	s->env.orcpts = xreallocarray(s->env.orcpts, n, sizeof(char *));
	s->env.notifies = xreallocarray(s->env.notifies, n, sizeof(char *));
	s->env.orcpts[n - 1] = r.orcpt; /* the envelope owns them now */
	s->env.notifies[n - 1] = r.notify;
	free(addr);
	smtp_reply("250 2.1.5 Ok");
}

/*
 * Copies the DATA lines to postdrop, dot-unstuffed, CRLF made LF, until
 * the lone dot; false at end of input first (the client gave up).
 * getline() counts NUL bytes too: a line is never cut short by one.
 */
static bool smtp_data_copy(struct sm_submit *sub)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool done = false;

	while (!done && (n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;
		char *p = line;

		if (len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\r')
			p[--len - 1] = '\n';
		if (len == 2 && p[0] == '.' && p[1] == '\n') {
			done = true;
			continue;
		}
		if (p[0] == '.') {
			p++;
			len--;
		}
		sm_submit_data(sub, p, len);
	}
	free(line);
	return done;
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

/* EHLO: the extensions SMTP_OFFERED names, and the size limit. */
static void smtp_ehlo(void)
{
	long long limit = config_size("message_size_limit");
	char size[32] = "SIZE";

	if (limit > 0)
		snprintf(size, sizeof(size), "SIZE %lld", limit);
	smtp_reply("250-%s\r\n250-PIPELINING\r\n250-%s\r\n250-8BITMIME\r\n250-DSN\r\n"
		   "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES",
	    config_str("myhostname"), size);
}

/* One command line (smtp/cmd.h, as smtpd parses it); false on QUIT. */
static bool smtp_command(struct sm_session *s, const char *line, size_t len)
{
	struct smtp_cmd c;

	if (smtp_cmd_parse(line, len, &c) < 0) {
		smtp_reply("%s", c.error);
		return true;
	}
	switch (c.verb) {
	case SMTP_EHLO: smtp_ehlo(); break;
	case SMTP_HELO: smtp_reply("250 %s", config_str("myhostname")); break;
	case SMTP_MAIL: smtp_mail(s, &c); break;
	case SMTP_RCPT: smtp_rcpt(s, &c); break;
	case SMTP_DATA: smtp_data(s); break;
	case SMTP_RSET:
		smtp_reset(s);
		smtp_reply("250 2.0.0 Ok");
		break;
	case SMTP_NOOP: smtp_reply("250 2.0.0 Ok"); break;
	case SMTP_VRFY: smtp_reply("252 2.0.0 Send some mail, I'll try my best"); break;
	case SMTP_QUIT: smtp_reply("221 2.0.0 Bye"); return false;
	default:
		/* AUTH, STARTTLS, BDAT, EXPN, HELP: nothing to offer on a pipe. */
		smtp_reply("502 5.5.1 Error: command not implemented");
		break;
	}
	return true;
}

int sm_smtp(void)
{
	struct sm_session s;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(&s, 0, sizeof(s));
	smtp_reply("220 %s ESMTP %s", config_str("myhostname"), config_str("mail_name"));
	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;

		if (line[len - 1] != '\n')
			break; /* the client went away mid-line */
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > SMTP_LINE) {
			smtp_reply("500 5.5.0 Error: line too long");
			continue;
		}
		if (!smtp_command(&s, line, len))
			break;
	}
	free(line);
	smtp_reset(&s);
	return 0;
}
