/*
 * restr_names.h - every restriction name Postfix's smtpd_*_restrictions
 * lists may hold, and what tern does with each: the one list, read by
 * smtpd (restrictions.c dispatches on restr_name_find()) and by
 * config_check.c (which refuses a configuration that names a restriction
 * tern does not implement, or a word that is no restriction at all, at
 * "tern start" and "tern check" rather than with a 451 at RCPT time).
 *
 * A word with a ':' that is no restriction is a table ("hash:/etc/x"):
 * Postfix looks it up as check_<stage>_access would (restr_is_table()).
 * Postfix 2.2-era names (reject_unknown_hostname, ...) are aliases with
 * the id of their current name.
 */
#ifndef TERN_RESTR_NAMES_H
#define TERN_RESTR_NAMES_H

#include <stdbool.h>

enum restr_id {
	RN_UNSUPPORTED, /* a Postfix restriction tern does not implement */
	RN_PERMIT,
	RN_REJECT,
	RN_DEFER,
	RN_PERMIT_MYNETWORKS,
	RN_PERMIT_SASL_AUTHENTICATED,
	RN_REJECT_UNAUTH_DESTINATION,
	RN_DEFER_UNAUTH_DESTINATION,
	RN_PERMIT_AUTH_DESTINATION,
	RN_REJECT_UNAUTH_PIPELINING,
	RN_REJECT_INVALID_HELO_HOSTNAME,
	RN_REJECT_NON_FQDN_HELO_HOSTNAME,
	RN_REJECT_UNKNOWN_HELO_HOSTNAME,
	RN_REJECT_NON_FQDN_SENDER,
	RN_REJECT_NON_FQDN_RECIPIENT,
	RN_REJECT_UNKNOWN_SENDER_DOMAIN,
	RN_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
	RN_REJECT_UNLISTED_RECIPIENT,
	RN_REJECT_SENDER_LOGIN_MISMATCH,
	RN_REJECT_MULTI_RECIPIENT_BOUNCE,
	RN_REJECT_PLAINTEXT_SESSION,
	RN_CHECK_CLIENT_ACCESS,
	RN_CHECK_HELO_ACCESS,
	RN_CHECK_SENDER_ACCESS,
	RN_CHECK_RECIPIENT_ACCESS,
	RN_REJECT_RBL_CLIENT,
	RN_CHECK_POLICY_SERVICE,
	RN_CHECK_GREYLIST,		/* tern's own: built-in greylisting */
	RN_REJECT_RHSBL_CLIENT,		/* the verified name */
	RN_REJECT_RHSBL_REVERSE_CLIENT, /* the PTR name, verified or not */
	RN_REJECT_RHSBL_HELO,
	RN_REJECT_RHSBL_SENDER,
	RN_REJECT_RHSBL_RECIPIENT,
	RN_REJECT_UNKNOWN_CLIENT_HOSTNAME,	   /* PTR name forward-confirmed */
	RN_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME, /* a PTR name at all */
	RN_DEFER_IF_PERMIT,
	RN_DEFER_IF_REJECT,
	RN_WARN_IF_REJECT, /* the next restriction only logs its reject */
};

struct restr_name {
	const char *name;
	enum restr_id id;
	bool arg; /* takes the next word as its argument (a table, a domain) */
};

/* The entry of a restriction name (exact, as Postfix compares), or NULL. */
const struct restr_name *restr_name_find(const char *word);

/* A word that no restriction is but a "type:table" to look up. */
bool restr_is_table(const char *word);

/* The NULL-terminated parameter names that hold restriction lists. */
extern const char *const restr_list_params[];

/*
 * The first word of an access table's result or of a policy server's
 * action, as smtpd acts on it (restrictions.c) and "tern check" checks
 * the results it can read (config_check.c).  RA_UNSUPPORTED: the rest of
 * Postfix's access(5) words (HOLD, DISCARD, FILTER, PREPEND, REDIRECT,
 * WARN, INFO, BCC, restriction names), which smtpd ignores with a warning.
 */
enum restr_access_word {
	RA_PERMIT,	    /* OK, PERMIT, all-numerical 2xx */
	RA_REJECT,	    /* REJECT */
	RA_DEFER,	    /* DEFER */
	RA_DEFER_IF_PERMIT, /* DEFER_IF_PERMIT */
	RA_DEFER_IF_REJECT, /* DEFER_IF_REJECT */
	RA_CODE,	    /* a 4xx or 5xx code */
	RA_DUNNO,	    /* DUNNO */
	RA_UNSUPPORTED,
};
enum restr_access_word restr_access_word(const char *word);

#endif
