/*
 * milter.c - smtpd's milter stages (see milter.h), on lib/milter/chain.
 *
 * A stage that has to ask the milters starts the chain's event and says
 * WAIT; commands.c then leaves the command line in the input, like a DNS
 * wait (dns_wait), and runs it again when the chain's answer woke the
 * session.  The second run finds the answer stored for that stage and
 * returns it.  Running the line again repeats its syntax checks and
 * restrictions, which are cheap and give the same result.
 *
 * A connect or HELO rejection answers for the whole session, as in
 * Postfix: every later HELO, MAIL gets that reply.
 *
 * Departure from streaming (DESIGN.md, "smtpd streams each message to
 * cleanup"): with milters the content is held in memory up to
 * message_size_limit until the milters' verdict, so that their envelope
 * edits are known before cleanup's begin record is written.
 */
#include "milter.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "milter/chain.h"
#include "smtpd.h"
#include "util.h"

enum smtpd_milter_stage {
	STAGE_NONE,
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA
};

struct smtpd_milter {
	struct milter_chain *chain;
	enum smtpd_milter_stage busy;  /* an event under way */
	enum smtpd_milter_stage ready; /* its answer, not yet taken */
	enum milter_verdict verdict;
	char *reply;	     /* of that answer */
	char *session_reply; /* a connect/HELO rejection, for every command */
	bool connect_reject; /* ... made at connect */
	bool in_msg;	     /* MAIL was shown to the milters */
	bool discard;	     /* a milter said discard before the message's end */
	bool holding;
	struct buf held;
	struct milter_msg msg;
	bool msg_busy;
	char *mail;	 /* for {mail_addr}: the sender being asked about */
	char *rcpt;	 /* for {rcpt_addr} */
	char macro[256]; /* a formatted macro value */
};

void smtpd_milter_init(void)
{
	milter_chain_check_param("smtpd_milters");
}

/* The values of the macros Postfix gives milters, as far as tern has them. */
static const char *smtpd_milter_macro(void *ctx, const char *name)
{
	struct smtpd_session *s = ctx;
	struct smtpd_milter *m = s->milter;
	const char *server = milter_macro_server(name);

	if (server != NULL)
		return server;
	if (strcmp(name, "_") == 0) {
		snprintf(m->macro, sizeof(m->macro), "%s [%s]", s->name, s->addr);
		return m->macro;
	}
	if (strcmp(name, "{client_addr}") == 0)
		return s->addr;
	if (strcmp(name, "{client_name}") == 0)
		return s->name;
	if (strcmp(name, "{client_ptr}") == 0)
		return s->reverse_name;
	if (strcmp(name, "{client_port}") == 0) {
		snprintf(m->macro, sizeof(m->macro), "%d", s->port);
		return m->macro;
	}
	if (strcmp(name, "{auth_type}") == 0)
		return s->sasl_user ? s->sasl_method : NULL;
	if (strcmp(name, "{auth_authen}") == 0)
		return s->sasl_user;
	if (strcmp(name, "{mail_addr}") == 0)
		return s->sender ? s->sender : m->mail;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return m->rcpt;
	if (strcmp(name, "{mail_mailer}") == 0 || strcmp(name, "{rcpt_mailer}") == 0)
		return "smtp";
	if (s->tls_phase == SMTPD_TLS_ACTIVE) {
		if (strcmp(name, "{tls_version}") == 0)
			return s->tls_info.protocol;
		if (strcmp(name, "{cipher}") == 0)
			return s->tls_info.cipher;
		if (strcmp(name, "{cipher_bits}") == 0) {
			snprintf(m->macro, sizeof(m->macro), "%d", s->tls_info.bits);
			return m->macro;
		}
	}
	return NULL;
}

/* The chain answered a stage: store it, let the command run again. */
static void smtpd_milter_answer(void *ctx, const struct milter_result *r)
{
	struct smtpd_session *s = ctx;
	struct smtpd_milter *m = s->milter;

	m->ready = m->busy;
	m->busy = STAGE_NONE;
	m->verdict = r->v;
	free(m->reply);
	m->reply = r->reply ? xstrdup(r->reply) : NULL;
	if ((m->ready == STAGE_CONNECT) && (r->v == MILTER_REJECT || r->v == MILTER_TEMPFAIL)) {
		m->session_reply = xstrdup(r->reply);
		m->connect_reject = true;
		log_info("milter-reject: CONNECT from %s[%s]: %s", s->name, s->addr, r->reply);
	}
	if (m->ready == STAGE_CONNECT) {
		m->ready = STAGE_NONE; /* nobody asks for it: it answers by session_reply */
		if (s->greet_wait)
			session_greet_send(s);
	}
	s->dns_wait = false;
	session_run(s);
}

bool smtpd_milter_connect(struct smtpd_session *s)
{
	struct buf err = BUF_INIT;
	struct milter_chain *ch;
	char family = strchr(s->addr, ':') ? '6' : '4';

	if (*config_str("smtpd_milters") == '\0')
		return false;
	s->milter = xcalloc(1, sizeof(*s->milter));
	ch = milter_chain_new(s->loop, config_str("smtpd_milters"), smtpd_milter_macro, s, &err);
	buf_free(&err);
	if (ch == NULL) {
		free(s->milter);
		s->milter = NULL;
		return false;
	}
	s->milter->chain = ch;
	s->milter->busy = STAGE_CONNECT;
	s->greet_wait = true; /* before: the answer may clear it */
	milter_chain_connect(ch, s->name, family, s->port, s->addr, smtpd_milter_answer);
	return true;
}

const char *smtpd_milter_connect_reply(const struct smtpd_session *s)
{
	return s->milter ? s->milter->session_reply : NULL;
}

void smtpd_milter_message_free(struct smtpd_session *s)
{
	struct smtpd_milter *m = s->milter;

	if (m == NULL)
		return;
	if (m->msg_busy) {
		/* Abandoned while the milters read it (smtpd_timeout, or the
		 * client left): the chain cannot be stopped half-way, so this
		 * session goes on without milters... and its mail is refused. */
		milter_chain_free(m->chain);
		m->chain = NULL;
		m->msg_busy = false;
		free(m->session_reply);
		m->session_reply = xstrdup("451 4.7.1 Service unavailable - try again later");
	}
	m->holding = false;
	buf_free(&m->held);
	milter_msg_free(&m->msg);
}

void smtpd_milter_free(struct smtpd_session *s)
{
	struct smtpd_milter *m = s->milter;

	if (m == NULL)
		return;
	smtpd_milter_message_free(s);
	milter_chain_free(m->chain);
	free(m->reply);
	free(m->session_reply);
	free(m->rcpt);
	free(m->mail);
	free(m);
	s->milter = NULL;
}

/*
 * The common part of a stage: the answer stored for it, or WAIT after
 * starting the event (start), or WAIT while another event (connect) runs.
 */
static enum smtpd_milter_res smtpd_milter_stage(struct smtpd_session *s,
    enum smtpd_milter_stage stage, const char *verb, const char *rcpt,
    void (*start)(struct smtpd_session *s, void *arg), void *arg)
{
	struct smtpd_milter *m = s->milter;

	if (m == NULL)
		return SMTPD_MILTER_OK;
	if (m->busy != STAGE_NONE)
		return SMTPD_MILTER_WAIT;
	/* After a connect-stage rejection (the greeting said so) HELO and
	 * EHLO are answered as usual, as Postfix does; MAIL is not. */
	if (m->connect_reject && stage == STAGE_HELO)
		return SMTPD_MILTER_OK;
	if (m->session_reply && stage <= STAGE_MAIL) {
		smtpd_reject(s, verb, s->sender, NULL, "%s", m->session_reply);
		return SMTPD_MILTER_FAIL;
	}
	if (m->chain == NULL)
		return SMTPD_MILTER_OK;
	if (m->ready != stage) {
		m->ready = STAGE_NONE;
		m->busy = stage;
		start(s, arg);
		return SMTPD_MILTER_WAIT;
	}
	m->ready = STAGE_NONE;
	if (m->verdict == MILTER_REJECT || m->verdict == MILTER_TEMPFAIL) {
		smtpd_reject(s, verb, s->sender, rcpt, "%s", m->reply);
		if (stage == STAGE_HELO)
			m->session_reply = xstrdup(m->reply);
		return SMTPD_MILTER_FAIL;
	}
	/* Discard at MAIL, RCPT or DATA: the transaction goes on, and its
	 * message is thrown away at the end (as Postfix does). */
	if (m->verdict == MILTER_DISCARD && stage >= STAGE_MAIL)
		m->discard = true;
	return SMTPD_MILTER_OK;
}

static void smtpd_milter_start_helo(struct smtpd_session *s, void *arg)
{
	(void)arg;
	milter_chain_helo(s->milter->chain, s->helo ? s->helo : "", smtpd_milter_answer);
}

enum smtpd_milter_res smtpd_milter_helo(struct smtpd_session *s)
{
	return smtpd_milter_stage(
	    s, STAGE_HELO, s->esmtp ? "EHLO" : "HELO", NULL, smtpd_milter_start_helo, NULL);
}

/* "<addr>" and each parameter, as the MAIL and RCPT packets carry them. */
struct smtpd_milter_args {
	const char *addr;
	const char *params;
	size_t len;
};

static size_t smtpd_milter_split(const struct smtpd_milter_args *a, char **out, size_t max)
{
	char *copy = xmemdup(a->params, a->len), *save = NULL;
	size_t n = 0;

	out[n++] = xasprintf("<%s>", a->addr);
	for (char *w = strtok_r(copy, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		out[n++] = xstrdup(w);
	free(copy);
	return n;
}

static void smtpd_milter_start_args(struct smtpd_session *s, void *arg, bool rcpt)
{
	char *args[32];
	size_t n = smtpd_milter_split(arg, args, 32);

	if (rcpt)
		milter_chain_rcpt(
		    s->milter->chain, (const char *const *)args, n, smtpd_milter_answer);
	else
		milter_chain_mail(
		    s->milter->chain, (const char *const *)args, n, smtpd_milter_answer);
	for (size_t i = 0; i < n; i++)
		free(args[i]);
}

static void smtpd_milter_start_mail(struct smtpd_session *s, void *arg)
{
	s->milter->in_msg = true;
	smtpd_milter_start_args(s, arg, false);
}

static void smtpd_milter_start_rcpt(struct smtpd_session *s, void *arg)
{
	smtpd_milter_start_args(s, arg, true);
}

enum smtpd_milter_res smtpd_milter_mail(struct smtpd_session *s, const char *params, size_t len)
{
	struct smtpd_milter_args a = {s->sender, params, len};

	if (s->milter) {
		free(s->milter->mail);
		s->milter->mail = xstrdup(s->sender);
	}
	return smtpd_milter_stage(s, STAGE_MAIL, "MAIL", NULL, smtpd_milter_start_mail, &a);
}

enum smtpd_milter_res smtpd_milter_rcpt(
    struct smtpd_session *s, const char *rcpt, const char *params, size_t len)
{
	struct smtpd_milter_args a = {rcpt, params, len};

	if (s->milter) {
		free(s->milter->rcpt);
		s->milter->rcpt = xstrdup(rcpt);
	}
	return smtpd_milter_stage(s, STAGE_RCPT, "RCPT", rcpt, smtpd_milter_start_rcpt, &a);
}

static void smtpd_milter_start_data(struct smtpd_session *s, void *arg)
{
	(void)arg;
	milter_chain_data(s->milter->chain, smtpd_milter_answer);
}

/* DATA or the first BDAT; when the milters say go on, the message is held. */
enum smtpd_milter_res smtpd_milter_data(struct smtpd_session *s, const char *verb)
{
	enum smtpd_milter_res r =
	    smtpd_milter_stage(s, STAGE_DATA, verb, NULL, smtpd_milter_start_data, NULL);

	if (r == SMTPD_MILTER_OK && s->milter && s->milter->chain) {
		s->milter->holding = true;
		buf_reset(&s->milter->held);
	}
	return r;
}

void smtpd_milter_abort(struct smtpd_session *s)
{
	struct smtpd_milter *m = s->milter;

	if (m == NULL || m->chain == NULL || !m->in_msg || m->busy != STAGE_NONE || m->msg_busy)
		return;
	milter_chain_abort(m->chain);
	m->in_msg = false;
	m->discard = false;
}

bool smtpd_milter_holding(const struct smtpd_session *s)
{
	return s->milter && s->milter->holding;
}

void smtpd_milter_content(struct smtpd_session *s, const char *p, size_t n)
{
	buf_append(&s->milter->held, p, n);
}

/* ------------------------------------------------------------------ */
/* The end of the message                                              */

static void smtpd_milter_add_rcpt(struct smtpd_session *s, const char *addr)
{
	char *a = xstrdup(addr);

	milter_addr_unbracket(a);
	s->rcpts = xreallocarray(s->rcpts, s->nrcpt + 1, sizeof(*s->rcpts));
	s->rcpt_dsn = xreallocarray(s->rcpt_dsn, s->nrcpt + 1, sizeof(*s->rcpt_dsn));
	memset(&s->rcpt_dsn[s->nrcpt], 0, sizeof(s->rcpt_dsn[0]));
	s->rcpts[s->nrcpt++] = a;
}

static void smtpd_milter_del_rcpt(struct smtpd_session *s, const char *addr)
{
	char *a = xstrdup(addr);

	milter_addr_unbracket(a);
	for (size_t i = 0; i < s->nrcpt;) {
		if (!str_case_eq(s->rcpts[i], a)) {
			i++;
			continue;
		}
		free(s->rcpts[i]);
		esmtp_rcpt_free(&s->rcpt_dsn[i]);
		memmove(&s->rcpts[i], &s->rcpts[i + 1], (s->nrcpt - i - 1) * sizeof(*s->rcpts));
		memmove(&s->rcpt_dsn[i], &s->rcpt_dsn[i + 1],
		    (s->nrcpt - i - 1) * sizeof(*s->rcpt_dsn));
		s->nrcpt--;
	}
	free(a);
}

/* CHGFROM, ADDRCPT, DELRCPT on the session's envelope, in order. */
static void smtpd_milter_envelope(struct smtpd_session *s, const struct milter_result *r)
{
	for (size_t i = 0; i < r->nenv; i++) {
		const struct milter_mod *e = &r->env[i];

		switch (e->cmd) {
		case SMFIR_CHGFROM:
			free(s->sender);
			s->sender = xstrdup(e->a);
			milter_addr_unbracket(s->sender);
			break;
		case SMFIR_ADDRCPT:
		case SMFIR_ADDRCPT_PAR: smtpd_milter_add_rcpt(s, e->a); break;
		case SMFIR_DELRCPT: smtpd_milter_del_rcpt(s, e->a); break;
		default: break;
		}
	}
}

/* The message is over without cleanup: the reply, and the next command. */
static void smtpd_milter_end(struct smtpd_session *s, const char *reply, const char *why)
{
	log_info("NOQUEUE: %s: END-OF-MESSAGE from %s[%s]: %s; from=<%s>", why, s->name, s->addr,
	    reply, s->sender ? s->sender : "");
	smtpd_reply(s, "%s", reply);
	smtpd_data_done(s, reply[0] == '2', s->bdat_open);
	message_abort(s);
	session_reset_transaction(s);
	s->state = SMTPD_CMD;
}

static void smtpd_milter_verdict(void *ctx, const struct milter_result *r)
{
	struct smtpd_session *s = ctx;
	struct smtpd_milter *m = s->milter;
	struct buf out = BUF_INIT;
	bool discard;

	m->msg_busy = false;
	m->in_msg = false;
	discard = m->discard; /* a rejection at the end still wins */
	m->discard = false;
	milter_chain_abort(m->chain);
	s->last_io = event_now(s->loop);
	if (r->v == MILTER_REJECT || r->v == MILTER_TEMPFAIL) {
		smtpd_milter_end(s, r->reply, "milter-reject");
	} else if (r->v == MILTER_DISCARD || discard) {
		smtpd_milter_end(s, "250 2.0.0 Ok: discarded", "milter-discard");
	} else {
		smtpd_milter_envelope(s, r);
		if (s->nrcpt == 0) {
			smtpd_milter_end(
			    s, "250 2.0.0 Ok: discarded", "milter removed every recipient");
		} else {
			if (r->quarantine)
				log_info("milter-hold: END-OF-MESSAGE from %s[%s]: %s", s->name,
				    s->addr, r->quarantine);
			milter_msg_write(&m->msg, &out);
			message_commit(s, out.data, out.len, r->quarantine != NULL);
			buf_free(&out);
		}
	}
	smtpd_milter_message_free(s);
	session_run(s);
}

void smtpd_milter_message(struct smtpd_session *s)
{
	struct smtpd_milter *m = s->milter;

	milter_msg_free(&m->msg);
	milter_msg_parse(&m->msg, m->held.data, m->held.len);
	buf_free(&m->held);
	m->holding = false;
	m->msg_busy = true;
	milter_chain_message(m->chain, &m->msg, smtpd_milter_verdict);
}
