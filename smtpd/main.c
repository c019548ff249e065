/*
 * main.c - smtpd's start, its event loop, and accepting clients.
 *
 * One process serves many sessions; master runs several such processes on
 * the same listening socket.  A process that has served max_use sessions
 * exits the first time it has none left, and one without a session for
 * max_idle seconds exits too; master replaces it with a fresh one (which
 * also picks up a changed main.cf).  A process past max_use keeps accepting
 * until then, as Postfix's multi-session servers do: master keeps maxproc
 * processes, and ones that stopped accepting while thousands of idle
 * clients stay connected would leave the port without a listener.  After
 * SIGHUP it stops accepting and exits once its sessions are done.
 *
 * Descriptors: a session needs one, two while it talks to cleanup.  The
 * process raises its descriptor limit to what smtpd_client_session_limit
 * needs at worst, and a client that would leave fewer than SMTPD_FD_RESERVE
 * descriptors free gets a 421 at once, rather than waiting in the listen
 * queue behind an accept() that fails with EMFILE.
 *
 * Not here: anything a session does (session.c and friends).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "anvil.h"
#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "dns.h"
#include "event.h"
#include "log.h"
#include "privs.h"
#include "smtpd.h"
#include "smtpd_spf.h"

/* Descriptors besides the sessions': log, listener, anvil, DNS, TLS files. */
#define SMTPD_FD_RESERVE 64

static struct {
	struct daemon d;
	struct event_loop *loop;
	long served;
	bool retiring; /* max_use reached: exit when the last one ends */
	long fd_limit; /* RLIMIT_NOFILE as raised */
	struct event_timer *idle_timer;
} smtpd;

/* Answers came in: sessions waiting for DNS run their command again. */
static void smtpd_dns_wake(void *ctx)
{
	(void)ctx;
	session_dns_wake();
}

/* reject_unknown_*_domain look-ups run in the event loop: no command
 * blocks the other sessions.  smtpd_dns_timeout bounds a look-up. */
static void smtpd_dns_setup(struct event_loop *loop)
{
	struct buf why = BUF_INIT;

	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why))
		log_warn("%s: domain look-ups fail temporarily", buf_cstr(&why));
	buf_free(&why);
	dns_event_attach(loop);
	dns_poll_wake(smtpd_dns_wake, NULL);
}

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
		/* No client may be accepted into a loop that is stopping. */
		daemon_stop_accepting(&smtpd.d, loop);
		event_loop_stop(loop);
		return;
	}
	if (max_idle > 0 && smtpd.idle_timer == NULL)
		smtpd.idle_timer = event_timer_add(loop, max_idle * 1000, smtpd_idle_expired, NULL);
}

/* Over the per-process cap: a 421 (RFC 5321 3.8) on a fresh socket, whose
 * send buffer surely takes it, then close. */
static void smtpd_refuse(int fd, const char *why)
{
	char reply[600];
	int n = snprintf(
	    reply, sizeof(reply), "421 4.7.0 %s Error: %s\r\n", config_str("myhostname"), why);

	if (n > 0 &&
	    write(fd, reply, (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1) < 0)
		log_debug("421 to refused client: write failed");
	close(fd);
}

static void smtpd_accept(struct event_loop *loop, int fd, void *ctx)
{
	long limit = config_int("smtpd_client_session_limit");
	long max_use = config_int("max_use");

	(void)ctx;
	if (limit > 0 && session_count() >= (size_t)limit) {
		log_warn("too many sessions (smtpd_client_session_limit = %ld): refusing a client",
		    limit);
		smtpd_refuse(fd, "too many connections");
		return;
	}
	/* Descriptors are handed out lowest first: fd is about how many are open. */
	if (smtpd.fd_limit > 0 && fd >= smtpd.fd_limit - SMTPD_FD_RESERVE) {
		log_warn("out of descriptors (limit %ld): refusing a client", smtpd.fd_limit);
		smtpd_refuse(fd, "too many connections");
		return;
	}
	if (smtpd.idle_timer) {
		event_timer_cancel(loop, smtpd.idle_timer);
		smtpd.idle_timer = NULL;
	}
	if (max_use > 0 && ++smtpd.served >= max_use)
		smtpd.retiring = true;
	session_new(loop, fd);
}

/* The most descriptors the kernel lets a process have (fs.nr_open). */
static rlim_t smtpd_nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	unsigned long n = 0;

	if (f == NULL || fscanf(f, "%lu", &n) != 1 || n == 0)
		n = 1024 * 1024; /* the kernel's default */
	if (f)
		fclose(f);
	return (rlim_t)n;
}

/* Descriptors for limit sessions; without a limit, the hard limit's worth. */
static rlim_t smtpd_fds_wanted(long limit)
{
	rlim_t most = smtpd_nr_open();
	struct rlimit rl;

	if (limit <= 0)
		return getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < most ? rl.rlim_max
										: most;
	if ((rlim_t)limit > (most - SMTPD_FD_RESERVE) / 2)
		return most;
	return (rlim_t)limit * 2 + SMTPD_FD_RESERVE;
}

/*
 * Raises the descriptor limit to want.  Root (smtpd still is, here) may
 * also raise the hard limit, up to fs.nr_open; anyone may go up to it.
 */
static rlim_t smtpd_raise_fd_limit(rlim_t want)
{
	struct rlimit rl, up;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= want)
		return rl.rlim_cur;
	up.rlim_cur = want;
	up.rlim_max = rl.rlim_max > want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return want;
	up.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	up.rlim_max = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &up) == 0 ? up.rlim_cur : rl.rlim_cur;
}

/* Descriptors for smtpd_client_session_limit sessions, or a warning. */
static void smtpd_fd_setup(void)
{
	long limit = config_int("smtpd_client_session_limit");
	rlim_t got = smtpd_raise_fd_limit(smtpd_fds_wanted(limit));

	smtpd.fd_limit = got > (rlim_t)LONG_MAX ? LONG_MAX : (long)got;
	if (limit > 0 && smtpd.fd_limit > 0 && smtpd.fd_limit < limit + 2 * SMTPD_FD_RESERVE)
		log_warn("descriptor limit %ld: fewer than smtpd_client_session_limit = %ld "
			 "sessions per process",
		    smtpd.fd_limit, limit);
}

static const struct tls_server_params smtpd_tls_params = {
    .cert_file = "smtpd_tls_cert_file",
    .key_file = "smtpd_tls_key_file",
    .protocols = "smtpd_tls_protocols",
    .mandatory_protocols = "smtpd_tls_mandatory_protocols",
    .ask_ccert = "smtpd_tls_ask_ccert",
    .security_level = "smtpd_tls_security_level",
    .wrappermode = "smtpd_tls_wrappermode",
};

int main(int argc, char **argv)
{
	/* The TLS key is readable by root only: load it, then drop privileges. */
	daemon_init(&smtpd.d, argc, argv, "smtpd", DAEMON_KEEP_ROOT);
	smtpd_fd_setup();
	tls_server_init(&smtpd_tls_params);
	smtpd_spf_init();
	anvil_init("pid/smtpd.anvil");
	priv_drop(config_str("mail_owner"));
	smtpd.loop = event_loop_new();
	smtpd_dns_setup(smtpd.loop);
	session_init(smtpd_empty);
	smtpd_auth_init(smtpd.loop);
	daemon_event_server(&smtpd.d, smtpd.loop, smtpd_accept, session_idle, NULL);
	smtpd_empty(smtpd.loop);
	if (event_loop_run(smtpd.loop) < 0)
		log_fatal("event loop failed");
	session_shutdown();
	event_loop_free(smtpd.loop);
	return 0;
}
