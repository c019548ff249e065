/*
 * smtpd_spf.h - smtpd's SPF check at MAIL FROM (spf.c).
 */
#ifndef TERN_SMTPD_SPF_H
#define TERN_SMTPD_SPF_H

#include "buf.h"

struct smtpd_session;
struct cleanup_client;

enum smtpd_spf_verdict {
	SMTPD_SPF_OK,	  /* go on (checked, exempt, or policy none) */
	SMTPD_SPF_WAIT,	  /* a check runs: the command runs again when it ends */
	SMTPD_SPF_REJECT, /* reply holds the 5xx */
	SMTPD_SPF_DEFER,  /* reply holds the 4xx */
};

/* Checks smtpd_spf_policy once at start (a bad value is fatal). */
void smtpd_spf_init(void);
/* The verdict for the session's MAIL FROM (s->sender set). */
enum smtpd_spf_verdict smtpd_spf_mail(struct smtpd_session *s, struct buf *reply);
/* trusted=, spf= and spf_prop= for cleanup's begin record (proto.h). */
void smtpd_spf_attrs(const struct smtpd_session *s, struct buf *rec);
/* Sends the Received-SPF: header of the current sender to cleanup, as the
 * first line of the message; nothing when there is no result. */
void smtpd_spf_prepend(struct smtpd_session *s, struct cleanup_client *cc);
/* Cancels a running check and forgets the result (session end). */
void smtpd_spf_free(struct smtpd_session *s);

#endif
