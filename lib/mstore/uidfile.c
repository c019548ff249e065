/*
 * uidfile.c - dovecot-uidlist and dovecot-keywords on disk, with
 * Dovecot's locking: both are changed only under dovecot-uidlist.lock;
 * dovecot-uidlist grows by appended records or is rewritten through
 * dovecot-uidlist.tmp; dovecot-keywords is rewritten through its own
 * dot-lock file.  Readers take no lock.
 *
 * Durability: records whose UIDs a caller will reveal (APPENDUID,
 * COPYUID, a client seeing new mail) are fdatasync()ed; the rename of a
 * rewritten file is made durable with an fsync of the folder directory,
 * so the old file cannot come back after a crash.
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Reads a whole file relative to dfd; -1 with errno. */
static int uf_slurp(int dfd, const char *name, struct buf *out, struct stat *st)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	char block[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		close(fd);
		return -1;
	}
	buf_reserve(out, (size_t)st->st_size + 1);
	while ((n = read(fd, block, sizeof(block))) > 0)
		buf_append(out, block, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * Writes a new dovecot-uidlist (uidlist lock held): the records of the
 * file and of the index whose files still exist, by UID.  Records the
 * index lacks are kept (Dovecot may have just given a UID the index has
 * not seen yet); only records of files that are gone are dropped.
 */
int uf_recreate(struct mstore_folder *f)
{
	struct buf out = BUF_INIT;
	char guid[UIDLIST_GUID_HEX + 1];
	struct mf_bases have;
	uint32_t next = f->st.next_uid;
	size_t i = 0, j = 0;
	int fd, r = 0;

	if (uf_read(f, false) < 0 || mf_bases_read(f, &have) < 0)
		return -1;
	if (f->ul_loaded && f->ul.uidvalidity != f->st.uidvalidity) {
		/* not ours to rewrite: the next rescan resets to it */
		mf_bases_free(&have);
		return 0;
	}
	if (f->ul.guid[0])
		strlcpy(guid, f->ul.guid, sizeof(guid));
	else
		uidlist_new_guid(guid);
	if (f->ul_loaded && f->ul.next_uid > next)
		next = f->ul.next_uid;
	if (f->lh.next_uid > next)
		next = f->lh.next_uid;
	uidlist_format_header(&out, f->st.uidvalidity, next, guid, buf_cstr(&f->ul.hdr_ext));
	while (i < f->st.n || j < f->ul.n) {
		const char *base, *ext;
		size_t blen, elen;
		uint32_t uid;

		if (j >= f->ul.n || (i < f->st.n && f->st.msgs[i].uid <= f->ul.recs[j].uid)) {
			const struct ix_msg *m = &f->st.msgs[i];

			if (j < f->ul.n && f->ul.recs[j].uid == m->uid)
				j++; /* the index's copy of the record wins */
			uid = m->uid;
			base = ix_msg_base(&f->st, m);
			blen = strlen(base);
			ext = ix_msg_ext(&f->st, m);
			elen = strlen(ext);
			i++;
		} else {
			uid = f->ul.recs[j].uid;
			base = uidlist_base(&f->ul, j, &blen);
			ext = uidlist_ext(&f->ul, j, &elen);
			j++;
		}
		if (mf_bases_has(&have, base, blen))
			uidlist_format_rec(&out, uid, ext, elen, base, blen);
	}
	mf_bases_free(&have);
	fd = openat(
	    f->dfd, UIDLIST_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || write(fd, out.data, out.len) != (ssize_t)out.len || fdatasync(fd) < 0 ||
	    close(fd) < 0) {
		r = ms_fail_errno(f->store, "write", UIDLIST_NAME ".tmp");
		unlinkat(f->dfd, UIDLIST_NAME ".tmp", 0);
	} else if (renameat(f->dfd, UIDLIST_NAME ".tmp", f->dfd, UIDLIST_NAME) < 0 ||
		   fsync(f->dfd) < 0) {
		r = ms_fail_errno(f->store, "rename", UIDLIST_NAME);
	}
	buf_free(&out);
	uidlist_free(&f->ul);
	f->ul_loaded = false;
	return r;
}

/* A new, empty uidlist (uidlist lock held). */
static int uf_create_empty(struct mstore_folder *f, uint32_t uidvalidity, uint32_t next)
{
	struct buf out = BUF_INIT;
	char guid[UIDLIST_GUID_HEX + 1];
	int fd, r = 0;

	uidlist_new_guid(guid);
	uidlist_format_header(&out, uidvalidity, next ? next : 1, guid, NULL);
	fd = openat(
	    f->dfd, UIDLIST_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || write(fd, out.data, out.len) != (ssize_t)out.len || fdatasync(fd) < 0 ||
	    close(fd) < 0 || renameat(f->dfd, UIDLIST_NAME ".tmp", f->dfd, UIDLIST_NAME) < 0 ||
	    fsync(f->dfd) < 0) {
		r = ms_fail_errno(f->store, "create", UIDLIST_NAME);
		unlinkat(f->dfd, UIDLIST_NAME ".tmp", 0);
	}
	buf_free(&out);
	return r;
}

/* Parses text into f->ul; false when it is corrupt. */
static bool uf_parse(struct mstore_folder *f, const struct buf *text, const struct stat *st)
{
	const char *err = NULL;

	uidlist_free(&f->ul);
	f->ul_loaded = false;
	if (uidlist_parse(text->data ? text->data : "", text->len, &f->ul, &err) < 0 ||
	    f->ul.version == 0) {
		log_warn("%s/%s: %s at line %zu", f->path, UIDLIST_NAME, err ? err : "empty file",
		    f->ul.lines);
		uidlist_free(&f->ul);
		return false;
	}
	f->ul_loaded = true;
	f->ul_ino = st->st_ino;
	f->ul_read = text->len;
	f->ul_mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	return true;
}

/* True when what f->ul holds is the whole file still: the same inode
 * (a rewrite is a rename), size and mtime (records are only appended). */
static bool uf_current(struct mstore_folder *f)
{
	struct stat st;

	return f->ul_loaded && fstatat(f->dfd, UIDLIST_NAME, &st, 0) == 0 &&
	       (uint64_t)st.st_ino == f->ul_ino && (uint64_t)st.st_size == f->ul_read &&
	       (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == f->ul_mtime_ns;
}

int uf_read(struct mstore_folder *f, bool create)
{
	struct buf text = BUF_INIT;
	struct stat st;
	bool ok;
	int r = 0;

	/* A rescan reads it up to three times (rebuild, rescan, UIDs for
	 * new files): parsed once while it does not change. */
	if (uf_current(f))
		return 0;
	if (uf_slurp(f->dfd, UIDLIST_NAME, &text, &st) < 0) {
		buf_free(&text);
		if (errno != ENOENT)
			return ms_fail_errno(f->store, "read", UIDLIST_NAME);
		ok = false;
	} else {
		ok = uf_parse(f, &text, &st);
		buf_free(&text);
	}
	if (ok || !create)
		return 0;
	/* Missing or broken: when the index knows the folder's UIDs, write
	 * them back (clients keep their caches); else start a new
	 * UIDVALIDITY, as Dovecot does. */
	if (mf_ulock(f) < 0)
		return -1;
	if (f->full && f->st.uidvalidity && f->st.n > 0) {
		r = uf_recreate(f);
	} else {
		r = uf_create_empty(f, ml_uidvalidity_next(f->store), 1);
	}
	mf_uunlock(f);
	if (r < 0)
		return -1;
	if (uf_slurp(f->dfd, UIDLIST_NAME, &text, &st) < 0 || !uf_parse(f, &text, &st)) {
		buf_free(&text);
		return ms_fail(f->store, MSTORE_EIO, "%s/%s: cannot read what was written", f->path,
		    UIDLIST_NAME);
	}
	buf_free(&text);
	return 0;
}

uint32_t uf_next_uid(const struct mstore_folder *f)
{
	return f->ul.next_uid;
}

int uf_append(struct mstore_folder *f, const struct buf *lines, bool sync)
{
	int fd = openat(f->dfd, UIDLIST_NAME, O_RDWR | O_APPEND | O_CLOEXEC);
	char last;
	int r = 0;

	if (fd < 0)
		return ms_fail_errno(f->store, "open", UIDLIST_NAME);
	/* Dovecot's reader wants whole lines; a file that lost its last LF
	 * (torn write) gets it back first. */
	off_t size = lseek(fd, 0, SEEK_END);

	if (size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n' &&
	    write(fd, "\n", 1) != 1)
		r = -1;
	if (r == 0 && write(fd, lines->data, lines->len) != (ssize_t)lines->len)
		r = -1;
	if (r == 0 && sync && fdatasync(fd) < 0)
		r = -1;
	if (r < 0)
		ms_fail_errno(f->store, "append to", UIDLIST_NAME);
	close(fd);
	return r;
}

int uf_peek(struct mstore_folder *f, struct uf_peek *p)
{
	char buf[4096];
	struct uidlist ul;
	const char *err;
	ssize_t n, t;
	off_t from;
	int fd = openat(f->dfd, UIDLIST_NAME, O_RDWR | O_APPEND | O_CLOEXEC);

	p->fd = -1;
	if (fd < 0)
		return errno == ENOENT ? 1 : ms_fail_errno(f->store, "open", UIDLIST_NAME);
	if (fstat(fd, &p->before) < 0) {
		close(fd);
		return ms_fail_errno(f->store, "stat", UIDLIST_NAME);
	}
	if (f->lh.stamp.ul_ino == (uint64_t)p->before.st_ino &&
	    f->lh.stamp.ul_size == (uint64_t)p->before.st_size && f->lh.next_uid > 1) {
		/* Nobody changed it since the index's last commit: the index
		 * knows its UIDVALIDITY and next UID (our own appends always
		 * end with '\n'). */
		p->uidvalidity = f->lh.uidvalidity;
		p->next_uid = f->lh.next_uid;
		p->ends_nl = true;
		p->fd = fd;
		return 0;
	}
	uidlist_init(&ul);
	if ((n = pread(fd, buf, sizeof(buf), 0)) <= 0 ||
	    uidlist_parse(buf, (size_t)n, &ul, &err) <= 0) {
		close(fd);
		uidlist_free(&ul);
		return 1; /* unreadable: the full path repairs it */
	}
	p->uidvalidity = ul.uidvalidity;
	p->next_uid = ul.next_uid; /* N, or beyond it by the records read */
	uidlist_free(&ul);
	/* The last whole record line's UID (the file may be longer than
	 * what the first read got). */
	from = p->before.st_size > (off_t)sizeof(buf) ? p->before.st_size - (off_t)sizeof(buf) : 0;
	t = from == 0 ? n : pread(fd, buf, sizeof(buf), from);
	p->ends_nl = t > 0 && buf[t - 1] == '\n';
	if (t > 0 && from > 0) {
		ssize_t end = t, start;
		uint64_t uid = 0;

		while (end > 0 && buf[end - 1] != '\n')
			end--;
		start = end > 0 ? end - 1 : 0;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start > 0) { /* a whole line, not the header */
			for (ssize_t i = start; i < end && buf[i] >= '0' && buf[i] <= '9'; i++)
				uid = uid * 10 + (uint64_t)(buf[i] - '0');
			if (uid && uid < UINT32_MAX && uid + 1 > p->next_uid)
				p->next_uid = (uint32_t)uid + 1;
		}
	}
	p->fd = fd;
	return 0;
}

int uf_peek_append(struct mstore_folder *f, struct uf_peek *p, const struct buf *lines, bool sync)
{
	int r = 0;

	if (!p->ends_nl && p->before.st_size > 0 && write(p->fd, "\n", 1) != 1)
		r = -1;
	if (r == 0 && write(p->fd, lines->data, lines->len) != (ssize_t)lines->len)
		r = -1;
	if (r == 0 && sync && fdatasync(p->fd) < 0)
		r = -1;
	if (r == 0 && fstat(p->fd, &p->after) < 0)
		r = -1;
	if (r < 0)
		ms_fail_errno(f->store, "append to", UIDLIST_NAME);
	return r;
}

void uf_peek_close(struct uf_peek *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* ---- dovecot-keywords ---- */

int kf_read(struct mstore_folder *f)
{
	struct buf text = BUF_INIT;
	struct stat st;

	if (fstatat(f->dfd, KEYWORDS_NAME, &st, 0) < 0) {
		if (errno != ENOENT)
			return ms_fail_errno(f->store, "stat", KEYWORDS_NAME);
		keywords_free(&f->kw);
		f->kw_loaded = true;
		f->kw_ino = 0;
		f->kw_ns = 0;
		return 0;
	}
	if (f->kw_loaded && f->kw_ino == st.st_ino &&
	    f->kw_ns == (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec)
		return 0;
	if (uf_slurp(f->dfd, KEYWORDS_NAME, &text, &st) < 0) {
		buf_free(&text);
		if (errno == ENOENT)
			return kf_read(f);
		return ms_fail_errno(f->store, "read", KEYWORDS_NAME);
	}
	keywords_free(&f->kw);
	keywords_parse(text.data ? text.data : "", text.len, &f->kw);
	buf_free(&text);
	f->kw_loaded = true;
	f->kw_ino = st.st_ino;
	f->kw_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

/* Writes dovecot-keywords through its dot-lock (uidlist lock held). */
static int kf_write(struct mstore_folder *f)
{
	struct buf text = BUF_INIT;
	struct mdlock l;
	int r = 0;

	keywords_format(&f->kw, &text);
	/* the folder's lock template (tmp/) serves: the uidlist lock is held */
	if (mdlock_take_linked(&l, f->dfd, KEYWORDS_NAME, ms_lock_stale(f->store), 0, f->tmp_fd,
		&f->ulock_tmpl) < 0) {
		buf_free(&text);
		if (errno == EAGAIN)
			return ms_fail(f->store, MSTORE_ETEMP, "%s.lock: busy", KEYWORDS_NAME);
		return ms_fail_errno(f->store, "lock", KEYWORDS_NAME);
	}
	/* The mtime must grow with every change: readers compare it. */
	if (mdlock_replace(&l, f->dfd, text.data, text.len, MF_FILE_MODE, f->kw_ns) < 0)
		r = ms_fail_errno(f->store, "replace", KEYWORDS_NAME);
	buf_free(&text);
	f->kw_loaded = false; /* read back our own write next time */
	return r;
}

int kf_letters(struct mstore_folder *f, const char *const *names, uint32_t *mask)
{
	bool changed = false;
	int r = 0;

	*mask = 0;
	if (names == NULL || *names == NULL)
		return 0;
	if (kf_read(f) < 0)
		return -1;
	for (const char *const *n = names; *n; n++) {
		int i = keywords_find(&f->kw, *n);

		if (i < 0)
			changed = true;
		else
			*mask |= 1u << i;
	}
	if (!changed)
		return 0;
	if (mf_ulock(f) < 0)
		return -1;
	f->kw_loaded = false;
	if (kf_read(f) < 0) {
		mf_uunlock(f);
		return -1;
	}
	changed = false;
	for (const char *const *n = names; *n && r == 0; n++) {
		bool added;
		int i;

		if (!keywords_name_valid(*n)) {
			r = ms_fail(f->store, MSTORE_EINVAL, "invalid keyword: %s", *n);
			break;
		}
		i = keywords_add(&f->kw, *n, &added);
		if (i < 0)
			r = ms_fail(f->store, MSTORE_ELIMIT,
			    "no room for keyword %s: a folder holds %d", *n, MD_KEYWORDS_MAX);
		else
			*mask |= 1u << i;
		changed |= added;
	}
	if (r == 0 && changed)
		r = kf_write(f);
	mf_uunlock(f);
	return r;
}
