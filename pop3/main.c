/*
 * main.c - pop3: a user's POP3 sessions after login (pop3(8)).
 *
 * Started by postlogin as the mailbox owner, never by master; one process
 * serves the sessions of one user (postlogin_client_limit) and ends with
 * the last of them.
 */
#include "daemon.h"
#include "log.h"
#include "login/postlogin.h"
#include "pop3.h"

int main(int argc, char **argv)
{
	struct daemon d;
	struct event_loop *loop;

	daemon_init(&d, argc, argv, "pop3", DAEMON_NO_LISTEN | DAEMON_KEEP_ROOT);
	if (!postlogin_started())
		log_fatal("pop3 is started by postlogin for a user, not by hand or master");
	loop = event_loop_new();
	return postlogin_run(loop, pop3_session_start, NULL);
}
