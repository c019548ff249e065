/*
 * deliver_agent.h - the request loop every delivery agent shares (local,
 * smtp with its error/discard/lmtp modes, pipe).
 *
 * qmgr connects, sends one {op=deliver} request with the queue file's
 * descriptor attached (deliver_request.h), reads one {op=status} per
 * recipient and then {op=done}.  deliver_agent_serve() does everything
 * around the delivery itself: it reads and decodes the request once,
 * checks the descriptor, calls the agent's deliver function, sends
 * {op=done} and closes the queue file and the connection.  The agent
 * reports each recipient with deliver_job_report(), which writes the
 * Postfix-shaped log line (lib/dsn_log.c) and sends the status at once,
 * so a crash half-way loses no finished work.
 *
 * A request that cannot be decoded, that the agent's accept function
 * refuses, or that comes without a descriptor is a protocol error: the
 * connection is closed and qmgr defers what got no status.
 *
 * One request per connection, served in the daemon's blocking server:
 * the agent processes share one listening socket, so an idle connection
 * kept open would hold a process while new ones wait (see qmgr/deliver.c).
 */
#ifndef TERN_DELIVER_AGENT_H
#define TERN_DELIVER_AGENT_H

#include "deliver_request.h"
#include "ipc.h"

struct deliver_job {
	struct deliver_request dr; /* the decoded request */
	int fd;			   /* the queue file, read-only: read with pread only */
	long long received;	   /* now_usec() when the request arrived */
	struct ipc_conn *conn;
};

/* The delivery: reports every recipient (deliver_job_report); 0, or -1
 * when a report could not be sent (the connection is then dropped). */
typedef int deliver_agent_fn(struct deliver_job *job, void *ctx);
/* Agent-specific checks of a decoded request: NULL, or why it is refused. */
typedef const char *deliver_accept_fn(const struct deliver_request *r, void *ctx);

struct deliver_agent {
	deliver_accept_fn *accept; /* may be NULL */
	deliver_agent_fn *deliver;
	void *ctx;
};

/* daemon_serve_fn: serves the one request of the connection fd;
 * ctx is a struct deliver_agent. */
void deliver_agent_serve(int fd, void *ctx);

/* One recipient's outcome, for deliver_job_report(). */
struct deliver_outcome {
	const char *result; /* RES_SENT, RES_DEFERRED or RES_BOUNCED */
	const char *dsn;    /* "2.0.0" */
	const char *reason;
	const char *relay;   /* "local", "host[addr]:port", "none" */
	long long connected; /* delays c ends here (0: when the request came) */
	bool relayed;	     /* a success is DSN action "relayed" (pipe without X) */
	bool notified;	     /* the next hop took NOTIFY: no success notice here */
};

/* Logs the recipient's line and sends its status; 0 or -1. */
int deliver_job_report(
    struct deliver_job *job, const struct deliver_rcpt *rc, const struct deliver_outcome *o);

/*
 * The two halves, for an agent that delivers one recipient to several
 * addresses (local's aliases): a "to=<to>, orig_to=<...>" line per
 * address (orcpt "type;address", NULL for none), one status to qmgr.
 */
void deliver_job_log(
    struct deliver_job *job, const char *to, const char *orcpt, const struct deliver_outcome *o);
int deliver_job_status(
    struct deliver_job *job, const struct deliver_rcpt *rc, const struct deliver_outcome *o);

#endif
