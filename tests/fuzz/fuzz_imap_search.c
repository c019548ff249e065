/*
 * fuzz_imap_search.c - SEARCH, SORT and THREAD over hostile input: the
 * first line is a SEARCH command's arguments, the rest a message that the
 * evaluator reads (in pieces whose size the first byte chooses); the same
 * message's envelope also feeds the sort keys and both thread algorithms.
 */
/* FUZZ_LINK: imap/parser.c imap/args_seqset.c imap/args_fetch.c imap/args_search.c */
/* FUZZ_LINK: imap/args_misc.c imap/args_list.c imap/args_append.c imap/write.c */
/* FUZZ_LINK: imap/format_envelope.c imap/format_body.c imap/search.c imap/sort.c */
/* FUZZ_LINK: imap/thread.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/search.h"
#include "../../imap/sort.h"
#include "mime/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fmsg {
	const char *text;
	size_t len, piece;
	unsigned flags;
};

static bool f_has_flag(void *ctx, const char *flag)
{
	const struct fmsg *m = ctx;

	return (m->flags & (1u << (flag[0] % 8))) != 0;
}

static ssize_t f_read(void *ctx, uint64_t off, char *buf, size_t n)
{
	const struct fmsg *m = ctx;

	if (off >= m->len)
		return 0;
	n = n < m->piece ? n : m->piece;
	n = n < m->len - off ? n : (size_t)(m->len - off);
	memcpy(buf, m->text + off, n);
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1, *nl;
	size_t len = size ? size - 1 : 0, used;
	struct imap_parser *p;
	struct fmsg m;

	if (size < 1 || (nl = memchr(text, '\n', len)) == NULL)
		return 0;
	m.text = nl + 1;
	m.len = len - (size_t)(nl + 1 - text);
	m.piece = data[0] % 64 + 1;
	m.flags = data[0];
	p = imap_parser_new(NULL);
	if (imap_parser_feed(p, text, (size_t)(nl + 1 - text), &used) == IMAP_PARSE_COMMAND) {
		const struct imap_command *c = imap_parser_command(p);
		struct imap_search s;
		const char *err;
		struct imap_seqset saved = {NULL, 0, false};
		struct imap_search_env env = {7, 70, 1000000, &saved};
		struct imap_search_msg sm = {.seq = 3,
		    .uid = 30,
		    .modseq = 5,
		    .internaldate = 999000,
		    .internal_tz = 60,
		    .size = m.len,
		    .has_flag = f_has_flag,
		    .read = f_read,
		    .ctx = &m};

		if (imap_search_parse(c->args, c->count, true, &s, &err)) {
			if (imap_search_prepare(&s, &env, &err))
				imap_search_match(&s, &env, &sm);
			imap_search_free(&s);
		}
	}
	imap_parser_free(p);

	struct mime_part *root = mime_parse(m.text, m.len);
	struct imap_sort_msg sm[3];
	struct imap_sort_criterion crit[] = {
	    {IMAP_SORT_SUBJECT, false}, {IMAP_SORT_DISPLAYFROM, true}, {IMAP_SORT_DATE, false}};
	struct buf out = BUF_INIT;
	char *refs = strndup(m.text, m.len);
	for (int i = 0; i < 3; i++)
		imap_sort_msg_fill(&sm[i], root->envelope, i == 1 ? refs : NULL, (uint32_t)i + 1,
		    (uint32_t)i + 1, 0, m.len);
	free(refs);
	imap_sort(sm, 3, crit, 3);
	imap_thread(sm, 3, IMAP_THREAD_REFERENCES, &out);
	imap_thread(sm, 3, IMAP_THREAD_ORDEREDSUBJECT, &out);
	for (int i = 0; i < 3; i++)
		imap_sort_msg_free(&sm[i]);
	buf_free(&out);
	mime_part_free(root);
	return 0;
}
