/*
 * main.c - the pipe delivery agent (pipe.h): reads its master.cf
 * attributes, stops with the reason when they are wrong, and serves one
 * qmgr request at a time.  It stays root to run each command as user=.
 */
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "pipe.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct daemon d;
	struct pipe_conf conf;
	struct buf err = BUF_INIT;
	struct pipe_vars probe = {"", "", "", 0, (const char *[]){"probe@probe"}, NULL, 1, 0, ""};
	char **words;

	daemon_init(&d, argc, argv, "pipe", DAEMON_KEEP_ROOT);
	if (pipe_conf_parse(d.args, &conf, &err) < 0)
		log_fatal("service %s: %s", d.service, buf_cstr(&err));
	if (pipe_conf_user(&conf, &err) < 0) {
		log_warn("service %s: %s: every delivery is deferred", d.service, buf_cstr(&err));
		conf.user_error = xstrdup(buf_cstr(&err));
		buf_reset(&err);
	}
	/* An unknown macro is a configuration error now, not at the first message. */
	if ((words = pipe_expand_argv(conf.argv, &probe, &err)) == NULL)
		log_fatal("service %s: %s", d.service, buf_cstr(&err));
	strv_free(words);
	buf_free(&err);
	daemon_blocking_server(
	    &d, deliver_agent_serve, &(struct deliver_agent){NULL, pipe_deliver, &conf});
	pipe_conf_free(&conf);
	return 0;
}
