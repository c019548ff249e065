/*
 * test_pwscheme.c - unit tests for lib/auth/pwscheme.c with hashes made
 * by Dovecot 2.3's "doveadm pw" and by mkpasswd(1) for the password
 * "pässword 1" (UTF-8): every scheme verifies the right password and
 * refuses a wrong one; what tern makes, tern (and the SCRAM test vector
 * of RFC 7677) verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/pwscheme.h"
#include "buf.h"

#define PW "p\xc3\xa4ssword 1"

static const char *const dovecot_hashes[] = {
    "{CRYPT}$2y$05$B9huJVX6P0scOesq4Dkgje.ayLHuupEyhH5nR3Ini4vyDDBuOetPS",
    "{BLF-CRYPT}$2y$05$R2pTSqaCXr8DiGKqDwNWJOTYYaI3W1szptzwlXSUPsPQOGTZmUq9u",
    "{SHA512-CRYPT}$6$Z6Mp67/.a9gAfuGY$OB.hmjRNylft7IMGuUsHsM7P6/"
    "mBwel6quHkic5q6wX/z291RvMt3cGXT9vRzuJ5QbQQnw9EQifZnpTvfde9J.",
    "{SHA256-CRYPT}$5$6hxsbvqLoM/SFTV6$gQBYN0NRPUD3UhNGbhv3gQqvi6F0HGCvHQFQBvkjUu6",
    "{MD5-CRYPT}$1$6QV9II3q$6W8nPHgisEBnugt22knRf0",
    "{SCRAM-SHA-256}4096,i4Bf3lBEp+BWs65OkjIN1Q==,NhppZLm7razA0zfqUANd39/"
    "D7TOX5Lmcr3gi5sU8qzM=,3tVIl622MRISGVuqkWTcAY/5h3Kc0y8cgm1tuK13368=",
    "{SSHA256}oTmtz3Ubs/d/8Jh0L5bAIschE+kgHN9BdSUqwoeytpdWsxBb",
    "{SSHA512}R3BvmZZ6JkSknAPxIUWwHuBSp7UdcrKMpMjZmApkHxXoWl0PFKC+"
    "0VcMhs+PIWF9Aq95OHsKIfkZWFX8h7v8s1FqvRQ=",
    "{SHA256}f7RERuWhObO3oHciFhtpNCnGhD0FNBL7CyE3AkK4vbA=",
    "{SHA512}CKWQ1bFe+6HuV0fkV78KrhRH5bOjFVbkHBnd8vTWw2lc3YVFx8X2I6wtGQoVpZVuVsftC++"
    "RLO5GPIvd7H4Lyg==",
    "{SSHA}9JnYW5uL/9uO1hjHOUUFWb7OThCliKny",
    "{SHA}wBFJYYjnh5eS5Eft5JORpd7Gkko=",
    "{PLAIN}" PW,
    "{cleartext}" PW,
    /* mkpasswd: yescrypt and bcrypt $2a$, bare (Dovecot's default CRYPT) */
    "$y$j9T$3OSvLxkjgCzXlTMbT3pwa/$gB8YeI1OG56I0bBs1q/lhvfelpt7CRD9ospUCguUO13",
    "$2a$05$SsAef1UsGbPrXe31SN7zZugNrPjk8qkmGKkIwQNmHARMVnj5AW8RS",
    NULL,
};

static void test_dovecot_hashes(void **state)
{
	(void)state;
	for (int i = 0; dovecot_hashes[i]; i++) {
		if (pw_verify(dovecot_hashes[i], PW) != 1)
			fail_msg("%s does not verify", dovecot_hashes[i]);
		if (pw_verify(dovecot_hashes[i], "p\xc3\xa4ssword 2") != 0)
			fail_msg("%s accepts a wrong password", dovecot_hashes[i]);
	}
}

static void test_unusable(void **state)
{
	(void)state;
	assert_int_equal(pw_verify("{NOSUCH}abc", PW), -1);
	assert_int_equal(pw_verify("{SHA256}not base64!", PW), -1);
	assert_int_equal(pw_verify("{SCRAM-SHA-256}4096,abc", PW), -1);
	assert_int_equal(pw_verify("", PW), -1);
	assert_int_equal(pw_verify("*", PW), 0); /* a locked account */
	assert_int_equal(pw_verify("!$6$x$y", PW), 0);
	assert_int_equal(pw_verify("{PLAIN}", ""), 1);
}

static void test_scheme_names(void **state)
{
	char n[32];

	(void)state;
	pw_scheme_name("{BLF-CRYPT}$2y$", n, sizeof(n));
	assert_string_equal(n, "BLF-CRYPT");
	pw_scheme_name("$y$abc", n, sizeof(n));
	assert_string_equal(n, "CRYPT");
	assert_true(pw_scram_capable(dovecot_hashes[5]));
	assert_true(pw_scram_capable("{PLAIN}x"));
	assert_false(pw_scram_capable(dovecot_hashes[0]));
	assert_false(pw_scram_capable("$y$j9T$x"));
}

static void test_made_here(void **state)
{
	static const char *const schemes[] = {"CRYPT", "BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT",
	    "SCRAM-SHA-256", "SSHA256", "ssha512", NULL};
	struct buf err = BUF_INIT;

	(void)state;
	for (int i = 0; schemes[i]; i++) {
		char *h = pw_hash(schemes[i], "correct horse", &err);

		assert_non_null(h);
		assert_int_equal(pw_verify(h, "correct horse"), 1);
		assert_int_equal(pw_verify(h, "correct horsE"), 0);
		if (i == 0)
			assert_int_equal(strncmp(h, "{CRYPT}$y$", 10), 0);
		free(h);
	}
	assert_null(pw_hash("MD5", "x", &err));
	assert_false(pw_hash_scheme_ok("PLAIN"));
	buf_free(&err);
}

/* RFC 7677 section 3: user "user", password "pencil". */
static void test_scram_keys(void **state)
{
	struct scram_keys k, d;
	struct buf b = BUF_INIT;
	char *h;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(scram_keys_parse("4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
					  "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
					  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
			     &k),
	    0);
	scram_keys_derive("pencil", k.salt, k.salt_len, 4096, &d);
	assert_memory_equal(d.stored_key, k.stored_key, SCRAM_HASH_LEN);
	assert_memory_equal(d.server_key, k.server_key, SCRAM_HASH_LEN);
	scram_keys_format(&k, &b);
	assert_string_equal(buf_cstr(&b), "4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
					  "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
					  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
	/* A cleartext password yields keys on demand. */
	assert_int_equal(pw_scram_keys("{PLAIN}pencil", k.salt, k.salt_len, &d), 0);
	assert_memory_equal(d.stored_key, k.stored_key, SCRAM_HASH_LEN);
	assert_int_equal(pw_scram_keys("$y$j9T$x", k.salt, k.salt_len, &d), -1);
	assert_int_equal(pw_scram_keys("{PLAIN}pencil", NULL, 0, &d), -1); /* not on the loop */
	h = pw_hash("SCRAM-SHA-256", "pencil", &err);
	assert_int_equal(pw_scram_keys(h, NULL, 0, &d), 0);
	assert_int_equal(d.iter, 4096);
	free(h);
	buf_free(&b);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dovecot_hashes),
	    cmocka_unit_test(test_unusable),
	    cmocka_unit_test(test_scheme_names),
	    cmocka_unit_test(test_made_here),
	    cmocka_unit_test(test_scram_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
