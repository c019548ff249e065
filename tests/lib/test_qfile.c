/*
 * test_qfile.c - the queue file: writer output byte for byte, a full
 * write/load round trip with a large streamed body, truncation at every
 * length, every single-byte corruption, hand-made malformed files, the
 * writer's error paths, and the status journal (last wins, torn tails,
 * bad records, truncate-before-append).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "ipc.h"
#include "qfile.h"
#include "util.h"

#define BIG_BODY 200003
#define LONG_REASON                                                                                \
	"a reason long enough to leave a torn tail longer than the next record, "                  \
	"so that an append that forgot to truncate would leave stale bytes behind "                \
	"and the journal would no longer end at the end of the file............"
#define ARRIVAL 1700000000123456LL
#define HEADER "From: alice\nTo: bob\nSubject: \xe9t\xe9"
#define HEADER_LEN (sizeof(HEADER) - 1)

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static int tmp_fd(void)
{
	char path[] = "/tmp/test_qfile.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static void slurp(int fd, struct buf *out)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	buf_reset(out);
	buf_reserve(out, (size_t)st.st_size);
	assert_int_equal(pread(fd, out->data, (size_t)st.st_size, 0), st.st_size);
	buf_commit(out, (size_t)st.st_size);
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* An independent builder: raw records, checksummed with crc32c_sw. */
static void tb_rec(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char hdr[5];

	if (b->len == 0)
		buf_append(b, QF_MAGIC, QF_MAGIC_LEN);
	hdr[0] = (unsigned char)type;
	be32(hdr + 1, (uint32_t)len);
	buf_append(b, hdr, 5);
	buf_append(b, data, len);
}

static void tb_str(struct buf *b, int type, const char *s)
{
	tb_rec(b, type, s, strlen(s));
}

static void tb_rcpt(struct buf *b, const char *addr)
{
	struct buf r = BUF_INIT;

	ipc_put_str(&r, "addr", addr);
	ipc_end(&r);
	tb_rec(b, 'R', r.data, r.len);
	buf_free(&r);
}

static void tb_end(struct buf *b)
{
	unsigned char e[9];

	e[0] = 'E';
	be32(e + 1, 4);
	be32(e + 5, crc32c_sw(0, b->data, b->len));
	buf_append(b, e, sizeof(e));
}

/* A minimal valid file, optionally leaving one record type out. */
static void tb_minimal(struct buf *b, int skip)
{
	buf_reset(b);
	if (skip != 'T')
		tb_str(b, 'T', "1700000000000000");
	if (skip != 'S')
		tb_str(b, 'S', "");
	if (skip != 'R')
		tb_rcpt(b, "bob@example.com");
	if (skip != 'H')
		tb_str(b, 'H', "Subject: hi");
	if (skip != 'B')
		tb_str(b, 'B', "hello\n");
	if (b->len == 0)
		buf_append(b, QF_MAGIC, QF_MAGIC_LEN);
	tb_end(b);
}

static enum qf_load_result parse(const struct buf *b)
{
	struct qfile qf;
	enum qf_load_result r = qfile_parse(b->data, b->len, &qf, NULL);

	qfile_free(&qf);
	return r;
}

static void fill_body(unsigned char *body, size_t n)
{
	for (size_t i = 0; i < n; i++)
		body[i] = (unsigned char)((i * 7 + i / 251) & 0xff);
	body[0] = 0;
	body[n - 1] = 0xff;
}

/* The sample message: what the round-trip and truncation tests use. */
static void write_sample(int fd, const unsigned char *body, size_t bodylen)
{
	static const size_t pieces[] = {1, 7, 13, 4093, 70000, 333, 65536, 65537};
	struct qfile_writer w;
	size_t done = 0;

	qfw_init(&w, fd);
	qfw_arrival(&w, ARRIVAL);
	qfw_sender(&w, "alice@example.org");
	qfw_attr(&w, "client_name", "mx.example.net");
	qfw_attr(&w, "client_addr", "192.0.2.1");
	qfw_attr(&w, "helo_name", "");
	qfw_attr(&w, "note", "a=b=c");
	qfw_rcpt(&w, "bob@example.com", "rfc822;Bob@Example.COM", "SUCCESS,FAILURE");
	qfw_rcpt(&w, "carol@example.com", NULL, NULL);
	qfw_rcpt(&w, "dave@example.net", NULL, "NEVER");
	qfw_header(&w, HEADER, HEADER_LEN);
	qfw_body_begin(&w);
	for (size_t i = 0; done < bodylen; i++) {
		size_t n = pieces[i % (sizeof(pieces) / sizeof(pieces[0]))];

		if (n > bodylen - done)
			n = bodylen - done;
		qfw_body_write(&w, body + done, n);
		done += n;
	}
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);
}

static void check_sample(int fd, const struct qfile *qf, const unsigned char *body, size_t bodylen)
{
	struct buf data = BUF_INIT;

	assert_int_equal(qf->arrival_usec, ARRIVAL);
	assert_string_equal(qf->sender, "alice@example.org");
	assert_int_equal(qf->nattr, 4);
	assert_string_equal(qfile_attr(qf, "client_name"), "mx.example.net");
	assert_string_equal(qfile_attr(qf, "client_addr"), "192.0.2.1");
	assert_string_equal(qfile_attr(qf, "helo_name"), "");
	assert_string_equal(qfile_attr(qf, "note"), "a=b=c");
	assert_null(qfile_attr(qf, "protocol"));
	assert_int_equal(qf->nrcpt, 3);
	assert_string_equal(qf->rcpts[0].addr, "bob@example.com");
	assert_string_equal(qf->rcpts[0].orcpt, "rfc822;Bob@Example.COM");
	assert_string_equal(qf->rcpts[0].notify, "SUCCESS,FAILURE");
	assert_string_equal(qf->rcpts[1].addr, "carol@example.com");
	assert_null(qf->rcpts[1].orcpt);
	assert_null(qf->rcpts[1].notify);
	assert_null(qf->rcpts[2].orcpt);
	assert_string_equal(qf->rcpts[2].notify, "NEVER");
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(qf->rcpts[i].status, QF_PENDING);
	assert_int_equal(qfile_pending(qf), 3);
	slurp(fd, &data);
	assert_int_equal(qf->file_size, (off_t)data.len);
	assert_int_equal(qf->end_off, (off_t)data.len);
	assert_int_equal(qf->journal_end, qf->end_off);
	assert_int_equal(qf->header_len, HEADER_LEN);
	assert_memory_equal(data.data + qf->header_off, HEADER, HEADER_LEN);
	assert_int_equal(qf->body_len, (off_t)bodylen);
	assert_memory_equal(data.data + qf->body_off, body, bodylen);
	buf_free(&data);
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */

/* The writer's bytes equal those of the independent builder. */
static void test_writer_layout(void **state)
{
	struct qfile_writer w;
	struct buf want = BUF_INIT, got = BUF_INIT, r = BUF_INIT;
	int fd = tmp_fd();

	(void)state;
	qfw_init(&w, fd);
	qfw_arrival(&w, 42);
	qfw_sender(&w, NULL);
	qfw_attr(&w, "protocol", "ESMTP");
	qfw_rcpt(&w, "x@y", "rfc822;x@y", NULL);
	qfw_header(&w, "A: b", 4);
	qfw_body_begin(&w);
	qfw_body_write(&w, "body\n", 5);
	qfw_body_write(&w, "", 0);
	qfw_body_write(&w, "more\0", 5);
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);

	tb_str(&want, 'T', "42");
	tb_str(&want, 'S', "");
	tb_str(&want, 'A', "protocol=ESMTP");
	ipc_put_str(&r, "addr", "x@y");
	ipc_put_str(&r, "orcpt", "rfc822;x@y");
	ipc_end(&r);
	tb_rec(&want, 'R', r.data, r.len);
	tb_str(&want, 'H', "A: b");
	tb_rec(&want, 'B', "body\nmore\0", 10);
	tb_end(&want);
	slurp(fd, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	buf_free(&want);
	buf_free(&got);
	buf_free(&r);
	close(fd);
}

static void test_roundtrip(void **state)
{
	unsigned char *body = xmalloc(BIG_BODY);
	struct qfile qf;
	struct buf err = BUF_INIT;
	int fd = tmp_fd();

	(void)state;
	fill_body(body, BIG_BODY);
	write_sample(fd, body, BIG_BODY);
	assert_int_equal(qfile_load(fd, &qf, &err), QF_LOAD_OK);
	assert_int_equal(err.len, 0);
	check_sample(fd, &qf, body, BIG_BODY);
	qfile_free(&qf);
	qfile_free(&qf); /* safe twice: it zeroes */
	buf_free(&err);
	free(body);
	close(fd);
}

static void test_empty_body(void **state)
{
	struct qfile_writer w;
	struct qfile qf;
	int fd = tmp_fd();

	(void)state;
	qfw_init(&w, fd);
	qfw_arrival(&w, 1);
	qfw_sender(&w, "");
	qfw_rcpt(&w, "a@b", NULL, NULL);
	qfw_header(&w, "", 0);
	qfw_body_begin(&w);
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);
	assert_int_equal(qfile_load(fd, &qf, NULL), QF_LOAD_OK);
	assert_int_equal(qf.body_len, 0);
	assert_int_equal(qf.header_len, 0);
	assert_string_equal(qf.sender, "");
	qfile_free(&qf);
	close(fd);
}

static int finish_with(void (*fn)(struct qfile_writer *), int fd)
{
	struct qfile_writer w;

	qfw_init(&w, fd);
	qfw_arrival(&w, 1);
	fn(&w);
	errno = 0;
	if (qfw_finish(&w) == 0)
		return 0;
	return errno;
}

static void bad_body_write(struct qfile_writer *w)
{
	qfw_body_write(w, "x", 1);
}

static void bad_record_in_body(struct qfile_writer *w)
{
	qfw_body_begin(w);
	qfw_sender(w, "x");
	qfw_body_end(w);
}

static void bad_unfinished_body(struct qfile_writer *w)
{
	qfw_body_begin(w);
}

static void bad_attr_name(struct qfile_writer *w)
{
	qfw_attr(w, "a=b", "c");
}

static void bad_big_sender(struct qfile_writer *w)
{
	char *s = xmalloc(QF_MAX_SMALL_RECORD + 2);

	memset(s, 'a', QF_MAX_SMALL_RECORD + 1);
	s[QF_MAX_SMALL_RECORD + 1] = 0;
	qfw_sender(w, s);
	free(s);
}

static void bad_huge_body(struct qfile_writer *w)
{
	qfw_body_begin(w);
	qfw_body_write(w, "0123456789", 10);
	w->body_len = UINT32_MAX - 5; /* as if 4 GiB had been written */
	qfw_body_write(w, "0123456789", 10);
	qfw_body_end(w);
}

static void bad_type(struct qfile_writer *w)
{
	qfw_record(w, 'J', "x", 1);
}

static void test_writer_errors(void **state)
{
	int fd = tmp_fd(), ro, full;

	(void)state;
	assert_int_equal(finish_with(bad_body_write, fd), EINVAL);
	assert_int_equal(finish_with(bad_record_in_body, fd), EINVAL);
	assert_int_equal(finish_with(bad_unfinished_body, fd), EINVAL);
	assert_int_equal(finish_with(bad_attr_name, fd), EMSGSIZE);
	assert_int_equal(finish_with(bad_big_sender, fd), EMSGSIZE);
	assert_int_equal(finish_with(bad_huge_body, fd), EFBIG);
	assert_int_equal(finish_with(bad_type, fd), EINVAL);
	close(fd);
	ro = open("/dev/null", O_RDONLY);
	assert_true(ro >= 0);
	assert_int_equal(finish_with(bad_attr_name, ro), EMSGSIZE); /* first error kept */
	assert_int_equal(finish_with(bad_unfinished_body, ro), EINVAL);
	close(ro);
	ro = open("/dev/null", O_RDONLY);
	{
		struct qfile_writer w;

		qfw_init(&w, ro);
		qfw_sender(&w, "x");
		assert_int_equal(qfw_finish(&w), -1);
		assert_int_equal(errno, EBADF);
	}
	close(ro);
	full = open("/dev/full", O_WRONLY);
	if (full >= 0) {
		unsigned char *body = xmalloc(BIG_BODY);
		struct qfile_writer w;

		fill_body(body, BIG_BODY);
		qfw_init(&w, full);
		qfw_body_begin(&w);
		qfw_body_write(&w, body, BIG_BODY);
		qfw_body_end(&w);
		assert_int_equal(qfw_finish(&w), -1);
		assert_int_equal(errno, ENOSPC);
		free(body);
		close(full);
	}
}

static void test_writer_abort(void **state)
{
	struct qfile_writer w;
	struct stat st;
	int fd = tmp_fd();

	(void)state;
	qfw_init(&w, fd);
	qfw_sender(&w, "x");
	qfw_abort(&w);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Reader: damaged files                                                */

/* A file cut anywhere before the end of 'E' is INCOMPLETE, never OK. */
static void test_truncation(void **state)
{
	unsigned char *body = xmalloc(BIG_BODY);
	struct buf data = BUF_INIT, err = BUF_INIT;
	struct qfile qf;
	int fd = tmp_fd();

	(void)state;
	fill_body(body, BIG_BODY);
	write_sample(fd, body, BIG_BODY);
	slurp(fd, &data);
	for (size_t len = 0; len < data.len; len++) {
		enum qf_load_result r = qfile_parse(data.data, len, &qf, &err);

		if (r != QF_LOAD_INCOMPLETE)
			fail_msg("length %zu: result %d (%s)", len, r, buf_cstr(&err));
		qfile_free(&qf);
	}
	/* The same through the file, at a sample of lengths. */
	for (size_t len = data.len; len > 0; len = len > 997 ? len - 997 : 0) {
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
		assert_int_equal(
		    qfile_load(fd, &qf, &err), len == data.len ? QF_LOAD_OK : QF_LOAD_INCOMPLETE);
		qfile_free(&qf);
	}
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(qfile_load(fd, &qf, &err), QF_LOAD_INCOMPLETE);
	qfile_free(&qf);
	buf_free(&data);
	buf_free(&err);
	free(body);
	close(fd);
}

/* Any single damaged byte up to the end of 'E' is caught. */
static void test_byte_flips(void **state)
{
	static const unsigned char masks[] = {0x01, 0x02, 0x10, 0x80, 0xff};
	unsigned char body[300];
	struct buf data = BUF_INIT;
	int fd = tmp_fd();

	(void)state;
	fill_body(body, sizeof(body));
	write_sample(fd, body, sizeof(body));
	slurp(fd, &data);
	assert_int_equal(parse(&data), QF_LOAD_OK);
	for (size_t i = 0; i < data.len; i++)
		for (size_t m = 0; m < sizeof(masks); m++) {
			enum qf_load_result r;

			data.data[i] ^= (char)masks[m];
			r = parse(&data);
			data.data[i] ^= (char)masks[m];
			if (r == QF_LOAD_OK)
				fail_msg("flip 0x%02x at %zu accepted", masks[m], i);
		}
	buf_free(&data);
	close(fd);
}

static void test_magic(void **state)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct qfile qf;

	(void)state;
	assert_int_equal(qfile_parse(NULL, 0, &qf, &err), QF_LOAD_INCOMPLETE);
	assert_int_equal(qfile_parse("TERNQ", 5, &qf, &err), QF_LOAD_INCOMPLETE);
	assert_int_equal(qfile_parse("XERNQ", 5, &qf, &err), QF_LOAD_CORRUPT);
	assert_non_null(strstr(buf_cstr(&err), "magic"));
	tb_minimal(&b, 0);
	assert_int_equal(parse(&b), QF_LOAD_OK);
	b.data[7] = '2';
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	buf_free(&b);
	buf_free(&err);
}

static void test_required_records(void **state)
{
	static const char types[] = "TSRHB";
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; types[i]; i++) {
		tb_minimal(&b, types[i]);
		assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	}
	buf_free(&b);
}

/* Builds a file from a list of records given as "Xpayload" strings. */
static enum qf_load_result parse_recs(const char *const *recs, struct buf *err)
{
	struct buf b = BUF_INIT;
	struct qfile qf;
	enum qf_load_result r;

	for (size_t i = 0; recs[i]; i++) {
		if (recs[i][0] == 'R')
			tb_rcpt(&b, recs[i] + 1);
		else
			tb_str(&b, recs[i][0], recs[i] + 1);
	}
	tb_end(&b);
	r = qfile_parse(b.data, b.len, &qf, err);
	qfile_free(&qf);
	buf_free(&b);
	return r;
}

static void test_bad_envelope(void **state)
{
	static const char *const cases[][8] = {
	    {"T1", "T1", "S", "Ra@b", "H", "B", NULL}, /* two T */
	    {"Tx", "S", "Ra@b", "H", "B", NULL},       /* bad time */
	    {"T", "S", "Ra@b", "H", "B", NULL},	       /* empty time */
	    {"T-1", "S", "Ra@b", "H", "B", NULL},
	    {"T1234567890123456789", "S", "Ra@b", "H", "B", NULL},
	    {"T1", "S", "S", "Ra@b", "H", "B", NULL}, /* two S */
	    {"T1", "S", "R", "H", "B", NULL},	      /* empty addr */
	    {"T1", "S", "Ra@b", "B", "H", "H", NULL}, /* two H after B */
	    {"T1", "S", "Ra@b", "H", "H", "B", NULL},
	    {"T1", "S", "Ra@b", "H", "B", "B", NULL},
	    {"T1", "S", "Ra@b", "Anovalue", "H", "B", NULL},
	    {"T1", "S", "Ra@b", "A=value", "H", "B", NULL},
	    {"T1", "S", "Ra@b", "X", "H", "B", NULL}, /* unknown */
	    {"T1", "S", "Ra@b", "J", "H", "B", NULL},
	};
	static const char *const good[] = {"T1", "S", "Ra@b", "Aa=", "H", "B", NULL};
	/* cleanup writes the header after the body (qfile.h) */
	static const char *const good_bh[] = {"T1", "S", "Ra@b", "Aa=", "B", "H", NULL};
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse_recs(good, &err), QF_LOAD_OK);
	assert_int_equal(parse_recs(good_bh, &err), QF_LOAD_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse_recs(cases[i], &err) != QF_LOAD_CORRUPT)
			fail_msg("case %zu not rejected", i);
		assert_non_null(strstr(buf_cstr(&err), "offset"));
	}
	buf_free(&err);
}

static void check_bad_rcpt(const void *payload, size_t len)
{
	struct buf b = BUF_INIT;

	tb_str(&b, 'T', "1");
	tb_str(&b, 'S', "");
	tb_rec(&b, 'R', payload, len);
	tb_str(&b, 'H', "");
	tb_str(&b, 'B', "");
	tb_end(&b);
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	buf_free(&b);
}

static void test_bad_rcpt(void **state)
{
	struct buf r = BUF_INIT;

	(void)state;
	check_bad_rcpt("", 0);
	check_bad_rcpt("garbage", 7);
	check_bad_rcpt("4:addr,3:a@b,", 13);	   /* no end */
	check_bad_rcpt("4:addr,3:a@b,0:,0:,", 19); /* two records */
	check_bad_rcpt("4:addr,3:a@b,0:,x", 17);   /* trailing byte */
	check_bad_rcpt("5:orcpt,3:a@b,0:,", 17);   /* no addr */
	check_bad_rcpt("4:addr,3:a\0b,0:,", 16);   /* NUL in addr */
	ipc_put_str(&r, "addr", "a@b");
	ipc_put(&r, "notify", "N\0X", 3);
	ipc_end(&r);
	check_bad_rcpt(r.data, r.len);
	buf_free(&r);
}

static void test_limits(void **state)
{
	struct buf b = BUF_INIT, big = BUF_INIT;
	unsigned char hdr[5] = {'E', 0, 0, 0, 5};

	(void)state;
	/* A small record over its limit is corrupt even if complete. */
	for (size_t i = 0; i <= QF_MAX_SMALL_RECORD; i++)
		buf_putc(&big, 'a');
	tb_str(&b, 'T', "1");
	tb_rec(&b, 'S', big.data, big.len);
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	/* ... while H and B may be large: merely incomplete here. */
	buf_reset(&b);
	tb_str(&b, 'T', "1");
	hdr[0] = 'H';
	be32(hdr + 1, 0x7fffffff);
	buf_append(&b, hdr, 5);
	assert_int_equal(parse(&b), QF_LOAD_INCOMPLETE);
	/* An 'E' record of the wrong length. */
	tb_minimal(&b, 0);
	b.len -= 9;
	hdr[0] = 'E';
	be32(hdr + 1, 5);
	buf_append(&b, hdr, 5);
	buf_append(&b, "\0\0\0\0\0", 5);
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	/* A wrong checksum. */
	tb_minimal(&b, 0);
	b.data[b.len - 1] ^= 1;
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	buf_free(&b);
	buf_free(&big);
}

static void test_too_many_rcpts(void **state)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	struct qfile qf;

	(void)state;
	ipc_put_str(&r, "addr", "a@b");
	ipc_end(&r);
	tb_str(&b, 'T', "1");
	tb_str(&b, 'S', "");
	for (size_t i = 0; i < QF_MAX_RECIPIENTS; i++)
		tb_rec(&b, 'R', r.data, r.len);
	tb_str(&b, 'H', "");
	tb_str(&b, 'B', "");
	tb_end(&b);
	assert_int_equal(qfile_parse(b.data, b.len, &qf, NULL), QF_LOAD_OK);
	assert_int_equal(qf.nrcpt, QF_MAX_RECIPIENTS);
	qfile_free(&qf);
	buf_reset(&b);
	tb_str(&b, 'T', "1");
	tb_str(&b, 'S', "");
	for (size_t i = 0; i <= QF_MAX_RECIPIENTS; i++)
		tb_rec(&b, 'R', r.data, r.len);
	tb_str(&b, 'H', "");
	tb_str(&b, 'B', "");
	tb_end(&b);
	assert_int_equal(parse(&b), QF_LOAD_CORRUPT);
	buf_free(&b);
	buf_free(&r);
}

/* ------------------------------------------------------------------ */
/* Journal                                                              */

static int sample_small(struct qfile *qf)
{
	unsigned char body[100];
	int fd = tmp_fd();

	fill_body(body, sizeof(body));
	write_sample(fd, body, sizeof(body));
	assert_int_equal(qfile_load(fd, qf, NULL), QF_LOAD_OK);
	return fd;
}

static void reload(int fd, struct qfile *qf)
{
	qfile_free(qf);
	assert_int_equal(qfile_load(fd, qf, NULL), QF_LOAD_OK);
}

static off_t file_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

static void test_journal_basic(void **state)
{
	struct qfile qf;
	int fd = sample_small(&qf);

	(void)state;
	assert_int_equal(qfile_journal_append(fd, &qf, 0, QF_SENT, "2.0.0", "delivered"), 0);
	assert_int_equal(qfile_journal_append(fd, &qf, 1, QF_DEFERRED, "4.4.1", "refused"), 0);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.journal_end, file_size(fd));
	reload(fd, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_string_equal(qf.rcpts[0].dsn, "2.0.0");
	assert_string_equal(qf.rcpts[0].reason, "delivered");
	assert_int_equal(qf.rcpts[1].status, QF_DEFERRED);
	assert_string_equal(qf.rcpts[1].reason, "refused");
	assert_int_equal(qf.rcpts[2].status, QF_PENDING);
	assert_int_equal(qfile_pending(&qf), 2);
	assert_int_equal(qf.journal_end, file_size(fd));
	/* The last record of a recipient wins; NULL dsn/reason clear them. */
	assert_int_equal(qfile_journal_append(fd, &qf, 1, QF_BOUNCED, "5.1.1", "no such user"), 0);
	assert_int_equal(qfile_journal_append(fd, &qf, 2, QF_DEFERRED, NULL, NULL), 0);
	reload(fd, &qf);
	assert_int_equal(qf.rcpts[1].status, QF_BOUNCED);
	assert_string_equal(qf.rcpts[1].dsn, "5.1.1");
	assert_int_equal(qf.rcpts[2].status, QF_DEFERRED);
	assert_null(qf.rcpts[2].dsn);
	assert_null(qf.rcpts[2].reason);
	assert_int_equal(qfile_pending(&qf), 1);
	/* Bad calls change nothing. */
	errno = 0;
	assert_int_equal(qfile_journal_append(fd, &qf, 3, QF_SENT, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(qfile_journal_append(fd, &qf, 0, QF_PENDING, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(qf.journal_end, file_size(fd));
	qfile_free(&qf);
	close(fd);
}

static void test_journal_torn(void **state)
{
	struct qfile qf;
	int fd = sample_small(&qf);
	off_t good;

	(void)state;
	assert_int_equal(qfile_journal_append(fd, &qf, 0, QF_SENT, "2.0.0", "ok"), 0);
	good = qf.journal_end;
	assert_int_equal(qfile_journal_append(fd, &qf, 2, QF_SENT, "2.0.0", LONG_REASON), 0);
	/* Cut the last record anywhere: it is ignored, the rest kept. */
	for (off_t cut = good; cut < qf.journal_end; cut++) {
		struct qfile q2;

		assert_int_equal(ftruncate(fd, cut), 0);
		assert_int_equal(qfile_load(fd, &q2, NULL), QF_LOAD_OK);
		assert_int_equal(q2.journal_end, good);
		assert_int_equal(q2.file_size, cut);
		assert_int_equal(q2.rcpts[0].status, QF_SENT);
		assert_int_equal(q2.rcpts[2].status, QF_PENDING);
		qfile_free(&q2);
	}
	/* A new append first truncates the torn tail away: no stale bytes
	 * of the longer torn record may remain after the new one. */
	assert_int_equal(ftruncate(fd, qf.journal_end - 1), 0);
	reload(fd, &qf);
	assert_int_equal(qf.journal_end, good);
	assert_true(qf.file_size > good + 200);
	assert_int_equal(qfile_journal_append(fd, &qf, 2, QF_BOUNCED, "5.0.0", "bad"), 0);
	assert_int_equal(qf.journal_end, file_size(fd));
	reload(fd, &qf);
	assert_int_equal(qf.journal_end, qf.file_size);
	assert_int_equal(qf.rcpts[2].status, QF_BOUNCED);
	qfile_free(&qf);
	close(fd);
}

static void test_journal_bad_crc(void **state)
{
	struct qfile qf;
	struct buf data = BUF_INIT;
	int fd = sample_small(&qf);
	off_t good, bad;
	char c;

	(void)state;
	assert_int_equal(qfile_journal_append(fd, &qf, 0, QF_SENT, NULL, NULL), 0);
	good = qf.journal_end;
	assert_int_equal(qfile_journal_append(fd, &qf, 1, QF_SENT, NULL, NULL), 0);
	bad = qf.journal_end;
	assert_int_equal(qfile_journal_append(fd, &qf, 2, QF_SENT, NULL, NULL), 0);
	/* Damage a payload byte of the middle record: it and all after go. */
	assert_int_equal(pread(fd, &c, 1, good + 8), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, good + 8), 1);
	reload(fd, &qf);
	assert_int_equal(qf.journal_end, good);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.rcpts[1].status, QF_PENDING);
	assert_int_equal(qf.rcpts[2].status, QF_PENDING);
	/* Damage the stored crc instead. */
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, good + 8), 1);
	assert_int_equal(pread(fd, &c, 1, bad - 1), 1);
	c ^= 1;
	assert_int_equal(pwrite(fd, &c, 1, bad - 1), 1);
	reload(fd, &qf);
	assert_int_equal(qf.journal_end, good);
	assert_int_equal(qf.rcpts[2].status, QF_PENDING);
	slurp(fd, &data);
	assert_int_equal(qf.file_size, (off_t)data.len);
	qfile_free(&qf);
	buf_free(&data);
	close(fd);
}

/* Appends a hand-made journal record with a valid crc. */
static void raw_journal(int fd, const struct buf *payload)
{
	struct buf rec = BUF_INIT;
	unsigned char hdr[5], crc[4];

	hdr[0] = 'J';
	be32(hdr + 1, (uint32_t)payload->len);
	buf_append(&rec, hdr, 5);
	buf_append(&rec, payload->data, payload->len);
	be32(crc, crc32c_sw(0, rec.data, rec.len));
	buf_append(&rec, crc, 4);
	assert_int_equal(pwrite(fd, rec.data, rec.len, file_size(fd)), (ssize_t)rec.len);
	buf_free(&rec);
}

static void check_bad_journal(const char *rcpt, const char *status, const char *extra)
{
	struct qfile qf;
	struct buf p = BUF_INIT;
	int fd = sample_small(&qf);
	off_t end = qf.journal_end;

	if (rcpt)
		ipc_put_str(&p, "rcpt", rcpt);
	if (status)
		ipc_put_str(&p, "status", status);
	if (extra)
		ipc_put(&p, extra, "x\0y", 3);
	ipc_end(&p);
	raw_journal(fd, &p);
	buf_reset(&p);
	/* A good record after the bad one does not count either. */
	ipc_put_str(&p, "rcpt", "0");
	ipc_put_str(&p, "status", "sent");
	ipc_end(&p);
	raw_journal(fd, &p);
	reload(fd, &qf);
	assert_int_equal(qf.journal_end, end);
	assert_int_equal(qf.rcpts[0].status, QF_PENDING);
	assert_int_equal(qfile_pending(&qf), 3);
	qfile_free(&qf);
	buf_free(&p);
	close(fd);
}

static void test_journal_bad_records(void **state)
{
	struct qfile qf;
	struct buf p = BUF_INIT;
	int fd;

	(void)state;
	check_bad_journal("3", "sent", NULL); /* index out of range */
	check_bad_journal("-1", "sent", NULL);
	check_bad_journal("x", "sent", NULL);
	check_bad_journal(NULL, "sent", NULL);
	check_bad_journal("0", "pending", NULL);
	check_bad_journal("0", NULL, NULL);
	check_bad_journal("0", "sent", "reason"); /* NUL inside */
	check_bad_journal("0", "sent", "time");
	/* The control: the same good record alone is applied. */
	fd = sample_small(&qf);
	ipc_put_str(&p, "rcpt", "0");
	ipc_put_str(&p, "status", "sent");
	ipc_end(&p);
	raw_journal(fd, &p);
	reload(fd, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_SENT);
	assert_int_equal(qf.journal_end, qf.file_size);
	qfile_free(&qf);
	buf_free(&p);
	close(fd);
}

static void test_journal_clip(void **state)
{
	struct qfile qf;
	char *reason = xmalloc(100001);
	int fd = sample_small(&qf);

	(void)state;
	memset(reason, 'r', 100000);
	reason[100000] = 0;
	assert_int_equal(qfile_journal_append(fd, &qf, 0, QF_DEFERRED, "4.0.0", reason), 0);
	assert_int_equal(strlen(qf.rcpts[0].reason), QF_JOURNAL_REASON_MAX);
	reload(fd, &qf);
	assert_int_equal(qf.rcpts[0].status, QF_DEFERRED);
	assert_int_equal(strlen(qf.rcpts[0].reason), QF_JOURNAL_REASON_MAX);
	qfile_free(&qf);
	free(reason);
	close(fd);
}

static void test_misc(void **state)
{
	struct qfile qf;

	(void)state;
	memset(&qf, 0, sizeof(qf));
	qfile_free(&qf);
	assert_int_equal(qfile_pending(&qf), 0);
	assert_null(qfile_attr(&qf, "x"));
	assert_string_equal(qf_status_name(QF_PENDING), "pending");
	assert_string_equal(qf_status_name(QF_DEFERRED), "deferred");
	assert_string_equal(qf_status_name(QF_SENT), "sent");
	assert_string_equal(qf_status_name(QF_BOUNCED), "bounced");
	{
		struct buf err = BUF_INIT;

		assert_int_equal(qfile_load(-1, &qf, &err), QF_LOAD_CORRUPT);
		assert_int_equal(errno, EBADF);
		assert_non_null(strstr(buf_cstr(&err), "read error"));
		buf_free(&err);
	}
	qfile_free(&qf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_layout),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_empty_body),
	    cmocka_unit_test(test_writer_errors),
	    cmocka_unit_test(test_writer_abort),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_byte_flips),
	    cmocka_unit_test(test_magic),
	    cmocka_unit_test(test_required_records),
	    cmocka_unit_test(test_bad_envelope),
	    cmocka_unit_test(test_bad_rcpt),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_too_many_rcpts),
	    cmocka_unit_test(test_journal_basic),
	    cmocka_unit_test(test_journal_torn),
	    cmocka_unit_test(test_journal_bad_crc),
	    cmocka_unit_test(test_journal_bad_records),
	    cmocka_unit_test(test_journal_clip),
	    cmocka_unit_test(test_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
