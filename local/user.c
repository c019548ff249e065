/*
 * user.c - delivery to a system user's mailbox (address class "local").
 *
 * Which mailbox, in Postfix's order: mailbox_command if set (run as the
 * user), else home_mailbox if set (relative to the home directory, a
 * trailing '/' meaning Maildir), else the mbox file USER in
 * mail_spool_directory.
 *
 * Identities.  Everything in the home directory is done as the user
 * (effective uid, gid and supplementary groups), so a user cannot make
 * local write anywhere they could not write themselves.  The spool
 * directory (Debian: /var/mail, root:mail 2775) only lets root or the
 * mail group create files: there local creates a missing mailbox and the
 * dot-lock as root, hands the new file to the user, and appends as the
 * user.  An existing spool mailbox must be a regular file with one link
 * owned by the user; anything else (a symlink, another user's file) is
 * refused and deferred, as Postfix refuses it.  Mail for root is written
 * as root, but commands never run as root: they run as default_privs, as
 * Postfix's local(8) documents.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "local_rcpt.h"
#include "log.h"
#include "privs.h"
#include "proto.h"
#include "util.h"

bool local_user_lookup(const char *name, struct local_user *u)
{
	struct passwd *pw = getpwnam(name);

	memset(u, 0, sizeof(*u));
	if (pw == NULL)
		return false;
	u->name = xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir);
	u->shell = xstrdup(pw->pw_shell);
	return true;
}

void local_user_free(struct local_user *u)
{
	free(u->name);
	free(u->home);
	free(u->shell);
	memset(u, 0, sizeof(*u));
}

void local_user_privs(const struct local_user *u, struct local_user *as)
{
	const char *dp = config_str("default_privs");

	*as = *u;
	if (u->uid != 0)
		return;
	/* Not root's name: initgroups() would hand out root's groups. */
	as->name = NULL;
	if (!priv_lookup_user(dp, &as->uid, &as->gid)) {
		log_warn("default_privs: unknown user \"%s\", using 65534", dp);
		as->uid = as->gid = 65534;
	}
}

/* Effective ids of u for a delivery, when we are root. */
static bool user_become(const struct local_user *u)
{
	if (geteuid() != 0 || u->uid == 0)
		return false;
	priv_set_effective(u->uid, u->gid);
	return true;
}

static bool user_dotlock_wanted(void)
{
	char **list = config_list("mailbox_delivery_lock");
	bool want = false;

	for (char **p = list; *p; p++)
		want = want || strcmp(*p, "dotlock") == 0;
	strv_free(list);
	return want;
}

/* mbox delivery under a dot-lock taken with the current identity. */
static void user_mbox_locked(
    const struct local_msg *m, const char *addr, const char *path, struct local_result *r)
{
	char *lock = NULL;

	if (user_dotlock_wanted() && (lock = dotlock_acquire(path)) == NULL) {
		local_result_errno(r, errno, "create the mailbox dot-lock");
		return;
	}
	mbox_deliver(m, addr, path, r);
	dotlock_release(lock);
}

/* Creates the missing spool mailbox as root for the user, or checks the
 * existing one.  0, or -1 with r set. */
static int user_spool_prepare(const char *path, const struct local_user *u, struct local_result *r)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != u->uid) {
			log_warn(
			    "refusing mailbox %s: not a regular file with one link owned by %s",
			    path, u->name);
			local_result_set(r, RES_DEFERRED, "4.2.0",
			    "mailbox %s is not a regular file owned by the user", path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		local_result_errno(r, errno, "look at the mailbox");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return user_spool_prepare(path, u, r);
	if (fd < 0 || (geteuid() == 0 && fchown(fd, u->uid, (gid_t)-1) < 0)) {
		local_result_errno(r, errno, "create the mailbox");
		if (fd >= 0) {
			unlink(path);
			close(fd);
		}
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The spool mbox: dot-locked and created as root, appended as the user.
 * The lock is taken before the mailbox is created: a new mailbox exists
 * owned by root for a moment before its chown, and a concurrent delivery
 * that looked at it then would refuse it as not the user's.
 */
static void user_spool(
    const struct local_msg *m, const char *addr, const struct local_user *u, struct local_result *r)
{
	char *path = xasprintf("%s/%s", config_str("mail_spool_directory"), u->name);
	char *lock = NULL;
	bool switched;

	if (user_dotlock_wanted() && (lock = dotlock_acquire(path)) == NULL) {
		local_result_errno(r, errno, "create the mailbox dot-lock");
		free(path);
		return;
	}
	if (user_spool_prepare(path, u, r) < 0) {
		dotlock_release(lock);
		free(path);
		return;
	}
	switched = user_become(u);
	mbox_deliver(m, addr, path, r);
	if (switched)
		priv_restore();
	dotlock_release(lock);
	free(path);
}

/* home_mailbox: Maildir or mbox in the home directory, as the user. */
static void user_home(
    const struct local_msg *m, const char *addr, const struct local_user *u, struct local_result *r)
{
	const char *hm = config_str("home_mailbox");
	char *path;
	bool switched;

	if (!maildir_path_safe(hm)) {
		log_warn("home_mailbox \"%s\" must be a relative path inside the home", hm);
		local_result_set(r, RES_DEFERRED, "4.3.5", "mail system configuration error");
		return;
	}
	path = xasprintf("%s/%s", u->home, hm);
	local_quota_begin(u->name); /* reads auth_users_file: before leaving root */
	switched = user_become(u);
	if (hm[strlen(hm) - 1] == '/') {
		if (local_sieve_deliver(m, addr, path, u->home, r) == 0)
			maildir_deliver(m, addr, path, r);
	} else {
		user_mbox_locked(m, addr, path, r);
	}
	if (switched)
		priv_restore();
	local_quota_end(m->qid, addr);
	free(path);
}

char **user_command_env(const struct local_msg *m, const char *addr, const char *orig,
    const char *ext, const struct local_user *u)
{
	char **env = NULL, *local, *domain;
	size_t n = 0;

	addr_split(addr, &local, &domain);
	command_env_add(&env, &n, "PATH", "/usr/bin:/bin:/usr/local/bin");
	command_env_add(&env, &n, "HOME", u->home);
	command_env_add(&env, &n, "USER", u->name);
	command_env_add(&env, &n, "LOGNAME", u->name);
	command_env_add(&env, &n, "SHELL", u->shell);
	command_env_add(&env, &n, "EXTENSION", ext ? ext : "");
	command_env_add(&env, &n, "DOMAIN", domain);
	command_env_add(&env, &n, "LOCAL", local);
	command_env_add(&env, &n, "RECIPIENT", addr);
	command_env_add(&env, &n, "ORIGINAL_RECIPIENT", orig);
	command_env_add(&env, &n, "SENDER", m->sender);
	free(local);
	free(domain);
	return env;
}

/* mailbox_command, as the user (default_privs for root). */
static void user_command(const struct local_msg *m, const char *addr, const char *orig,
    const char *ext, const struct local_user *u, struct local_result *r)
{
	struct local_user as;
	struct local_cmd c;

	local_user_privs(u, &as);
	c.command = config_str("mailbox_command");
	c.uid = as.uid;
	c.gid = as.gid;
	c.user_name = as.uid == u->uid ? u->name : NULL;
	c.home = u->home;
	c.env = user_command_env(m, addr, orig, ext, u);
	command_deliver(m, addr, &c, r);
	strv_free(c.env);
}

void user_deliver_mailbox(const struct local_msg *m, const char *addr, const char *orig,
    const char *ext, const struct local_user *u, struct local_result *r)
{
	if (*config_str("mailbox_command"))
		user_command(m, addr, orig, ext, u, r);
	else if (*config_str("home_mailbox"))
		user_home(m, addr, u, r);
	else
		user_spool(m, addr, u, r);
}
