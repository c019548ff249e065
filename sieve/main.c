/*
 * main.c - managesieve: a user's ManageSieve sessions after login
 * (managesieve(8)).
 *
 * Started by postlogin as the account's owner, never by master; one
 * process serves the sessions of one user and ends with the last of them.
 */
#include "daemon.h"
#include "log.h"
#include "login/postlogin.h"
#include "managesieve.h"

int main(int argc, char **argv)
{
	struct daemon d;
	struct event_loop *loop;

	daemon_init(&d, argc, argv, "managesieve", DAEMON_NO_LISTEN | DAEMON_KEEP_ROOT);
	if (!postlogin_started())
		log_fatal("managesieve is started by postlogin for a user, not by hand or master");
	loop = event_loop_new();
	return postlogin_run(loop, msv_session_start, NULL);
}
