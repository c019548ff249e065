/*
 * test_scram.c - unit tests for lib/auth/scram.c: the exchange of RFC
 * 7677 section 3 byte for byte (server side, with the RFC's nonces), the
 * client helper against the server, and malformed messages of every kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/scram.h"
#include "buf.h"

#define RFC_KEYS                                                                                   \
	"4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"              \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_CF "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SF                                                                                     \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CFIN                                                                                   \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"           \
	"Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SFIN "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void test_rfc7677(void **state)
{
	struct scram_keys k;
	struct scram_client_first cf;
	struct buf sf = BUF_INIT, fin = BUF_INIT, cfin = BUF_INIT;
	const char *why;

	(void)state;
	assert_int_equal(scram_keys_parse(RFC_KEYS, &k), 0);
	assert_int_equal(scram_parse_client_first(RFC_CF, strlen(RFC_CF), &cf, &why), 0);
	assert_string_equal(cf.user, "user");
	assert_string_equal(cf.nonce, "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(cf.gs2_len, 3);
	scram_server_first(&cf, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", &k, &sf);
	assert_string_equal(buf_cstr(&sf), RFC_SF);
	assert_int_equal(scram_server_final(RFC_CF, strlen(RFC_CF), &cf, RFC_SF, RFC_CFIN,
			     strlen(RFC_CFIN), &k, &fin, &why),
	    0);
	assert_string_equal(buf_cstr(&fin), RFC_SFIN);
	/* The client helper computes the same final message. */
	scram_client_final("pencil", RFC_CF + 3, RFC_SF, "n,,", &cfin);
	assert_string_equal(buf_cstr(&cfin), RFC_CFIN);
	buf_reset(&cfin);
	scram_client_final("pencil!", RFC_CF + 3, RFC_SF, "n,,", &cfin);
	buf_reset(&fin);
	assert_int_equal(scram_server_final(RFC_CF, strlen(RFC_CF), &cf, RFC_SF, cfin.data,
			     cfin.len, &k, &fin, &why),
	    -1);
	assert_string_equal(why, "wrong proof");
	assert_int_equal(fin.len, 0);
	buf_free(&sf);
	buf_free(&fin);
	buf_free(&cfin);
}

static void test_client_first_forms(void **state)
{
	struct scram_client_first cf;
	const char *why;
	const char *a = "y,a=us=2Cer,n=us=2Cer,r=abc,x=ext";
	const char *bad[] = {
	    "p=tls-unique,,n=user,r=abc", /* channel binding */
	    "n,,m=mand,n=user,r=abc",	  /* mandatory extension */
	    "n,,n=us=2Xer,r=abc",	  /* bad escape */
	    "n,,n=user,r=a,b",		  /* comma-less extension */
	    "n,,n=,r=abc",		  /* empty name */
	    "n,,n=user",		  /* no nonce */
	    "n,,n=user,r=",		  /* empty nonce */
	    "x,,n=user,r=abc",		  /* bad gs2 flag */
	    "n,b=x,n=user,r=abc",	  /* bad authzid */
	    "n,,n=user,r=ab\x7f",	  /* nonce not printable */
	    "",
	    NULL,
	};

	(void)state;
	assert_int_equal(scram_parse_client_first(a, strlen(a), &cf, &why), 0);
	assert_string_equal(cf.user, "us,er");
	assert_string_equal(cf.authzid, "us,er");
	assert_int_equal(cf.cbind, 'y');
	assert_int_equal(cf.gs2_len, strlen("y,a=us=2Cer,"));
	for (int i = 0; bad[i]; i++)
		if (scram_parse_client_first(bad[i], strlen(bad[i]), &cf, &why) == 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(scram_parse_client_first("n,,n=a\0b,r=x", 12, &cf, &why), -1);
}

static void test_client_final_forms(void **state)
{
	struct scram_client_final fin;
	const char *why;
	const char *bad[] = {
	    "c=biws,r=abc",						    /* no proof */
	    "c=biws,r=abc,p=AAAA",					    /* short proof */
	    "r=abc,c=biws,p=" RFC_SFIN,					    /* order */
	    "c=not base64,r=abc,p=" RFC_SFIN,				    /* cbind */
	    "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=x", /* trailing */
	    NULL,
	};

	(void)state;
	assert_int_equal(scram_parse_client_final(RFC_CFIN, strlen(RFC_CFIN), &fin, &why), 0);
	assert_int_equal(fin.cbind_len, 3);
	assert_memory_equal(fin.cbind, "n,,", 3);
	assert_int_equal(fin.without_proof_len, strlen(RFC_CFIN) - strlen(",p=") - 44);
	for (int i = 0; bad[i]; i++)
		if (scram_parse_client_final(bad[i], strlen(bad[i]), &fin, &why) == 0)
			fail_msg("accepted: %s", bad[i]);
}

static void test_mismatches(void **state)
{
	struct scram_keys k;
	struct scram_client_first cf;
	struct buf fin = BUF_INIT;
	const char *why;
	const char *other_nonce =
	    "c=biws,r=rOprNGfwEbeRWgbNEkqOXXX,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	const char *y_cf = "y,,n=user,r=rOprNGfwEbeRWgbNEkqO";

	(void)state;
	assert_int_equal(scram_keys_parse(RFC_KEYS, &k), 0);
	assert_int_equal(scram_parse_client_first(RFC_CF, strlen(RFC_CF), &cf, &why), 0);
	assert_int_equal(scram_server_final(RFC_CF, strlen(RFC_CF), &cf, RFC_SF, other_nonce,
			     strlen(other_nonce), &k, &fin, &why),
	    -1);
	assert_string_equal(why, "nonce mismatch");
	/* The client said "y" but its final message binds "n,,". */
	assert_int_equal(scram_parse_client_first(y_cf, strlen(y_cf), &cf, &why), 0);
	assert_int_equal(scram_server_final(y_cf, strlen(y_cf), &cf, RFC_SF, RFC_CFIN,
			     strlen(RFC_CFIN), &k, &fin, &why),
	    -1);
	assert_string_equal(why, "channel binding mismatch");
	assert_int_equal(scram_keys_parse("0,W22ZaJ0SNY7soEsUEjb6gQ==,a,b", &k), -1);
	assert_int_equal(scram_keys_parse("4096,W22ZaJ0SNY7soEsUEjb6gQ==,AAAA,AAAA", &k), -1);
	assert_int_equal(scram_keys_parse("4096,,x,y,z", &k), -1);
	buf_free(&fin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7677),
	    cmocka_unit_test(test_client_first_forms),
	    cmocka_unit_test(test_client_final_forms),
	    cmocka_unit_test(test_mismatches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
