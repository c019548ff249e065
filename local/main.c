/*
 * main.c - the local delivery agent: delivers the recipients qmgr hands
 * it to virtual mailboxes (Maildir) and to system users (aliases,
 * .forward, mbox or Maildir, commands).
 *
 * It stays root (DAEMON_KEEP_ROOT) only to take each mailbox owner's
 * identity for the delivery; it serves one qmgr connection at a time and
 * master runs as many processes as maxproc allows.
 */
#include "daemon.h"
#include "local.h"

int main(int argc, char **argv)
{
	struct daemon d;

	daemon_init(&d, argc, argv, "local", DAEMON_KEEP_ROOT);
	daemon_blocking_server(&d, local_serve, NULL);
	return 0;
}
