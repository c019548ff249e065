/*
 * main.c - the local delivery agent: delivers the recipients qmgr hands
 * it to virtual mailboxes (Maildir) and to system users (aliases,
 * .forward, mbox or Maildir, commands).
 *
 * Run as Postfix's "virtual" (the service name or the argument
 * "virtual"), it is Postfix's virtual(8): every recipient is looked up in
 * virtual_mailbox_maps, whatever its address class.
 *
 * Run as "local quota-status" (or a service named quota-status), it is a
 * policy server for smtpd telling whether a recipient's mailbox is full
 * (quota_status.c).
 *
 * It stays root (DAEMON_KEEP_ROOT) only to take each mailbox owner's
 * identity for the delivery; it serves one qmgr connection at a time and
 * master runs as many processes as maxproc allows.
 */
#include <stdbool.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "local.h"
#include "proto.h"

int main(int argc, char **argv)
{
	struct daemon d;
	const char *mode;
	static bool virtual_only;

	daemon_init(&d, argc, argv, "local", DAEMON_KEEP_ROOT);
	/* Postfix's virtual(8) entry ("virtual unix - n n - - virtual"), or
	 * a service named virtual: every recipient is a virtual mailbox. */
	mode = d.args && d.args[0] ? d.args[0] : d.service;
	virtual_only = mode && strcmp(mode, SERVICE_VIRTUAL) == 0;
	if (virtual_only)
		log_set_progname(SERVICE_VIRTUAL); /* "tern/virtual", as Postfix's virtual(8) */
	if (mode && strcmp(mode, "quota-status") == 0) {
		log_set_progname("quota-status");
		daemon_blocking_server(&d, quota_status_serve, &virtual_only);
		return 0;
	}
	daemon_blocking_server(&d, local_serve, &virtual_only);
	return 0;
}
