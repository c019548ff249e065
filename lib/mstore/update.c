/*
 * update.c - flag changes (STORE) and expunges, the Maildir way: a flag
 * change renames the file (cur/<base>:2,<letters>; a file still in new/
 * moves to cur/), an expunge unlinks it.  All renames or unlinks of one
 * call are followed by one fsync of each directory touched, then one
 * commit with one new modseq: the change is durable when the call
 * returns, and an interrupted call leaves files the next rescan reads
 * as they are.
 *
 * Another program may rename a file under us (Dovecot changing flags):
 * the rename or unlink then fails with ENOENT, the folder is rescanned
 * and the message tried once more with its new name.
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Flags IMAP can change; other uppercase letters ('P'...) are kept. */
#define UPD_SYSTEM (MDF_DRAFT | MDF_FLAGGED | MDF_REPLIED | MDF_SEEN | MDF_TRASHED)

static int64_t upd_mtime(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* After our own changes: the stamp still vouches for a directory that
 * it vouched for before them. */
static void upd_stamp(struct mstore_folder *f, const int64_t pre[2], const bool touched[2])
{
	struct ix_stamp now;

	mf_stamp_now(f, &now);
	if (touched[0] && pre[0] == f->lh.stamp.new_ns)
		f->lh.stamp.new_ns = now.new_ns;
	if (touched[1] && pre[1] == f->lh.stamp.cur_ns)
		f->lh.stamp.cur_ns = now.cur_ns;
	if (touched[0] || touched[1])
		f->lh.stamp.taken_ns = now.taken_ns;
}

static int upd_begin(struct mstore_view *v)
{
	struct mstore_folder *f = v->f;

	if (v->flags & MSTORE_VIEW_READONLY)
		return ms_fail(f->store, MSTORE_EINVAL, "the folder is open read-only");
	if (mf_lock(f) < 0)
		return -1;
	if (mf_locked_header(f) < 0) {
		mf_unlock(f);
		return -1;
	}
	return 0;
}

/* Rescans once after a file vanished; *again tells the caller to retry. */
static int upd_lost(struct mstore_folder *f, bool *rescanned)
{
	if (*rescanned)
		return 0;
	*rescanned = true;
	return mf_rescan(f, true);
}

int mstore_view_store(struct mstore_view *v, const uint32_t *uids, size_t n,
    const struct mstore_store_req *req, uint32_t **failed, size_t *nfailed)
{
	struct mstore_folder *f = v->f;
	struct buf recs = BUF_INIT, items = BUF_INIT, names = BUF_INIT, from = BUF_INIT,
		   to = BUF_INIT;
	uint32_t sys = ms_flags_to_upper(req->flags), kw = 0, *fail = NULL;
	size_t nfail = 0, nitems = 0, nnames = 0;
	bool touched[2] = {false, false}, rescanned = false;
	int64_t pre[2];
	int r;

	*failed = NULL;
	*nfailed = 0;
	if (upd_begin(v) < 0)
		return -1;
	pre[0] = upd_mtime(f->new_fd);
	pre[1] = upd_mtime(f->cur_fd);
	r = kf_letters(f, req->keywords, &kw);
	for (size_t i = 0; i < n && r == 0; i++) {
		long at = ix_state_find(&f->st, uids[i]);
		struct ix_msg *m;
		uint32_t upper, nkw;

		if (at < 0)
			continue;
		m = &f->st.msgs[at];
		if (req->unchangedsince && m->modseq > req->unchangedsince) {
			fail = xreallocarray(fail, nfail + 1, sizeof(*fail));
			fail[nfail++] = m->uid;
			continue;
		}
		switch (req->mode) {
		case MSTORE_STORE_SET:
			upper = (m->upper & ~UPD_SYSTEM) | sys;
			nkw = kw;
			break;
		case MSTORE_STORE_ADD:
			upper = m->upper | sys;
			nkw = m->kw | kw;
			break;
		default:
			upper = m->upper & ~sys;
			nkw = m->kw & ~kw;
			break;
		}
		if (upper == m->upper && nkw == m->kw)
			continue;
		buf_reset(&from);
		buf_reset(&to);
		mf_msg_name(f, m, &from);
		const char *base = ix_msg_base(&f->st, m);

		mdname_build(&to, base, strlen(base), true, upper, nkw);
		if (renameat(mf_msg_dirfd(f, m), buf_cstr(&from), f->cur_fd, buf_cstr(&to)) < 0) {
			if (errno != ENOENT) {
				r = ms_fail_errno(f->store, "rename", buf_cstr(&from));
				break;
			}
			bool was = rescanned;

			r = upd_lost(f, &rescanned);
			if (r == 0 && !was)
				i--; /* the same UID again, with its current name */
			continue;
		}
		touched[(m->state & IXS_NEW) ? 0 : 1] = true;
		touched[1] = true;
		struct ix_flags fl = {m->uid, upper, nkw, 0};

		buf_append(&items, &fl, sizeof(fl));
		nitems++;
		if (m->state & IXS_ODD) {
			struct ix_name nm = {m->uid, 0, 0};

			buf_append(&names, &nm, sizeof(nm));
			nnames++;
		}
	}
	/* The renames survive a crash before anyone hears of them. */
	if (touched[0] && fsync(f->new_fd) < 0 && r == 0)
		r = ms_fail_errno(f->store, "fsync", "new/");
	if (touched[1] && fsync(f->cur_fd) < 0 && r == 0)
		r = ms_fail_errno(f->store, "fsync", "cur/");
	if (nitems) {
		size_t rec = ix_rec_begin(&recs, IXR_FLAGS, mf_next_modseq(f));

		buf_append(&recs, items.data, items.len);
		ix_rec_set_count(&recs, rec, (uint32_t)nitems);
		ix_rec_end(&recs, rec);
		if (nnames) {
			rec = ix_rec_begin(&recs, IXR_NAME, 0);
			buf_append(&recs, names.data, names.len);
			ix_rec_set_count(&recs, rec, (uint32_t)nnames);
			ix_rec_end(&recs, rec);
		}
		/* What did happen is committed even when a later file failed. */
		upd_stamp(f, pre, touched);
		if (mf_commit(f, &recs) < 0)
			r = -1;
	}
	mf_unlock(f);
	buf_free(&recs);
	buf_free(&items);
	buf_free(&names);
	buf_free(&from);
	buf_free(&to);
	if (r == 0) {
		*failed = fail;
		*nfailed = nfail;
	} else {
		free(fail);
	}
	return r;
}

static int upd_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int mstore_view_expunge(struct mstore_view *v, const uint32_t *uids, size_t n)
{
	struct mstore_folder *f = v->f;
	struct buf recs = BUF_INIT, name = BUF_INIT;
	uint32_t *gone = NULL;
	size_t ngone = 0;
	bool touched[2] = {false, false}, rescanned = false;
	int64_t pre[2];
	int64_t bytes = 0;
	int r = 0;

	if (upd_begin(v) < 0)
		return -1;
	pre[0] = upd_mtime(f->new_fd);
	pre[1] = upd_mtime(f->cur_fd);
	/* The targets: the given UIDs, or every message with \Deleted. */
	uint32_t *want = NULL;
	size_t nwant = 0;

	if (uids) {
		want = (uint32_t *)(void *)xmemdup(uids, n * sizeof(*uids));
		nwant = n;
	} else {
		want = xcalloc(f->st.n ? f->st.n : 1, sizeof(*want));
		for (size_t i = 0; i < f->st.n; i++)
			if (f->st.msgs[i].upper & MDF_TRASHED)
				want[nwant++] = f->st.msgs[i].uid;
	}
	qsort(want, nwant, sizeof(*want), upd_cmp);
	gone = xcalloc(nwant ? nwant : 1, sizeof(*gone));
	for (size_t i = 0; i < nwant && r == 0; i++) {
		long at = ix_state_find(&f->st, want[i]);
		const struct ix_msg *m;
		struct stat st;
		int dirfd;

		if (at < 0)
			continue;
		m = &f->st.msgs[at];
		buf_reset(&name);
		mf_msg_name(f, m, &name);
		dirfd = mf_msg_dirfd(f, m);
		if (fstatat(dirfd, buf_cstr(&name), &st, AT_SYMLINK_NOFOLLOW) == 0)
			bytes += st.st_size;
		if (unlinkat(dirfd, buf_cstr(&name), 0) < 0) {
			if (errno != ENOENT) {
				r = ms_fail_errno(f->store, "unlink", buf_cstr(&name));
				break;
			}
			bool was = rescanned;

			r = upd_lost(f, &rescanned);
			if (r == 0 && !was)
				i--;
			continue;
		}
		touched[(m->state & IXS_NEW) ? 0 : 1] = true;
		gone[ngone++] = m->uid;
	}
	/* An acknowledged expunge must not come back after a crash: the
	 * unlinks are made durable, one fsync per directory for them all. */
	if (touched[0] && fsync(f->new_fd) < 0 && r == 0)
		r = ms_fail_errno(f->store, "fsync", "new/");
	if (touched[1] && fsync(f->cur_fd) < 0 && r == 0)
		r = ms_fail_errno(f->store, "fsync", "cur/");
	if (ngone) {
		size_t rec = ix_rec_begin(&recs, IXR_EXPUNGE, mf_next_modseq(f));

		buf_append(&recs, gone, ngone * sizeof(*gone));
		ix_rec_set_count(&recs, rec, (uint32_t)ngone);
		ix_rec_end(&recs, rec);
		upd_stamp(f, pre, touched);
		if (mf_commit(f, &recs) < 0)
			r = -1;
	}
	mf_unlock(f);
	if (ngone)
		mq_update(f->store, -bytes, -(int64_t)ngone);
	buf_free(&recs);
	buf_free(&name);
	free(want);
	free(gone);
	return r;
}
