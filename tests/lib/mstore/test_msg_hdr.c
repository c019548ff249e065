/*
 * test_msg_hdr.c - header fields through the index cache
 * (mstore/msg_hdr.h): the blob form round-trips every field exactly
 * (folds, CRLF, obsolete "Name :", a value ending in CR), damaged blobs
 * are refused, lines come back in the message's order; and through a
 * store: a cached answer needs no message file, while a damaged, stale
 * or missing cache gives the same answer as the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime/header.h"
#include "mstore/msg_hdr.h"
#include "mstore/mstore.h"
#include "util.h"

static const char HDR[] = "Received: from a\r\n\tby b\r\n"
			  "From: Ann <ann@example.org>\n"
			  "Subject : obsolete\n"
			  "X-Odd: ends in CR\r\r\n"
			  "Received: from c\n"
			  "To: bob@example.org,\n carol@example.org\n"
			  "\n"
			  "body: not a header\n";

/* The fields called name of text, as "name\0value\0" pairs. */
static void fields_of(const char *text, size_t len, const char *name, struct buf *out)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	mime_hdr_iter_init(&it, text, len);
	while (mime_hdr_iter_next(&it, &f)) {
		if (name && !mime_hdr_name_is(&f, name))
			continue;
		buf_append(out, f.name, f.name_len);
		buf_putc(out, 0);
		buf_append(out, f.value, f.value_len);
		buf_putc(out, 0);
	}
}

static void round_trip(const char *name)
{
	struct buf blob = BUF_INIT, text = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct msg_hdr_lines l = {0};

	assert_true(msg_hdr_blob_encode(HDR, strlen(HDR), name, &blob));
	assert_true(msg_hdr_blob_decode(blob.data, blob.len, name, &l));
	assert_true(msg_hdr_lines_write(&l, &text));
	fields_of(HDR, strlen(HDR), name, &want);
	fields_of(text.data ? text.data : "", text.len, NULL, &got);
	assert_int_equal(got.len, want.len);
	if (want.len)
		assert_memory_equal(got.data, want.data, want.len);
	msg_hdr_lines_free(&l);
	buf_free(&blob);
	buf_free(&text);
	buf_free(&want);
	buf_free(&got);
}

static void test_blob_round_trip(void **state)
{
	(void)state;
	round_trip("received");
	round_trip("From");
	round_trip("subject");
	round_trip("x-odd");
	round_trip("to");
	round_trip("body"); /* after the empty line: absent */
	round_trip("cc");   /* absent: an empty blob */
}

static void test_blob_order_and_damage(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, text = BUF_INIT;
	struct msg_hdr_lines l = {0};
	uint32_t n1;
	char *bad;

	(void)state;
	assert_true(msg_hdr_blob_encode(HDR, strlen(HDR), "to", &a));
	assert_true(msg_hdr_blob_encode(HDR, strlen(HDR), "received", &b));
	/* two fields put together come back in the message's order */
	assert_true(msg_hdr_blob_decode(a.data, a.len, "to", &l));
	assert_true(msg_hdr_blob_decode(b.data, b.len, "received", &l));
	assert_int_equal(l.n, 3);
	assert_true(msg_hdr_lines_write(&l, &text));
	assert_string_equal(buf_cstr(&text), "Received: from a\r\n\tby b\n"
					     "Received: from c\n"
					     "To: bob@example.org,\n carol@example.org\n");
	/* the same blob twice: ordinals collide, refused */
	assert_true(msg_hdr_blob_decode(a.data, a.len, "to", &l));
	buf_reset(&text);
	assert_false(msg_hdr_lines_write(&l, &text));
	msg_hdr_lines_free(&l);
	/* wrong name, cut short, one byte changed, zero length, ordinals not
	 * ascending: refused, and l is left as it was */
	assert_false(msg_hdr_blob_decode(a.data, a.len, "from", &l));
	memcpy(&n1, b.data + 4, 4);
	for (size_t cut = 1; cut < b.len; cut++) {
		/* only the first record alone is whole */
		assert_int_equal(msg_hdr_blob_decode(b.data, cut, "received", &l), cut == 8 + n1);
		msg_hdr_lines_free(&l);
	}
	bad = xmemdup(b.data, b.len);
	memset(bad + 4, 0, 4);
	assert_false(msg_hdr_blob_decode(bad, b.len, "received", &l));
	memcpy(bad, b.data, b.len);
	memset(bad + 8, ':', 1);
	assert_false(msg_hdr_blob_decode(bad, b.len, "received", &l));
	memcpy(bad, b.data, b.len);
	{
		uint32_t first;

		memcpy(&first, bad, 4);
		memcpy(bad + 8 + n1, &first, 4); /* second ordinal = first */
	}
	assert_false(msg_hdr_blob_decode(bad, b.len, "received", &l));
	assert_int_equal(l.n, 0);
	msg_hdr_lines_free(&l); /* a failed decode keeps its array for the next */
	free(bad);
	buf_free(&a);
	buf_free(&b);
	buf_free(&text);
}

static void test_blob_limit(void **state)
{
	struct buf big = BUF_INIT, blob = BUF_INIT;

	(void)state;
	buf_puts(&big, "Subject: ");
	for (int i = 0; i < MSG_HDR_BLOB_MAX; i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\nFrom: a\n\n");
	assert_false(msg_hdr_blob_encode(big.data, big.len, "subject", &blob));
	assert_int_equal(blob.len, 0);
	assert_true(msg_hdr_blob_encode(big.data, big.len, "from", &blob));
	buf_free(&big);
	buf_free(&blob);
}

/* ---- through a store ---- */

struct fx {
	char dir[64];
	struct mstore *s;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct mstore_opts o;
	struct buf err = BUF_INIT;

	strlcpy(f->dir, "/tmp/test_msg_hdr.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	strlcat(f->dir, "/Maildir", sizeof(f->dir));
	mstore_opts_init(&o);
	o.create = true;
	f->s = mstore_open(f->dir, &o, &err);
	if (f->s == NULL)
		fail_msg("open: %s", buf_cstr(&err));
	buf_free(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	mstore_close(f->s);
	*strrchr(f->dir, '/') = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint32_t save_to(struct mstore *s, const char *folder, const char *text)
{
	struct mstore_save_opts o = {0};
	struct mstore_save *sv;
	uint32_t uid = 0, uidv = 0;

	o.internal_date = 1700000000;
	sv = mstore_save_begin(s, folder, &o);
	assert_non_null(sv);
	assert_int_equal(mstore_save_write(sv, text, strlen(text)), 0);
	assert_int_equal(mstore_save_commit(sv, &uid, &uidv), 0);
	return uid;
}

static uint32_t save(struct mstore *s, const char *text)
{
	return save_to(s, "INBOX", text);
}

static void sync_view(struct mstore_view *v)
{
	struct mstore_sync_cb cb = {0};

	assert_int_equal(mstore_view_sync(v, 0, &cb), 0);
}

static void headers_are(
    struct mstore_view *v, struct mstore_hdrs *h, uint32_t uid, const char *want)
{
	struct buf out = BUF_INIT;

	assert_int_equal(mstore_msg_headers(v, h, uid, &out), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

/* Overwrites the cache file's records (past its 4 KiB header) with junk
 * of the same size, or removes it. */
static void damage_cache(const struct fx *f, bool remove)
{
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/tern.index.cache", f->dir);
	if (remove) {
		assert_int_equal(unlink(path), 0);
		return;
	}
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size > 4096);
	for (off_t at = 4096; at < st.st_size; at++) {
		char c = (char)(at * 7);

		assert_int_equal(pwrite(fd, &c, 1, at), 1);
	}
	close(fd);
}

static const char MSG[] = "Received: from x\n"
			  "Subject: first\n"
			  "From: Ann <ann@example.org>\n"
			  "Subject: second\n"
			  "\n"
			  "From: not a header\n";
static const char WANT[] = "Subject: first\n"
			   "From: Ann <ann@example.org>\n"
			   "Subject: second\n";

static void test_store_cache(void **state)
{
	struct fx *f = *state;
	const char *names[] = {"FROM", "subject", "Subject"};
	struct mstore_view *v;
	struct mstore_hdrs *h;
	uint32_t uid = save(f->s, MSG);
	char path[256], moved[256];
	const void *data;
	size_t len;

	assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
	h = mstore_hdrs_new(names, 3);
	assert_true(mstore_hdrs_same(h, (const char *[]){"subject", "from"}, 2));
	assert_false(mstore_hdrs_same(h, (const char *[]){"subject", "to"}, 2));
	/* first use reads the file and registers the fields */
	headers_are(v, h, uid, WANT);
	sync_view(v);
	assert_true(mstore_cache_get(v, uid, mstore_cache_field(v, "hdr.from", 1), &data, &len));
	assert_true(len > 8);
	/* cached: the message file is not needed any more */
	{
		struct buf b = BUF_INIT;
		int fd = mstore_view_open_msg(v, uid);
		char proc[64];
		ssize_t n;

		assert_true(fd >= 0);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		buf_reserve(&b, 256);
		n = readlink(proc, buf_tail(&b), 255);
		assert_true(n > 0);
		buf_commit(&b, (size_t)n);
		close(fd);
		strlcpy(path, buf_cstr(&b), sizeof(path));
		snprintf(moved, sizeof(moved), "%s/moved-away", f->dir);
		assert_int_equal(rename(path, moved), 0);
		buf_free(&b);
	}
	headers_are(v, h, uid, WANT);
	assert_int_equal(rename(moved, path), 0);
	/* a stale blob under the field (another field's bytes): the file */
	{
		struct buf blob = BUF_INIT;

		assert_true(msg_hdr_blob_encode(MSG, strlen(MSG), "received", &blob));
		assert_int_equal(mstore_cache_put(v, uid, mstore_cache_field(v, "hdr.from", 1),
				     blob.data, blob.len),
		    0);
		buf_free(&blob);
		sync_view(v);
	}
	headers_are(v, h, uid, WANT);
	mstore_view_close(v);
	mstore_hdrs_free(h);
	/* damaged, then missing: the same answers */
	for (int round = 0; round < 2; round++) {
		damage_cache(f, round == 1);
		assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
		h = mstore_hdrs_new(names, 3);
		headers_are(v, h, uid, WANT);
		sync_view(v);
		headers_are(v, h, uid, WANT);
		mstore_view_close(v);
		mstore_hdrs_free(h);
	}
}

static void test_store_names_not_cached(void **state)
{
	struct fx *f = *state;
	uint32_t uid = save(f->s, "A: 1\nThis-Name-Is-Much-Longer-Than-The-Limit-For-It: 2\n\nb\n");
	const char *names[] = {"This-Name-Is-Much-Longer-Than-The-Limit-For-It", "a", ""};
	struct mstore_view *v;
	struct mstore_hdrs *h = mstore_hdrs_new(names, 3);

	assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
	for (int i = 0; i < 2; i++) {
		headers_are(v, h, uid, "A: 1\nThis-Name-Is-Much-Longer-Than-The-Limit-For-It: 2\n");
		sync_view(v);
	}
	/* a header with no empty line and no final line end */
	uid = save(f->s, "From: x\nSubject: y");
	sync_view(v);
	for (int i = 0; i < 2; i++) {
		struct mstore_hdrs *g = mstore_hdrs_new((const char *[]){"subject"}, 1);

		headers_are(v, g, uid, "Subject: y\n");
		mstore_hdrs_free(g);
		sync_view(v);
	}
	assert_int_equal(mstore_msg_headers(v, h, 999, &(struct buf){0}), -1);
	mstore_view_close(v);
	mstore_hdrs_free(h);
}

/* Puts are written once a MiB is queued, without waiting for a sync:
 * another process sees them. */
static void test_store_put_flushes(void **state)
{
	struct fx *f = *state;
	uint32_t uid = save(f->s, "Subject: x\n\nbody\n");
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore *other;
	struct mstore_view *v, *w;
	char *blob = xcalloc(1, 65536);
	const void *data;
	size_t len;
	int field;

	assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
	field = mstore_cache_field(v, "test.big", 1);
	assert_true(field >= 0);
	for (int i = 0; i < 17; i++) {
		blob[0] = (char)('a' + i);
		assert_int_equal(mstore_cache_put(v, uid, field, blob, 65536), 0);
	}
	mstore_opts_init(&o);
	other = mstore_open(f->dir, &o, &err);
	assert_non_null(other);
	assert_int_equal(mstore_view_open(other, "INBOX", MSTORE_VIEW_READONLY, &w), 0);
	assert_true(mstore_cache_get(w, uid, mstore_cache_field(w, "test.big", 1), &data, &len));
	assert_int_equal(len, 65536);
	assert_true(*(const char *)data >= 'a' + 15);
	mstore_view_close(w);
	mstore_close(other);
	mstore_view_close(v);
	buf_free(&err);
	free(blob);
}

/* Moves the file of uid to dir/moved-away (path: where it was). */
static void move_away(
    struct mstore_view *v, uint32_t uid, const char *dir, char *path, char *moved, size_t size)
{
	int fd = mstore_view_open_msg(v, uid);
	char proc[64];
	ssize_t n;

	assert_true(fd >= 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, size - 1);
	assert_true(n > 0);
	path[n] = 0;
	close(fd);
	snprintf(moved, size, "%s/moved-away", dir);
	assert_int_equal(rename(path, moved), 0);
}

/* A message saved into a folder that caches header fields gets them at
 * the save, by this process or another one: its first SEARCH or FETCH of
 * those fields reads no file (moved away to prove it). */
static void test_store_filled_at_save(void **state)
{
	struct fx *f = *state;
	const char *names[] = {"FROM", "subject"};
	struct mstore_hdrs *h = mstore_hdrs_new(names, 2);
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore *other;
	struct mstore_view *v;
	uint32_t uids[3];
	char path[256], moved[256];

	uids[0] = save(f->s, MSG);
	assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
	headers_are(v, h, uids[0], WANT); /* registers hdr.from, hdr.subject */
	sync_view(v);
	uids[1] = save(f->s, MSG);
	mstore_opts_init(&o);
	other = mstore_open(f->dir, &o, &err);
	assert_non_null(other);
	uids[2] = save(other, "Subject: other\nTo: t@example.org\nFrom: b@example.org\n\nx\n");
	mstore_close(other);
	sync_view(v);
	move_away(v, uids[1], f->dir, path, moved, sizeof(path));
	headers_are(v, h, uids[1], WANT);
	assert_int_equal(rename(moved, path), 0);
	move_away(v, uids[2], f->dir, path, moved, sizeof(path));
	headers_are(v, h, uids[2], "Subject: other\nFrom: b@example.org\n");
	/* a field not registered still needs the file */
	{
		struct mstore_hdrs *g = mstore_hdrs_new((const char *[]){"to"}, 1);
		struct buf out = BUF_INIT;

		assert_int_equal(mstore_msg_headers(v, g, uids[2], &out), -1);
		buf_free(&out);
		mstore_hdrs_free(g);
	}
	assert_int_equal(rename(moved, path), 0);
	mstore_view_close(v);
	mstore_hdrs_free(h);
	buf_free(&err);
}

/* A copy (COPY, MOVE, a hard link or copied bytes) into a folder that
 * caches header fields gets them at the copy, as a save does. */
static void test_store_filled_at_copy(void **state)
{
	struct fx *f = *state;
	const char *names[] = {"FROM", "subject"};
	struct mstore_hdrs *h = mstore_hdrs_new(names, 2);
	struct mstore_view *v, *a;
	uint32_t src, first, dst = 0, uidv = 0;
	char path[256], moved[256];

	assert_int_equal(mstore_folder_create(f->s, "Archive", 0), 0);
	first = save_to(f->s, "Archive", MSG);
	assert_int_equal(mstore_view_open(f->s, "Archive", 0, &a), 0);
	headers_are(a, h, first, WANT); /* registers the fields in Archive */
	src = save(f->s, "Subject: copied\nTo: t@example.org\nFrom: c@example.org\n\nx\n");
	assert_int_equal(mstore_view_open(f->s, "INBOX", 0, &v), 0);
	assert_int_equal(mstore_view_copy(v, &src, 1, "Archive", false, &dst, &uidv), 0);
	assert_true(dst > first);
	sync_view(a);
	move_away(a, dst, f->dir, path, moved, sizeof(path));
	headers_are(a, h, dst, "Subject: copied\nFrom: c@example.org\n");
	assert_int_equal(rename(moved, path), 0);
	mstore_view_close(v);
	mstore_view_close(a);
	mstore_hdrs_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blob_round_trip),
	    cmocka_unit_test(test_blob_order_and_damage),
	    cmocka_unit_test(test_blob_limit),
	    cmocka_unit_test_setup_teardown(test_store_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_names_not_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_filled_at_save, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_filled_at_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_put_flushes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
