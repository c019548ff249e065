/*
 * status.c - a folder's counters without opening a view (IMAP STATUS,
 * LIST-STATUS, POP3 STAT of other folders, JMAP Mailbox/get), and the
 * operator's rebuild.
 *
 * The log header carries the counters as of its last commit; when its
 * stamp says the Maildir has not changed since, STATUS reads one header
 * and a few inodes, no record.  Otherwise the folder is loaded (and
 * rescanned) and the counters come from the state.
 */
#include "mstore/mstore_int.h"

#include <string.h>
#include <unistd.h>

int mstore_status(struct mstore *s, const char *name, struct mstore_status *st, bool want_size)
{
	struct mstore_folder *f = mf_get(s, name, false);
	bool a, b, c, d, fast;

	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return -1;
	fast = !f->full && f->log_fd >= 0 &&
	       pread(f->log_fd, &f->lh, sizeof(f->lh), 0) == (ssize_t)sizeof(f->lh) &&
	       ix_log_hdr_valid(&f->lh) && !(f->lh.flags & IX_LOG_ROTATED) &&
	       mf_stamp_current(f, &a, &b, &c, &d) &&
	       (!want_size || f->lh.vsize_total != UINT64_MAX);
	if (!fast) {
		if (mf_load(f) < 0) {
			mf_put(f);
			return -1;
		}
		if (want_size && f->st.vsize_unknown) {
			/* Sizes not known yet: read once, kept in the index. */
			struct mstore_view *v;

			if (mstore_view_open(s, name, MSTORE_VIEW_READONLY, &v) == 0) {
				for (size_t i = 0; i < f->st.n; i++) {
					uint64_t sz, vs;

					if (f->st.msgs[i].vsize == IX_NOSIZE)
						mstore_view_sizes(v, f->st.msgs[i].uid, &sz, &vs);
				}
				mstore_view_close(v);
			}
		}
		f->lh.messages = (uint32_t)f->st.n;
		f->lh.unseen = f->st.unseen;
		f->lh.deleted = f->st.deleted;
		f->lh.vsize_total = f->st.vsize_unknown ? UINT64_MAX : f->st.vsize_sum;
		/* a search, not a walk: every message is recent until a
		 * session takes \Recent, and JMAP asks on each request */
		f->lh.recent = (uint32_t)(f->st.n - ix_state_lower(&f->st, f->lh.first_recent_uid));
		if (f->st.next_uid > f->lh.next_uid)
			f->lh.next_uid = f->st.next_uid;
		if (f->st.highest_modseq > f->lh.highest_modseq)
			f->lh.highest_modseq = f->st.highest_modseq;
	}
	st->messages = f->lh.messages;
	st->recent = f->lh.recent;
	st->unseen = f->lh.unseen;
	st->deleted = f->lh.deleted;
	st->uidnext = f->lh.next_uid;
	st->uidvalidity = f->lh.uidvalidity;
	st->highest_modseq = f->lh.highest_modseq;
	st->size = f->lh.vsize_total == UINT64_MAX ? 0 : f->lh.vsize_total;
	mf_put(f);
	return 0;
}

int mstore_folder_rebuild(struct mstore *s, const char *name)
{
	struct mstore_folder *f = mf_get(s, name, false);
	int r;

	if (f == NULL)
		return -1;
	if (mf_lock(f) < 0) {
		mf_put(f);
		return -1;
	}
	r = mf_rebuild(f);
	mf_unlock(f);
	mf_put(f);
	return r;
}
