/*
 * message.c - the DATA phase: from 354 to the final reply.
 *
 * The 354 itself waits for cleanup's "ready": the queue file exists and
 * the envelope (after virtual alias expansion) is written.
 *
 * Content is decoded (data.c) straight from the session's input buffer and
 * streamed to cleanup as it arrives; it is never held whole.  The client
 * is told 250 only after cleanup answered ok, which cleanup does only once
 * the queue file is fsync'ed and marked complete (DESIGN.md invariant 1).
 *
 * Once something went wrong - the message grew past message_size_limit,
 * cleanup refused it, failed or stalled - the rest of the content is read
 * and discarded up to the final dot, because the client cannot hear a
 * reply before then (RFC 5321 4.2.5), and that reply is the one given.
 *
 * Not here: reading the socket (session.c), the DATA command's checks
 * (commands.c), the protocol records' encoding details (cleanup_client.c).
 */
#include <errno.h>
#include <string.h>

#include "cleanup_client.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "milter.h"
#include "proto.h"
#include "smtpd.h"
#include "smtpd_spf.h"
#include "util.h"

#define MESSAGE_WRITE_ERROR "451 4.3.0 Error: queue file write error"

static size_t message_count_char(const char *p, size_t n, char c)
{
	const char *end = p + n;
	size_t k = 0;

	while (p < end && (p = memchr(p, c, (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

static void message_result(void *ctx, enum cleanup_status st, const char *text);
static void message_drain(void *ctx);

static void message_begin_record(
    const struct smtpd_session *s, struct buf *rec, bool ready, bool hold)
{
	ipc_put_str(rec, A_OP, OP_BEGIN);
	if (ready)
		ipc_put_str(rec, A_READY, "yes");
	ipc_put_str(rec, A_SENDER, s->sender);
	for (size_t i = 0; i < s->nrcpt; i++) {
		ipc_put_str(rec, A_RCPT, s->rcpts[i]);
		if (s->rcpt_dsn[i].orcpt)
			ipc_put_str(rec, A_ORCPT, s->rcpt_dsn[i].orcpt);
		if (s->rcpt_dsn[i].notify)
			ipc_put_str(rec, A_NOTIFY, s->rcpt_dsn[i].notify);
	}
	if (s->dsn_ret)
		ipc_put_str(rec, A_RET, s->dsn_ret);
	if (s->dsn_envid)
		ipc_put_str(rec, A_ENVID, s->dsn_envid);
	if (s->smtputf8)
		ipc_put_str(rec, A_SMTPUTF8, "yes");
	if (s->requiretls)
		ipc_put_str(rec, A_REQUIRETLS, "yes");
	ipc_put_str(rec, A_CLIENT_NAME, s->name);
	ipc_put_str(rec, A_CLIENT_ADDR, s->addr);
	ipc_put_int(rec, A_CLIENT_PORT, s->port);
	ipc_put_str(rec, A_HELO, s->helo ? s->helo : "");
	ipc_put_str(rec, A_PROTOCOL, smtpd_protocol(s));
	if (s->tls_phase == SMTPD_TLS_ACTIVE) {
		ipc_put_str(rec, A_TLS_PROTO, s->tls_info.protocol);
		ipc_put_str(rec, A_TLS_CIPHER, s->tls_info.cipher);
		ipc_put_int(rec, A_TLS_BITS, s->tls_info.bits);
		if (s->tls_info.fingerprint[0])
			ipc_put_str(rec, A_TLS_CCERT_FP, s->tls_info.fingerprint);
	}
	if (s->size_decl >= 0)
		ipc_put_int(rec, A_SIZE, s->size_decl);
	if (s->sasl_user) {
		/* Postfix's local_header_rewrite_clients = permit_sasl_authenticated. */
		ipc_put_str(rec, A_SASL_METHOD, s->sasl_method);
		ipc_put_str(rec, A_SASL_USER, s->sasl_user);
		ipc_put_str(rec, A_REWRITE, "yes");
	}
	if (hold)
		ipc_put_str(rec, A_HOLD, "yes");
	smtpd_spf_attrs(s, rec);
	ipc_end(rec);
}

/* "QID: client=name[addr]", once per message: Postfix's smtpd line, which
 * log readers (pflogsumm) need before cleanup's "from=<>, size=" line. */
static void message_log_client(struct smtpd_session *s, const char *qid)
{
	if (s->client_logged || qid == NULL || *qid == 0)
		return;
	s->client_logged = true;
	if (s->sasl_user)
		log_qid(qid, "client=%s[%s], sasl_method=%s, sasl_username=%s", s->name, s->addr,
		    s->sasl_method, s->sasl_user);
	else
		log_qid(qid, "client=%s[%s]", s->name, s->addr);
}

/* Connects to cleanup and sends the envelope; false when cleanup is down.
 * With ready, cleanup first says when the queue file exists (and its
 * queue ID: the client= line is logged then, before the message's data
 * is sent, so before cleanup logs the message). */
static bool message_cleanup(struct smtpd_session *s, bool ready, bool hold)
{
	struct buf rec = BUF_INIT;

	s->client_logged = false;
	s->cleanup = cleanup_client_open(s->loop, message_result, message_drain, s);
	if (s->cleanup == NULL) {
		log_warn("connect to cleanup service: %s", strerror(errno));
		return false;
	}
	message_begin_record(s, &rec, ready, hold);
	cleanup_client_send(s->cleanup, &rec);
	smtpd_spf_prepend(s, s->cleanup);
	buf_free(&rec);
	return true;
}

/*
 * Opens the cleanup conversation; false (and a 451) when cleanup is down.
 * A message held for milters (milter.c) goes to cleanup only at its end.
 */
static bool message_connect(struct smtpd_session *s, bool ready)
{
	if (!smtpd_milter_holding(s) && !message_cleanup(s, ready, false)) {
		smtpd_reply(s, MESSAGE_WRITE_ERROR);
		return false;
	}
	s->msg_size = 0;
	s->too_big = false;
	s->bdat_cr = false;
	return true;
}

bool message_open(struct smtpd_session *s)
{
	/* BDAT: no 354 to wait for; the ready step names the queue ID. */
	return message_connect(s, true);
}

/* cleanup is ready for the content: now the 354. */
static void message_ready(struct smtpd_session *s)
{
	data_decoder_init(&s->dec);
	s->state = SMTPD_DATA;
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/*
 * DATA: opens the cleanup conversation; the 354 waits for cleanup's
 * "ready" (the queue file exists, the envelope is written), so that a
 * client is never invited to send a message that cannot be stored: a
 * full disk or a broken queue is a 4xx to DATA, not after the message.
 * A message held for the milters gets its 354 at once.
 */
bool message_start(struct smtpd_session *s)
{
	if (!message_connect(s, true))
		return false;
	if (smtpd_milter_holding(s))
		message_ready(s); /* cleanup comes after the milters */
	else
		s->state = SMTPD_DATA_OPEN;
	return true;
}

/* cleanup could not start the queue file: the DATA command fails. */
static void message_open_failed(struct smtpd_session *s, const char *reply)
{
	smtpd_reject(s, "DATA", s->sender, NULL, "%s", reply);
	message_abort(s);
	session_reset_transaction(s);
	s->state = SMTPD_CMD;
}

void message_abort(struct smtpd_session *s)
{
	smtpd_milter_message_free(s);
	s->bdat_open = false;
	cleanup_client_close(s->cleanup);
	s->cleanup = NULL;
	free(s->data_error);
	s->data_error = NULL;
	s->too_big = false;
}

/* Decides the final reply now; it is sent after the final dot. */
static void message_fail(struct smtpd_session *s, char *reply)
{
	cleanup_client_close(s->cleanup);
	s->cleanup = NULL;
	if (s->data_error == NULL)
		s->data_error = reply;
	else
		free(reply);
}

/* The final reply; the transaction is over either way (RFC 5321 4.1.1.4). */
void message_finish(struct smtpd_session *s, const char *reply, const char *qid)
{
	if (qid) {
		message_log_client(s, qid);
		smtpd_reply(s, "%s", reply);
	} else {
		smtpd_reject(s, "END-OF-MESSAGE", s->sender, NULL, "%s", reply);
	}
	smtpd_data_done(s, qid != NULL, s->bdat_open);
	message_abort(s);
	session_reset_transaction(s);
	s->state = SMTPD_CMD;
}

static char *message_verdict(enum cleanup_status st, const char *text)
{
	switch (st) {
	case CLEANUP_OK: return xasprintf("250 2.0.0 Ok: queued as %s", text);
	case CLEANUP_DEFER:
		/* RFC 3463: 4.3.1 is "mail system full", answered 452. */
		return xasprintf("%s %s", strncmp(text, "4.3.1", 5) == 0 ? "452" : "451", text);
	case CLEANUP_REJECT:
		/* A policy refusal (DMARC, RFC 7489 7.3; header/body checks, as
		 * Postfix) is 550 5.7.x; anything else 554. */
		return xasprintf("%s %s", strncmp(text, "5.7.", 4) == 0 ? "550" : "554", text);
	case CLEANUP_FAILED:
	case CLEANUP_READY: break;
	}
	log_warn("cleanup service: %s", text);
	return xstrdup(MESSAGE_WRITE_ERROR);
}

static void message_result(void *ctx, enum cleanup_status st, const char *text)
{
	struct smtpd_session *s = ctx;
	char *reply;

	if (st == CLEANUP_READY) {
		message_log_client(s, text);
		if (s->state == SMTPD_DATA_OPEN)
			message_ready(s);
		s->last_io = event_now(s->loop);
		session_run(s);
		return;
	}
	if (st == CLEANUP_OK && s->state != SMTPD_DATA_WAIT) {
		/* An ok before the end would acknowledge a partial message. */
		st = CLEANUP_FAILED;
		text = "premature ok from cleanup";
	}
	reply = message_verdict(st, text);
	s->last_io = event_now(s->loop);
	if (s->state == SMTPD_DATA_WAIT) {
		message_finish(s, reply, st == CLEANUP_OK ? text : NULL);
		free(reply);
	} else if (s->state == SMTPD_DATA_OPEN) {
		message_open_failed(s, reply);
		free(reply);
	} else {
		message_fail(s, reply);
	}
	session_run(s);
}

static void message_drain(void *ctx)
{
	struct smtpd_session *s = ctx;

	s->last_io = event_now(s->loop);
	session_run(s);
}

bool message_paused(const struct smtpd_session *s)
{
	return (s->state == SMTPD_DATA || s->state == SMTPD_BDAT) && s->cleanup != NULL &&
	       cleanup_client_pending(s->cleanup) > SMTPD_CLEANUP_HIGH;
}

/*
 * Content after decoding: counted always, sent only while all is well.
 * octets is what the piece measured on the wire (RFC 1870: line ends as
 * CRLF, without the final dot and the dots of dot-stuffing), so that
 * message_size_limit is compared with what the client announced and
 * sent, not with the smaller size after CRLF -> LF.
 */
void message_content(struct smtpd_session *s, const char *p, size_t n, size_t octets)
{
	long long limit = config_size("message_size_limit");

	s->msg_size += (long long)octets;
	if (s->too_big || (s->cleanup == NULL && !smtpd_milter_holding(s)))
		return;
	if (limit > 0 && s->msg_size > limit) {
		/* Closing before op=end makes cleanup discard the file. */
		s->too_big = true;
		cleanup_client_close(s->cleanup);
		s->cleanup = NULL;
		smtpd_milter_message_free(s);
		return;
	}
	if (smtpd_milter_holding(s)) {
		smtpd_milter_content(s, p, n);
		return;
	}
	if (n > 0)
		cleanup_client_data(s->cleanup, p, n);
}

void message_end(struct smtpd_session *s)
{
	s->last_cmd = "END-OF-MESSAGE";
	if (s->too_big) {
		message_finish(s, "552 5.3.4 Message size exceeds fixed limit", NULL);
	} else if (smtpd_milter_holding(s)) {
		s->state = SMTPD_DATA_WAIT;
		smtpd_milter_message(s);
	} else if (s->data_error || s->cleanup == NULL) {
		char *reply = xstrdup(s->data_error ? s->data_error : MESSAGE_WRITE_ERROR);

		message_finish(s, reply, NULL);
		free(reply);
	} else {
		cleanup_client_end(s->cleanup);
		s->state = SMTPD_DATA_WAIT;
	}
}

/* Decodes what the client sent; stops at the final dot, leaving the rest
 * of the input (pipelined commands) in the buffer. */
void message_input(struct smtpd_session *s)
{
	size_t used;

	buf_reset(&s->chunk);
	used = data_decode(&s->dec, s->in.data, s->in.len, &s->chunk);
	buf_consume(&s->in, used);
	/* Each LF of the decoded text was a CRLF on the wire. */
	message_content(s, s->chunk.data, s->chunk.len,
	    s->chunk.len +
		(s->chunk.len ? message_count_char(s->chunk.data, s->chunk.len, '\n') : 0));
	if (data_decoder_done(&s->dec))
		message_end(s);
}

/* smtpd_timeout ran out while we waited for cleanup: cleanup's fault. */
bool message_timeout(struct smtpd_session *s)
{
	if (s->state == SMTPD_DATA_WAIT) {
		log_warn("timeout waiting for the cleanup service's reply");
		message_finish(s, MESSAGE_WRITE_ERROR, NULL);
		return true;
	}
	if (s->state == SMTPD_DATA_OPEN) {
		log_warn("timeout waiting for the cleanup service to start the message");
		message_open_failed(s, MESSAGE_WRITE_ERROR);
		return true;
	}
	if (message_paused(s)) {
		log_warn("timeout sending to the cleanup service");
		message_fail(s, xstrdup(MESSAGE_WRITE_ERROR));
		return true;
	}
	return false;
}

/*
 * The milters accepted a held message (milter.c): the edited envelope and
 * content go to cleanup now, and its answer is the final reply.
 */
void message_commit(struct smtpd_session *s, const char *p, size_t n, bool hold)
{
	if (!message_cleanup(s, true, hold)) {
		message_finish(s, MESSAGE_WRITE_ERROR, NULL);
		return;
	}
	cleanup_client_data(s->cleanup, p, n);
	cleanup_client_end(s->cleanup);
	s->state = SMTPD_DATA_WAIT;
}
