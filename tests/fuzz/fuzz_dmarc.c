/*
 * fuzz_dmarc.c - libFuzzer harness for lib/msgauth's DMARC record parser
 * and the organisational domain: a record that parses has p= set and
 * pct within 0..100; the organisational domain of any name is a suffix
 * of its lower-cased form.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dmarc.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r;
	struct buf err = BUF_INIT;
	char *name, *o;

	if (dmarc_record_parse((const char *)data, size, &r, &err) == 0) {
		if (r.p == DMARC_P_UNSET || r.pct < 0 || r.pct > 100)
			abort();
	}
	buf_free(&err);
	name = xstrndup((const char *)data, size < 255 ? size : 255);
	o = dmarc_org_domain(name);
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strlen(o) > strlen(name))
		abort();
	free(o);
	free(name);
	return 0;
}
