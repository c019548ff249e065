/*
 * fuzz_addrlist.c - libFuzzer harness for lib/addrlist.c, the address
 * list splitter sendmail -t runs over To:/Cc:/Bcc: headers a user wrote.
 * Every address that comes out must be non-empty and free of control
 * characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **v = addrlist_parse((const char *)data, size);

	for (size_t i = 0; v[i]; i++) {
		if (v[i][0] == 0)
			abort();
		for (const char *p = v[i]; *p; p++)
			if ((unsigned char)*p < 32 || *p == 127)
				abort();
	}
	strv_free(v);
	return 0;
}
