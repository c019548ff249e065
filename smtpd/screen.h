/*
 * screen.h - screening a client before its greeting, as Postfix's
 * postscreen does, inside smtpd (screen.c has the rules).
 */
#ifndef TERN_SMTPD_SCREEN_H
#define TERN_SMTPD_SCREEN_H

#include <stdbool.h>

struct smtpd_session;
struct smtpd_screen;

/* Starts screening a new session: true when the greeting must wait
 * (screen_input/screen_dns then drive it, and it ends by calling
 * session_greet); false when the client is not screened. */
bool screen_begin(struct smtpd_session *s);
/* Bytes arrived before the greeting (pregreet). */
void screen_input(struct smtpd_session *s);
/* DNS answers came in. */
void screen_dns(struct smtpd_session *s);
/* The session goes away. */
void screen_free(struct smtpd_session *s);

#endif
