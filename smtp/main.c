/*
 * main.c - the smtp delivery agent (also the lmtp, error and discard
 * agents).
 *
 * Serves one qmgr request at a time, like local, in the daemon skeleton's
 * blocking server: it exits after max_use requests or max_idle seconds
 * without work (master starts a fresh process), and on SIGTERM/SIGHUP
 * between requests.  Between requests a daemon timer closes cached SMTP
 * sessions when smtp_connection_cache_time_limit runs out.
 *
 * The mode is the master.cf service name ("error", "discard", "lmtp";
 * anything else is smtp), or the first argument after the options when given, so
 * "retired  unix - - n - 1 smtp error" works too.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "dns.h"
#include "log.h"
#include "mtasts_cache.h"
#include "proto.h"
#include "smtp.h"

static struct {
	enum smtp_mode mode;
	struct daemon_timer *cache_timer;
} smtp_main;

static enum smtp_mode smtp_mode_of(const struct daemon *d)
{
	const char *name = d->args && d->args[0] ? d->args[0] : d->service;

	if (name && strcmp(name, SERVICE_ERROR) == 0)
		return SMTP_MODE_ERROR;
	if (name && strcmp(name, SERVICE_DISCARD) == 0)
		return SMTP_MODE_DISCARD;
	if (name && strcmp(name, SERVICE_LMTP) == 0)
		return SMTP_MODE_LMTP;
	return SMTP_MODE_SMTP;
}

/* Closes the cached sessions whose time is up; runs again when the next
 * one's is. */
static void smtp_cache_tick(struct daemon *d, void *ctx)
{
	long next = smtp_cache_expire();

	smtp_main.cache_timer =
	    next >= 0 ? daemon_timer_after(d, next + 1, smtp_cache_tick, ctx) : NULL;
}

/* One request; a session it left in the cache needs the timer. */
static void smtp_serve_one(int fd, void *ctx)
{
	struct daemon *d = ctx;

	smtp_serve(fd, &smtp_main.mode);
	if (smtp_main.cache_timer)
		daemon_timer_cancel(d, smtp_main.cache_timer);
	smtp_cache_tick(d, NULL);
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct buf why = BUF_INIT;

	daemon_init(&d, argc, argv, "smtp", 0);
	smtp_main.mode = smtp_mode_of(&d);
	smtp_params_lmtp(smtp_main.mode == SMTP_MODE_LMTP);
	/* Postfix's lmtp(8), error(8) and discard(8) log under their names. */
	if (smtp_main.mode == SMTP_MODE_LMTP)
		log_set_progname(SERVICE_LMTP);
	else if (smtp_main.mode == SMTP_MODE_ERROR)
		log_set_progname(SERVICE_ERROR);
	else if (smtp_main.mode == SMTP_MODE_DISCARD)
		log_set_progname(SERVICE_DISCARD);
	if (!dns_init(config_time("smtp_dns_timeout") * 1000, &why))
		log_warn("%s", buf_cstr(&why));
	buf_free(&why);
	daemon_blocking_server(&d, smtp_serve_one, &d);
	smtp_cache_flush();
	mtasts_cache_close();
	dns_reset();
	return 0;
}
