/*
 * main.c - smtpd's start, its event loop, and accepting clients.
 *
 * One process serves many sessions; master runs several such processes on
 * the same listening socket.  A process retires after max_use sessions or
 * max_idle seconds without one, so master replaces it with a fresh one
 * (which also picks up a changed main.cf).  After SIGHUP it stops
 * accepting and exits once its sessions are done.
 *
 * Not here: anything a session does (session.c and friends).
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "anvil.h"
#include "config.h"
#include "daemon.h"
#include "dns_async.h"
#include "event.h"
#include "log.h"
#include "privs.h"
#include "smtpd.h"

static struct {
	struct daemon d;
	struct event_loop *loop;
	long served;
	bool retiring;          /* max_use reached: exit when the last one ends */
	struct event_timer *idle_timer;
} smtpd;

static void smtpd_idle_expired(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	smtpd.idle_timer = NULL;
	if (session_count() == 0) {
		log_debug("idle for max_idle: exiting");
		event_loop_stop(loop);
	}
}

/* Called when the last session ended. */
static void smtpd_empty(struct event_loop *loop)
{
	long max_idle = config_time("max_idle");

	if (smtpd.retiring) {
		event_loop_stop(loop);
		return;
	}
	if (max_idle > 0 && smtpd.idle_timer == NULL)
		smtpd.idle_timer = event_timer_add(loop, max_idle * 1000, smtpd_idle_expired, NULL);
}

/* Over the per-process cap: a 421 (RFC 5321 3.8) on a fresh socket, whose
 * send buffer surely takes it, then close. */
static void smtpd_refuse(int fd)
{
	char reply[600];
	int n = snprintf(reply, sizeof(reply), "421 4.7.0 %s Error: too many connections\r\n",
	    config_str("myhostname"));

	if (n > 0 && write(fd, reply, (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1) < 0)
		log_debug("421 to refused client: write failed");
	close(fd);
}

static void smtpd_accept(struct event_loop *loop, int fd, void *ctx)
{
	long limit = config_int("smtpd_client_session_limit");
	long max_use = config_int("max_use");

	(void)ctx;
	if (limit > 0 && session_count() >= (size_t)limit) {
		log_warn("too many sessions (smtpd_client_session_limit = %ld): refusing a client", limit);
		smtpd_refuse(fd);
		return;
	}
	if (smtpd.idle_timer) {
		event_timer_cancel(loop, smtpd.idle_timer);
		smtpd.idle_timer = NULL;
	}
	if (max_use > 0 && ++smtpd.served >= max_use && !smtpd.retiring) {
		smtpd.retiring = true;
		daemon_stop_accepting(&smtpd.d, loop);
	}
	session_new(loop, fd);
}

/* One process holds thousands of idle clients: use all descriptors allowed. */
static void smtpd_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_debug("cannot raise the descriptor limit");
	}
}

int main(int argc, char **argv)
{
	/* The TLS key is readable by root only: load it, then drop privileges. */
	daemon_init(&smtpd.d, argc, argv, "smtpd", DAEMON_KEEP_ROOT);
	smtpd_raise_fd_limit();
	tls_server_init();
	anvil_init("pid/smtpd.anvil");
	priv_drop(config_str("mail_owner"));
	smtpd.loop = event_loop_new();
	dns_async_init(smtpd.loop);
	session_init(smtpd_empty);
	daemon_event_server(&smtpd.d, smtpd.loop, smtpd_accept, session_idle, NULL);
	smtpd_empty(smtpd.loop);
	if (event_loop_run(smtpd.loop) < 0)
		log_fatal("event loop failed");
	session_shutdown();
	event_loop_free(smtpd.loop);
	return 0;
}
