/*
 * fuzz_deliver_request.c - libFuzzer harness for the delivery request and
 * status decoders (lib/deliver_request.c), fed what a confused or hostile
 * peer process could send.
 *
 * The input is one ipc record.  A request that decodes must hold what the
 * agents rely on: a sender and recipients without CR, LF, '<' or '>',
 * at least one recipient, indexes in range, DSN words without white
 * space; encoded again and decoded, it must come back the same.  A status
 * that decodes must carry a DSN code of its result's class.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deliver_request.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, const char *bad)
{
	if (s != NULL && strpbrk(s, bad) != NULL)
		abort();
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_request(const struct deliver_request *r)
{
	if (r->nrcpt == 0 || r->qid == NULL || r->sender == NULL)
		abort();
	check_text(r->sender, "\r\n<>");
	check_text(r->ret, " \t\r\n");
	if (r->envid && strlen(r->envid) > 100)
		abort();
	for (size_t i = 0; i < r->nrcpt; i++) {
		const struct deliver_rcpt *rc = &r->rcpts[i];

		if (rc->addr == NULL || *rc->addr == 0 || rc->index < 0 ||
		    rc->index >= QF_MAX_RECIPIENTS)
			abort();
		check_text(rc->addr, "\r\n<>");
		check_text(rc->orcpt, " \t\r\n");
		check_text(rc->notify, " \t\r\n");
	}
}

/* Encodes r, decodes it again: the same request. */
static void check_round_trip(const struct deliver_request *r)
{
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	struct deliver_request again;
	size_t used;

	deliver_request_encode(r, &b);
	ipc_msg_init(&m);
	if (ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, NULL) != IPC_OK ||
	    deliver_request_decode(&m, &again) != NULL)
		abort();
	if (!same(r->qid, again.qid) || !same(r->sender, again.sender) ||
	    !same(r->nexthop, again.nexthop) || !same(r->ret, again.ret) ||
	    !same(r->envid, again.envid) || r->nrcpt != again.nrcpt ||
	    r->body_len != again.body_len || r->arrival != again.arrival)
		abort();
	for (size_t i = 0; i < r->nrcpt; i++)
		if (!same(r->rcpts[i].addr, again.rcpts[i].addr) ||
		    r->rcpts[i].index != again.rcpts[i].index ||
		    r->rcpts[i].has_class != again.rcpts[i].has_class ||
		    !same(r->rcpts[i].orcpt, again.rcpts[i].orcpt) ||
		    !same(r->rcpts[i].notify, again.rcpts[i].notify))
			abort();
	deliver_request_free(&again);
	ipc_msg_free(&m);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	struct deliver_request r;
	struct deliver_status st;
	size_t used;

	ipc_msg_init(&m);
	if (ipc_parse((const char *)data, size, IPC_MAX_RECORD, &m, &used, NULL) == IPC_OK) {
		if (deliver_request_decode(&m, &r) == NULL) {
			check_request(&r);
			check_round_trip(&r);
		}
		deliver_request_free(&r);
		if (deliver_status_decode(&m, &st) == NULL) {
			const char want = st.status == QF_SENT	    ? '2'
					  : st.status == QF_BOUNCED ? '5'
								    : '4';

			if (st.dsn == NULL || st.dsn[0] != want || st.reason == NULL)
				abort();
		}
	}
	ipc_msg_free(&m);
	return 0;
}
