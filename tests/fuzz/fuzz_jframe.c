/*
 * fuzz_jframe.c - libFuzzer harness for the http <-> jmap frames
 * (lib/http/jframe.c): jmap decodes what http sends and http what jmap
 * answers.  The input is parsed as ipc.h records; each that decodes as a
 * frame is encoded and decoded again and must come back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http/jframe.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		abort();
}

static void check(const struct ipc_msg *m)
{
	struct jframe f, g;
	struct ipc_msg m2;
	struct buf b = BUF_INIT;
	const char *why;
	size_t used;

	if (jframe_decode(m, &f, &why) < 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (f.body == NULL || f.body_len > JFRAME_MAX_BODY)
		abort();
	if (f.op == JFRAME_RESPONSE && (f.status < 100 || f.status > 599))
		abort();
	if (f.op == JFRAME_REQUEST && (f.path == NULL || f.path[0] != '/' || *f.method == 0))
		abort();
	jframe_encode(&b, &f);
	ipc_msg_init(&m2);
	if (ipc_parse(b.data, b.len, JFRAME_MAX_RECORD * 2, &m2, &used, &why) != IPC_OK ||
	    jframe_decode(&m2, &g, &why) < 0)
		abort();
	if (f.op != g.op || f.id != g.id || f.status != g.status || f.body_len != g.body_len ||
	    memcmp(f.body, g.body, f.body_len) != 0)
		abort();
	same(f.method, g.method);
	same(f.path, g.path);
	same(f.query, g.query);
	same(f.ctype, g.ctype);
	same(f.disposition, g.disposition);
	ipc_msg_free(&m2);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ipc_msg m;
	size_t used;
	const char *why;

	ipc_msg_init(&m);
	while (size > 0 && ipc_parse(p, size, JFRAME_MAX_RECORD, &m, &used, &why) == IPC_OK) {
		check(&m);
		p += used;
		size -= used;
	}
	ipc_msg_free(&m);
	return 0;
}
