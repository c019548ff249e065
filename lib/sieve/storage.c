/*
 * storage.c - a user's Sieve scripts on disk (sieve/storage.h).
 */
#include "sieve/storage.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "file_replace.h"
#include "mime/charset.h"
#include "util.h"

#define SIEVE_EXT ".sieve"
#define SIEVE_ORIG "dovecot.orig"

char *sieve_path(const char *tmpl, const char *home)
{
	if (tmpl == NULL || *tmpl == 0)
		return NULL;
	if (tmpl[0] == '~' && (tmpl[1] == '/' || tmpl[1] == 0))
		return xasprintf("%s%s", home, tmpl + 1);
	return xstrdup(tmpl);
}

void sieve_storage_init(struct sieve_storage *st, const char *home)
{
	char *link = sieve_path(config_str("sieve_script"), home);

	st->dir = sieve_path(config_str("sieve_dir"), home);
	if (st->dir == NULL)
		st->dir = sieve_path("~/sieve", home);
	st->link = link ? link : xstrdup("");
	st->max_size = config_size("sieve_max_script_size");
	st->max_scripts = config_int("sieve_quota_max_scripts");
	st->max_storage = config_size("sieve_quota_max_storage");
}

void sieve_storage_free(struct sieve_storage *st)
{
	free(st->dir);
	free(st->link);
	st->dir = st->link = NULL;
}

bool sieve_script_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 255 || name[0] == '.' || strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return false;
	}
	return mime_utf8_valid(name, len);
}

static char *st_file(const struct sieve_storage *st, const char *name)
{
	return xasprintf("%s/%s" SIEVE_EXT, st->dir, name);
}

/* The name a file of the folder is the script of, or NULL. */
static char *st_name_of(const char *file)
{
	size_t n = strlen(file), e = strlen(SIEVE_EXT);

	char *name;

	if (n <= e || strcmp(file + n - e, SIEVE_EXT) != 0)
		return NULL;
	name = xstrndup(file, n - e);
	if (!sieve_script_name_ok(name, n - e)) {
		free(name);
		return NULL;
	}
	return name;
}

char *sieve_storage_active(const struct sieve_storage *st)
{
	char target[4096], *slash, *name, *want, *dir;
	ssize_t n;

	if (!*st->link)
		return NULL;
	n = readlink(st->link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = 0;
	slash = strrchr(target, '/');
	name = st_name_of(slash ? slash + 1 : target);
	if (name == NULL)
		return NULL;
	/* Only a link into sieve_dir names one of the scripts. */
	if (target[0] == '/')
		dir = xstrdup(target);
	else {
		char *ldir = xstrdup(st->link), *s = strrchr(ldir, '/');

		if (s)
			*s = 0;
		dir = xasprintf("%s/%s", s ? ldir : ".", target);
		free(ldir);
	}
	*strrchr(dir, '/') = 0;
	want = xstrdup(st->dir);
	{
		struct stat a, b;

		if (stat(dir, &a) != 0 || stat(want, &b) != 0 || a.st_dev != b.st_dev ||
		    a.st_ino != b.st_ino) {
			free(name);
			name = NULL;
		}
	}
	free(dir);
	free(want);
	return name;
}

static int st_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **sieve_storage_list(const struct sieve_storage *st, char **active)
{
	DIR *d = opendir(st->dir);
	struct dirent *e;
	char **names = xcalloc(1, sizeof(char *));
	size_t n = 0;

	if (active)
		*active = sieve_storage_active(st);
	if (d == NULL)
		return names;
	while ((e = readdir(d)) != NULL) {
		char *name = st_name_of(e->d_name);

		if (name == NULL)
			continue;
		names = xrealloc(names, (n + 2) * sizeof(char *));
		names[n++] = name;
		names[n] = NULL;
	}
	closedir(d);
	qsort(names, n, sizeof(char *), st_cmp);
	return names;
}

int sieve_storage_get(const struct sieve_storage *st, const char *name, struct buf *text)
{
	char *path = st_file(st, name);
	int r = file_read_all(path, text);

	free(path);
	return r;
}

int sieve_storage_put(
    const struct sieve_storage *st, const char *name, const char *text, size_t len)
{
	struct buf err = BUF_INIT;
	char *path;
	int r;

	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST)
		return -1;
	path = st_file(st, name);
	errno = 0;
	r = file_replace(path, text, len, 0600, &err);
	if (r < 0 && errno == 0)
		errno = EIO;
	free(path);
	buf_free(&err);
	return r;
}

/* The link's target: relative to the link's folder when sieve_dir is
 * under it (Pigeonhole's "sieve/NAME.sieve"). */
static char *st_link_target(const struct sieve_storage *st, const char *name)
{
	char *ldir = xstrdup(st->link), *s = strrchr(ldir, '/'), *t;
	size_t n;

	if (s)
		*s = 0;
	n = strlen(ldir);
	if (s && strncmp(st->dir, ldir, n) == 0 && st->dir[n] == '/')
		t = xasprintf("%s/%s" SIEVE_EXT, st->dir + n + 1, name);
	else
		t = st_file(st, name);
	free(ldir);
	return t;
}

int sieve_storage_activate(const struct sieve_storage *st, const char *name)
{
	struct stat sb;
	char *target, *tmp;
	int e = 0;

	if (!*st->link) {
		errno = ENOTSUP;
		return -1;
	}
	if (*name == 0) {
		if (lstat(st->link, &sb) == 0 && S_ISLNK(sb.st_mode) && unlink(st->link) < 0)
			return -1;
		return 0;
	}
	{
		char *path = st_file(st, name);
		int r = stat(path, &sb);

		free(path);
		if (r < 0)
			return -1;
	}
	/* A script written by hand at the link's place is kept. */
	if (lstat(st->link, &sb) == 0 && S_ISREG(sb.st_mode)) {
		char *orig = st_file(st, SIEVE_ORIG);
		int r = rename(st->link, orig);

		free(orig);
		if (r < 0)
			return -1;
	}
	target = st_link_target(st, name);
	tmp = xasprintf("%s.tern-tmp.%ld", st->link, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, st->link) < 0) {
		e = errno;
		unlink(tmp);
	}
	free(tmp);
	free(target);
	errno = e;
	return e ? -1 : 0;
}

static bool st_is_active(const struct sieve_storage *st, const char *name)
{
	char *a = sieve_storage_active(st);
	bool r = a && strcmp(a, name) == 0;

	free(a);
	return r;
}

int sieve_storage_delete(const struct sieve_storage *st, const char *name)
{
	char *path;
	int r;

	if (st_is_active(st, name)) {
		errno = EBUSY;
		return -1;
	}
	path = st_file(st, name);
	r = unlink(path);
	free(path);
	return r;
}

int sieve_storage_rename(const struct sieve_storage *st, const char *from, const char *to)
{
	char *a = st_file(st, from), *b = st_file(st, to);
	bool active = st_is_active(st, from);
	int r = -1;

	/* link() refuses an existing name, where rename() would replace it. */
	if (link(a, b) == 0) {
		if (active && sieve_storage_activate(st, to) < 0) {
			int e = errno;

			unlink(b);
			errno = e;
		} else
			r = unlink(a);
	}
	free(a);
	free(b);
	return r;
}

int sieve_storage_space(const struct sieve_storage *st, const char *name, unsigned long long size,
    const char **code, const char **why)
{
	char **names;
	unsigned long long total = 0;
	size_t count = 0;
	bool exists = false;

	if (st->max_size > 0 && size > (unsigned long long)st->max_size) {
		*code = "QUOTA/MAXSIZE";
		*why = "Script is too large.";
		return -1;
	}
	if (st->max_scripts <= 0 && st->max_storage <= 0)
		return 0;
	names = sieve_storage_list(st, NULL);
	for (size_t i = 0; names[i]; i++) {
		char *path = st_file(st, names[i]);
		struct stat sb;

		if (strcmp(names[i], name) == 0)
			exists = true;
		else if (stat(path, &sb) == 0)
			total += (unsigned long long)sb.st_size;
		count++;
		free(path);
	}
	strv_free(names);
	if (st->max_scripts > 0 && !exists && count + 1 > (unsigned long long)st->max_scripts) {
		*code = "QUOTA/MAXSCRIPTS";
		*why = "Script count quota exceeded.";
		return -1;
	}
	if (st->max_storage > 0 && total + size > (unsigned long long)st->max_storage) {
		*code = "QUOTA/MAXSTORAGE";
		*why = "Script storage quota exceeded.";
		return -1;
	}
	return 0;
}
