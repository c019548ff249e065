/*
 * fuzz_scram.c - libFuzzer harness for the SCRAM-SHA-256 message parsers
 * (lib/auth/scram.c) and stored SCRAM keys.
 *
 * The input is tried as a client-first message, as a client-final
 * message (checked against the RFC 7677 exchange's keys and
 * server-first), and as Dovecot's stored form.  A parsed client-first
 * message must have a non-empty user and nonce; parsed stored keys must
 * format and parse back to the same keys.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scram.h"
#include "buf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SF "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CF "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct scram_client_first cf;
	struct scram_client_final fin;
	struct scram_keys k, k2;
	struct buf out = BUF_INIT;
	const char *why;
	char *text;

	if (scram_parse_client_first(msg, size, &cf, &why) == 0 &&
	    (cf.user[0] == 0 || cf.nonce[0] == 0 || cf.gs2_len > size))
		abort();
	if (scram_parse_client_final(msg, size, &fin, &why) == 0 &&
	    (fin.without_proof_len > size || fin.nonce[0] == 0))
		abort();
	if (scram_keys_parse("4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
			     "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
			     "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		&k) != 0 ||
	    scram_parse_client_first(CF, strlen(CF), &cf, &why) != 0)
		abort();
	if (scram_server_final(CF, strlen(CF), &cf, SF, msg, size, &k, &out, &why) == 0 &&
	    out.len == 0)
		abort();
	buf_reset(&out);
	text = xmemdup(data, size);
	if (strlen(text) == size && scram_keys_parse(text, &k) == 0 && k.iter <= 100000) {
		scram_keys_format(&k, &out);
		if (scram_keys_parse(buf_cstr(&out), &k2) != 0 || k2.iter != k.iter ||
		    k2.salt_len != k.salt_len || memcmp(k2.salt, k.salt, k.salt_len) != 0 ||
		    memcmp(k2.stored_key, k.stored_key, SCRAM_HASH_LEN) != 0)
			abort();
	}
	free(text);
	buf_free(&out);
	return 0;
}
