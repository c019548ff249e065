/*
 * test_handoff.c - unit tests for lib/login/handoff.c: a login record and
 * a client record survive encoding and decoding; missing or malformed
 * attributes and oversized values are refused; replies both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipc.h"
#include "login/handoff.h"

static void roundtrip(const struct handoff *in, struct handoff *out, struct ipc_msg *m)
{
	struct buf b = BUF_INIT;
	const char *why;
	size_t used;

	handoff_encode(&b, in);
	assert_int_equal(ipc_parse(b.data, b.len, HANDOFF_MAX_RECORD, m, &used, &why), IPC_OK);
	assert_int_equal(used, b.len);
	assert_int_equal(handoff_decode(m, out, &why), 0);
	buf_free(&b);
}

static void test_login_record(void **state)
{
	struct handoff in = {
	    .op = HANDOFF_LOGIN, .token = "tok", .pending = "a\0b", .pending_len = 3};
	struct handoff out;
	struct ipc_msg m;

	(void)state;
	in.info.service = "imap";
	in.info.mech = "PLAIN";
	in.info.client_addr = "192.0.2.1";
	in.info.client_port = 4711;
	in.info.local_addr = "192.0.2.2";
	in.info.local_port = 993;
	in.info.tls = true;
	in.info.secured = true;
	in.info.session = "abc";
	in.info.tag = "a1";
	ipc_msg_init(&m);
	roundtrip(&in, &out, &m);
	assert_int_equal(out.op, HANDOFF_LOGIN);
	assert_string_equal(out.token, "tok");
	assert_string_equal(out.info.service, "imap");
	assert_string_equal(out.info.tag, "a1");
	assert_int_equal(out.info.client_port, 4711);
	assert_true(out.info.tls);
	assert_false(out.info.utf8);
	assert_int_equal(out.pending_len, 3);
	assert_memory_equal(out.pending, "a\0b", 3);
	assert_string_equal(out.info.user, "");
	ipc_msg_free(&m);
}

static void test_client_record(void **state)
{
	struct handoff in = {.op = HANDOFF_CLIENT};
	struct handoff out;
	struct ipc_msg m;

	(void)state;
	in.info.service = "pop3";
	in.info.user = "bob@example.com";
	in.info.uid = 1000;
	in.info.gid = 100;
	in.info.home = "/home/bob";
	in.info.maildir = "/home/bob/Maildir";
	in.info.quota_rule = "";
	in.info.mech = "PLAIN";
	in.info.client_addr = "::1";
	in.info.local_addr = "::1";
	in.info.session = "s";
	in.info.utf8 = true;
	ipc_msg_init(&m);
	roundtrip(&in, &out, &m);
	assert_int_equal(out.op, HANDOFF_CLIENT);
	assert_string_equal(out.info.user, "bob@example.com");
	assert_int_equal(out.info.uid, 1000);
	assert_int_equal(out.info.gid, 100);
	assert_string_equal(out.info.maildir, "/home/bob/Maildir");
	assert_null(out.info.tag);
	assert_true(out.info.utf8);
	assert_int_equal(out.pending_len, 0);
	ipc_msg_free(&m);
}

static int decode_text(const char *text, size_t len)
{
	struct ipc_msg m;
	struct handoff h;
	const char *why;
	size_t used;
	int r;

	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(text, len, HANDOFF_MAX_RECORD, &m, &used, &why), IPC_OK);
	r = handoff_decode(&m, &h, &why);
	if (r < 0)
		assert_non_null(why);
	ipc_msg_free(&m);
	return r;
}

static void test_malformed(void **state)
{
	(void)state;
	assert_int_equal(decode_text("2:op,4:done,0:,", 15), 0);
	assert_int_equal(decode_text("2:op,3:bad,0:,", 14), -1);
	assert_int_equal(decode_text("0:,", 3), -1);
	/* A login without its token. */
	assert_int_equal(decode_text("2:op,5:login,0:,", 16), -1);
	/* A port out of range. */
	{
		struct buf b = BUF_INIT;

		ipc_put_str(&b, "op", "login");
		ipc_put_str(&b, "token", "t");
		ipc_put_str(&b, "service", "pop3");
		ipc_put_str(&b, "mech", "PLAIN");
		ipc_put_str(&b, "client_addr", "x");
		ipc_put_int(&b, "client_port", 70000);
		ipc_put_str(&b, "local_addr", "y");
		ipc_put_int(&b, "local_port", 1);
		ipc_put_int(&b, "tls", 0);
		ipc_put_int(&b, "secured", 0);
		ipc_put_str(&b, "session", "s");
		ipc_end(&b);
		assert_int_equal(decode_text(b.data, b.len), -1);
		buf_free(&b);
	}
}

static void test_replies(void **state)
{
	struct handoff_reply in = {.ok = true, .pid = 42}, out;
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	const char *why;
	size_t used;

	(void)state;
	ipc_msg_init(&m);
	handoff_reply_encode(&b, &in);
	assert_int_equal(ipc_parse(b.data, b.len, 4096, &m, &used, &why), IPC_OK);
	assert_int_equal(handoff_reply_decode(&m, &out, &why), 0);
	assert_true(out.ok);
	assert_int_equal(out.pid, 42);
	buf_reset(&b);
	in = (struct handoff_reply){.ok = false, .temporary = true, .reason = "busy"};
	handoff_reply_encode(&b, &in);
	assert_int_equal(ipc_parse(b.data, b.len, 4096, &m, &used, &why), IPC_OK);
	assert_int_equal(handoff_reply_decode(&m, &out, &why), 0);
	assert_false(out.ok);
	assert_true(out.temporary);
	assert_string_equal(out.reason, "busy");
	buf_free(&b);
	ipc_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_record),
	    cmocka_unit_test(test_client_record),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
