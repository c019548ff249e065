/*
 * mastercf.h - master.cf: one service per line, Postfix's columns.
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 * type is "inet" (service is [host:]port, "[v6addr]:port", or a port/name)
 * or "unix" (a socket under queue_directory/private or public, by the
 * private column).  Columns private/unpriv/chroot take y, n or -; wakeup and
 * maxproc take a number or -.  Lines starting with white space continue the
 * previous entry, '#' lines are comments.  "-o name=value" arguments stay in
 * argv and are applied by the daemon.  Malformed lines are errors with
 * file:line in err; nothing is half-parsed.
 *
 * As in Postfix: wakeup may end in '?' (accepted, ignored); an argument
 * written "{ text }" may contain white space (braces and the blanks just
 * inside them are dropped), and the argument after "-o" becomes
 * "name=value" without blanks around '='.  Every Postfix service type is
 * accepted (inet, unix, unix-dgram, fifo, pass); what tern does with an
 * entry is mastercf_plan()'s business, not the parser's.  Other types are
 * errors, as are a duplicate service name + type and a unix service name
 * containing '/'.
 */
#ifndef TERN_MASTERCF_H
#define TERN_MASTERCF_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum service_type {
	SERVICE_INET,
	SERVICE_UNIX,
	SERVICE_UNIX_DGRAM, /* Postfix's postlogd only */
	SERVICE_FIFO,	    /* old Postfix pickup and qmgr entries */
	SERVICE_PASS,	    /* postscreen's hand-off to smtpd */
};

struct master_service {
	char *name; /* column 1, e.g. "127.0.0.1:2525" or "cleanup" */
	enum service_type type;
	bool private_; /* default y */
	bool unpriv;   /* default y */
	bool chroot;   /* default n (Postfix 3 default) */
	int wakeup;    /* seconds, 0 = none */
	int maxproc;   /* -1 = default_process_limit */
	char **argv;   /* command and its arguments, NULL-terminated */
	int argc;
	int line; /* where it was defined */
};

struct master_cf {
	struct master_service *services;
	size_t count;
};

int mastercf_parse_text(
    const char *text, size_t len, const char *filename, struct master_cf *out, struct buf *err);
/* Reads and parses path, then adds the implicit services
 * (mastercf_add_implicit). */
int mastercf_load(const char *path, struct master_cf *out, struct buf *err);
/* tern's auth service when no entry names it (line 0): a Postfix
 * master.cf has none. */
void mastercf_add_implicit(struct master_cf *cf);
void mastercf_free(struct master_cf *cf);

/* "inet", "unix", "unix-dgram", "fifo", "pass". */
const char *mastercf_type_name(enum service_type type);

/*
 * What tern does with an entry (mastercf_plan.c).  A stock Postfix
 * master.cf names Postfix's own helper daemons; tern either runs one of
 * its programs for the entry, skips it because tern does that job
 * elsewhere (one info line), or cannot serve it (a warning, and for an
 * inet service an error: its port would be silently dead).  A command
 * Postfix does not have is run as written, from daemon_directory.
 */
enum service_action {
	SERVICE_RUN,
	SERVICE_SKIP,
	SERVICE_UNSERVED,
};

struct service_plan {
	enum service_action action;
	const char *program;	/* SERVICE_RUN: tern program; NULL: the command as written */
	const char *mode;	/* SERVICE_RUN: last argument to add ("error"), or NULL */
	enum service_type type; /* socket type to make (a fifo is served as unix) */
	bool private_;		/* socket folder: private/ (true) or public/ */
	const char *note;	/* one line: why skipped/unserved, or what differs */
	bool on_demand;		/* no process before the first client (pipe) */
};

void mastercf_plan(const struct master_service *svc, struct service_plan *out);

#endif
