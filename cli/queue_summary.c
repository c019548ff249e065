/*
 * queue_summary.c - "tern queue summary": the queue's shape, as qshape.
 *
 * One row per recipient domain (and a TOTAL row first), counting the
 * pending recipients of every message in incoming, active, deferred and
 * hold, by the age of their message in minutes: T (all), then buckets
 * 5 10 20 40 80 160 320 640 1280 and 1280+ (each holds the ages up to its
 * label, above the one before).  Domains sorted by count, largest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "qfile.h"
#include "queue.h"
#include "queue_cli.h"
#include "queue_list.h"
#include "util.h"

#define NBUCKET 10

static const int bucket_max[NBUCKET - 1] = {5, 10, 20, 40, 80, 160, 320, 640, 1280};

struct shape_row {
	char *domain;
	long total;
	long n[NBUCKET];
};

struct shape {
	struct shape_row *rows;
	size_t nrow;
};

static int shape_bucket(long minutes)
{
	int i;

	for (i = 0; i < NBUCKET - 1; i++)
		if (minutes <= bucket_max[i])
			return i;
	return NBUCKET - 1;
}

static struct shape_row *shape_row(struct shape *s, const char *domain)
{
	size_t i;

	for (i = 0; i < s->nrow; i++)
		if (str_case_eq(s->rows[i].domain, domain))
			return &s->rows[i];
	s->rows = xreallocarray(s->rows, s->nrow + 1, sizeof(*s->rows));
	memset(&s->rows[s->nrow], 0, sizeof(s->rows[0]));
	s->rows[s->nrow].domain = xstrdup(domain);
	return &s->rows[s->nrow++];
}

static void shape_add(struct shape *s, const struct qfile *qf, long long now)
{
	long minutes = (long)((now - qf->arrival_usec / 1000000) / 60);
	int b = shape_bucket(minutes < 0 ? 0 : minutes);
	const char *at;
	char *dom;
	size_t i;

	for (i = 0; i < qf->nrcpt; i++) {
		if (qf->rcpts[i].status != QF_PENDING && qf->rcpts[i].status != QF_DEFERRED)
			continue;
		at = strrchr(qf->rcpts[i].addr, '@');
		dom = xstrdup(at ? at + 1 : "(local)");
		str_lower(dom);
		struct shape_row *r = shape_row(s, dom);
		r->total++;
		r->n[b]++;
		s->rows[0].total++;
		s->rows[0].n[b]++;
		free(dom);
	}
}

static int shape_cmp(const void *a, const void *b)
{
	const struct shape_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

static void shape_print_row(const struct shape_row *r)
{
	int i;

	printf("%24s %5ld", r->domain, r->total);
	for (i = 0; i < NBUCKET; i++)
		printf(" %5ld", r->n[i]);
	printf("\n");
}

int queue_summary(int argc, char **argv)
{
	const char *const *folders = queue_list_shown;
	struct shape s = {NULL, 0};
	long long now = time(NULL);
	char **ids, **id;
	size_t i;
	int q;

	(void)argc;
	(void)argv;
	shape_row(&s, "TOTAL");
	for (q = 0; folders[q]; q++) {
		ids = queue_list_ids(folders[q]);
		if (ids == NULL) {
			fprintf(stderr, "tern: cannot read the %s queue\n", folders[q]);
			return EX_NOPERM;
		}
		for (id = ids; *id; id++) {
			struct qfile qf = {0};

			if (queue_list_load(folders[q], *id, &qf, NULL))
				shape_add(&s, &qf, now);
			qfile_free(&qf);
		}
		strv_free(ids);
	}
	if (s.nrow > 2)
		qsort(s.rows + 1, s.nrow - 1, sizeof(*s.rows), shape_cmp);
	printf("%24s %5s", "", "T");
	for (i = 0; i < NBUCKET - 1; i++)
		printf(" %5d", bucket_max[i]);
	printf(" %5s\n", "1280+");
	for (i = 0; i < s.nrow; i++) {
		shape_print_row(&s.rows[i]);
		free(s.rows[i].domain);
	}
	free(s.rows);
	return 0;
}
