/*
 * instance_procs.h - finding and stopping the processes of an instance
 * whose master has died.
 *
 * Normally a daemon exits by itself when its master goes (daemon.h).  One
 * that is still busy with a client (a delivery) finishes it first, and
 * one that was hung, stopped or out of reach does not notice at all.
 * "tern stop", "tern status" and a starting master use these functions,
 * so that a new master never shares its sockets with the old one's
 * children.
 *
 * A process belongs to the instance when its program lies in
 * daemon_directory and its arguments carry "-c <config_directory>", as
 * master starts every daemon.  Only processes the caller may signal are
 * found (root: all; another user: its own); the caller and its parent (a
 * master waiting for its detached child) never.
 */
#ifndef TERN_INSTANCE_PROCS_H
#define TERN_INSTANCE_PROCS_H

#include <stddef.h>
#include <sys/types.h>

struct instance_proc {
	pid_t pid;
	char name[32]; /* program name, for messages */
};

/* Scans /proc; returns the count with *out allocated (free()), 0 when none. */
size_t instance_procs_find(
    const char *config_dir, const char *daemon_dir, struct instance_proc **out);

/*
 * Sends SIGTERM to each, waits up to grace_ms for them to go, then sends
 * SIGKILL to the rest and waits a little more.  Returns how many are
 * still there (0 normally).
 */
size_t instance_procs_stop(const struct instance_proc *procs, size_t n, long grace_ms);

#endif
