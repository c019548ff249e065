/*
 * fuzz_alias_list.c - libFuzzer harness for alias target lists: the
 * bytes of any user's .forward reach alias_targets().
 *
 * Every target it returns must be non-empty, trimmed, free of the
 * separators it split at (outside quotes) and checkable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alias_list.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmemdup(data, size);
	char **v = alias_targets(text);

	for (char **p = v; *p; p++) {
		size_t n = strlen(*p);

		if (n == 0 || **p == ' ' || (*p)[n - 1] == ' ' || **p == '#')
			abort();
		(void)alias_target_check(*p);
	}
	strv_free(v);
	free(text);
	return 0;
}
