/*
 * fuzz_imap_session.c - a whole imap session (imap/client.c and every
 * command) driven by hostile client bytes over a socket pair, against a
 * fresh Maildir holding two messages (one multipart) per input.
 *
 * The first input byte chooses how the rest is cut into writes (all at
 * once as "pending" bytes from a login process, or in chunks); the
 * server's answers are read and dropped.  The session must end (EOF,
 * BYE or LOGOUT) without a crash, a leak or a hang.
 */
/* FUZZ_LINK: imap/parser.c imap/args_seqset.c imap/args_fetch.c imap/args_search.c */
/* FUZZ_LINK: imap/args_misc.c imap/args_list.c imap/args_append.c imap/write.c */
/* FUZZ_LINK: imap/format_envelope.c imap/format_body.c imap/search.c imap/sort.c */
/* FUZZ_LINK: imap/thread.c imap/client.c imap/compress.c imap/session.c */
/* FUZZ_LINK: imap/mailbox.c imap/append.c imap/fetch.c imap/msgcmd.c imap/searchcmd.c */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../imap/imap.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "mstore/mstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char msg1[] = "From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: one\r\n"
			   "Date: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\n"
			   "hello world\r\n";
static const char msg2[] = "From: B <b@example.com>\nSubject: Re: one\nReferences: <1@x>\n"
			   "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
			   "Content-Type: text/plain; charset=iso-8859-1\n"
			   "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n--b\n"
			   "Content-Type: message/rfc822\n\nSubject: inner\n\nx\n--b--\n";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fill(const char *root)
{
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore *s;
	const char *msgs[] = {msg1, msg2};

	mstore_opts_init(&o);
	o.create = true;
	if ((s = mstore_open(root, &o, &err)) == NULL)
		abort();
	for (int i = 0; i < 2; i++) {
		struct mstore_save_opts so;
		struct mstore_save *sv;

		memset(&so, 0, sizeof(so));
		so.flags = i ? MSTORE_F_FLAGGED : 0;
		sv = mstore_save_begin(s, "INBOX", &so);
		mstore_save_write(sv, msgs[i], strlen(msgs[i]));
		mstore_save_commit(sv, NULL, NULL);
	}
	mstore_close(s);
	buf_free(&err);
}

static void on_close(void *ctx)
{
	*(int *)ctx = 1;
}

static void drain(int fd)
{
	char tmp[65536];

	while (read(fd, tmp, sizeof(tmp)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	char dir[] = "/tmp/fuzz_imap_session.XXXXXX";
	struct imap_login_info li = {.user = "fuzz", .maildir = dir};
	struct event_loop *loop;
	struct imap_client *c;
	int sv[2], done = 0;
	size_t chunk, pos;
	bool pending;
	static const char cf[] = "mailbox_autocreate = no\n";

	if (size < 1)
		return 0;
	if (!init) {
		struct buf err = BUF_INIT;

		log_open("imap", LOG_DEST_FILE, "/dev/null");
		if (config_load_text(cf, strlen(cf), "fuzz", &err) < 0)
			abort();
		buf_free(&err);
		init = true;
	}
	if (mkdtemp(dir) == NULL)
		return 0;
	fill(dir);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	pending = data[0] == 0;
	chunk = data[0] ? data[0] : 1;
	data++;
	size--;
	pos = pending ? size : 0;
	loop = event_loop_new();
	c = imap_client_new(
	    loop, sv[0], &li, pending ? (const char *)data : NULL, pending ? size : 0);
	if (c == NULL) {
		close(sv[1]);
		event_loop_free(loop);
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 0;
	}
	imap_client_on_close(c, on_close, &done);
	for (int round = 0; round < 10000 && !done; round++) {
		if (pos < size) {
			size_t n = size - pos < chunk ? size - pos : chunk;
			ssize_t w = write(sv[1], data + pos, n);

			if (w > 0)
				pos += (size_t)w;
		} else {
			shutdown(sv[1], SHUT_WR);
		}
		event_loop_once(loop, 0);
		drain(sv[1]);
	}
	if (!done)
		abort(); /* a session that does not end on EOF is a bug */
	close(sv[1]);
	event_loop_free(loop);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
