/*
 * check.c - "tern check": reports every configuration problem tern can
 * see (config_check.h: unknown and unsupported parameters, restrictions
 * smtpd lacks, master.cf entries it skips or cannot serve, transports
 * without a service, unreadable value files, malformed values), each with
 * its file and line, and verifies, and with root privileges repairs, the
 * ownership and modes tern depends on, like "postfix check" and "postfix
 * set-permissions" together.
 *
 *   queue_directory            root, 0755, and its folders as
 *                              lib/queue.c's queue_dirs[] has them
 *                              (mail_owner's, pid/ root's, maildrop/
 *                              mail_owner:setgid_group 1730)
 *   command_directory/postdrop root:setgid_group, 2755
 *   main.cf, master.cf         not writable by group or others
 *
 * Missing directories are created.  Run as anyone but root it only
 * reports.  Exit status 0 when everything is (now) right or there are
 * only warnings and notes (as with "postfix check"), EX_CONFIG when an
 * error is left: a configuration error is one "tern start" refuses too.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_check.h"
#include "privs.h"
#include "queue.h"
#include "tern.h"
#include "util.h"

enum chk_owner { CHK_ROOT, CHK_OWNER, CHK_OWNER_DROP, CHK_ROOT_DROP };

struct chk_ids {
	uid_t owner_uid;
	gid_t owner_gid, drop_gid;
	bool root;
	int problems;
};

static void chk_want(const struct chk_ids *ids, enum chk_owner o, uid_t *uid, gid_t *gid)
{
	*uid = o == CHK_OWNER || o == CHK_OWNER_DROP ? ids->owner_uid : 0;
	*gid = o == CHK_OWNER ? ids->owner_gid : o == CHK_ROOT ? 0 : ids->drop_gid;
}

/* One path: exists (directories are made), owner, group, mode. */
static void chk_path(struct chk_ids *ids, const char *path, bool dir, enum chk_owner o, mode_t mode)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	chk_want(ids, o, &uid, &gid);
	if (lstat(path, &st) < 0 && dir && errno == ENOENT && ids->root) {
		if (mkdir(path, 0700) < 0 || lstat(path, &st) < 0) {
			fprintf(stderr, "tern check: mkdir %s: %s\n", path, strerror(errno));
			ids->problems++;
			return;
		}
		printf("tern check: created %s\n", path);
	} else if (lstat(path, &st) < 0) {
		fprintf(stderr, "tern check: %s: %s\n", path, strerror(errno));
		ids->problems++;
		return;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		fprintf(stderr, "tern check: %s: not a %s\n", path, dir ? "directory" : "file");
		ids->problems++;
		return;
	}
	if (!ids->root) {
		if ((st.st_mode & 07777) != mode) {
			fprintf(stderr, "tern check: %s: mode %04o, want %04o\n", path,
			    (unsigned)(st.st_mode & 07777), (unsigned)mode);
			ids->problems++;
		}
		return;
	}
	if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode) {
		/* chown first: it clears the set-id bits that chmod then sets. */
		if (chown(path, uid, gid) < 0 || chmod(path, mode) < 0) {
			fprintf(stderr, "tern check: repair %s: %s\n", path, strerror(errno));
			ids->problems++;
			return;
		}
		printf("tern check: repaired %s (owner %ld:%ld, mode %04o)\n", path, (long)uid,
		    (long)gid, (unsigned)mode);
	}
}

/* Configuration files may be read by all, written by their owner only. */
static void chk_config_file(struct chk_ids *ids, const char *name)
{
	char *path = xasprintf("%s/%s", config_dir(), name);
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		if (ids->root && chmod(path, st.st_mode & 0755) == 0) {
			printf("tern check: repaired %s (no longer group/world writable)\n", path);
		} else {
			fprintf(stderr, "tern check: %s is writable by group or others\n", path);
			ids->problems++;
		}
	}
	free(path);
}

static int chk_ids_init(struct chk_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	ids->root = geteuid() == 0;
	ids->owner_uid = getuid();
	ids->owner_gid = ids->drop_gid = getgid();
	if (!ids->root)
		return 0;
	if (!priv_lookup_user(config_str("mail_owner"), &ids->owner_uid, &ids->owner_gid)) {
		fprintf(
		    stderr, "tern check: mail_owner %s: no such user\n", config_str("mail_owner"));
		return -1;
	}
	if (!priv_lookup_group(config_str("setgid_group"), &ids->drop_gid)) {
		fprintf(stderr, "tern check: setgid_group %s: no such group\n",
		    config_str("setgid_group"));
		return -1;
	}
	return 0;
}

/* The configuration report: one line per finding, on stdout for notes,
 * stderr for warnings and errors. */
static size_t chk_report(void)
{
	struct check_report r;
	size_t errors;

	config_check(&r);
	for (size_t i = 0; i < r.count; i++) {
		const struct check_item *it = &r.items[i];

		fprintf(it->level == CHECK_INFO ? stdout : stderr, "tern check: %s: %s%s%s\n",
		    check_level_name(it->level), it->where ? it->where : "", it->where ? ": " : "",
		    it->text);
	}
	errors = r.errors;
	check_report_free(&r);
	return errors;
}

int cmd_check(const char *confdir, int argc, char **argv)
{
	struct chk_ids ids;
	const char *qdir;
	char *path;
	size_t config_errors;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern check\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	fflush(stdout);
	config_errors = chk_report();
	fflush(stdout);
	if (chk_ids_init(&ids) < 0)
		return EX_CONFIG;
	qdir = config_str("queue_directory");
	chk_path(&ids, qdir, true, CHK_ROOT, QUEUE_TOP_MODE);
	for (const struct queue_dir *d = queue_dirs; d->name; d++) {
		path = xasprintf("%s/%s", qdir, d->name);
		chk_path(&ids, path, true,
		    d->owner == QUEUE_OWNER_ROOT	? CHK_ROOT
		    : d->owner == QUEUE_OWNER_MAIL_DROP ? CHK_OWNER_DROP
							: CHK_OWNER,
		    d->mode);
		free(path);
	}
	path = xasprintf("%s/postdrop", config_str("command_directory"));
	chk_path(&ids, path, false, CHK_ROOT_DROP, 02755);
	free(path);
	chk_config_file(&ids, "main.cf");
	chk_config_file(&ids, "master.cf");
	if (ids.problems)
		fprintf(stderr, "tern check: %d problem(s) left\n", ids.problems);
	if (config_errors)
		fprintf(stderr,
		    "tern check: %zu configuration error(s): tern start refuses to start\n",
		    config_errors);
	return ids.problems || config_errors ? EX_CONFIG : 0;
}
