/*
 * greylist.h - built-in greylisting, the check_greylist restriction
 * (greylist.c has the rules).
 */
#ifndef TERN_SMTPD_GREYLIST_H
#define TERN_SMTPD_GREYLIST_H

#include <stddef.h>

#include "buf.h"

struct smtpd_session;

enum greylist_result {
	GREYLIST_PASS,	/* let through (known, exempt, or greylisting off) */
	GREYLIST_DEFER, /* reply holds the 450 */
	GREYLIST_ERROR, /* internal: a write failed (greylist_check passes) */
};

/* The verdict for the session's sender and rcpt. */
enum greylist_result greylist_check(
    const struct smtpd_session *s, const char *rcpt, struct buf *reply);

/* The client network of addr, "192.0.2.0/24" (exposed for tests). */
void greylist_network(const char *addr, int v4bits, int v6bits, char *out, size_t outlen);

#endif
