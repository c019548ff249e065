/*
 * fuzz_metrics_log.c - libFuzzer harness for the maillog reader behind
 * /metrics (http/metrics_log.c): log text written from what clients
 * sent (addresses, user names), so not trusted.
 *
 * The input is read twice: whole, and cut into chunks at places the
 * first bytes choose (as reads of a growing file cut it); both readers
 * must count the same.  Sessions open never exceed sessions started, the
 * per-user/per-process table holds exactly the open ones, histogram
 * buckets never exceed their count and sums stay finite.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../http/metrics_log.h"

/* FUZZ_LINK: http/metrics_log.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct metrics_log *m)
{
	unsigned long open = 0, in_table = 0;
	const char *key;
	json_t *v;

	for (int i = 0; i < MLOG_NPROTO; i++) {
		if (m->open[i] > m->started[i])
			abort();
		open += m->open[i];
	}
	json_object_foreach(m->who, key, v)
	{
		if (json_integer_value(v) <= 0)
			abort();
		in_table += (unsigned long)json_integer_value(v);
	}
	if (in_table != open)
		abort();
	for (int s = 0; s < MLOG_NSTATUS; s++) {
		unsigned long sum = 0;

		for (size_t b = 0; b < metrics_delay_nbounds; b++)
			sum += m->delay[s].bucket[b];
		if (sum > m->delay[s].count || m->delay[s].count > m->status[s] ||
		    !isfinite(m->delay[s].sum) || m->delay[s].sum < 0)
			abort();
	}
	if (m->partial.len > MLOG_LINE_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_log whole, cut;
	size_t off = 0, k = 0;

	metrics_log_init(&whole);
	metrics_log_init(&cut);
	metrics_log_feed(&whole, (const char *)data, size);
	while (off < size) {
		size_t n = 1 + (size ? data[k++ % size] : 0) % 97;

		if (n > size - off)
			n = size - off;
		metrics_log_feed(&cut, (const char *)data + off, n);
		off += n;
	}
	check(&whole);
	check(&cut);
	if (whole.received != cut.received ||
	    memcmp(whole.status, cut.status, sizeof(whole.status)) != 0 ||
	    memcmp(whole.started, cut.started, sizeof(whole.started)) != 0 ||
	    memcmp(whole.open, cut.open, sizeof(whole.open)) != 0 ||
	    whole.partial.len != cut.partial.len || !json_equal(whole.who, cut.who))
		abort();
	for (int s = 0; s < MLOG_NSTATUS; s++)
		if (whole.delay[s].count != cut.delay[s].count ||
		    memcmp(whole.delay[s].bucket, cut.delay[s].bucket,
			sizeof(whole.delay[s].bucket)) != 0)
			abort();
	metrics_log_restart(&cut);
	if (json_object_size(cut.who) != 0 || cut.partial.len != 0)
		abort();
	metrics_log_free(&whole);
	metrics_log_free(&cut);
	return 0;
}
