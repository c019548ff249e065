/*
 * master.h - the supervisor's shared state.
 *
 * master reads master.cf, owns every listening socket, and keeps for each
 * service the configured number of processes running (tern's daemons are
 * event-driven or share their socket, so they are started up front rather
 * than per connection).  It restarts a process that dies, with a back-off
 * that grows while the process keeps dying young, re-reads its files on
 * SIGHUP and stops everything on SIGTERM.
 */
#ifndef TERN_MASTER_H
#define TERN_MASTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "event.h"
#include "mastercf.h"

struct mservice {
	struct master_service cf; /* deep copy of the master.cf entry */
	char *key;		  /* "name/type", identity across reloads */
	char *path;		  /* program to execute */
	char *sock_path;	  /* UNIX services */
	int listen_fd;
	int wanted; /* processes to keep running */
	int running;
	int failures;	      /* consecutive early deaths */
	long long not_before; /* no start before this (monotonic ms) */
	struct event_timer *timer;
	bool retired; /* removed by a reload; goes when empty */
	struct mservice *next;
};

struct mchild {
	pid_t pid;
	struct mservice *svc;
	long long started; /* monotonic ms */
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
void master_services_prune(struct master *m);
void master_queue_setup(void);

/* spawn.c */
void master_spawn_all(struct master *m);
void master_spawn_service(struct master *m, struct mservice *s);
void master_reap(struct master *m);
void master_signal_children(struct master *m, struct mservice *only, int signo);
int master_child_count(struct master *m);

#endif
