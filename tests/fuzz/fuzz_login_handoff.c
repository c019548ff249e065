/*
 * fuzz_login_handoff.c - libFuzzer harness for the hand-off records
 * (lib/login/handoff.c), which the root dispatcher postlogin decodes
 * from unprivileged login processes.  The input is parsed as ipc.h
 * records; each is decoded as a hand-off and as a reply.  Whatever
 * decodes is encoded and decoded again, and must come back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "login/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		abort();
}

static void check_handoff(const struct ipc_msg *m)
{
	struct handoff h, h2;
	struct ipc_msg m2;
	struct buf b = BUF_INIT;
	const char *why;
	size_t used;

	if (handoff_decode(m, &h, &why) < 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (h.pending_len > HANDOFF_MAX_PENDING)
		abort();
	handoff_encode(&b, &h);
	ipc_msg_init(&m2);
	if (ipc_parse(b.data, b.len, HANDOFF_MAX_RECORD * 2, &m2, &used, &why) != IPC_OK ||
	    handoff_decode(&m2, &h2, &why) < 0)
		abort();
	if (h.op != h2.op || h.pending_len != h2.pending_len ||
	    (h.pending_len && memcmp(h.pending, h2.pending, h.pending_len) != 0))
		abort();
	if (h.op != HANDOFF_DONE) {
		same(h.token, h2.token);
		same(h.info.user, h2.info.user);
		same(h.info.service, h2.info.service);
		same(h.info.tag, h2.info.tag);
		same(h.info.client_addr, h2.info.client_addr);
		if (h.info.uid != h2.info.uid || h.info.client_port != h2.info.client_port ||
		    h.info.tls != h2.info.tls || h.info.utf8 != h2.info.utf8)
			abort();
	}
	ipc_msg_free(&m2);
	buf_free(&b);
}

static void check_reply(const struct ipc_msg *m)
{
	struct handoff_reply r;
	const char *why;

	if (handoff_reply_decode(m, &r, &why) < 0)
		return;
	if (r.reason == NULL || (r.ok && r.pid <= 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ipc_msg m;
	size_t used;
	const char *why;

	ipc_msg_init(&m);
	while (size > 0 && ipc_parse(p, size, HANDOFF_MAX_RECORD, &m, &used, &why) == IPC_OK) {
		check_handoff(&m);
		check_reply(&m);
		p += used;
		size -= used;
	}
	ipc_msg_free(&m);
	return 0;
}
