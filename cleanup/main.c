/*
 * main.c - the cleanup daemon: turns one message stream from smtpd or
 * pickup into a complete, durable queue file in incoming/ and tells qmgr.
 *
 * One event-driven process serves many connections (conn.c); master runs
 * it as mail_owner.  What it does to a message: finds where the header
 * ends (header.c), prepends Received: (received.c), completes local
 * submissions and rewrite=yes clients (unqualified envelope addresses,
 * missing Date/Message-ID/From: missing.c), applies header_checks and
 * body_checks (checks.c), and writes the queue file durably before it
 * answers (store.c).  Local submissions go through non_smtpd_milters
 * first (milter.c).  Not yet: canonical rewriting and DMARC.  DKIM
 * verification and Authentication-Results: msgauth.c.
 */
#include <stdlib.h>

#include "cleanup.h"
#include "config.h"
#include "dns.h"
#include "milter.h"
#include "msgauth.h"
#include "daemon.h"
#include "event.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct daemon d;
	struct event_loop *loop;
	struct buf why = BUF_INIT;

	daemon_init(&d, argc, argv, "cleanup", 0);
	cleanup_store_init();
	cleanup_milter_init();
	if (!cleanup_msgauth_init(&why))
		log_fatal("%s", buf_cstr(&why));
	loop = event_loop_new();
	if (config_bool("dkim_verify"))
		dns_event_attach(loop);
	daemon_event_server(&d, loop, cleanup_conn_accept, cleanup_conn_idle, NULL);
	if (event_loop_run(loop) < 0)
		log_fatal("event loop failed");
	event_loop_free(loop);
	return 0;
}
