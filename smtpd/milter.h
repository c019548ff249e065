/*
 * milter.h - smtpd's use of milters (smtpd_milters), on lib/milter.
 *
 * Each stage asks the session's milter chain before smtpd replies:
 * connect (the greeting waits for its answer: a rejection there is the
 * greeting, 554 or 421, as in Postfix), HELO/EHLO, MAIL, each RCPT, DATA (or the first BDAT), and
 * the end of the message.  A stage's function either says go on, or has replied (the milter
 * rejected), or asks the command to be run again once the milters answered (the command's line
 * stays in the input meanwhile, as for a DNS look-up).
 *
 * With milters the message is held: its content is kept in memory (up to
 * message_size_limit) instead of streamed to cleanup, because the milters'
 * edits (recipients, sender, header, body) change what cleanup must be
 * told first; once the milters accepted, the edited message goes to
 * cleanup and the client hears cleanup's answer.  Without milters none of
 * this costs anything: every function returns at once.
 */
#ifndef TERN_SMTPD_MILTER_H
#define TERN_SMTPD_MILTER_H

#include <stdbool.h>
#include <stddef.h>

struct smtpd_session;

enum smtpd_milter_res {
	SMTPD_MILTER_OK,
	SMTPD_MILTER_FAIL, /* replied already */
	SMTPD_MILTER_WAIT, /* run the command again later */
};

/* Checks smtpd_milters at start (fatal when it does not parse). */
void smtpd_milter_init(void);
/* Tells the milters of the connection: true when they were asked (the
 * session's greet_wait is set; the answer runs session_greet_send()). */
bool smtpd_milter_connect(struct smtpd_session *s);
/* The milters' connect-stage rejection (a whole SMTP reply), or NULL. */
const char *smtpd_milter_connect_reply(const struct smtpd_session *s);
void smtpd_milter_free(struct smtpd_session *s);

enum smtpd_milter_res smtpd_milter_helo(struct smtpd_session *s);
/* params: the ESMTP parameters after the address, as the client gave them. */
enum smtpd_milter_res smtpd_milter_mail(struct smtpd_session *s, const char *params, size_t len);
enum smtpd_milter_res smtpd_milter_rcpt(
    struct smtpd_session *s, const char *rcpt, const char *params, size_t len);
enum smtpd_milter_res smtpd_milter_data(struct smtpd_session *s, const char *verb);
/* The transaction ends without a message (RSET, HELO, a new session). */
void smtpd_milter_abort(struct smtpd_session *s);

/* Whether the message is held for the milters (decided at DATA/BDAT). */
bool smtpd_milter_holding(const struct smtpd_session *s);
void smtpd_milter_content(struct smtpd_session *s, const char *p, size_t n);
/* End of data: the milters decide, then the message goes to cleanup. */
void smtpd_milter_message(struct smtpd_session *s);
/* The message is over (replied, or abandoned): drop what was held. */
void smtpd_milter_message_free(struct smtpd_session *s);

#endif
