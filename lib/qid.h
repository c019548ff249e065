/*
 * qid.h - queue IDs.
 *
 * A queue ID is 16 characters from [0-9A-V] (base 32, upper case): 11 for
 * the microseconds since the epoch, so IDs sort by arrival time as plain
 * strings, then 5 random ones.  It is safe as a file name and in logs.
 * Uniqueness is finally guaranteed by O_EXCL when the file is created.
 */
#ifndef TERN_QID_H
#define TERN_QID_H

#include <stdbool.h>

#define QID_LEN 16

void qid_new(char out[QID_LEN + 1]);
bool qid_valid(const char *s);
/* Arrival time encoded in a valid ID, in microseconds since the epoch. */
long long qid_time_usec(const char *qid);

#endif
