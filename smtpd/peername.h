/*
 * peername.h - the client's host name at connect (peername.c has the
 * rules): name (forward-confirmed) and reverse_name (PTR), each with a
 * Postfix-style status in the session.
 */
#ifndef TERN_SMTPD_PEERNAME_H
#define TERN_SMTPD_PEERNAME_H

#include <stdbool.h>

struct smtpd_session;

/* Both names "unknown" (status 5): a new session, before the look-up. */
void peername_init(struct smtpd_session *s);
/* Looks the names up (again, when DNS answers came in): true once both
 * are known, false while an answer is awaited. */
bool peername_poll(struct smtpd_session *s);
/* The session goes away. */
void peername_free(struct smtpd_session *s);

#endif
