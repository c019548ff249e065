/*
 * dispatch.h - postlogin's parts: the login connections (main.c) and the
 * users' processes (userproc.c).  See postlogin(8).
 */
#ifndef TERN_POSTLOGIN_DISPATCH_H
#define TERN_POSTLOGIN_DISPATCH_H

#include <stdbool.h>

#include "event.h"
#include "login/handoff.h"

void userproc_init(struct event_loop *loop);
/*
 * Gives the client connection fd (the dispatcher's copy; closed here
 * either way) with h (op CLIENT, account filled) to a process of that
 * user and service, starting one when none has room.  The pid, or -1
 * with *why (static) when no process could take it.
 */
long userproc_give(const struct handoff *h, int fd, const char **why);
/* SIGCHLD: reaps children and forgets the processes that ended. */
void userproc_reap(void);
unsigned userproc_count(void);
/* The program in daemon_directory of a service: its name, but for
 * "sieve" (ManageSieve's service, as Dovecot names it): "managesieve". */
const char *userproc_program(const char *service);

#endif
