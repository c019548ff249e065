/*
 * mdname.c - parsing and building Maildir file names (see mdname.h).
 */
#include "mstore/mdname.h"

#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "util.h"

#define MDNAME_MAX 4096

/* ",<key>=<digits>" in the base; MDNAME_NOSIZE when absent or malformed. */
static uint64_t mdname_field(const char *base, size_t len, char key)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		uint64_t v = 0;
		size_t j;

		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		for (j = i + 3; j < len && base[j] >= '0' && base[j] <= '9'; j++) {
			if (v > (UINT64_MAX - 9) / 10)
				return MDNAME_NOSIZE;
			v = v * 10 + (uint64_t)(base[j] - '0');
		}
		if (j == i + 3 || (j < len && base[j] != ','))
			return MDNAME_NOSIZE;
		return v;
	}
	return MDNAME_NOSIZE;
}

bool mdname_parse(const char *name, struct mdname *out)
{
	size_t len = strnlen(name, MDNAME_MAX + 1);
	const char *colon, *info;
	uint32_t prev = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > MDNAME_MAX || name[0] == '.' || memchr(name, '/', len))
		return false;
	colon = memchr(name, ':', len);
	out->base_len = colon ? (size_t)(colon - name) : len;
	out->size = mdname_field(name, out->base_len, 'S');
	out->vsize = mdname_field(name, out->base_len, 'W');
	out->canonical = colon == NULL;
	if (colon == NULL || strncmp(colon, ":2,", 3) != 0)
		return true;
	out->has_info = true;
	out->canonical = true;
	/* Dovecot reads the letters up to a second ',' (another flag set it
	 * keeps but does not interpret). */
	for (info = colon + 3; *info && *info != ','; info++) {
		unsigned char c = (unsigned char)*info;
		uint32_t order = c;

		if (c >= 'A' && c <= 'Z')
			out->upper |= MDF(c);
		else if (c >= 'a' && c <= 'z')
			out->lower |= 1u << (c - 'a');
		else
			out->canonical = false;
		if (order <= prev)
			out->canonical = false; /* unsorted or repeated */
		prev = order;
	}
	if (*info)
		out->canonical = false;
	return true;
}

void mdname_build(
    struct buf *out, const char *base, size_t base_len, bool info, uint32_t upper, uint32_t lower)
{
	buf_append(out, base, base_len);
	if (!info)
		return;
	buf_puts(out, ":2,");
	for (int i = 0; i < 26; i++)
		if (upper & (1u << i))
			buf_putc(out, 'A' + i);
	for (int i = 0; i < 26; i++)
		if (lower & (1u << i))
			buf_putc(out, 'a' + i);
}

void mdname_format(struct buf *out, long long usec, long pid, unsigned long n, const char *host)
{
	buf_printf(out, "%lld.M%lldP%ldQ%lu.", usec / 1000000, usec % 1000000, pid, n);
	for (; *host; host++) {
		if (*host == '/')
			buf_puts(out, "\\057");
		else if (*host == ':')
			buf_puts(out, "\\072");
		else
			buf_putc(out, *host);
	}
}

void mdname_unique(struct buf *out)
{
	static unsigned long count;
	static char host[256];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (host[0] == 0 && (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0))
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = 0;
	mdname_format(
	    out, (long long)tv.tv_sec * 1000000 + tv.tv_usec, (long)getpid(), ++count, host);
}

void mdname_sizes(struct buf *out, uint64_t size, uint64_t vsize)
{
	buf_printf(out, ",S=%llu,W=%llu", (unsigned long long)size, (unsigned long long)vsize);
}
