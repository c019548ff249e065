/*
 * test_client.c - unit tests for lib/auth/client.c against a fake auth
 * daemon on the same event loop: a SASL exchange step by step, the
 * mechanisms learned on connecting, failures delivered from the loop and
 * never inside the call, a daemon that is missing, one that comes late
 * (calls wait for it), one that goes away and
 * comes back (reconnect), one that never answers (time-out), and abort
 * (cancel sent, no callback); then the blocking client.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/client.h"
#include "buf.h"
#include "event.h"
#include "ipc.h"
#include "sock.h"
#include "util.h"

enum fake_mode {
	FAKE_ANSWER, /* continue on auth, ok on cont */
	FAKE_SILENT, /* read, never answer (mechs excepted) */
	FAKE_HANGUP, /* close on the first auth request */
};

static struct {
	struct event_loop *loop;
	char dir[64];
	char path[128];
	int lfd;
	struct ipc_conn conn;
	bool connected;
	enum fake_mode mode;
	int cancels;
	int requests;
} fake;

/* ------------------------------------------------------------ the fake daemon */

static void fake_reply(const struct auth_reply *r)
{
	auth_reply_encode(&fake.conn.out, r);
	assert_true(ipc_conn_flush(&fake.conn) >= 0);
}

static void fake_close(void)
{
	event_fd_del(fake.loop, fake.conn.fd);
	ipc_conn_close(&fake.conn);
	fake.connected = false;
}

static void fake_request(const struct auth_request *q)
{
	struct auth_reply r;

	memset(&r, 0, sizeof(r));
	r.id = q->id;
	if (q->op == AUTH_OP_MECHS) {
		r.status = AUTH_OK;
		r.mechs[0] = "PLAIN";
		r.mechs[1] = "SCRAM-SHA-256";
		r.nmechs = 2;
		fake_reply(&r);
		return;
	}
	if (q->op == AUTH_OP_CANCEL) {
		fake.cancels++;
		return;
	}
	fake.requests++;
	if (fake.mode == FAKE_SILENT)
		return;
	if (fake.mode == FAKE_HANGUP) {
		fake_close();
		return;
	}
	if (q->op == AUTH_OP_AUTH) {
		r.status = AUTH_CONTINUE;
		r.challenge = "";
	} else {
		r.status = AUTH_OK;
		r.user = "alice";
	}
	fake_reply(&r);
}

static void fake_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct ipc_msg m;
	struct auth_request q;
	const char *why;

	(void)loop;
	(void)fd;
	(void)events;
	(void)ctx;
	ipc_msg_init(&m);
	if (ipc_conn_fill(&fake.conn) == 0) {
		fake_close();
		ipc_msg_free(&m);
		return;
	}
	while (fake.connected && ipc_conn_next(&fake.conn, &m, &why) == IPC_OK) {
		assert_int_equal(auth_request_decode(&m, &q, &why), 0);
		fake_request(&q);
	}
	ipc_msg_free(&m);
}

static void fake_accept(struct event_loop *loop, int lfd, int events, void *ctx)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	(void)ctx;
	assert_true(fd >= 0);
	if (fake.connected)
		fake_close();
	ipc_conn_init(&fake.conn, fd);
	fake.connected = true;
	event_fd_set(loop, fd, EV_READ, fake_io, NULL);
}

static void fake_listen(void)
{
	struct buf err = BUF_INIT;

	fake.lfd = sock_unix_listen(fake.path, 0600, 16, &err);
	assert_true(fake.lfd >= 0);
	event_fd_set(fake.loop, fake.lfd, EV_READ, fake_accept, NULL);
	buf_free(&err);
}

static void fake_stop_listening(void)
{
	event_fd_del(fake.loop, fake.lfd);
	close(fake.lfd);
	unlink(fake.path);
	if (fake.connected)
		fake_close();
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	strcpy(fake.dir, "/tmp/tern-client-XXXXXX");
	assert_non_null(mkdtemp(fake.dir));
	snprintf(fake.path, sizeof(fake.path), "%s/auth", fake.dir);
	fake.loop = event_loop_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fake.connected)
		fake_close();
	unlink(fake.path);
	rmdir(fake.dir);
	event_loop_free(fake.loop);
	return 0;
}

/* ------------------------------------------------------------ callbacks */

struct seen {
	int calls;
	enum auth_status last;
	enum auth_code code;
	char reason[128];
	bool continue_with_response;
};

static void on_reply(struct auth_call *call, const struct auth_reply *r, void *ctx)
{
	struct seen *s = ctx;

	s->calls++;
	s->last = r->status;
	s->code = r->code;
	snprintf(s->reason, sizeof(s->reason), "%s", r->reason ? r->reason : "");
	if (r->status == AUTH_CONTINUE && s->continue_with_response)
		auth_call_continue(call, "AGFsaWNlAHB3");
}

static void run_until(int *counter, int want, long max_ms)
{
	long long end = mono_msec() + max_ms;

	while (*counter < want && mono_msec() < end)
		event_loop_once(fake.loop, 50);
}

static struct auth_request plain_request(void)
{
	struct auth_request r;

	memset(&r, 0, sizeof(r));
	r.op = AUTH_OP_AUTH;
	r.service = "imap";
	r.mech = "PLAIN";
	r.client_addr = "192.0.2.1";
	return r;
}

/* ------------------------------------------------------------ tests */

static void test_exchange_and_mechanisms(void **state)
{
	struct auth_client *c;
	struct auth_request r = plain_request();
	struct seen s = {0};

	(void)state;
	fake_listen();
	c = auth_client_new(fake.loop, fake.path, "imap", 5000);
	s.continue_with_response = true;
	auth_client_call(c, &r, on_reply, &s);
	assert_int_equal(s.calls, 0); /* never inside the call */
	run_until(&s.calls, 2, 5000);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.last, AUTH_OK);
	assert_string_equal(auth_client_mechanisms(c), "PLAIN SCRAM-SHA-256");
	assert_int_equal(auth_client_pending(c), 0);
	auth_client_free(c);
	fake_stop_listening();
}

static void test_missing_daemon(void **state)
{
	struct auth_client *c;
	struct auth_request r = plain_request();
	struct seen s = {0};

	(void)state;
	c = auth_client_new(fake.loop, fake.path, "smtp", 300);
	auth_client_call(c, &r, on_reply, &s);
	assert_int_equal(s.calls, 0);
	run_until(&s.calls, 1, 3000);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.last, AUTH_FAIL);
	assert_int_equal(s.code, AUTH_CODE_TEMPFAIL);
	assert_string_equal(s.reason, "authentication service unavailable");
	assert_null(auth_client_mechanisms(c));
	assert_int_equal(auth_client_pending(c), 0);
	auth_client_free(c);
}

/* A call made while the daemon is away waits for it within its time-out. */
static void test_daemon_late(void **state)
{
	struct auth_client *c;
	struct auth_request r = plain_request();
	struct seen s = {0}, t = {0};

	(void)state;
	c = auth_client_new(fake.loop, fake.path, "imap", 5000);
	s.continue_with_response = true;
	t.continue_with_response = true;
	auth_client_call(c, &r, on_reply, &s);
	auth_client_call(c, &r, on_reply, &t);
	event_loop_once(fake.loop, 250); /* a few failed attempts */
	assert_int_equal(s.calls, 0);
	fake_listen();
	run_until(&t.calls, 2, 5000);
	run_until(&s.calls, 2, 5000);
	assert_int_equal(s.last, AUTH_OK);
	assert_int_equal(t.last, AUTH_OK);
	assert_string_equal(auth_client_mechanisms(c), "PLAIN SCRAM-SHA-256");
	assert_int_equal(auth_client_pending(c), 0);
	auth_client_free(c);
	fake_stop_listening();
}

static void test_daemon_restart(void **state)
{
	struct auth_client *c;
	struct auth_request r = plain_request();
	struct seen s = {0}, t = {0};

	(void)state;
	fake_listen();
	fake.mode = FAKE_HANGUP;
	c = auth_client_new(fake.loop, fake.path, "smtp", 5000);
	auth_client_call(c, &r, on_reply, &s);
	run_until(&s.calls, 1, 5000);
	assert_int_equal(s.last, AUTH_FAIL);
	assert_int_equal(s.code, AUTH_CODE_TEMPFAIL);
	/* The next call reconnects by itself. */
	fake.mode = FAKE_ANSWER;
	t.continue_with_response = true;
	auth_client_call(c, &r, on_reply, &t);
	run_until(&t.calls, 2, 5000);
	assert_int_equal(t.last, AUTH_OK);
	auth_client_free(c);
	fake_stop_listening();
}

static void test_timeout_and_abort(void **state)
{
	struct auth_client *c;
	struct auth_request r = plain_request();
	struct seen s = {0}, t = {0};
	struct auth_call *call;

	(void)state;
	fake_listen();
	fake.mode = FAKE_SILENT;
	c = auth_client_new(fake.loop, fake.path, "smtp", 200);
	auth_client_call(c, &r, on_reply, &s);
	run_until(&s.calls, 1, 3000);
	assert_int_equal(s.last, AUTH_FAIL);
	assert_string_equal(s.reason, "authentication service timed out");
	call = auth_client_call(c, &r, on_reply, &t);
	run_until(&fake.requests, 2, 3000);
	auth_call_abort(call);
	run_until(&fake.cancels, 1, 3000);
	assert_int_equal(fake.cancels, 1);
	event_loop_once(fake.loop, 300);
	assert_int_equal(t.calls, 0); /* aborted: no callback, even at its time-out */
	assert_int_equal(auth_client_pending(c), 0);
	auth_client_free(c);
	fake_stop_listening();
}

static void test_blocking_client(void **state)
{
	int sv[2];
	struct ipc_conn *conn;
	struct ipc_conn server;
	struct ipc_msg m, sm;
	struct auth_request q, got;
	struct auth_reply r, rep;
	const char *why;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		/* The daemon: answer one lookup, with a stale reply first. */
		close(sv[0]);
		ipc_conn_init(&server, sv[1]);
		ipc_msg_init(&sm);
		if (ipc_conn_recv(&server, &sm, 5000) < 0 ||
		    auth_request_decode(&sm, &got, &why) < 0)
			_exit(1);
		memset(&rep, 0, sizeof(rep));
		rep.id = got.id + 100;
		rep.status = AUTH_FAIL;
		rep.code = AUTH_CODE_TEMPFAIL;
		auth_reply_encode(&server.out, &rep);
		rep.id = got.id;
		rep.status = AUTH_OK;
		rep.user = got.user;
		auth_reply_encode(&server.out, &rep);
		_exit(ipc_conn_send(&server, 5000) < 0);
	}
	close(sv[1]);
	conn = xcalloc(1, sizeof(*conn));
	ipc_conn_init(conn, sv[0]);
	memset(&q, 0, sizeof(q));
	q.op = AUTH_OP_LOOKUP;
	q.id = 1;
	q.user = "bob";
	ipc_msg_init(&m);
	assert_int_equal(auth_sync_call(conn, &q, &m, &r, 5000), 0);
	assert_int_equal(r.status, AUTH_OK);
	assert_string_equal(r.user, "bob");
	assert_int_equal(auth_sync_call(conn, &q, &m, &r, 1000), -1); /* peer gone */
	ipc_msg_free(&m);
	auth_sync_close(conn);
	assert_null(auth_sync_open("/nonexistent/auth"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exchange_and_mechanisms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_daemon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_late, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_and_abort, setup, teardown),
	    cmocka_unit_test(test_blocking_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
