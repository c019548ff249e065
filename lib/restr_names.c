/*
 * restr_names.c - the restriction names of Postfix's smtpd and tern's
 * support of each (restr_names.h).
 *
 * Postfix's names come from postconf(5), current and obsolete: an entry
 * marked RN_UNSUPPORTED is one tern knows by name but does not implement,
 * so that config_check.c can say "not implemented" instead of "unknown".
 * A lane that implements one gives it an id here and a case in smtpd's
 * restrictions.c; nothing else lists restriction names.
 */
#include "restr_names.h"

#include <stddef.h>
#include <string.h>

#include "util.h"

#define R(n, id)                                                                                   \
	{                                                                                          \
		n, id, false                                                                       \
	}
#define RA(n, id)                                                                                  \
	{                                                                                          \
		n, id, true                                                                        \
	}

static const struct restr_name restr_names[] = {
    /* Generic. */
    R("permit", RN_PERMIT),
    R("reject", RN_REJECT),
    R("defer", RN_DEFER),
    R("defer_if_permit", RN_DEFER_IF_PERMIT),
    R("defer_if_reject", RN_DEFER_IF_REJECT),
    R("warn_if_reject", RN_WARN_IF_REJECT),
    R("reject_unauth_pipelining", RN_REJECT_UNAUTH_PIPELINING),
    R("reject_multi_recipient_bounce", RN_REJECT_MULTI_RECIPIENT_BOUNCE),
    R("reject_plaintext_session", RN_REJECT_PLAINTEXT_SESSION),
    RA("check_policy_service", RN_CHECK_POLICY_SERVICE),
    R("check_greylist", RN_CHECK_GREYLIST), /* tern: greylisting (antispam.7) */
    RA("sleep", RN_UNSUPPORTED),

    /* Client. */
    R("permit_mynetworks", RN_PERMIT_MYNETWORKS),
    R("permit_sasl_authenticated", RN_PERMIT_SASL_AUTHENTICATED),
    RA("check_client_access", RN_CHECK_CLIENT_ACCESS),
    R("permit_inet_interfaces", RN_UNSUPPORTED),
    R("permit_tls_clientcerts", RN_UNSUPPORTED),
    R("permit_tls_all_clientcerts", RN_UNSUPPORTED),
    R("reject_unknown_client_hostname", RN_REJECT_UNKNOWN_CLIENT_HOSTNAME),
    R("reject_unknown_client", RN_REJECT_UNKNOWN_CLIENT_HOSTNAME),
    R("reject_unknown_reverse_client_hostname", RN_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME),
    RA("reject_rbl_client", RN_REJECT_RBL_CLIENT),
    RA("reject_rhsbl_client", RN_REJECT_RHSBL_CLIENT),
    RA("reject_rhsbl_reverse_client", RN_REJECT_RHSBL_REVERSE_CLIENT),
    RA("permit_dnswl_client", RN_UNSUPPORTED),
    RA("permit_rhswl_client", RN_UNSUPPORTED),
    RA("reject_maps_rbl", RN_UNSUPPORTED),
    RA("check_ccert_access", RN_UNSUPPORTED),
    RA("check_sasl_access", RN_UNSUPPORTED),
    RA("check_reverse_client_hostname_access", RN_UNSUPPORTED),
    RA("check_client_a_access", RN_UNSUPPORTED),
    RA("check_client_mx_access", RN_UNSUPPORTED),
    RA("check_client_ns_access", RN_UNSUPPORTED),

    /* HELO; the Postfix 2.2 names without "helo_" are the same tests. */
    RA("check_helo_access", RN_CHECK_HELO_ACCESS),
    R("reject_invalid_helo_hostname", RN_REJECT_INVALID_HELO_HOSTNAME),
    R("reject_invalid_hostname", RN_REJECT_INVALID_HELO_HOSTNAME),
    R("reject_non_fqdn_helo_hostname", RN_REJECT_NON_FQDN_HELO_HOSTNAME),
    R("reject_non_fqdn_hostname", RN_REJECT_NON_FQDN_HELO_HOSTNAME),
    R("reject_unknown_helo_hostname", RN_REJECT_UNKNOWN_HELO_HOSTNAME),
    R("reject_unknown_hostname", RN_REJECT_UNKNOWN_HELO_HOSTNAME),
    RA("reject_rhsbl_helo", RN_REJECT_RHSBL_HELO),
    RA("check_helo_a_access", RN_UNSUPPORTED),
    RA("check_helo_mx_access", RN_UNSUPPORTED),
    RA("check_helo_ns_access", RN_UNSUPPORTED),

    /* Sender. */
    RA("check_sender_access", RN_CHECK_SENDER_ACCESS),
    R("reject_non_fqdn_sender", RN_REJECT_NON_FQDN_SENDER),
    R("reject_unknown_sender_domain", RN_REJECT_UNKNOWN_SENDER_DOMAIN),
    R("reject_sender_login_mismatch", RN_REJECT_SENDER_LOGIN_MISMATCH),
    R("reject_authenticated_sender_login_mismatch", RN_UNSUPPORTED),
    R("reject_known_sender_login_mismatch", RN_UNSUPPORTED),
    R("reject_unauthenticated_sender_login_mismatch", RN_UNSUPPORTED),
    R("reject_unlisted_sender", RN_UNSUPPORTED),
    R("reject_unverified_sender", RN_UNSUPPORTED),
    RA("reject_rhsbl_sender", RN_REJECT_RHSBL_SENDER),
    RA("check_sender_a_access", RN_UNSUPPORTED),
    RA("check_sender_mx_access", RN_UNSUPPORTED),
    RA("check_sender_ns_access", RN_UNSUPPORTED),

    /* Recipient and relay. */
    RA("check_recipient_access", RN_CHECK_RECIPIENT_ACCESS),
    R("reject_unauth_destination", RN_REJECT_UNAUTH_DESTINATION),
    R("defer_unauth_destination", RN_DEFER_UNAUTH_DESTINATION),
    R("permit_auth_destination", RN_PERMIT_AUTH_DESTINATION),
    R("reject_non_fqdn_recipient", RN_REJECT_NON_FQDN_RECIPIENT),
    R("reject_unknown_recipient_domain", RN_REJECT_UNKNOWN_RECIPIENT_DOMAIN),
    R("reject_unlisted_recipient", RN_REJECT_UNLISTED_RECIPIENT),
    R("check_recipient_maps", RN_REJECT_UNLISTED_RECIPIENT),
    R("permit_mx_backup", RN_UNSUPPORTED),
    R("reject_unverified_recipient", RN_UNSUPPORTED),
    R("check_relay_domains", RN_UNSUPPORTED),
    R("permit_naked_ip_address", RN_UNSUPPORTED),
    RA("reject_rhsbl_recipient", RN_REJECT_RHSBL_RECIPIENT),
    RA("check_recipient_a_access", RN_UNSUPPORTED),
    RA("check_recipient_mx_access", RN_UNSUPPORTED),
    RA("check_recipient_ns_access", RN_UNSUPPORTED),
    {NULL, RN_UNSUPPORTED, false},
};

const char *const restr_list_params[] = {
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
    NULL,
};

const struct restr_name *restr_name_find(const char *word)
{
	for (const struct restr_name *r = restr_names; r->name; r++)
		if (strcmp(r->name, word) == 0)
			return r;
	return NULL;
}

bool restr_is_table(const char *word)
{
	const char *colon = strchr(word, ':');

	return colon != NULL && colon > word && restr_name_find(word) == NULL;
}

enum restr_access_word restr_access_word(const char *word)
{
	size_t len = strlen(word), digits = strspn(word, "0123456789");

	if (str_case_eq(word, "OK") || str_case_eq(word, "PERMIT"))
		return RA_PERMIT;
	if (str_case_eq(word, "REJECT"))
		return RA_REJECT;
	if (str_case_eq(word, "DEFER"))
		return RA_DEFER;
	if (str_case_eq(word, "DEFER_IF_PERMIT"))
		return RA_DEFER_IF_PERMIT;
	if (str_case_eq(word, "DEFER_IF_REJECT"))
		return RA_DEFER_IF_REJECT;
	if (str_case_eq(word, "DUNNO"))
		return RA_DUNNO;
	if (len == 3 && digits == 3 && (word[0] == '4' || word[0] == '5'))
		return RA_CODE;
	if (len > 0 && digits == len && word[0] == '2')
		return RA_PERMIT;
	return RA_UNSUPPORTED;
}
