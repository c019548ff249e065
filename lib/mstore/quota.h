/*
 * quota.h - Maildir++ quota: the "maildirsize" file in the Maildir root.
 *
 *   <limits>\n              "10000000S,1000C": bytes (S) and messages (C);
 *                           "0S" when there is no limit
 *   <bytes> <count>\n       the usage at the last recalculation
 *   <bytes> <count>\n ...   one delta line per change, appended with
 *                           O_APPEND and no lock ("-4096 -1" on expunge)
 *
 * The usage is the sum of all lines after the first.  The file is
 * recalculated (every folder's new/ and cur/ summed, from ,S= in the
 * file names or stat(), written to a temporary file and renamed over)
 * when it is 5120 bytes or more, broken, sums to a negative value, or
 * says "over quota" with more than one delta line or an mtime older than
 * 15 minutes (Dovecot's rules, so the two servers agree on when).
 *
 * Pure parsing and formatting here; the file operations are in
 * quota_io.c behind mstore.h.
 */
#ifndef TERN_MSTORE_QUOTA_H
#define TERN_MSTORE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MDSIZE_NAME "maildirsize"
#define MDSIZE_MAX_FILE 5120
#define MDSIZE_STALE_SECS (15 * 60)

struct mdsize {
	uint64_t limit_bytes, limit_count; /* 0: no limit */
	int64_t bytes, count;		   /* usage */
	size_t deltas;			   /* lines after the limits line */
};

enum mdsize_result {
	MDSIZE_OK,     /* usage can be trusted */
	MDSIZE_RECALC, /* broken, too big or negative: recalculate */
	MDSIZE_OVER,   /* over a limit: trust it only with one line and a fresh file */
};

/* Parses the file's text. */
enum mdsize_result mdsize_parse(const char *data, size_t len, struct mdsize *out);

/* Parses a limits line ("10000S,100C"); false when a part is malformed. */
bool mdsize_parse_limits(const char *s, size_t len, uint64_t *bytes, uint64_t *count);

/* Appends the limits line and the usage line of a recalculated file. */
void mdsize_format(
    struct buf *out, uint64_t limit_bytes, uint64_t limit_count, uint64_t bytes, uint64_t count);

/* Appends one delta line. */
void mdsize_format_delta(struct buf *out, int64_t bytes, int64_t count);

#endif
