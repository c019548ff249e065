/*
 * list.c - the folders of a store: names and paths, listing, create,
 * delete, rename, subscriptions, special use, UIDVALIDITY allocation.
 *
 * Maildir++ as Dovecot keeps it: folder "A.B" is the directory ".A.B" of
 * the root (its name in modified UTF-7), holding cur/ new/ tmp/ and an
 * empty "maildirfolder" file; parents need no directory of their own.
 * A folder's special use is remembered in a "tern-special-use" file in
 * its directory ("\Sent\n"; it moves with renames); folders without one
 * get the role main.cf's mailbox_special_use gives their name.
 *
 * Deleting renames the directory to "..DOVECOT-TRASHED" (invisible to
 * both servers' listings, the name Dovecot uses, so either finishes the
 * other's interrupted delete) and then removes it.  Creates, deletes
 * and renames fsync the root, so an acknowledged change survives a
 * crash.
 */
#include "mstore/mstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mstore/mutf7.h"
#include "mstore/subs.h"
#include "util.h"

#define ML_NAME_MAX 240 /* on-disk name bytes, with the leading '.' */
#define ML_TRASH "..DOVECOT-TRASHED"
#define ML_SPECIAL_FILE "tern-special-use"
#define ML_UIDV_FILE "dovecot-uidvalidity"
#define ML_SUBS_ONLY 0x100u /* mstore_list: a subscription, no folder */

static const struct {
	const char *role;
	unsigned bit;
	const char *flag;
	const char *name; /* default folder */
} ml_roles[] = {
    {"drafts", MSTORE_SU_DRAFTS, "\\Drafts", "Drafts"},
    {"sent", MSTORE_SU_SENT, "\\Sent", "Sent"},
    {"trash", MSTORE_SU_TRASH, "\\Trash", "Trash"},
    {"junk", MSTORE_SU_JUNK, "\\Junk", "Junk"},
    {"archive", MSTORE_SU_ARCHIVE, "\\Archive", "Archive"},
    {"all", MSTORE_SU_ALL, "\\All", NULL},
    {"flagged", MSTORE_SU_FLAGGED, "\\Flagged", NULL},
};
#define ML_NROLES (sizeof(ml_roles) / sizeof(ml_roles[0]))

char *ml_name_canon(const char *name)
{
	size_t len = strlen(name);
	struct buf enc = BUF_INIT;
	char *out;

	if (len == 0 || !mutf7_utf8_valid(name, len) || strchr(name, '/') || name[0] == '.' ||
	    name[len - 1] == '.' || strstr(name, ".."))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return NULL;
	if (mutf7_encode(name, len, &enc) < 0 || enc.len + 1 > ML_NAME_MAX) {
		buf_free(&enc);
		return NULL;
	}
	buf_free(&enc);
	out = xstrdup(name);
	/* INBOX is case-insensitive, also as the first level. */
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == 0 || out[5] == MSTORE_SEP))
		memcpy(out, "INBOX", 5);
	return out;
}

bool mstore_name_valid(const char *name)
{
	char *c = ml_name_canon(name);

	free(c);
	return c != NULL;
}

/* ".<modified UTF-7 name>" of a canonical name other than INBOX. */
static char *ml_dir_name(const char *canon)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '.');
	mutf7_encode(canon, strlen(canon), &b);
	return b.data; /* the buffer's string, now the caller's */
}

char *ml_folder_path(struct mstore *s, const char *canon)
{
	char *dir, *path;

	if (strcmp(canon, "INBOX") == 0)
		return xstrdup(s->root);
	dir = ml_dir_name(canon);
	path = xasprintf("%s/%s", s->root, dir);
	free(dir);
	return path;
}

static int ml_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* ---- UIDVALIDITY: Dovecot's dovecot-uidvalidity and its marker ---- */

static void ml_uidv_write(int dfd, uint32_t v)
{
	char text[16];
	int fd = openat(dfd, ML_UIDV_FILE, O_RDWR | O_CREAT | O_CLOEXEC, MF_FILE_MODE);

	if (fd < 0)
		return;
	snprintf(text, sizeof(text), "%08x", v);
	if (pwrite(fd, text, 8, 0) != 8)
		log_warn("%s: %s", ML_UIDV_FILE, strerror(errno));
	close(fd);
}

/* Scans for "dovecot-uidvalidity.<hex>" markers; the highest value. */
static uint32_t ml_uidv_scan(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint32_t best = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long v;

		if (strncmp(de->d_name, ML_UIDV_FILE ".", sizeof(ML_UIDV_FILE)) != 0)
			continue;
		v = strtoul(de->d_name + sizeof(ML_UIDV_FILE), &end, 16);
		if (*end == 0 && v <= UINT32_MAX && v > best)
			best = (uint32_t)v;
	}
	closedir(d);
	return best;
}

/*
 * The next UIDVALIDITY, as Dovecot hands them out: the value is kept in
 * dovecot-uidvalidity and an empty marker dovecot-uidvalidity.<hex> is
 * renamed to the next value, so two processes never get the same one
 * (the rename of an old name fails for the second).  Starts at the
 * current time.
 */
uint32_t ml_uidvalidity_next(struct mstore *s)
{
	int dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint32_t cur = 0, now = (uint32_t)time(NULL);
	char text[16] = {0}, from[64], to[64];

	if (dfd < 0)
		return now;
	int fd = openat(dfd, ML_UIDV_FILE, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, text, 8) == 8)
			cur = (uint32_t)strtoul(text, NULL, 16);
		close(fd);
	}
	for (int tries = 0; tries < 10; tries++) {
		uint32_t next;

		if (cur == 0)
			cur = ml_uidv_scan(dfd);
		if (cur == 0) {
			/* No marker: make one at the current time. */
			snprintf(to, sizeof(to), ML_UIDV_FILE ".%08x", now);
			fd = openat(dfd, to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
			if (fd < 0 && errno == EEXIST) {
				now++;
				continue;
			}
			if (fd >= 0)
				close(fd);
			ml_uidv_write(dfd, now);
			close(dfd);
			return now;
		}
		next = cur + 1 ? cur + 1 : 1;
		snprintf(from, sizeof(from), ML_UIDV_FILE ".%08x", cur);
		snprintf(to, sizeof(to), ML_UIDV_FILE ".%08x", next);
		if (renameat(dfd, from, dfd, to) == 0) {
			ml_uidv_write(dfd, next);
			close(dfd);
			return next;
		}
		/* Someone took cur meanwhile (or the file lied): look again. */
		cur = errno == ENOENT ? ml_uidv_scan(dfd) : 0;
	}
	close(dfd);
	return now;
}

/* ---- creating folders ---- */

static int ml_write_file(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	size_t len = strlen(text);
	int r = 0;

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = -1;
	close(fd);
	return r;
}

int ml_make_dirs(struct mstore *s, const char *path, bool is_inbox)
{
	static const char *const sub[] = {"cur", "new", "tmp"};
	bool made = false;
	int dfd;

	if (mkdir(path, MF_DIR_MODE) == 0)
		made = true;
	else if (errno != EEXIST)
		return ms_fail_errno(s, "mkdir", path);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ms_fail_errno(s, "open", path);
	for (int i = 0; i < 3; i++) {
		if (mkdirat(dfd, sub[i], MF_DIR_MODE) == 0)
			made = true;
		else if (errno != EEXIST) {
			close(dfd);
			return ms_fail_errno(s, "mkdir", sub[i]);
		}
	}
	if (!is_inbox && faccessat(dfd, "maildirfolder", F_OK, 0) < 0) {
		int fd = openat(dfd, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC, MF_FILE_MODE);

		if (fd >= 0)
			close(fd);
		made = true;
	}
	/* New entries must survive a crash: the folder's own, then its
	 * entry in the root. */
	if (made && (fsync(dfd) < 0 || (!is_inbox && ml_fsync_path(s->root) < 0))) {
		close(dfd);
		return ms_fail_errno(s, "fsync", path);
	}
	close(dfd);
	return 0;
}

/* Reads a folder's tern-special-use file; 0 when none. */
static unsigned ml_special_file(const char *path)
{
	char *p = xasprintf("%s/" ML_SPECIAL_FILE, path), text[256];
	unsigned bits = 0;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	free(p);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	for (size_t i = 0; i < ML_NROLES; i++)
		if (strstr(text, ml_roles[i].flag))
			bits |= ml_roles[i].bit;
	return bits;
}

/* The role main.cf gives a name ("drafts=Drafts, sent=Sent, ..."). */
static unsigned ml_special_config(const struct mstore *s, const char *name)
{
	const char *spec = s->opts.special_use;
	unsigned bits = 0;
	char **items;

	if (spec == NULL) {
		for (size_t i = 0; i < 5; i++)
			if (strcmp(name, ml_roles[i].name) == 0)
				bits |= ml_roles[i].bit;
		return bits;
	}
	items = strv_split(spec, ", \t");
	for (char **it = items; *it; it++) {
		char *eq = strchr(*it, '=');

		if (eq == NULL || strcmp(eq + 1, name) != 0)
			continue;
		for (size_t i = 0; i < ML_NROLES; i++)
			if (strlen(ml_roles[i].role) == (size_t)(eq - *it) &&
			    strncasecmp(*it, ml_roles[i].role, (size_t)(eq - *it)) == 0)
				bits |= ml_roles[i].bit;
	}
	strv_free(items);
	return bits;
}

static unsigned ml_special_of(const struct mstore *s, const char *name, const char *path)
{
	unsigned bits = ml_special_file(path);

	return bits ? bits : ml_special_config(s, name);
}

static int ml_set_special(struct mstore *s, const char *path, unsigned su)
{
	struct buf text = BUF_INIT;
	int dfd, r = 0;

	for (size_t i = 0; i < ML_NROLES; i++)
		if (su & ml_roles[i].bit)
			buf_printf(&text, "%s\n", ml_roles[i].flag);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || ml_write_file(dfd, ML_SPECIAL_FILE, buf_cstr(&text)) < 0 || fsync(dfd) < 0)
		r = ms_fail_errno(s, "write", ML_SPECIAL_FILE);
	if (dfd >= 0)
		close(dfd);
	buf_free(&text);
	return r;
}

/* Creates the folder's dovecot-uidlist right away (as Dovecot does), so
 * its UIDVALIDITY is fixed from the start. */
static int ml_init_uidlist(struct mstore *s, const char *canon)
{
	struct mstore_folder *f = mf_get(s, canon, false);
	int r;

	if (f == NULL)
		return -1;
	r = uf_read(f, true);
	uidlist_free(&f->ul);
	f->ul_loaded = false;
	mf_put(f);
	return r;
}

int mstore_folder_create(struct mstore *s, const char *name, unsigned special_use)
{
	char *canon = ml_name_canon(name), *path;
	struct stat st;
	int r;

	if (canon == NULL)
		return ms_fail(s, MSTORE_EINVAL, "invalid folder name: %s", name);
	path = ml_folder_path(s, canon);
	if (strcmp(canon, "INBOX") == 0 || stat(path, &st) == 0)
		r = ms_fail(s, MSTORE_EEXISTS, "folder exists: %s", canon);
	else
		r = ml_make_dirs(s, path, false);
	if (r == 0 && special_use)
		r = ml_set_special(s, path, special_use);
	if (r == 0)
		r = ml_init_uidlist(s, canon);
	free(path);
	free(canon);
	return r;
}

/* ---- subscriptions ---- */

static char **ml_subs_read(struct mstore *s)
{
	char *path = xasprintf("%s/" SUBS_NAME, s->root);
	struct buf text = BUF_INIT;
	char block[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char **v;

	free(path);
	if (fd >= 0) {
		while ((n = read(fd, block, sizeof(block))) > 0)
			buf_append(&text, block, (size_t)n);
		close(fd);
	}
	v = subs_parse(text.data ? text.data : "", text.len);
	buf_free(&text);
	return v;
}

int mstore_subscribe(struct mstore *s, const char *name, bool on)
{
	char *canon = ml_name_canon(name);
	struct buf text = BUF_INIT;
	struct mdlock l;
	char **v, **nv;
	size_t n, w = 0;
	bool found = false;
	int dfd, r = 0;

	if (canon == NULL)
		return ms_fail(s, MSTORE_EINVAL, "invalid folder name: %s", name);
	dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		free(canon);
		return ms_fail_errno(s, "open", s->root);
	}
	if (mdlock_take(&l, dfd, SUBS_NAME, MDLOCK_SUBS_STALE, MDLOCK_SUBS_TIMEOUT) < 0) {
		r = errno == EAGAIN ? ms_fail(s, MSTORE_ETEMP, "subscriptions.lock: busy")
				    : ms_fail_errno(s, "lock", SUBS_NAME);
		close(dfd);
		free(canon);
		return r;
	}
	v = ml_subs_read(s);
	n = strv_len(v);
	nv = xcalloc(n + 2, sizeof(*nv));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], canon) == 0) {
			found = true;
			if (!on)
				continue;
		}
		nv[w++] = v[i];
	}
	if (on && !found)
		nv[w++] = canon;
	if (found == on) {
		mdlock_release(&l, dfd); /* nothing changes */
	} else {
		/* The new file's bytes, then its name, survive a crash. */
		subs_format(nv, &text);
		if (mdlock_replace(&l, dfd, text.data, text.len, MF_FILE_MODE, 0) < 0)
			r = ms_fail_errno(s, "replace", SUBS_NAME);
	}
	free(nv);
	strv_free(v);
	buf_free(&text);
	free(canon);
	close(dfd);
	return r;
}

/* ---- listing ---- */

struct ml_names {
	char **v;
	size_t n, cap;
};

static void ml_names_add(struct ml_names *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(name);
}

/* The folders on disk (canonical names), INBOX not included. */
static int ml_scan(struct mstore *s, struct ml_names *out)
{
	DIR *d = opendir(s->root);
	struct dirent *de;
	struct buf name = BUF_INIT, back = BUF_INIT;

	if (d == NULL)
		return ms_fail_errno(s, "open", s->root);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *canon;

		if (de->d_name[0] != '.' || de->d_name[1] == 0 || de->d_name[1] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
			continue;
		if (de->d_type != DT_DIR &&
		    (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		buf_reset(&name);
		buf_reset(&back);
		/* Only names that map back to this very directory. */
		if (mutf7_decode(de->d_name + 1, strlen(de->d_name + 1), &name) < 0)
			continue;
		canon = ml_name_canon(buf_cstr(&name));
		if (canon == NULL || strcmp(canon, "INBOX") == 0) {
			free(canon);
			continue;
		}
		buf_putc(&back, '.');
		mutf7_encode(canon, strlen(canon), &back);
		if (strcmp(buf_cstr(&back), de->d_name) == 0)
			ml_names_add(out, canon);
		free(canon);
	}
	closedir(d);
	buf_free(&name);
	buf_free(&back);
	return 0;
}

static int ml_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mstore_folder_info *)a)->name,
	    ((const struct mstore_folder_info *)b)->name);
}

static struct mstore_folder_info *ml_find(struct mstore_folder_info *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

int mstore_list(struct mstore *s, struct mstore_folder_info **out, size_t *n)
{
	struct ml_names names = {0};
	struct mstore_folder_info *v;
	char **subs;
	size_t cnt = 0, cap;

	if (ml_scan(s, &names) < 0)
		return -1;
	subs = ml_subs_read(s);
	cap = 1 + names.n * 2 + strv_len(subs);
	v = xcalloc(cap + 1, sizeof(*v));
	v[cnt++].name = xstrdup("INBOX");
	for (size_t i = 0; i < names.n; i++) {
		char *path = ml_folder_path(s, names.v[i]);

		v[cnt].name = names.v[i];
		v[cnt++].special_use = ml_special_of(s, names.v[i], path);
		free(path);
	}
	/* Levels above folders that have no directory of their own. */
	for (size_t i = 0, end = cnt; i < end; i++) {
		char *p = xstrdup(v[i].name), *dot;

		while ((dot = strrchr(p, MSTORE_SEP)) != NULL) {
			*dot = 0;
			if (ml_find(v, cnt, p))
				break;
			if (cnt == cap) {
				cap *= 2;
				v = xreallocarray(v, cap + 1, sizeof(*v));
			}
			v[cnt].name = xstrdup(p);
			v[cnt++].flags = MSTORE_LF_NONEXISTENT;
		}
		free(p);
	}
	for (char **sb = subs; *sb; sb++) {
		struct mstore_folder_info *fi = ml_find(v, cnt, *sb);

		if (fi == NULL) {
			if (cnt == cap) {
				cap *= 2;
				v = xreallocarray(v, cap + 1, sizeof(*v));
			}
			fi = &v[cnt++];
			fi->name = xstrdup(*sb);
			fi->flags = MSTORE_LF_NONEXISTENT | ML_SUBS_ONLY;
		}
		fi->flags |= MSTORE_LF_SUBSCRIBED;
	}
	qsort(v + 1, cnt - 1, sizeof(*v), ml_cmp);
	for (size_t i = 0; i < cnt; i++) {
		size_t len = strlen(v[i].name);
		bool kids = false;

		/* A subscription without a folder is no child. */
		for (size_t j = 0; j < cnt && !kids; j++)
			kids = strncmp(v[j].name, v[i].name, len) == 0 &&
			       v[j].name[len] == MSTORE_SEP && !(v[j].flags & ML_SUBS_ONLY);
		v[i].flags |= kids ? MSTORE_LF_CHILDREN : MSTORE_LF_NOCHILDREN;
	}
	for (size_t i = 0; i < cnt; i++)
		v[i].flags &= ~ML_SUBS_ONLY;
	free(names.v);
	strv_free(subs);
	*out = v;
	*n = cnt;
	return 0;
}

void mstore_list_free(struct mstore_folder_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

char *mstore_special_folder(struct mstore *s, unsigned role)
{
	struct mstore_folder_info *v;
	char *found = NULL;
	size_t n;

	if (mstore_list(s, &v, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !found; i++)
		if ((v[i].special_use & role) && !(v[i].flags & MSTORE_LF_NONEXISTENT))
			found = xstrdup(v[i].name);
	mstore_list_free(v, n);
	return found;
}

int ml_autocreate(struct mstore *s)
{
	for (size_t i = 0; i < 5; i++) {
		const char *name = NULL;
		char **items = NULL, *want = NULL, *path;
		struct stat st;

		if (s->opts.special_use == NULL) {
			name = ml_roles[i].name;
		} else {
			items = strv_split(s->opts.special_use, ", \t");
			for (char **it = items; *it && !name; it++) {
				size_t rl = strlen(ml_roles[i].role);

				if (strncasecmp(*it, ml_roles[i].role, rl) == 0 && (*it)[rl] == '=')
					name = *it + rl + 1;
			}
		}
		if (name && *name)
			want = ml_name_canon(name);
		strv_free(items);
		if (want == NULL || strcmp(want, "INBOX") == 0) {
			free(want);
			continue;
		}
		path = ml_folder_path(s, want);
		if (stat(path, &st) < 0 && errno == ENOENT) {
			if (mstore_folder_create(s, want, 0) < 0 && s->err != MSTORE_EEXISTS) {
				free(path);
				free(want);
				return -1;
			}
			if (s->opts.autosubscribe && mstore_subscribe(s, want, true) < 0) {
				free(path);
				free(want);
				return -1;
			}
		}
		free(path);
		free(want);
	}
	return 0;
}

/* ---- delete and rename ---- */

/* Removes a directory tree (no symlinks followed). */
static int ml_rmtree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return errno == ENOENT ? 0 : unlinkat(parent, name, 0);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			if (ml_rmtree(dirfd(d), de->d_name) < 0 && errno != ENOTDIR)
				unlinkat(dirfd(d), de->d_name, 0);
		} else {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

/* Forgets a folder opened in this process (its views die with it). */
static void ml_forget(struct mstore *s, const char *canon)
{
	for (struct mstore_folder *f = s->folders; f; f = f->next) {
		if (strcmp(f->name, canon) == 0) {
			while (f->views)
				mstore_view_close(f->views);
			if (f->refs == 0)
				mf_close(f);
			break;
		}
	}
}

int mstore_folder_delete(struct mstore *s, const char *name)
{
	char *canon = ml_name_canon(name), *dir;
	int dfd, r = 0;

	if (canon == NULL)
		return ms_fail(s, MSTORE_EINVAL, "invalid folder name: %s", name);
	if (strcmp(canon, "INBOX") == 0) {
		free(canon);
		return ms_fail(s, MSTORE_EINVAL, "INBOX cannot be deleted");
	}
	dir = ml_dir_name(canon);
	dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = ms_fail_errno(s, "open", s->root);
	} else {
		ml_forget(s, canon);
		ml_rmtree(dfd, ML_TRASH); /* an earlier delete that was cut short */
		if (renameat(dfd, dir, dfd, ML_TRASH) < 0) {
			r = errno == ENOENT
				? ms_fail(s, MSTORE_ENOTFOUND, "no such folder: %s", canon)
				: ms_fail_errno(s, "rename", dir);
		} else if (fsync(dfd) < 0) {
			r = ms_fail_errno(s, "fsync", s->root);
		} else if (ml_rmtree(dfd, ML_TRASH) < 0) {
			log_warn("%s/%s: %s (removed at the next delete)", s->root, ML_TRASH,
			    strerror(errno));
		}
		close(dfd);
	}
	free(dir);
	free(canon);
	return r;
}

int mstore_folder_rename(struct mstore *s, const char *from, const char *to)
{
	char *a = ml_name_canon(from), *b = ml_name_canon(to);
	struct ml_names names = {0};
	size_t alen;
	bool any = false;
	int dfd = -1, r = 0;

	if (a == NULL || b == NULL) {
		r = ms_fail(s, MSTORE_EINVAL, "invalid folder name: %s", a ? to : from);
		goto out;
	}
	alen = strlen(a);
	if (strcmp(a, "INBOX") == 0 || strcmp(b, "INBOX") == 0) {
		r = ms_fail(s, MSTORE_EINVAL, "INBOX cannot be renamed here");
		goto out;
	}
	if (strncmp(b, a, alen) == 0 && (b[alen] == 0 || b[alen] == MSTORE_SEP)) {
		r = ms_fail(s, MSTORE_EINVAL, "cannot rename %s into itself", a);
		goto out;
	}
	if (ml_scan(s, &names) < 0) {
		r = -1;
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		if (strcmp(names.v[i], b) == 0 || (strncmp(names.v[i], b, strlen(b)) == 0 &&
						      names.v[i][strlen(b)] == MSTORE_SEP)) {
			r = ms_fail(s, MSTORE_EEXISTS, "folder exists: %s", names.v[i]);
			goto out;
		}
	}
	dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = ms_fail_errno(s, "open", s->root);
		goto out;
	}
	/* The folder itself (it may not exist: its children still move, as
	 * in Dovecot), then every child. */
	for (size_t i = 0; i < names.n && r == 0; i++) {
		const char *n = names.v[i];
		char *src, *dst, *nn;

		if (strncmp(n, a, alen) != 0 || (n[alen] != 0 && n[alen] != MSTORE_SEP))
			continue;
		ml_forget(s, n);
		nn = xasprintf("%s%s", b, n + alen);
		src = ml_dir_name(n);
		dst = ml_dir_name(nn);
		if (renameat(dfd, src, dfd, dst) < 0)
			r = ms_fail_errno(s, "rename", src);
		any = true;
		free(src);
		free(dst);
		free(nn);
	}
	if (r == 0 && !any)
		r = ms_fail(s, MSTORE_ENOTFOUND, "no such folder: %s", a);
	if (r == 0 && fsync(dfd) < 0)
		r = ms_fail_errno(s, "fsync", s->root);
out:
	if (dfd >= 0)
		close(dfd);
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(a);
	free(b);
	return r;
}
