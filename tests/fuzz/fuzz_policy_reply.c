/*
 * fuzz_policy_reply.c - the policy protocol's parsers over hostile
 * bytes: smtpd's of a server's reply, local's quota-status of a request
 * (policy_parse), and the attribute writer.
 *
 * Beyond "no crash, no leak", it checks the contract: a complete reply
 * ends with the empty line at *used <= len, parsing exactly those bytes
 * gives the same action, and a prefix of them is "need more" (never a
 * different answer); an attribute written by policy_attr is one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_proto.h"
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
	{
		static const char *const names[] = {"recipient", "size", NULL};
		char *v[2];

		r = policy_parse(d, size, POLICY_REQUEST_MAX, names, v, &used);
		if (r != 1 && (v[0] != NULL || v[1] != NULL))
			abort();
		if (r == 1 && (used > size || used == 0 || d[used - 1] != '\n'))
			abort();
		free(v[0]);
		free(v[1]);
	}
	value = xstrndup(d, size);
	policy_attr(&line, "x", value);
	if (memchr(line.data, '\n', line.len) != line.data + line.len - 1)
		abort();
	free(value);
	buf_free(&line);
	return 0;
}
