/*
 * main.c - http(8): the HTTPS front of the web access (webmail, JMAP,
 * autoconfig, metrics).
 *
 * Like imap-login: started by master on its listener, as root only long
 * enough to load the TLS key and open the static folder; then confined
 * to queue_directory/login/ (chrooted when root) as default_login_user,
 * where only auth's login socket and postlogin's are.  It can check
 * passwords through auth and hand channels to postlogin with auth's
 * tokens; it cannot read a mailbox: each user's JMAP requests go to that
 * user's jmap process (channel.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "login/login_dir.h"
#include "tls_server.h"
#include "util.h"

#define HTTP_AUTH_WAIT_MS 10000

struct http_state http;
static struct daemon http_daemon;

static const struct tls_server_params http_tls_params = {
    .cert_file = "http_tls_cert_file",
    .key_file = "http_tls_key_file",
    .protocols = "http_tls_protocols",
    .mandatory_protocols = "http_tls_protocols",
    .security_level = "http_tls_security_level",
};

static bool http_idle(void *ctx)
{
	(void)ctx;
	return http_server_clients() == 0;
}

int main(int argc, char **argv)
{
	const char *dir;

	daemon_init(&http_daemon, argc, argv, "http", DAEMON_KEEP_ROOT);
	tls_server_init(&http_tls_params);
	http.tls = tls_server_level() != TLS_LEVEL_NONE;
	if (!http.tls && strcmp(config_str("http_tls_security_level"), "none") != 0)
		log_fatal("HTTPS cannot be set up (see above)");
	dir = config_str("http_static_directory");
	http.static_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (http.static_fd < 0)
		log_warn("http_static_directory %s: %s (the webmail is not served)", dir,
		    strerror(errno));
	http.acme_fd = http_acme_open();
	if (http.tls)
		tls_server_acme_alpn(http.acme_fd);
	http.max_body = (size_t)config_size("http_max_request_size");
	http.session_ms = config_time("http_session_timeout") * 1000;
	http_metrics_open();
	login_dir_confine();
	http.loop = event_loop_new();
	if (!login_socket_wait("auth", HTTP_AUTH_WAIT_MS))
		log_warn("auth's socket is not there yet: logins fail until it is");
	http.auth =
	    auth_client_new(http.loop, "auth", "jmap", config_time("auth_request_timeout") * 1000);
	http_server_start();
	daemon_event_server(&http_daemon, http.loop, http_server_accept, http_idle, NULL);
	if (event_loop_run(http.loop) < 0)
		log_fatal("event loop failed");
	return 0;
}
