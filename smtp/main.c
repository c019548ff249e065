/*
 * main.c - the smtp delivery agent (also the error and discard agents).
 *
 * Serves one qmgr request at a time, like local, with a loop of its own
 * instead of daemon_blocking_server(): between requests it must also
 * close cached SMTP sessions when smtp_connection_cache_time_limit runs
 * out, so the poll on the listening socket wakes up for that.  It exits
 * after max_use requests or max_idle seconds without work (master starts
 * a fresh process), and on SIGTERM/SIGHUP between requests.
 *
 * The mode is the master.cf service name ("error", "discard"; anything
 * else is smtp), or the first argument after the options when given, so
 * "retired  unix - - n - 1 smtp error" works too.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "daemon.h"
#include "dns.h"
#include "log.h"
#include "smtp.h"
#include "sock.h"
#include "util.h"

static volatile sig_atomic_t smtp_stop;

static void smtp_on_signal(int signo)
{
	(void)signo;
	smtp_stop = 1;
}

static enum smtp_mode smtp_mode_of(const struct daemon *d)
{
	const char *name = d->args && d->args[0] ? d->args[0] : d->service;

	if (name && strcmp(name, "error") == 0)
		return SMTP_MODE_ERROR;
	if (name && strcmp(name, "discard") == 0)
		return SMTP_MODE_DISCARD;
	return SMTP_MODE_SMTP;
}

static void smtp_loop(struct daemon *d, enum smtp_mode *mode)
{
	long max_use = config_int("max_use");
	long long max_idle = config_time("max_idle") * 1000;
	long long idle_start = mono_msec();
	long served = 0;

	sock_nonblock(d->listen_fd, true);
	while (!smtp_stop && (max_use <= 0 || served < max_use)) {
		struct pollfd p = {.fd = d->listen_fd, .events = POLLIN};
		long next = smtp_cache_expire();
		long long left = max_idle > 0 ? idle_start + max_idle - mono_msec() : 3600000;
		int n, cfd;

		if (left <= 0)
			break; /* idle too long: master starts a fresh one */
		if (next >= 0 && next < left)
			left = next + 1;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		if (n <= 0)
			continue;
		cfd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			continue;
		}
		daemon_status_set_busy(true); /* master starts another if needed */
		smtp_serve(cfd, mode);
		daemon_status_set_busy(false);
		served++;
		idle_start = mono_msec();
	}
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct sigaction sa;
	enum smtp_mode mode;

	daemon_init(&d, argc, argv, "smtp", 0);
	mode = smtp_mode_of(&d);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = smtp_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	smtp_loop(&d, &mode);
	smtp_cache_flush();
	dns_reset();
	return 0;
}
