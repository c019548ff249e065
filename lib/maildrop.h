/*
 * maildrop.h - the local submission stream and the maildrop file.
 *
 * sendmail writes, on postdrop's standard input, a stream of ipc.h records:
 *   1. {op=begin, sender, (rcpt, [orcpt], [notify])+, [fullname], [ret],
 *       [envid], [rewrite]}
 *   2. {op=data, data=<at most CLEANUP_DATA_CHUNK bytes>}*   the message,
 *       LF line ends, exactly as it should be queued
 *   3. {op=end}
 * and nothing after it.  postdrop checks every record (md_check with
 * MD_FROM_CLIENT), adds "uid" (its real uid) and "time" (microseconds) to
 * the begin record, and writes the same stream as maildrop/QID.  pickup
 * reads such a file with MD_FROM_FILE, which requires uid and time.
 *
 * A maildrop file is hostile input: a local user chose every byte but uid
 * and time, and pickup trusts neither of those either (it compares uid with
 * the file's owner).  So the checks are strict: only the attributes listed
 * above, each at most once (rcpt/orcpt/notify excepted), values without NUL
 * or control characters, bounded lengths, records in order, nothing after
 * the end.  md_check() is a pure function over one decoded record.
 */
#ifndef TERN_MAILDROP_H
#define TERN_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc.h"

/* Largest encoded record (the begin record with many recipients). */
#define MD_MAX_RECORD (8 * 1024 * 1024)
#define MD_MAX_ADDR 512
#define MD_MAX_FULLNAME 256
#define MD_MAX_ENVID 100 /* RFC 3461 section 4.4 */
#define MD_MAX_RCPT 50000

enum md_origin {
	MD_FROM_CLIENT, /* sendmail -> postdrop: no uid/time */
	MD_FROM_FILE,	/* a maildrop file: uid and time required */
};

enum md_state {
	MD_WANT_BEGIN,
	MD_WANT_DATA, /* data or end */
	MD_DONE,      /* end seen: nothing may follow */
};

struct md_check {
	enum md_origin origin;
	enum md_state state;
	long long size; /* message bytes seen in data records */
};

void md_check_init(struct md_check *c, enum md_origin origin);
/* Checks the next record of the stream; NULL when fine, else the reason. */
const char *md_check(struct md_check *c, const struct ipc_msg *m);
/* True once the end record was accepted. */
bool md_complete(const struct md_check *c);

#endif
