/*
 * test_maildrop.c - lib/maildrop.c: the records postdrop and pickup accept
 * in a local submission, and the many they refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "ipc.h"
#include "maildrop.h"
#include "proto.h"

/* Decodes a record built from "name=value" strings (NULL-terminated). */
static void build(struct ipc_msg *m, const char *const *attrs)
{
	struct buf b = BUF_INIT;
	size_t used;

	for (size_t i = 0; attrs[i]; i++) {
		const char *eq = strchr(attrs[i], '=');
		char name[64];

		memcpy(name, attrs[i], (size_t)(eq - attrs[i]));
		name[eq - attrs[i]] = 0;
		ipc_put_str(&b, name, eq + 1);
	}
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, MD_MAX_RECORD, m, &used, NULL), IPC_OK);
	buf_free(&b);
}

static const char *check_one(enum md_origin o, const char *const *attrs)
{
	struct md_check c;
	struct ipc_msg m;
	const char *r;

	ipc_msg_init(&m);
	md_check_init(&c, o);
	build(&m, attrs);
	r = md_check(&c, &m);
	ipc_msg_free(&m);
	return r;
}

static void test_good_stream(void **state)
{
	const char *begin[] = {"op=begin", "sender=a", "rcpt=b@c", "notify=SUCCESS,delay",
	    "orcpt=rfc822;b@c", "rcpt=d", "fullname=A. B", "ret=HDRS", "envid=x1", NULL};
	const char *data[] = {"op=data", "data=Subject: x\n\nbody\n", NULL};
	const char *end[] = {"op=end", NULL};
	struct md_check c;
	struct ipc_msg m;

	(void)state;
	ipc_msg_init(&m);
	md_check_init(&c, MD_FROM_CLIENT);
	build(&m, begin);
	assert_null(md_check(&c, &m));
	build(&m, data);
	assert_null(md_check(&c, &m));
	assert_false(md_complete(&c));
	build(&m, end);
	assert_null(md_check(&c, &m));
	assert_true(md_complete(&c));
	assert_int_equal(c.size, 17);
	build(&m, end);
	assert_non_null(md_check(&c, &m)); /* nothing after the end */
	ipc_msg_free(&m);
}

static void test_bad_begin(void **state)
{
	const char *no_rcpt[] = {"op=begin", "sender=a", NULL};
	const char *no_sender[] = {"op=begin", "rcpt=a", NULL};
	const char *two_senders[] = {"op=begin", "sender=a", "sender=b", "rcpt=a", NULL};
	const char *unknown[] = {"op=begin", "sender=a", "rcpt=b", "client_addr=1.2.3.4", NULL};
	const char *uid[] = {"op=begin", "sender=a", "rcpt=b", "uid=0", NULL};
	const char *ctl[] = {"op=begin", "sender=a\nX: y", "rcpt=b", NULL};
	const char *empty_rcpt[] = {"op=begin", "sender=a", "rcpt=", NULL};
	const char *notify_first[] = {"op=begin", "sender=a", "notify=NEVER", "rcpt=b", NULL};
	const char *bad_notify[] = {"op=begin", "sender=a", "rcpt=b", "notify=SOMETIMES", NULL};
	/* The same NOTIFY rules as smtpd's: NEVER alone, each word once. */
	const char *never_and[] = {"op=begin", "sender=a", "rcpt=b", "notify=NEVER,DELAY", NULL};
	const char *twice[] = {"op=begin", "sender=a", "rcpt=b", "notify=DELAY,delay", NULL};
	const char *bad_ret[] = {"op=begin", "sender=a", "rcpt=b", "ret=ALL", NULL};
	const char *op_late[] = {"sender=a", "op=begin", "rcpt=b", NULL};
	const char *data_first[] = {"op=data", "data=x", NULL};

	(void)state;
	assert_non_null(check_one(MD_FROM_CLIENT, no_rcpt));
	assert_non_null(check_one(MD_FROM_CLIENT, no_sender));
	assert_non_null(check_one(MD_FROM_CLIENT, two_senders));
	assert_non_null(check_one(MD_FROM_CLIENT, unknown));
	assert_non_null(check_one(MD_FROM_CLIENT, uid));
	assert_non_null(check_one(MD_FROM_CLIENT, ctl));
	assert_non_null(check_one(MD_FROM_CLIENT, empty_rcpt));
	assert_non_null(check_one(MD_FROM_CLIENT, notify_first));
	assert_non_null(check_one(MD_FROM_CLIENT, bad_notify));
	assert_non_null(check_one(MD_FROM_CLIENT, never_and));
	assert_non_null(check_one(MD_FROM_CLIENT, twice));
	assert_non_null(check_one(MD_FROM_CLIENT, bad_ret));
	assert_non_null(check_one(MD_FROM_CLIENT, op_late));
	assert_non_null(check_one(MD_FROM_CLIENT, data_first));
}

static void test_file_needs_uid_and_time(void **state)
{
	const char *plain[] = {"op=begin", "sender=a", "rcpt=b", NULL};
	const char *full[] = {"op=begin", "sender=a", "rcpt=b", "uid=1000", "time=123", NULL};
	const char *bad_uid[] = {"op=begin", "sender=a", "rcpt=b", "uid=-1", "time=1", NULL};

	(void)state;
	assert_non_null(check_one(MD_FROM_FILE, plain));
	assert_null(check_one(MD_FROM_FILE, full));
	assert_non_null(check_one(MD_FROM_FILE, bad_uid));
	assert_non_null(check_one(MD_FROM_CLIENT, full));
}

static void test_data_limits(void **state)
{
	const char *begin[] = {"op=begin", "sender=", "rcpt=b", NULL};
	const char *extra[] = {"op=data", "data=x", "more=y", NULL};
	const char *end_extra[] = {"op=end", "x=y", NULL};
	struct md_check c;
	struct ipc_msg m;
	struct buf b = BUF_INIT;
	static char big[CLEANUP_DATA_CHUNK + 1];
	size_t used;

	(void)state;
	ipc_msg_init(&m);
	md_check_init(&c, MD_FROM_CLIENT);
	build(&m, begin);
	assert_null(md_check(&c, &m)); /* the null sender is fine */
	build(&m, extra);
	assert_non_null(md_check(&c, &m));
	build(&m, end_extra);
	assert_non_null(md_check(&c, &m));
	memset(big, 'x', sizeof(big));
	ipc_put_str(&b, A_OP, OP_DATA);
	ipc_put(&b, A_DATA, big, sizeof(big));
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, MD_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_non_null(md_check(&c, &m));
	buf_free(&b);
	ipc_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_stream),
	    cmocka_unit_test(test_bad_begin),
	    cmocka_unit_test(test_file_needs_uid_and_time),
	    cmocka_unit_test(test_data_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
