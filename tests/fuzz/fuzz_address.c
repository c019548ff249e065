/*
 * fuzz_address.c - libFuzzer harness for lib/address.c.
 *
 * The first byte picks the flags; the rest is a MAIL/RCPT argument.  A
 * parsed address must parse again to itself (the canonical form is a fixed
 * point), and addr_split/addr_quote_local must cope with any result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-parses the canonical form: it must come back unchanged. */
static void check_fixed_point(const char *addr, int flags)
{
	char *path = xasprintf("<%s>", addr), *again = NULL;
	const char *rest, *err;

	if (addr_parse_path(path, strlen(path), flags, &again, &rest, &err) != 0)
		abort();
	if (strcmp(again, addr) != 0 || *rest != 0)
		abort();
	free(again);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest, *err;
	char *out, *local, *domain, *q;
	int flags;

	if (size == 0)
		return 0;
	flags = data[0] & (ADDR_ALLOW_NULL | ADDR_ALLOW_UTF8 | ADDR_ALLOW_LOCAL);
	if (addr_parse_path((const char *)data + 1, size - 1, flags, &out, &rest, &err) != 0)
		return 0;
	if (rest < (const char *)data + 1 || rest > (const char *)data + size)
		abort();
	if (strlen(out) <= ADDR_MAX - 2 && *out != 0)
		check_fixed_point(out, flags);
	addr_split(out, &local, &domain);
	q = addr_quote_local(local);
	free(q);
	free(local);
	free(domain);
	free(out);
	return 0;
}
