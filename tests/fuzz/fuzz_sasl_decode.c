/*
 * fuzz_sasl_decode.c - libFuzzer harness for the SASL decoders
 * (lib/auth/sasl.c).
 *
 * Each input is one client response line: it is base64-decoded as the
 * auth daemon does, a decoded message is split as SASL PLAIN, and
 * whatever decodes must encode back to exactly the input (the decoder is
 * strict, so there is one encoding per message).  The raw input is split
 * as PLAIN too.  SCRAM's messages have their own harness (fuzz_scram.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plain(const char *p, size_t n)
{
	struct sasl_plain sp;

	if (sasl_plain_parse(p, n, &sp) != 0)
		return;
	if (sp.authzid != p || sp.authzid_len + sp.authcid_len + sp.passwd_len + 2 != n ||
	    sp.passwd + sp.passwd_len != p + n || sp.authcid_len == 0 || sp.passwd_len == 0 ||
	    memchr(sp.authcid, 0, sp.authcid_len) || memchr(sp.passwd, 0, sp.passwd_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf dec = BUF_INIT, enc = BUF_INIT;

	if (sasl_base64_decode(in, size, &dec) == 0) {
		sasl_base64_encode(dec.data ? dec.data : "", dec.len, &enc);
		if (enc.len != size || (size && memcmp(enc.data, in, size) != 0))
			abort();
		check_plain(dec.data ? dec.data : "", dec.len);
	}
	check_plain(in, size);
	buf_free(&dec);
	buf_free(&enc);
	return 0;
}
