/*
 * login/login_main.c - a login process: set-up, privileges, accepting.
 *
 * As root: the TLS context (the key is root's), login/ made; then the
 * process chroots into queue_directory/login/, where only the sockets of
 * auth and postlogin are, and becomes default_login_user for good.  A
 * login process that is broken into can talk to those two sockets and
 * nothing else: it can try passwords (auth counts and delays failures
 * per client address) and hand over connections with tokens it got from
 * auth, which postlogin redeems; it cannot read mail or the users file.
 * Run as another user (an instance), it only changes into login/.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/client.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "login/login_dir.h"
#include "login/login_int.h"
#include "privs.h"
#include "util.h"

#define LOGIN_AUTH_WAIT_MS 10000

struct login_engine login_engine;
static struct daemon login_daemon;

static const struct tls_server_params login_tls_params = {
    .cert_file = "login_tls_cert_file",
    .key_file = "login_tls_key_file",
    .protocols = "login_tls_protocols",
    .mandatory_protocols = "login_tls_mandatory_protocols",
    .ask_ccert = "login_tls_ask_ccert",
    .security_level = "login_tls_security_level",
    .wrappermode = "login_tls_wrappermode",
};

const char *login_mechanisms(void)
{
	const char *m = auth_client_mechanisms(login_engine.auth);

	return m ? m : "";
}

const char *login_greeting(void)
{
	return config_str("login_greeting");
}

static void login_accept(struct event_loop *loop, int fd, void *ctx)
{
	(void)ctx;
	login_client_accept(loop, fd);
}

/* After SIGHUP: done when no client is left (relayed ones included). */
static bool login_idle(void *ctx)
{
	(void)ctx;
	return login_engine.nclients == 0;
}

int login_main(int argc, char **argv, const struct login_proto *proto)
{
	char *prog = proto->program ? xstrdup(proto->program) : xasprintf("%s-login", proto->name);

	daemon_init(&login_daemon, argc, argv, prog, DAEMON_KEEP_ROOT);
	tls_server_init(&login_tls_params);
	login_dir_confine();
	login_engine.proto = proto;
	login_engine.client_limit = config_int("login_client_limit");
	login_engine.idle_ms = config_time("login_idle_timeout") * 1000;
	login_engine.failure_limit = (unsigned)config_int("login_auth_failure_limit");
	login_engine.loop = event_loop_new();
	if (!login_socket_wait("auth", LOGIN_AUTH_WAIT_MS))
		log_warn("auth's socket is not there yet: logins fail until it is");
	login_engine.auth = auth_client_new(
	    login_engine.loop, "auth", proto->name, config_time("auth_request_timeout") * 1000);
	daemon_event_server(&login_daemon, login_engine.loop, login_accept, login_idle, NULL);
	if (event_loop_run(login_engine.loop) < 0)
		log_fatal("event loop failed");
	return 0;
}
