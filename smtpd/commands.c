/*
 * commands.c - one handler per SMTP verb, and the command counters.
 *
 * A handler sees one parsed command (lib/smtp/cmd.c does the syntax,
 * lib/smtp/esmtp.c the parameters), checks the session's state, replies,
 * and says whether the command succeeded, for Postfix's "disconnect from
 * ... mail=1 rcpt=0/1" log line.  Replies follow Postfix's wording;
 * enhanced status codes (RFC 2034, RFC 3463) appear on every reply except
 * the greeting and the HELO/EHLO answers, as RFC 2034 section 3 says.
 *
 * Not here: reading lines (session.c), recipient policy (policy.c), the
 * DATA phase after 354 (message.c), the TLS handshake (session.c, lib/tls_server.c).
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "milter.h"
#include "proto.h"
#include "queue.h"
#include "resolve.h"
#include "restrictions.h"
#include "smtpd.h"
#include "smtpd_spf.h"
#include "util.h"

enum cmd_result {
	CMD_FAIL,
	CMD_OK,
	CMD_PENDING, /* the outcome comes later (DATA) */
	CMD_RETRY,   /* waiting for DNS: run the same line again later */
};

typedef enum cmd_result cmd_fn(struct smtpd_session *s, const struct smtp_cmd *c);

static cmd_fn cmd_bdat, cmd_auth, cmd_starttls, cmd_helo, cmd_ehlo, cmd_mail, cmd_rcpt, cmd_data,
    cmd_rset, cmd_noop, cmd_quit, cmd_vrfy, cmd_help, cmd_not_implemented, cmd_unknown;

/* The handler of each verb of smtp/cmd.h's table. */
static cmd_fn *const cmd_handlers[SMTP_NVERBS] = {
    [SMTP_HELO] = cmd_helo,
    [SMTP_EHLO] = cmd_ehlo,
    [SMTP_STARTTLS] = cmd_starttls,
    [SMTP_AUTH] = cmd_auth,
    [SMTP_MAIL] = cmd_mail,
    [SMTP_RCPT] = cmd_rcpt,
    [SMTP_DATA] = cmd_data,
    [SMTP_BDAT] = cmd_bdat,
    [SMTP_RSET] = cmd_rset,
    [SMTP_NOOP] = cmd_noop,
    [SMTP_VRFY] = cmd_vrfy,
    [SMTP_EXPN] = cmd_not_implemented,
    [SMTP_HELP] = cmd_help,
    [SMTP_QUIT] = cmd_quit,
    [SMTP_UNKNOWN] = cmd_unknown,
};

static bool cmd_dsn_enabled(void)
{
	return config_bool("smtpd_dsn_enable");
}

static bool cmd_smtputf8_enabled(void)
{
	return config_bool("smtputf8_enable");
}

/* The extensions EHLO offers now, for the ESMTP parameter checks. */
static unsigned cmd_offered(const struct smtpd_session *s)
{
	unsigned offered = ESMTP_OFFER_SIZE | ESMTP_OFFER_8BITMIME;

	if (cmd_dsn_enabled())
		offered |= ESMTP_OFFER_DSN;
	if (cmd_smtputf8_enabled())
		offered |= ESMTP_OFFER_SMTPUTF8;
	if (s->auth_offered || s->sasl_user)
		offered |= ESMTP_OFFER_AUTH;
	if (s->tls_phase == SMTPD_TLS_ACTIVE)
		offered |= ESMTP_OFFER_REQUIRETLS;
	return offered;
}

/*
 * smtpd_soft_error_limit: past it, each further error is answered only
 * after smtpd_error_sleep_time (a tarpit, as a timer); past
 * smtpd_hard_error_limit the client is dropped with 421.
 */
static void smtpd_error_limits(struct smtpd_session *s)
{
	long soft = config_int("smtpd_soft_error_limit");
	long hard = config_int("smtpd_hard_error_limit");

	if (hard > 0 && s->errors >= (unsigned)hard) {
		log_info("too many errors after %s from %s[%s]", s->last_cmd, s->name, s->addr);
		smtpd_reply(s, "421 4.7.0 %s Error: too many errors", config_str("myhostname"));
		s->closing = true;
	} else if (soft > 0 && s->errors >= (unsigned)soft) {
		session_pause(s, config_time("smtpd_error_sleep_time") * 1000);
	}
}

bool smtpd_command(struct smtpd_session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	unsigned errors = s->errors;
	enum cmd_result res;
	int r;

	if (s->sasl) {
		auth_input(s, line, len);
		return true;
	}
	memset(&c, 0, sizeof(c));
	r = smtp_cmd_parse_flags(
	    line, len, config_bool("strict_rfc821_envelopes") ? SMTP_CMD_STRICT : 0, &c);
	s->last_cmd = smtp_verb_name(c.verb);
	s->count_all[c.verb]++;
	if (r < 0) {
		smtpd_reply(s, "%s", c.error ? c.error : "500 5.5.2 Error: bad syntax");
	} else if ((res = cmd_handlers[c.verb](s, &c)) == CMD_OK) {
		s->count_ok[c.verb]++;
	} else if (res == CMD_RETRY) {
		s->count_all[c.verb]--;
		s->dns_wait = true;
		return false;
	}
	if (s->errors > errors)
		smtpd_error_limits(s);
	return true;
}

/* Runs the restrictions of a stage; replies and returns false on a reject. */
static enum cmd_result cmd_restrict(
    struct smtpd_session *s, enum restr_stage stage, const char *verb, const char *rcpt)
{
	struct buf reply = BUF_INIT;
	enum restr_result r = restr_check(s, stage, rcpt, &reply);

	if (r == RESTR_REJECTED)
		smtpd_reject(s, verb, s->sender, rcpt, "%s", buf_cstr(&reply));
	buf_free(&reply);
	return r == RESTR_OK ? CMD_OK : r == RESTR_WAIT ? CMD_RETRY : CMD_FAIL;
}

/* A milter stage's answer as a command result. */
static enum cmd_result cmd_milter(enum smtpd_milter_res r)
{
	return r == SMTPD_MILTER_OK ? CMD_OK : r == SMTPD_MILTER_WAIT ? CMD_RETRY : CMD_FAIL;
}

/* SPF at MAIL FROM (spf.c): replies and fails on a reject or defer. */
static enum cmd_result cmd_spf(struct smtpd_session *s)
{
	struct buf reply = BUF_INIT;
	enum smtpd_spf_verdict v = smtpd_spf_mail(s, &reply);

	if (v == SMTPD_SPF_REJECT || v == SMTPD_SPF_DEFER)
		smtpd_reject(s, "MAIL", s->sender, NULL, "%s", buf_cstr(&reply));
	buf_free(&reply);
	return v == SMTPD_SPF_OK ? CMD_OK : v == SMTPD_SPF_WAIT ? CMD_RETRY : CMD_FAIL;
}

/* The outcome of a multi-line AUTH exchange. */
void smtpd_auth_done(struct smtpd_session *s, bool ok)
{
	if (ok)
		s->count_ok[SMTP_AUTH]++;
}

/* The DATA (or last BDAT) command's outcome, known at the end of the message. */
void smtpd_data_done(struct smtpd_session *s, bool ok, bool bdat)
{
	if (ok)
		s->count_ok[bdat ? SMTP_BDAT : SMTP_DATA]++;
}

/* " helo=1 mail=1 rcpt=0/1 commands=2/3", as Postfix logs it. */
void smtpd_log_counts(const struct smtpd_session *s, struct buf *out)
{
	unsigned ok = 0, all = 0;

	for (int i = 0; i < SMTP_NVERBS; i++) {
		char name[16];

		if (s->count_all[i] == 0)
			continue;
		strlcpy(name, smtp_verb_name((enum smtp_verb)i), sizeof(name));
		str_lower(name);
		buf_printf(out, " %s=%u", name, s->count_ok[i]);
		if (s->count_ok[i] != s->count_all[i])
			buf_printf(out, "/%u", s->count_all[i]);
		ok += s->count_ok[i];
		all += s->count_all[i];
	}
	buf_printf(out, " commands=%u", ok);
	if (ok != all)
		buf_printf(out, "/%u", all);
}

/* The HELO name goes into logs and Received: headers: no control bytes. */
static void cmd_set_helo(struct smtpd_session *s, const struct smtp_cmd *c)
{
	free(s->helo);
	s->helo = xmemdup(c->arg, c->arg_len);
	for (char *p = s->helo; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* RFC 5321 4.1.4: HELO/EHLO in a session resets the transaction. */
	session_reset_transaction(s);
}

/* "ESMTPSA" and friends (RFC 3848), for logs and the Received: header. */
const char *smtpd_protocol(const struct smtpd_session *s)
{
	static const char *const names[] = {"SMTP", "ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"};
	int i = s->esmtp ? 1 : 0;

	if (s->esmtp && s->tls_phase == SMTPD_TLS_ACTIVE)
		i = 3;
	if (s->esmtp && s->sasl_user)
		i++;
	return names[i];
}

/* smtpd_tls_security_level = encrypt: nothing happens in the clear. */
static bool cmd_need_tls(struct smtpd_session *s)
{
	if (tls_server_level() == TLS_LEVEL_ENCRYPT && s->tls_phase != SMTPD_TLS_ACTIVE) {
		smtpd_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return true;
	}
	return false;
}

/*
 * RFC 3207 4.2: the 220 is the last plaintext; whatever the client sent
 * after STARTTLS was written before the handshake, unprotected, and may
 * have been injected by a man in the middle (CVE-2011-0411): session.c
 * drops it, it is never run after the handshake.
 */
static enum cmd_result cmd_starttls(struct smtpd_session *s, const struct smtp_cmd *c)
{
	const char *milter = smtpd_milter_connect_reply(s);

	(void)c;
	/* After a milter's connect or HELO rejection, as Postfix: its 5xx,
	 * or 454 for a 4xx (Sendmail's mapping). */
	if (milter && (milter[0] == '5' || milter[0] == '4')) {
		smtpd_reply(s, "%s", milter[0] == '5' ? milter : "454 4.3.0 Try again later");
		return CMD_FAIL;
	}
	if (s->tls_phase == SMTPD_TLS_ACTIVE) {
		smtpd_reply(s, "554 5.5.1 Error: TLS already active");
		return CMD_FAIL;
	}
	if (tls_server_level() == TLS_LEVEL_NONE) {
		smtpd_reply(s, "502 5.5.1 Error: command not implemented");
		return CMD_FAIL;
	}
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	s->tls_phase = SMTPD_TLS_STARTING;
	return CMD_OK;
}

static enum cmd_result cmd_auth(struct smtpd_session *s, const struct smtp_cmd *c)
{
	if (cmd_need_tls(s))
		return CMD_FAIL;
	return auth_command(s, c->arg, c->arg_len) ? CMD_PENDING : CMD_FAIL;
}

/* The handshake is done: RFC 3207 4.2, the client starts again with EHLO. */
void smtpd_tls_ready(struct smtpd_session *s)
{
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	session_reset_transaction(s);
	auth_reset(s);
}

/* HELO restrictions (smtpd_delay_reject = no); a rejected name is forgotten. */
static enum cmd_result cmd_helo_check(struct smtpd_session *s, const char *verb)
{
	enum cmd_result r = cmd_restrict(s, RESTR_HELO, verb, NULL);

	if (r != CMD_OK) {
		free(s->helo);
		s->helo = NULL;
	}
	return r;
}

static enum cmd_result cmd_helo(struct smtpd_session *s, const struct smtp_cmd *c)
{
	enum cmd_result r;

	if (c->arg_len == 0) {
		smtpd_reply(s, "501 Syntax: HELO hostname");
		return CMD_FAIL;
	}
	if (c->arg_len > PROTO_MAX_ATTR) {
		/* cleanup would refuse every message of the session after its DATA. */
		smtpd_reply(s, "501 5.5.2 Error: HELO/EHLO name too long");
		return CMD_FAIL;
	}
	cmd_set_helo(s, c);
	s->esmtp = false;
	if ((r = cmd_helo_check(s, "HELO")) != CMD_OK ||
	    (r = cmd_milter(smtpd_milter_helo(s))) != CMD_OK)
		return r;
	smtpd_reply(s, "250 %s", config_str("myhostname"));
	return CMD_OK;
}

/* The EHLO keywords we offer now (RFC 5321 4.1.1.1), one per line. */
static void cmd_ehlo_keywords(struct smtpd_session *s, char **kw, size_t *n)
{
	long long limit = config_size("message_size_limit");

	kw[(*n)++] = xstrdup("PIPELINING");
	if (s->tls_phase == SMTPD_TLS_OFF && tls_server_level() != TLS_LEVEL_NONE)
		kw[(*n)++] = xstrdup("STARTTLS");
	kw[(*n)++] = limit > 0 ? xasprintf("SIZE %lld", limit) : xstrdup("SIZE");
	s->auth_offered = auth_offered(s);
	if (s->auth_offered)
		kw[(*n)++] = auth_ehlo_keyword();
	kw[(*n)++] = xstrdup("ENHANCEDSTATUSCODES");
	kw[(*n)++] = xstrdup("8BITMIME");
	if (cmd_dsn_enabled())
		kw[(*n)++] = xstrdup("DSN");
	if (cmd_smtputf8_enabled())
		kw[(*n)++] = xstrdup("SMTPUTF8");
	if (config_bool("smtpd_chunking_enable"))
		kw[(*n)++] = xstrdup("CHUNKING");
	/* RFC 8689 4.1: REQUIRETLS only in a TLS session, so a MAIL FROM
	 * carrying it can only arrive encrypted. */
	if (s->tls_phase == SMTPD_TLS_ACTIVE)
		kw[(*n)++] = xstrdup("REQUIRETLS");
}

static enum cmd_result cmd_ehlo(struct smtpd_session *s, const struct smtp_cmd *c)
{
	char *kw[16];
	size_t n = 0;
	enum cmd_result r;

	if (c->arg_len == 0) {
		smtpd_reply(s, "501 Syntax: EHLO hostname");
		return CMD_FAIL;
	}
	if (c->arg_len > PROTO_MAX_ATTR) {
		/* cleanup would refuse every message of the session after its DATA. */
		smtpd_reply(s, "501 5.5.2 Error: HELO/EHLO name too long");
		return CMD_FAIL;
	}
	cmd_set_helo(s, c);
	s->esmtp = true;
	if ((r = cmd_helo_check(s, "EHLO")) != CMD_OK ||
	    (r = cmd_milter(smtpd_milter_helo(s))) != CMD_OK)
		return r;
	smtpd_reply(s, "250-%s", config_str("myhostname"));
	cmd_ehlo_keywords(s, kw, &n);
	for (size_t i = 0; i < n; i++) {
		smtpd_reply(s, "250%c%s", i + 1 < n ? '-' : ' ', kw[i]);
		free(kw[i]);
	}
	return CMD_OK;
}

/* Postfix's reply when the queue file system is (nearly) full. */
static void cmd_no_space(struct smtpd_session *s, const char *verb, const char *sender)
{
	log_warn(
	    "not enough free space in %s for mail (queue_minfree)", config_str("queue_directory"));
	smtpd_reject(s, verb, sender, NULL, "452 4.3.1 Insufficient system storage");
}

static enum cmd_result cmd_mail(struct smtpd_session *s, const struct smtp_cmd *c)
{
	const char *end = c->arg + c->arg_len, *rest = NULL, *err = NULL;
	char *addr = NULL, *reply = NULL;
	struct esmtp_mail m;
	enum cmd_result r;
	int flags = ADDR_ALLOW_NULL | (cmd_smtputf8_enabled() ? ADDR_ALLOW_UTF8 : 0);

	if (cmd_need_tls(s))
		return CMD_FAIL;
	if (s->sender) {
		smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
		return CMD_FAIL;
	}
	if (addr_parse_path(c->arg, c->arg_len, flags, &addr, &rest, &err) < 0) {
		smtpd_reply(s, "501 5.1.7 Bad sender address syntax");
		return CMD_FAIL;
	}
	reply = esmtp_mail_parse(
	    rest, (size_t)(end - rest), cmd_offered(s), config_size("message_size_limit"), &m);
	/* RFC 6531 3.4: UTF-8 in an address only after MAIL ... SMTPUTF8. */
	if (reply == NULL && addr_is_utf8(addr) && !m.smtputf8)
		reply = xstrdup("553 5.6.7 Must declare SMTPUTF8 to send UTF8 address");
	if (reply) {
		smtpd_reject(s, "MAIL", addr, NULL, "%s", reply);
		esmtp_mail_free(&m);
		free(reply);
		free(addr);
		return CMD_FAIL;
	}
	if (config_bool("smtpd_helo_required") && s->helo == NULL) {
		smtpd_reject(s, "MAIL", addr, NULL, "503 5.5.1 Error: send HELO/EHLO first");
		esmtp_mail_free(&m);
		free(addr);
		return CMD_FAIL;
	}
	if (!queue_space_ok(m.size > 0 ? m.size : 0)) {
		cmd_no_space(s, "MAIL", addr);
		esmtp_mail_free(&m);
		free(addr);
		return CMD_FAIL;
	}
	s->sender = addr;
	if ((r = cmd_restrict(s, RESTR_SENDER, "MAIL", NULL)) == CMD_OK)
		r = cmd_spf(s);
	if (r == CMD_OK)
		r = cmd_milter(smtpd_milter_mail(s, rest, (size_t)(end - rest)));
	if (r != CMD_OK) {
		free(s->sender);
		s->sender = NULL;
		esmtp_mail_free(&m);
		return r;
	}
	s->size_decl = m.size;
	s->smtputf8 = m.smtputf8;
	s->requiretls = m.requiretls;
	s->dsn_ret = m.ret;
	s->dsn_envid = m.envid; /* the session owns it now */
	m.envid = NULL;
	esmtp_mail_free(&m);
	smtpd_reply(s, "250 2.1.0 Ok");
	return CMD_OK;
}

/*
 * The recipient as given, in canonical form; a bare "postmaster" (any
 * case) is the only address without a domain we take (RFC 5321 4.5.1), and
 * it is qualified with $myorigin.  NULL on bad syntax.
 */
static char *cmd_rcpt_addr(
    const struct smtpd_session *s, const struct smtp_cmd *c, const char **rest, bool *postmaster)
{
	const char *err = NULL;
	char *addr = NULL, *full;
	int flags = ADDR_ALLOW_LOCAL | (s->smtputf8 ? ADDR_ALLOW_UTF8 : 0);

	*postmaster = false;
	if (addr_parse_path(c->arg, c->arg_len, flags, &addr, rest, &err) < 0)
		return NULL;
	if (strchr(addr, '@'))
		return addr;
	if (!str_case_eq(addr, "postmaster")) {
		free(addr);
		return NULL;
	}
	*postmaster = true;
	full = xasprintf("postmaster@%s", config_str("myorigin"));
	str_lower(full);
	free(addr);
	return full;
}

/* Would the recipient parse if UTF-8 were allowed? */
static bool cmd_rcpt_addr_utf8(const struct smtp_cmd *c)
{
	const char *rest = NULL, *err = NULL;
	char *addr = NULL;
	bool yes = addr_parse_path(c->arg, c->arg_len, ADDR_ALLOW_LOCAL | ADDR_ALLOW_UTF8, &addr,
		       &rest, &err) == 0;

	free(addr);
	return yes;
}

/* RFC 5321 4.5.1: postmaster@ a domain of ours is accepted from anyone. */
static bool cmd_postmaster_local(const char *addr)
{
	struct resolved r;
	const char *at = strrchr(addr, '@');

	return at && (size_t)(at - addr) == 10 && strncasecmp(addr, "postmaster", 10) == 0 &&
	       resolve_addr(addr, &r) && (r.cls == CLASS_LOCAL || r.cls == CLASS_VIRTUAL);
}

/* Policy says yes or no; the answer is the reply. */
static bool cmd_rcpt_allowed(struct smtpd_session *s, const char *addr)
{
	struct buf reply = BUF_INIT;
	bool ok = policy_check_rcpt(s, addr, &reply) == POLICY_OK;

	if (!ok)
		smtpd_reject(s, "RCPT", s->sender, addr, "%s", buf_cstr(&reply));
	buf_free(&reply);
	return ok;
}

static enum cmd_result cmd_rcpt(struct smtpd_session *s, const struct smtp_cmd *c)
{
	const char *rest = NULL;
	char *addr, *reply = NULL;
	bool postmaster;
	long limit = config_int("smtpd_recipient_limit");
	enum cmd_result r;
	struct esmtp_rcpt ep;

	if (s->sender == NULL) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		return CMD_FAIL;
	}
	if (limit > 0 && s->nrcpt >= (size_t)limit) {
		smtpd_reply(s, "452 4.5.3 Error: too many recipients");
		return CMD_FAIL;
	}
	if ((addr = cmd_rcpt_addr(s, c, &rest, &postmaster)) == NULL) {
		/* Without SMTPUTF8, a UTF-8 address is not bad syntax but undeclared. */
		if (!s->smtputf8 && cmd_rcpt_addr_utf8(c))
			smtpd_reply(s, "553 5.6.7 Must declare SMTPUTF8 to send UTF8 address");
		else
			smtpd_reply(s, "501 5.1.3 Bad recipient address syntax");
		return CMD_FAIL;
	}
	reply = esmtp_rcpt_parse(rest, (size_t)(c->arg + c->arg_len - rest), cmd_offered(s), &ep);
	if (reply != NULL) {
		smtpd_reject(s, "RCPT", s->sender, addr, "%s", reply);
		esmtp_rcpt_free(&ep);
		free(reply);
		free(addr);
		return CMD_FAIL;
	}
	if (s->screen_reject) { /* screening's "enforce" (screen.c) */
		smtpd_reject(s, "RCPT", s->sender, addr, "%s", s->screen_reject);
		esmtp_rcpt_free(&ep);
		free(addr);
		return CMD_FAIL;
	}
	if (!postmaster && !cmd_postmaster_local(addr) &&
	    (r = cmd_restrict(s, RESTR_RECIPIENT, "RCPT", addr)) != CMD_OK) {
		esmtp_rcpt_free(&ep);
		free(addr);
		return r;
	}
	/* smtpd_reject_unlisted_recipient = no (Debian's submission line):
	 * unknown users of our domains are taken, and bounced by local. */
	if (!postmaster && config_bool("smtpd_reject_unlisted_recipient") &&
	    !cmd_rcpt_allowed(s, addr)) {
		esmtp_rcpt_free(&ep);
		free(addr);
		return CMD_FAIL;
	}
	if ((r = cmd_milter(smtpd_milter_rcpt(
		 s, addr, rest, (size_t)(c->arg + c->arg_len - rest)))) != CMD_OK) {
		esmtp_rcpt_free(&ep);
		free(addr);
		return r;
	}
	s->rcpts = xreallocarray(s->rcpts, s->nrcpt + 1, sizeof(*s->rcpts));
	s->rcpt_dsn = xreallocarray(s->rcpt_dsn, s->nrcpt + 1, sizeof(*s->rcpt_dsn));
	s->rcpt_dsn[s->nrcpt] = ep;
	s->rcpts[s->nrcpt++] = addr;
	smtpd_reply(s, "250 2.1.5 Ok");
	return CMD_OK;
}

static enum cmd_result cmd_data(struct smtpd_session *s, const struct smtp_cmd *c)
{
	enum cmd_result r;

	if (c->arg_len > 0) {
		smtpd_reply(s, "501 5.5.4 Syntax: DATA");
		return CMD_FAIL;
	}
	if (s->bdat_open) {
		smtpd_reply(s, "503 5.5.1 Error: DATA after BDAT");
		return CMD_FAIL;
	}
	if (s->sender == NULL || s->nrcpt == 0) {
		smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
		return CMD_FAIL;
	}
	if ((r = cmd_restrict(s, RESTR_DATA, "DATA", NULL)) != CMD_OK ||
	    (r = cmd_milter(smtpd_milter_data(s, "DATA"))) != CMD_OK)
		return r;
	if (!queue_space_ok(s->size_decl > 0 ? s->size_decl : 0)) {
		cmd_no_space(s, "DATA", s->sender);
		return CMD_FAIL;
	}
	return message_start(s) ? CMD_PENDING : CMD_FAIL;
}

/*
 * BDAT: the first chunk of a transaction runs the data restrictions and
 * opens cleanup, like DATA.  The chunk's octets are read whatever happens
 * (bdat.c), or they would be taken for commands.
 */
static enum cmd_result cmd_bdat(struct smtpd_session *s, const struct smtp_cmd *c)
{
	enum cmd_result r;

	if (!bdat_command(s, c->arg, c->arg_len))
		return CMD_FAIL;
	if (s->bdat_open)
		return CMD_PENDING;
	if (s->sender == NULL || s->nrcpt == 0) {
		smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
		s->bdat_discard = true;
		return CMD_FAIL;
	}
	if ((r = cmd_restrict(s, RESTR_DATA, "BDAT", NULL)) == CMD_OK)
		r = cmd_milter(smtpd_milter_data(s, "BDAT"));
	if (r == CMD_RETRY) {
		s->state = SMTPD_CMD; /* the BDAT line runs again, its octets unread */
		return r;
	}
	if (r == CMD_OK && !queue_space_ok(s->size_decl > 0 ? s->size_decl : 0)) {
		cmd_no_space(s, "BDAT", s->sender);
		r = CMD_FAIL;
	}
	if (r != CMD_OK || !message_open(s)) {
		/* Replied already; the chunk is dropped and so is the transaction. */
		session_reset_transaction(s);
		s->bdat_discard = true;
		return CMD_FAIL;
	}
	s->bdat_open = true;
	return CMD_PENDING;
}

static enum cmd_result cmd_rset(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	session_reset_transaction(s);
	smtpd_reply(s, "250 2.0.0 Ok");
	return CMD_OK;
}

static enum cmd_result cmd_noop(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	smtpd_reply(s, "250 2.0.0 Ok");
	return CMD_OK;
}

static enum cmd_result cmd_quit(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	smtpd_reply(s, "221 2.0.0 Bye");
	s->closing = true;
	return CMD_OK;
}

/* RFC 5321 3.5.3: 252 neither confirms nor denies, and leaks no users. */
static enum cmd_result cmd_vrfy(struct smtpd_session *s, const struct smtp_cmd *c)
{
	const char *milter;

	if (c->arg_len == 0) {
		smtpd_reply(s, "501 5.5.4 Syntax: VRFY address");
		return CMD_FAIL;
	}
	/* A milter's connect or HELO rejection answers VRFY too (Postfix). */
	if ((milter = smtpd_milter_connect_reply(s)) != NULL) {
		smtpd_reply(s, "%s", milter);
		return CMD_FAIL;
	}
	smtpd_reply(s, "252 2.0.0 Send some mail, I'll try my best");
	return CMD_OK;
}

static enum cmd_result cmd_help(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	smtpd_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
	return CMD_OK;
}

static enum cmd_result cmd_not_implemented(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	smtpd_reply(s, "502 5.5.1 Error: command not implemented");
	return CMD_FAIL;
}

static enum cmd_result cmd_unknown(struct smtpd_session *s, const struct smtp_cmd *c)
{
	(void)c;
	smtpd_reply(s, "502 5.5.2 Error: command not recognized");
	return CMD_FAIL;
}
