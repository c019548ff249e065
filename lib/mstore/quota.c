/*
 * quota.c - maildirsize parsing and formatting (see quota.h).
 */
#include "mstore/quota.h"

#include <string.h>

/* [-]digits at s[*i], for a value of at most 2^62; false otherwise. */
static bool mdsize_num(const char *s, size_t len, size_t *i, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;
	size_t start;

	if (*i < len && s[*i] == '-') {
		neg = true;
		(*i)++;
	}
	start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (v > ((int64_t)1 << 62) / 10)
			return false;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return false;
	*out = neg ? -v : v;
	return true;
}

bool mdsize_parse_limits(const char *s, size_t len, uint64_t *bytes, uint64_t *count)
{
	size_t i = 0;
	bool ok = true;

	*bytes = *count = 0;
	while (i < len) {
		int64_t v;

		if (!mdsize_num(s, len, &i, &v) || v < 0 || i == len) {
			ok = false;
			break;
		}
		if (s[i] == 'S')
			*bytes = (uint64_t)v;
		else if (s[i] == 'C')
			*count = (uint64_t)v;
		else
			ok = false;
		i++;
		if (i < len && s[i] != ',') {
			ok = false;
			break;
		}
		if (i < len)
			i++;
	}
	return ok;
}

enum mdsize_result mdsize_parse(const char *data, size_t len, struct mdsize *out)
{
	const char *nl;
	size_t off;

	memset(out, 0, sizeof(*out));
	if (len >= MDSIZE_MAX_FILE)
		return MDSIZE_RECALC;
	if (memchr(data, 0, len) || (nl = memchr(data, '\n', len)) == NULL)
		return MDSIZE_RECALC;
	(void)mdsize_parse_limits(data, (size_t)(nl - data), &out->limit_bytes, &out->limit_count);
	off = (size_t)(nl - data) + 1;
	/* A last line without '\n' may be being appended: not counted. */
	while (off < len) {
		const char *line = data + off, *end = memchr(line, '\n', len - off);
		size_t ll, i = 0;
		int64_t b, c;

		if (end == NULL)
			break;
		ll = (size_t)(end - line);
		off += ll + 1;
		if (!mdsize_num(line, ll, &i, &b))
			return MDSIZE_RECALC;
		while (i < ll && line[i] == ' ')
			i++;
		if (!mdsize_num(line, ll, &i, &c) || i != ll)
			return MDSIZE_RECALC;
		out->bytes += b;
		out->count += c;
		out->deltas++;
	}
	if (out->deltas == 0 || out->bytes < 0 || out->count < 0)
		return MDSIZE_RECALC;
	if ((out->limit_bytes && (uint64_t)out->bytes > out->limit_bytes) ||
	    (out->limit_count && (uint64_t)out->count > out->limit_count))
		return MDSIZE_OVER;
	return MDSIZE_OK;
}

void mdsize_format(
    struct buf *out, uint64_t limit_bytes, uint64_t limit_count, uint64_t bytes, uint64_t count)
{
	if (limit_bytes || !limit_count)
		buf_printf(out, "%lluS", (unsigned long long)limit_bytes);
	if (limit_count)
		buf_printf(out, "%s%lluC", limit_bytes ? "," : "", (unsigned long long)limit_count);
	buf_printf(out, "\n%llu %llu\n", (unsigned long long)bytes, (unsigned long long)count);
}

void mdsize_format_delta(struct buf *out, int64_t bytes, int64_t count)
{
	buf_printf(out, "%lld %lld\n", (long long)bytes, (long long)count);
}
