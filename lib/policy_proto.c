/*
 * policy_proto.c - the policy protocol's request lines and reply parser
 * (policy_proto.h).  Postfix ignores reply attributes it does not know;
 * so does this parser, keeping only "action".
 */
#include "policy_proto.h"

#include <string.h>

#include "util.h"

void policy_attr(struct buf *out, const char *name, const char *value)
{
	buf_puts(out, name);
	buf_putc(out, '=');
	for (const char *p = value ? value : ""; *p; p++)
		buf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
	buf_putc(out, '\n');
}

int policy_reply_parse(const char *data, size_t len, char **action, size_t *used)
{
	const char *p = data, *end = data + len;
	const char *act = NULL;
	size_t act_len = 0;

	*action = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq;
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			if (act == NULL || (size_t)(nl + 1 - data) > POLICY_REPLY_MAX)
				return -1;
			*action = xstrndup(act, act_len);
			*used = (size_t)(nl + 1 - data);
			return 1;
		}
		eq = memchr(p, '=', n);
		if (eq == NULL || memchr(p, 0, n) != NULL)
			return -1;
		if ((size_t)(eq - p) == 6 && memcmp(p, "action", 6) == 0) {
			act = eq + 1;
			act_len = n - 7;
		}
		p = nl + 1;
	}
	return len > POLICY_REPLY_MAX ? -1 : 0;
}
