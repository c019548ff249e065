/*
 * test_restr_names.c - unit tests for lib/restr_names.c, the one list of
 * restriction names smtpd and config_check share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "restr_names.h"
#include "util.h"

static void test_debian_defaults(void **state)
{
	static const char *const words[] = {"permit_mynetworks", "permit_sasl_authenticated",
	    "defer_unauth_destination", "reject_unauth_destination", "permit_auth_destination",
	    "reject_unknown_helo_hostname", "reject_multi_recipient_bounce",
	    "reject_plaintext_session", NULL};

	(void)state;
	for (int i = 0; words[i]; i++) {
		const struct restr_name *rn = restr_name_find(words[i]);

		assert_non_null(rn);
		assert_int_not_equal(rn->id, RN_UNSUPPORTED);
		assert_false(rn->arg);
	}
}

static void test_old_names_are_aliases(void **state)
{
	(void)state;
	assert_int_equal(restr_name_find("reject_unknown_hostname")->id,
	    restr_name_find("reject_unknown_helo_hostname")->id);
	assert_int_equal(
	    restr_name_find("reject_invalid_hostname")->id, RN_REJECT_INVALID_HELO_HOSTNAME);
	assert_int_equal(
	    restr_name_find("reject_non_fqdn_hostname")->id, RN_REJECT_NON_FQDN_HELO_HOSTNAME);
	assert_int_equal(restr_name_find("check_recipient_maps")->id, RN_REJECT_UNLISTED_RECIPIENT);
}

static void test_arguments_and_unsupported(void **state)
{
	(void)state;
	assert_true(restr_name_find("check_client_access")->arg);
	assert_true(restr_name_find("reject_rbl_client")->arg);
	assert_int_equal(restr_name_find("reject_rbl_client")->id, RN_REJECT_RBL_CLIENT);
	assert_true(restr_name_find("reject_rhsbl_client")->arg);
	assert_int_equal(restr_name_find("reject_rhsbl_client")->id, RN_REJECT_RHSBL_CLIENT);
	assert_int_equal(
	    restr_name_find("reject_rhsbl_reverse_client")->id, RN_REJECT_RHSBL_REVERSE_CLIENT);
	assert_int_equal(
	    restr_name_find("reject_unknown_client")->id, RN_REJECT_UNKNOWN_CLIENT_HOSTNAME);
	assert_int_equal(restr_name_find("check_greylist")->id, RN_CHECK_GREYLIST);
	assert_int_equal(restr_name_find("check_policy_service")->id, RN_CHECK_POLICY_SERVICE);
	assert_true(restr_name_find("check_policy_service")->arg);
	assert_int_equal(restr_name_find("warn_if_reject")->id, RN_WARN_IF_REJECT);
	assert_int_equal(restr_name_find("sleep")->id, RN_UNSUPPORTED);
	assert_null(restr_name_find("reject_no_such_thing"));
	assert_null(restr_name_find("PERMIT")); /* Postfix compares exactly */
}

static void test_tables(void **state)
{
	(void)state;
	assert_true(restr_is_table("hash:/etc/postfix/access"));
	assert_true(restr_is_table("inline:{ a=OK }"));
	assert_false(restr_is_table("permit"));
	assert_false(restr_is_table(":x"));
	assert_false(restr_is_table("reject_no_such_thing"));
}

static void test_list_params(void **state)
{
	(void)state;
	assert_string_equal(restr_list_params[0], "smtpd_client_restrictions");
	assert_string_equal(restr_list_params[5], "smtpd_data_restrictions");
}

static void test_split_list(void **state)
{
	char **v = strv_split_list("permit_mynetworks,check_client_access inline:{ a = b, "
				   "{ c = d e } },\n  reject ,,");

	(void)state;
	assert_int_equal(strv_len(v), 4);
	assert_string_equal(v[0], "permit_mynetworks");
	assert_string_equal(v[1], "check_client_access");
	assert_string_equal(v[2], "inline:{ a = b, { c = d e } }");
	assert_string_equal(v[3], "reject");
	strv_free(v);
	v = strv_split_list("inline:{ a = b");
	assert_int_equal(strv_len(v), 1);
	strv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debian_defaults),
	    cmocka_unit_test(test_old_names_are_aliases),
	    cmocka_unit_test(test_arguments_and_unsupported),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_list_params),
	    cmocka_unit_test(test_split_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
