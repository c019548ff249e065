/*
 * imap/sort.h - SORT (RFC 5256, RFC 5957) and THREAD (RFC 5256
 * ORDEREDSUBJECT and REFERENCES) over arrays of per-message keys.
 *
 * The caller fills one struct imap_sort_msg per matching message with
 * imap_sort_msg_fill() (from the cached envelope and References header,
 * so no message is read), then:
 *   imap_sort()        orders the array by the criteria (ties: by seq,
 *                      i.e. arrival, as RFC 5256 requires);
 *   imap_thread()      writes the THREAD response body "(1 2)(3 (4)(5))"
 *                      of the messages' id fields.
 * Keys are compared in their i;unicode-casemap form.  Pure; memory is
 * O(number of messages).
 */
#ifndef TERN_IMAP_SORT_H
#define TERN_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "args.h"
#include "buf.h"
#include "mime/part.h"

struct imap_sort_msg {
	uint32_t id;  /* what the response shows: sequence number or UID */
	uint32_t seq; /* arrival order */
	time_t arrival;
	time_t date; /* Date: header, or arrival when it has none */
	uint64_t size;
	char *base_subject;		 /* RFC 5256 2.1, casemapped */
	bool subject_is_reply;		 /* a Re:/Fwd: leader or (fwd) trailer was removed */
	char *from, *to, *cc;		 /* addr-mailbox of the first address, casemapped */
	char *display_from, *display_to; /* RFC 5957 */
	char *message_id;		 /* "<...>" or NULL */
	char **references;		 /* NULL-terminated msg-ids: References, else In-Reply-To */
};

/* Fills m from a message's envelope (may be NULL) and References value
 * (NULL if none); arrival, size and numbers as given. */
void imap_sort_msg_fill(struct imap_sort_msg *m, const struct mime_envelope *env,
    const char *references, uint32_t id, uint32_t seq, time_t arrival, uint64_t size);
void imap_sort_msg_free(struct imap_sort_msg *m);

void imap_sort(
    struct imap_sort_msg *msgs, size_t n, const struct imap_sort_criterion *crit, size_t ncrit);

/* RFC 5256 2.1 base subject of a raw Subject: value, casemapped; returns
 * whether it was a reply or forward. */
bool imap_base_subject(const char *subject, struct buf *out);

/* The THREAD response body for msgs (any order; they are not changed). */
void imap_thread(
    const struct imap_sort_msg *msgs, size_t n, enum imap_thread_alg alg, struct buf *out);

#endif
