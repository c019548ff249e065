/*
 * test_store.c - the mailbox store through its API, in a temporary
 * Maildir, with two stores open on it at once standing for two processes
 * (every file is shared; nothing in memory is): saving, views and their
 * stable numbering, syncing new mail, flag changes and expunges made by
 * the other "process", CONDSTORE, QRESYNC's expunged-since, copy and
 * move with UIDs, changes made behind the store's back (as Dovecot or a
 * MUA would), rebuilds, a damaged log, an uncommitted log tail, the
 * cache, folders and subscriptions, quota, the keyword limit, log
 * rotation, stale dot-locks, inotify wake-ups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mstore/mstore.h"
#include "mstore/mstore_int.h"
#include "util.h"

struct fx {
	char dir[64];
	struct mstore *a, *b;
};

/* stale_secs: the dot-locks' stale time (0: Dovecot's 120 s). */
static struct mstore *open_store_stale(const char *dir, bool autocreate, unsigned stale_secs)
{
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore *s;

	mstore_opts_init(&o);
	o.create = true;
	o.autocreate = autocreate;
	o.autosubscribe = autocreate;
	o.lock_stale_secs = stale_secs;
	s = mstore_open(dir, &o, &err);
	if (s == NULL)
		fail_msg("open: %s", buf_cstr(&err));
	buf_free(&err);
	return s;
}

static struct mstore *open_store(const char *dir, bool autocreate)
{
	return open_store_stale(dir, autocreate, 0);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	strlcpy(f->dir, "/tmp/test_store.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	strlcat(f->dir, "/Maildir", sizeof(f->dir));
	f->a = open_store(f->dir, false);
	f->b = open_store(f->dir, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	mstore_close(f->a);
	mstore_close(f->b);
	*strrchr(f->dir, '/') = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint32_t save(
    struct mstore *s, const char *folder, const char *text, unsigned flags, const char *const *kw)
{
	struct mstore_save_opts o = {0};
	struct mstore_save *sv;
	uint32_t uid = 0, uidv = 0;

	o.flags = flags;
	o.keywords = kw;
	o.internal_date = 1700000000;
	sv = mstore_save_begin(s, folder, &o);
	if (sv == NULL)
		fail_msg("save_begin: %s", mstore_strerror(s));
	assert_int_equal(mstore_save_write(sv, text, strlen(text)), 0);
	if (mstore_save_commit(sv, &uid, &uidv) < 0)
		fail_msg("save_commit: %s", mstore_strerror(s));
	assert_true(uidv != 0);
	return uid;
}

/* Sync results gathered by the callbacks. */
struct seen {
	uint32_t exp_seq[64], exp_uid[64];
	size_t nexp;
	uint32_t count, recent;
	int exists_calls;
	uint32_t flag_uid[64];
	size_t nflags;
};

static void cb_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
	struct seen *s = ctx;

	s->exp_seq[s->nexp] = seq;
	s->exp_uid[s->nexp++] = uid;
}

static void cb_exists(void *ctx, uint32_t count, uint32_t recent)
{
	struct seen *s = ctx;

	s->count = count;
	s->recent = recent;
	s->exists_calls++;
}

static void cb_flags(void *ctx, const struct mstore_msg *m)
{
	struct seen *s = ctx;

	s->flag_uid[s->nflags++] = m->uid;
}

static void sync_view(struct mstore_view *v, unsigned flags, struct seen *s)
{
	struct mstore_sync_cb cb = {s, cb_expunge, cb_exists, cb_flags};

	memset(s, 0, sizeof(*s));
	assert_int_equal(mstore_view_sync(v, flags, &cb), 0);
}

static char *path_in(const struct fx *f, const char *sub)
{
	return xasprintf("%s/%s", f->dir, sub);
}

/* The single file name in dir/sub starting with prefix. */
static char *find_file(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			free(found);
			found = xstrdup(de->d_name);
		}
	closedir(d);
	return found;
}

static void test_save_and_view(void **state)
{
	struct fx *f = *state;
	const char *const kw[] = {"$Label1", "Work", NULL};
	struct mstore_view *v;
	struct mstore_msg m;
	uint64_t size, vsize;
	time_t idate, sdate;
	struct buf b = BUF_INIT;
	char text[256];
	ssize_t n;
	int fd;

	assert_int_equal(save(f->a, "INBOX", "Subject: one\n\nbody\n", MSTORE_F_SEEN, kw), 1);
	assert_int_equal(save(f->a, "INBOX", "Subject: two\r\n\r\nbody\r\n", 0, NULL), 2);
	assert_int_equal(save(f->b, "inbox", "Subject: three\n\n", MSTORE_F_FLAGGED, NULL), 3);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_count(v), 3);
	assert_int_equal(mstore_view_recent(v), 3);
	assert_int_equal(mstore_view_uidnext(v), 4);
	assert_int_equal(mstore_view_first_unseen(v), 2);
	assert_int_equal(mstore_view_msg(v, 1, &m), 0);
	assert_int_equal(m.uid, 1);
	assert_int_equal(m.flags, MSTORE_F_SEEN | MSTORE_F_RECENT);
	assert_string_equal(mstore_view_keyword(v, 0), "$Label1");
	assert_string_equal(mstore_view_keyword(v, 1), "Work");
	assert_int_equal(m.keywords, 3);
	assert_int_equal(mstore_view_keyword_index(v, "Work"), 1);
	assert_int_equal(mstore_view_sizes(v, 1, &size, &vsize), 0);
	assert_int_equal(size, 19);
	assert_int_equal(vsize, 22); /* three bare LFs */
	assert_int_equal(mstore_view_sizes(v, 2, &size, &vsize), 0);
	assert_int_equal(size, vsize);
	assert_int_equal(mstore_view_dates(v, 1, &idate, &sdate), 0);
	assert_int_equal(idate, 1700000000);
	assert_true(sdate > 1700000000);
	mstore_view_pop3_uidl(v, 2, &b);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, "00000002", 8);
	buf_reset(&b);
	mstore_view_guid(v, 2, &b);
	assert_non_null(strstr(buf_cstr(&b), ",S=22,W=22"));
	fd = mstore_view_open_msg(v, 3);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text));
	close(fd);
	assert_int_equal(n, 16);
	assert_memory_equal(text, "Subject: three\n\n", 16);
	assert_int_equal(mstore_view_seq(v, 3), 3);
	assert_int_equal(mstore_view_uid(v, 2), 2);
	assert_int_equal(mstore_view_msg_uid(v, 99, &m), -1);
	mstore_view_close(v);
	/* On disk, as Dovecot keeps it. */
	char *ul = path_in(f, "dovecot-uidlist"), *cur = path_in(f, "cur"), *name;

	fd = open(ul, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n] = 0;
	assert_memory_equal(text, "3 V", 3);
	assert_non_null(strstr(text, "\n1 :"));
	assert_non_null(strstr(text, "\n3 :"));
	name = find_file(cur, "");
	assert_non_null(name);
	free(name);
	free(ul);
	free(cur);
	buf_free(&b);
}

static void test_two_processes(void **state)
{
	struct fx *f = *state;
	struct mstore_view *va, *vb;
	struct mstore_store_req req = {0};
	struct mstore_msg m;
	struct seen s;
	uint32_t *failed, one = 1, two = 2, *uids;
	size_t nfailed, n;
	uint64_t before;
	bool exact;

	save(f->a, "INBOX", "Subject: 1\n\n", 0, NULL);
	save(f->a, "INBOX", "Subject: 2\n\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &va), 0);
	assert_int_equal(mstore_view_open(f->b, "INBOX", MSTORE_VIEW_READONLY, &vb), 0);
	/* \Recent went to the first read-write view only */
	assert_int_equal(mstore_view_recent(va), 2);
	assert_int_equal(mstore_view_recent(vb), 0);
	/* b's process delivers; a sees it only when it syncs */
	assert_int_equal(save(f->b, "INBOX", "Subject: 3\n\n", 0, NULL), 3);
	assert_int_equal(mstore_view_count(va), 2);
	assert_true(mstore_view_changed(va));
	sync_view(va, 0, &s);
	assert_int_equal(s.exists_calls, 1);
	assert_int_equal(s.count, 3);
	assert_int_equal(mstore_view_count(va), 3);
	assert_int_equal(mstore_view_msg(va, 3, &m), 0);
	assert_true(m.flags & MSTORE_F_RECENT);
	/* a changes flags; b's view reports them at its sync */
	before = mstore_view_highest_modseq(va);
	req.mode = MSTORE_STORE_ADD;
	req.flags = MSTORE_F_SEEN | MSTORE_F_DELETED;
	assert_int_equal(mstore_view_store(va, &one, 1, &req, &failed, &nfailed), 0);
	assert_int_equal(nfailed, 0);
	assert_int_equal(mstore_view_msg_uid(va, 1, &m), 0);
	assert_int_equal(m.flags & ~MSTORE_F_RECENT, MSTORE_F_SEEN | MSTORE_F_DELETED);
	assert_true(m.modseq > before);
	sync_view(vb, 0, &s);
	assert_int_equal(s.nflags, 1);
	assert_int_equal(s.flag_uid[0], 1);
	assert_int_equal(s.count, 3); /* b saw 2 messages, now 3 */
	/* CONDSTORE: UNCHANGEDSINCE below the message's modseq fails */
	req.mode = MSTORE_STORE_REMOVE;
	req.flags = MSTORE_F_SEEN;
	req.unchangedsince = before;
	assert_int_equal(mstore_view_store(va, &one, 1, &req, &failed, &nfailed), 0);
	assert_int_equal(nfailed, 1);
	assert_int_equal(failed[0], 1);
	free(failed);
	/* b expunges message 2: a keeps the number until it syncs */
	struct mstore_view *vw;

	assert_int_equal(mstore_view_open(f->b, "INBOX", 0, &vw), 0);
	before = mstore_view_highest_modseq(vw);
	assert_int_equal(mstore_view_expunge(vw, &two, 1), 0);
	sync_view(va, MSTORE_SYNC_NO_EXPUNGE, &s);
	assert_int_equal(s.nexp, 0);
	assert_int_equal(mstore_view_count(va), 3);
	assert_int_equal(mstore_view_msg(va, 2, &m), 0);
	assert_int_equal(m.uid, 2);
	assert_true(m.expunged);
	assert_int_equal(mstore_view_msg(va, 3, &m), 0);
	assert_int_equal(m.uid, 3);
	assert_int_equal(mstore_view_open_msg(va, 2), -1);
	assert_int_equal(mstore_error(f->a), MSTORE_EEXPUNGED);
	sync_view(va, 0, &s);
	assert_int_equal(s.nexp, 1);
	assert_int_equal(s.exp_seq[0], 2);
	assert_int_equal(s.exp_uid[0], 2);
	assert_int_equal(mstore_view_count(va), 2);
	assert_int_equal(mstore_view_uid(va, 2), 3);
	/* QRESYNC: what was expunged since */
	assert_int_equal(mstore_view_expunged_since(va, before, &uids, &n, &exact), 0);
	assert_true(exact);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], 2);
	free(uids);
	/* expunge every \Deleted message (uid 1) */
	assert_int_equal(mstore_view_expunge(va, NULL, 0), 0);
	sync_view(va, 0, &s);
	assert_int_equal(s.nexp, 1);
	assert_int_equal(s.exp_uid[0], 1);
	assert_int_equal(mstore_view_count(va), 1);
	mstore_view_close(vw);
	mstore_view_close(va);
	mstore_view_close(vb);
}

static void test_copy_move(void **state)
{
	struct fx *f = *state;
	const char *const kw[] = {"Important", NULL};
	struct mstore_view *v, *d;
	uint32_t uids[2] = {1, 2}, dest[2], uidv;
	struct mstore_msg m;
	struct buf g1 = BUF_INIT, g2 = BUF_INIT;
	struct seen s;

	assert_int_equal(mstore_folder_create(f->a, "Archive", MSTORE_SU_ARCHIVE), 0);
	save(f->a, "INBOX", "Subject: 1\n\nx\n", MSTORE_F_SEEN, kw);
	save(f->a, "INBOX", "Subject: 2\n\ny\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_copy(v, uids, 2, "Archive", false, dest, &uidv), 0);
	assert_int_equal(dest[0], 1);
	assert_int_equal(dest[1], 2);
	assert_int_equal(mstore_view_open(f->b, "Archive", 0, &d), 0);
	assert_int_equal(mstore_view_uidvalidity(d), uidv);
	assert_int_equal(mstore_view_count(d), 2);
	assert_int_equal(mstore_view_msg_uid(d, 1, &m), 0);
	assert_true(m.flags & MSTORE_F_SEEN);
	assert_string_equal(mstore_view_keyword(d, 0), "Important");
	assert_int_equal(m.keywords, 1);
	/* the message GUID travels with the copy */
	mstore_view_guid(v, 1, &g1);
	mstore_view_guid(d, 1, &g2);
	assert_string_equal(buf_cstr(&g1), buf_cstr(&g2));
	/* move: the source loses them at its next sync */
	assert_int_equal(mstore_view_copy(v, uids, 2, "Archive", true, dest, &uidv), 0);
	assert_int_equal(dest[0], 3);
	assert_int_equal(dest[1], 4);
	sync_view(v, 0, &s);
	assert_int_equal(s.nexp, 2);
	assert_int_equal(mstore_view_count(v), 0);
	sync_view(d, 0, &s);
	assert_int_equal(mstore_view_count(d), 4);
	/* to a folder that does not exist */
	assert_int_equal(mstore_view_copy(d, uids, 1, "Nope", false, dest, &uidv), -1);
	assert_int_equal(mstore_error(f->b), MSTORE_ENOTFOUND);
	mstore_view_close(v);
	mstore_view_close(d);
	buf_free(&g1);
	buf_free(&g2);
}

/* Changes another program makes: renames, unlinks, new files. */
static void test_foreign_changes(void **state)
{
	struct fx *f = *state;
	struct mstore_view *v;
	struct mstore_msg m;
	struct seen s;
	char *cur = path_in(f, "cur"), *newd = path_in(f, "new"), *name, *from, *to;
	FILE *fp;

	save(f->a, "INBOX", "Subject: 1\n\n", MSTORE_F_SEEN, NULL);
	save(f->a, "INBOX", "Subject: 2\n\n", MSTORE_F_SEEN, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	/* a MUA marks message 1 \Flagged by renaming it */
	name = find_file(cur, "");
	assert_non_null(name);
	from = xasprintf("%s/%s", cur, name);
	*strchr(name, ':') = 0;
	to = xasprintf("%s/%s:2,FS", cur, name);
	assert_int_equal(rename(from, to), 0);
	/* and delivers a message without any UID */
	free(from);
	from = xasprintf("%s/1600000000.M1P1.other", newd);
	fp = fopen(from, "w");
	fputs("Subject: foreign\n\n", fp);
	fclose(fp);
	sync_view(v, 0, &s);
	assert_int_equal(s.count, 3);
	assert_int_equal(mstore_view_msg(v, 3, &m), 0);
	assert_int_equal(m.uid, 3);
	/* which message was renamed: one of the two has \Flagged now */
	int flagged = 0;

	for (uint32_t seq = 1; seq <= 2; seq++) {
		assert_int_equal(mstore_view_msg(v, seq, &m), 0);
		flagged += !!(m.flags & MSTORE_F_FLAGGED);
	}
	assert_int_equal(flagged, 1);
	assert_int_equal(s.nflags, 1);
	/* the view took \Recent for it and moved it to cur/, as Dovecot
	 * does; then someone deletes its file */
	assert_int_not_equal(access(from, F_OK), 0);
	free(name);
	name = find_file(cur, "1600000000.M1P1.other:2,");
	assert_non_null(name);
	free(from);
	from = xasprintf("%s/%s", cur, name);
	assert_int_equal(unlink(from), 0);
	sync_view(v, 0, &s);
	assert_int_equal(s.nexp, 1);
	assert_int_equal(s.exp_uid[0], 3);
	mstore_view_close(v);
	free(name);
	free(from);
	free(to);
	free(cur);
	free(newd);
}

/* Dovecot gave a new file a UID while the uidlist also lost a record of
 * ours: the rewrite from the index keeps Dovecot's record. */
static void test_uidlist_rewrite_keeps_foreign(void **state)
{
	struct fx *f = *state;
	char *ul = path_in(f, "dovecot-uidlist"), *cur = path_in(f, "cur"), *p, text[4096];
	struct mstore_view *v;
	struct mstore_msg m;
	FILE *fp;
	int fd;
	ssize_t n;

	save(f->a, "INBOX", "Subject: 1\n\n", MSTORE_F_SEEN, NULL);
	save(f->a, "INBOX", "Subject: 2\n\n", MSTORE_F_SEEN, NULL);
	/* the index is loaded (and current) before Dovecot's change */
	assert_int_equal(mstore_view_open(f->b, "INBOX", MSTORE_VIEW_READONLY, &v), 0);
	mstore_view_close(v);
	p = xasprintf("%s/1500000000.M1P1.dove,S=5,W=5:2,S", cur);
	fp = fopen(p, "w");
	fputs("x\n\n\n\n", fp);
	fclose(fp);
	fd = open(ul, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n] = 0;
	/* drop record 1, add Dovecot's 3 */
	char *l1 = strstr(text, "\n1 :"), *l2 = strstr(text, "\n2 :");

	memmove(l1 + 1, l2 + 1, strlen(l2 + 1) + 1);
	fp = fopen(ul, "w");
	fprintf(fp, "%s3 :1500000000.M1P1.dove,S=5,W=5\n", text);
	fclose(fp);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_count(v), 3);
	assert_int_equal(mstore_view_msg(v, 3, &m), 0);
	assert_int_equal(m.uid, 3);
	assert_true(m.flags & MSTORE_F_SEEN);
	mstore_view_close(v);
	fd = open(ul, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n] = 0;
	assert_non_null(strstr(text, "\n1 :"));
	assert_non_null(strstr(text, "\n2 :"));
	assert_non_null(strstr(text, "\n3 :1500000000.M1P1.dove"));
	free(p);
	free(ul);
	free(cur);
}

/* Dovecot gave UID 2 to a file that is gone again: 2 is never reused. */
static void test_uid_never_reused(void **state)
{
	struct fx *f = *state;
	char *ul = path_in(f, "dovecot-uidlist");
	struct mstore_view *v;
	FILE *fp;

	assert_int_equal(save(f->a, "INBOX", "Subject: 1\n\n", 0, NULL), 1);
	fp = fopen(ul, "a");
	fputs("2 :1500000000.M9P9.gone\n", fp);
	fclose(fp);
	assert_int_equal(mstore_view_open(f->b, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_count(v), 1);
	assert_int_equal(mstore_view_uidnext(v), 3);
	mstore_view_close(v);
	assert_int_equal(save(f->a, "INBOX", "Subject: 3\n\n", 0, NULL), 3);
	free(ul);
}

static void cb_changed(void *ctx, struct mstore_view *v)
{
	struct mstore_view **got = ctx;

	*got = v;
}

/* A save by another process wakes a watching view (IDLE). */
static void test_notify(void **state)
{
	struct fx *f = *state;
	struct mstore_view *v, *got = NULL;
	struct pollfd p;
	struct seen s;
	int fd;

	save(f->a, "INBOX", "Subject: 1\n\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	fd = mstore_notify_fd(f->a);
	assert_true(fd >= 0);
	assert_int_equal(mstore_notify_add(v), 0);
	p.fd = fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 0); /* nothing yet */
	save(f->b, "INBOX", "Subject: 2\n\n", 0, NULL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	mstore_notify_read(f->a, cb_changed, &got);
	assert_ptr_equal(got, v);
	assert_true(mstore_view_changed(v));
	sync_view(v, 0, &s);
	assert_int_equal(s.count, 2);
	mstore_view_close(v);
}

/* The stores of one process share one inotify instance (one fd): each
 * store hears its own views' folders, whichever reads the events, and a
 * watch two stores share outlives the first one's view. */
static void test_notify_shared(void **state)
{
	struct fx *f = *state;
	struct mstore *c = open_store(f->dir, false);
	struct mstore_view *va, *vb, *got;
	struct pollfd p = {.events = POLLIN};

	save(c, "INBOX", "Subject: 1\n\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &va), 0);
	assert_int_equal(mstore_view_open(f->b, "INBOX", 0, &vb), 0);
	assert_int_equal(mstore_notify_add(va), 0);
	assert_int_equal(mstore_notify_add(vb), 0);
	p.fd = mstore_notify_fd(f->a);
	assert_true(p.fd >= 0);
	assert_int_equal(mstore_notify_fd(f->b), p.fd);
	save(c, "INBOX", "Subject: 2\n\n", 0, NULL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	got = NULL;
	mstore_notify_read(f->b, cb_changed, &got); /* reads the events */
	assert_ptr_equal(got, vb);
	got = NULL;
	mstore_notify_read(f->a, cb_changed, &got); /* reads none: noted */
	assert_ptr_equal(got, va);
	got = NULL;
	mstore_notify_read(f->a, cb_changed, &got); /* reported once */
	assert_null(got);
	assert_int_equal(poll(&p, 1, 0), 0);
	/* a's view goes: b's watch of the same folder stays */
	mstore_view_close(va);
	save(c, "INBOX", "Subject: 3\n\n", 0, NULL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	got = NULL;
	mstore_notify_read(f->a, cb_changed, &got);
	assert_null(got);
	mstore_notify_read(f->b, cb_changed, &got);
	assert_ptr_equal(got, vb);
	mstore_view_close(vb);
	mstore_close(c);
}

static void remove_index(const struct fx *f)
{
	static const char *const files[] = {"tern.index", "tern.index.log", "tern.index.cache"};

	for (size_t i = 0; i < 3; i++) {
		char *p = path_in(f, files[i]);

		unlink(p);
		free(p);
	}
}

static void test_rebuild_and_damage(void **state)
{
	struct fx *f = *state;
	struct mstore_status st1, st2;
	struct mstore_view *v;
	struct mstore_msg m;
	char *log = path_in(f, "tern.index.log");
	int fd;

	for (int i = 0; i < 5; i++)
		save(f->a, "INBOX", "Subject: x\n\n", i % 2 ? MSTORE_F_SEEN : 0, NULL);
	assert_int_equal(mstore_status(f->a, "INBOX", &st1, true), 0);
	assert_int_equal(st1.messages, 5);
	assert_int_equal(st1.unseen, 3);
	/* the index files removed: rebuilt with the same UIDs, modseqs above */
	mstore_close(f->a);
	mstore_close(f->b);
	remove_index(f);
	f->a = open_store(f->dir, false);
	f->b = open_store(f->dir, false);
	assert_int_equal(mstore_status(f->a, "INBOX", &st2, true), 0);
	assert_int_equal(st2.messages, 5);
	assert_int_equal(st2.uidvalidity, st1.uidvalidity);
	assert_int_equal(st2.uidnext, st1.uidnext);
	assert_int_equal(st2.unseen, 3);
	assert_true(st2.highest_modseq > st1.highest_modseq);
	/* a damaged log: garbage over its header */
	fd = open(log, O_WRONLY);
	assert_int_equal(pwrite(fd, "garbage!", 8, 0), 8);
	close(fd);
	mstore_close(f->a);
	f->a = open_store(f->dir, false);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_count(v), 5);
	assert_int_equal(mstore_view_msg(v, 5, &m), 0);
	assert_int_equal(m.uid, 5);
	assert_true(m.modseq > st2.highest_modseq);
	/* an uncommitted tail (a writer killed after its write, before its
	 * commit) is never read and is dropped by the next writer */
	fd = open(log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "half a record", 13), 13);
	close(fd);
	assert_int_equal(save(f->b, "INBOX", "Subject: after\n\n", 0, NULL), 6);
	struct seen s;

	sync_view(v, 0, &s);
	assert_int_equal(mstore_view_count(v), 6);
	mstore_view_close(v);
	/* tern mailbox rebuild */
	assert_int_equal(mstore_folder_rebuild(f->b, "INBOX"), 0);
	assert_int_equal(mstore_status(f->b, "INBOX", &st2, false), 0);
	assert_int_equal(st2.messages, 6);
	assert_int_equal(st2.uidnext, 7);
	free(log);
}

/* A rebuild writes its records to the snapshot only (the log stays
 * empty); a view opened before it reloads from that snapshot with the
 * same UIDs and follows the changes after it; a base in both cur/ and
 * new/ is one message (cur/'s). */
static void test_rebuild_unlogged(void **state)
{
	struct fx *f = *state;
	struct mstore_view *vb, *vc;
	struct mstore_msg m;
	struct mstore *c;
	struct seen s;
	struct stat st;
	uint32_t uids[20], dup_uid, nu;
	char *log = path_in(f, "tern.index.log"), *snap = path_in(f, "tern.index"), *p;
	ino_t snap_ino;
	off_t log_size;
	FILE *fp;

	for (int i = 0; i < 20; i++)
		uids[i] = save(f->a, "INBOX", "Subject: u\n\n", i % 3 ? MSTORE_F_SEEN : 0, NULL);
	/* a message another program put there, in both directories */
	p = path_in(f, "cur/1690000000.M1P1.other:2,S");
	assert_non_null(fp = fopen(p, "w"));
	fputs("Subject: twice\n\n", fp);
	fclose(fp);
	free(p);
	p = path_in(f, "new/1690000000.M1P1.other");
	assert_non_null(fp = fopen(p, "w"));
	fputs("Subject: twice\n\n", fp);
	fclose(fp);
	free(p);
	assert_int_equal(mstore_view_open(f->b, "INBOX", 0, &vb), 0);
	assert_int_equal(mstore_view_count(vb), 21);
	assert_int_equal(mstore_view_msg(vb, 21, &m), 0);
	dup_uid = m.uid;
	assert_true(m.flags & MSTORE_F_SEEN);

	assert_int_equal(mstore_folder_rebuild(f->a, "INBOX"), 0);
	assert_int_equal(stat(log, &st), 0);
	assert_int_equal(st.st_size, IX_LOG_HDR_SIZE);
	assert_int_equal(stat(snap, &st), 0);
	snap_ino = st.st_ino;

	sync_view(vb, 0, &s);
	assert_int_equal(s.nexp, 0);
	assert_int_equal(mstore_view_count(vb), 21);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(mstore_view_msg_uid(vb, uids[i], &m), 0);
		assert_int_equal(!!(m.flags & MSTORE_F_SEEN), !!(i % 3));
	}
	assert_int_equal(mstore_view_msg_uid(vb, dup_uid, &m), 0);
	nu = save(f->a, "INBOX", "Subject: after\n\n", 0, NULL);
	assert_true(nu > dup_uid);
	sync_view(vb, 0, &s);
	assert_int_equal(mstore_view_count(vb), 22);
	mstore_view_close(vb);

	/* a fresh reader: the snapshot and the log's one record */
	assert_int_equal(stat(log, &st), 0);
	log_size = st.st_size;
	c = open_store(f->dir, false);
	assert_int_equal(mstore_view_open(c, "INBOX", MSTORE_VIEW_READONLY, &vc), 0);
	assert_int_equal(mstore_view_count(vc), 22);
	assert_int_equal(mstore_view_msg_uid(vc, dup_uid, &m), 0);
	assert_true(m.flags & MSTORE_F_SEEN);
	assert_int_equal(mstore_view_msg_uid(vc, nu, &m), 0);
	assert_int_equal(mstore_view_msg_uid(vc, uids[0], &m), 0);
	mstore_view_close(vc);
	mstore_close(c);
	/* the snapshot the rebuild wrote (from the state's own arrays) was
	 * valid: read as it is, nothing rescanned or rebuilt again */
	assert_int_equal(stat(snap, &st), 0);
	assert_int_equal(st.st_ino, snap_ino);
	assert_int_equal(stat(log, &st), 0);
	assert_int_equal(st.st_size, log_size);
	free(log);
	free(snap);
}

static void test_cache(void **state)
{
	struct fx *f = *state;
	struct mstore_view *va, *vb;
	const void *data;
	size_t len;
	struct seen s;
	int fa, fb;

	save(f->a, "INBOX", "Subject: 1\n\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &va), 0);
	fa = mstore_cache_field(va, "envelope", 1);
	assert_true(fa >= 0);
	assert_false(mstore_cache_get(va, 1, fa, &data, &len));
	assert_int_equal(mstore_cache_put(va, 1, fa, "(\"env\")", 7), 0);
	assert_int_equal(
	    mstore_cache_put(va, 1, mstore_cache_field(va, "bodystructure", 2), "bs", 2), 0);
	sync_view(va, 0, &s); /* writes the queued blobs */
	assert_true(mstore_cache_get(va, 1, fa, &data, &len));
	assert_int_equal(len, 7);
	assert_memory_equal(data, "(\"env\")", 7);
	/* the other process finds them */
	assert_int_equal(mstore_view_open(f->b, "INBOX", MSTORE_VIEW_READONLY, &vb), 0);
	fb = mstore_cache_field(vb, "envelope", 1);
	assert_int_equal(fb, fa);
	assert_true(mstore_cache_get(vb, 1, fb, &data, &len));
	assert_memory_equal(data, "(\"env\")", 7);
	assert_true(
	    mstore_cache_get(vb, 1, mstore_cache_field(vb, "bodystructure", 2), &data, &len));
	assert_int_equal(len, 2);
	/* thread ids the same way */
	assert_int_equal(mstore_view_thread(vb, 1), 0);
	assert_int_equal(mstore_view_set_thread(va, 1, 77), 0);
	sync_view(va, 0, &s);
	sync_view(vb, 0, &s);
	assert_int_equal(mstore_view_thread(vb, 1), 77);
	mstore_view_close(va);
	mstore_view_close(vb);
}

static bool listed(struct mstore *s, const char *name, unsigned want_flags, unsigned su)
{
	struct mstore_folder_info *v;
	size_t n;
	bool ok = false;

	assert_int_equal(mstore_list(s, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			ok = (v[i].flags & want_flags) == want_flags &&
			     (!su || v[i].special_use == su);
	mstore_list_free(v, n);
	return ok;
}

static void test_folders(void **state)
{
	struct fx *f = *state;
	struct mstore *s;
	struct stat st;
	char *p;

	/* autocreate: the five special-use folders, subscribed */
	s = open_store(f->dir, true);
	assert_true(listed(s, "Sent", MSTORE_LF_SUBSCRIBED, MSTORE_SU_SENT));
	assert_true(listed(s, "Junk", MSTORE_LF_SUBSCRIBED, MSTORE_SU_JUNK));
	assert_true(listed(s, "INBOX", MSTORE_LF_NOCHILDREN, 0));
	/* on disk as Dovecot's: .Name, maildirfolder, modified UTF-7 */
	assert_int_equal(mstore_folder_create(s, "Caf\303\251.Sub", 0), 0);
	p = path_in(f, ".Caf&AOk-.Sub/maildirfolder");
	assert_int_equal(stat(p, &st), 0);
	free(p);
	p = path_in(f, ".Caf&AOk-.Sub/dovecot-uidlist");
	assert_int_equal(stat(p, &st), 0);
	free(p);
	assert_true(listed(s, "Caf\303\251", MSTORE_LF_NONEXISTENT | MSTORE_LF_CHILDREN, 0));
	assert_int_equal(mstore_folder_create(s, "Caf\303\251.Sub", 0), -1);
	assert_int_equal(mstore_error(s), MSTORE_EEXISTS);
	assert_int_equal(mstore_folder_create(s, "bad..name", 0), -1);
	assert_int_equal(mstore_error(s), MSTORE_EINVAL);
	assert_int_equal(mstore_folder_create(s, "a/b", 0), -1);
	/* rename moves the children; a view's UIDVALIDITY goes with it */
	assert_int_equal(mstore_folder_create(s, "Proj", 0), 0);
	assert_int_equal(mstore_folder_create(s, "Proj.2025", 0), 0);
	save(s, "Proj.2025", "Subject: p\n\n", 0, NULL);
	struct mstore_status before, after;

	assert_int_equal(mstore_status(s, "Proj.2025", &before, false), 0);
	assert_int_equal(mstore_folder_rename(s, "Proj", "Work"), 0);
	assert_true(listed(s, "Work.2025", 0, 0));
	assert_false(listed(s, "Proj.2025", 0, 0));
	assert_int_equal(mstore_status(s, "Work.2025", &after, false), 0);
	assert_int_equal(after.uidvalidity, before.uidvalidity);
	assert_int_equal(after.messages, 1);
	assert_int_equal(mstore_folder_rename(s, "Work", "Work.Sub"), -1);
	assert_int_equal(mstore_folder_rename(s, "INBOX", "X"), -1);
	/* subscriptions */
	assert_int_equal(mstore_subscribe(s, "Work.2025", true), 0);
	assert_true(listed(s, "Work.2025", MSTORE_LF_SUBSCRIBED, 0));
	assert_int_equal(mstore_subscribe(s, "Work.2025", false), 0);
	assert_false(listed(s, "Work.2025", MSTORE_LF_SUBSCRIBED, 0));
	assert_int_equal(mstore_subscribe(s, "Gone", true), 0);
	assert_true(listed(s, "Gone", MSTORE_LF_SUBSCRIBED | MSTORE_LF_NONEXISTENT, 0));
	/* delete: not INBOX; the children stay */
	assert_int_equal(mstore_folder_delete(s, "Work"), 0);
	assert_true(listed(s, "Work.2025", 0, 0));
	assert_int_equal(mstore_folder_delete(s, "Work"), -1);
	assert_int_equal(mstore_error(s), MSTORE_ENOTFOUND);
	assert_int_equal(mstore_folder_delete(s, "INBOX"), -1);
	char *sent = mstore_special_folder(s, MSTORE_SU_SENT);

	assert_string_equal(sent, "Sent");
	free(sent);
	mstore_close(s);
}

/* Message files in a sub-folder of the fixture's Maildir. */
static int count_files(const struct fx *f, const char *sub)
{
	char *p = path_in(f, sub);
	DIR *d = opendir(p);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	free(p);
	return n;
}

/* mstore_save_commit_all: all or none (MULTIAPPEND). */
static void test_commit_all(void **state)
{
	struct fx *f = *state;
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore_save_opts so = {0};
	struct mstore_save *sv[3];
	struct mstore_quota q;
	struct mstore *s;
	uint32_t uids[3] = {0, 0, 0}, uidv = 0;

	mstore_opts_init(&o);
	o.quota_bytes = 100;
	s = mstore_open(f->dir, &o, &err);
	assert_non_null(s);
	so.check_quota = true;
	/* 3 x 40 bytes: each fits, together they do not. */
	for (int i = 0; i < 3; i++) {
		sv[i] = mstore_save_begin(s, "INBOX", &so);
		assert_non_null(sv[i]);
		for (int k = 0; k < 4; k++)
			assert_int_equal(mstore_save_write(sv[i], "0123456789", 10), 0);
	}
	assert_int_equal(mstore_save_commit_all(sv, 3, uids, &uidv), -1);
	assert_int_equal(mstore_error(s), MSTORE_EQUOTA);
	assert_int_equal(uids[0], 0);
	assert_int_equal(mstore_quota_get(s, &q), 0);
	assert_int_equal(q.messages, 0);
	/* Two fit: consecutive UIDs, flags for one of them. */
	for (int i = 0; i < 2; i++) {
		so.flags = i ? MSTORE_F_SEEN : 0;
		sv[i] = mstore_save_begin(s, "INBOX", &so);
		assert_int_equal(mstore_save_write(sv[i], "Subject: x\n\nbody\n", 17), 0);
	}
	assert_int_equal(mstore_save_commit_all(sv, 2, uids, &uidv), 0);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 2);
	assert_true(uidv != 0);
	assert_int_equal(mstore_quota_get(s, &q), 0);
	assert_int_equal(q.messages, 2);
	assert_int_equal(count_files(f, "new") + count_files(f, "cur"), 2);
	mstore_close(s);
	buf_free(&err);
}

/* No limit and no maildirsize: asking for the quota reads nothing (a
 * delivery asks every time), asking for the usage sums the folders. */
static void test_quota_unkept(void **state)
{
	struct fx *f = *state;
	struct mstore_quota q;
	char *msize = path_in(f, "maildirsize");

	save(f->a, "INBOX", "Subject: one\n\n", 0, NULL);
	save(f->a, "INBOX", "Subject: two\n\n", 0, NULL);
	assert_int_equal(mstore_quota_get(f->a, &q), 0);
	assert_int_equal(q.messages, 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.limit_bytes, 0);
	assert_int_equal(mstore_quota_usage(f->a, &q), 0);
	assert_int_equal(q.messages, 2);
	assert_int_equal(q.bytes, 28);
	assert_int_equal(q.limit_bytes, 0);
	assert_int_not_equal(access(msize, F_OK), 0);
	free(msize);
}

static void test_quota_and_limits(void **state)
{
	struct fx *f = *state;
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore_save_opts so = {0};
	struct mstore_save *sv;
	struct mstore_quota q;
	struct mstore *s;
	struct mstore_view *v;
	struct mstore_store_req req = {0};
	uint32_t uid = 1, *failed;
	size_t nf;
	char *names[30], *msize = path_in(f, "maildirsize");
	struct stat st;

	mstore_opts_init(&o);
	o.quota_bytes = 100;
	s = mstore_open(f->dir, &o, &err);
	assert_non_null(s);
	save(s, "INBOX", "Subject: fits\n\n", 0, NULL);
	assert_int_equal(stat(msize, &st), 0); /* made because a limit is set */
	so.check_quota = true;
	sv = mstore_save_begin(s, "INBOX", &so);
	for (int i = 0; i < 20; i++)
		mstore_save_write(sv, "0123456789", 10);
	assert_int_equal(mstore_save_commit(sv, NULL, NULL), -1);
	assert_int_equal(mstore_error(s), MSTORE_EQUOTA);
	assert_int_equal(mstore_quota_get(s, &q), 0);
	assert_int_equal(q.limit_bytes, 100);
	assert_int_equal(q.messages, 1);
	assert_int_equal(q.bytes, 15);
	/* 26 keywords a folder, no more */
	assert_int_equal(mstore_view_open(s, "INBOX", 0, &v), 0);
	for (int i = 0; i < 26; i++)
		names[i] = xasprintf("kw%d", i);
	names[26] = NULL;
	req.mode = MSTORE_STORE_ADD;
	req.keywords = (const char *const *)names;
	assert_int_equal(mstore_view_store(v, &uid, 1, &req, &failed, &nf), 0);
	free(failed);
	names[26] = xstrdup("one_too_many");
	req.keywords = (const char *const *)names + 26;
	names[27] = NULL;
	assert_int_equal(mstore_view_store(v, &uid, 1, &req, &failed, &nf), -1);
	assert_int_equal(mstore_error(s), MSTORE_ELIMIT);
	for (int i = 0; i < 27; i++)
		free(names[i]);
	mstore_view_close(v);
	mstore_close(s);
	free(msize);
	buf_free(&err);
}

/* Many flag changes: the log rotates; a view of the other process keeps
 * following, and a fresh open uses the new snapshot. */
static void test_rotation(void **state)
{
	struct fx *f = *state;
	struct mstore_view *va, *vb;
	struct mstore_store_req req = {0};
	uint32_t uids[50], *failed;
	size_t nf;
	struct seen s;
	struct stat st;
	char *snap = path_in(f, "tern.index");

	for (int i = 0; i < 50; i++)
		uids[i] = save(f->a, "INBOX", "Subject: r\n\n", 0, NULL);
	assert_int_equal(mstore_view_open(f->a, "INBOX", 0, &va), 0);
	assert_int_equal(mstore_view_open(f->b, "INBOX", MSTORE_VIEW_READONLY, &vb), 0);
	for (int round = 0; round < 800; round++) {
		req.mode = round % 2 ? MSTORE_STORE_REMOVE : MSTORE_STORE_ADD;
		req.flags = MSTORE_F_FLAGGED;
		assert_int_equal(mstore_view_store(va, uids, 50, &req, &failed, &nf), 0);
		free(failed);
		if (round % 100 == 0)
			sync_view(vb, 0, &s);
	}
	sync_view(vb, 0, &s);
	assert_int_equal(mstore_view_count(vb), 50);
	assert_int_equal(mstore_view_highest_modseq(vb), mstore_view_highest_modseq(va));
	assert_int_equal(stat(snap, &st), 0);
	mstore_view_close(va);
	mstore_view_close(vb);
	mstore_close(f->b);
	f->b = open_store(f->dir, false);
	assert_int_equal(mstore_view_open(f->b, "INBOX", 0, &vb), 0);
	assert_int_equal(mstore_view_count(vb), 50);
	/* b uses the snapshot in place: its changes to the records stay its
	 * own until committed, a new message makes it copy them, an
	 * expunge compacts them; a third reader sees all of it. */
	{
		struct mstore_msg m;
		struct mstore *c;
		struct mstore_view *vc;
		uint32_t nu;

		req.mode = MSTORE_STORE_ADD;
		req.flags = MSTORE_F_SEEN;
		assert_int_equal(mstore_view_store(vb, uids + 10, 5, &req, &failed, &nf), 0);
		free(failed);
		assert_int_equal(mstore_view_expunge(vb, uids + 20, 1), 0);
		nu = save(f->a, "INBOX", "Subject: after\n\n", 0, NULL);
		sync_view(vb, 0, &s);
		assert_int_equal(mstore_view_count(vb), 50);
		assert_int_equal(mstore_view_msg_uid(vb, nu, &m), 0);
		assert_int_equal(mstore_view_msg_uid(vb, uids[12], &m), 0);
		assert_true(m.flags & MSTORE_F_SEEN);
		assert_int_equal(mstore_view_msg_uid(vb, uids[9], &m), 0);
		assert_false(m.flags & MSTORE_F_SEEN);
		c = open_store(f->dir, false);
		assert_int_equal(mstore_view_open(c, "INBOX", MSTORE_VIEW_READONLY, &vc), 0);
		assert_int_equal(mstore_view_count(vc), 50);
		assert_int_equal(mstore_view_msg_uid(vc, uids[14], &m), 0);
		assert_true(m.flags & MSTORE_F_SEEN);
		assert_int_equal(mstore_view_msg_uid(vc, uids[20], &m), -1);
		assert_int_equal(mstore_view_msg_uid(vc, nu, &m), 0);
		mstore_view_close(vc);
		mstore_close(c);
	}
	mstore_view_close(vb);
	free(snap);
}

/* A dot-lock left by a dead process, and one that is merely old. */
static void test_stale_locks(void **state)
{
	struct fx *f = *state;
	char *lock = path_in(f, "dovecot-uidlist.lock"), host[256] = "localhost";
	struct timespec old[2] = {{time(NULL) - 500, 0}, {time(NULL) - 500, 0}};
	char *ul = path_in(f, "dovecot-uidlist");
	/* A store judging locks stale after 2 s, not Dovecot's 120 s. */
	struct mstore *quick = open_store_stale(f->dir, false, 2);
	FILE *fp;

	assert_int_equal(ms_lock_stale(f->a), MDLOCK_UIDLIST_STALE);
	assert_int_equal(ms_lock_stale(quick), 2);
	save(f->a, "INBOX", "Subject: first\n\n", 0, NULL);
	gethostname(host, sizeof(host) - 1);
	/* a pid that cannot exist on this host */
	fp = fopen(lock, "w");
	fprintf(fp, "%d:%s", 0x3ffffff0, host);
	fclose(fp);
	assert_int_equal(save(f->b, "INBOX", "Subject: dead\n\n", 0, NULL), 2);
	assert_int_not_equal(access(lock, F_OK), 0);
	/* a live pid on another host: stale only by age, with the uidlist
	 * unchanged as long (the lock's ctime is now: it ages for 2 s) */
	fp = fopen(lock, "w");
	fprintf(fp, "1:elsewhere.example");
	fclose(fp);
	assert_int_equal(utimensat(AT_FDCWD, lock, old, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, ul, old, 0), 0);
	assert_int_equal(save(quick, "INBOX", "Subject: old\n\n", 0, NULL), 3);
	assert_int_not_equal(access(lock, F_OK), 0);
	mstore_close(quick);
	free(lock);
	free(ul);
}

/* dovecot-keywords and subscriptions are rewritten under their dot-locks
 * without the lock ever holding anything but its owner: a keywords lock
 * of a dead process is overridden at once (keywords never wait), and no
 * write leaves a file behind. */
static void test_keyword_lock(void **state)
{
	struct fx *f = *state;
	char *lock = path_in(f, "dovecot-keywords.lock"), host[256] = "localhost";
	const char *kw1[] = {"$Work", NULL}, *kw2[] = {"$Home", NULL};
	char *kf = path_in(f, "dovecot-keywords"), cmd[600];
	FILE *fp;
	char text[200];
	size_t n;

	gethostname(host, sizeof(host) - 1);
	assert_int_equal(save(f->a, "INBOX", "Subject: a\n\n", 0, kw1), 1);
	fp = fopen(lock, "w");
	fprintf(fp, "%d:%s", 0x3ffffff0, host);
	fclose(fp);
	assert_int_equal(save(f->b, "INBOX", "Subject: b\n\n", 0, kw2), 2);
	assert_int_not_equal(access(lock, F_OK), 0);
	fp = fopen(kf, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = 0;
	assert_non_null(strstr(text, "0 $Work\n"));
	assert_non_null(strstr(text, "1 $Home\n"));
	assert_int_equal(mstore_subscribe(f->a, "INBOX", true), 0);
	/* only Maildir's own names are left: no lock, no .new, no template
	 * (the folder's own template in tmp/ lives as long as the folder) */
	snprintf(
	    cmd, sizeof(cmd), "ls -A '%s' | grep -E '^(dovecot|subscr).*lock|tern-lock'", f->dir);
	assert_int_not_equal(system(cmd), 0);
	free(lock);
	free(kf);
}

/* A replacement that cannot be written says why, keeps the old file and
 * releases the lock. */
static void test_lock_replace_failure(void **state)
{
	struct fx *f = *state;
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	char *sub = path_in(f, "subscriptions"), *newp = path_in(f, "subscriptions.lock.new");
	char *lock = path_in(f, "subscriptions.lock"), text[64];
	struct mdlock l;
	FILE *fp;
	size_t n;

	assert_true(dfd >= 0);
	fp = fopen(sub, "w");
	fputs("old\n", fp);
	fclose(fp);
	assert_int_equal(mkdir(newp, 0700), 0); /* where the new bytes would go */
	assert_int_equal(mdlock_take(&l, dfd, "subscriptions", 30, 0), 0);
	errno = 0;
	assert_int_equal(mdlock_replace(&l, dfd, "new\n", 4, 0600, 0), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_not_equal(access(lock, F_OK), 0);
	fp = fopen(sub, "r");
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = 0;
	assert_string_equal(text, "old\n");
	/* and one that can: the file replaced, nothing else left */
	assert_int_equal(rmdir(newp), 0);
	assert_int_equal(mdlock_take(&l, dfd, "subscriptions", 30, 0), 0);
	assert_int_equal(mdlock_replace(&l, dfd, "new\n", 4, 0600, 0), 0);
	fp = fopen(sub, "r");
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = 0;
	assert_string_equal(text, "new\n");
	assert_int_not_equal(access(newp, F_OK), 0);
	assert_int_not_equal(access(lock, F_OK), 0);
	close(dfd);
	free(sub);
	free(newp);
	free(lock);
}

/* A delivery cleans tmp/ of files older than 36 hours (a killed writer's),
 * at most every 8 hours (tmp/'s atime), and keeps younger ones. */
static void test_delivery_cleans_tmp(void **state)
{
	struct fx *f = *state;
	char *stale = path_in(f, "tmp/1.M1P1.killed"), *young = path_in(f, "tmp/2.M2P2.writing");
	char *tmp = path_in(f, "tmp");
	time_t now = time(NULL);
	struct timespec t40h[2] = {{now - 40 * 3600, 0}, {now - 40 * 3600, 0}};
	struct timespec t9h[2] = {{now - 9 * 3600, 0}, {UTIME_OMIT, UTIME_OMIT}};
	struct stat st;
	FILE *fp;

	save(f->a, "INBOX", "Subject: first\n\n", 0, NULL);
	fp = fopen(stale, "w");
	fputs("half a message", fp);
	fclose(fp);
	fp = fopen(young, "w");
	fclose(fp);
	assert_int_equal(utimensat(AT_FDCWD, stale, t40h, 0), 0);
	/* tmp/ scanned recently (its atime): the stale file stays for now. */
	assert_int_equal(
	    utimensat(AT_FDCWD, tmp, (struct timespec[2]){{now, 0}, {UTIME_OMIT, UTIME_OMIT}}, 0),
	    0);
	save(f->b, "INBOX", "Subject: second\n\n", 0, NULL);
	assert_int_equal(access(stale, F_OK), 0);
	/* Last scan 9 hours ago: this delivery removes it, keeps the young one. */
	assert_int_equal(utimensat(AT_FDCWD, tmp, t9h, 0), 0);
	save(f->b, "INBOX", "Subject: third\n\n", 0, NULL);
	assert_int_not_equal(access(stale, F_OK), 0);
	assert_int_equal(access(young, F_OK), 0);
	assert_int_equal(stat(tmp, &st), 0);
	assert_true(st.st_atime >= now);
	free(stale);
	free(young);
	free(tmp);
}

/* A full file system and a full mailbox are different errors: local
 * answers 4.3.1 for the first and 4.2.2 "mailbox full" for the second. */
static void test_full_disk_is_not_quota(void **state)
{
	struct fx *f = *state;

	errno = ENOSPC;
	assert_int_equal(ms_fail_errno(f->a, "write", "tmp/ file"), -1);
	assert_int_equal(mstore_error(f->a), MSTORE_ENOSPACE);
	errno = EDQUOT;
	assert_int_equal(ms_fail_errno(f->a, "write", "tmp/ file"), -1);
	assert_int_equal(mstore_error(f->a), MSTORE_EQUOTA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_save_and_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uidlist_rewrite_keeps_foreign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uid_never_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuild_and_damage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuild_unlogged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quota_unkept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quota_and_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_locks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyword_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_replace_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_cleans_tmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_disk_is_not_quota, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_shared, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
