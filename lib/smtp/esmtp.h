/*
 * esmtp.h - the ESMTP parameters of MAIL FROM and RCPT TO.
 *
 *   MAIL: SIZE (RFC 1870), BODY (RFC 6152), AUTH (RFC 4954), SMTPUTF8
 *         (RFC 6531), RET and ENVID (RFC 3461), REQUIRETLS (RFC 8689)
 *   RCPT: NOTIFY and ORCPT (RFC 3461)
 *
 * Two layers, both pure functions over the text after the address:
 * esmtp_params_split() cuts "KEY=VALUE KEY2" into keywords and values
 * (RFC 5321 4.1.2 esmtp-param); esmtp_mail_parse() and esmtp_rcpt_parse()
 * check and decode the parameters tern knows, for every SMTP server in
 * tern (smtpd and sendmail -bs), so that both accept exactly the same
 * commands.  What the server offered in its EHLO reply comes from the
 * caller: a keyword of an extension not offered is "555 Unsupported
 * option", as Postfix answers.  What to do with the values (policy, the
 * queue file) is the caller's job.
 */
#ifndef TERN_SMTP_ESMTP_H
#define TERN_SMTP_ESMTP_H

#include <stdbool.h>
#include <stddef.h>

#define ESMTP_PARAMS_MAX 16 /* more parameters than this: error */
#define ESMTP_ENVID_MAX 100 /* RFC 3461 4.4: characters of the xtext */
#define ESMTP_ORCPT_MAX 500 /* RFC 3461 4.2: characters, type and xtext */
#define ESMTP_AUTH_MAX 1000 /* an addr-spec as xtext, with room */

/* One parameter, pointing into the parsed text. */
struct esmtp_param {
	const char *key;
	size_t key_len;
	const char *value; /* NULL for a bare "KEY" */
	size_t value_len;
};

/*
 * Splits s[0..len), which may start with spaces, into at most max
 * parameters.  Returns 0 with *count set, or -1 with *error a reply line
 * (a keyword is a letter or digit then letters, digits and '-'; a value
 * is one or more printable ASCII characters but '=').
 */
int esmtp_params_split(const char *s, size_t len, struct esmtp_param *params, size_t max,
    size_t *count, const char **error);

/* Whether the parameter's keyword is key, ignoring ASCII case. */
bool esmtp_param_is(const struct esmtp_param *p, const char *key);

/* The extensions the server offered (EHLO keywords), as a bit set. */
#define ESMTP_OFFER_SIZE 0x01
#define ESMTP_OFFER_8BITMIME 0x02
#define ESMTP_OFFER_DSN 0x04
#define ESMTP_OFFER_SMTPUTF8 0x08
#define ESMTP_OFFER_AUTH 0x10
#define ESMTP_OFFER_REQUIRETLS 0x20 /* RFC 8689: only offered over TLS */

struct esmtp_mail {
	long long size;	 /* SIZE=, or -1 when not given */
	bool eightbit;	 /* BODY=8BITMIME */
	bool smtputf8;	 /* SMTPUTF8 */
	bool requiretls; /* REQUIRETLS */
	const char *ret; /* "FULL", "HDRS" or NULL */
	char *envid;	 /* ENVID= decoded, or NULL */
	char *auth;	 /* AUTH= decoded ("<>" for none), or NULL */
};

struct esmtp_rcpt {
	char *notify; /* "NEVER" or e.g. "SUCCESS,FAILURE" (upper case), or NULL */
	char *orcpt;  /* "type;address", the address decoded, or NULL */
};

/*
 * Checks and decodes the parameters of MAIL FROM in s[0..len).  A SIZE
 * above size_limit (when it is > 0) is refused with 552.  Returns NULL, or
 * a reply line (free it); *m is filled either way and freed with
 * esmtp_mail_free().
 */
char *esmtp_mail_parse(
    const char *s, size_t len, unsigned offered, long long size_limit, struct esmtp_mail *m);
/* The same for RCPT TO. */
char *esmtp_rcpt_parse(const char *s, size_t len, unsigned offered, struct esmtp_rcpt *r);

/*
 * A NOTIFY value (RFC 3461 4.1): "NEVER", or SUCCESS, FAILURE and DELAY
 * separated by commas, each at most once, any case.  Returns it in upper
 * case (free it), or NULL when it is none of these.  Also sendmail -N's.
 */
char *esmtp_notify_parse(const char *value, size_t len);

/*
 * An ORCPT as the queue keeps it: "type;address" with the address decoded
 * (what esmtp_rcpt_parse() gives), or a bare address, which is of type
 * rfc822.  Sets *type (not NUL-terminated) and *type_len, and returns the
 * address.  What precedes the first ';' is a type only when it is an atom
 * (letters, digits, '-'); else the whole is a bare address.
 */
const char *esmtp_orcpt_split(const char *orcpt, const char **type, size_t *type_len);

void esmtp_mail_free(struct esmtp_mail *m);
void esmtp_rcpt_free(struct esmtp_rcpt *r);

#endif
