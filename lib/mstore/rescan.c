/*
 * rescan.c - reading a folder's new/ and cur/ into the index: what
 * another program (Dovecot, a MUA, a crashed tern process) changed
 * without telling the log.
 *
 * Under tern.lock with the state current: the directories whose mtime
 * the stamp does not vouch for are read (each read is repeated when the
 * directory changed while it was read, so a file renamed meanwhile is
 * not taken for expunged), every file is matched with the index by its
 * base name, and the differences are committed as one change with one
 * modseq: new flags, files gone (expunged), files not known.  Unknown
 * files get their UIDs from dovecot-uidlist when it has them (Dovecot
 * saw them first), else new ones appended to it under
 * dovecot-uidlist.lock, in file-name order (delivery order).
 */
#include "mstore/mstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define RS_TMP_MAX_AGE (36 * 3600) /* Dovecot's age for leftover tmp/ files */

struct rs_entry {
	char *name;
	char dir; /* 'n' or 'c' */
	struct mdname md;
};

struct rs_list {
	struct rs_entry *e;
	size_t n, cap;
};

/*
 * A string -> index hash with open addressing, for base names.  One
 * slot holds the key's whole hash, so a probe costs one cache line and
 * the key itself is compared only when the hashes agree (100,000 names
 * of a big folder: three arrays cost a miss each per probe).
 */
struct rs_slot {
	uint64_t hash;
	const char *key; /* NULL: free */
	size_t len;
	size_t val;
};

struct rs_hash {
	struct rs_slot *slot;
	size_t cap;
};

/* A word at a time (the names are 40-60 bytes): multiply and fold. */
static uint64_t rs_hashstr(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29); /* the low bits pick the slot */
}

static void rs_hash_init(struct rs_hash *h, size_t n)
{
	h->cap = 16;
	while (h->cap < n * 2 + 16)
		h->cap *= 2;
	h->slot = xcalloc(h->cap, sizeof(*h->slot));
}

static void rs_hash_free(struct rs_hash *h)
{
	free(h->slot);
	memset(h, 0, sizeof(*h));
}

/* The key's slot, or the free one where it would go. */
static struct rs_slot *rs_hash_find(const struct rs_hash *h, const char *k, size_t len, uint64_t hv)
{
	size_t i = hv & (h->cap - 1);

	while (h->slot[i].key && !(h->slot[i].hash == hv && h->slot[i].len == len &&
				     memcmp(h->slot[i].key, k, len) == 0))
		i = (i + 1) & (h->cap - 1);
	return &h->slot[i];
}

/* Later puts of the same key win (dovecot-uidlist's rule). */
static void rs_hash_put(struct rs_hash *h, const char *k, size_t len, size_t v)
{
	uint64_t hv = rs_hashstr(k, len);
	struct rs_slot *s = rs_hash_find(h, k, len, hv);

	s->hash = hv;
	s->key = k;
	s->len = len;
	s->val = v;
}

static bool rs_hash_get(const struct rs_hash *h, const char *k, size_t len, size_t *v)
{
	const struct rs_slot *s;

	if (h->cap == 0)
		return false;
	s = rs_hash_find(h, k, len, rs_hashstr(k, len));
	if (s->key == NULL)
		return false;
	*v = s->val;
	return true;
}

static int rs_readdir(int dirfd, char dir, struct rs_list *l, int64_t *mtime, bool *stable);

/* ---- the bases of the files now in new/ and cur/ (uf_recreate) ---- */

struct mf_bases_impl {
	struct rs_list l;
	struct rs_hash h;
};

int mf_bases_read(struct mstore_folder *f, struct mf_bases *out)
{
	struct mf_bases_impl *b = xcalloc(1, sizeof(*b));
	int64_t mtime;
	bool stable;

	out->impl = b;
	if (rs_readdir(f->cur_fd, 'c', &b->l, &mtime, &stable) < 0 ||
	    rs_readdir(f->new_fd, 'n', &b->l, &mtime, &stable) < 0) {
		mf_bases_free(out);
		return ms_fail_errno(f->store, "read", f->path);
	}
	rs_hash_init(&b->h, b->l.n);
	for (size_t i = 0; i < b->l.n; i++)
		rs_hash_put(&b->h, b->l.e[i].name, b->l.e[i].md.base_len, i);
	return 0;
}

bool mf_bases_has(const struct mf_bases *bases, const char *base, size_t len)
{
	const struct mf_bases_impl *b = bases->impl;
	size_t v;

	return b && rs_hash_get(&b->h, base, len, &v);
}

static void rs_list_free(struct rs_list *l);

void mf_bases_free(struct mf_bases *bases)
{
	struct mf_bases_impl *b = bases->impl;

	if (b == NULL)
		return;
	rs_hash_free(&b->h);
	rs_list_free(&b->l);
	free(b);
	bases->impl = NULL;
}

static void rs_list_free(struct rs_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

/*
 * Reads the message names of a directory into l.  Repeats (3 times at
 * most) while the directory's mtime changes during the read.  *mtime is
 * the mtime the names belong to; *stable false when it kept changing.
 */
static int rs_readdir(int dirfd, char dir, struct rs_list *l, int64_t *mtime, bool *stable)
{
	size_t start = l->n;

	*stable = false;
	for (int tries = 0; tries < 3 && !*stable; tries++) {
		struct stat pre, post;
		struct dirent *de;
		DIR *d;
		int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		while (l->n > start)
			free(l->e[--l->n].name);
		if (fd < 0 || fstat(fd, &pre) < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		/* The directory's size hints at its entries (ext4: about 64
		 * bytes each for Maildir names): room for them at once; what
		 * is never used is never touched. */
		if (pre.st_size > 0 && l->cap < l->n + (size_t)pre.st_size / 32 &&
		    (size_t)pre.st_size / 32 < ((size_t)1 << 22)) {
			l->cap = l->n + (size_t)pre.st_size / 32;
			l->e = xreallocarray(l->e, l->cap, sizeof(*l->e));
		}
		while ((de = readdir(d)) != NULL) {
			struct rs_entry e;

			if (!mdname_parse(de->d_name, &e.md))
				continue;
			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 256;
				l->e = xreallocarray(l->e, l->cap, sizeof(*l->e));
			}
			e.name = xstrdup(de->d_name);
			e.dir = dir;
			l->e[l->n++] = e;
		}
		closedir(d);
		if (fstat(dirfd, &post) < 0)
			return -1;
		*mtime = (int64_t)pre.st_mtim.tv_sec * 1000000000 + pre.st_mtim.tv_nsec;
		*stable = pre.st_mtim.tv_sec == post.st_mtim.tv_sec &&
			  pre.st_mtim.tv_nsec == post.st_mtim.tv_nsec;
	}
	return 0;
}

/* By base name, then cur/ before new/, then the whole name. */
static int rs_cmp_base(const void *a, const void *b)
{
	const struct rs_entry *x = *(const struct rs_entry *const *)a;
	const struct rs_entry *y = *(const struct rs_entry *const *)b;
	size_t n = x->md.base_len < y->md.base_len ? x->md.base_len : y->md.base_len;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	if (x->md.base_len != y->md.base_len)
		return x->md.base_len < y->md.base_len ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir == 'c' ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The state bits a file name implies. */
static uint32_t rs_state_of(const struct rs_entry *e)
{
	return (e->dir == 'n' ? IXS_NEW : 0) | (e->md.has_info ? 0 : IXS_NOINFO);
}

void mf_clean_tmp(struct mstore_folder *f)
{
	int fd = openat(f->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(f->tmp_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > RS_TMP_MAX_AGE &&
		    now - st.st_atime > RS_TMP_MAX_AGE)
			unlinkat(f->tmp_fd, de->d_name, 0);
	}
	closedir(d);
}

struct rs_ctx {
	struct mstore_folder *f;
	struct buf flags, names, appends;
	size_t nflags, nnames, nappends;
	uint32_t *expunge;
	size_t nexpunge, capexpunge;
};

static void rs_expunge(struct rs_ctx *c, uint32_t uid)
{
	if (c->nexpunge == c->capexpunge) {
		c->capexpunge = c->capexpunge ? c->capexpunge * 2 : 64;
		c->expunge = xreallocarray(c->expunge, c->capexpunge, sizeof(*c->expunge));
	}
	c->expunge[c->nexpunge++] = uid;
}

static void rs_name_item(struct rs_ctx *c, uint32_t uid, const char *name, size_t len)
{
	struct ix_name nm = {uid, (uint16_t)len, 0};
	static const char zero[8];

	buf_append(&c->names, &nm, sizeof(nm));
	buf_append(&c->names, name, len);
	buf_append(&c->names, zero, ((sizeof(nm) + len + 7) & ~(size_t)7) - (sizeof(nm) + len));
	c->nnames++;
}

/* Compares a known message with its file; queues what changed. */
static void rs_known(struct rs_ctx *c, const struct ix_msg *m, const struct rs_entry *e)
{
	const struct ix_state *st = &c->f->st;
	uint32_t state = rs_state_of(e);
	const char *odd = ix_msg_oddname(st, m);
	bool is_odd = !e->md.canonical;

	if (m->upper != e->md.upper || m->kw != e->md.lower ||
	    (m->state & (IXS_NEW | IXS_NOINFO)) != state) {
		struct ix_flags fl = {m->uid, e->md.upper, e->md.lower, state};

		buf_append(&c->flags, &fl, sizeof(fl));
		c->nflags++;
	}
	if (is_odd && (odd == NULL || strcmp(odd, e->name) != 0))
		rs_name_item(c, m->uid, e->name, strlen(e->name));
	else if (!is_odd && odd)
		rs_name_item(c, m->uid, "", 0);
}

static void rs_append(
    struct rs_ctx *c, uint32_t uid, const struct rs_entry *e, const char *ext, size_t elen)
{
	struct ix_append a = {0};
	static const char zero[8];
	size_t len;

	a.uid = uid;
	a.upper = e->md.upper;
	a.kw = e->md.lower;
	a.state = rs_state_of(e);
	a.size = e->md.size < IX_NOSIZE ? (uint32_t)e->md.size : IX_NOSIZE;
	a.vsize = e->md.vsize < IX_NOSIZE ? (uint32_t)e->md.vsize : IX_NOSIZE;
	a.idate = IX_NODATE;
	a.sdate = IX_NODATE;
	a.name_len = (uint16_t)e->md.base_len;
	a.ext_len = (uint16_t)elen;
	if (c->appends.len == 0)
		ix_rec_begin(&c->appends, IXR_APPEND, 0); /* (rs_records) */
	buf_append(&c->appends, &a, sizeof(a));
	buf_append(&c->appends, e->name, a.name_len);
	buf_append(&c->appends, ext, elen);
	len = sizeof(a) + a.name_len + elen;
	buf_append(&c->appends, zero, ((len + 7) & ~(size_t)7) - len);
	c->nappends++;
	if (!e->md.canonical)
		rs_name_item(c, uid, e->name, strlen(e->name));
}

/* A file the uidlist names, with its record. */
struct rs_pick {
	uint32_t uid;
	uint32_t rec;
	const struct rs_entry *e;
};

/* By UID, then cur/ before new/, then the whole name. */
static int rs_cmp_pick(const void *a, const void *b)
{
	const struct rs_pick *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->e->dir != y->e->dir)
		return x->e->dir == 'c' ? -1 : 1;
	return strcmp(x->e->name, y->e->name);
}

/* Drops the entries with a base the one before has (sorted by base). */
static size_t rs_dedup(struct rs_entry **v, size_t n)
{
	size_t w = 0;

	for (size_t k = 0; k < n; k++) {
		if (w > 0 && v[w - 1]->md.base_len == v[k]->md.base_len &&
		    memcmp(v[w - 1]->name, v[k]->name, v[k]->md.base_len) == 0)
			continue;
		v[w++] = v[k];
	}
	return w;
}

/*
 * UIDs for files the index does not know (uidlist lock taken here):
 * from dovecot-uidlist when it names the base with a UID the index does
 * not use, else new ones appended to it, in file-name order (names
 * start with the delivery time).  The ones the uidlist names are sorted
 * by UID (integers: a whole folder's first access sorts 100,000), the
 * others by name.  A base seen twice (in cur/ and new/ at once, or
 * under two flag sets) is one message: cur/'s.  *reset set when the
 * file's UIDVALIDITY is no longer the index's.
 */
static int rs_assign(struct rs_ctx *c, struct rs_entry **unknown, size_t nunknown, bool *reset)
{
	struct mstore_folder *f = c->f;
	struct buf lines = BUF_INIT;
	struct rs_hash ulh = {0};
	struct rs_pick *picks;
	struct rs_entry **fresh;
	size_t npicks = 0, nfresh = 0, w = 0, need = 0;
	uint32_t next;
	int r = 0;

	*reset = false;
	if (mf_ulock(f) < 0)
		return -1;
	if (uf_read(f, true) < 0) {
		mf_uunlock(f);
		return -1;
	}
	if (f->ul.uidvalidity != f->st.uidvalidity) {
		*reset = true;
		mf_uunlock(f);
		return 0;
	}
	rs_hash_init(&ulh, f->ul.n);
	for (size_t i = 0; i < f->ul.n; i++) {
		size_t len;
		const char *b = uidlist_base(&f->ul, i, &len);

		rs_hash_put(&ulh, b, len, i);
	}
	picks = xcalloc(nunknown ? nunknown : 1, sizeof(*picks));
	fresh = xcalloc(nunknown ? nunknown : 1, sizeof(*fresh));
	for (size_t k = 0; k < nunknown; k++) {
		const struct rs_entry *e = unknown[k];
		size_t i;

		/* one record each (name, a short extension, padding) */
		need += sizeof(struct ix_append) + e->md.base_len + 24;
		if (rs_hash_get(&ulh, e->name, e->md.base_len, &i) &&
		    ix_state_find(&f->st, f->ul.recs[i].uid) < 0)
			picks[npicks++] = (struct rs_pick){f->ul.recs[i].uid, (uint32_t)i, e};
		else
			fresh[nfresh++] = unknown[k];
	}
	rs_hash_free(&ulh);
	buf_reserve(&c->appends, need + sizeof(struct ix_rec_hdr) + 8);
	qsort(picks, npicks, sizeof(*picks), rs_cmp_pick);
	for (size_t k = 0; k < npicks; k++) {
		size_t elen;
		const char *ext;

		if (w > 0 && picks[k].uid == picks[w - 1].uid)
			continue; /* the same base (one record) */
		picks[w++] = picks[k];
		ext = uidlist_ext(&f->ul, picks[k].rec, &elen);
		rs_append(c, picks[k].uid, picks[k].e, ext, elen);
	}
	qsort(fresh, nfresh, sizeof(*fresh), rs_cmp_base);
	nfresh = rs_dedup(fresh, nfresh);
	next = f->ul.next_uid;
	if (f->st.next_uid > next)
		next = f->st.next_uid;
	if (f->lh.next_uid > next)
		next = f->lh.next_uid;
	for (size_t k = 0; k < nfresh; k++) {
		const struct rs_entry *e = fresh[k];

		if (next == UINT32_MAX) {
			r = ms_fail(f->store, MSTORE_ELIMIT, "%s: UIDs exhausted", f->name);
			break;
		}
		uidlist_format_rec(&lines, next, NULL, 0, e->name, e->md.base_len);
		rs_append(c, next++, e, "", 0);
	}
	free(picks);
	free(fresh);
	/* The UIDs may be shown to a client as soon as the commit is read:
	 * durable first. */
	if (r == 0 && lines.len)
		r = uf_append(f, &lines, true);
	if (r == 0 && lines.len && f->ul_loaded) {
		const char *err;

		/* what we appended is in the file too */
		uidlist_parse_more(lines.data, lines.len, &f->ul, &err);
	}
	if (r == 0 && next > f->lh.next_uid)
		f->lh.next_uid = next;
	mf_uunlock(f);
	buf_free(&lines);
	return r;
}

/*
 * After the changes: a uidlist missing messages the index has, or
 * mostly naming expunged files, is rewritten from the index.  listed:
 * every message of the state took its UID from the uidlist or was just
 * appended to it (a rescan from an empty state), none can be missing.
 */
int mf_check_uidlist(struct mstore_folder *f, bool listed)
{
	bool missing = false;
	int r = 0;

	if (!f->ul_loaded || f->ul.uidvalidity != f->st.uidvalidity)
		return 0;
	if (!listed) {
		struct rs_hash ulh = {0};

		rs_hash_init(&ulh, f->ul.n);
		for (size_t i = 0; i < f->ul.n; i++) {
			size_t len;
			const char *b = uidlist_base(&f->ul, i, &len);

			rs_hash_put(&ulh, b, len, f->ul.recs[i].uid);
		}
		for (size_t i = 0; i < f->st.n && !missing; i++) {
			const char *b = ix_msg_base(&f->st, &f->st.msgs[i]);
			size_t uid;

			missing =
			    !rs_hash_get(&ulh, b, strlen(b), &uid) || uid != f->st.msgs[i].uid;
		}
		rs_hash_free(&ulh);
	}
	if (missing || f->ul.n * 75 / 100 > f->st.n + 64) {
		if (mf_ulock(f) < 0)
			return -1;
		r = uf_recreate(f);
		mf_uunlock(f);
	}
	return r;
}

static void rs_ctx_free(struct rs_ctx *c)
{
	buf_free(&c->flags);
	buf_free(&c->names);
	buf_free(&c->appends);
	free(c->expunge);
}

/* Builds the records of a rescan into recs. */
static void rs_records(struct rs_ctx *c, struct buf *recs, uint64_t modseq)
{
	size_t rec;

	/* A rescan's appends (a whole folder when it is rebuilt) already
	 * sit behind their record's header: taken over when they come
	 * first, not copied. */
	bool take = c->nexpunge == 0 && c->nappends && recs->len == 0;

	buf_reserve(recs, 4 * (sizeof(struct ix_rec_hdr) + 8) + c->nexpunge * sizeof(*c->expunge) +
			      (take ? 0 : c->appends.len) + c->flags.len + c->names.len);
	if (c->nexpunge) {
		rec = ix_rec_begin(recs, IXR_EXPUNGE, modseq);
		buf_append(recs, c->expunge, c->nexpunge * sizeof(*c->expunge));
		ix_rec_set_count(recs, rec, (uint32_t)c->nexpunge);
		ix_rec_end(recs, rec);
	}
	if (take) {
		struct buf t = *recs;
		struct ix_rec_hdr h;

		*recs = c->appends;
		c->appends = t;
		rec = 0;
		memcpy(&h, recs->data, sizeof(h));
		h.modseq = modseq;
		memcpy(recs->data, &h, sizeof(h));
		ix_rec_set_count(recs, rec, (uint32_t)c->nappends);
		ix_rec_end(recs, rec);
	} else if (c->nappends) {
		rec = ix_rec_begin(recs, IXR_APPEND, modseq);
		buf_append(recs, c->appends.data + sizeof(struct ix_rec_hdr),
		    c->appends.len - sizeof(struct ix_rec_hdr));
		ix_rec_set_count(recs, rec, (uint32_t)c->nappends);
		ix_rec_end(recs, rec);
	}
	if (c->nflags) {
		rec = ix_rec_begin(recs, IXR_FLAGS, modseq);
		buf_append(recs, c->flags.data, c->flags.len);
		ix_rec_set_count(recs, rec, (uint32_t)c->nflags);
		ix_rec_end(recs, rec);
	}
	if (c->nnames) {
		rec = ix_rec_begin(recs, IXR_NAME, 0);
		buf_append(recs, c->names.data, c->names.len);
		ix_rec_set_count(recs, rec, (uint32_t)c->nnames);
		ix_rec_end(recs, rec);
	}
}

/* Commits a RESET: the uidlist has a new UIDVALIDITY. */
static int rs_reset(struct mstore_folder *f)
{
	struct buf recs = BUF_INIT;
	size_t rec = ix_rec_begin(&recs, IXR_RESET, mf_next_modseq(f));
	uint32_t uidv = f->ul.uidvalidity;
	int r;

	log_warn("%s: UIDVALIDITY changed (%u -> %u): the folder's UIDs start over", f->path,
	    f->st.uidvalidity, uidv);
	ix_rec_item(&recs, rec, &uidv, sizeof(uidv));
	ix_rec_end(&recs, rec);
	f->lh.uidvalidity = uidv;
	f->lh.next_uid = 1;
	f->lh.first_recent_uid = 1;
	r = mf_commit(f, &recs);
	buf_free(&recs);
	return r;
}

int mf_rescan(struct mstore_folder *f, bool force)
{
	struct ix_stamp before = f->lh.stamp, now;
	bool n_ok, c_ok, u_ok, k_ok, stable_n = true, stable_c = true, reset = false;
	struct rs_list l = {0};
	struct rs_ctx c = {.f = f};
	struct rs_hash h = {0};
	struct rs_entry **unknown = NULL;
	size_t nunknown = 0;
	uint8_t *seen = NULL;
	struct buf recs = BUF_INIT;
	bool synced_ul = false, from_empty;
	int r = 0;

	if (!f->full)
		return 0;
	mf_stamp_current(f, &n_ok, &c_ok, &u_ok, &k_ok);
	if (force)
		n_ok = c_ok = u_ok = k_ok = false;
	mf_stamp_now(f, &now);
	if (!k_ok)
		kf_read(f);
	if (!u_ok) {
		/* Someone else rewrote or appended dovecot-uidlist: a new
		 * UIDVALIDITY means every UID changed. */
		if (uf_read(f, true) < 0)
			return -1;
		if (f->st.uidvalidity && f->ul.uidvalidity != f->st.uidvalidity) {
			if (rs_reset(f) < 0)
				return -1;
			n_ok = c_ok = false;
		}
		/* UIDs the file gave out (maybe to files gone since) are never
		 * given again: a delivery trusting the header takes the next
		 * UID from it. */
		if (f->ul.uidvalidity == f->lh.uidvalidity && f->ul.next_uid > f->lh.next_uid)
			f->lh.next_uid = f->ul.next_uid;
	}
	if (force && f->need_rescan)
		mf_clean_tmp(f);
	/* cur/ first: a file being moved from new/ is then seen in cur/. */
	if (!c_ok && rs_readdir(f->cur_fd, 'c', &l, &now.cur_ns, &stable_c) < 0)
		r = ms_fail_errno(f->store, "read", "cur/");
	if (r == 0 && !n_ok && rs_readdir(f->new_fd, 'n', &l, &now.new_ns, &stable_n) < 0)
		r = ms_fail_errno(f->store, "read", "new/");
	if (r == 0 && l.n && f->st.n) {
		rs_hash_init(&h, f->st.n);
		for (size_t i = 0; i < f->st.n; i++) {
			const char *b = ix_msg_base(&f->st, &f->st.msgs[i]);

			rs_hash_put(&h, b, strlen(b), i);
		}
	}
	/* (after a reset above: what the state holds now) */
	from_empty = f->st.n == 0;
	seen = xcalloc(f->st.n ? f->st.n : 1, 1);
	unknown = xcalloc(l.n ? l.n : 1, sizeof(*unknown));
	for (size_t k = 0; r == 0 && k < l.n; k++) {
		struct rs_entry *e = &l.e[k];
		size_t i;

		if (rs_hash_get(&h, e->name, e->md.base_len, &i)) {
			if (!seen[i])
				rs_known(&c, &f->st.msgs[i], e);
			seen[i] = 1;
		} else {
			unknown[nunknown++] = e;
		}
	}
	/* Files gone from a directory read completely and steadily (and not
	 * maybe moving into the other one while it changed). */
	for (size_t i = 0; r == 0 && i < f->st.n; i++) {
		const struct ix_msg *m = &f->st.msgs[i];
		bool in_new = m->state & IXS_NEW;
		bool read = in_new ? !n_ok : !c_ok, stable = in_new ? stable_n : stable_c;
		bool other_moving = in_new ? (!c_ok && !stable_c) : (!n_ok && !stable_n);

		if (!seen[i] && read && stable && !other_moving)
			rs_expunge(&c, m->uid);
	}
	if (r == 0 && nunknown) {
		r = rs_assign(&c, unknown, nunknown, &reset);
		synced_ul = true;
	}
	if (r == 0 && reset) {
		/* Another program gave the folder a new UIDVALIDITY while we
		 * looked: start over with everything. */
		r = rs_reset(f);
		free(seen);
		free(unknown);
		rs_hash_free(&h);
		rs_list_free(&l);
		rs_ctx_free(&c);
		buf_free(&recs);
		return r < 0 ? r : mf_rescan(f, true);
	}
	if (r == 0) {
		rs_records(&c, &recs, mf_next_modseq(f));
		/* Apply before the uidlist check, which compares with the
		 * result; the stamp goes with the same commit. */
		struct ix_stamp stamp = before;

		if (!n_ok && stable_n)
			stamp.new_ns = now.new_ns;
		else if (!n_ok)
			stamp.new_ns = 0;
		if (!c_ok && stable_c)
			stamp.cur_ns = now.cur_ns;
		else if (!c_ok)
			stamp.cur_ns = 0;
		stamp.taken_ns = now.taken_ns;
		f->lh.stamp = stamp;
		r = mf_commit(f, &recs);
	}
	if (r == 0)
		r = mf_check_uidlist(f, from_empty);
	if (r == 0) {
		/* What the uidlist and keywords files look like now that our
		 * own writes are done. */
		struct ix_stamp after;

		mf_stamp_now(f, &after);
		f->lh.stamp.ul_ino = after.ul_ino;
		f->lh.stamp.ul_size = after.ul_size;
		f->lh.stamp.kw_ino = after.kw_ino;
		f->lh.stamp.kw_ns = after.kw_ns;
		if (synced_ul)
			f->lh.ul_synced = after.ul_size;
		r = mf_commit(f, &recs);
		f->need_rescan = false;
	}
	uidlist_free(&f->ul);
	f->ul_loaded = false;
	free(seen);
	free(unknown);
	rs_hash_free(&h);
	rs_list_free(&l);
	rs_ctx_free(&c);
	buf_free(&recs);
	return r;
}
