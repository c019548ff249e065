/*
 * fuzz_imap_parser.c - imap/parser.c over hostile client bytes, and every
 * argument grammar of imap/args.h over each command it yields.
 *
 * The first input byte chooses the chunk size and the literal decisions
 * (accept, stream, reject); the rest is what the client sends.  The
 * parser must always make progress or wait for a decision, and the
 * grammars must never crash on any argument tree.
 */
/* FUZZ_LINK: imap/parser.c imap/args_seqset.c imap/args_fetch.c imap/args_search.c */
/* FUZZ_LINK: imap/args_misc.c imap/args_list.c imap/args_append.c imap/write.c */
/* FUZZ_LINK: imap/format_envelope.c imap/format_body.c imap/search.c imap/sort.c */
/* FUZZ_LINK: imap/thread.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/args.h"
#include "../../imap/parser.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void grammars(const struct imap_command *c)
{
	const struct imap_arg *a = c->args;
	size_t n = c->count;
	const char *err;
	struct imap_fetch f;
	struct imap_search s;
	struct imap_store st;
	struct imap_list l;
	struct imap_select sel;
	struct imap_append ap;
	struct imap_append_msg am;
	struct imap_sort so;
	struct imap_thread th;
	struct imap_seqset set;
	char *str, *str2, **v;
	unsigned items;
	size_t nl;
	struct imap_quota_limit *ql;

	if (n > 0 && a[0].type == IMAP_ARG_ATOM && imap_seqset_parse(a[0].str, true, &set, &err))
		imap_seqset_free(&set);
	if (n > 1 && imap_fetch_parse(a + 1, n - 1, &f, &err))
		imap_fetch_free(&f);
	if (imap_search_parse(a, n, true, &s, &err))
		imap_search_free(&s);
	if (n > 1 && imap_store_parse(a + 1, n - 1, &st, &err))
		imap_store_free(&st);
	if (imap_list_parse(a, n, &l, &err))
		imap_list_free(&l);
	if (imap_lsub_parse(a, n, &l, &err))
		imap_list_free(&l);
	if (imap_status_parse(a, n, &str, &items, &err))
		free(str);
	if (imap_select_parse(a, n, &sel, &err))
		imap_select_free(&sel);
	if (imap_append_parse(a, n, &ap, &err))
		imap_append_free(&ap);
	if (imap_append_parse_pending(a, n, &am, &err))
		imap_append_msg_free(&am);
	if (imap_sort_parse(a, n, &so, &err))
		imap_search_free(&so.search);
	if (imap_thread_parse(a, n, &th, &err))
		imap_search_free(&th.search);
	if ((v = imap_enable_parse(a, n, &err)) != NULL)
		strv_free(v);
	if (imap_id_parse(a, n, &v, &err) && v)
		strv_free(v);
	if (imap_setquota_parse(a, n, &str, &ql, &nl, &err)) {
		for (size_t i = 0; i < nl; i++)
			free(ql[i].resource);
		free(ql);
		free(str);
	}
	if (imap_authenticate_parse(a, n, &str, &str2, &nl, &err)) {
		free(str);
		free(str2);
	}
	if (imap_astring_arg(a, n, &str, &err))
		free(str);
	imap_compress_parse(a, n, &err);
	if (n >= 2 && a[0].type == IMAP_ARG_STRING && a[1].type == IMAP_ARG_STRING)
		imap_list_match(a[0].str, a[1].str, '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = {512, 256, 8, 64};
	struct imap_parser *p;
	size_t pos = 1, chunk, used;
	unsigned mode;

	if (size < 1)
		return 0;
	chunk = data[0] % 32 + 1;
	mode = data[0] >> 5;
	p = imap_parser_new(&lim);
	for (int guard = 0; pos < size && guard < 100000; guard++) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		enum imap_parse_result r = imap_parser_feed(p, (const char *)data + pos, n, &used);

		if (used > n)
			abort();
		pos += used;
		switch (r) {
		case IMAP_PARSE_COMMAND: grammars(imap_parser_command(p)); break;
		case IMAP_PARSE_LITERAL: {
			const struct imap_literal_info *li = imap_parser_literal(p);

			if (mode % 3 == 0) {
				imap_parser_literal_accept(p);
			} else if (mode % 3 == 1) {
				uint64_t skip = li->size < size - pos ? li->size : size - pos;

				imap_parser_literal_stream(p);
				imap_parser_partial(p);
				pos += (size_t)skip;
				imap_parser_literal_streamed(p);
			} else {
				imap_parser_literal_reject(p, NULL);
			}
			break;
		}
		case IMAP_PARSE_FATAL: imap_parser_free(p); return 0;
		case IMAP_PARSE_BAD:
		case IMAP_PARSE_MORE:
			if (used == 0 && r == IMAP_PARSE_MORE)
				abort(); /* no progress */
			break;
		}
	}
	imap_parser_free(p);
	return 0;
}
