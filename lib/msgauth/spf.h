/*
 * spf.h - Sender Policy Framework (RFC 7208): is this client allowed to
 * send mail for this domain?
 *
 * One evaluator (spf.c) over a store of DNS answers, driven two ways
 * (spf_check.c):
 * - asynchronously inside an event loop (smtpd): spf_check_start asks
 *   c-ares through lib/dns, the result comes to a callback, always later
 *   and from the loop, never from inside spf_check_start; spf_check_cancel
 *   drops a check whose client went away;
 * - blocking (spf_check_blocking), for tools such as "tern spf".
 *
 * Everything of RFC 7208 is implemented: all mechanisms and modifiers,
 * macros (spf_macro.c), the limit of 10 DNS-querying terms and of 2 void
 * look-ups (4.6.4), exp= explanations (6.2), redirect=, include, and the
 * initial checks of 4.3.  The whole evaluation is bounded by
 * SPF_CHECK_TIMEOUT_MS (RFC 7208 4.6.4 suggests at least 20 s).
 *
 * Not here: the deprecated SPF record type 99 (RFC 7208 3.1: TXT only),
 * DMARC, and any policy: what to do with the result is the caller's.
 */
#ifndef TERN_MSGAUTH_SPF_H
#define TERN_MSGAUTH_SPF_H

#include <stdbool.h>

#include "buf.h"

#define SPF_CHECK_TIMEOUT_MS 20000

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* What to check.  sender is the MAIL FROM address (empty or NULL: the
 * HELO identity is checked, as "postmaster@helo", RFC 7208 2.3/2.4). */
struct spf_query {
	const char *ip;		 /* the client's address, text */
	const char *sender;	 /* MAIL FROM, without <> */
	const char *helo;	 /* HELO/EHLO argument */
	const char *receiver;	 /* %{r}: our host name (NULL: "unknown") */
	const char *default_exp; /* explanation when the domain gives none
				    (a macro-string; NULL: a built-in one) */
	bool helo_identity;	 /* check the HELO identity even though sender
				    is set (RFC 7208 2.3); sender then only
				    goes into Received-SPF's envelope-from */
};

struct spf_outcome {
	enum spf_result result;
	char *domain;	   /* the domain checked (NULL when none) */
	char *mechanism;   /* the term that decided, or "default" */
	char *explanation; /* for fail: exp= text or default_exp */
	char *problem;	   /* temperror/permerror/none: why */
};

const char *spf_result_name(enum spf_result r);
void spf_outcome_free(struct spf_outcome *o);

/* The result and whatever explains it, for a log line. */
void spf_outcome_describe(const struct spf_outcome *o, struct buf *out);

/*
 * The value of a Received-SPF: header (RFC 7208 9.1), without the name:
 * "pass (receiver: domain of s designates ip as permitted sender)
 * client-ip=...; envelope-from="..."; helo=...; receiver=...;".
 */
void spf_received_value(
    const struct spf_query *q, const struct spf_outcome *o, const char *receiver, struct buf *out);

/* ------------------------------------------------------------ checking */

struct event_loop;
struct spf_check;

/* o and its strings are valid during the call only. */
typedef void spf_done_fn(void *ctx, const struct spf_outcome *o);

/*
 * Starts a check inside loop (dns_event_attach must have been called for
 * it); q is copied.  fn runs exactly once, later, unless cancelled first.
 */
struct spf_check *spf_check_start(
    struct event_loop *loop, const struct spf_query *q, spf_done_fn *fn, void *ctx);
/* fn will not run; the handle is gone. */
void spf_check_cancel(struct spf_check *c);

/* The same, blocking on lib/dns's blocking look-ups; *out: free it with
 * spf_outcome_free. */
void spf_check_blocking(const struct spf_query *q, struct spf_outcome *out);

#endif
