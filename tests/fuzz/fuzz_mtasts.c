/*
 * fuzz_mtasts.c - libFuzzer harness for lib/mtasts.c: the input is read as
 * an MTA-STS policy file (as fetched from a hostile web server) and, up to
 * its first NUL, as an _mta-sts TXT record.  A parsed policy must hold
 * lower-case patterns within the limits, and matching each pattern's own
 * text (its wildcard label replaced) must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_policy p = {.mode = MTASTS_NONE, .max_age = 0, .mx = NULL, .nmx = 0};
	struct buf why = BUF_INIT;
	char id[MTASTS_ID_MAX + 1];
	char *txt = malloc(size + 1);

	memcpy(txt, data, size);
	txt[size] = 0;
	if (mtasts_txt_parse(txt, id) && (strlen(id) == 0 || strlen(id) > MTASTS_ID_MAX))
		abort();
	if (mtasts_policy_parse((const char *)data, size, &p, &why)) {
		if (p.nmx > MTASTS_MX_MAX || p.max_age < 0 || p.max_age > MTASTS_MAX_AGE)
			abort();
		if (p.mode != MTASTS_NONE && p.nmx == 0)
			abort();
		for (size_t i = 0; i < p.nmx; i++) {
			for (const char *c = p.mx[i]; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					abort();
			mtasts_mx_match(&p, p.mx[i]);
		}
		mtasts_policy_free(&p);
	}
	buf_free(&why);
	free(txt);
	return 0;
}
