/*
 * policy_proto.c - the policy protocol's attribute lines and their
 * parser (policy_proto.h).  Postfix ignores attributes it does not know;
 * so does this parser, keeping only those asked for.
 */
#include "policy_proto.h"

#include <stdbool.h>
#include <stdlib.h>
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

int policy_parse(
    const char *data, size_t len, size_t max, const char *const *names, char **values, size_t *used)
{
	const char *p = data, *end = data + len;
	size_t nnames = 0;
	bool bad = false;

	while (names[nnames])
		values[nnames++] = NULL;
	while (!bad && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq;
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			if ((size_t)(nl + 1 - data) > max)
				break;
			*used = (size_t)(nl + 1 - data);
			return 1;
		}
		eq = memchr(p, '=', n);
		if (eq == NULL || memchr(p, 0, n) != NULL) {
			bad = true;
			break;
		}
		for (size_t i = 0; i < nnames; i++)
			if ((size_t)(eq - p) == strlen(names[i]) &&
			    memcmp(p, names[i], (size_t)(eq - p)) == 0) {
				free(values[i]);
				values[i] = xstrndup(eq + 1, (size_t)(p + n - eq - 1));
			}
		p = nl + 1;
	}
	for (size_t i = 0; i < nnames; i++) {
		free(values[i]);
		values[i] = NULL;
	}
	return bad || len > max ? -1 : 0;
}

int policy_reply_parse(const char *data, size_t len, char **action, size_t *used)
{
	static const char *const names[] = {"action", NULL};
	int r = policy_parse(data, len, POLICY_REPLY_MAX, names, action, used);

	if (r == 1 && *action == NULL)
		return -1;
	return r;
}
