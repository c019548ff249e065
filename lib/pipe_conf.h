/*
 * pipe_conf.h - the master.cf attributes of a pipe(8) service, parsed by
 * the pipe daemon at its start and by "tern check" (lib/config_check), so
 * that a bad flag or a missing argv= is a configuration error before any
 * mail is routed to it.
 */
#ifndef TERN_PIPE_CONF_H
#define TERN_PIPE_CONF_H

#include <sys/types.h>

#include "buf.h"

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

/* Parses the words after the daemon options.  0, or -1 with why
 * in err.  user= is only parsed here; pipe_conf_user() resolves it. */
int pipe_conf_parse(char *const *args, struct pipe_conf *c, struct buf *err);
/* Resolves user= through the password and group files; 0 or -1.  A
 * user that does not exist does not stop the daemon (Debian's master.cf
 * names users of software that may not be installed): main.c keeps the
 * reason in user_error and every request is deferred with it. */
int pipe_conf_user(struct pipe_conf *c, struct buf *err);
void pipe_conf_free(struct pipe_conf *c);

/* The daemon options master.cf may give before the attributes ("-o n=v",
 * "-v", ...), as the daemon skeleton's getopt skips them: the index of
 * the first attribute word in args. */
int pipe_conf_first_attr(char *const *args);

#endif
