/*
 * test_deliver_request.c - unit tests for lib/deliver_request.c: a request
 * and a status survive encoding and decoding; every refusal (op, queue ID,
 * sender and recipients with CR, LF, '<', '>' or NUL, offsets, indexes,
 * classes, no recipients); DSN values unsafe on the wire are dropped, not
 * refused; a status DSN that disagrees with its result is replaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "deliver_request.h"
#include "ipc.h"
#include "proto.h"
#include "util.h"

#define QID "0123456789ABCDEF"

static void parse(const struct buf *b, struct ipc_msg *m)
{
	size_t used = 0;

	ipc_msg_init(m);
	assert_int_equal(ipc_parse(b->data, b->len, IPC_MAX_RECORD, m, &used, NULL), IPC_OK);
	assert_int_equal(used, b->len);
}

static void sample(struct deliver_request *r, struct deliver_rcpt *rc)
{
	memset(r, 0, sizeof(*r));
	memset(rc, 0, 2 * sizeof(*rc));
	r->qid = QID;
	r->sender = "sender@example.org";
	r->arrival = 1700000000123456LL;
	r->activated = 1700000001000000LL;
	r->header_off = 100;
	r->header_len = 200;
	r->body_off = 301;
	r->body_len = 4000;
	r->nexthop = "[mx.example]:2525";
	r->ret = "HDRS";
	r->envid = "env+2Bid";
	r->requiretls = true;
	r->tls_optional = true;
	rc[0].addr = "a@example.com";
	rc[0].index = 0;
	rc[0].cls = "virtual";
	rc[0].orcpt = "rfc822;a@example.com";
	rc[0].notify = "SUCCESS,FAILURE";
	rc[1].addr = "b@example.net";
	rc[1].index = 7;
	rc[1].cls = NULL;
	r->rcpts = rc;
	r->nrcpt = 2;
}

static void test_round_trip(void **state)
{
	struct deliver_request in, out;
	struct deliver_rcpt rc[2];
	struct buf b = BUF_INIT;
	struct ipc_msg m;

	(void)state;
	sample(&in, rc);
	deliver_request_encode(&in, &b);
	parse(&b, &m);
	assert_null(deliver_request_decode(&m, &out));
	assert_string_equal(out.qid, QID);
	assert_string_equal(out.sender, "sender@example.org");
	assert_true(out.arrival == in.arrival && out.activated == in.activated);
	assert_true(out.header_off == 100 && out.header_len == 200);
	assert_true(out.body_off == 301 && out.body_len == 4000);
	assert_string_equal(out.nexthop, "[mx.example]:2525");
	assert_string_equal(out.ret, "HDRS");
	assert_string_equal(out.envid, "env+2Bid");
	assert_true(out.requiretls);
	assert_true(out.tls_optional);
	assert_int_equal(out.nrcpt, 2);
	assert_string_equal(out.rcpts[0].addr, "a@example.com");
	assert_int_equal(out.rcpts[0].index, 0);
	assert_true(out.rcpts[0].has_class);
	assert_int_equal(out.rcpts[0].cls_id, CLASS_VIRTUAL);
	assert_string_equal(out.rcpts[0].orcpt, "rfc822;a@example.com");
	assert_string_equal(out.rcpts[0].notify, "SUCCESS,FAILURE");
	assert_string_equal(out.rcpts[1].addr, "b@example.net");
	assert_int_equal(out.rcpts[1].index, 7);
	assert_false(out.rcpts[1].has_class);
	assert_null(out.rcpts[1].orcpt);
	assert_null(out.rcpts[1].notify);
	deliver_request_free(&out);
	ipc_msg_free(&m);

	/* The null sender, no next hop, no DSN. */
	in.sender = "";
	in.nexthop = in.ret = in.envid = NULL;
	in.requiretls = false;
	in.tls_optional = false;
	buf_reset(&b);
	deliver_request_encode(&in, &b);
	parse(&b, &m);
	assert_null(deliver_request_decode(&m, &out));
	assert_string_equal(out.sender, "");
	assert_null(out.nexthop);
	assert_null(out.ret);
	assert_null(out.envid);
	assert_false(out.requiretls);
	assert_false(out.tls_optional);
	deliver_request_free(&out);
	ipc_msg_free(&m);
	buf_free(&b);
}

/* Encodes r, lets edit append raw attributes to the record, decodes. */
static const char *decode_with(struct deliver_request *r, const char *extra_name, const void *extra,
    size_t extra_len, struct deliver_request *out)
{
	static char why[128];
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	const char *err;

	deliver_request_encode(r, &b);
	if (extra_name) {
		buf_truncate(&b, b.len - 3); /* the end marker */
		ipc_put(&b, extra_name, extra, extra_len);
		ipc_end(&b);
	}
	parse(&b, &m);
	err = deliver_request_decode(&m, out);
	if (err)
		strlcpy(why, err, sizeof(why));
	deliver_request_free(out);
	ipc_msg_free(&m);
	buf_free(&b);
	return err ? why : NULL;
}

static void refused(struct deliver_request *r, const char *want)
{
	struct deliver_request out;
	const char *err = decode_with(r, NULL, NULL, 0, &out);

	if (err == NULL)
		fail_msg("accepted, want \"%s\"", want);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, want);
}

static void test_refusals(void **state)
{
	static const char *const bad_addrs[] = {
	    "a\r@example.com", "a\n@example.com", "<a@example.com", "a@example.com>", ""};
	struct deliver_request r, out;
	struct deliver_rcpt rc[2];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		sample(&r, rc);
		rc[1].addr = bad_addrs[i];
		refused(&r, "bad rcpt");
		sample(&r, rc);
		r.sender = bad_addrs[i];
		if (*bad_addrs[i])
			refused(&r, "sender");
	}
	sample(&r, rc);
	r.qid = "0123456789abcdef";
	refused(&r, "queue_id");
	sample(&r, rc);
	r.body_len = -1;
	refused(&r, "offsets");
	sample(&r, rc);
	rc[1].index = QF_MAX_RECIPIENTS;
	refused(&r, "index");
	sample(&r, rc);
	rc[0].cls = "nonsense";
	refused(&r, "class");
	sample(&r, rc);
	r.nrcpt = 0;
	refused(&r, "no recipients");
	/* A NUL inside the recipient. */
	sample(&r, rc);
	r.nrcpt = 1;
	assert_non_null(decode_with(&r, A_RCPT, "x\0y@example.com", 15, &out));
	/* A recipient without its index (appended after the last one). */
	assert_non_null(decode_with(&r, A_RCPT, "c@example.com", 13, &out));
	/* A second index for one recipient. */
	assert_non_null(decode_with(&r, A_INDEX, "3", 1, &out));
	/* The wrong operation. */
	{
		struct buf b = BUF_INIT;
		struct ipc_msg m;

		ipc_put_str(&b, A_OP, OP_STATUS);
		ipc_end(&b);
		parse(&b, &m);
		assert_non_null(deliver_request_decode(&m, &out));
		deliver_request_free(&out);
		ipc_msg_free(&m);
		buf_free(&b);
	}
}

/* Values that would be unsafe on the wire are dropped; the mail goes on. */
static void test_dropped(void **state)
{
	struct deliver_request r, out;
	struct deliver_rcpt rc[2];
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	char envid[102];

	(void)state;
	memset(envid, 'e', sizeof(envid) - 1);
	envid[sizeof(envid) - 1] = 0;
	sample(&r, rc);
	rc[0].orcpt = "rfc822;a b@example.com";
	rc[0].notify = "NEVER\r\nRSET";
	r.ret = "FULL HDRS";
	r.envid = envid;
	deliver_request_encode(&r, &b);
	parse(&b, &m);
	assert_null(deliver_request_decode(&m, &out));
	assert_null(out.rcpts[0].orcpt);
	assert_null(out.rcpts[0].notify);
	assert_null(out.ret);
	assert_null(out.envid);
	deliver_request_free(&out);
	ipc_msg_free(&m);
	buf_free(&b);
}

static const char *status_of(const char *result, const char *dsn, bool with_index,
    struct deliver_status *st, struct ipc_msg *m)
{
	struct buf b = BUF_INIT;
	const char *err;

	if (with_index) {
		deliver_status_encode(&b, 3, result, dsn, "some reason", false, false);
	} else {
		ipc_put_str(&b, A_OP, OP_STATUS);
		ipc_put_str(&b, A_RESULT, result);
		ipc_end(&b);
	}
	parse(&b, m);
	err = deliver_status_decode(m, st);
	buf_free(&b);
	return err;
}

static void test_status(void **state)
{
	struct deliver_status st;
	struct ipc_msg m;
	struct buf b = BUF_INIT;

	(void)state;
	assert_null(status_of(RES_SENT, "2.0.0", true, &st, &m));
	assert_int_equal(st.index, 3);
	assert_int_equal(st.status, QF_SENT);
	assert_string_equal(st.dsn, "2.0.0");
	assert_string_equal(st.reason, "some reason");
	assert_false(st.relayed);
	assert_false(st.notified);
	ipc_msg_free(&m);
	/* pipe without flag X: a success is "relayed"; only "relayed" is known. */
	deliver_status_encode(&b, 4, RES_SENT, "2.0.0", "", true, true);
	parse(&b, &m);
	assert_null(deliver_status_decode(&m, &st));
	assert_true(st.relayed);
	assert_true(st.notified);
	ipc_msg_free(&m);
	buf_reset(&b);
	ipc_put_str(&b, A_OP, OP_STATUS);
	ipc_put_int(&b, A_INDEX, 1);
	ipc_put_str(&b, A_RESULT, RES_SENT);
	ipc_put_str(&b, A_ACTION, "expanded");
	ipc_end(&b);
	parse(&b, &m);
	assert_non_null(deliver_status_decode(&m, &st));
	ipc_msg_free(&m);
	buf_reset(&b);
	assert_null(status_of(RES_BOUNCED, "5.1.1", true, &st, &m));
	assert_int_equal(st.status, QF_BOUNCED);
	assert_string_equal(st.dsn, "5.1.1");
	ipc_msg_free(&m);
	/* A result and a code that disagree: the result wins. */
	assert_null(status_of(RES_SENT, "5.1.1", true, &st, &m));
	assert_string_equal(st.dsn, "2.0.0");
	ipc_msg_free(&m);
	assert_null(status_of(RES_DEFERRED, "x", true, &st, &m));
	assert_int_equal(st.status, QF_DEFERRED);
	assert_string_equal(st.dsn, "4.0.0");
	ipc_msg_free(&m);
	assert_non_null(status_of("delivered", "2.0.0", true, &st, &m));
	ipc_msg_free(&m);
	assert_non_null(status_of(RES_SENT, "2.0.0", false, &st, &m));
	ipc_msg_free(&m);
	deliver_done_encode(&b);
	parse(&b, &m);
	assert_non_null(deliver_status_decode(&m, &st));
	assert_string_equal(ipc_get_str(&m, A_OP), OP_DONE);
	ipc_msg_free(&m);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_dropped),
	    cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
