/*
 * fuzz_auth_codec.c - libFuzzer harness for the auth request and reply
 * codec (lib/auth/codec.c), as both the daemon and its clients see it.
 *
 * The input is parsed as ipc.h records; each record is decoded as a
 * request and as a reply.  Whatever decodes is encoded again and decoded
 * a second time: the two decodings must agree field by field, or the
 * harness aborts.  Every decoded string must be NUL-free and within the
 * codec's limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/codec.h"
#include "buf.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_str(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		abort();
}

static void check_request(const struct ipc_msg *m)
{
	struct auth_request r, r2;
	struct ipc_msg m2;
	struct buf b = BUF_INIT;
	const char *why;
	size_t used;

	if (auth_request_decode(m, &r, &why) < 0) {
		if (why == NULL)
			abort();
		return;
	}
	auth_request_encode(&b, &r);
	ipc_msg_init(&m2);
	if (ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m2, &used, &why) != IPC_OK || used != b.len ||
	    auth_request_decode(&m2, &r2, &why) < 0)
		abort();
	if (r.op != r2.op || r.id != r2.id || r.tls != r2.tls || r.client_port != r2.client_port ||
	    r.local_port != r2.local_port)
		abort();
	same_str(r.service, r2.service);
	same_str(r.mech, r2.mech);
	same_str(r.resp, r2.resp);
	same_str(r.user, r2.user);
	same_str(r.secret, r2.secret);
	same_str(r.token, r2.token);
	same_str(r.client_addr, r2.client_addr);
	same_str(r.session, r2.session);
	if (r.resp && strlen(r.resp) > AUTH_MAX_RESP)
		abort();
	ipc_msg_free(&m2);
	buf_free(&b);
}

static void check_reply(const struct ipc_msg *m)
{
	struct auth_reply r, r2;
	struct ipc_msg m2;
	struct buf b = BUF_INIT;
	const char *why;
	size_t used;

	if (auth_reply_decode(m, &r, &why) < 0)
		return;
	auth_reply_encode(&b, &r);
	ipc_msg_init(&m2);
	if (ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m2, &used, &why) != IPC_OK ||
	    auth_reply_decode(&m2, &r2, &why) < 0)
		abort();
	if (r.status != r2.status || r.id != r2.id || r.code != r2.code ||
	    r.has_account != r2.has_account || r.nmechs != r2.nmechs)
		abort();
	same_str(r.challenge, r2.challenge);
	same_str(r.user, r2.user);
	same_str(r.token, r2.token);
	if (r.has_account) {
		if (r.account.uid != r2.account.uid || r.account.gid != r2.account.gid ||
		    r.account.nextra != r2.account.nextra)
			abort();
		same_str(r.account.maildir, r2.account.maildir);
		same_str(r.account.quota_rule, r2.account.quota_rule);
		for (size_t i = 0; i < r.account.nextra; i++)
			same_str(r.account.extra[i], r2.account.extra[i]);
	}
	for (size_t i = 0; i < r.nmechs; i++)
		same_str(r.mechs[i], r2.mechs[i]);
	ipc_msg_free(&m2);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ipc_msg m;
	const char *why;
	size_t used;

	ipc_msg_init(&m);
	while (size > 0 && ipc_parse(p, size, 65536, &m, &used, &why) == IPC_OK) {
		check_request(&m);
		check_reply(&m);
		p += used;
		size -= used;
	}
	ipc_msg_free(&m);
	return 0;
}
