/*
 * mstore_bench.c - the mailbox store's part of "SELECT INBOX" followed by
 * "UID FETCH 1:* (FLAGS)": open the store and a view of the folder, then
 * format one FETCH line per message (what the IMAP layer will write),
 * into a buffer flushed to /dev/null.  Prints the wall and CPU time of
 * each run.  Built and run by tests/bench/mstore_bench.py.
 *
 *   mstore_bench MAILDIR RUNS
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mstore/mstore.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void flags_text(struct buf *out, struct mstore_view *v, const struct mstore_msg *m)
{
	static const char *const sys[] = {
	    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"};
	bool first = true;

	for (int i = 0; i < 6; i++) {
		if (m->flags & (1u << i)) {
			buf_printf(out, "%s%s", first ? "" : " ", sys[i]);
			first = false;
		}
	}
	for (unsigned i = 0; m->keywords && i < 26; i++) {
		const char *k = (m->keywords & (1u << i)) ? mstore_view_keyword(v, i) : NULL;

		if (k) {
			buf_printf(out, "%s%s", first ? "" : " ", k);
			first = false;
		}
	}
}

int main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	int out = open("/dev/null", O_WRONLY);

	if (argc < 2) {
		fprintf(stderr, "usage: mstore_bench MAILDIR [RUNS]\n");
		return 2;
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now(), c0 = cpu(), t1;
		struct mstore_opts o;
		struct buf err = BUF_INIT, line = BUF_INIT;
		struct mstore_view *v;
		struct mstore *s;
		uint32_t n;

		mstore_opts_init(&o);
		s = mstore_open(argv[1], &o, &err);
		if (s == NULL || mstore_view_open(s, "INBOX", 0, &v) < 0) {
			fprintf(stderr, "open: %s\n", s ? mstore_strerror(s) : buf_cstr(&err));
			return 1;
		}
		t1 = now();
		n = mstore_view_count(v);
		for (uint32_t seq = 1; seq <= n; seq++) {
			struct mstore_msg m;

			if (mstore_view_msg(v, seq, &m) < 0)
				continue;
			buf_printf(&line, "* %u FETCH (UID %u FLAGS (", seq, m.uid);
			flags_text(&line, v, &m);
			buf_puts(&line, "))\r\n");
			if (line.len > 65536) {
				if (write(out, line.data, line.len) < 0)
					return 1;
				buf_reset(&line);
			}
		}
		if (line.len && write(out, line.data, line.len) < 0)
			return 1;
		printf("run=%d messages=%u select_s=%.4f total_s=%.4f cpu_s=%.4f\n", r, n, t1 - t0,
		    now() - t0, cpu() - c0);
		fflush(stdout);
		mstore_view_close(v);
		mstore_close(s);
		buf_free(&line);
		buf_free(&err);
	}
	return 0;
}
