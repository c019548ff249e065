/*
 * folder.c - one open folder: its directories, its locks, and the index
 * protocol of ix.h (log header commit, snapshot, rotation, rebuild).
 *
 * A folder is opened "light" (descriptors and the log header: enough to
 * deliver a message) and loaded "full" on demand (the snapshot and the
 * log applied: what views need).  Writers hold tern.lock; under it they
 * first read the log header (mf_locked_header: creates, repairs or
 * follows a rotated log, drops an uncommitted tail, handles a reboot)
 * and, when full, apply what others committed; then they change the
 * Maildir, then commit records (mf_commit).  Readers apply committed
 * records without any lock (mf_refresh).
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "mstore/cache.h"
#include "util.h"

static int mf_open_dirs(struct mstore_folder *f, bool create)
{
	static const char *const sub[] = {"new", "cur", "tmp"};
	int *fds[] = {&f->new_fd, &f->cur_fd, &f->tmp_fd};

	f->dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dfd < 0 && errno == ENOENT && create) {
		if (ml_make_dirs(f->store, f->path, strcmp(f->name, "INBOX") == 0) < 0)
			return -1;
		f->dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (f->dfd < 0) {
		if (errno == ENOENT)
			return ms_fail(f->store, MSTORE_ENOTFOUND, "no such folder: %s", f->name);
		return ms_fail_errno(f->store, "open", f->path);
	}
	for (int i = 0; i < 3; i++) {
		*fds[i] = openat(f->dfd, sub[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* A folder missing one of them gets it back, as Dovecot does. */
		if (*fds[i] < 0 && errno == ENOENT && mkdirat(f->dfd, sub[i], MF_DIR_MODE) == 0)
			*fds[i] = openat(f->dfd, sub[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fds[i] < 0)
			return ms_fail_errno(f->store, "open", sub[i]);
	}
	f->lock_fd = openat(f->dfd, IX_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, MF_FILE_MODE);
	if (f->lock_fd < 0)
		return ms_fail_errno(f->store, "open", IX_LOCK_NAME);
	f->log_fd = openat(f->dfd, IX_LOG_NAME, O_RDWR | O_CLOEXEC);
	return 0;
}

static void mf_free(struct mstore_folder *f)
{
	int *fds[] = {&f->dfd, &f->new_fd, &f->cur_fd, &f->tmp_fd, &f->lock_fd, &f->log_fd};

	if (f->cache)
		mc_close(f->cache);
	mdlock_template_free(&f->ulock_tmpl, f->tmp_fd);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (mdlock_held(&f->ulock))
		mdlock_release(&f->ulock, f->dfd);
	ix_state_free(&f->st);
	uidlist_free(&f->ul);
	keywords_free(&f->kw);
	buf_free(&f->fills);
	buf_free(&f->cache_items);
	buf_free(&f->threads);
	free(f->name);
	free(f->path);
	free(f);
}

struct mstore_folder *mf_get(struct mstore *s, const char *name, bool create)
{
	char *canon = ml_name_canon(name);
	struct mstore_folder *f;

	if (canon == NULL) {
		ms_fail(s, MSTORE_EINVAL, "invalid folder name: %s", name);
		return NULL;
	}
	for (struct mstore_folder **pp = &s->folders; (f = *pp) != NULL; pp = &f->next) {
		if (strcmp(f->name, canon) == 0) {
			/* most recently used first */
			*pp = f->next;
			f->next = s->folders;
			s->folders = f;
			f->refs++;
			free(canon);
			return f;
		}
	}
	f = xcalloc(1, sizeof(*f));
	f->store = s;
	f->name = canon;
	f->path = ml_folder_path(s, canon);
	f->dfd = f->new_fd = f->cur_fd = f->tmp_fd = f->lock_fd = f->log_fd = -1;
	f->ulock.fd = -1;
	for (int i = 0; i < 4; i++)
		f->wd[i] = -1;
	ix_state_init(&f->st);
	uidlist_init(&f->ul);
	if (mf_open_dirs(f, create) < 0) {
		mf_free(f);
		return NULL;
	}
	f->refs = 1;
	f->next = s->folders;
	s->folders = f;
	return f;
}

/* Unlinks f from its store and frees it. */
void mf_close(struct mstore_folder *f)
{
	struct mstore_folder **pp;

	mf_flush(f);
	mn_unwatch(f);
	for (pp = &f->store->folders; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	mf_free(f);
}

/*
 * Drops a reference.  An unused folder stays open (descriptors, state)
 * for the next use, up to MF_KEEP_UNUSED of them: a delivery process or
 * an IMAP session going back to a folder pays no reopening.
 */
void mf_put(struct mstore_folder *f)
{
	struct mstore_folder *last = NULL;
	size_t unused = 0;

	if (f == NULL || --f->refs > 0)
		return;
	mf_flush(f);
	for (struct mstore_folder *g = f->store->folders; g; g = g->next) {
		if (g->refs == 0) {
			unused++;
			last = g;
		}
	}
	if (unused > MF_KEEP_UNUSED && last)
		mf_close(last);
}

/* ---- locks ---- */

int mf_lock(struct mstore_folder *f)
{
	if (f->lock_depth++ > 0)
		return 0;
	while (flock(f->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			f->lock_depth = 0;
			return ms_fail_errno(f->store, "flock", IX_LOCK_NAME);
		}
	}
	return 0;
}

void mf_unlock(struct mstore_folder *f)
{
	if (f->lock_depth == 0 || --f->lock_depth > 0)
		return;
	flock(f->lock_fd, LOCK_UN);
}

int mf_ulock(struct mstore_folder *f)
{
	int stale = ms_lock_stale(f->store);

	if (f->ulock_depth++ > 0)
		return 0;
	if (mdlock_take_linked(&f->ulock, f->dfd, UIDLIST_NAME, stale,
		stale + MDLOCK_UIDLIST_TIMEOUT - MDLOCK_UIDLIST_STALE, f->tmp_fd,
		&f->ulock_tmpl) < 0) {
		f->ulock_depth = 0;
		if (errno == EAGAIN)
			return ms_fail(f->store, MSTORE_ETEMP,
			    "%s/dovecot-uidlist.lock: still locked", f->path);
		return ms_fail_errno(f->store, "lock", UIDLIST_NAME);
	}
	return 0;
}

void mf_uunlock(struct mstore_folder *f)
{
	if (f->ulock_depth == 0 || --f->ulock_depth > 0)
		return;
	if (mdlock_release(&f->ulock, f->dfd) < 0)
		log_warn("%s/dovecot-uidlist.lock: %s (overridden while held?)", f->path,
		    strerror(errno));
}

/* ---- the log header ---- */

static int mf_read_hdr(int fd, struct ix_log_hdr *h)
{
	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = pread(fd, h, sizeof(*h), 0);

		if (n == (ssize_t)sizeof(*h) && ix_log_hdr_valid(h))
			return 0;
		if (n < 0)
			return -1;
	}
	errno = EBADMSG;
	return -1;
}

static int mf_write_hdr(struct mstore_folder *f)
{
	ix_log_hdr_seal(&f->lh);
	if (pwrite(f->log_fd, &f->lh, sizeof(f->lh), 0) != (ssize_t)sizeof(f->lh))
		return ms_fail_errno(f->store, "write", IX_LOG_NAME);
	return 0;
}

/* A fresh log file in place of the current one (renamed over it). */
static int mf_log_create(struct mstore_folder *f, const struct ix_log_hdr *h)
{
	char pad[IX_LOG_HDR_SIZE] = {0};
	int fd;

	fd = openat(
	    f->dfd, IX_LOG_NAME ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0)
		return ms_fail_errno(f->store, "create", IX_LOG_NAME ".tmp");
	memcpy(pad, h, sizeof(*h));
	if (pwrite(fd, pad, sizeof(pad), 0) != (ssize_t)sizeof(pad) ||
	    renameat(f->dfd, IX_LOG_NAME ".tmp", f->dfd, IX_LOG_NAME) < 0) {
		ms_fail_errno(f->store, "write", IX_LOG_NAME);
		close(fd);
		unlinkat(f->dfd, IX_LOG_NAME ".tmp", 0);
		return -1;
	}
	if (f->log_fd >= 0)
		close(f->log_fd);
	f->log_fd = fd;
	f->lh = *h;
	return 0;
}

static void mf_hdr_init(struct mstore_folder *f, struct ix_log_hdr *h, uint32_t seq,
    uint32_t uidvalidity, uint64_t modseq)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, IX_LOG_MAGIC, 8);
	h->hdr_size = IX_LOG_HDR_SIZE;
	h->seq = seq;
	h->valid_end = IX_LOG_HDR_SIZE;
	h->first_modseq = h->highest_modseq = modseq;
	h->uidvalidity = uidvalidity;
	h->next_uid = 1;
	h->first_recent_uid = 1;
	memcpy(h->boot_id, ms_boot_id(f->store), 16);
	ix_log_hdr_seal(h);
}

/* The modseq a rebuilt or rebooted index continues from (ix.h). */
static uint64_t mf_modseq_floor(uint64_t highest)
{
	uint64_t now = (uint64_t)(ms_now_ns() / 1000);

	return highest > now ? highest : now;
}

/* True when tern.index.log is no longer the file f->log_fd reads. */
static bool mf_log_replaced(struct mstore_folder *f)
{
	struct stat a, b;

	if (fstat(f->log_fd, &a) < 0 || fstatat(f->dfd, IX_LOG_NAME, &b, 0) < 0)
		return false;
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Reads records [f->log_pos, end) of the current log into the state. */
static int mf_apply_range(struct mstore_folder *f, uint64_t end)
{
	struct ix_apply_cb cb = {f, mf_views_expunged};
	size_t len, off = 0;
	char *data;

	if (!f->full || end <= f->log_pos)
		return 0;
	len = (size_t)(end - f->log_pos);
	data = xmalloc(len);
	if (pread(f->log_fd, data, len, (off_t)f->log_pos) != (ssize_t)len) {
		free(data);
		return ms_fail(f->store, MSTORE_EIO, "%s/%s: short read", f->path, IX_LOG_NAME);
	}
	while (off < len) {
		uint32_t size;

		if (ix_rec_check(data + off, len - off, &size) != 1) {
			free(data);
			errno = EBADMSG;
			return -1; /* committed but corrupt: the caller rebuilds */
		}
		ix_rec_apply(&f->st, data + off, &cb);
		off += size;
	}
	free(data);
	f->log_pos = end;
	return 0;
}

static void mf_state_from_hdr(struct mstore_folder *f)
{
	if (!f->full)
		return;
	f->st.uidvalidity = f->lh.uidvalidity;
	if (f->lh.next_uid > f->st.next_uid)
		f->st.next_uid = f->lh.next_uid;
	f->st.first_recent_uid = f->lh.first_recent_uid;
	if (f->lh.highest_modseq > f->st.highest_modseq)
		f->st.highest_modseq = f->lh.highest_modseq;
	/* cache_seq follows IXR_CACHE_GEN records and snapshots only: a
	 * difference from the header makes mc_get() find nothing. */
}

static int mf_load_snapshot(struct mstore_folder *f);

/*
 * Follows the log from f->log_pos to its committed end, into the next log
 * when it was rotated.  1 when done, 0 when the state must be reloaded
 * (fell behind a rotation or the log was replaced), -1 on errors (errno
 * EBADMSG: the log is damaged).
 */
static int mf_follow_log(struct mstore_folder *f)
{
	for (int hops = 0; hops < 8; hops++) {
		struct ix_log_hdr h, nh;
		int fd;

		if (mf_read_hdr(f->log_fd, &h) < 0)
			return -1;
		if (!(h.flags & IX_LOG_ROTATED) && f->lock_depth == 0 && mf_log_replaced(f)) {
			/* Replaced without our knowing (files removed by
			 * hand): start over from the current one. */
			h.flags |= IX_LOG_ROTATED;
		}
		if (f->full && (h.seq != f->lh.seq || h.valid_end < f->log_pos))
			return 0;
		if (mf_apply_range(f, h.valid_end) < 0)
			return -1;
		f->lh = h;
		mf_state_from_hdr(f);
		if (!(h.flags & IX_LOG_ROTATED))
			return 1;
		fd = openat(f->dfd, IX_LOG_NAME, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -1;
		if (mf_read_hdr(fd, &nh) < 0 || nh.seq == h.seq) {
			close(fd);
			return -1;
		}
		close(f->log_fd);
		f->log_fd = fd;
		if (nh.prev_seq != h.seq || nh.prev_end != h.valid_end ||
		    (f->full && nh.cache_seq != f->st.cache_seq)) {
			/* not a continuation (or the cache was compacted: the
			 * new snapshot has the new offsets) */
			f->lh = nh;
			return 0;
		}
		f->lh = nh;
		f->lh.valid_end = IX_LOG_HDR_SIZE;
		f->log_pos = IX_LOG_HDR_SIZE;
	}
	return 0;
}

int mf_locked_header(struct mstore_folder *f)
{
	int r;

	if (f->log_fd < 0)
		f->log_fd = openat(f->dfd, IX_LOG_NAME, O_RDWR | O_CLOEXEC);
	if (f->log_fd < 0) {
		if (errno != ENOENT)
			log_warn("%s/%s: %s, rebuilding the index", f->path, IX_LOG_NAME,
			    strerror(errno));
		return mf_rebuild(f);
	}
	r = mf_follow_log(f);
	if (r < 0) {
		log_warn("%s/%s: %s, rebuilding the index", f->path, IX_LOG_NAME, strerror(errno));
		return mf_rebuild(f);
	}
	if (r == 0 && f->full) {
		/* Behind a rotation: reload from the newer snapshot. */
		ix_state_free(&f->st);
		f->full = false;
		if (mf_load_snapshot(f) < 0)
			return -1;
		if ((r = mf_follow_log(f)) != 1)
			return mf_rebuild(f);
	}
	/* An uncommitted tail a crashed writer left is never read (readers
	 * stop at valid_end) and our records overwrite it; a longer one
	 * stays beyond our end, unread, until the log is rotated. */
	if (memcmp(f->lh.boot_id, ms_boot_id(f->store), 16) != 0) {
		/* First writer since a reboot: the log's tail may have been
		 * lost with modseqs a client saw; continue above them. */
		f->lh.highest_modseq = mf_modseq_floor(f->lh.highest_modseq);
		memcpy(f->lh.boot_id, ms_boot_id(f->store), 16);
		mf_state_from_hdr(f);
		if (mf_write_hdr(f) < 0)
			return -1;
	}
	return 0;
}

uint64_t mf_next_modseq(struct mstore_folder *f)
{
	uint64_t m = f->lh.highest_modseq;

	if (f->full && f->st.highest_modseq > m)
		m = f->st.highest_modseq;
	return m + 1;
}

/* recent: messages with uid >= first_recent_uid (the state is sorted). */
static uint32_t mf_count_recent(const struct ix_state *st)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->msgs[mid].uid < st->first_recent_uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)(st->n - lo);
}

int mf_commit(struct mstore_folder *f, struct buf *recs)
{
	struct ix_apply_cb cb = {f, mf_views_expunged};
	size_t off = 0;

	if (recs->len && !f->unlogged &&
	    pwrite(f->log_fd, recs->data, recs->len, (off_t)f->lh.valid_end) != (ssize_t)recs->len)
		return ms_fail_errno(f->store, "write", IX_LOG_NAME);
	while (off < recs->len) {
		struct ix_rec_hdr h;

		memcpy(&h, recs->data + off, sizeof(h));
		if (h.modseq > f->lh.highest_modseq)
			f->lh.highest_modseq = h.modseq;
		if (f->full)
			ix_rec_apply(&f->st, recs->data + off, &cb);
		off += h.size;
	}
	if (!f->unlogged)
		f->lh.valid_end += recs->len;
	if (f->full) {
		f->log_pos = f->lh.valid_end;
		if (f->st.highest_modseq > f->lh.highest_modseq)
			f->lh.highest_modseq = f->st.highest_modseq;
		f->st.highest_modseq = f->lh.highest_modseq;
		if (f->st.next_uid > f->lh.next_uid)
			f->lh.next_uid = f->st.next_uid;
		f->st.first_recent_uid = f->lh.first_recent_uid;
		f->lh.messages = (uint32_t)f->st.n;
		f->lh.unseen = f->st.unseen;
		f->lh.deleted = f->st.deleted;
		f->lh.recent = mf_count_recent(&f->st);
		f->lh.vsize_total = f->st.vsize_unknown ? UINT64_MAX : f->st.vsize_sum;
	}
	if (f->full)
		f->lh.cache_seq = f->st.cache_seq;
	buf_reset(recs);
	/* unlogged: the log stays as it is (empty) until the rotation */
	return f->unlogged ? 0 : mf_write_hdr(f);
}

/* ---- loading ---- */

/* Loads tern.index when it fits the current log; else an empty state
 * that the caller rescans.  f->lh must be valid. */
static int mf_load_snapshot(struct mstore_folder *f)
{
	uint32_t seq = 0;
	uint64_t off = 0;
	bool ok = false;
	struct stat st;
	int fd = openat(f->dfd, IX_SNAP_NAME, O_RDONLY | O_CLOEXEC);

	ix_state_init(&f->st);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
		/* Used in place (copy-on-write for the records a change
		 * touches): read-only and populated first, so the checksum
		 * takes no page fault per page, then made writable.  The file
		 * is never changed in place, only replaced by a rename. */
		size_t len = (size_t)st.st_size;
		void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (map != MAP_FAILED && mprotect(map, len, PROT_READ | PROT_WRITE) < 0) {
			munmap(map, len);
			map = MAP_FAILED;
		}
		if (map != MAP_FAILED)
			ok = ix_snap_adopt(map, len, &f->st, &seq, &off);
	}
	if (fd >= 0)
		close(fd);
	f->full = true;
	if (ok && f->st.uidvalidity == f->lh.uidvalidity) {
		if (seq == f->lh.seq && off <= f->lh.valid_end) {
			f->log_pos = off;
			return 0;
		}
		if (seq == f->lh.prev_seq && off == f->lh.prev_end) {
			f->log_pos = IX_LOG_HDR_SIZE;
			return 0;
		}
	}
	/* No usable snapshot: start from nothing at the log's start; the
	 * stamp is cleared so that the next refresh rescans everything. */
	ix_state_free(&f->st);
	f->st.uidvalidity = f->lh.uidvalidity;
	f->log_pos = IX_LOG_HDR_SIZE;
	f->need_rescan = true;
	return 0;
}

int mf_load(struct mstore_folder *f)
{
	if (f->full)
		return mf_refresh(f, true);
	if (f->log_fd < 0 || mf_read_hdr(f->log_fd, &f->lh) < 0) {
		int r;

		if (mf_lock(f) < 0)
			return -1;
		r = mf_locked_header(f);
		mf_unlock(f);
		if (r < 0)
			return -1;
		if (f->full)
			return mf_refresh(f, true); /* the rebuild loaded it */
	}
	if (mf_load_snapshot(f) < 0)
		return -1;
	return mf_refresh(f, true);
}

int mf_refresh(struct mstore_folder *f, bool rescan_if_needed)
{
	bool n_ok, c_ok, u_ok, k_ok;
	int r = mf_follow_log(f);

	if (r != 1) {
		if (mf_lock(f) < 0)
			return -1;
		r = mf_locked_header(f);
		mf_unlock(f);
		if (r < 0)
			return -1;
	}
	if (!rescan_if_needed || !f->full)
		return 0;
	if (!f->need_rescan && mf_stamp_current(f, &n_ok, &c_ok, &u_ok, &k_ok))
		return 0;
	if (mf_lock(f) < 0)
		return -1;
	r = mf_locked_header(f);
	if (r == 0)
		r = mf_rescan(f, f->need_rescan);
	if (r == 0)
		r = mf_maybe_rotate(f, false);
	mf_unlock(f);
	return r;
}

/* ---- stamps ---- */

static int64_t mf_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

void mf_stamp_now(struct mstore_folder *f, struct ix_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->taken_ns = ms_now_ns();
	if (fstat(f->new_fd, &sb) == 0)
		st->new_ns = mf_ns(&sb.st_mtim);
	if (fstat(f->cur_fd, &sb) == 0)
		st->cur_ns = mf_ns(&sb.st_mtim);
	if (fstatat(f->dfd, UIDLIST_NAME, &sb, 0) == 0) {
		st->ul_ino = sb.st_ino;
		st->ul_size = (uint64_t)sb.st_size;
	}
	if (fstatat(f->dfd, KEYWORDS_NAME, &sb, 0) == 0) {
		st->kw_ino = sb.st_ino;
		st->kw_ns = mf_ns(&sb.st_mtim);
	}
}

static bool mf_dir_ok(int64_t stamped, int64_t now_mtime, int64_t taken)
{
	int64_t margin = stamped % 1000000000 == 0 ? MF_STAMP_MARGIN_SEC_NS : MF_STAMP_MARGIN_NS;

	return stamped > 0 && stamped == now_mtime && taken - stamped >= margin;
}

bool mf_stamp_current(struct mstore_folder *f, bool *new_ok, bool *cur_ok, bool *ul_ok, bool *kw_ok)
{
	const struct ix_stamp *s = &f->lh.stamp;
	struct ix_stamp now;

	mf_stamp_now(f, &now);
	*new_ok = mf_dir_ok(s->new_ns, now.new_ns, s->taken_ns);
	*cur_ok = mf_dir_ok(s->cur_ns, now.cur_ns, s->taken_ns);
	*ul_ok = s->ul_ino == now.ul_ino && s->ul_size == now.ul_size && now.ul_ino != 0;
	*kw_ok = s->kw_ino == now.kw_ino && s->kw_ns == now.kw_ns;
	return *new_ok && *cur_ok && *ul_ok && *kw_ok;
}

/* ---- pending fills and cache heads ---- */

int mf_flush(struct mstore_folder *f)
{
	struct buf recs = BUF_INIT;
	int r;

	if (f->nfills == 0 && f->ncache_items == 0 && f->nthreads == 0 && !mc_pending(f->cache))
		return 0;
	if (mf_lock(f) < 0)
		return -1;
	r = mf_locked_header(f);
	if (r == 0 && f->cache)
		r = mc_commit(f->cache);
	if (r == 0 && f->nfills) {
		size_t rec = ix_rec_begin(&recs, IXR_FILL, 0);

		buf_append(&recs, f->fills.data, f->fills.len);
		ix_rec_set_count(&recs, rec, (uint32_t)f->nfills);
		ix_rec_end(&recs, rec);
	}
	if (r == 0 && f->ncache_items) {
		size_t rec = ix_rec_begin(&recs, IXR_CACHE, 0);

		buf_append(&recs, f->cache_items.data, f->cache_items.len);
		ix_rec_set_count(&recs, rec, (uint32_t)f->ncache_items);
		ix_rec_end(&recs, rec);
	}
	if (r == 0 && f->nthreads) {
		size_t rec = ix_rec_begin(&recs, IXR_THREAD, 0);

		buf_append(&recs, f->threads.data, f->threads.len);
		ix_rec_set_count(&recs, rec, (uint32_t)f->nthreads);
		ix_rec_end(&recs, rec);
	}
	if (r == 0)
		r = mf_commit(f, &recs);
	mf_unlock(f);
	buf_reset(&f->fills);
	buf_reset(&f->cache_items);
	buf_reset(&f->threads);
	f->nfills = f->ncache_items = f->nthreads = 0;
	buf_free(&recs);
	return r;
}

/* ---- rotation and rebuild ---- */

static int mf_write_snapshot(struct mstore_folder *f, uint32_t seq, uint64_t off)
{
	struct buf img = BUF_INIT;
	struct ix_snap_hdr h;
	struct iovec iov[3];
	size_t total;
	int fd, r = 0;

	if (ix_snap_parts(&f->st, seq, off, &h, iov)) {
		total = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	} else {
		ix_snap_build(&f->st, seq, off, &img);
		iov[0] = (struct iovec){img.data, img.len};
		iov[1] = iov[2] = (struct iovec){NULL, 0};
		total = img.len;
	}
	fd = openat(
	    f->dfd, IX_SNAP_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || writev(fd, iov, 3) != (ssize_t)total || close(fd) < 0 ||
	    renameat(f->dfd, IX_SNAP_NAME ".tmp", f->dfd, IX_SNAP_NAME) < 0) {
		r = ms_fail_errno(f->store, "write", IX_SNAP_NAME);
		unlinkat(f->dfd, IX_SNAP_NAME ".tmp", 0);
	}
	buf_free(&img);
	return r;
}

int mf_maybe_rotate(struct mstore_folder *f, bool force)
{
	struct ix_log_hdr nh, old;
	int old_fd;

	if (!f->full || (!force && f->lh.valid_end < MF_LOG_ROTATE_SIZE))
		return 0;
	if (f->cache && mc_maybe_compact(f) < 0)
		return -1;
	/* Only tern's own expunges since the last look: records of gone
	 * files pile up in dovecot-uidlist; compact it now and then. */
	if (!force && uf_read(f, false) == 0 && f->ul_loaded) {
		int r = mf_check_uidlist(f, false);

		uidlist_free(&f->ul);
		f->ul_loaded = false;
		if (r < 0)
			return -1;
	}
	/* 1. the snapshot of the state at the old log's end; after an
	 * unlogged rebuild the old log lacks what the state holds: the
	 * snapshot is the state at the new log's start, and the new log
	 * continues nothing, so that a reader of the old one reloads */
	if (f->unlogged ? mf_write_snapshot(f, f->lh.seq + 1, IX_LOG_HDR_SIZE) < 0
			: mf_write_snapshot(f, f->lh.seq, f->lh.valid_end) < 0)
		return -1;
	/* 2. a new log continuing it, renamed over the old one */
	nh = f->lh;
	nh.seq = f->lh.seq + 1;
	nh.prev_seq = f->unlogged ? 0 : f->lh.seq;
	nh.prev_end = f->unlogged ? 0 : f->lh.valid_end;
	nh.valid_end = IX_LOG_HDR_SIZE;
	nh.first_modseq = f->lh.highest_modseq;
	nh.flags = 0;
	ix_log_hdr_seal(&nh);
	old = f->lh;
	old_fd = f->log_fd;
	f->log_fd = -1;
	if (mf_log_create(f, &nh) < 0) {
		f->log_fd = old_fd;
		return -1;
	}
	/* 3. readers of the old log learn that it ended */
	old.flags |= IX_LOG_ROTATED;
	ix_log_hdr_seal(&old);
	if (pwrite(old_fd, &old, sizeof(old), 0) != (ssize_t)sizeof(old))
		log_warn("%s/%s: cannot mark rotated: %s", f->path, IX_LOG_NAME, strerror(errno));
	close(old_fd);
	f->log_pos = IX_LOG_HDR_SIZE;
	return 0;
}

int mf_rebuild(struct mstore_folder *f)
{
	struct ix_log_hdr h;
	uint64_t floor = 0;
	uint32_t seq = 1;
	int r;

	if (f->log_fd >= 0 && pread(f->log_fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h.magic, IX_LOG_MAGIC, 8) == 0) {
		/* Even a damaged header usually still tells how far modseqs
		 * went; the floor below covers the rest. */
		floor = h.highest_modseq;
		seq = h.seq + 1;
	}
	if (f->full && f->st.highest_modseq > floor)
		floor = f->st.highest_modseq;
	if (uf_read(f, true) < 0)
		return -1;
	if (f->log_fd >= 0) {
		/* Whoever still reads the old log must learn it ended. */
		struct ix_log_hdr end;

		memset(&end, 0, sizeof(end));
		memcpy(end.magic, IX_LOG_MAGIC, 8);
		end.hdr_size = IX_LOG_HDR_SIZE;
		end.seq = seq - 1;
		end.valid_end = IX_LOG_HDR_SIZE;
		end.uidvalidity = 1;
		end.flags = IX_LOG_ROTATED;
		ix_log_hdr_seal(&end);
		if (pwrite(f->log_fd, &end, sizeof(end), 0) != (ssize_t)sizeof(end))
			log_warn("%s/%s: %s", f->path, IX_LOG_NAME, strerror(errno));
	}
	mf_hdr_init(f, &h, seq, f->ul.uidvalidity, mf_modseq_floor(floor));
	/* Messages the uidlist already names were seen by some session
	 * (tern's or Dovecot's): not \Recent again, as Dovecot rebuilding
	 * its index does not make them; files new to the uidlist are. */
	if (f->ul.next_uid > 1) {
		h.first_recent_uid = f->ul.next_uid;
		ix_log_hdr_seal(&h);
	}
	if (mf_log_create(f, &h) < 0)
		return -1;
	f->need_rescan = true;
	unlinkat(f->dfd, IX_SNAP_NAME, 0);
	ix_state_free(&f->st);
	f->full = true;
	f->st.uidvalidity = f->lh.uidvalidity;
	f->st.highest_modseq = f->lh.highest_modseq;
	f->log_pos = IX_LOG_HDR_SIZE;
	if (f->cache) {
		mc_close(f->cache);
		f->cache = NULL;
	}
	unlinkat(f->dfd, MC_NAME, 0);
	/* The records of the rescan go into the state and the snapshot
	 * only: writing every message to a log that the rotation replaces
	 * at once was a third of a big folder's first access. */
	f->unlogged = true;
	r = mf_rescan(f, true);
	if (r == 0)
		r = mf_maybe_rotate(f, true);
	f->unlogged = false;
	if (r < 0) {
		/* The state holds what no file does: not to be used; the
		 * next load starts again from the (empty) log. */
		ix_state_free(&f->st);
		f->full = false;
		return -1;
	}
	return 0;
}

/* ---- message files ---- */

void mf_msg_name(const struct mstore_folder *f, const struct ix_msg *m, struct buf *out)
{
	const char *odd = ix_msg_oddname(&f->st, m), *base;

	if (odd) {
		buf_puts(out, odd);
		return;
	}
	base = ix_msg_base(&f->st, m);
	mdname_build(out, base, strlen(base), !(m->state & IXS_NOINFO), m->upper, m->kw);
}

int mf_msg_dirfd(const struct mstore_folder *f, const struct ix_msg *m)
{
	return (m->state & IXS_NEW) ? f->new_fd : f->cur_fd;
}
