/*
 * dsn.h - delivery status notifications (RFC 3464), composed as text.
 *
 * What Postfix's bounce daemon writes, as a pure library function: given
 * the original message's envelope, its content and the per-recipient
 * results, dsn_compose() appends one complete message (header section,
 * empty line, body; LF line ends, as cleanup takes content) of type
 * multipart/report; report-type=delivery-status with three parts:
 *   1. text/plain          what happened, for a human
 *   2. message/delivery-status  per-message and per-recipient fields
 *   3. message/rfc822 (the whole original) or text/rfc822-headers
 *      (RET=HDRS, a delay or success notice, or an original larger than
 *      the caller's size limit)
 *
 * Nothing here reads files, sends mail or decides who is notified: qmgr
 * does that (NOTIFY, the null sender, double bounces).  Every value that
 * lands in a header field is made safe (control characters replaced,
 * length clipped) so a hostile address or remote reply cannot inject
 * header lines or MIME boundaries.
 */
#ifndef TERN_DSN_H
#define TERN_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum dsn_kind {
	DSN_FAILURE, /* Action: failed   - the bounce */
	DSN_DELAY,   /* Action: delayed  - delay_warning_time notice */
	DSN_SUCCESS, /* Action: delivered - NOTIFY=SUCCESS */
};

/* RFC 3461 NOTIFY keywords, as a bit set. */
#define DSN_NOTIFY_NEVER 1
#define DSN_NOTIFY_SUCCESS 2
#define DSN_NOTIFY_FAILURE 4
#define DSN_NOTIFY_DELAY 8
/* No NOTIFY given: RFC 3461 section 4.1 leaves it to the MTA; like
 * Postfix, tern then reports failures and delays. */
#define DSN_NOTIFY_DEFAULT (DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)

struct dsn_rcpt {
	const char *addr;   /* Final-Recipient */
	const char *orcpt;  /* Original-Recipient or NULL ("type;addr" or addr) */
	const char *status; /* "5.1.1" */
	const char *diag;   /* the agent's or remote's reply, or NULL */
	bool relayed;	    /* DSN_SUCCESS: "Action: relayed" (pipe without X) */
};

struct dsn_report {
	enum dsn_kind kind;
	const char *hostname;	/* Reporting-MTA and the From: domain */
	const char *to;		/* who receives this notice */
	const char *qid;	/* queue ID of the original */
	const char *sender;	/* original envelope sender ("" = <>) */
	const char *envid;	/* ENVID or NULL */
	long long arrival_usec; /* of the original */
	long long now_usec;	/* Date: of the notice */
	const struct dsn_rcpt *rcpts;
	size_t nrcpt;
	const char *header; /* original header section (LF ends) */
	size_t header_len;
	const char *body; /* original body, or NULL: headers only */
	size_t body_len;
	bool postmaster_copy; /* a double bounce: say so in the text */
};

/* Parses a NOTIFY value ("SUCCESS,DELAY", any case); NULL or empty gives
 * DSN_NOTIFY_DEFAULT; unknown words are ignored. */
unsigned dsn_notify_parse(const char *notify);
/* True when RET asks for headers only ("HDRS", any case). */
bool dsn_ret_hdrs(const char *ret);
/* The length of the RFC 3463 status code ("5.7.1") that starts s, when a
 * space, a line end (CR or LF) or the end of the string follows it; else
 * 0.  The one reader of status codes: SMTP replies, milter replies,
 * commands' output. */
size_t dsn_code_len(const char *s);
/* Appends the notice described by r to out. */
void dsn_compose(const struct dsn_report *r, struct buf *out);

/*
 * The Postfix-shaped delivery log line, for qmgr and every delivery agent
 * (lib/dsn_log.c):
 *   to=<rcpt>, [orig_to=<orcpt>, ]relay=R, delay=D, delays=a/b/c/d,
 *   dsn=X.Y.Z, status=S (reason)
 * Times are microseconds since the epoch, 0 when unknown (that leg then
 * counts as 0).  delays are: a before qmgr (arrival to activation),
 * b in qmgr (activation to the request), c connection set-up in the
 * agent (request to connected), d transmission (connected to done);
 * delay is their sum, done - arrival.  The caller logs it with log_qid.
 */
struct dsn_log {
	const char *rcpt, *orcpt, *relay, *dsn, *status, *reason;
	long long arrival, activated, request, connected, done;
};

void dsn_log_format(struct buf *out, const struct dsn_log *l);
/* The address orig_to= shows for an ORCPT as the queue keeps it
 * ("type;address", decoded, or a bare address): the type stripped,
 * appended to out.  false (out untouched) when orcpt is absent or names
 * the same address as rcpt (any case), as Postfix then omits it. */
bool dsn_log_orig_to(const char *rcpt, const char *orcpt, struct buf *out);
/* A duration in seconds as Postfix writes it: "0", "0.03", "1.5", "12". */
void dsn_log_seconds(struct buf *out, double s);

#endif
