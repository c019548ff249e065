/*
 * uidlist.c - parsing and formatting dovecot-uidlist (see uidlist.h).
 *
 * The rules follow what Dovecot 2.3 accepts: a header "<version> ..."
 * with a non-zero UIDVALIDITY and next UID, records with a UID above the
 * previous one, extension keys 'A'..'Z' (others are dropped, as Dovecot
 * drops them), a non-empty file name without '/'.
 */
#include "mstore/uidlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void uidlist_init(struct uidlist *ul)
{
	memset(ul, 0, sizeof(*ul));
	ul->next_uid = 1;
}

void uidlist_free(struct uidlist *ul)
{
	buf_free(&ul->hdr_ext);
	buf_free(&ul->strs);
	free(ul->recs);
	uidlist_init(ul);
}

void uidlist_clear_recs(struct uidlist *ul)
{
	ul->n = 0;
	buf_reset(&ul->strs);
}

/* Decimal uint32 in s[0..len), no sign, no junk; false otherwise. */
static bool uidlist_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool uidlist_hex32(const char *s, size_t len)
{
	if (len != UIDLIST_GUID_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			(s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* "1 <uidvalidity> <nextuid>" */
static int uidlist_header_v1(const char *p, size_t len, struct uidlist *ul)
{
	const char *sp = memchr(p, ' ', len);

	if (sp == NULL || !uidlist_u32(p, (size_t)(sp - p), &ul->uidvalidity) ||
	    !uidlist_u32(sp + 1, len - (size_t)(sp + 1 - p), &ul->hdr_next_uid))
		return -1;
	return 0;
}

/* "V<n> N<n> G<hex> ..." */
static int uidlist_header_v3(const char *p, size_t len, struct uidlist *ul)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, vlen;
		char key;

		while (i < len && p[i] != ' ')
			i++;
		key = p[start];
		vlen = i - start - 1;
		if (key == 'V') {
			if (!uidlist_u32(p + start + 1, vlen, &ul->uidvalidity))
				return -1;
		} else if (key == 'N') {
			if (!uidlist_u32(p + start + 1, vlen, &ul->hdr_next_uid))
				return -1;
		} else if (key == 'G') {
			if (!uidlist_hex32(p + start + 1, vlen))
				return -1;
			memcpy(ul->guid, p + start + 1, vlen);
			ul->guid[vlen] = 0;
			str_lower(ul->guid);
		} else if (i > start) {
			if (ul->hdr_ext.len)
				buf_putc(&ul->hdr_ext, ' ');
			buf_append(&ul->hdr_ext, p + start, i - start);
		}
		while (i < len && p[i] == ' ')
			i++;
	}
	return 0;
}

static int uidlist_header(const char *p, size_t len, struct uidlist *ul, const char **err)
{
	int r;

	if (len < 2 || p[0] < '0' || p[0] > '9' || p[1] != ' ') {
		*err = "corrupted header (no version)";
		return -1;
	}
	ul->version = (unsigned)(p[0] - '0');
	if (ul->version == 1)
		r = uidlist_header_v1(p + 2, len - 2, ul);
	else if (ul->version == 3)
		r = uidlist_header_v3(p + 2, len - 2, ul);
	else {
		*err = "unsupported version";
		return -1;
	}
	if (r < 0 || ul->uidvalidity == 0 || ul->hdr_next_uid == 0) {
		*err = "corrupted header";
		return -1;
	}
	ul->next_uid = ul->hdr_next_uid;
	return 0;
}

static void uidlist_push(
    struct uidlist *ul, uint32_t uid, const struct buf *ext, const char *base, size_t blen)
{
	struct uidlist_rec *r;

	if (ul->n == ul->cap) {
		ul->cap = ul->cap ? ul->cap * 2 : 64;
		ul->recs = xreallocarray(ul->recs, ul->cap, sizeof(*ul->recs));
	}
	r = &ul->recs[ul->n++];
	r->uid = uid;
	r->ext_off = (uint32_t)ul->strs.len;
	r->ext_len = (uint32_t)ext->len;
	buf_append(&ul->strs, ext->data ? ext->data : "", ext->len);
	buf_putc(&ul->strs, 0);
	r->base_off = (uint32_t)ul->strs.len;
	r->base_len = (uint32_t)blen;
	buf_append(&ul->strs, base, blen);
	buf_putc(&ul->strs, 0);
	if (uid >= ul->next_uid)
		ul->next_uid = uid + 1;
}

/* One record line; -1 with *err when it is broken. */
static int uidlist_record(const char *p, size_t len, struct uidlist *ul, const char **err)
{
	uint32_t prev = ul->n ? ul->recs[ul->n - 1].uid : 0;
	struct buf ext = BUF_INIT;
	const char *name, *colon;
	size_t i = 0, nlen;
	uint32_t uid;

	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == len || p[i] != ' ' || !uidlist_u32(p, i, &uid) || uid == 0 || uid == UINT32_MAX) {
		*err = "invalid record";
		return -1;
	}
	if (uid <= prev) {
		*err = "UIDs not ascending";
		return -1;
	}
	while (i < len && p[i] == ' ')
		i++;
	while (ul->version == 3 && i < len && p[i] != ':') {
		size_t start = i;

		while (i < len && p[i] != ' ')
			i++;
		if (p[start] >= 'A' && p[start] <= 'Z') {
			if (ext.len)
				buf_putc(&ext, ' ');
			buf_append(&ext, p + start, i - start);
		}
		while (i < len && p[i] == ' ')
			i++;
	}
	if (i < len && p[i] == ':')
		i++;
	name = p + i;
	nlen = len - i;
	colon = memchr(name, ':', nlen);
	if (colon)
		nlen = (size_t)(colon - name);
	if (nlen == 0 || memchr(name, '/', len - i) || memchr(name, 0, len - i)) {
		buf_free(&ext);
		*err = "broken file name";
		return -1;
	}
	uidlist_push(ul, uid, &ext, name, nlen);
	buf_free(&ext);
	return 0;
}

/* Parses whole lines of data; header first when want_header. */
static long uidlist_lines(
    const char *data, size_t len, struct uidlist *ul, bool want_header, const char **err)
{
	size_t off = 0, guess = len / 32; /* records: a line is longer */

	*err = NULL;
	/* Sized once (a big folder's file is megabytes): no copy per
	 * doubling.  Each line's text with two NULs at most. */
	buf_reserve(&ul->strs, len + len / 8);
	if (ul->cap < ul->n + guess) {
		ul->cap = ul->n + guess;
		ul->recs = xreallocarray(ul->recs, ul->cap, sizeof(*ul->recs));
	}
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t ll;

		if (nl == NULL)
			break; /* unfinished: a writer may be appending it */
		ll = (size_t)(nl - (data + off));
		ul->lines++;
		if (want_header) {
			if (uidlist_header(data + off, ll, ul, err) < 0)
				return -1;
			want_header = false;
		} else if (uidlist_record(data + off, ll, ul, err) < 0) {
			return -1;
		}
		off += ll + 1;
	}
	if (want_header && len > 0) {
		*err = "no complete header line";
		return -1;
	}
	return (long)off;
}

long uidlist_parse(const char *data, size_t len, struct uidlist *ul, const char **err)
{
	return uidlist_lines(data, len, ul, true, err);
}

long uidlist_parse_more(const char *data, size_t len, struct uidlist *ul, const char **err)
{
	return uidlist_lines(data, len, ul, false, err);
}

const char *uidlist_base(const struct uidlist *ul, size_t i, size_t *len)
{
	*len = ul->recs[i].base_len;
	return ul->strs.data + ul->recs[i].base_off;
}

const char *uidlist_ext(const struct uidlist *ul, size_t i, size_t *len)
{
	*len = ul->recs[i].ext_len;
	return ul->strs.data + ul->recs[i].ext_off;
}

bool uidlist_ext_get(const char *ext, size_t len, char key, const char **val, size_t *vlen)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i;

		while (i < len && ext[i] != ' ')
			i++;
		if (i > start && ext[start] == key) {
			*val = ext + start + 1;
			*vlen = i - start - 1;
			return true;
		}
		while (i < len && ext[i] == ' ')
			i++;
	}
	return false;
}

void uidlist_format_header(
    struct buf *out, uint32_t uidvalidity, uint32_t next_uid, const char *guid, const char *hdr_ext)
{
	buf_printf(out, "3 V%u N%u G%s", uidvalidity, next_uid, guid);
	if (hdr_ext && *hdr_ext)
		buf_printf(out, " %s", hdr_ext);
	buf_putc(out, '\n');
}

void uidlist_format_rec(
    struct buf *out, uint32_t uid, const char *ext, size_t ext_len, const char *base, size_t len)
{
	buf_printf(out, "%u", uid);
	if (ext && ext_len) {
		buf_putc(out, ' ');
		buf_append(out, ext, ext_len);
	}
	buf_puts(out, " :");
	buf_append(out, base, len);
	buf_putc(out, '\n');
}

void uidlist_new_guid(char out[UIDLIST_GUID_HEX + 1])
{
	unsigned char raw[16];

	arc4random_buf(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), out);
}
