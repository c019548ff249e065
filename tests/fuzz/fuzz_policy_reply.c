/*
 * fuzz_policy_reply.c - smtpd's policy server reply parser (and the
 * request attribute writer) over hostile bytes.
 *
 * Beyond "no crash, no leak", it checks the contract: a complete reply
 * ends with the empty line at *used <= len, parsing exactly those bytes
 * gives the same action, and a prefix of them is "need more" (never a
 * different answer); an attribute written by policy_attr is one line.
 */
/* FUZZ_LINK: smtpd/policy_proto.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtpd/policy_proto.h"
#include "buf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	char *action = NULL, *again = NULL, *value;
	size_t used = 0, used2 = 0;
	struct buf line = BUF_INIT;
	int r = policy_reply_parse(d, size, &action, &used);

	if (r == 1) {
		if (action == NULL || used > size || used == 0 || d[used - 1] != '\n')
			abort();
		if (policy_reply_parse(d, used, &again, &used2) != 1 || used2 != used ||
		    strcmp(again, action) != 0)
			abort();
		free(again);
		if (policy_reply_parse(d, used - 1, &again, &used2) != 0 || again != NULL)
			abort();
	} else if (action != NULL) {
		abort();
	}
	free(action);
	value = xstrndup(d, size);
	policy_attr(&line, "x", value);
	if (memchr(line.data, '\n', line.len) != line.data + line.len - 1)
		abort();
	free(value);
	buf_free(&line);
	return 0;
}
