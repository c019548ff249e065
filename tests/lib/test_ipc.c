/*
 * test_ipc.c - unit tests for lib/ipc.c: the netstring attribute codec
 * (round trips, every malformed shape, size limits, truncation) and
 * ipc_conn over a socketpair (records, descriptor passing, time-out, EOF).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "ipc.h"
#include "util.h"

/* A record with a text, an int, a binary value with NULs and an empty value. */
static void sample_record(struct buf *out)
{
	ipc_put_str(out, "op", "begin");
	ipc_put_int(out, "n", -3);
	ipc_put(out, "bin", "a\0b\0", 4);
	ipc_put(out, "empty", NULL, 0);
	ipc_end(out);
}

static enum ipc_result parse_str(const char *s, size_t max, size_t *used)
{
	struct ipc_msg m;
	const char *why = NULL;
	enum ipc_result r;

	ipc_msg_init(&m);
	r = ipc_parse(s, strlen(s), max, &m, used, &why);
	if (r == IPC_ERROR)
		assert_non_null(why);
	ipc_msg_free(&m);
	return r;
}

static void test_round_trip(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	const struct ipc_attr *a;
	size_t used = 0;
	long long v = 0;

	(void)state;
	sample_record(&out);
	{
		static const char want[] = "2:op,5:begin,1:n,2:-3,3:bin,4:a\0b\0,5:empty,0:,0:,";
		assert_int_equal(out.len, sizeof(want) - 1);
		assert_memory_equal(out.data, want, out.len);
	}
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_int_equal(used, out.len);
	assert_int_equal(m.count, 4);
	assert_string_equal(ipc_get_str(&m, "op"), "begin");
	assert_true(ipc_get_int(&m, "n", &v));
	assert_int_equal(v, -3);
	a = ipc_get(&m, "bin");
	assert_non_null(a);
	assert_int_equal(a->len, 4);
	assert_memory_equal(a->value, "a\0b\0", 5);
	assert_null(ipc_get_str(&m, "bin"));
	assert_string_equal(ipc_get_str(&m, "empty"), "");
	assert_int_equal(ipc_get(&m, "empty")->len, 0);
	assert_null(ipc_get(&m, "missing"));
	assert_null(ipc_get_str(&m, "missing"));
	assert_false(ipc_get_int(&m, "missing", &v));
	assert_false(ipc_get_int(&m, "op", &v));
	ipc_msg_free(&m);
	buf_free(&out);
}

static void test_repeated_names(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used;
	const char *rcpts[] = {"a@x", "b@y", "c@z"};

	(void)state;
	ipc_put_str(&out, "op", "deliver");
	for (int i = 0; i < 3; i++) {
		ipc_put_str(&out, "rcpt", rcpts[i]);
		ipc_put_int(&out, "index", i);
	}
	ipc_end(&out);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_int_equal(m.count, 7);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(m.attrs[1 + 2 * i].name, "rcpt");
		assert_string_equal(m.attrs[1 + 2 * i].value, rcpts[i]);
		assert_string_equal(m.attrs[2 + 2 * i].name, "index");
	}
	assert_string_equal(ipc_get_str(&m, "rcpt"), "a@x");
	ipc_msg_free(&m);
	buf_free(&out);
}

static void test_empty_record_and_empty_name(void **state)
{
	size_t used = 99;

	(void)state;
	assert_int_equal(parse_str("0:,", IPC_MAX_RECORD, &used), IPC_OK);
	assert_int_equal(used, 3);
	/* An empty netstring where a name would be ends the record; what
	 * follows is the next record's business. */
	assert_int_equal(parse_str("0:,5:value,0:,", IPC_MAX_RECORD, &used), IPC_OK);
	assert_int_equal(used, 3);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
	    "01:a,1:b,0:,", /* leading zero */
	    "00:,",	    /* leading zero on the terminator */
	    "1a",	    /* missing colon */
	    "1:a,1b",	    /* missing colon in value length */
	    "1:a;",	    /* missing comma after name */
	    "1:a,1:b0:,",   /* missing comma after value */
	    "0:x",	    /* terminator without its comma */
	    "x:",	    /* non-digit length */
	    ":a,",	    /* missing length */
	    "-1:a,",	    /* sign */
	    "+1:a,",
	    " 1:a,",
	    "1 :a,",
	    "12345678901:", /* 11 digits */
	    "12345678901",  /* 11 digits, before any colon */
	    "9999999999:",  /* 10 digits, far over the limit */
	    "2000:",	    /* over the limit before the data came */
	    "1:a,2000:",
	};
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(bad[i], 1000, &used) != IPC_ERROR)
			fail_msg("accepted bad input \"%s\"", bad[i]);
	}
}

static void test_name_rules(void **state)
{
	struct buf in = BUF_INIT;
	struct ipc_msg m;
	size_t used;
	char name[IPC_MAX_NAME + 2];

	(void)state;
	ipc_msg_init(&m);
	/* NUL in a name, seen even before the whole name has arrived. */
	assert_int_equal(ipc_parse("3:a\0b,1:v,0:,", 13, 100, &m, &used, NULL), IPC_ERROR);
	assert_int_equal(ipc_parse("3:a\0", 4, 100, &m, &used, NULL), IPC_ERROR);
	memset(name, 'n', sizeof(name));
	name[IPC_MAX_NAME] = 0;
	ipc_put_str(&in, name, "v");
	ipc_end(&in);
	assert_int_equal(ipc_parse(in.data, in.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_string_equal(m.attrs[0].name, name);
	buf_reset(&in);
	buf_printf(&in, "%d:", IPC_MAX_NAME + 1);
	assert_int_equal(ipc_parse(in.data, in.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_ERROR);
	ipc_msg_free(&m);
	buf_free(&in);
}

static void test_truncated_is_more(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used = 12345;
	const char *why;

	(void)state;
	sample_record(&out);
	ipc_msg_init(&m);
	for (size_t n = 0; n < out.len; n++) {
		char *copy = xmemdup(out.data, n); /* exact-size: ASan sees over-reads */
		enum ipc_result r = ipc_parse(copy, n, IPC_MAX_RECORD, &m, &used, &why);
		free(copy);
		if (r != IPC_MORE)
			fail_msg("prefix of %zu bytes gave %d", n, r);
		assert_int_equal(used, 12345);
	}
	ipc_msg_free(&m);
	buf_free(&out);
}

static void test_trailing_and_back_to_back(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used, first;

	(void)state;
	ipc_put_str(&out, "k", "one");
	ipc_end(&out);
	first = out.len;
	ipc_put_str(&out, "k", "two");
	ipc_end(&out);
	buf_puts(&out, "garbage");
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_int_equal(used, first);
	assert_string_equal(ipc_get_str(&m, "k"), "one");
	assert_int_equal(
	    ipc_parse(out.data + first, out.len - first, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_int_equal(m.count, 1);
	assert_string_equal(ipc_get_str(&m, "k"), "two");
	assert_int_equal(out.len - first - used, strlen("garbage"));
	assert_int_equal(
	    ipc_parse(out.data + first + used, 7, IPC_MAX_RECORD, &m, &used, NULL), IPC_ERROR);
	ipc_msg_free(&m);
	buf_free(&out);
}

static void test_max_boundary(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used;

	(void)state;
	ipc_put_str(&out, "name", "some value");
	ipc_put_str(&out, "x", "");
	ipc_end(&out);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, out.len, &m, &used, NULL), IPC_OK);
	assert_int_equal(used, out.len);
	assert_int_equal(ipc_parse(out.data, out.len, out.len - 1, &m, &used, NULL), IPC_ERROR);
	/* With max one short, no prefix may look acceptable for long. */
	for (size_t n = 0; n <= out.len; n++) {
		enum ipc_result r = ipc_parse(out.data, n, out.len - 1, &m, &used, NULL);
		assert_int_not_equal(r, IPC_OK);
		if (n >= out.len - 1)
			assert_int_equal(r, IPC_ERROR);
	}
	assert_int_equal(ipc_parse("0:,", 3, 3, &m, &used, NULL), IPC_OK);
	assert_int_equal(ipc_parse("0:,", 3, 2, &m, &used, NULL), IPC_ERROR);
	assert_int_equal(ipc_parse("", 0, 0, &m, &used, NULL), IPC_ERROR);
	ipc_msg_free(&m);
	buf_free(&out);
}

static void test_large_value_and_reuse(void **state)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used, big = 300000;
	char *val = xmalloc(big);

	(void)state;
	for (size_t i = 0; i < big; i++)
		val[i] = (char)(i * 7);
	for (int i = 0; i < 50; i++)
		ipc_put_int(&out, "i", i);
	ipc_put(&out, "data", val, big);
	ipc_put_str(&out, "last", "end");
	ipc_end(&out);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	assert_int_equal(m.count, 52);
	assert_int_equal(ipc_get(&m, "data")->len, big);
	assert_memory_equal(ipc_get(&m, "data")->value, val, big);
	assert_string_equal(m.attrs[49].value, "49");
	assert_string_equal(ipc_get_str(&m, "last"), "end");
	/* The same message again: the old content is replaced. */
	assert_int_equal(ipc_parse("1:a,1:b,0:,", 11, 100, &m, &used, NULL), IPC_OK);
	assert_int_equal(m.count, 1);
	assert_null(ipc_get(&m, "data"));
	ipc_msg_free(&m);
	buf_free(&out);
	free(val);
}

static bool int_of(const char *text, long long *v)
{
	struct buf out = BUF_INIT;
	struct ipc_msg m;
	size_t used;
	bool ok;

	ipc_put_str(&out, "v", text);
	ipc_end(&out);
	ipc_msg_init(&m);
	assert_int_equal(ipc_parse(out.data, out.len, IPC_MAX_RECORD, &m, &used, NULL), IPC_OK);
	ok = ipc_get_int(&m, "v", v);
	ipc_msg_free(&m);
	buf_free(&out);
	return ok;
}

static void test_get_int(void **state)
{
	static const char *bad[] = {
	    "",
	    "-",
	    "+5",
	    " 5",
	    "5 ",
	    "1a",
	    "0x10",
	    "9223372036854775808",
	    "-9223372036854775809",
	    "--1",
	    "1.0",
	};
	long long v;

	(void)state;
	assert_true(int_of("12", &v));
	assert_int_equal(v, 12);
	assert_true(int_of("-5", &v));
	assert_int_equal(v, -5);
	assert_true(int_of("9223372036854775807", &v));
	assert_true(v == LLONG_MAX);
	assert_true(int_of("-9223372036854775808", &v));
	assert_true(v == LLONG_MIN);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (int_of(bad[i], &v))
			fail_msg("accepted \"%s\"", bad[i]);
}

/* ------------------------------------------------------------------ */
/* ipc_conn over a socketpair                                           */

struct pair {
	struct ipc_conn a, b;
};

static int pair_setup(void **state)
{
	struct pair *p = xcalloc(1, sizeof(*p));
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	ipc_conn_init(&p->a, sv[0]);
	ipc_conn_init(&p->b, sv[1]);
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	ipc_conn_close(&p->a);
	ipc_conn_close(&p->b);
	free(p);
	return 0;
}

static void test_conn_send_recv(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;

	ipc_put_str(&p->a.out, "op", "one");
	ipc_end(&p->a.out);
	ipc_put_str(&p->a.out, "op", "two");
	ipc_put(&p->a.out, "bin", "\0\1", 2);
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_send(&p->a, 1000), 0);
	assert_int_equal(p->a.out.len, 0);
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	assert_string_equal(ipc_get_str(&m, "op"), "one");
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	assert_string_equal(ipc_get_str(&m, "op"), "two");
	assert_memory_equal(ipc_get(&m, "bin")->value, "\0\1", 2);
	assert_int_equal(p->b.in.len, 0);
	assert_int_equal(p->b.passed_fd, -1);
	ipc_msg_free(&m);
}

static void test_conn_nonblocking(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	const char *why;

	assert_int_equal(fcntl(p->b.fd, F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(ipc_conn_fill(&p->b), -1);
	assert_int_equal(errno, EAGAIN);
	ipc_put_str(&p->a.out, "k", "v");
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_flush(&p->a), 1);
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_next(&p->b, &m, &why), IPC_MORE);
	assert_true(ipc_conn_fill(&p->b) > 0);
	assert_int_equal(ipc_conn_next(&p->b, &m, &why), IPC_OK);
	assert_string_equal(ipc_get_str(&m, "k"), "v");
	assert_int_equal(ipc_conn_next(&p->b, &m, &why), IPC_MORE);
	ipc_msg_free(&m);
}

/* Bigger than the socket buffers: a child writes, so partial writes and
 * partial reads both happen. */
static void test_conn_large_record(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	size_t big = 1000000;
	char *val = xmalloc(big);
	pid_t pid;
	int status;

	for (size_t i = 0; i < big; i++)
		val[i] = (char)(i % 251);
	assert_int_equal(fcntl(p->a.fd, F_SETFL, O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ipc_put(&p->a.out, "data", val, big);
		ipc_end(&p->a.out);
		_exit(ipc_conn_send(&p->a, 5000) == 0 ? 0 : 1);
	}
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 5000), 0);
	assert_int_equal(ipc_get(&m, "data")->len, big);
	assert_memory_equal(ipc_get(&m, "data")->value, val, big);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ipc_msg_free(&m);
	free(val);
}

static void test_conn_record_limit(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;

	p->b.max_record = 50;
	ipc_put(&p->a.out, "data", "0123456789012345678901234567890123456789", 40);
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_send(&p->a, 1000), 0);
	ipc_msg_init(&m);
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), -1);
	assert_int_equal(errno, EPROTO);
	ipc_msg_free(&m);
}

static void check_fd_reads(int fd, const char *want)
{
	char got[64];
	ssize_t n = read(fd, got, sizeof(got));

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(got, want, (size_t)n);
}

static void test_conn_pass_pipe(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	int pp[2];

	assert_int_equal(pipe(pp), 0);
	assert_int_equal(write(pp[1], "hello", 5), 5);
	close(pp[1]);
	ipc_put_str(&p->a.out, "op", "deliver");
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_send_fd(&p->a, pp[0], 1000), 0);
	close(pp[0]);
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	assert_string_equal(ipc_get_str(&m, "op"), "deliver");
	assert_true(p->b.passed_fd >= 0);
	assert_true(fcntl(p->b.passed_fd, F_GETFD) & FD_CLOEXEC);
	check_fd_reads(p->b.passed_fd, "hello");
	ipc_msg_free(&m);
}

static void test_conn_pass_file_and_close(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	FILE *f = tmpfile();
	int got;

	assert_non_null(f);
	assert_true(fputs("queue file", f) >= 0);
	fflush(f);
	rewind(f);
	ipc_put_str(&p->a.out, "op", "x");
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_flush_fd(&p->a, fileno(f)), 1);
	fclose(f);
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	got = p->b.passed_fd;
	assert_true(got >= 0);
	check_fd_reads(got, "queue file");
	ipc_conn_close(&p->b);
	/* ipc_conn_close closed the descriptor nobody took. */
	errno = 0;
	assert_int_equal(fcntl(got, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	ipc_msg_free(&m);
}

static void test_conn_second_fd_refused(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	int pp[2];

	assert_int_equal(pipe(pp), 0);
	for (int i = 0; i < 2; i++) {
		ipc_put_int(&p->a.out, "n", i);
		ipc_end(&p->a.out);
		assert_int_equal(ipc_conn_send_fd(&p->a, pp[0], 1000), 0);
	}
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	assert_true(p->b.passed_fd >= 0);
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), -1);
	assert_int_equal(errno, EPROTO);
	close(pp[0]);
	close(pp[1]);
	ipc_msg_free(&m);
}

static void test_conn_flush_fd_needs_data(void **state)
{
	struct pair *p = *state;

	errno = 0;
	assert_int_equal(ipc_conn_flush_fd(&p->a, 0), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_conn_timeout(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	long long t0, dt;

	ipc_msg_init(&m);
	t0 = mono_msec();
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 100), -1);
	dt = mono_msec() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(dt >= 90 && dt < 2000);
	ipc_msg_free(&m);
}

static void test_conn_eof_mid_record(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;
	const char *partial = "2:op,5:beg";

	assert_int_equal(write(p->a.fd, partial, strlen(partial)), (ssize_t)strlen(partial));
	close(p->a.fd);
	p->a.fd = -1;
	ipc_msg_init(&m);
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), -1);
	assert_int_equal(errno, EPIPE);
	assert_true(p->b.eof);
	ipc_msg_free(&m);
}

static void test_conn_eof_after_record(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;

	ipc_put_str(&p->a.out, "k", "v");
	ipc_end(&p->a.out);
	assert_int_equal(ipc_conn_send(&p->a, 1000), 0);
	close(p->a.fd);
	p->a.fd = -1;
	ipc_msg_init(&m);
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), 0);
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), -1);
	assert_int_equal(errno, EPIPE);
	ipc_msg_free(&m);
}

static void test_conn_malformed(void **state)
{
	struct pair *p = *state;
	struct ipc_msg m;

	assert_int_equal(write(p->a.fd, "01:a,", 5), 5);
	ipc_msg_init(&m);
	errno = 0;
	assert_int_equal(ipc_conn_recv(&p->b, &m, 1000), -1);
	assert_int_equal(errno, EPROTO);
	ipc_msg_free(&m);
}

static void test_conn_send_to_closed_peer(void **state)
{
	struct pair *p = *state;

	close(p->b.fd);
	p->b.fd = -1;
	ipc_put_str(&p->a.out, "k", "v");
	ipc_end(&p->a.out);
	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the test. */
	errno = 0;
	assert_int_equal(ipc_conn_send(&p->a, 1000), -1);
	assert_int_equal(errno, EPIPE);
}

#define PAIR_TEST(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_repeated_names),
	    cmocka_unit_test(test_empty_record_and_empty_name),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_name_rules),
	    cmocka_unit_test(test_truncated_is_more),
	    cmocka_unit_test(test_trailing_and_back_to_back),
	    cmocka_unit_test(test_max_boundary),
	    cmocka_unit_test(test_large_value_and_reuse),
	    cmocka_unit_test(test_get_int),
	    PAIR_TEST(test_conn_send_recv),
	    PAIR_TEST(test_conn_nonblocking),
	    PAIR_TEST(test_conn_large_record),
	    PAIR_TEST(test_conn_record_limit),
	    PAIR_TEST(test_conn_pass_pipe),
	    PAIR_TEST(test_conn_pass_file_and_close),
	    PAIR_TEST(test_conn_second_fd_refused),
	    PAIR_TEST(test_conn_flush_fd_needs_data),
	    PAIR_TEST(test_conn_timeout),
	    PAIR_TEST(test_conn_eof_mid_record),
	    PAIR_TEST(test_conn_eof_after_record),
	    PAIR_TEST(test_conn_malformed),
	    PAIR_TEST(test_conn_send_to_closed_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
