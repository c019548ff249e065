/*
 * pop3.h - the pop3 process: the TRANSACTION and UPDATE states of RFC
 * 1939 for the sessions of one user (pop3(8)).  session.c: a session's
 * life and I/O; commands.c: the commands; retr.c: sending a message
 * (RETR, TOP) byte-stuffed with CRLF line ends, streamed, the header
 * downgraded (mime/downgrade.h) for a client that did not send UTF8
 * (RFC 6856 3).
 */
#ifndef TERN_POP3_H
#define TERN_POP3_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "login/postlogin.h"
#include "mstore/mstore.h"

#define POP3_OUT_HIGH (64 * 1024) /* stop producing a message above this */

struct pop3_msg {
	uint32_t uid;
	uint64_t vsize;
	bool deleted;
};

struct pop3_retr {
	int fd;		/* the message file; -1: none under way */
	bool bol;	/* at the start of a line */
	bool body;	/* past the header */
	bool last_cr;	/* the last byte sent was CR */
	bool limit;	/* TOP: count body lines */
	uint32_t lines; /* TOP: body lines still to send */
	uint64_t sent;	/* bytes of the message sent */
	struct buf hdr; /* a downgraded header, sent before the rest of fd */
	size_t hdr_off; /* bytes of hdr sent */
};

struct pop3_session {
	struct event_loop *loop;
	int fd;
	struct buf in, out;
	struct event_timer *timer;
	char *user, *session, *rip;
	struct mstore *store;
	struct mstore_view *view;
	struct pop3_msg *msgs;
	uint32_t count;
	struct pop3_retr retr;
	bool closing;
	bool utf8; /* the client sent UTF8 (RFC 6856) */
	/* for the log line */
	unsigned top_count, retr_count, del_count;
	uint64_t top_bytes, retr_bytes, size_total;
	uint64_t in_bytes, out_bytes;
};

/* session.c */
void pop3_session_start(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx);
void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the session once its output is out. */
void pop3_session_quit(struct pop3_session *s);

/* commands.c: handles the first complete command of data; bytes used, 0 for more. */
size_t pop3_command(struct pop3_session *s, const char *data, size_t len);

/* retr.c */
void pop3_retr_start(struct pop3_session *s, int fd, bool limit, uint32_t lines);
/* Produces output until POP3_OUT_HIGH; false when the message has ended. */
bool pop3_retr_more(struct pop3_session *s);
void pop3_retr_abort(struct pop3_session *s);

#endif
