/*
 * fuzz_tlsrpt.c - libFuzzer harness for lib/tlsrpt.c: the input, up to
 * its first NUL, is a _smtp._tls TXT record (from a hostile name server).
 * A parsed record holds 1 to TLSRPT_RUA_MAX URIs, each mailto: or https:;
 * a refused one has a reason and nothing allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_record r = {.rua = NULL, .nrua = 0};
	struct buf why = BUF_INIT;
	char *txt = malloc(size + 1);

	memcpy(txt, data, size);
	txt[size] = 0;
	if (tlsrpt_record_parse(txt, &r, &why)) {
		if (r.nrua == 0 || r.nrua > TLSRPT_RUA_MAX)
			abort();
		for (size_t i = 0; i < r.nrua; i++)
			if (strncasecmp(r.rua[i], "mailto:", 7) != 0 &&
			    strncasecmp(r.rua[i], "https:", 6) != 0)
				abort();
		tlsrpt_record_free(&r);
	} else if (why.len == 0 || r.rua != NULL) {
		abort();
	}
	buf_free(&why);
	free(txt);
	return 0;
}
