/*
 * metrics_log.h - the maillog lines /metrics counts (metrics_log.c),
 * apart from reading the file so that it can be fuzzed: the log is
 * written by every daemon from what clients sent (addresses, user
 * names), so its text is not trusted.
 */
#ifndef TERN_METRICS_LOG_H
#define TERN_METRICS_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* A histogram: the counts per bucket (not cumulative) then the rest. */
#define METRICS_HIST_MAX 16
struct metrics_hist {
	unsigned long bucket[METRICS_HIST_MAX];
	unsigned long count;
	double sum;
};
/* Counts v into the first bucket whose upper bound (of n) is not below
 * it, or past them all (+Inf). */
void metrics_hist_observe(struct metrics_hist *h, const double *bounds, size_t n, double v);

/* Upper bounds of the delivery delay buckets, seconds (then +Inf). */
extern const double metrics_delay_bounds[];
extern const size_t metrics_delay_nbounds;

/* Sessions read from the log, as metrics_protocols[]. */
enum { MLOG_SMTP, MLOG_SUBMISSION, MLOG_IMAP, MLOG_POP3, MLOG_MANAGESIEVE, MLOG_NPROTO };
extern const char *const metrics_protocols[];
/* Delivery results, as metrics_statuses[]. */
enum { MLOG_SENT, MLOG_DEFERRED, MLOG_BOUNCED, MLOG_NSTATUS };
extern const char *const metrics_statuses[];

/* The longest line kept whole; the rest of a longer one is dropped. */
#define MLOG_LINE_MAX 4096

struct metrics_log {
	struct buf partial; /* a line not yet ended */
	unsigned long received, status[MLOG_NSTATUS];
	struct metrics_hist delay[MLOG_NSTATUS];
	unsigned long started[MLOG_NPROTO], open[MLOG_NPROTO];
	json_t *who; /* "PROTO pid" (smtpd) or "PROTO user" -> its open sessions */
};

void metrics_log_init(struct metrics_log *m);
/* Counts the lines that data ends (any cut: a line's start is kept). */
void metrics_log_feed(struct metrics_log *m, const char *data, size_t len);
/* The log was truncated: open sessions and a partial line forgotten. */
void metrics_log_restart(struct metrics_log *m);
void metrics_log_free(struct metrics_log *m);

#endif
