/*
 * managesieve.h - the managesieve process (managesieve(8)): one user's
 * ManageSieve sessions (RFC 5804) in the authenticated state, editing
 * the scripts of lib/sieve/storage.h that local(8) runs.
 */
#ifndef TERN_MANAGESIEVE_H
#define TERN_MANAGESIEVE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "login/postlogin.h"
#include "managesieve/cmd.h"
#include "sieve/storage.h"

struct msv_session {
	struct event_loop *loop;
	int fd;
	struct buf in, out;
	struct event_timer *timer;
	char *user, *session;
	struct sieve_storage st;
	size_t max_literal;
	bool closing;
	/* UNAUTHENTICATE: the marker is due/sent; then, at the end of the
	 * input, the input not used goes back (login.h keep_connection) */
	bool giving_back, marker_sent;
	/* a literal past max_literal being skipped, then its line */
	uint64_t skip;
	bool skip_line;
	enum msv_cmd_id skip_id;
	uint64_t in_bytes, out_bytes;
};

/* session.c */
void msv_session_start(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx);
void msv_session_quit(struct msv_session *s);
/* UNAUTHENTICATE (RFC 5804 2.14.1): the client back to managesieve-login. */
void msv_session_give_back(struct msv_session *s);

/* commands.c: one parsed command of the authenticated state. */
void msv_command(struct msv_session *s, const struct msv_cmd *cmd);
/* The answer to a command whose literal was too large. */
void msv_command_too_big(struct msv_session *s, enum msv_cmd_id id);

#endif
