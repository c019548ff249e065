/*
 * fuzz_mastercf.c - libFuzzer harness for master.cf parsing.
 *
 * Feeds the input to mastercf_parse_text() and checks the invariants the
 * header promises: on error nothing is returned, on success every service
 * has a name, a command and a NULL-terminated argv of argc entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mastercf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const struct master_cf *cf)
{
	for (size_t i = 0; i < cf->count; i++) {
		const struct master_service *s = &cf->services[i];

		if (s->name == NULL || s->argc < 1 || s->argv[s->argc] != NULL ||
		    strlen(s->argv[0]) == 0 || s->maxproc < -1 || s->wakeup < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct master_cf cf;
	struct buf err = BUF_INIT;

	if (mastercf_parse_text((const char *)data, size, "master.cf", &cf, &err) == 0)
		fuzz_check(&cf);
	else if (cf.count != 0 || cf.services != NULL || err.len == 0)
		abort();
	mastercf_free(&cf);
	buf_free(&err);
	return 0;
}
