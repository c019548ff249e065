/*
 * master.h - the supervisor's shared state.
 *
 * master reads master.cf, owns every listening socket, and runs the
 * processes of each service: a few up front, more on demand up to the
 * service's maxproc, each reporting over the service's status pipe when
 * it is busy (avail.c).  It restarts a process that dies, with a back-off
 * that grows while the service keeps failing, re-reads its files on
 * SIGHUP and stops everything on SIGTERM.
 *
 * One master.cf entry may become several services here: an inet entry
 * without a host listens on every address of inet_interfaces, one socket
 * (and one set of processes) each.  Postfix's own helper daemons in a
 * master.cf are skipped; mastercf_plan() says which.
 */
#ifndef TERN_MASTER_H
#define TERN_MASTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "event.h"
#include "mastercf.h"

struct mservice {
	struct master_service cf; /* deep copy of the master.cf entry */
	struct service_plan plan; /* what runs, and where its socket goes */
	char *key;		  /* identity across reloads: every column, and the address */
	char *listen_spec;	  /* inet: the address bound; else NULL */
	bool listen_optional;	  /* inet: may fail to bind (implied IPv6) */
	char *path;		  /* program to execute */
	char *sock_path;	  /* UNIX services */
	int listen_fd;
	int status_fd[2]; /* status pipe: [0] master reads, [1] children's fd 4 */
	struct buf status_in;
	int limit;    /* most processes; 0: no limit */
	int prestart; /* processes kept running without demand */
	int running;
	int draining; /* inet: running ones told to reload; they finish their
		       * sessions and exit, and count against no limit */
	int avail;    /* running processes that can take a client */
	bool watching;
	int failures;	      /* consecutive early deaths */
	long long not_before; /* no start before this (monotonic ms) */
	struct event_timer *timer;
	struct event_timer *healthy; /* the probe after failures lived long enough */
	bool retired;		     /* removed by a reload; goes when empty */
	struct mservice *next;
};

struct mchild {
	pid_t pid;
	struct mservice *svc;
	long long started; /* monotonic ms */
	bool busy;
	int signalled; /* the last signal master sent it, or 0 */
	bool draining; /* sent SIGHUP: exits once its sessions are done */
	struct mchild *next;
};

struct master {
	struct event_loop *loop;
	const char *confdir;
	bool foreground;
	int verbose;
	bool stopping;
	struct mservice *services;
	struct mchild *children;
	int pid_fd;
};

/* service.c */
int master_services_load(struct master *m, bool reload);
void master_service_close(struct mservice *s);
void master_services_unwatch(struct master *m);
void master_services_prune(struct master *m);
void master_queue_setup(void);

/* spawn.c */
void master_spawn_all(struct master *m);
void master_spawn_service(struct master *m, struct mservice *s);
void master_spawn_one(struct master *m, struct mservice *s);
void master_reap(struct master *m);
void master_signal_children(struct master *m, struct mservice *only, int signo);
int master_child_count(struct master *m);

/* avail.c */
void master_status_open(struct master *m, struct mservice *s);
void master_status_close(struct master *m, struct mservice *s);
void master_avail_update(struct master *m, struct mservice *s);
void master_avail_child_gone(struct mservice *s, struct mchild *c);

#endif
