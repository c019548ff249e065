/*
 * privs.c - dropping and switching privileges.
 *
 * priv_drop() is what every daemon except master and local does before it
 * reads a byte from the network or the queue: it becomes mail_owner for
 * good (real, effective and saved ids, and the supplementary groups), then
 * checks that the change really happened and that root cannot be regained.
 * A failure at any step is fatal: a daemon that believes it is unprivileged
 * but is not would turn any bug into a root compromise.
 *
 * priv_set_effective()/priv_restore() serve local, which stays root and
 * takes on a recipient's identity for the length of one delivery.  Only the
 * effective ids change; the real and saved uid stay 0 so root returns.
 *
 * Not done here: chroot (daemon.c), capabilities, resource limits.
 */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Numbers up to this are tried as ids; (uid_t)-1 means "no change". */
#define PRIV_ID_MAX 4294967294L

bool priv_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	long n;

	if (name == NULL || *name == 0)
		return false;
	pw = getpwnam(name);
	if (pw == NULL && parse_long(name, 0, PRIV_ID_MAX, &n))
		pw = getpwuid((uid_t)n);
	if (pw == NULL)
		return false;
	if (uid != NULL)
		*uid = pw->pw_uid;
	if (gid != NULL)
		*gid = pw->pw_gid;
	return true;
}

bool priv_lookup_group(const char *name, gid_t *gid)
{
	struct group *gr;
	long n;

	if (name == NULL || *name == 0)
		return false;
	gr = getgrnam(name);
	if (gr == NULL && parse_long(name, 0, PRIV_ID_MAX, &n))
		gr = getgrgid((gid_t)n);
	if (gr == NULL)
		return false;
	if (gid != NULL)
		*gid = gr->gr_gid;
	return true;
}

/*
 * A non-root instance (tern init by an ordinary user) runs every process
 * as that user; say so once so the operator is not surprised.
 */
static bool priv_not_root(void)
{
	static bool logged;

	if (geteuid() == 0)
		return false;
	if (!logged) {
		logged = true;
		log_info("running as uid %lu (not root): privileges are not changed",
		    (unsigned long)geteuid());
	}
	return true;
}

void priv_drop(const char *user)
{
	uid_t uid;
	gid_t gid;
	struct passwd *pw;
	char *name;

	if (priv_not_root())
		return;
	if (!priv_lookup_user(user, &uid, &gid))
		log_fatal("unknown user \"%s\" (mail_owner?)", user);
	/* The canonical name, for initgroups(), even when given a number. */
	pw = getpwuid(uid);
	name = xstrdup(pw != NULL ? pw->pw_name : user);
	priv_drop_ids(uid, gid, name);
	free(name);
}

/* Sets the supplementary groups: those of name, or just gid. */
static void priv_set_groups(const char *name, gid_t gid)
{
	if (name != NULL) {
		if (initgroups(name, gid) < 0)
			log_fatal(
			    "initgroups(%s, %lu): %s", name, (unsigned long)gid, strerror(errno));
	} else if (setgroups(1, &gid) < 0) {
		log_fatal("setgroups(%lu): %s", (unsigned long)gid, strerror(errno));
	}
}

/* Checks that the drop to uid/gid took and cannot be undone. */
static void priv_verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		log_fatal("getresuid/getresgid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		log_fatal("privileges not dropped: uids %lu/%lu/%lu, wanted %lu", (unsigned long)ru,
		    (unsigned long)eu, (unsigned long)su, (unsigned long)uid);
	if (rg != gid || eg != gid || sg != gid)
		log_fatal("privileges not dropped: gids %lu/%lu/%lu, wanted %lu", (unsigned long)rg,
		    (unsigned long)eg, (unsigned long)sg, (unsigned long)gid);
	if (setuid(0) == 0)
		log_fatal(
		    "privileges could be regained after dropping to uid %lu", (unsigned long)uid);
}

void priv_drop_ids(uid_t uid, gid_t gid, const char *name)
{
	/* "Dropping" to root is a configuration error (mail_owner = root). */
	if (uid == 0)
		log_fatal("refusing to run as root: mail_owner must be an unprivileged user");
	if (priv_not_root())
		return;
	priv_set_groups(name, gid);
	/* setres*id so that the saved ids change too: no way back to root. */
	if (setresgid(gid, gid, gid) < 0)
		log_fatal("setresgid(%lu): %s", (unsigned long)gid, strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		log_fatal("setresuid(%lu): %s", (unsigned long)uid, strerror(errno));
	priv_verify(uid, gid);
}

/*
 * Groups and egid first, while we are still root and allowed to set them;
 * the euid last, after which only a return to root is possible.
 */
/*
 * Supplementary groups per (uid, gid), as initgroups() would set them,
 * looked up once per process: a name service look-up per delivery (files,
 * then systemd's userdb over several paths) cost local more system calls
 * than the delivery itself.  A process lives for max_use requests, so a
 * change to /etc/group is seen by the next one.
 */
#define PRIV_GROUP_CACHE 16

struct priv_groups {
	uid_t uid;
	gid_t gid;
	int n;
	gid_t *list;
};

static struct priv_groups priv_cache[PRIV_GROUP_CACHE];
static size_t priv_cached, priv_next;

/* The groups of uid (its primary gid replaced by gid), or just gid when
 * uid has no passwd entry. */
static const struct priv_groups *priv_groups_of(uid_t uid, gid_t gid)
{
	struct priv_groups *g;
	struct passwd *pw;
	int n = 16;

	for (size_t i = 0; i < priv_cached; i++)
		if (priv_cache[i].uid == uid && priv_cache[i].gid == gid)
			return &priv_cache[i];
	g = &priv_cache[priv_next];
	priv_next = (priv_next + 1) % PRIV_GROUP_CACHE;
	if (priv_cached < PRIV_GROUP_CACHE)
		priv_cached++;
	free(g->list);
	g->uid = uid;
	g->gid = gid;
	g->list = xmalloc(sizeof(gid_t));
	g->list[0] = gid;
	g->n = 1;
	pw = getpwuid(uid);
	if (pw == NULL)
		return g;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *l = xmalloc(sizeof(gid_t) * (size_t)n);
		int got = n;

		if (getgrouplist(pw->pw_name, gid, l, &got) >= 0) {
			free(g->list);
			g->list = l;
			g->n = got;
			return g;
		}
		free(l);
		if (got <= n)
			break;
		n = got;
	}
	log_warn("getgrouplist(%s): cannot list the groups; using gid %lu only", pw->pw_name,
	    (unsigned long)gid);
	return g;
}

void priv_set_effective(uid_t uid, gid_t gid)
{
	const struct priv_groups *g;

	if (geteuid() != 0)
		log_fatal("priv_set_effective(%lu) needs root, euid is %lu", (unsigned long)uid,
		    (unsigned long)geteuid());
	g = priv_groups_of(uid, gid);
	if (setgroups((size_t)g->n, g->list) < 0)
		log_fatal("setgroups(%lu groups of uid %lu): %s", (unsigned long)g->n,
		    (unsigned long)uid, strerror(errno));
	if (setegid(gid) < 0)
		log_fatal("setegid(%lu): %s", (unsigned long)gid, strerror(errno));
	if (seteuid(uid) < 0)
		log_fatal("seteuid(%lu): %s", (unsigned long)uid, strerror(errno));
}

/*
 * Root's effective ids and no supplementary groups: root needs none, and
 * none of the last recipient's groups may leak into the next delivery.
 */
void priv_restore(void)
{
	if (seteuid(0) < 0)
		log_fatal("seteuid(0): %s", strerror(errno));
	if (setegid(0) < 0)
		log_fatal("setegid(0): %s", strerror(errno));
	if (setgroups(0, NULL) < 0)
		log_fatal("setgroups(0): %s", strerror(errno));
}
