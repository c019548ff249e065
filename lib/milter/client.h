/*
 * milter/client.h - one conversation with one milter, in an event loop.
 *
 * A milter_conn connects (unix:/path or inet:host:port), negotiates
 * (OPTNEG: protocol 6, the actions and steps we allow), then runs jobs: a
 * job is a run of packets built with codec.h, sent one at a time; the
 * client waits for the filter's reply where the protocol wants one (not
 * after macros, nor after steps the filter asked not to answer), skips
 * steps the filter asked not to see, and ends the job at the first
 * decisive reply or after the last packet.  Modification replies are
 * taken only while the end-of-message packet waits for its answer, and
 * only for actions negotiated; they are kept for the caller to apply.
 *
 * Every wait is bounded: connect_ms for connecting and negotiating,
 * command_ms for a reply to connect/helo/mail/rcpt/data, content_ms for
 * header/body/end-of-message (a PROGRESS reply restarts that clock).  A
 * broken, slow or misbehaving filter ends the job with MILTER_FAILED and
 * the connection is closed; the caller applies milter_default_action.
 *
 * The done callback runs once per job, always from the event loop (never
 * from inside a milter_conn_* call), and is the last thing the client
 * does then, so the owner may free the conn from it.
 */
#ifndef TERN_MILTER_CLIENT_H
#define TERN_MILTER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "milter/codec.h"

enum milter_verdict {
	MILTER_CONTINUE,
	MILTER_ACCEPT, /* the filter wants no more of this message (connection) */
	MILTER_REJECT,
	MILTER_TEMPFAIL,
	MILTER_DISCARD,
	MILTER_FAILED, /* no usable answer: milter_default_action applies */
};

/* A modification reply (cmd is the SMFIR_ letter). */
struct milter_mod {
	char cmd;
	uint32_t index; /* CHGHEADER, INSHEADER */
	char *a;	/* header name, address, quarantine reason */
	char *b;	/* header value, ESMTP arguments; REPLBODY: the bytes */
	size_t blen;
};

struct milter_timeouts {
	long connect_ms, command_ms, content_ms;
	unsigned version; /* offered (milter_protocol): 2..6 */
};

/* reply: REPLYCODE's text for REJECT/TEMPFAIL (NULL: the filter gave
 * none), or why it FAILED. */
typedef void milter_done_fn(void *ctx, enum milter_verdict v, const char *reply);

struct milter_conn;

/* spec: "unix:/path" or "inet:host:port"; name is for logs. */
struct milter_conn *milter_conn_new(
    struct event_loop *loop, const char *spec, const struct milter_timeouts *t);
void milter_conn_free(struct milter_conn *c);

/* Connects and negotiates; CONTINUE when ready, FAILED otherwise.  actions
 * and protocol are what we offer (SMFIF_*, SMFIP_*). */
void milter_conn_start(
    struct milter_conn *c, uint32_t actions, uint32_t protocol, milter_done_fn *fn, void *ctx);
/* Runs a job (packets is copied).  Only when ready and idle. */
void milter_conn_run(
    struct milter_conn *c, const struct buf *packets, milter_done_fn *fn, void *ctx);
/* Sends packets that get no reply (ABORT, QUIT) as far as the socket takes
 * them now, without waiting; only when ready and idle. */
void milter_conn_tell(struct milter_conn *c, const struct buf *packets);

bool milter_conn_ready(const struct milter_conn *c); /* negotiated, not broken */
const char *milter_conn_spec(const struct milter_conn *c);
uint32_t milter_conn_protocol(const struct milter_conn *c); /* the filter's SMFIP_ */
uint32_t milter_conn_actions(const struct milter_conn *c);
/* Macro names the filter asked for at a stage (SETSYMLIST), or NULL. */
const char *milter_conn_symlist(const struct milter_conn *c, enum milter_stage stage);

/* The modifications of the last job, in the order received. */
const struct milter_mod *milter_conn_mods(const struct milter_conn *c, size_t *n);
void milter_conn_mods_clear(struct milter_conn *c);

#endif
