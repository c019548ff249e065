/*
 * fuzz_milter_codec.c - libFuzzer harness for lib/milter/codec.c and
 * lib/milter/edit.c: the input is what a hostile filter may send, a
 * stream of packets.
 *
 * Every packet is split off and taken apart with each reply decoder
 * (OPTNEG with its SETSYMLIST tail, string replies, indexed headers,
 * reply codes), and header and body edits are applied to a message whose
 * header is the first packet's data.  The rules checked: a decoded string
 * lies inside its packet; a message written after any edits parses back
 * to the same fields and body (no edit can inject a field or end the
 * header), and its header never holds an empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter/codec.h"
#include "milter/edit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct milter_packet *p, const char *s)
{
	if (s < p->data || s + strlen(s) >= p->data + p->len)
		abort();
}

static void decode_all(const struct milter_packet *p)
{
	uint32_t v, a, pr, stage, idx;
	const char *sym, *list, *str[2], *name, *value;
	size_t n;
	bool bad;
	int k;

	if (milter_parse_optneg(p, &v, &a, &pr, &sym, &n))
		while (milter_next_symlist(&sym, &n, &stage, &list, &bad))
			inside(p, list);
	k = milter_parse_strings(p, str, 1, 2);
	for (int i = 0; i < k; i++) {
		inside(p, str[i]);
		(void)milter_reply_valid(str[i]);
	}
	if (milter_parse_indexed_header(p, &idx, &name, &value)) {
		inside(p, name);
		inside(p, value);
	}
}

static void edit(struct milter_msg *m, const struct milter_packet *p)
{
	const char *str[2], *name, *value;
	uint32_t idx;

	switch (p->cmd) {
	case SMFIR_ADDHEADER:
		if (milter_parse_strings(p, str, 2, 2) == 2)
			(void)milter_msg_add(m, str[0], str[1], p->len & 1);
		break;
	case SMFIR_INSHEADER:
		if (milter_parse_indexed_header(p, &idx, &name, &value))
			(void)milter_msg_insert(m, idx, name, value, false);
		break;
	case SMFIR_CHGHEADER:
		if (milter_parse_indexed_header(p, &idx, &name, &value))
			(void)milter_msg_change(m, idx, name, value, false);
		break;
	case SMFIR_REPLBODY: milter_msg_body(m, p->data, p->len); break;
	default: milter_msg_body_done(m); break;
	}
}

/* Written, parsed again, written again: the same bytes. */
static void check_stable(const struct milter_msg *m)
{
	struct buf one = BUF_INIT, two = BUF_INIT;
	struct milter_msg again;
	const char *end;

	milter_msg_write(m, &one);
	milter_msg_parse(&again, one.data, one.len);
	if (again.nhdr != m->nhdr)
		abort();
	milter_msg_write(&again, &two);
	if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0)
		abort();
	end = memmem(one.data, one.len, "\n\n", 2);
	if (m->nhdr > 0 && (end == NULL || (size_t)(end - one.data) + 2 != one.len - m->body.len))
		abort();
	milter_msg_free(&again);
	buf_free(&one);
	buf_free(&two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct milter_packet p;
	struct milter_msg m;
	size_t used, off = 0;
	bool first = true;

	memset(&m, 0, sizeof(m));
	while (off < size && milter_parse(in + off, size - off, MILTER_MAX_PACKET, &p, &used) ==
				 MILTER_PARSE_OK) {
		if (used > size - off || used != p.len + 5)
			abort();
		decode_all(&p);
		if (first)
			milter_msg_parse(&m, p.data, p.len);
		else
			edit(&m, &p);
		first = false;
		off += used;
	}
	check_stable(&m);
	milter_msg_free(&m);
	return 0;
}
