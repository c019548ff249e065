/*
 * test_codec.c - unit tests for lib/auth/codec.c: every request op and
 * reply status round-trips through encode and decode, and records that
 * break the rules (missing attributes, NULs, oversized values, unknown
 * ops, too many mechanisms) are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/codec.h"
#include "buf.h"
#include "ipc.h"
#include "proto.h"

/* Encodes, parses and decodes a request; the message keeps the strings. */
static int request_round(const struct auth_request *in, struct ipc_msg *m, struct auth_request *out)
{
	struct buf b = BUF_INIT;
	size_t used;
	const char *why;
	int r;

	auth_request_encode(&b, in);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, m, &used, &why), IPC_OK);
	assert_int_equal(used, b.len);
	r = auth_request_decode(m, out, &why);
	buf_free(&b);
	return r;
}

static void test_request_auth(void **state)
{
	struct auth_request in, out;
	struct ipc_msg m;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.op = AUTH_OP_AUTH;
	in.id = 4294967295UL;
	in.service = "imap";
	in.mech = "PLAIN";
	in.resp = "";
	in.client_addr = "2001:db8::1";
	in.client_port = 65535;
	in.local_addr = "192.0.2.1";
	in.local_port = 993;
	in.tls = true;
	in.session = "AbC/123";
	ipc_msg_init(&m);
	assert_int_equal(request_round(&in, &m, &out), 0);
	assert_int_equal(out.op, AUTH_OP_AUTH);
	assert_true(out.id == 4294967295UL);
	assert_string_equal(out.service, "imap");
	assert_string_equal(out.mech, "PLAIN");
	assert_non_null(out.resp);
	assert_string_equal(out.resp, ""); /* an empty initial response is not no response */
	assert_string_equal(out.client_addr, "2001:db8::1");
	assert_int_equal(out.client_port, 65535);
	assert_int_equal(out.local_port, 993);
	assert_true(out.tls);
	assert_string_equal(out.session, "AbC/123");
	assert_null(out.user);
	in.resp = NULL;
	in.tls = false;
	assert_int_equal(request_round(&in, &m, &out), 0);
	assert_null(out.resp);
	assert_false(out.tls);
	ipc_msg_free(&m);
}

static void test_request_ops(void **state)
{
	struct auth_request in, out;
	struct ipc_msg m;

	(void)state;
	ipc_msg_init(&m);
	memset(&in, 0, sizeof(in));
	in.id = 7;
	in.op = AUTH_OP_VERIFY;
	in.service = "http";
	in.user = "alice@example.com";
	in.secret = "pw with spaces";
	assert_int_equal(request_round(&in, &m, &out), 0);
	assert_string_equal(out.secret, "pw with spaces");
	in.secret = NULL;
	assert_int_equal(request_round(&in, &m, &out), -1);

	memset(&in, 0, sizeof(in));
	in.op = AUTH_OP_REDEEM;
	in.token = "abc";
	in.service = "imap";
	assert_int_equal(request_round(&in, &m, &out), 0);
	assert_string_equal(out.token, "abc");
	in.service = NULL;
	assert_int_equal(request_round(&in, &m, &out), -1);

	memset(&in, 0, sizeof(in));
	in.op = AUTH_OP_CONT;
	assert_int_equal(request_round(&in, &m, &out), -1); /* cont needs resp */
	in.resp = "dGVzdA==";
	assert_int_equal(request_round(&in, &m, &out), 0);
	in.op = AUTH_OP_CANCEL;
	in.resp = NULL;
	assert_int_equal(request_round(&in, &m, &out), 0);
	in.op = AUTH_OP_LOOKUP;
	assert_int_equal(request_round(&in, &m, &out), -1);
	in.user = "bob";
	assert_int_equal(request_round(&in, &m, &out), 0);
	in.op = AUTH_OP_MECHS;
	assert_int_equal(request_round(&in, &m, &out), -1);
	in.service = "smtp";
	assert_int_equal(request_round(&in, &m, &out), 0);
	ipc_msg_free(&m);
}

/* A hand-made record, decoded as a request. */
static int decode_raw(const char *const *attrs, size_t n, const char **why)
{
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	struct auth_request r;
	size_t used;
	int ret;

	for (size_t i = 0; i + 1 < n; i += 2)
		ipc_put(&b, attrs[i], attrs[i + 1], strlen(attrs[i + 1]));
	ipc_end(&b);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, why), IPC_OK);
	ret = auth_request_decode(&m, &r, why);
	ipc_msg_free(&m);
	buf_free(&b);
	return ret;
}

static void test_request_malformed(void **state)
{
	const char *why;
	const char *ok[] = {"op", "mechs", "id", "1", "service", "smtp"};
	const char *noop[] = {"id", "1", "service", "smtp"};
	const char *badop[] = {"op", "steal", "id", "1", "service", "smtp"};
	const char *badid[] = {"op", "mechs", "id", "-1", "service", "smtp"};
	const char *bigid[] = {"op", "mechs", "id", "4294967296", "service", "smtp"};
	const char *badport[] = {
	    "op", "mechs", "id", "1", "service", "smtp", "client_port", "70000"};
	char longsvc[64];
	const char *big[] = {"op", "mechs", "id", "1", "service", longsvc};
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	struct auth_request r;
	size_t used;

	(void)state;
	assert_int_equal(decode_raw(ok, 6, &why), 0);
	assert_int_equal(decode_raw(noop, 4, &why), -1);
	assert_int_equal(decode_raw(badop, 6, &why), -1);
	assert_int_equal(decode_raw(badid, 6, &why), -1);
	assert_int_equal(decode_raw(bigid, 6, &why), -1);
	assert_int_equal(decode_raw(badport, 8, &why), -1);
	memset(longsvc, 'a', sizeof(longsvc) - 1);
	longsvc[sizeof(longsvc) - 1] = 0;
	assert_int_equal(decode_raw(big, 6, &why), -1);
	/* A NUL inside a string. */
	ipc_put_str(&b, A_OP, "verify");
	ipc_put_str(&b, A_AUTH_ID, "3");
	ipc_put_str(&b, A_AUTH_SERVICE, "http");
	ipc_put_str(&b, A_AUTH_USER, "bob");
	ipc_put(&b, A_AUTH_SECRET, "a\0b", 3);
	ipc_end(&b);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(auth_request_decode(&m, &r, &why), -1);
	ipc_msg_free(&m);
	buf_free(&b);
}

static int reply_round(const struct auth_reply *in, struct ipc_msg *m, struct auth_reply *out)
{
	struct buf b = BUF_INIT;
	size_t used;
	const char *why;
	int r;

	auth_reply_encode(&b, in);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, m, &used, &why), IPC_OK);
	r = auth_reply_decode(m, out, &why);
	buf_free(&b);
	return r;
}

static void test_replies(void **state)
{
	struct auth_reply in, out;
	struct ipc_msg m;

	(void)state;
	ipc_msg_init(&m);
	memset(&in, 0, sizeof(in));
	in.id = 9;
	in.status = AUTH_CONTINUE;
	in.challenge = "VXNlcm5hbWU6";
	assert_int_equal(reply_round(&in, &m, &out), 0);
	assert_int_equal(out.status, AUTH_CONTINUE);
	assert_string_equal(out.challenge, "VXNlcm5hbWU6");

	memset(&in, 0, sizeof(in));
	in.id = 9;
	in.status = AUTH_FAIL;
	in.code = AUTH_CODE_REFUSED;
	in.reason = "too many";
	assert_int_equal(reply_round(&in, &m, &out), 0);
	assert_int_equal(out.code, AUTH_CODE_REFUSED);
	assert_true(auth_code_temporary(out.code));
	assert_false(auth_code_temporary(AUTH_CODE_CREDENTIALS));
	assert_string_equal(out.reason, "too many");

	memset(&in, 0, sizeof(in));
	in.id = 10;
	in.status = AUTH_OK;
	in.user = "alice@example.com";
	in.token = "tok";
	assert_int_equal(reply_round(&in, &m, &out), 0);
	assert_string_equal(out.token, "tok");
	assert_false(out.has_account);

	in.token = NULL;
	in.has_account = true;
	in.account.uid = 5000;
	in.account.gid = -1;
	in.account.home = "/srv/mail/a";
	in.account.maildir = "/srv/mail/a/";
	in.account.quota_rule = "*:storage=1G";
	in.account.extra[0] = "nice=10";
	in.account.extra[1] = "flag=";
	in.account.nextra = 2;
	assert_int_equal(reply_round(&in, &m, &out), 0);
	assert_true(out.has_account);
	assert_string_equal(out.account.user, "alice@example.com");
	assert_int_equal(out.account.uid, 5000);
	assert_int_equal(out.account.gid, -1);
	assert_string_equal(out.account.maildir, "/srv/mail/a/");
	assert_string_equal(out.account.quota_rule, "*:storage=1G");
	assert_int_equal(out.account.nextra, 2);
	assert_string_equal(out.account.extra[1], "flag=");

	memset(&in, 0, sizeof(in));
	in.status = AUTH_OK;
	in.mechs[0] = "PLAIN";
	in.mechs[1] = "SCRAM-SHA-256";
	in.nmechs = 2;
	assert_int_equal(reply_round(&in, &m, &out), 0);
	assert_int_equal(out.nmechs, 2);
	assert_string_equal(out.mechs[1], "SCRAM-SHA-256");
	ipc_msg_free(&m);
}

static void test_reply_malformed(void **state)
{
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	struct auth_reply r;
	size_t used;
	const char *why;

	(void)state;
	ipc_msg_init(&m);
	/* fail with an unknown code; ok with an account lacking gid; 17 mechs. */
	ipc_put_str(&b, A_AUTH_ID, "1");
	ipc_put_str(&b, A_STATUS, "fail");
	ipc_put_str(&b, A_AUTH_CODE, "none");
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(auth_reply_decode(&m, &r, &why), -1);
	buf_reset(&b);
	ipc_put_str(&b, A_AUTH_ID, "1");
	ipc_put_str(&b, A_STATUS, "ok");
	ipc_put_str(&b, A_AUTH_USER, "u");
	ipc_put_str(&b, A_UID, "1");
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(auth_reply_decode(&m, &r, &why), -1);
	buf_reset(&b);
	ipc_put_str(&b, A_AUTH_ID, "1");
	ipc_put_str(&b, A_STATUS, "ok");
	for (int i = 0; i < AUTH_MAX_MECHS + 1; i++)
		ipc_put_str(&b, A_AUTH_MECH, "PLAIN");
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(auth_reply_decode(&m, &r, &why), -1);
	buf_reset(&b);
	ipc_put_str(&b, A_AUTH_ID, "1");
	ipc_put_str(&b, A_STATUS, "continue");
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, IPC_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(auth_reply_decode(&m, &r, &why), -1);
	ipc_msg_free(&m);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_auth),
	    cmocka_unit_test(test_request_ops),
	    cmocka_unit_test(test_request_malformed),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_reply_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
