/*
 * esmtp.h - the ESMTP parameters of MAIL FROM and RCPT TO.
 *
 *   MAIL: SIZE (RFC 1870), BODY (RFC 6152), AUTH (RFC 4954), SMTPUTF8
 *         (RFC 6531), RET and ENVID (RFC 3461)
 *   RCPT: NOTIFY and ORCPT (RFC 3461)
 *
 * Each is accepted only when EHLO offered its extension.  Values are
 * checked and decoded here; the session decides what to do with them.
 */
#ifndef TERN_SMTPD_ESMTP_H
#define TERN_SMTPD_ESMTP_H

#include <stdbool.h>

struct smtpd_session;

struct esmtp_mail {
	long long size; /* -1 when not given */
	bool smtputf8;
	const char *ret; /* "FULL", "HDRS" or NULL */
	char *envid;	 /* decoded, or NULL */
};

struct esmtp_rcpt {
	char *notify; /* "NEVER" or e.g. "SUCCESS,FAILURE", or NULL */
	char *orcpt;  /* "rfc822;addr" decoded, or NULL */
};

/* NULL when all is well, else the reply (the caller frees it). */
char *esmtp_mail_params(
    const struct smtpd_session *s, const char *p, const char *end, struct esmtp_mail *m);
char *esmtp_rcpt_params(
    const struct smtpd_session *s, const char *p, const char *end, struct esmtp_rcpt *r);
void esmtp_mail_free(struct esmtp_mail *m);
void esmtp_rcpt_free(struct esmtp_rcpt *r);

/* Whether EHLO offers these now. */
bool esmtp_dsn_enabled(void);
bool esmtp_smtputf8_enabled(void);

#endif
