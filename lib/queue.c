/*
 * queue.c - names and paths inside queue_directory.
 *
 * Daemons run with queue_directory as their working directory, but the
 * paths built here are absolute so that the command-line tools, which do
 * not, can use them too.
 */
#include "queue.h"

#include <errno.h>
#include <stdio.h>

#include "config.h"

const char *const queue_names[] = {
    QUEUE_MAILDROP,
    QUEUE_INCOMING,
    QUEUE_ACTIVE,
    QUEUE_DEFERRED,
    QUEUE_HOLD,
    QUEUE_CORRUPT,
    NULL,
};

void queue_path(struct buf *out, const char *name, const char *qid)
{
	buf_reset(out);
	buf_printf(out, "%s/%s", config_str("queue_directory"), name);
	if (qid)
		buf_printf(out, "/%s", qid);
}

void queue_socket_path(struct buf *out, bool private_, const char *service)
{
	buf_reset(out);
	buf_printf(out, "%s/%s/%s", config_str("queue_directory"), private_ ? "private" : "public",
	    service);
}

int queue_move(const char *qid, const char *from, const char *to)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r;

	queue_path(&a, from, qid);
	queue_path(&b, to, qid);
	r = rename(a.data, b.data);
	buf_free(&a);
	buf_free(&b);
	return r;
}
