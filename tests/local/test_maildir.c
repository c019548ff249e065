/*
 * test_maildir.c - local's Maildir and mbox delivery, run as the current
 * user in a temporary directory, from queue files made with the real
 * queue file writer.
 *
 * Checked: mailbox path safety (Maildir names are tested with the store,
 * tests/lib/mstore/test_mdname.c), the exact bytes delivered, UIDs given
 * at delivery once the mailbox has a tern index (and not before), that new/ holds the message and
 * tmp/ nothing, mbox "From " escaping (also across copy blocks), and that
 * a failed delivery leaves no tmp/ file and an mbox exactly as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../local/local.h"
#include "buf.h"
#include "mstore/mstore.h"
#include "proto.h"
#include "qfile.h"
#include "util.h"

struct fixture {
	char dir[64];	 /* temporary directory, removed afterwards */
	char qpath[128]; /* the queue file */
	struct qfile qf;
	struct local_msg msg;
};

static char *test_sender = "s@example.org";

/* Writes a queue file with this header and body, loads it, opens it
 * read-only into f->msg. */
static void make_queue_file(struct fixture *f, const char *hdr, const char *body, size_t blen)
{
	struct qfile_writer w;
	struct buf err = BUF_INIT;
	int fd;

	snprintf(f->qpath, sizeof(f->qpath), "%s/queuefile", f->dir);
	fd = open(f->qpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	qfw_init(&w, fd);
	qfw_arrival(&w, 1700000000000000LL);
	qfw_sender(&w, test_sender);
	qfw_rcpt(&w, "r@example.com", NULL, NULL);
	qfw_header(&w, hdr, strlen(hdr));
	qfw_body_begin(&w);
	qfw_body_write(&w, body, blen);
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);
	qfile_free(&f->qf);
	memset(&f->qf, 0, sizeof(f->qf));
	assert_int_equal(qfile_load(fd, &f->qf, &err), QF_LOAD_OK);
	close(fd);
	buf_free(&err);
	if (f->msg.fd >= 0)
		close(f->msg.fd);
	f->msg.fd = open(f->qpath, O_RDONLY);
	assert_true(f->msg.fd >= 0);
	f->msg.qid = "TESTQID";
	f->msg.sender = f->qf.sender;
	f->msg.header_off = f->qf.header_off;
	f->msg.header_len = f->qf.header_len;
	f->msg.body_off = f->qf.body_off;
	f->msg.body_len = f->qf.body_len;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strlcpy(f->dir, "/tmp/test_maildir.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->msg.fd = -1;
	test_sender = "s@example.org";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->msg.fd >= 0)
		close(f->msg.fd);
	qfile_free(&f->qf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Names in dir (not "." or "..", nor the store's dot-lock template that
 * stays in tmp/, see lib/mstore/mdlock.h); returns how many, first one in
 * name. */
static int list_dir(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strstr(e->d_name, ".tern-lock."))
			continue;
		if (n++ == 0 && name)
			strlcpy(name, e->d_name, size);
	}
	closedir(d);
	return n;
}

static void read_file(const char *path, struct buf *out)
{
	char block[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	buf_reset(out);
	while ((n = read(fd, block, sizeof(block))) > 0)
		buf_append(out, block, (size_t)n);
	close(fd);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_path_safe(void **state)
{
	(void)state;
	assert_true(maildir_path_safe("example.com/user/"));
	assert_true(maildir_path_safe("user"));
	assert_true(maildir_path_safe("a..b/..c/d../"));
	assert_true(maildir_path_safe("./a/"));
	assert_false(maildir_path_safe(""));
	assert_false(maildir_path_safe("/etc/passwd"));
	assert_false(maildir_path_safe(".."));
	assert_false(maildir_path_safe("../x/"));
	assert_false(maildir_path_safe("a/../../x"));
	assert_false(maildir_path_safe("a/.."));
	assert_false(maildir_path_safe("a/../"));
	assert_false(maildir_path_safe("a//../b"));
}

static void test_maildir_deliver(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char md[128], sub[1024], name[512];
	struct buf got = BUF_INIT;

	make_queue_file(f, "Subject: hi\nFrom: a@b\n", "line1\nFrom here\n", 16);
	snprintf(md, sizeof(md), "%s/example.com/user/", f->dir);
	assert_int_equal(maildir_deliver(&f->msg, "r@example.com", md, &r), 0);
	assert_string_equal(r.result, RES_SENT);
	assert_string_equal(r.dsn, "2.0.0");
	assert_string_equal(r.reason, "delivered to maildir");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
	snprintf(sub, sizeof(sub), "%s/cur", md);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(list_dir(sub, name, sizeof(name)), 1);
	snprintf(sub, sizeof(sub), "%s/new/%s", md, name);
	read_file(sub, &got);
	assert_string_equal(buf_cstr(&got),
	    "Return-Path: <s@example.org>\nDelivered-To: r@example.com\n"
	    "Subject: hi\nFrom: a@b\n\nline1\nFrom here\n");
	/* A second delivery gets a second file. */
	assert_int_equal(maildir_deliver(&f->msg, "r@example.com", md, &r), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(list_dir(sub, NULL, 0), 2);
	buf_free(&got);
}

/* A mailbox no tern server reads gets plain Maildir deliveries; once it
 * has an index (a server opened it), each delivery gets its UID at once,
 * after the UIDs the first reader gave. */
static void test_maildir_uid_at_delivery(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char md[128], ul[256];
	struct mstore_opts o;
	struct mstore_status st;
	struct buf err = BUF_INIT, got = BUF_INIT;
	struct mstore *s;

	make_queue_file(f, "Subject: uid\n", "body\n", 5);
	snprintf(md, sizeof(md), "%s/uid/", f->dir);
	snprintf(ul, sizeof(ul), "%s/dovecot-uidlist", md);
	assert_int_equal(maildir_deliver(&f->msg, "r@example.com", md, &r), 0);
	assert_int_equal(maildir_sync_pending(), 0);
	assert_int_not_equal(access(ul, F_OK), 0); /* nobody asked for UIDs yet */
	mstore_opts_init(&o);
	s = mstore_open(md, &o, &err);
	assert_non_null(s);
	assert_int_equal(mstore_status(s, "INBOX", &st, false), 0); /* the first reader */
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.uidnext, 2);
	assert_int_equal(maildir_deliver(&f->msg, "r@example.com", md, &r), 0);
	assert_int_equal(maildir_deliver(&f->msg, "r@example.com", md, &r), 0);
	assert_int_equal(maildir_sync_pending(), 0);
	read_file(ul, &got);
	assert_non_null(strstr(buf_cstr(&got), "\n2 :"));
	assert_non_null(strstr(buf_cstr(&got), "\n3 :"));
	assert_int_equal(mstore_status(s, "INBOX", &st, false), 0);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.uidnext, 4);
	mstore_close(s);
	buf_free(&err);
	buf_free(&got);
}

static void rm_tree(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Missing folders are made when the create or the rename says so; the
 * fsync of new/ is queued once per folder and run by
 * maildir_sync_pending(). */
static void test_maildir_recreate_and_batch(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char md[128], md2[128], sub[512];
	unsigned long before = maildir_pending_added();

	make_queue_file(f, "Subject: hi\n", "body\n", 5);
	snprintf(md, sizeof(md), "%s/one", f->dir);
	snprintf(md2, sizeof(md2), "%s/two", f->dir);
	assert_int_equal(maildir_deliver(&f->msg, "a@x", md, &r), 0);
	assert_int_equal(maildir_deliver(&f->msg, "b@x", md, &r), 0);
	assert_int_equal(maildir_deliver(&f->msg, "c@x", md2, &r), 0);
	assert_int_equal(maildir_pending_added() - before, 3);
	assert_int_equal(maildir_sync_pending(), 0);
	assert_int_equal(maildir_sync_pending(), 0); /* nothing left */
	/* new/ removed under us: the rename fails, the folder is made again. */
	snprintf(sub, sizeof(sub), "%s/new", md2);
	rm_tree(sub);
	assert_int_equal(maildir_deliver(&f->msg, "d@x", md2, &r), 0);
	assert_string_equal(r.result, RES_SENT);
	assert_int_equal(list_dir(sub, NULL, 0), 1);
	/* tmp/ removed: the create fails, the folders are made again. */
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	rm_tree(sub);
	assert_int_equal(maildir_deliver(&f->msg, "e@x", md, &r), 0);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(list_dir(sub, NULL, 0), 3);
	assert_int_equal(maildir_sync_pending(), 0);
}

static void test_maildir_null_sender_big_body(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	size_t blen = 300 * 1024 + 17;
	char *body = xmalloc(blen);
	char md[128], sub[1024], name[512];
	struct buf got = BUF_INIT, want = BUF_INIT;

	for (size_t i = 0; i < blen; i++)
		body[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	test_sender = "";
	make_queue_file(f, "To: x\n", body, blen);
	snprintf(md, sizeof(md), "%s/md/", f->dir);
	assert_int_equal(maildir_deliver(&f->msg, "x@y", md, &r), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(list_dir(sub, name, sizeof(name)), 1);
	snprintf(sub, sizeof(sub), "%s/new/%s", md, name);
	read_file(sub, &got);
	buf_puts(&want, "Return-Path: <>\nDelivered-To: x@y\nTo: x\n\n");
	buf_append(&want, body, blen);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	free(body);
	buf_free(&got);
	buf_free(&want);
}

static void test_maildir_failure_cleans_tmp(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char md[128], sub[192];

	make_queue_file(f, "To: x\n", "body\n", 5);
	close(f->msg.fd);
	f->msg.fd = open(f->qpath, O_WRONLY); /* pread fails: EBADF */
	snprintf(md, sizeof(md), "%s/md/", f->dir);
	assert_int_equal(maildir_deliver(&f->msg, "x@y", md, &r), -1);
	assert_string_equal(r.result, RES_DEFERRED);
	assert_string_equal(r.dsn, "4.3.0");
	assert_non_null(strstr(r.reason, "write maildir file"));
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
}

static void test_maildir_truncated_queue_file(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char md[128], sub[192];

	make_queue_file(f, "To: x\n", "body\n", 5);
	f->msg.body_len += 1000; /* qmgr says more than the file has */
	snprintf(md, sizeof(md), "%s/md/", f->dir);
	assert_int_equal(maildir_deliver(&f->msg, "x@y", md, &r), -1);
	assert_string_equal(r.result, RES_DEFERRED);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	assert_int_equal(list_dir(sub, NULL, 0), 0);
}

/* Checks "From <who> <date>\n" at p and returns what follows it. */
static const char *skip_from_line(const char *p, const char *who)
{
	char want[128];
	const char *nl = strchr(p, '\n');

	snprintf(want, sizeof(want), "From %s ", who);
	assert_memory_equal(p, want, strlen(want));
	assert_non_null(nl);
	/* "Sun Nov 22 09:20:01 2026": 24 characters. */
	assert_int_equal((int)(nl - p - strlen(want)), 24);
	return nl + 1;
}

static void test_mbox_deliver(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	const char *old = "From old@x Sun Nov 22 09:20:01 2026\nSubject: old\n\nold\n\n";
	const char *body = "From the start\nx\nFrom here\n>From quoted\n From not\nFrom";
	char path[128];
	struct buf got = BUF_INIT;
	const char *p;

	make_queue_file(f, "Subject: hi\n", body, strlen(body));
	snprintf(path, sizeof(path), "%s/mail/user", f->dir);
	assert_int_equal(mbox_deliver(&f->msg, "r@example.com", path, &r), 0);
	assert_string_equal(r.result, RES_SENT);
	write_file(path, old);
	assert_int_equal(mbox_deliver(&f->msg, "r@example.com", path, &r), 0);
	assert_string_equal(r.dsn, "2.0.0");
	read_file(path, &got);
	assert_memory_equal(got.data, old, strlen(old));
	p = skip_from_line(got.data + strlen(old), "s@example.org");
	assert_string_equal(p,
	    "Return-Path: <s@example.org>\nDelivered-To: r@example.com\nSubject: hi\n\n"
	    ">From the start\nx\n>From here\n>From quoted\n From not\nFrom\n\n");
	buf_free(&got);
}

static void test_mbox_escape_across_blocks(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	size_t blen = 9 * 128 * 1024;
	char *body = xmalloc(blen);
	char path[128];
	struct buf got = BUF_INIT;
	size_t escaped = 0;
	const char *p;

	memset(body, 'x', blen);
	/* "From " lines cut by the 128 KiB copy blocks after 1..5 bytes. */
	for (size_t k = 1; k <= 8; k++) {
		size_t at = k * 128 * 1024 - ((k - 1) % 5 + 1);

		body[at - 1] = '\n';
		memcpy(body + at, "From ", 5);
	}
	body[blen - 1] = '\n';
	test_sender = "";
	make_queue_file(f, "To: x\n", body, blen);
	snprintf(path, sizeof(path), "%s/mbox", f->dir);
	assert_int_equal(mbox_deliver(&f->msg, "x@y", path, &r), 0);
	read_file(path, &got);
	p = skip_from_line(got.data, "MAILER-DAEMON");
	for (const char *q = p; (q = strstr(q, "\n>From ")) != NULL; q++)
		escaped++;
	assert_int_equal(escaped, 8);
	assert_null(strstr(p, "\nFrom "));
	assert_int_equal(got.len, (size_t)(p - got.data) +
				      strlen("Return-Path: <>\nDelivered-To: x@y\nTo: x\n\n") +
				      blen + 8 + 1);
	free(body);
	buf_free(&got);
}

static void test_mbox_failure_truncates(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	const char *old = "From old@x Sun Nov 22 09:20:01 2026\nold\n\n";
	char path[128];
	struct buf got = BUF_INIT;

	make_queue_file(f, "To: x\n", "body\n", 5);
	close(f->msg.fd);
	f->msg.fd = open(f->qpath, O_WRONLY); /* the From line goes out, then pread fails */
	snprintf(path, sizeof(path), "%s/mbox", f->dir);
	write_file(path, old);
	assert_int_equal(mbox_deliver(&f->msg, "x@y", path, &r), -1);
	assert_string_equal(r.result, RES_DEFERRED);
	assert_string_equal(r.dsn, "4.3.0");
	read_file(path, &got);
	assert_string_equal(buf_cstr(&got), old);
	buf_free(&got);
}

static void test_mbox_not_a_file(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	char path[128];

	make_queue_file(f, "To: x\n", "body\n", 5);
	snprintf(path, sizeof(path), "%s/adir", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mbox_deliver(&f->msg, "x@y", path, &r), -1);
	assert_string_equal(r.result, RES_DEFERRED);
}

static void test_result_errno(void **state)
{
	struct local_result r;

	(void)state;
	local_result_errno(&r, ENOSPC, "write");
	assert_string_equal(r.result, RES_DEFERRED);
	assert_string_equal(r.dsn, "4.3.1");
	assert_string_equal(r.reason, "cannot write: insufficient system storage");
	local_result_errno(&r, EDQUOT, "write");
	assert_string_equal(r.dsn, "4.2.2");
	assert_string_equal(r.reason, "mailbox full");
	local_result_errno(&r, EACCES, "open mailbox");
	assert_string_equal(r.result, RES_DEFERRED);
	assert_string_equal(r.dsn, "4.3.0");
	assert_string_equal(r.reason, "cannot open mailbox: Permission denied");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_safe),
	    cmocka_unit_test_setup_teardown(test_maildir_deliver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_recreate_and_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_uid_at_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_null_sender_big_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_failure_cleans_tmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_truncated_queue_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mbox_deliver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mbox_escape_across_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mbox_failure_truncates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mbox_not_a_file, setup, teardown),
	    cmocka_unit_test(test_result_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
