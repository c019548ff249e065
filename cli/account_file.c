/*
 * account_file.c - the files "tern user" and "tern passwd" edit: reading
 * them whole, replacing them atomically under a lock, and the
 * virtual_mailbox table entry and Maildir of an account.
 *
 * A file is replaced, never rewritten in place: the new text goes to a
 * temporary file in the same directory, is fsync'ed and renamed over the
 * old one, so auth and smtpd (which reload these files when they change)
 * never read half a file.  The replacement keeps the old file's mode and
 * group, or, for a new file, is root's with mail_owner's group and mode
 * 0640 (auth reads it as mail_owner; the hashes invite offline guessing,
 * so others may not).  Two editors are kept apart by an exclusive lock
 * on "FILE.lock".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "privs.h"
#include "maps.h"
#include "util.h"

int account_file_lock(const char *path)
{
	char *lock = xasprintf("%s.lock", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		fprintf(stderr, "tern: lock %s: %s\n", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(lock);
	return fd;
}

void account_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int account_file_read(const char *path, struct buf *out)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf_reset(out);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/* Owner, group and mode for the new file: the old file's, or the default. */
static void account_file_perms(const char *path, uid_t *uid, gid_t *gid, mode_t *mode)
{
	struct stat st;
	uid_t ou;

	*uid = geteuid();
	*gid = getegid();
	*mode = 0640;
	if (stat(path, &st) == 0) {
		*uid = st.st_uid;
		*gid = st.st_gid;
		*mode = st.st_mode & 07777;
	} else if (geteuid() == 0) {
		*uid = 0;
		if (!priv_lookup_user(config_str("mail_owner"), &ou, gid))
			*gid = 0;
	} else {
		*mode = 0600;
	}
}

int account_file_write(const char *path, const struct buf *text)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int fd, r = -1;

	account_file_perms(path, &uid, &gid, &mode);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "tern: create %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (geteuid() == 0 && fchown(fd, uid, gid) < 0)
		fprintf(stderr, "tern: chown %s: %s\n", tmp, strerror(errno));
	if (fchmod(fd, mode) == 0 &&
	    write(fd, text->data ? text->data : "", text->len) == (ssize_t)text->len &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0)
			r = 0;
	}
	if (r < 0) {
		fprintf(stderr, "tern: write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

/* ------------------------------------------------------------ virtual mailboxes */

char *account_table_file(const char *param)
{
	char **specs = config_list(param);
	char *path = NULL;

	for (size_t i = 0; specs[i] && path == NULL; i++) {
		const char *colon = strchr(specs[i], ':');

		if (colon && colon[1] == '/' && strncmp(specs[i], "pcre:", 5) != 0 &&
		    strncmp(specs[i], "inline:", 7) != 0 && strncmp(specs[i], "static:", 7) != 0)
			path = xstrdup(colon + 1);
	}
	strv_free(specs);
	return path;
}

/* Whether a "key value" table line is key's (keys are case-insensitive). */
static bool line_is(const char *line, size_t len, const char *key)
{
	size_t n = strlen(key);

	return len > n && strncasecmp(line, key, n) == 0 && (line[n] == ' ' || line[n] == '\t');
}

int account_table_edit(const char *path, const char *key, const char *value)
{
	struct buf old = BUF_INIT, out = BUF_INIT;
	const char *p, *end;
	bool done = false;
	int lock = account_file_lock(path), r = -1;

	if (lock < 0)
		return -1;
	if (account_file_read(path, &old) < 0) {
		fprintf(stderr, "tern: read %s: %s\n", path, strerror(errno));
		goto out;
	}
	p = old.data ? old.data : "";
	end = p + old.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (line_is(p, len, key)) {
			if (value && !done)
				buf_printf(&out, "%s %s\n", key, value);
			done = true;
		} else {
			buf_append(&out, p, len);
			buf_putc(&out, '\n');
		}
		p += len + (nl ? 1 : 0);
	}
	if (value && !done)
		buf_printf(&out, "%s %s\n", key, value);
	r = account_file_write(path, &out);
out:
	account_file_unlock(lock);
	buf_free(&old);
	buf_free(&out);
	return r;
}

long account_table_id(const char *param, const char *key)
{
	const char *v;
	long id = -1;

	if (*config_str(param) == 0 || maps_find(maps_open(param), key, 0, &v) != MAPS_FOUND ||
	    !parse_long(v, 0, 0x7fffffff, &id))
		return -1;
	return id;
}

/* ------------------------------------------------------------ Maildirs */

static int mkdir_owned(const char *path, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		fprintf(stderr, "tern: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && chown(path, uid, gid) < 0) {
		fprintf(stderr, "tern: chown %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int account_maildir_create(const char *base, const char *rel, uid_t uid, gid_t gid)
{
	char *path = xasprintf("%s/%s", base, rel);
	int r = 0;

	/* Every folder below base, then cur/ new/ tmp/. */
	for (char *p = path + strlen(base) + 1; r == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = 0;
		r = mkdir_owned(path, uid, gid);
		*p = '/';
	}
	if (r == 0 && path[strlen(path) - 1] != '/')
		r = mkdir_owned(path, uid, gid);
	for (int i = 0; i < 3 && r == 0; i++) {
		static const char *const sub[] = {"cur", "new", "tmp"};
		char *s =
		    xasprintf("%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", sub[i]);

		r = mkdir_owned(s, uid, gid);
		free(s);
	}
	free(path);
	return r;
}

int account_list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 64;
			*names = xreallocarray(*names, cap, sizeof(char *));
		}
		(*names)[(*n)++] = xstrdup(e->d_name);
		(*names)[*n] = NULL;
	}
	closedir(d);
	if (*names == NULL)
		*names = xcalloc(1, sizeof(char *));
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0) {
		fprintf(stderr, "tern: remove %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int account_remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Sums one Maildir folder's messages (cur/ and new/). */
static void usage_folder(const char *dir, struct account_usage *u)
{
	static const char *const sub[] = {"cur", "new"};

	for (int i = 0; i < 2; i++) {
		char *d = xasprintf("%s/%s", dir, sub[i]);
		char **names = NULL;
		size_t n = 0;

		if (account_list_dir(d, &names, &n) == 0) {
			for (size_t j = 0; j < n; j++) {
				char *f = xasprintf("%s/%s", d, names[j]);
				struct stat st;

				if (names[j][0] != '.' && stat(f, &st) == 0 &&
				    S_ISREG(st.st_mode)) {
					u->bytes += st.st_size;
					u->messages++;
				}
				free(f);
			}
			strv_free(names);
		}
		free(d);
	}
}

void account_maildir_usage(const char *maildir, struct account_usage *u)
{
	char **names = NULL;
	size_t n = 0;

	memset(u, 0, sizeof(*u));
	if (*maildir == 0)
		return;
	usage_folder(maildir, u);
	/* Maildir++ folders are ".Name" folders at the root. */
	if (account_list_dir(maildir, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			char *f;
			struct stat st;

			if (names[i][0] != '.' || strcmp(names[i], ".") == 0 ||
			    strcmp(names[i], "..") == 0)
				continue;
			f = xasprintf("%s/%s", maildir, names[i]);
			if (stat(f, &st) == 0 && S_ISDIR(st.st_mode))
				usage_folder(f, u);
			free(f);
		}
		strv_free(names);
	}
}
