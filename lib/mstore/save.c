/*
 * save.c - adding messages to a folder: APPEND, delivery, COPY, MOVE.
 *
 * A saved message is written to tmp/<unique>, fsync'ed (its data is
 * durable before any name points to it), renamed into new/ (no flags) or
 * cur/ (with flags) as "<unique>,S=<size>,W=<vsize>[:2,<flags>]", then
 * given the next UID under dovecot-uidlist.lock (one appended record)
 * and committed to the index log, all under tern.lock; finally the
 * directory is fsync'ed so the rename survives a crash.  That last fsync
 * may be left to the caller (delivery batches one per directory and
 * request); APPEND's UID, which the client sees at once, has its
 * uidlist record fdatasync'ed too.  A crash anywhere leaves either
 * nothing, a tmp/ file (removed after 36 hours), or a file the next
 * rescan indexes: never a UID pointing at a message that was not
 * acknowledged, or an acknowledged message without one.  Under the same
 * lock the new messages get the header fields the folder caches
 * (msg_hdr.h), read back from the page cache: only a cache, so a failure
 * there fails nothing.
 *
 * The UID is assigned without loading the folder's index: the uidlist's
 * first line and last record give the next UID, the log header the next
 * modseq.  Only when either file is missing or disagrees does the save
 * fall back to loading the folder, whose rescan then indexes the new
 * file like any other.
 *
 * Copies are hard links (the file never changes), a read/write copy
 * across file systems; the destination gets the same treatment as a
 * save, and the source's message GUID travels in the uidlist's G field.
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mstore/mdname.h"
#include "mstore/msg_hdr.h"
#include "util.h"

#define SAVE_BUF (64 * 1024)

struct mstore_save {
	struct mstore *s;
	struct mstore_folder *f;
	struct mstore_save_opts o;
	char **keywords;
	struct buf tmpname;
	int fd;
	struct buf out;
	uint64_t size, vsize;
	bool sizes_given;
	char last;
	bool failed;
};

const char *mstore_save_dir(const struct mstore *s)
{
	return s->save_dir;
}

static char **save_copy_strv(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/*
 * A delivery also cleans tmp/ of files left by killed writers, as
 * Dovecot's does, at most every SAVE_TMP_SCAN_SECS per folder: tmp/'s
 * atime, set to now after each scan, remembers the last one (set
 * explicitly, so it holds on noatime and relatime mounts too).  A
 * mailbox that is only delivered to, never opened by a reader that
 * rescans it, would otherwise keep them forever.
 */
#define SAVE_TMP_SCAN_SECS (8 * 3600)

static void save_maybe_clean_tmp(struct mstore_folder *f)
{
	struct stat st;
	struct timespec ts[2] = {{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_OMIT}};

	if (fstat(f->tmp_fd, &st) < 0 || time(NULL) - st.st_atime < SAVE_TMP_SCAN_SECS)
		return;
	mf_clean_tmp(f);
	(void)futimens(f->tmp_fd, ts);
}

struct mstore_save *mstore_save_begin(
    struct mstore *s, const char *folder, const struct mstore_save_opts *o)
{
	struct mstore_folder *f = mf_get(s, folder, o->create_folder);
	struct mstore_save *sv;

	if (f == NULL)
		return NULL;
	sv = xcalloc(1, sizeof(*sv));
	sv->s = s;
	sv->f = f;
	sv->o = *o;
	sv->keywords = save_copy_strv(o->keywords);
	sv->o.keywords = (const char *const *)sv->keywords;
	sv->last = '\n';
	save_maybe_clean_tmp(f);
	for (int tries = 0; tries < 5; tries++) {
		buf_reset(&sv->tmpname);
		mdname_unique(&sv->tmpname);
		sv->fd = openat(f->tmp_fd, buf_cstr(&sv->tmpname),
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, MF_FILE_MODE);
		if (sv->fd >= 0 || errno != EEXIST)
			break;
	}
	if (sv->fd < 0) {
		ms_fail_errno(s, "create", "tmp/ file");
		buf_reset(&sv->tmpname);
		mstore_save_abort(sv);
		return NULL;
	}
	return sv;
}

static int save_flush(struct mstore_save *sv)
{
	const char *p = sv->out.data;
	size_t len = sv->out.len;

	while (len > 0) {
		ssize_t n = write(sv->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sv->failed = true;
			return ms_fail_errno(sv->s, "write", "tmp/ file");
		}
		p += n;
		len -= (size_t)n;
	}
	buf_reset(&sv->out);
	return 0;
}

int mstore_save_write(struct mstore_save *sv, const void *p, size_t len)
{
	const char *c = p;

	if (sv->failed)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (c[i] == '\n' && sv->last != '\r')
			sv->vsize++;
		sv->last = c[i];
	}
	sv->size += len;
	sv->vsize += len;
	buf_append(&sv->out, p, len);
	return sv->out.len >= SAVE_BUF ? save_flush(sv) : 0;
}

int mstore_save_fd(struct mstore_save *sv)
{
	return sv->fd;
}

void mstore_save_set_sizes(struct mstore_save *sv, uint64_t size, uint64_t vsize)
{
	sv->size = size;
	sv->vsize = vsize;
	sv->sizes_given = true;
}

/* The virtual size of an open file (read back from the page cache). */
static int save_count_vsize(int fd, uint64_t *size, uint64_t *vsize)
{
	char block[65536], last = '\n';
	off_t off = 0;
	ssize_t n;

	*size = *vsize = 0;
	while ((n = pread(fd, block, sizeof(block), off)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (block[i] == '\n' && last != '\r')
				(*vsize)++;
			last = block[i];
		}
		off += n;
	}
	*size = (uint64_t)off;
	*vsize += (uint64_t)off;
	return n < 0 ? -1 : 0;
}

void mstore_save_abort(struct mstore_save *sv)
{
	if (sv == NULL)
		return;
	if (sv->fd >= 0)
		close(sv->fd);
	if (sv->tmpname.len)
		unlinkat(sv->f->tmp_fd, buf_cstr(&sv->tmpname), 0);
	buf_free(&sv->tmpname);
	buf_free(&sv->out);
	strv_free(sv->keywords);
	mf_put(sv->f);
	free(sv);
}

/* Writes data to disk before any name points to it. */
static int save_finish_file(struct mstore_save *sv)
{
	if (save_flush(sv) < 0)
		return -1;
	if (!sv->sizes_given && sv->size == 0 &&
	    save_count_vsize(sv->fd, &sv->size, &sv->vsize) < 0)
		return ms_fail_errno(sv->s, "read", "tmp/ file");
	if (sv->o.internal_date) {
		struct timespec ts[2] = {{0, UTIME_NOW}, {sv->o.internal_date, 0}};

		/* INTERNALDATE is the file's mtime, as Dovecot has it. */
		if (futimens(sv->fd, ts) < 0)
			return ms_fail_errno(sv->s, "utime", "tmp/ file");
	}
	if (fsync(sv->fd) < 0)
		return ms_fail_errno(sv->s, "fsync", "tmp/ file");
	if (close(sv->fd) < 0) {
		sv->fd = -1;
		return ms_fail_errno(sv->s, "close", "tmp/ file");
	}
	sv->fd = -1;
	return 0;
}

/* In the full state after a fallback rescan: the UID of base. */
static uint32_t save_uid_of(struct mstore_folder *f, const char *base)
{
	for (size_t i = f->st.n; i-- > 0;)
		if (strcmp(ix_msg_base(&f->st, &f->st.msgs[i]), base) == 0)
			return f->st.msgs[i].uid;
	return 0;
}

static int64_t save_mtime(int fd);

struct save_item {
	const char *base; /* unique,S=..,W=.. */
	uint32_t upper, kw, state;
	uint64_t size, vsize;
	int64_t idate;
	const char *ext; /* uidlist ext fields ("G...") or "" */
	int dirfd;	 /* where the file now is (new/ or cur/) */
};

/*
 * Gives UIDs to files just placed in the folder and commits them (the
 * folder lock held, the log header current).  pre: the mtimes of new/
 * and cur/ before the renames (0: not touched), to carry the stamp over
 * when nothing else changed them.  sync: fdatasync the uidlist.
 */
static int save_assign(struct mstore_folder *f, const struct save_item *it, size_t n,
    const int64_t pre[2], bool sync, uint32_t *uids)
{
	struct buf lines = BUF_INIT, recs = BUF_INIT;
	struct uf_peek pk;
	int64_t now_s = time(NULL);
	uint32_t next;
	size_t rec;
	int r, peek;

	if (mf_ulock(f) < 0)
		return -1;
	peek = uf_peek(f, &pk);
	if (peek < 0) {
		mf_uunlock(f);
		return -1;
	}
	if (peek == 1 || pk.uidvalidity != f->lh.uidvalidity) {
		/* No usable uidlist, or a new UIDVALIDITY: the full path. */
		uf_peek_close(&pk);
		mf_uunlock(f);
		if (!f->full && mf_load(f) < 0)
			return -1;
		if (mf_rescan(f, false) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			uids[i] = save_uid_of(f, it[i].base);
		return 0;
	}
	next = pk.next_uid;
	if (f->lh.next_uid > next)
		next = f->lh.next_uid;
	if (f->full && f->st.next_uid > next)
		next = f->st.next_uid;
	rec = ix_rec_begin(&recs, IXR_APPEND, mf_next_modseq(f));
	for (size_t i = 0; i < n; i++) {
		struct ix_append a = {0};

		uids[i] = next++;
		uidlist_format_rec(
		    &lines, uids[i], it[i].ext, strlen(it[i].ext), it[i].base, strlen(it[i].base));
		a.uid = uids[i];
		a.upper = it[i].upper;
		a.kw = it[i].kw;
		a.state = it[i].state;
		a.size = it[i].size < IX_NOSIZE ? (uint32_t)it[i].size : IX_NOSIZE;
		a.vsize = it[i].vsize < IX_NOSIZE ? (uint32_t)it[i].vsize : IX_NOSIZE;
		a.idate = it[i].idate;
		a.sdate = now_s;
		a.name_len = (uint16_t)strlen(it[i].base);
		a.ext_len = (uint16_t)strlen(it[i].ext);
		ix_rec_append_item(&recs, rec, &a, it[i].base, it[i].ext);
		if (!f->full) {
			/* The header's counters, kept without the state. */
			f->lh.messages++;
			f->lh.recent++;
			if (!(a.upper & MDF_SEEN))
				f->lh.unseen++;
			if (a.upper & MDF_TRASHED)
				f->lh.deleted++;
			if (f->lh.vsize_total != UINT64_MAX)
				f->lh.vsize_total += it[i].vsize;
		}
	}
	ix_rec_end(&recs, rec);
	r = uf_peek_append(f, &pk, &lines, sync);
	uf_peek_close(&pk);
	mf_uunlock(f);
	if (r == 0) {
		struct ix_stamp *st = &f->lh.stamp;

		/* The stamp still vouches for the Maildir when it did before
		 * our own changes. */
		for (int d = 0; d < 2; d++) {
			int64_t *stamped = d ? &st->cur_ns : &st->new_ns;
			int64_t now = pre[d] ? save_mtime(d ? f->cur_fd : f->new_fd) : 0;

			if (pre[d] && pre[d] == *stamped) {
				*stamped = now;
				st->taken_ns = ms_now_ns();
			}
		}
		if (st->ul_ino == (uint64_t)pk.before.st_ino &&
		    st->ul_size == (uint64_t)pk.before.st_size) {
			st->ul_ino = pk.after.st_ino;
			st->ul_size = (uint64_t)pk.after.st_size;
		}
		if (sync)
			f->lh.ul_synced = (uint64_t)pk.after.st_size;
		if (next > f->lh.next_uid)
			f->lh.next_uid = next;
		r = mf_commit(f, &recs);
	}
	buf_free(&lines);
	buf_free(&recs);
	return r;
}

static int64_t save_mtime(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* True when the folder has a tern index (someone reads it through tern). */
static bool save_indexed(struct mstore_folder *f)
{
	if (f->log_fd < 0)
		f->log_fd = openat(f->dfd, IX_LOG_NAME, O_RDWR | O_CLOEXEC);
	return f->log_fd >= 0;
}

/* What one save becomes in the folder. */
struct save_placed {
	struct buf base, name;
	uint32_t upper, kw;
	bool to_cur, placed;
};

/* Writes the file to disk and works out its name; -1 on failure. */
static int save_prepare(struct mstore_save *sv, struct save_placed *p)
{
	if (sv->failed || save_finish_file(sv) < 0)
		return -1;
	p->upper = ms_flags_to_upper(sv->o.flags);
	if (kf_letters(sv->f, sv->o.keywords, &p->kw) < 0)
		return -1;
	p->to_cur = p->upper || p->kw;
	buf_append(&p->base, sv->tmpname.data, sv->tmpname.len);
	mdname_sizes(&p->base, sv->size, sv->vsize);
	mdname_build(&p->name, p->base.data, p->base.len, p->to_cur, p->upper, p->kw);
	return 0;
}

static int save_dirfd(const struct mstore_save *sv, const struct save_placed *p)
{
	return p->to_cur ? sv->f->cur_fd : sv->f->new_fd;
}

/* tmp/ to new/ or cur/; the tmp name is no longer ours to unlink. */
static int save_place(struct mstore_save *sv, struct save_placed *p)
{
	if (renameat(sv->f->tmp_fd, buf_cstr(&sv->tmpname), save_dirfd(sv, p), buf_cstr(&p->name)) <
	    0)
		return ms_fail_errno(sv->s, "rename", "tmp/ file");
	p->placed = true;
	return 0;
}

/* Takes a placed file back (a failed MULTIAPPEND): unlinked, so that
 * no later rescan gives it a UID. */
static void save_unplace(struct mstore_save *sv, struct save_placed *p)
{
	if (p->placed && unlinkat(save_dirfd(sv, p), buf_cstr(&p->name), 0) == 0)
		fsync(save_dirfd(sv, p));
	p->placed = false;
}

static void save_item_of(
    const struct mstore_save *sv, const struct save_placed *p, struct save_item *it)
{
	memset(it, 0, sizeof(*it));
	it->base = buf_cstr((struct buf *)&p->base);
	it->upper = p->upper;
	it->kw = p->kw;
	it->state = p->to_cur ? 0 : (IXS_NEW | IXS_NOINFO);
	it->size = sv->size;
	it->vsize = sv->vsize;
	it->idate = sv->o.internal_date ? sv->o.internal_date : time(NULL);
	it->ext = "";
	it->dirfd = save_dirfd(sv, p);
}

/* A plain Maildir delivery into a folder no tern server reads yet: the
 * first reader gives the UID (as Dovecot's do). */
static int save_commit_lazy(struct mstore_save *sv, struct save_placed *p)
{
	int r = save_place(sv, p);

	if (r == 0)
		buf_reset(&sv->tmpname);
	return r;
}

/* The header fields the folder caches, for the new messages (locked). */
static void save_fill_cache(struct mstore_folder *f, struct mstore_save **svs,
    struct save_placed *p, size_t n, const uint32_t *uids)
{
	const char **names = xcalloc(n, sizeof(*names));
	int *dirfds = xcalloc(n, sizeof(*dirfds));

	for (size_t i = 0; i < n; i++) {
		names[i] = buf_cstr(&p[i].name);
		dirfds[i] = save_dirfd(svs[i], &p[i]);
	}
	msg_hdr_fill_new(f, uids, dirfds, names, n);
	free(names);
	free(dirfds);
}

int mstore_save_commit_all(
    struct mstore_save **svs, size_t n, uint32_t *uids, uint32_t *uidvalidity)
{
	struct mstore_save *sv0 = n ? svs[0] : NULL;
	struct mstore_folder *f = sv0 ? sv0->f : NULL;
	struct mstore *s = sv0 ? sv0->s : NULL;
	struct save_placed *p = xcalloc(n + 1, sizeof(*p));
	struct save_item *it = xcalloc(n + 1, sizeof(*it));
	uint32_t *got = xcalloc(n + 1, sizeof(*got));
	uint64_t total = 0;
	int64_t pre[2] = {0, 0};
	bool quota_kept = true, locked = false, dirty[2] = {false, false};
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if (svs[i]->f != f)
			r = ms_fail(s, MSTORE_EINVAL, "one commit, several folders");
		else
			r = save_prepare(svs[i], &p[i]);
		total += svs[i]->size;
	}
	if (r == 0 && n && sv0->o.check_quota)
		r = mq_check(s, total, n, &quota_kept);
	if (r == 0 && n == 1 && sv0->o.lazy_uid && !save_indexed(f)) {
		r = save_commit_lazy(sv0, &p[0]);
		dirty[p[0].to_cur] = r == 0;
		goto placed;
	}
	if (r == 0 && n) {
		locked = true;
		r = mf_lock(f);
		if (r == 0)
			r = mf_locked_header(f);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!dirty[p[i].to_cur])
			pre[p[i].to_cur] = save_mtime(save_dirfd(svs[i], &p[i]));
		r = save_place(svs[i], &p[i]);
		dirty[p[i].to_cur] = true;
		save_item_of(svs[i], &p[i], &it[i]);
	}
	if (r == 0 && n)
		r = save_assign(f, it, n, pre, !sv0->o.defer_dir_sync, got);
	if (r == 0 && n)
		save_fill_cache(f, svs, p, n, got);
	if (r == 0 && uidvalidity)
		*uidvalidity = f->lh.uidvalidity;
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			save_unplace(svs[i], &p[i]);
	if (locked)
		mf_unlock(f);
placed:
	for (size_t i = 0; i < n; i++)
		if (p[i].placed)
			buf_reset(&svs[i]->tmpname); /* no longer ours to unlink */
	if (r == 0 && n == 1 && sv0->o.defer_dir_sync) {
		free(s->save_dir);
		s->save_dir = xasprintf("%s/%s", f->path, p[0].to_cur ? "cur" : "new");
	} else if (r == 0) {
		/* The renames are not durable: report failure (the messages
		 * may then arrive twice, never zero times). */
		for (int d = 0; d < 2 && r == 0; d++)
			if (dirty[d] && fsync(d ? f->cur_fd : f->new_fd) < 0)
				r = ms_fail_errno(s, "fsync", d ? "cur/" : "new/");
	}
	if (r == 0 && quota_kept)
		mq_update(s, (int64_t)total, (int64_t)n);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && uids)
			uids[i] = got[i];
		buf_free(&p[i].base);
		buf_free(&p[i].name);
		mstore_save_abort(svs[i]);
	}
	free(p);
	free(it);
	free(got);
	return r;
}

int mstore_save_commit(struct mstore_save *sv, uint32_t *uid, uint32_t *uidvalidity)
{
	return mstore_save_commit_all(&sv, 1, uid, uidvalidity);
}

/* ---- copy and move ---- */

/* Copies a file's bytes into dest's tmp/ (a hard link was impossible),
 * fsync'ed; returns the tmp name in out. */
static int save_copy_bytes(struct mstore_folder *g, int src_dirfd, const char *src, struct buf *out)
{
	int in = openat(src_dirfd, src, O_RDONLY | O_CLOEXEC), fd = -1;
	char block[65536];
	ssize_t n = 0;

	if (in < 0)
		return -1;
	for (int tries = 0; tries < 5 && fd < 0; tries++) {
		buf_reset(out);
		mdname_unique(out);
		fd = openat(g->tmp_fd, buf_cstr(out), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    MF_FILE_MODE);
	}
	if (fd < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, block, sizeof(block))) > 0)
		if (write(fd, block, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (n < 0 || fsync(fd) < 0 || close(fd) < 0) {
		unlinkat(g->tmp_fd, buf_cstr(out), 0);
		return -1;
	}
	return 0;
}

/* The header fields the destination caches, for the copies (g locked,
 * the copies committed): as for a save, the first SEARCH or FETCH of them
 * in the destination reads no file. */
static void save_copy_fill_cache(struct mstore_folder *g, const struct save_item *items,
    const struct buf *bases, const uint32_t *uids, size_t n)
{
	struct buf *names = xcalloc(n ? n : 1, sizeof(*names));
	const char **np = xcalloc(n ? n : 1, sizeof(*np));
	int *dirfds = xcalloc(n ? n : 1, sizeof(*dirfds));

	for (size_t k = 0; k < n; k++) {
		mdname_build(&names[k], bases[k].data, bases[k].len, items[k].dirfd == g->cur_fd,
		    items[k].upper, items[k].kw);
		np[k] = buf_cstr(&names[k]);
		dirfds[k] = items[k].dirfd;
	}
	msg_hdr_fill_new(g, uids, dirfds, np, n);
	for (size_t k = 0; k < n; k++)
		buf_free(&names[k]);
	free(names);
	free(np);
	free(dirfds);
}

int mstore_view_copy(struct mstore_view *v, const uint32_t *uids, size_t n, const char *dest,
    bool move, uint32_t *dest_uids, uint32_t *dest_uidvalidity)
{
	struct mstore_folder *f = v->f, *g;
	struct mstore *s = f->store;
	struct save_item *items = xcalloc(n ? n : 1, sizeof(*items));
	struct buf *bases = xcalloc(n ? n : 1, sizeof(*bases)),
		   *exts = xcalloc(n ? n : 1, sizeof(*exts));
	uint32_t *got = xcalloc(n ? n : 1, sizeof(*got)),
		 *moved = xcalloc(n ? n : 1, sizeof(*moved));
	size_t *map = xcalloc(n ? n : 1, sizeof(*map)), ni = 0, nmoved = 0;
	bool touched[2] = {false, false};
	int64_t pre[2] = {0, 0};
	uint64_t bytes = 0;
	int r = 0;

	if (move && (v->flags & MSTORE_VIEW_READONLY))
		r = ms_fail(s, MSTORE_EINVAL, "the folder is read-only");
	g = r == 0 ? mf_get(s, dest, false) : NULL;
	if (g == NULL)
		r = -1;
	if (r == 0 && (r = mf_refresh(f, false)) == 0 && (r = mf_lock(g)) == 0 &&
	    (r = mf_locked_header(g)) == 0) {
		pre[0] = save_mtime(g->new_fd);
		pre[1] = save_mtime(g->cur_fd);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		long at = f->full ? ix_state_find(&f->st, uids[i]) : -1;
		const struct ix_msg *m;
		struct buf src = BUF_INIT, name = BUF_INIT, tmp = BUF_INIT;
		const char *sbase, *sext, *gv;
		size_t glen;
		uint32_t kw = 0;
		struct mdname md;
		bool to_cur;
		int dirfd;

		dest_uids[i] = 0;
		if (at < 0)
			continue; /* expunged meanwhile */
		m = &f->st.msgs[at];
		mf_msg_name(f, m, &src);
		sbase = ix_msg_base(&f->st, m);
		sext = ix_msg_ext(&f->st, m);
		mdname_parse(buf_cstr(&src), &md);
		/* keywords by name, into the destination's letters */
		if (m->kw) {
			const char *names[MD_KEYWORDS_MAX + 1];
			size_t k = 0;

			kf_read(f);
			for (int b = 0; b < MD_KEYWORDS_MAX; b++)
				if ((m->kw & (1u << b)) && f->kw.name[b])
					names[k++] = f->kw.name[b];
			names[k] = NULL;
			if (kf_letters(g, names, &kw) < 0) {
				r = -1;
				buf_free(&src);
				break;
			}
		}
		to_cur = (m->upper & MDF_ALL) || kw;
		dirfd = to_cur ? g->cur_fd : g->new_fd;
		mdname_unique(&bases[ni]);
		{
			uint64_t size = md.size, vsize = md.vsize;

			if (size == MDNAME_NOSIZE || vsize == MDNAME_NOSIZE) {
				int fd = openat(
				    mf_msg_dirfd(f, m), buf_cstr(&src), O_RDONLY | O_CLOEXEC);

				if (fd >= 0) {
					save_count_vsize(fd, &size, &vsize);
					close(fd);
				}
			}
			if (size != MDNAME_NOSIZE && vsize != MDNAME_NOSIZE)
				mdname_sizes(&bases[ni], size, vsize);
			items[ni].size = size;
			items[ni].vsize = vsize;
			bytes += size == MDNAME_NOSIZE ? 0 : size;
		}
		mdname_build(&name, bases[ni].data, bases[ni].len, to_cur, m->upper, kw);
		if (linkat(mf_msg_dirfd(f, m), buf_cstr(&src), dirfd, buf_cstr(&name), 0) < 0) {
			if (errno == ENOENT) {
				buf_free(&src);
				buf_free(&name);
				buf_free(&bases[ni]);
				continue; /* renamed or expunged under us: skipped */
			}
			if (save_copy_bytes(g, mf_msg_dirfd(f, m), buf_cstr(&src), &tmp) < 0 ||
			    renameat(g->tmp_fd, buf_cstr(&tmp), dirfd, buf_cstr(&name)) < 0) {
				r = ms_fail_errno(s, "copy", buf_cstr(&src));
				buf_free(&src);
				buf_free(&name);
				buf_free(&tmp);
				buf_free(&bases[ni]);
				break;
			}
		}
		touched[to_cur] = true;
		/* The message GUID stays the source's. */
		if (uidlist_ext_get(sext, strlen(sext), 'G', &gv, &glen))
			buf_printf(&exts[ni], "G%.*s", (int)glen, gv);
		else if (!strchr(sbase, ' '))
			buf_printf(&exts[ni], "G%s", sbase);
		items[ni].base = buf_cstr(&bases[ni]);
		items[ni].upper = m->upper;
		items[ni].kw = kw;
		items[ni].state = to_cur ? 0 : (IXS_NEW | IXS_NOINFO);
		items[ni].idate = m->idate;
		items[ni].ext = buf_cstr(&exts[ni]);
		items[ni].dirfd = dirfd;
		map[ni] = i;
		moved[nmoved++] = uids[i];
		ni++;
		buf_free(&src);
		buf_free(&name);
		buf_free(&tmp);
	}
	/* The links are durable before any UID names them. */
	if (r == 0 && touched[0] && fsync(g->new_fd) < 0)
		r = ms_fail_errno(s, "fsync", "new/");
	if (r == 0 && touched[1] && fsync(g->cur_fd) < 0)
		r = ms_fail_errno(s, "fsync", "cur/");
	if (r == 0 && ni) {
		int64_t pre_used[2] = {touched[0] ? pre[0] : 0, touched[1] ? pre[1] : 0};

		r = save_assign(g, items, ni, pre_used, true, got);
	}
	if (r < 0) {
		/* COPY must leave the destination as it was. */
		for (size_t k = 0; k < ni; k++) {
			struct buf name = BUF_INIT;

			mdname_build(&name, bases[k].data, bases[k].len,
			    items[k].dirfd == g->cur_fd, items[k].upper, items[k].kw);
			unlinkat(items[k].dirfd, buf_cstr(&name), 0);
			buf_free(&name);
		}
	} else {
		for (size_t k = 0; k < ni; k++)
			dest_uids[map[k]] = got[k];
		save_copy_fill_cache(g, items, bases, got, ni);
		if (dest_uidvalidity)
			*dest_uidvalidity = g->lh.uidvalidity;
		mq_update(s, (int64_t)bytes, (int64_t)ni);
	}
	if (g) {
		mf_unlock(g);
		mf_put(g);
	}
	if (r == 0 && move && nmoved)
		r = mstore_view_expunge(v, moved, nmoved);
	for (size_t k = 0; k < n; k++) {
		buf_free(&bases[k]);
		buf_free(&exts[k]);
	}
	free(items);
	free(bases);
	free(exts);
	free(got);
	free(moved);
	free(map);
	return r;
}
