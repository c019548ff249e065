/*
 * restrictions.h - Postfix's smtpd_*_restrictions lists, evaluated at the
 * stage Postfix evaluates them.  See restrictions.c.
 */
#ifndef TERN_SMTPD_RESTRICTIONS_H
#define TERN_SMTPD_RESTRICTIONS_H

#include "buf.h"

struct smtpd_session;

enum restr_stage {
	RESTR_CLIENT,
	RESTR_HELO,
	RESTR_SENDER,
	RESTR_RELAY,
	RESTR_RECIPIENT,
	RESTR_DATA,
};

enum restr_result {
	RESTR_OK,	/* go on with the command */
	RESTR_REJECTED, /* reply holds the complete reply line */
	RESTR_WAIT,	/* a DNS answer is awaited: run the command again later */
};

/*
 * Runs the lists due for a command: at HELO the client and HELO lists
 * (only when smtpd_delay_reject = no), at MAIL those and the sender list
 * (likewise), at RCPT every earlier list then relay and recipient, at DATA
 * the data list.  stage is the command's own stage; rcpt is the recipient
 * at RCPT, else NULL.
 */
enum restr_result restr_check(
    struct smtpd_session *s, enum restr_stage stage, const char *rcpt, struct buf *reply);

/* Parses an access table result; exposed for tests.  Returns 1 permit,
 * 0 continue (DUNNO or unknown), -1 reject/defer with reply filled, and
 * RESTR_ACTION_DEFER_IF_PERMIT / _IF_REJECT with the 4xx reply filled
 * that replaces a later permit / reject. */
#define RESTR_ACTION_DEFER_IF_PERMIT 2
#define RESTR_ACTION_DEFER_IF_REJECT 3
int restr_access_action(
    const char *value, const char *what, const char *subject, struct buf *reply);

#endif
