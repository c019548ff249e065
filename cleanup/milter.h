/*
 * milter.h - non_smtpd_milters: the milters of local submissions (pickup),
 * asked by cleanup as Postfix's cleanup asks them.
 *
 * There is no SMTP session, so the events are played as if the message
 * came by ESMTP from "localhost" [127.0.0.1] port 0: connect, EHLO
 * localhost, MAIL FROM with the sender, RCPT TO for each recipient, DATA,
 * then the header, body and end of message (lib/milter/chain.h).  The
 * message is held in memory (at most message_size_limit) while they are
 * asked; conn.c then writes it, edited, as it writes any message.
 *
 * The verdict, as Postfix's cleanup_milter_apply() gives it:
 *   CM_ACCEPT    go on with the edited message, envelope and hold flag;
 *   CM_REJECT    a 5xx: the message is queued and bounced to its sender
 *                with the milter's reply (pickup has nobody to answer);
 *   CM_TEMPFAIL  a 4xx: not accepted now; pickup leaves the maildrop file
 *                and tries again later;
 *   CM_DISCARD   accepted and thrown away;
 *   CM_CONFIG    a milter rejected or tempfailed a recipient, which
 *                Postfix calls a configuration error: 4.3.5, tried later.
 */
#ifndef TERN_CLEANUP_MILTER_H
#define TERN_CLEANUP_MILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "event.h"

enum cleanup_milter_verdict { CM_ACCEPT, CM_REJECT, CM_TEMPFAIL, CM_DISCARD, CM_CONFIG };

struct cleanup_milter_rcpt {
	char *addr, *orcpt, *notify; /* orcpt, notify may be NULL */
};

struct cleanup_milter {
	/* The envelope: as given, then as the milters edited it. */
	char *sender;
	struct cleanup_milter_rcpt *rcpt;
	size_t nrcpt;
	struct buf message; /* as received, then as edited (CM_ACCEPT) */
	/* The verdict, once done ran. */
	enum cleanup_milter_verdict verdict;
	char *reply;	   /* CM_REJECT, CM_TEMPFAIL: the SMTP reply */
	const char *stage; /* where it was decided: "CONNECT", ..., "END-OF-MESSAGE" */
	char *quarantine;  /* CM_ACCEPT: a reason when the message is to be held */
	void *priv;	   /* milter.c's own */
};

typedef void cleanup_milter_done_fn(void *ctx, struct cleanup_milter *cm);

/* True when non_smtpd_milters names a milter. */
bool cleanup_milter_enabled(void);
/* Stops cleanup at start when non_smtpd_milters does not parse. */
void cleanup_milter_init(void);

/* sender and the recipients (addresses qualified) are copied. */
struct cleanup_milter *cleanup_milter_new(struct event_loop *loop, const char *sender);
void cleanup_milter_add_rcpt(
    struct cleanup_milter *cm, const char *addr, const char *orcpt, const char *notify);
/* Runs every event; done runs once, from the event loop, with the verdict. */
void cleanup_milter_run(struct cleanup_milter *cm, cleanup_milter_done_fn *done, void *ctx);
void cleanup_milter_free(struct cleanup_milter *cm);

#endif
