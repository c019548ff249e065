/*
 * sendmail.h - the sendmail-compatible command's parts.
 *
 * main.c parses the options and dispatches (argv[0] "mailq" and
 * "newaliases" too); message.c reads a message from standard input (-i,
 * the lone dot, -t with Bcc removal) and streams it; smtp.c speaks SMTP on
 * standard input and output (-bs); submit.c runs postdrop and writes the
 * submission records (lib/maildrop.h) into it.
 */
#ifndef TERN_SENDMAIL_H
#define TERN_SENDMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* What one message is sent with. */
struct sm_envelope {
	char *sender; /* "" for <> */
	char **rcpts; /* NULL-terminated */
	size_t nrcpt;
	const char *notify;   /* -N, NULL: none */
	char **orcpts;	      /* per recipient (smtp.c), may be NULL */
	char **notifies;      /* per recipient (smtp.c), may be NULL */
	const char *fullname; /* -F, may be NULL */
	const char *ret;      /* -R: FULL or HDRS */
	const char *envid;    /* -V */
};

void sm_env_add_rcpt(struct sm_envelope *e, const char *addr);
void sm_env_free(struct sm_envelope *e);

/* Options every part needs. */
struct sm_opts {
	const char *confdir; /* resolved, NULL: default */
	bool verbose;
};

extern struct sm_opts sm_opts;

/* A running postdrop. */
struct sm_submit {
	pid_t pid;
	int fd; /* its standard input */
	struct buf out;
	bool failed; /* a write failed: postdrop went away */
};

/* Starts postdrop and sends the begin record.  -1 when it cannot run. */
int sm_submit_begin(struct sm_submit *s, const struct sm_envelope *e);
/* Message bytes, LF line ends; buffered, sent in data records. */
void sm_submit_data(struct sm_submit *s, const void *data, size_t len);
/* Sends op=end, closes the pipe, waits: postdrop's exit status (sysexits),
 * EX_TEMPFAIL when it died or could not run. */
int sm_submit_end(struct sm_submit *s);
/* Abandons the message (postdrop sees no end record and refuses it). */
void sm_submit_abort(struct sm_submit *s);

/* message.c: reads stdin; extract: -t; ignore_dots: -i.  Exit status. */
int sm_message(struct sm_envelope *e, bool extract, bool ignore_dots);

/* smtp.c: an SMTP session on stdin/stdout.  Exit status. */
int sm_smtp(void);

/* Runs "tern [-c DIR] args..." from command_directory; does not return. */
void sm_exec_tern(char *const args[]) __attribute__((noreturn));

void sm_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void sm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
