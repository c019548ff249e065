/*
 * login/login_dir.c - making queue_directory/login/ (login_dir.h).
 */
#include "login/login_dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privs.h"

static void login_dir_set(mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(LOGIN_DIR, mode) < 0 && errno != EEXIST)
		log_fatal("mkdir %s: %s", LOGIN_DIR, strerror(errno));
	if (geteuid() == 0 && chown(LOGIN_DIR, uid, gid) < 0)
		log_fatal("chown %s: %s", LOGIN_DIR, strerror(errno));
	if (chmod(LOGIN_DIR, mode) < 0)
		log_fatal("chmod %s: %s", LOGIN_DIR, strerror(errno));
}

bool login_socket_wait(const char *path, long max_ms)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	struct stat st;

	for (long waited = 0; waited <= max_ms; waited += 20) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

void login_dir_make(void)
{
	const char *login_user = config_str("default_login_user");
	gid_t gid = getgid();
	uid_t uid;

	if (geteuid() != 0) {
		login_dir_set(0700, getuid(), gid);
		return;
	}
	if (priv_lookup_user(login_user, &uid, &gid)) {
		login_dir_set(0750, 0, gid);
		return;
	}
	log_warn("default_login_user %s does not exist: %s/ is reachable by root only "
		 "(tern init creates the user)",
	    login_user, LOGIN_DIR);
	login_dir_set(0700, 0, 0);
}

void login_dir_confine(void)
{
	const char *user = config_str("default_login_user");
	uid_t uid;
	gid_t gid;

	login_dir_make();
	if (chdir(LOGIN_DIR) < 0)
		log_fatal("chdir %s: %s", LOGIN_DIR, strerror(errno));
	if (geteuid() != 0)
		return;
	if (!priv_lookup_user(user, &uid, &gid))
		log_fatal("default_login_user %s: no such user", user);
	tzset(); /* /etc/localtime is out of reach once chrooted */
	if (chroot(".") < 0 || chdir("/") < 0)
		log_fatal("chroot %s: %s", LOGIN_DIR, strerror(errno));
	priv_drop_ids(uid, gid, user);
}
