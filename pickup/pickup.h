/*
 * pickup.h - the pickup daemon's parts.
 *
 * main.c runs the daemon: wake-ups through public/pickup, a periodic scan
 * of maildrop/.  file.c hands one maildrop file to cleanup.
 */
#ifndef TERN_PICKUP_H
#define TERN_PICKUP_H

enum pickup_result {
	PICKUP_DONE,	/* queued by cleanup (or gone): the file was removed */
	PICKUP_RETRY,	/* cleanup unreachable or deferred: try again later */
	PICKUP_CORRUPT, /* bad file: moved to corrupt/ */
};

/* Hands maildrop/name to cleanup; dirfd is maildrop/ (cwd is the queue). */
enum pickup_result pickup_file(int dirfd, const char *name);

#endif
