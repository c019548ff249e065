/*
 * milter.c - non_smtpd_milters for local submissions (see milter.h).
 *
 * One chain per message: the events follow one another from the chain's
 * done callback (connect, EHLO, MAIL, each RCPT, DATA, the message); the
 * first that does not say "go on" decides.  The envelope edits of the
 * end of message (CHGFROM, ADDRCPT, DELRCPT) are applied to cm's own
 * envelope, the header and body edits to the held message.
 *
 * As in Postfix, the milters see the message as it was submitted; unlike
 * Postfix, that is before cleanup adds its Received: and any missing
 * Date:, Message-ID: and From: (Postfix asks them after writing the queue
 * file), so a signing milter signs what the user wrote.
 */
#include "milter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "milter/chain.h"
#include "util.h"

#define CM_HOST "localhost"
#define CM_ADDR "127.0.0.1"

enum cm_step { STEP_CONNECT, STEP_HELO, STEP_MAIL, STEP_RCPT, STEP_DATA, STEP_MESSAGE };

static const char *const cm_stage_name[] = {
    "CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE"};

struct cm_priv {
	struct milter_chain *chain;
	enum cm_step step;
	size_t rcpt; /* STEP_RCPT: the one being asked */
	struct milter_msg msg;
	cleanup_milter_done_fn *done;
	void *ctx;
	char macro[64];
};

bool cleanup_milter_enabled(void)
{
	return *config_str("non_smtpd_milters") != '\0';
}

void cleanup_milter_init(void)
{
	milter_chain_check_param("non_smtpd_milters");
}

/* The macros Postfix gives non-SMTP milters, as far as they mean anything. */
static const char *cm_macro(void *ctx, const char *name)
{
	struct cleanup_milter *cm = ctx;
	struct cm_priv *p = cm->priv;
	const char *server = milter_macro_server(name);

	if (server != NULL)
		return server;
	if (strcmp(name, "_") == 0)
		return CM_HOST " [" CM_ADDR "]";
	if (strcmp(name, "{client_addr}") == 0)
		return CM_ADDR;
	if (strcmp(name, "{client_name}") == 0 || strcmp(name, "{client_ptr}") == 0)
		return CM_HOST;
	if (strcmp(name, "{client_port}") == 0)
		return "0";
	if (strcmp(name, "{mail_addr}") == 0)
		return p->step >= STEP_MAIL ? cm->sender : NULL;
	if (strcmp(name, "{rcpt_addr}") == 0 && p->step == STEP_RCPT)
		return cm->rcpt[p->rcpt].addr;
	if (strcmp(name, "{mail_mailer}") == 0 || strcmp(name, "{rcpt_mailer}") == 0)
		return "local";
	return NULL;
}

struct cleanup_milter *cleanup_milter_new(struct event_loop *loop, const char *sender)
{
	struct cleanup_milter *cm = xcalloc(1, sizeof(*cm));
	struct cm_priv *p = xcalloc(1, sizeof(*p));
	struct buf err = BUF_INIT;

	cm->priv = p;
	cm->sender = xstrdup(sender);
	/* The list parsed at start (cleanup_milter_init): no error here. */
	p->chain = milter_chain_new(loop, config_str("non_smtpd_milters"), cm_macro, cm, &err);
	buf_free(&err);
	return cm;
}

void cleanup_milter_add_rcpt(
    struct cleanup_milter *cm, const char *addr, const char *orcpt, const char *notify)
{
	struct cleanup_milter_rcpt *r;

	cm->rcpt = xreallocarray(cm->rcpt, cm->nrcpt + 1, sizeof(*cm->rcpt));
	r = &cm->rcpt[cm->nrcpt++];
	r->addr = xstrdup(addr);
	r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
	r->notify = notify ? xstrdup(notify) : NULL;
}

static void cm_rcpt_free(struct cleanup_milter_rcpt *r)
{
	free(r->addr);
	free(r->orcpt);
	free(r->notify);
}

void cleanup_milter_free(struct cleanup_milter *cm)
{
	struct cm_priv *p;

	if (cm == NULL)
		return;
	p = cm->priv;
	milter_chain_free(p->chain);
	milter_msg_free(&p->msg);
	free(p);
	for (size_t i = 0; i < cm->nrcpt; i++)
		cm_rcpt_free(&cm->rcpt[i]);
	free(cm->rcpt);
	free(cm->sender);
	buf_free(&cm->message);
	free(cm->reply);
	free(cm->quarantine);
	free(cm);
}

static void cm_answer(void *ctx, const struct milter_result *r);

/* "<addr>" as MAIL and RCPT carry it (Sendmail sends <> bare too). */
static void cm_ask_addr(struct cleanup_milter *cm, const char *addr, bool rcpt)
{
	struct cm_priv *p = cm->priv;
	char *arg = xasprintf("<%s>", addr);
	const char *args[1] = {arg};

	if (rcpt)
		milter_chain_rcpt(p->chain, args, 1, cm_answer);
	else
		milter_chain_mail(p->chain, args, 1, cm_answer);
	free(arg);
}

/* Starts the event of p->step. */
static void cm_ask(struct cleanup_milter *cm)
{
	struct cm_priv *p = cm->priv;

	switch (p->step) {
	case STEP_CONNECT:
		milter_chain_connect(p->chain, CM_HOST, '4', 0, CM_ADDR, cm_answer);
		break;
	case STEP_HELO: milter_chain_helo(p->chain, CM_HOST, cm_answer); break;
	case STEP_MAIL: cm_ask_addr(cm, cm->sender, false); break;
	case STEP_RCPT: cm_ask_addr(cm, cm->rcpt[p->rcpt].addr, true); break;
	case STEP_DATA: milter_chain_data(p->chain, cm_answer); break;
	case STEP_MESSAGE:
		milter_msg_parse(&p->msg, buf_cstr(&cm->message), cm->message.len);
		milter_chain_message(p->chain, &p->msg, cm_answer);
		break;
	}
}

static void cm_del_rcpt(struct cleanup_milter *cm, const char *addr)
{
	for (size_t i = 0; i < cm->nrcpt;) {
		if (!str_case_eq(cm->rcpt[i].addr, addr)) {
			i++;
			continue;
		}
		cm_rcpt_free(&cm->rcpt[i]);
		memmove(&cm->rcpt[i], &cm->rcpt[i + 1], (cm->nrcpt - i - 1) * sizeof(*cm->rcpt));
		cm->nrcpt--;
	}
}

/* The end of message's envelope edits, in order, and the edited message. */
static void cm_apply(struct cleanup_milter *cm, const struct milter_result *r)
{
	struct cm_priv *p = cm->priv;

	for (size_t i = 0; i < r->nenv; i++) {
		char *a = xstrdup(r->env[i].a);

		milter_addr_unbracket(a);
		switch (r->env[i].cmd) {
		case SMFIR_CHGFROM:
			free(cm->sender);
			cm->sender = a;
			a = NULL;
			break;
		case SMFIR_ADDRCPT:
		case SMFIR_ADDRCPT_PAR: cleanup_milter_add_rcpt(cm, a, NULL, NULL); break;
		case SMFIR_DELRCPT: cm_del_rcpt(cm, a); break;
		default: break;
		}
		free(a);
	}
	if (r->quarantine)
		cm->quarantine = xstrdup(r->quarantine);
	buf_reset(&cm->message);
	milter_msg_write(&p->msg, &cm->message);
}

/* The decision is made: the caller hears it (and may free cm). */
static void cm_decide(struct cleanup_milter *cm, enum cleanup_milter_verdict v, const char *reply)
{
	struct cm_priv *p = cm->priv;

	cm->verdict = v;
	cm->stage = cm_stage_name[p->step];
	if (reply)
		cm->reply = xstrdup(reply);
	p->done(p->ctx, cm);
}

static void cm_answer(void *ctx, const struct milter_result *r)
{
	struct cleanup_milter *cm = ctx;
	struct cm_priv *p = cm->priv;

	if (r->v == MILTER_REJECT || r->v == MILTER_TEMPFAIL) {
		if (p->step == STEP_RCPT) {
			/* Postfix: "milter configuration error: can't reject
			 * recipient in non-smtpd(8) submission". */
			log_warn("milter configuration error: can't reject recipient <%s> in "
				 "a local submission (%s)",
			    cm->rcpt[p->rcpt].addr, r->reply);
			cm_decide(cm, CM_CONFIG, "451 4.3.5 Server configuration error");
		} else {
			cm_decide(cm, r->v == MILTER_REJECT ? CM_REJECT : CM_TEMPFAIL, r->reply);
		}
		return;
	}
	if (r->v == MILTER_DISCARD) {
		cm_decide(cm, CM_DISCARD, NULL);
		return;
	}
	if (p->step == STEP_MESSAGE) {
		cm_apply(cm, r);
		cm_decide(cm, CM_ACCEPT, NULL);
		return;
	}
	if (p->step == STEP_RCPT && p->rcpt + 1 < cm->nrcpt)
		p->rcpt++;
	else
		p->step++;
	cm_ask(cm);
}

void cleanup_milter_run(struct cleanup_milter *cm, cleanup_milter_done_fn *done, void *ctx)
{
	struct cm_priv *p = cm->priv;

	p->done = done;
	p->ctx = ctx;
	p->step = STEP_CONNECT;
	p->rcpt = 0;
	cm_ask(cm);
}
