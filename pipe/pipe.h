/*
 * pipe.h - the pipe delivery agent: hands each message to an external
 * command given in master.cf, as Postfix's pipe(8) does, e.g.
 *
 *   maildrop unix - n n - - pipe
 *     flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
 *
 *   args.c     the master.cf attributes (flags=, user=, argv=, size=,
 *              eol=, directory=, null_sender=), checked at start: a
 *              configuration pipe does not understand stops the daemon
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

/* flags= letters */
#define PIPE_FLAG_BLANK 0x001	    /* B: empty line at the end */
#define PIPE_FLAG_DELIVERED 0x002   /* D: Delivered-To: */
#define PIPE_FLAG_FROM_LINE 0x004   /* F: "From sender date" */
#define PIPE_FLAG_ORIG_TO 0x008	    /* O: X-Original-To: */
#define PIPE_FLAG_RETURN_PATH 0x010 /* R: Return-Path: */
#define PIPE_FLAG_FINAL 0x020	    /* X: final delivery */
#define PIPE_FLAG_QUOTE 0x040	    /* q: quote local parts in macros */
#define PIPE_FLAG_FOLD_USER 0x080   /* u: local parts in lower case */
#define PIPE_FLAG_FOLD_HOST 0x100   /* h: domains and nexthop in lower case */
#define PIPE_FLAG_DOT 0x200	    /* .: '.' before lines starting with '.' */
#define PIPE_FLAG_FROM_ESCAPE 0x400 /* >: '>' before lines starting with "From " */

struct pipe_conf {
	unsigned flags;
	char *user;  /* user= name */
	char *group; /* user=name:group, or NULL */
	uid_t uid;
	gid_t gid;
	char **argv;	      /* argv= and the words after it, unexpanded */
	long long size_limit; /* size=, 0: none */
	char *eol;	      /* eol=, escapes decoded ("\r\n") */
	char *directory;      /* directory=, NULL: queue_directory */
	char *null_sender;    /* null_sender=, default MAILER-DAEMON */
	char *user_error;     /* why user= cannot be used, or NULL */
};

/* args.c: parses the words after the daemon options.  0, or -1 with why
 * in err.  user= is only parsed here; pipe_conf_user() resolves it. */
int pipe_conf_parse(char *const *args, struct pipe_conf *c, struct buf *err);
/* Resolves user= through the password and group files; 0 or -1.  A
 * user that does not exist does not stop the daemon (Debian's master.cf
 * names users of software that may not be installed): main.c keeps the
 * reason in user_error and every request is deferred with it. */
int pipe_conf_user(struct pipe_conf *c, struct buf *err);
void pipe_conf_free(struct pipe_conf *c);

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
