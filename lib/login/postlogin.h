/*
 * login/postlogin.h - the user's side of the login hand-off: how an imap or
 * pop3 process (running as the mailbox owner) receives its clients.
 *
 * The way of a client (postlogin(8)):
 *   imap-login / pop3-login (ternlogin, chrooted) speaks the protocol up
 *   to a successful authentication through auth, which answers with a
 *   one-time token; it hands the client's connection (the socket itself
 *   for plaintext, one end of a socket pair it relays to when it keeps the
 *   TLS) with the token to the root dispatcher "postlogin", which redeems
 *   the token on private/auth, learns the account, and passes the client
 *   to the process of that user and protocol, starting it (as the
 *   account's uid and gid) when there is none.  One process serves every
 *   session of its user.
 *
 * Typical use in the user process (imap/main.c, pop3/main.c):
 *
 *     daemon_init(&d, argc, argv, "imap", DAEMON_NO_LISTEN | DAEMON_KEEP_ROOT);
 *     if (!postlogin_started())
 *         log_fatal("run by postlogin only");
 *     loop = event_loop_new();
 *     ...
 *     return postlogin_run(loop, imap_client_start, NULL);
 *
 *     imap_client_start(loop, fd, info, pending, len, ctx):
 *         a new session: fd is the client (non-blocking, close-on-exec,
 *         now the caller's); pending[0..len) are bytes the client sent
 *         after its login command, to be read before anything from fd.
 *         info and pending are valid during the call only.
 *     ...when that session ends: close(fd); postlogin_client_done();
 *
 * The success reply is the user process's to send, as in Dovecot: IMAP
 * "<info->tag> OK [CAPABILITY ...] Logged in", POP3 "+OK Logged in.".
 * Nothing has been written to the client since its login command.
 *
 * The process ends (postlogin_run returns 0) when the dispatcher has let
 * go of it (no new sessions will come) and every session given to fn
 * has called postlogin_client_done(); the dispatcher lets go when the
 * last session is done, so an idle user has no process.
 *
 * Not here: the dispatcher itself (postlogin/), the login processes
 * (login.h).
 */
#ifndef TERN_LOGIN_POSTLOGIN_H
#define TERN_LOGIN_POSTLOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* Who logged in, and over what; strings are never NULL (may be ""), except tag. */
struct postlogin_info {
	const char *service; /* "imap", "pop3" */
	const char *user;    /* the account's canonical name */
	long uid, gid;	     /* the process already runs as these */
	const char *home;
	const char *maildir; /* absolute Maildir root, "" when none */
	const char *quota_rule;
	const char *mech; /* "PLAIN", "LOGIN", "USER" (POP3 USER/PASS) ... */
	const char *client_addr;
	int client_port;
	const char *local_addr;
	int local_port;
	bool tls;	     /* the client talks TLS (to the login process) */
	bool secured;	     /* TLS or a trusted network, as the login saw it */
	const char *session; /* the login's session id, for log lines */
	const char *tag;     /* IMAP: the login command's tag; NULL for POP3 */
	bool utf8;	     /* POP3: the client sent UTF8 before logging in */
};

/* True when the postlogin dispatcher started this process. */
bool postlogin_started(void);

/*
 * Receives sessions from the dispatcher and runs loop until the process
 * is done (see above).  Returns 0, or 1 when the channel to the
 * dispatcher was unusable from the start.
 */
typedef void postlogin_client_fn(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx);
int postlogin_run(struct event_loop *loop, postlogin_client_fn *fn, void *ctx);

/* One session given to fn is over (its fd closed). */
void postlogin_client_done(void);

#endif
