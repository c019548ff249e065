/*
 * login/login_dir.c - making queue_directory/login/ (login_dir.h).
 */
#include "login/login_dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
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
