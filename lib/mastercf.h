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
 * "name=value" without blanks around '='.  Other service types (fifo,
 * pass, ...) are errors, as are a duplicate service name + type and a unix
 * service name containing '/'.
 */
#ifndef TERN_MASTERCF_H
#define TERN_MASTERCF_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum service_type {
	SERVICE_INET,
	SERVICE_UNIX,
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
int mastercf_load(const char *path, struct master_cf *out, struct buf *err);
void mastercf_free(struct master_cf *cf);

#endif
