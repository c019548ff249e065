/*
 * auth/quota_rule.c - Dovecot's quota_rule values, parsed and shown.
 */
#include "auth/quota_rule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

long long quota_size_parse(const char *s, int default_kb)
{
	const char *units = "bkmgt";
	const char *u;
	char *end;
	unsigned long long v;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoull(s, &end, 10);
	if (*end == 0) {
		shift = default_kb ? 10 : 0;
	} else {
		u = strchr(units, tolower((unsigned char)*end));
		if (u == NULL ||
		    (end[1] != 0 && !((end[1] == 'b' || end[1] == 'B') && end[2] == 0)))
			return -1;
		shift = (int)(u - units) * 10;
	}
	if (v > (unsigned long long)(1LL << 62) >> shift)
		return -1;
	return (long long)(v << shift);
}

int quota_rule_parse(const char *rule, long long *bytes, long long *messages)
{
	char *copy, *p, *part;
	int r = 0;

	*bytes = -1;
	*messages = -1;
	if (strncmp(rule, "*:", 2) != 0)
		return -1;
	copy = strdup(rule + 2);
	if (copy == NULL)
		return -1;
	for (p = copy; r == 0 && (part = strsep(&p, ":")) != NULL;) {
		char *eq = strchr(part, '=');
		long long v;

		if (eq == NULL) {
			r = -1;
			break;
		}
		*eq++ = 0;
		if (strcasecmp(part, "storage") == 0)
			v = quota_size_parse(eq, 1);
		else if (strcasecmp(part, "bytes") == 0)
			v = quota_size_parse(eq, 0);
		else if (strcasecmp(part, "messages") == 0)
			v = quota_size_parse(eq, 0);
		else
			v = -1;
		if (v < 0)
			r = -1;
		else if (strcasecmp(part, "messages") == 0)
			*messages = v ? v : -1;
		else
			*bytes = v ? v : -1;
	}
	free(copy);
	return r;
}

void quota_size_format(long long bytes, char *out, size_t size)
{
	static const char units[] = "KMGT";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, size, "%lld", bytes);
	else if (v == (long long)v)
		snprintf(out, size, "%lld%c", (long long)v, units[u]);
	else
		snprintf(out, size, "%.1f%c", v, units[u]);
}
