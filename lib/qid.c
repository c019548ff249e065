/*
 * qid.c - queue IDs: 16 characters of [0-9A-V], time first.
 *
 * The first 11 characters are the creation time in microseconds since the
 * epoch in base 32, most significant digit first and zero-padded, so IDs
 * sort by time as plain strings (55 bits: good until the year 3111).  The
 * last 5 are random (arc4random), so two processes creating an ID in the
 * same microsecond differ anyway.  Within one process the time part never
 * repeats or goes back by less than a second, which makes a process's own
 * IDs unique and ordered without relying on luck.
 *
 * A queue ID becomes a file name, so qid_valid() is strict: exactly 16
 * characters of the alphabet, nothing else ('/', '.', lower case all
 * rejected).  Uniqueness across processes is finally guaranteed by O_EXCL
 * when the queue file is created, not here.
 */
#include "qid.h"

#include "util.h"

#define QID_TIME_LEN 11
#define QID_RAND_LEN (QID_LEN - QID_TIME_LEN)

static const char qid_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

/* 0..31 for a character of the alphabet, -1 for anything else. */
static int qid_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/*
 * Strictly increasing within the process, unless the clock stepped back by
 * more than a second: then follow the clock, so the encoded time stays
 * meaningful (O_EXCL still catches a clash).
 */
static long long qid_clock(void)
{
	static long long last;
	long long now = now_usec();

	if (now <= last && last - now < 1000000)
		now = last + 1;
	last = now;
	return now;
}

void qid_new(char out[QID_LEN + 1])
{
	unsigned long long t = (unsigned long long)qid_clock();

	for (int i = QID_TIME_LEN - 1; i >= 0; i--) {
		out[i] = qid_alphabet[t & 31];
		t >>= 5;
	}
	for (int i = QID_TIME_LEN; i < QID_LEN; i++)
		out[i] = qid_alphabet[arc4random_uniform(32)];
	out[QID_LEN] = 0;
}

bool qid_valid(const char *s)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < QID_LEN; i++)
		if (qid_digit(s[i]) < 0)
			return false;
	return s[QID_LEN] == 0;
}

long long qid_time_usec(const char *qid)
{
	long long t = 0;

	if (!qid_valid(qid))
		return -1;
	for (int i = 0; i < QID_TIME_LEN; i++)
		t = (t << 5) | qid_digit(qid[i]);
	return t;
}
