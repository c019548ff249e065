/*
 * test_deliver.c - qmgr end to end inside one process: a real queue
 * directory, a real queue file, and a fake delivery agent (a child process
 * listening on private/local) that answers as each test tells it.
 *
 * Checks the outcomes that matter for crash safety: which files remain in
 * which folder, and what the journal says about every recipient.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../qmgr/qmgr.h"
#include "config.h"
#include "proto.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

enum agent_mode {
	AGENT_SENT_DEFER, /* rcpt 0 sent, rcpt 1 deferred */
	AGENT_ALL_SENT,
	AGENT_DIE_AFTER_ONE,  /* one status, then close */
	AGENT_BAD_INDEX,      /* a status for a recipient not asked for */
	AGENT_BOUNCE,	      /* rcpt 0 bounced, rcpt 1 sent */
	AGENT_ALL_THREE,      /* all three recipients in one request, sent */
	AGENT_ONLY_B,	      /* only rcpt 1 asked for (journal): sent */
	AGENT_SENT_THEN_HANG, /* first request all sent; never answers the next */
};

static char qdir[64];
static pid_t agent_pid;

static void qdir_make(void)
{
	const char *sub[] = {"incoming", "active", "deferred", "corrupt", "private", NULL};
	char path[128];

	strlcpy(qdir, "/tmp/qmgr-test-XXXXXX", sizeof(qdir));
	assert_non_null(mkdtemp(qdir));
	for (size_t i = 0; sub[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", qdir, sub[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	config_set("queue_directory", qdir);
	config_set("mydestination", "example.org");
	config_set("virtual_mailbox_domains", "");
	config_set("relay_domains", "");
	config_set("local_transport", "local");
	config_set("default_transport", "smtp");
}

static void qdir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", qdir);
	assert_int_equal(system(cmd), 0);
}

/* A complete queue file in incoming/ with three recipients: two local
 * (to the fake agent) and one remote (no smtp agent: unavailable). */
static void queue_file_make(const char *qid, long long arrival_usec)
{
	struct qfile_writer w;
	struct buf path = BUF_INIT;
	int fd;

	queue_path(&path, QUEUE_INCOMING, qid);
	fd = open(path.data, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	qfw_init(&w, fd);
	qfw_arrival(&w, arrival_usec);
	qfw_sender(&w, "sender@example.net");
	qfw_rcpt(&w, "a@example.org", NULL, NULL);
	qfw_rcpt(&w, "b@example.org", "rfc822;b@example.org", NULL);
	qfw_rcpt(&w, "c@remote.test", NULL, NULL);
	qfw_header(&w, "Subject: hi\n", 12);
	qfw_body_begin(&w);
	qfw_body_write(&w, "hello\n", 6);
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);
	close(fd);
	buf_free(&path);
}

static bool file_in(const char *queue, const char *qid)
{
	struct buf path = BUF_INIT;
	struct stat st;
	bool r;

	queue_path(&path, queue, qid);
	r = stat(path.data, &st) == 0;
	buf_free(&path);
	return r;
}

static void agent_reply(
    struct ipc_conn *c, long long index, const char *result, const char *dsn, const char *reason)
{
	ipc_put_str(&c->out, A_OP, "status");
	ipc_put_int(&c->out, A_INDEX, index);
	ipc_put_str(&c->out, A_RESULT, result);
	ipc_put_str(&c->out, A_DSN, dsn);
	ipc_put_str(&c->out, A_REASON, reason);
	ipc_end(&c->out);
}

/* Checks the request as proto.h specifies it; exit codes report errors. */
static int agent_check(struct ipc_conn *c, struct ipc_msg *m, size_t want)
{
	size_t i, nrcpt = 0;

	if (ipc_conn_recv(c, m, 5000) < 0)
		return 10;
	if (c->passed_fd < 0 || (fcntl(c->passed_fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return 11;
	if (strcmp(ipc_get_str(m, A_OP), OP_DELIVER) != 0 ||
	    strcmp(ipc_get_str(m, A_SENDER), "sender@example.net") != 0)
		return 12;
	for (i = 0; i < m->count; i++)
		nrcpt += strcmp(m->attrs[i].name, A_RCPT) == 0;
	if (nrcpt != want || strcmp(ipc_get_str(m, A_CLASS), "local") != 0)
		return 13;
	return 0;
}

static int agent_serve(int lfd, enum agent_mode mode)
{
	struct ipc_conn c;
	struct ipc_msg m;
	int fd = accept(lfd, NULL, NULL), rc;
	long long idx;

	ipc_conn_init(&c, fd);
	ipc_msg_init(&m);
	if ((rc = agent_check(&c, &m,
		 mode == AGENT_ALL_THREE ? 3
		 : mode == AGENT_ONLY_B	 ? 1
					 : 2)) != 0)
		return rc;
	if (mode == AGENT_ONLY_B) {
		if (!ipc_get_int(&m, A_INDEX, &idx) || idx != 1)
			return 15;
		agent_reply(&c, 1, RES_SENT, "2.0.0", "delivered to maildir");
		mode = AGENT_ALL_SENT;
		goto done;
	}
	if (mode == AGENT_ALL_THREE)
		agent_reply(&c, 2, RES_SENT, "2.0.0", "delivered to maildir");
	if (mode == AGENT_ALL_THREE)
		mode = AGENT_ALL_SENT;
	if (mode == AGENT_ALL_SENT || mode == AGENT_SENT_DEFER)
		agent_reply(&c, 0, RES_SENT, "2.0.0", "delivered to maildir");
	if (mode == AGENT_ALL_SENT)
		agent_reply(&c, 1, RES_SENT, "2.0.0", "delivered to maildir");
	if (mode == AGENT_SENT_DEFER)
		agent_reply(&c, 1, RES_DEFERRED, "4.2.2", "mailbox full");
	if (mode == AGENT_DIE_AFTER_ONE)
		agent_reply(&c, 1, RES_SENT, "2.0.0", "delivered to maildir");
	if (mode == AGENT_BAD_INDEX)
		agent_reply(&c, 2, RES_SENT, "2.0.0", "not yours");
	if (mode == AGENT_BOUNCE) {
		agent_reply(&c, 0, RES_BOUNCED, "5.1.1", "no such user");
		agent_reply(&c, 1, RES_SENT, "2.0.0", "delivered to maildir");
	}
done:
	if (mode != AGENT_DIE_AFTER_ONE && mode != AGENT_BAD_INDEX) {
		ipc_put_str(&c.out, A_OP, OP_DONE);
		ipc_end(&c.out);
	}
	if (ipc_conn_send(&c, 5000) < 0)
		return 14;
	if (mode != AGENT_DIE_AFTER_ONE) /* wait for qmgr to hang up */
		(void)ipc_conn_recv(&c, &m, 5000);
	return 0;
}

/* Each request comes on its own connection (qmgr does not reuse them). */
static int agent_run(int lfd, enum agent_mode mode)
{
	struct ipc_conn c;
	struct ipc_msg m;
	int rc;

	if (mode != AGENT_SENT_THEN_HANG)
		return agent_serve(lfd, mode);
	if ((rc = agent_serve(lfd, AGENT_ALL_SENT)) != 0)
		return rc;
	ipc_conn_init(&c, accept(lfd, NULL, NULL));
	ipc_msg_init(&m);
	if (ipc_conn_recv(&c, &m, 5000) < 0) /* the request, left unanswered */
		return 16;
	(void)ipc_conn_recv(&c, &m, 5000); /* until qmgr gives up */
	return 0;
}

static void agent_start(enum agent_mode mode)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int lfd;

	queue_socket_path(&path, true, "local");
	lfd = sock_unix_listen(path.data, 0600, 10, &err);
	assert_true(lfd >= 0);
	sock_nonblock(lfd, false);
	agent_pid = fork();
	assert_true(agent_pid >= 0);
	if (agent_pid == 0) {
		alarm(10); /* never outlive a broken test */
		_exit(agent_run(lfd, mode));
	}
	close(lfd);
	buf_free(&path);
	buf_free(&err);
}

static int agent_wait(void)
{
	int status;

	assert_int_equal(waitpid(agent_pid, &status, 0), agent_pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void qmgr_setup(struct qmgr *q)
{
	memset(q, 0, sizeof(*q));
	q->loop = event_loop_new();
	q->cf.active_limit = 10;
	q->cf.rcpt_mem_limit = 1000;
	q->cf.conc_limit = 2;
	q->cf.rcpt_limit = 50;
	q->cf.ipc_timeout = 5;
	q->cf.run_delay = 300;
	q->cf.min_backoff = 300;
	q->cf.max_backoff = 4000;
	q->cf.max_lifetime = 5 * 86400;
	q->cf.bounce_lifetime = 5 * 86400;
	q->cf.initial_conc = 5;
	q->cf.process_limit = 100;
	q->cf.dead_time = 300;
	qset_init(&q->known);
	qset_init(&q->warned);
	sched_heap_init(&q->heap);
}

/* Runs the loop until no message is in memory. */
static void qmgr_run(struct qmgr *q)
{
	long long end = mono_msec() + 8000;

	while (q->active > 0 && mono_msec() < end)
		event_loop_once(q->loop, 100);
	assert_int_equal(q->active, 0);
}

static void qmgr_done(struct qmgr *q)
{
	deliver_free_all(q);
	qset_free(&q->known);
	qset_free(&q->warned);
	sched_heap_free(&q->heap);
	event_loop_free(q->loop);
}

/* Loads the file from queue and returns its recipients' statuses. */
static void journal_read(const char *queue, const char *qid, struct qfile *qf)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int fd;

	queue_path(&path, queue, qid);
	fd = open(path.data, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(qfile_load(fd, qf, &err), QF_LOAD_OK);
	close(fd);
	buf_free(&path);
	buf_free(&err);
}

static int setup(void **state)
{
	(void)state;
	qdir_make();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qdir_remove();
	return 0;
}

static void test_sent_and_deferred(void **state)
{
	const char *qid = "0000000000000AAA";
	struct qmgr q;
	struct qfile qf = {0};
	struct qset_entry *e;
	struct stat st;
	struct buf path = BUF_INIT;
	long long t0 = time(NULL);

	(void)state;
	queue_file_make(qid, (t0 - 1000) * 1000000LL);
	agent_start(AGENT_SENT_DEFER);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING)); /* idempotent */
	assert_int_equal(q.active, 1);
	qmgr_run(&q);
	e = qset_get(&q.known, qid);
	assert_non_null(e);
	assert_int_equal(e->state, QSET_SCHEDULED);
	/* age 1000 s -> retry after 1000 s: due = now + age, where age grows
	 * with every second the run takes (2 now - t0 + 1000 at most). */
	assert_true(e->due >= t0 + 1000 && e->due <= 2 * (long long)time(NULL) - t0 + 1000);
	qmgr_done(&q);
	assert_int_equal(agent_wait(), 0);
	assert_false(file_in(QUEUE_INCOMING, qid));
	assert_false(file_in(QUEUE_ACTIVE, qid));
	assert_true(file_in(QUEUE_DEFERRED, qid));
	queue_path(&path, QUEUE_DEFERRED, qid);
	assert_int_equal(stat(path.data, &st), 0);
	/* the file's time is its due time: the same bound */
	assert_true(
	    st.st_mtime >= t0 + 1000 && st.st_mtime <= 2 * (long long)time(NULL) - t0 + 1000);
	journal_read(QUEUE_DEFERRED, qid, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.rcpts[1].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[1].reason, "mailbox full");
	assert_string_equal(qf.rcpts[1].dsn, "4.2.2");
	assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[2].reason, "mail transport unavailable");
	qfile_free(&qf);
	buf_free(&path);
}

static void test_all_sent_removed(void **state)
{
	const char *qid = "0000000000000AAB";
	struct qmgr q;

	(void)state;
	config_set("default_transport", "local:example.org"); /* c@remote.test: same destination */
	queue_file_make(qid, now_usec());
	agent_start(AGENT_ALL_THREE);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	qmgr_run(&q);
	assert_null(qset_get(&q.known, qid));
	qmgr_done(&q);
	config_set("default_transport", "smtp");
	assert_int_equal(agent_wait(), 0);
	assert_false(file_in(QUEUE_ACTIVE, qid));
	assert_false(file_in(QUEUE_DEFERRED, qid));
	assert_false(file_in(QUEUE_INCOMING, qid));
}

/* With a recipient limit of 2, c@ goes in a second request on a second
 * connection, which the one-connection agent never answers: it times
 * out and only c is deferred. */
static void test_agent_timeout(void **state)
{
	const char *qid = "0000000000000AB1";
	struct qmgr q;
	struct qfile qf = {0};

	(void)state;
	config_set("default_transport", "local");
	queue_file_make(qid, now_usec());
	agent_start(AGENT_SENT_THEN_HANG);
	qmgr_setup(&q);
	q.cf.rcpt_limit = 2;
	q.cf.ipc_timeout = 1;
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	qmgr_run(&q);
	qmgr_done(&q);
	config_set("default_transport", "smtp");
	assert_int_equal(agent_wait(), 0);
	journal_read(QUEUE_DEFERRED, qid, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.rcpts[1].status, QF_SENT);
	assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[2].reason, "timeout waiting for delivery agent");
	qfile_free(&qf);
}

static void test_agent_dies(void **state)
{
	const char *qid = "0000000000000AAC";
	struct qmgr q;
	struct qfile qf = {0};

	(void)state;
	queue_file_make(qid, now_usec());
	agent_start(AGENT_DIE_AFTER_ONE);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	qmgr_run(&q);
	qmgr_done(&q);
	assert_int_equal(agent_wait(), 0);
	journal_read(QUEUE_DEFERRED, qid, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[0].reason, "lost connection with delivery agent");
	assert_int_equal(qf.rcpts[1].status, QF_SENT);
	qfile_free(&qf);
}

static void test_agent_protocol_error(void **state)
{
	const char *qid = "0000000000000AAD";
	struct qmgr q;
	struct qfile qf = {0};

	(void)state;
	queue_file_make(qid, now_usec());
	agent_start(AGENT_BAD_INDEX);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	qmgr_run(&q);
	qmgr_done(&q);
	assert_int_equal(agent_wait(), 0);
	journal_read(QUEUE_DEFERRED, qid, &qf);
	/* The bogus "sent" for recipient 2 was not believed. */
	assert_int_equal(qf.rcpts[0].status, QF_DEFERRED);
	assert_int_equal(qf.rcpts[1].status, QF_DEFERRED);
	assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[2].reason, "mail transport unavailable");
	qfile_free(&qf);
}

static void test_expired_bounce_pending_without_cleanup(void **state)
{
	const char *qid = "0000000000000AAE";
	struct qmgr q;

	(void)state;
	queue_file_make(qid, (time(NULL) - 6 * 86400) * 1000000LL);
	agent_start(AGENT_BOUNCE);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	qmgr_run(&q);
	qmgr_done(&q);
	assert_int_equal(agent_wait(), 0);
	/* a bounced, b sent, c expired (bounced) - but no cleanup runs here,
	 * so the notice cannot be queued: a and c stay "bounce pending"
	 * (deferred with a 5.x.x code) and the original is kept. */
	assert_false(file_in(QUEUE_ACTIVE, qid));
	assert_true(file_in(QUEUE_DEFERRED, qid));
	{
		struct buf path = BUF_INIT;
		struct qfile qf = {0};
		int fd;

		queue_path(&path, QUEUE_DEFERRED, qid);
		fd = open(path.data, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(qfile_load(fd, &qf, NULL), QF_LOAD_OK);
		assert_int_equal(qf.rcpts[0].status, QF_DEFERRED);
		assert_int_equal(qf.rcpts[0].dsn[0], '5');
		assert_int_equal(qf.rcpts[1].status, QF_SENT);
		assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
		assert_int_equal(qf.rcpts[2].dsn[0], '5');
		qfile_free(&qf);
		close(fd);
		buf_free(&path);
	}
}

/* A file without its end mark in incoming/: left alone while young (its
 * writer may be busy), removed once older than the grace period. */
static void test_incomplete_grace(void **state)
{
	const char *qid = "0000000000000AB5";
	struct buf path = BUF_INIT;
	struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	struct qmgr q;
	int fd;

	(void)state;
	queue_path(&path, QUEUE_INCOMING, qid);
	fd = open(path.data, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "TERNQF01", 8), 8);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	assert_int_equal(q.active, 0);
	assert_true(file_in(QUEUE_INCOMING, qid));
	assert_false(file_in(QUEUE_CORRUPT, qid));
	assert_int_equal(futimens(fd, old), 0);
	close(fd);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	assert_false(file_in(QUEUE_INCOMING, qid));
	assert_false(file_in(QUEUE_CORRUPT, qid));
	qmgr_done(&q);
	buf_free(&path);
}

static void test_corrupt_moved(void **state)
{
	const char *qid = "0000000000000AAF";
	struct buf path = BUF_INIT;
	struct qmgr q;
	int fd;

	(void)state;
	queue_path(&path, QUEUE_INCOMING, qid);
	fd = open(path.data, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "TERNQF01garbage", 15), 15);
	close(fd);
	qmgr_setup(&q);
	assert_true(msg_activate(&q, qid, QUEUE_INCOMING));
	assert_int_equal(q.active, 0);
	assert_null(qset_get(&q.known, qid));
	qmgr_run(&q);
	qmgr_done(&q);
	assert_true(file_in(QUEUE_CORRUPT, qid));
	assert_false(file_in(QUEUE_INCOMING, qid));
	buf_free(&path);
}

static void test_active_limit(void **state)
{
	struct qmgr q;

	(void)state;
	queue_file_make("0000000000000AB0", now_usec());
	qmgr_setup(&q);
	q.cf.active_limit = 0;
	assert_false(msg_activate(&q, "0000000000000AB0", QUEUE_INCOMING));
	assert_true(file_in(QUEUE_INCOMING, "0000000000000AB0"));
	/* Gone: harmless, and nothing is remembered. */
	q.cf.active_limit = 10;
	assert_true(msg_activate(&q, "0000000000000ZZZ", QUEUE_INCOMING));
	assert_null(qset_get(&q.known, "0000000000000ZZZ"));
	qmgr_run(&q);
	qmgr_done(&q);
}

static void file_age(const char *queue, const char *name, long long secs)
{
	struct buf path = BUF_INIT;
	struct timespec ts[2];
	int fd;

	queue_path(&path, queue, name);
	fd = open(path.data, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
	buf_free(&path);
}

/* A crash left a file in active/: start-up delivers it again; stale
 * temp files go, fresh ones and odd names stay.  Then a deferred file
 * whose retry time has come is delivered once more, and only to the
 * recipient the journal still lists as pending - over a fresh connection,
 * since the first agent has gone away from the idle one qmgr kept. */
static void test_recover_and_retry(void **state)
{
	const char *qid = "0000000000000AB2";
	struct qmgr q;
	struct qfile qf = {0};

	(void)state;
	queue_file_make(qid, now_usec());
	assert_int_equal(queue_move(qid, QUEUE_INCOMING, QUEUE_ACTIVE), 0);
	file_age(QUEUE_INCOMING, ".stale", 7200);
	file_age(QUEUE_INCOMING, ".fresh", 60);
	file_age(QUEUE_INCOMING, "junk", 0);
	agent_start(AGENT_SENT_DEFER);
	qmgr_setup(&q);
	scan_recover(&q);
	scan_incoming(&q);
	qmgr_run(&q);
	assert_int_equal(agent_wait(), 0);
	/* Temporary files: judged by ctime (just now) and by the writer's
	 * flock; 60 s on, the unlocked one goes and the locked one stays. */
	assert_true(file_in(QUEUE_INCOMING, ".stale"));
	{
		struct buf dir = BUF_INIT;
		int dfd, lfd;

		queue_path(&dir, QUEUE_INCOMING, NULL);
		dfd = open(dir.data, O_RDONLY | O_DIRECTORY);
		lfd = openat(dfd, ".fresh", O_RDONLY);
		buf_free(&dir);

		assert_true(dfd >= 0 && lfd >= 0);
		assert_int_equal(flock(lfd, LOCK_EX), 0);
		scan_temp_file(dfd, ".stale", time(NULL) + 60);
		scan_temp_file(dfd, ".fresh", time(NULL) + 60);
		close(lfd);
		close(dfd);
	}
	assert_false(file_in(QUEUE_INCOMING, ".stale"));
	assert_true(file_in(QUEUE_INCOMING, ".fresh"));
	assert_true(file_in(QUEUE_INCOMING, "junk"));
	assert_true(file_in(QUEUE_DEFERRED, qid));

	/* Not due yet: the scan schedules it and leaves it alone. */
	scan_deferred(&q);
	assert_int_equal(q.active, 0);
	/* Due (e.g. flushed by the operator): delivered again. */
	file_age(QUEUE_DEFERRED, qid, 10);
	agent_start(AGENT_ONLY_B);
	scan_deferred(&q);
	assert_int_equal(q.active, 1);
	qmgr_run(&q);
	qmgr_done(&q);
	assert_int_equal(agent_wait(), 0);
	journal_read(QUEUE_DEFERRED, qid, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.rcpts[1].status, QF_SENT);
	assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
	qfile_free(&qf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sent_and_deferred, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_sent_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_dies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_protocol_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_expired_bounce_pending_without_cleanup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_moved, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incomplete_grace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_active_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_and_retry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
