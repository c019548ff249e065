/*
 * milter/chain.h - the milters of one SMTP session, asked in turn.
 *
 * A chain holds one milter_conn per entry of a milter list (smtpd_milters
 * or non_smtpd_milters: "unix:/path" or "inet:host:port", separated by
 * commas or spaces, or Postfix's "{ inet:host:port, default_action=accept,
 * connect_timeout=5s, command_timeout=..., content_timeout=... }").  Each
 * SMTP stage is one event: the milters are asked one after the other,
 * with the macros of that stage (milter_*_macros, or the filter's own
 * list), and the first one that rejects, tempfails or discards decides.
 *
 * A milter that accepts is not asked again for the rest of the message
 * (after connect or HELO: of the connection).  A milter that fails is
 * handled by its default action (milter_default_action): accept skips it
 * from then on, tempfail and reject answer for it at every later event,
 * quarantine holds the message.
 *
 * The message event sends the header fields, end of header, the body in
 * chunks (LF turned into CRLF, as filters expect) and end of message to
 * each milter in turn, applies its header and body edits to the message
 * before the next milter sees it, and hands the envelope edits (change
 * sender, add and delete recipients) and quarantine to the caller.
 *
 * Events are asynchronous; the done callback runs once per event, from
 * the event loop, never inside a milter_chain_* call.  One event at a
 * time; the chain may be freed from a done callback.
 */
#ifndef TERN_MILTER_CHAIN_H
#define TERN_MILTER_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "milter/client.h"
#include "milter/edit.h"

struct milter_result {
	enum milter_verdict v; /* CONTINUE, REJECT, TEMPFAIL or DISCARD */
	const char *reply;     /* for REJECT and TEMPFAIL: the SMTP reply */
	/* The message event only: */
	const struct milter_mod *env; /* CHGFROM, ADDRCPT(_PAR), DELRCPT in order */
	size_t nenv;
	const char *quarantine; /* a reason when the message is to be held */
};

/* Value of a macro (name as in the lists, e.g. "j" or "{mail_addr}"), or
 * NULL when unknown: then it is not sent. */
typedef const char *milter_macro_fn(void *ctx, const char *name);
typedef void milter_chain_done_fn(void *ctx, const struct milter_result *r);

struct milter_chain;

/* NULL when list names no milter; *err set when it does not parse. */
struct milter_chain *milter_chain_new(
    struct event_loop *loop, const char *list, milter_macro_fn *macro, void *ctx, struct buf *err);
void milter_chain_free(struct milter_chain *ch);
bool milter_chain_syntax_ok(const char *list, struct buf *err);
/* At a daemon's start: a list in parameter param that does not parse is
 * fatal (tern check says the same earlier). */
void milter_chain_check_param(const char *param);
/* The macros that describe this server rather than the session (j,
 * {daemon_name}, v); NULL for any other name. */
const char *milter_macro_server(const char *name);

/* family: '4', '6', 'L' or 'U'. */
void milter_chain_connect(struct milter_chain *ch, const char *host, char family, int port,
    const char *addr, milter_chain_done_fn *fn);
void milter_chain_helo(struct milter_chain *ch, const char *helo, milter_chain_done_fn *fn);
/* args[0] is "<address>", then ESMTP parameters. */
void milter_chain_mail(
    struct milter_chain *ch, const char *const *args, size_t n, milter_chain_done_fn *fn);
void milter_chain_rcpt(
    struct milter_chain *ch, const char *const *args, size_t n, milter_chain_done_fn *fn);
void milter_chain_data(struct milter_chain *ch, milter_chain_done_fn *fn);
/* msg is edited in place; it must live until fn ran. */
void milter_chain_message(
    struct milter_chain *ch, struct milter_msg *msg, milter_chain_done_fn *fn);
/* The transaction ended (RSET, a new MAIL, a rejection, the end of a
 * message): milters that saw it are told to forget it, without waiting. */
void milter_chain_abort(struct milter_chain *ch);

#endif
