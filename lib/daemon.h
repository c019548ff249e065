/*
 * daemon.h - what every tern daemon does first, in one place.
 *
 * master starts a daemon as
 *     <daemon_directory>/<command> -c CONFIG_DIR -n SERVICE -t inet|unix
 *         [-v] [-o name=value]... [args from master.cf]
 * with the service's listening socket on descriptor 3 (DAEMON_LISTEN_FD),
 * the write end of the service's status pipe on descriptor 4
 * (DAEMON_STATUS_FD, with TERN_STATUS_FD=4 in the environment; see
 * proc_status.h) and, in the foreground, TERN_LOG_STDERR=1.
 *
 * daemon_init() parses those options, loads main.cf, applies -o overrides,
 * opens the log, and then - unless DAEMON_KEEP_ROOT - drops privileges to
 * mail_owner before the caller reads a byte from the network or the queue.
 * Afterwards the working directory is queue_directory.  The parameter
 * service_name is the master.cf service name, as in Postfix.
 *
 * A daemon exits when master dies: event servers at once, blocking
 * servers between clients (daemon_status.c).
 */
#ifndef TERN_DAEMON_H
#define TERN_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "event.h"
#include "mastercf.h"

#define DAEMON_LISTEN_FD 3
#define DAEMON_STATUS_FD 4
#define DAEMON_KEEP_ROOT 0x1 /* master and local stay root */
#define DAEMON_NO_LISTEN 0x2 /* no socket on fd 3 expected */

struct daemon {
	const char *prog;    /* "smtpd" */
	const char *service; /* master.cf service name */
	enum service_type type;
	int listen_fd;	     /* DAEMON_LISTEN_FD or -1 */
	char **args;	     /* remaining arguments, NULL-terminated */
	volatile int stop;   /* set by SIGTERM (blocking servers) */
	volatile int reload; /* set by SIGHUP: finish work, then exit */
};

void daemon_init(struct daemon *d, int argc, char **argv, const char *prog, int flags);

/*
 * Event-driven servers: watches the listening socket, accepts every
 * pending connection (non-blocking, close-on-exec) and calls fn for each.
 * SIGTERM stops the loop at once; SIGHUP stops accepting and calls
 * idle_check (may be NULL) after each round; the loop stops when it
 * returns true.  daemon_stop_accepting() stops accepting for good (a
 * process that is about to exit).
 */
typedef void daemon_accept_fn(struct event_loop *loop, int fd, void *ctx);
typedef bool daemon_idle_fn(void *ctx);
void daemon_event_server(struct daemon *d, struct event_loop *loop, daemon_accept_fn *fn,
    daemon_idle_fn *idle_check, void *ctx);
void daemon_stop_accepting(struct daemon *d, struct event_loop *loop);
bool daemon_stopping(struct daemon *d);

/*
 * Blocking servers (one client at a time, several processes share the
 * socket): accepts, calls fn(fd) which serves the client until it is done
 * (and closes fd), and returns after max_use clients, after max_idle
 * seconds without a client (timers do not count as clients), or on
 * SIGTERM/SIGHUP between clients.
 */
typedef void daemon_serve_fn(int fd, void *ctx);
void daemon_blocking_server(struct daemon *d, daemon_serve_fn *fn, void *ctx);

/*
 * Timers, for either kind of server: fn runs ms milliseconds from now (or
 * later), from the event loop of an event server (timers added before
 * daemon_event_server() wait for it), or between two clients of a
 * blocking server, never while one is served.  daemon_timer_after() runs
 * fn once; daemon_timer_every() every ms until cancelled.  A handle stays
 * valid until its one-shot timer has run or the timer is cancelled; fn
 * may add and cancel timers, its own included.
 */
struct daemon_timer;
typedef void daemon_timer_fn(struct daemon *d, void *ctx);
struct daemon_timer *daemon_timer_after(struct daemon *d, long ms, daemon_timer_fn *fn, void *ctx);
struct daemon_timer *daemon_timer_every(struct daemon *d, long ms, daemon_timer_fn *fn, void *ctx);
void daemon_timer_cancel(struct daemon *d, struct daemon_timer *t);

/*
 * The status pipe to master (daemon_status.c); all no-ops when master did
 * not give one.  The server loops above report busy/available
 * themselves; a daemon with a loop of its own calls
 * daemon_status_set_busy() around each client and polls
 * daemon_status_fd() (POLLERR: master has gone).
 */
void daemon_status_open(void);
int daemon_status_fd(void);
void daemon_status_set_busy(bool busy);
bool daemon_master_gone(void);
void daemon_status_watch(struct event_loop *loop);
void daemon_parent_watch(pid_t parent);

#endif
