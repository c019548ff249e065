/*
 * pipe.h - the pipe delivery agent: hands each message to an external
 * command given in master.cf, as Postfix's pipe(8) does, e.g.
 *
 *   maildrop unix - n n - - pipe
 *     flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
 *
 *   lib/pipe_conf.c  the master.cf attributes (flags=, user=, argv=,
 *              size=, eol=, directory=, null_sender=), checked at start
 *              (and by "tern check"): a configuration pipe does not
 *              understand stops the daemon
 *   expand.c   ${sender}, ${recipient}, ... in the argv= words, one word
 *              per recipient for the recipient macros
 *   deliver.c  one request: the message (with the flags' envelope lines
 *              and line rules, lib/deliver_copy.c) into the command
 *              (lib/command_run.c), its exit status as every recipient's
 *              result
 *
 * Like local, pipe stays root (DAEMON_KEEP_ROOT) only to run each command
 * for good as user=, which must not be root nor mail_owner.
 */
#ifndef TERN_PIPE_H
#define TERN_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "deliver_agent.h"
#include "pipe_conf.h"

/* expand.c: what the macros of one request stand for. */
struct pipe_vars {
	const char *sender;
	const char *nexthop;
	const char *queue_id;
	long long size;
	const char *const *rcpts;  /* the recipients */
	const char *const *orcpts; /* original recipients (NULL entries: as rcpts) */
	size_t nrcpt;
	unsigned flags; /* u, h, q */
	const char *null_sender;
};

/* The command's words for one request (free with strv_free), or NULL
 * with err set (an unknown macro: "${bogus}"). */
char **pipe_expand_argv(char *const *argv, const struct pipe_vars *v, struct buf *err);

/* deliver.c: deliver_agent_fn; ctx is the struct pipe_conf. */
int pipe_deliver(struct deliver_job *job, void *ctx);

#endif
