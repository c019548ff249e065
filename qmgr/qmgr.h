/*
 * qmgr.h - the queue manager's internal interfaces.
 *
 * qmgr is one event-driven process.  Its parts, one file each:
 *   qset.c      the queue IDs qmgr knows: in memory (active) or waiting
 *               for a retry time (scheduled); a message is never
 *               activated twice because of it
 *   schedule.c  the retry-time heap, the back-off rule, the timer that
 *               brings deferred mail back
 *   plan.c      splits a message's pending recipients into delivery
 *               requests, grouped by transport, bounded in size
 *   request.c   one delivery request: the recipients it carries and the
 *               statuses the agent reported for them
 *   deliver.c   transports, destinations (slow start, dead
 *               destinations, round-robin between them) and connections
 *               to delivery agents
 *   message.c   activating, finishing (journal, defer, remove) a message
 *   bounce.c    delivery status notices (failure, delay, success), queued
 *               through cleanup before the recipients are journaled
 *   scan.c      directory scans: start-up recovery, incoming, deferred
 *   notify.c    the private/qmgr socket: "new message" notifications and
 *               "tern queue flush"
 *   main.c      main.cf values and the event loop
 *
 * Not here: hold/ (the operator's "tern queue hold" moves files there and
 * qmgr never reads it), composing notices (lib/dsn.c), the queue file
 * format (lib/qfile.c).
 */
#ifndef TERN_QMGR_H
#define TERN_QMGR_H

#include <stdbool.h>
#include <stddef.h>

#include "dsn.h"
#include "event.h"
#include "ipc.h"
#include "qfile.h"
#include "qid.h"

struct qmgr;

/* main.cf values, read once at start-up (times in seconds). */
struct qmgr_config {
	size_t active_limit;   /* qmgr_message_active_limit */
	size_t rcpt_mem_limit; /* qmgr_message_recipient_limit */
	size_t conc_limit;     /* default_destination_concurrency_limit */
	size_t rcpt_limit;     /* default_destination_recipient_limit */
	long ipc_timeout;      /* ipc_timeout */
	long run_delay;	       /* queue_run_delay */
	long min_backoff;      /* minimal_backoff_time */
	long max_backoff;      /* maximal_backoff_time */
	long max_lifetime;     /* maximal_queue_lifetime */
	long bounce_lifetime;  /* bounce_queue_lifetime (mail from <>) */
	long delay_warning;    /* delay_warning_time, 0 = never */
	bool soft_bounce;      /* soft_bounce */
	size_t initial_conc;   /* initial_destination_concurrency */
	size_t process_limit;  /* default_process_limit: per transport */
	long dead_time;	       /* dead_destination_time */
};

/* ---- qset.c: queue IDs known to qmgr ---- */

enum qset_state {
	QSET_ACTIVE,	/* loaded, in active/, being delivered */
	QSET_SCHEDULED, /* in deferred/, due at .due */
};

struct qmgr_msg;

struct qset_entry {
	char *key;
	enum qset_state state;
	long long due;		 /* QSET_SCHEDULED: epoch seconds */
	struct qmgr_msg *msg;	 /* QSET_ACTIVE */
	struct qset_entry *next; /* hash chain */
};

struct qset {
	struct qset_entry **bucket;
	size_t nbucket;
	size_t count;
};

void qset_init(struct qset *s);
void qset_free(struct qset *s);
struct qset_entry *qset_get(const struct qset *s, const char *key);
/* Returns the entry for key, adding a zeroed one (state QSET_ACTIVE) when
 * absent; *created says which. */
struct qset_entry *qset_add(struct qset *s, const char *key, bool *created);
void qset_del(struct qset *s, const char *key);

/* ---- schedule.c: retry times ---- */

struct sched_item {
	long long due;
	char qid[QID_LEN + 1];
};

/* A binary min-heap on due.  Entries may be stale (the qset says what is
 * current); they are checked and dropped when popped. */
struct sched_heap {
	struct sched_item *v;
	size_t n;
	size_t cap;
};

void sched_heap_init(struct sched_heap *h);
void sched_heap_free(struct sched_heap *h);
void sched_heap_push(struct sched_heap *h, long long due, const char *qid);
/* The earliest item, or NULL when empty. */
const struct sched_item *sched_heap_peek(const struct sched_heap *h);
/* Removes the earliest item into *out; false when empty. */
bool sched_heap_pop(struct sched_heap *h, struct sched_item *out);

/* Next retry time: now + clamp(age, min_backoff, max_backoff), seconds. */
long long qmgr_backoff_next(long long now, long long arrival, long min_backoff, long max_backoff);
/* True when a message that arrived at arrival has outlived lifetime. */
bool qmgr_expired(long long now, long long arrival, long lifetime);
/* "4.x.y" -> "5.x.y" in out (a temporary failure made final). */
void qmgr_dsn_final(const char *dsn, char *out, size_t outlen);

/* ---- plan.c: recipients -> requests ---- */

struct plan_batch {
	const char *transport; /* points into the caller's array */
	size_t *rcpt;	       /* recipient indexes, ascending */
	size_t n;
};

/*
 * Groups the recipients i with want[i] by transport[i] (string equality)
 * into batches of at most limit recipients (limit 0 = no limit), in the
 * order each transport first appears.  Returns the number of batches in
 * *out (free with plan_free).
 */
size_t plan_make(const char *const *transport, const bool *want, size_t n, size_t limit,
    struct plan_batch **out);
void plan_free(struct plan_batch *b, size_t nbatch);

/* ---- request.c: one delivery request ---- */

/* The outcome of this delivery round for one recipient. */
struct qmgr_result {
	bool set;
	bool journaled; /* already appended to the journal */
	enum qf_status status;
	char *dsn;
	char *reason;
	bool relayed;  /* sent, DSN action "relayed" (the agent said so) */
	bool notified; /* sent, the next hop sends the success notice */
};

struct qmgr_transport;
struct qmgr_dest;

struct qmgr_request {
	struct qmgr_msg *msg;
	struct qmgr_transport *tp;
	struct qmgr_dest *dest; /* (transport, nexthop) it waits in */
	size_t *rcpt;		/* recipient indexes in msg */
	const char **cls;	/* their address class names */
	bool *reported;		/* a status arrived for rcpt[i] */
	size_t n;
	size_t nreported;
	long long started;	   /* usec sent to an agent, 0 before */
	struct qmgr_request *next; /* destination FIFO */
};

struct qmgr_msg {
	struct qmgr *q;
	char qid[QID_LEN + 1];
	int fd;		     /* O_RDWR, on active/QID */
	long long activated; /* usec, for delays=a/b/c/d */
	struct qfile qf;
	struct qmgr_result *res; /* qf.nrcpt entries */
	size_t holds;		 /* outstanding requests (+1 while planning) */
};

struct qmgr_request *request_new(struct qmgr_msg *msg, const size_t *rcpt, size_t n);
void request_free(struct qmgr_request *r);
/* Builds the {op=deliver ...} record (proto.h) into out. */
void request_encode(const struct qmgr_request *r, struct buf *out);
/*
 * Applies one {op=status} record from the agent.  Returns 0, or -1 with
 * *why set when the record is malformed or names a recipient that is not
 * in the request or was already reported (a protocol error).
 */
int request_status(struct qmgr_request *r, const struct ipc_msg *m, const char **why);
/* Gives every recipient of r without a status this result. */
void request_fail(struct qmgr_request *r, enum qf_status st, const char *dsn, const char *reason);
/* Records a result for one recipient of msg (replacing an earlier one). */
void msg_result_set(
    struct qmgr_msg *msg, size_t i, enum qf_status st, const char *dsn, const char *reason);
void msg_results_free(struct qmgr_msg *msg);

/* ---- deliver.c: transports and agent connections ---- */

struct qmgr_conn;

/* One destination: a transport and a next hop ("smtp", "example.com").
 * Its own FIFO of requests, its own concurrency window (slow start:
 * initial_destination_concurrency, +1 per good request up to the limit,
 * -1 per failed one), and a dead mark after connection-level failures. */
struct qmgr_dest {
	char *nexthop;
	struct qmgr_transport *tp;
	struct qmgr_request *head, *tail; /* waiting requests */
	size_t nwait;
	size_t nconn;	      /* requests in flight */
	size_t window;	      /* current concurrency */
	size_t fails;	      /* failed requests in a row */
	long long dead_until; /* epoch seconds; 0 = alive */
	char *dead_reason;
	struct qmgr_dest *next;
};

struct qmgr_transport {
	char name[32];
	struct qmgr_conn *conns;
	size_t nconn;
	size_t dest_limit;	  /* <name>_destination_concurrency_limit */
	size_t rcpt_limit;	  /* <name>_destination_recipient_limit */
	struct qmgr_dest *dests;  /* round-robin ring order */
	struct qmgr_dest *cursor; /* where the next round starts */
	struct qmgr_transport *next;
};

/* The transport called name (created on first use). */
struct qmgr_transport *deliver_transport(struct qmgr *q, const char *name);
/* The destination nexthop of tp (created on first use). */
struct qmgr_dest *deliver_dest(struct qmgr_transport *tp, const char *nexthop);
/* Queues r on its destination and starts it when a connection is free;
 * a dead destination defers it at once, without an attempt. */
void deliver_submit(struct qmgr *q, struct qmgr_request *r);
/* Per-transport limit: "<tp>_destination_<what>_limit" when set (in
 * main.cf or params.c), else def. */
size_t deliver_tp_limit(const char *tp, const char *what, size_t def);
/* Slow start and dead marking (pure; exposed for tests).  site_fail:
 * the request failed at the connection level. */
void dest_feedback(struct qmgr_dest *d, bool site_fail, size_t initial, long long now,
    long dead_time, const char *reason);
bool dest_dead(struct qmgr_dest *d, long long now);
void deliver_free_all(struct qmgr *q);
/* Forgets every dead mark (tern queue flush). */
void deliver_revive(struct qmgr *q);
/* True when name is usable as a service (socket) name. */
bool deliver_transport_name_ok(const char *name);

/* ---- message.c ---- */

/* Loads qid from queue from (QUEUE_INCOMING or QUEUE_DEFERRED), moves it
 * to active/ and starts delivery.  Idempotent.  Returns false when the
 * active limit is reached (the caller retries later), true otherwise. */
bool msg_activate(struct qmgr *q, const char *qid, const char *from);
/* Makes the "sent" results of request r durable at once, so a crash of
 * qmgr before the message finishes does not deliver them again. */
void msg_journal_sent(struct qmgr_msg *msg, const struct qmgr_request *r);
/* Called when one request of msg is done (or planning ended). */
void msg_release(struct qmgr_msg *msg);
/* Logs a result that no delivery agent logged (qmgr's own decisions). */
void msg_log_result(
    const struct qmgr_msg *msg, size_t i, const char *relay, long long request_usec);

/* ---- scan.c ---- */

/* Start-up: active/ back to incoming/, then both scans; arms the
 * periodic scans. */
void scan_start(struct qmgr *q);
void scan_recover(struct qmgr *q);
void scan_incoming(struct qmgr *q);
void scan_deferred(struct qmgr *q);
/* Removes a cleanup temporary file ".xxx" that no cleanup holds locked,
 * once its ctime is more than 10 s before now. */
void scan_temp_file(int dirfd, const char *name, long long now);

/* ---- schedule.c: timer glue ---- */

/* Remembers qid as due at time due (epoch seconds) and arms the timer. */
void sched_add(struct qmgr *q, const char *qid, long long due);
/* Activates due messages while below the active limit. */
void sched_run(struct qmgr *q);
/* Asks for a feed round (scans and due retries) from the event loop. */
void qmgr_kick(struct qmgr *q);

/* ---- bounce.c ---- */

/*
 * Queues a notice of kind about recipients idx[0..n) of msg (their status
 * and reason from msg->res, else from the journal) through cleanup.
 * Returns 0 once it is durably queued - or when nobody is to be told (mail
 * from double_bounce_sender, a delay or success notice for mail from <>) -
 * and -1 when it could not be queued (logged; try again later).
 */
int bounce_send(struct qmgr_msg *msg, enum dsn_kind kind, const size_t *idx, size_t n);

/* ---- notify.c ---- */

void notify_accept(struct event_loop *loop, int fd, void *ctx);

/* ---- the process state ---- */

struct qmgr {
	struct event_loop *loop;
	struct qmgr_config cf;
	struct qset known;  /* active and scheduled queue IDs */
	struct qset warned; /* bad names already warned about */
	struct sched_heap heap;
	struct event_timer *sched_timer;
	long long sched_armed; /* due time the timer is set for */
	struct event_timer *kick_timer;
	size_t active; /* messages in memory */
	size_t rcpts;  /* their recipients */
	bool backlog;  /* incoming scan stopped at the limit */
	bool draining; /* SIGHUP: activate nothing new */
	struct qmgr_transport *transports;
};

#endif
