/*
 * auth.h - SMTP AUTH (RFC 4954) through the auth service.  See auth.c.
 */
#ifndef TERN_SMTPD_AUTH_H
#define TERN_SMTPD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

struct smtpd_session;

/* Connects to auth (when smtpd_sasl_auth_enable is set), so that the
 * first EHLO already lists the mechanisms auth offers. */
void smtpd_auth_init(struct event_loop *loop);
/* Whether EHLO offers AUTH now. */
bool auth_offered(const struct smtpd_session *s);
/* "AUTH PLAIN LOGIN ..." for EHLO (allocated). */
char *auth_ehlo_keyword(void);
/* The AUTH command; true when an exchange started (its outcome is
 * reported through smtpd_auth_done()). */
bool auth_command(struct smtpd_session *s, const char *arg, size_t len);
/* A client line while an exchange is in progress (s->sasl set). */
void auth_input(struct smtpd_session *s, const char *line, size_t len);
/* Forgets the exchange and the login (session end, STARTTLS). */
void auth_reset(struct smtpd_session *s);

#endif
