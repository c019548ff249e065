/*
 * command_run.h - running an external command for a delivery: local's
 * mailbox_command and "|command" targets, the pipe agent's argv=.
 *
 * command_run() forks; the child takes the given identity for good (real,
 * effective and saved ids and the supplementary groups, when we are root:
 * a command must never get back to root), starts a session of its own so
 * a time-out can kill everything it started, changes directory, and
 * executes either "/bin/sh -c command" or an argument vector (looked up
 * in the environment's PATH) with exactly the given environment.  Its
 * standard input is the given descriptor (read from its current offset;
 * /dev/null when -1), its standard output and error go to a pipe whose
 * first output_max bytes are kept.  After time_limit seconds the whole
 * process group is killed.  Nothing else leaks into the child: every
 * descriptor above 2 is closed.
 *
 * command_verdict() maps the exit status to a delivery result as Postfix
 * does (sys_exits): 0 delivered; a <sysexits.h> code to its enhanced
 * status code, deferred when that is a 4.X.X (EX_TEMPFAIL, EX_OSERR),
 * else bounced; any other code bounced as 5.3.0; a signal or the time
 * limit deferred.  Output that starts with an enhanced status code of the
 * same class ("5.7.1 no such list") overrides the code.  The output,
 * made printable and one line, ends the reason.
 */
#ifndef TERN_COMMAND_RUN_H
#define TERN_COMMAND_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

struct command_spec {
	const char *shell_command; /* run with /bin/sh -c, or NULL */
	char *const *argv;	   /* else this vector, argv[0] looked up in PATH */
	char *const *env;	   /* "NAME=value", NULL-terminated */
	bool set_ids;		   /* take uid/gid (only when we are root) */
	uid_t uid;
	gid_t gid;
	const char *user_name; /* supplementary groups of; NULL: gid only */
	const char *cwd;       /* NULL: "/" */
	bool cwd_strict;       /* a cwd that cannot be entered: EX_TEMPFAIL, not "/" */
	int stdin_fd;	       /* -1: /dev/null */
	long time_limit;       /* seconds */
	size_t output_max;     /* bytes of output kept */
};

struct command_outcome {
	int status;	   /* as from waitpid() */
	bool timed_out;	   /* killed at the time limit */
	struct buf output; /* the first output_max bytes, made printable, one line */
};

/* Runs the command to its end.  0 (outcome filled; free its output with
 * buf_free), or -1 with errno set when it could not be started. */
int command_run(const struct command_spec *spec, struct command_outcome *out);

struct command_verdict {
	const char *result; /* RES_SENT, RES_DEFERRED, RES_BOUNCED */
	char dsn[8];
	char reason[512];
};

/* The result of an outcome; what names the command in the reason
 * ("command", "pipe service maildrop"). */
void command_verdict(
    int status, bool timed_out, const char *output, const char *what, struct command_verdict *v);

#endif
