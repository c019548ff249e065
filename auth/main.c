/*
 * main.c - auth: the one place where passwords are checked and accounts
 * looked up, for every protocol (auth(8)).
 *
 * master starts one auth process (maxproc 1: penalties, tokens and the
 * cache live in it) with private/auth on descriptor 3.  While still root
 * it
 *   - makes queue_directory/login/ (root:default_login_user's group,
 *     0750) and binds login/auth in it, the socket the unprivileged login
 *     processes may reach; private/ stays mail_owner's alone;
 *   - makes data_directory (mail_owner, 0700) for the failure counters;
 *   - starts the PAM helper when auth_system_users = yes;
 * then drops to mail_owner for good, reads the users file, opens the
 * penalty database and starts the worker threads.  It does not exit when
 * idle or after max_use requests: tokens and counters are its state.
 * After SIGHUP it exits once no request is open (master starts a new one
 * with the new configuration; clients reconnect by themselves).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "login/login_dir.h"
#include "privs.h"
#include "sock.h"
#include "util.h"

#define AUTH_LISTEN_BACKLOG 1024

static struct daemon auth_daemon;

/* mkdir path if missing, then owner and mode (owner changes as root only). */
static void make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		log_fatal("mkdir %s: %s", path, strerror(errno));
	if (geteuid() == 0 && chown(path, uid, gid) < 0)
		log_fatal("chown %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		log_fatal("chmod %s: %s", path, strerror(errno));
}

/* login/auth: the socket the unprivileged login processes may reach. */
static int auth_login_listen(void)
{
	struct buf err = BUF_INIT;
	int fd;

	login_dir_make();
	fd = sock_unix_listen(AUTH_SOCKET_LOGIN, 0666, AUTH_LISTEN_BACKLOG, &err);
	if (fd < 0)
		log_fatal("%s: %s", AUTH_SOCKET_LOGIN, buf_cstr(&err));
	buf_free(&err);
	return fd;
}

static char *auth_data_setup(void)
{
	const char *dir = config_str("data_directory");
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (geteuid() == 0 && !priv_lookup_user(config_str("mail_owner"), &uid, &gid))
		log_fatal("mail_owner %s: no such user", config_str("mail_owner"));
	make_dir(dir, 0700, uid, gid);
	return xasprintf("%s/auth_penalty.lmdb", dir);
}

int main(int argc, char **argv)
{
	struct event_loop *loop;
	int login_fd, workers;
	char *penalty_path;

	daemon_init(&auth_daemon, argc, argv, "auth", DAEMON_KEEP_ROOT);
	login_fd = auth_login_listen();
	penalty_path = auth_data_setup();
	workers = (int)config_int("auth_worker_count");
	if (workers <= 0)
		workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (workers <= 0)
		workers = 1;
	if (config_bool("auth_system_users")) {
		if (geteuid() != 0)
			log_warn("auth_system_users = yes without root: PAM can check only the "
				 "passwords it may read");
		pam_helper_start(workers);
	}
	priv_drop(config_str("mail_owner"));
	loop = event_loop_new();
	server_init(loop, login_fd);
	mech_init();
	request_init();
	cache_init();
	token_init(loop);
	passdb_init();
	penalty_init(penalty_path);
	worker_init(loop, workers);
	daemon_event_server(&auth_daemon, loop, server_accept_trusted, server_idle, NULL);
	log_info("ready: %d workers, mechanisms %s", worker_count(), config_str("auth_mechanisms"));
	if (event_loop_run(loop) < 0)
		log_fatal("event loop failed");
	free(penalty_path);
	return 0;
}
