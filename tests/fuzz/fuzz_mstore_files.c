/*
 * fuzz_mstore_files.c - libFuzzer harness for the readers of the small
 * Dovecot files of a Maildir (lib/mstore): dovecot-uidlist (whole and in
 * two pieces, as appended), dovecot-keywords, subscriptions, maildirsize
 * and Maildir file names.  Anything may be on disk; nothing may crash,
 * and what parses must format and parse back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mstore/keywords.h"
#include "mstore/mdname.h"
#include "mstore/quota.h"
#include "mstore/subs.h"
#include "mstore/uidlist.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_uidlist(const char *p, size_t size)
{
	struct uidlist ul, again;
	struct buf out = BUF_INIT;
	const char *err;
	long used;

	uidlist_init(&ul);
	used = uidlist_parse(p, size, &ul, &err);
	if (used > 0 && ul.version == 3) {
		/* appended in two parts: the same records */
		struct uidlist half;
		size_t cut = (size_t)used / 2;
		const char *nl = memchr(p, '\n', (size_t)used);

		uidlist_init(&half);
		if (nl && (size_t)(nl - p) < cut) {
			long a = uidlist_parse(p, cut, &half, &err);

			if (a > 0 &&
			    uidlist_parse_more(p + a, (size_t)used - (size_t)a, &half, &err) >= 0 &&
			    half.n != ul.n)
				abort();
		}
		uidlist_free(&half);
		uidlist_format_header(
		    &out, ul.uidvalidity, ul.next_uid, ul.guid, buf_cstr(&ul.hdr_ext));
		for (size_t i = 0; i < ul.n; i++) {
			size_t bl, el;
			const char *b = uidlist_base(&ul, i, &bl), *e = uidlist_ext(&ul, i, &el);
			const char *v;
			size_t vl;

			(void)uidlist_ext_get(e, el, 'G', &v, &vl);
			uidlist_format_rec(&out, ul.recs[i].uid, e, el, b, bl);
		}
		uidlist_init(&again);
		if (ul.guid[0] && uidlist_parse(out.data, out.len, &again, &err) != (long)out.len)
			abort();
		if (ul.guid[0] && again.n != ul.n)
			abort();
		uidlist_free(&again);
	}
	uidlist_free(&ul);
	buf_free(&out);
}

static void fuzz_keywords(const char *p, size_t size)
{
	struct keywords kw = {0}, again = {0};
	struct buf out = BUF_INIT;
	bool added;

	keywords_parse(p, size, &kw);
	keywords_format(&kw, &out);
	keywords_parse(out.data ? out.data : "", out.len, &again);
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if ((kw.name[i] == NULL) != (again.name[i] == NULL) ||
		    (kw.name[i] && strcmp(kw.name[i], again.name[i]) != 0))
			abort();
	(void)keywords_add(&kw, "Fuzz", &added);
	keywords_free(&kw);
	keywords_free(&again);
	buf_free(&out);
}

static void fuzz_subs(const char *p, size_t size)
{
	char **v = subs_parse(p, size), **w;
	struct buf out = BUF_INIT;

	subs_format(v, &out);
	w = subs_parse(out.data, out.len);
	if (strv_len(v) < strv_len(w))
		abort();
	strv_free(v);
	strv_free(w);
	buf_free(&out);
}

static void fuzz_mdsize(const char *p, size_t size)
{
	struct mdsize q;
	struct buf out = BUF_INIT;

	if (mdsize_parse(p, size, &q) != MDSIZE_RECALC && (q.bytes < 0 || q.count < 0))
		abort();
	mdsize_format(&out, q.limit_bytes, q.limit_count, 1, 1);
	mdsize_format_delta(&out, q.bytes, q.count);
	buf_free(&out);
}

static void fuzz_mdname(const char *p, size_t size)
{
	char *name = xmemdup(p, size);
	struct mdname m, again;
	struct buf out = BUF_INIT;

	if (mdname_parse(name, &m) && m.canonical) {
		mdname_build(&out, name, m.base_len, m.has_info, m.upper, m.lower);
		if (strcmp(buf_cstr(&out), name) != 0 || !mdname_parse(buf_cstr(&out), &again) ||
		    again.upper != m.upper || again.lower != m.lower)
			abort();
	}
	free(name);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	if (size == 0)
		return 0;
	/* the first byte picks the reader, so one corpus covers them all */
	switch (data[0] % 5) {
	case 0: fuzz_uidlist(p + 1, size - 1); break;
	case 1: fuzz_keywords(p + 1, size - 1); break;
	case 2: fuzz_subs(p + 1, size - 1); break;
	case 3: fuzz_mdsize(p + 1, size - 1); break;
	default: fuzz_mdname(p + 1, size - 1); break;
	}
	return 0;
}
