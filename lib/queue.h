/*
 * queue.h - the queue directory: its folders, their owners and modes, and
 * the paths of queue files and service sockets.
 *
 * queue_dirs[] is the one list of what queue_directory holds: master
 * creates it at start, "tern init" for a new instance, "tern check"
 * verifies and repairs it, "make install" lays it down (through
 * "tern init --print-queue-layout").
 */
#ifndef TERN_QUEUE_H
#define TERN_QUEUE_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

#define QUEUE_MAILDROP "maildrop"
#define QUEUE_INCOMING "incoming"
#define QUEUE_ACTIVE "active"
#define QUEUE_DEFERRED "deferred"
#define QUEUE_HOLD "hold"
#define QUEUE_CORRUPT "corrupt"
/* Not a queue: finished queue files whose inodes cleanup reuses. */
#define QUEUE_RECYCLE "recycle"
/* Service sockets (service.h): private to mail_owner, or reachable. */
#define QUEUE_PRIVATE "private"
#define QUEUE_PUBLIC "public"
/* master's pid file and lock. */
#define QUEUE_PID "pid"

/* queue_directory itself: root's, searchable by all. */
#define QUEUE_TOP_MODE 0755

/* Who owns a folder of queue_directory. */
enum queue_owner {
	QUEUE_OWNER_ROOT,      /* root:root */
	QUEUE_OWNER_MAIL,      /* mail_owner and its group */
	QUEUE_OWNER_MAIL_DROP, /* mail_owner, group setgid_group (postdrop) */
};

struct queue_dir {
	const char *name;
	enum queue_owner owner;
	mode_t mode;
};

/* Every folder of queue_directory; ends with a NULL name. */
extern const struct queue_dir queue_dirs[];

/*
 * Creates qdir (root's, QUEUE_TOP_MODE) and every folder of queue_dirs[]
 * that is missing, and gives each its mode; with set_owner (root) also its
 * owner: uid:gid for QUEUE_OWNER_MAIL, uid:drop_gid for the drop folder
 * ((gid_t)-1 leaves its group), root for QUEUE_OWNER_ROOT.  Returns 0, or
 * -1 with the reason in err.
 */
int queue_dirs_create(
    const char *qdir, bool set_owner, uid_t uid, gid_t gid, gid_t drop_gid, struct buf *err);

/* queue_directory/name/qid (qid may be NULL for the folder itself). */
void queue_path(struct buf *out, const char *name, const char *qid);
/* queue_directory/private/service or public/service. */
void queue_socket_path(struct buf *out, bool private_, const char *service);

/* Atomically moves qid from one queue to another (rename). 0 or -1. */
int queue_move(const char *qid, const char *from, const char *to);

/*
 * Room in the queue file system for a message of size bytes (0: not
 * announced)?  More than max(queue_minfree, 1.5 * message_size_limit)
 * plus size must be free; true when the file system cannot be asked.
 * smtpd answers "452 4.3.1 Insufficient system storage" otherwise.
 */
bool queue_space_ok(long long size);

#endif
