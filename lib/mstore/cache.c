/*
 * cache.c - the per-message blob cache (see cache.h).
 */
#include "mstore/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "mstore/mstore_int.h"
#include "util.h"

#define MC_MAGIC "TERNCCH1"
#define MC_HDR_SIZE 4096u
#define MC_KIND_DATA 2
#define MC_MAX_FILE (1u << 31)
#define MC_MAX_BLOB (16u << 20)
#define MC_CHAIN_MAX 256
#define MC_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

struct mc_field_def {
	char name[MC_FIELD_NAME_MAX];
	uint32_t type;
	uint32_t used;
};

struct mc_hdr {
	char magic[8];
	uint32_t hdr_size;
	uint32_t seq;
	uint32_t nfields;
	uint32_t pad;
	uint64_t used_end;
	uint32_t reserved[8];
	struct mc_field_def fields[MC_FIELDS_MAX];
	uint32_t crc;
};

struct mc_rec {
	uint32_t size;
	uint32_t crc; /* of the bytes after it, to size */
	uint32_t uid;
	uint16_t kind;
	uint16_t field;
	uint32_t prev;
	uint32_t len;
};

struct mstore_cache {
	struct mstore_folder *f;
	int fd;
	const char *map;
	size_t mapped;
	struct mc_hdr hdr; /* as last read */
	/* queued puts: (uid, field, len) + data, 8-aligned */
	struct buf queue;
	size_t nqueued;
};

struct mc_queued {
	uint32_t uid, field, len, pad;
};

bool mc_hdr_valid(const void *data, size_t len)
{
	struct mc_hdr h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, MC_MAGIC, 8) != 0 || h.hdr_size != MC_HDR_SIZE ||
	    h.nfields > MC_FIELDS_MAX || h.used_end < MC_HDR_SIZE || h.used_end > MC_MAX_FILE)
		return false;
	return h.crc == crc32c(0, &h, offsetof(struct mc_hdr, crc));
}

bool mc_rec_valid(const void *data, size_t len, uint32_t off, uint32_t uid)
{
	struct mc_rec r;

	if (off < MC_HDR_SIZE || off % 8 || (size_t)off + sizeof(r) > len)
		return false;
	memcpy(&r, (const char *)data + off, sizeof(r));
	if (r.size < sizeof(r) || r.size % 8 || (size_t)off + r.size > len || r.uid != uid ||
	    r.kind != MC_KIND_DATA || r.len > r.size - sizeof(r) || r.field >= MC_FIELDS_MAX ||
	    (r.prev && r.prev >= off))
		return false;
	return r.crc == crc32c(0, (const char *)data + off + 8, r.size - 8);
}

static int mc_read_hdr(struct mstore_cache *c)
{
	char raw[sizeof(struct mc_hdr)];

	if (pread(c->fd, raw, sizeof(raw), 0) != (ssize_t)sizeof(raw) ||
	    !mc_hdr_valid(raw, sizeof(raw)))
		return -1;
	memcpy(&c->hdr, raw, sizeof(c->hdr));
	return 0;
}

static void mc_unmap(struct mstore_cache *c)
{
	if (c->map)
		munmap((void *)c->map, c->mapped);
	c->map = NULL;
	c->mapped = 0;
}

/* Maps the file up to at least need bytes (its whole current size). */
static bool mc_map(struct mstore_cache *c, size_t need)
{
	struct stat st;
	void *m;

	if (c->map && c->mapped >= need)
		return true;
	if (fstat(c->fd, &st) < 0 || (size_t)st.st_size < need)
		return false;
	mc_unmap(c);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, c->fd, 0);
	if (m == MAP_FAILED)
		return false;
	c->map = m;
	c->mapped = (size_t)st.st_size;
	return true;
}

int mc_open(struct mstore_folder *f)
{
	struct mstore_cache *c;

	if (f->cache)
		return 0;
	c = xcalloc(1, sizeof(*c));
	c->f = f;
	c->fd = openat(f->dfd, MC_NAME, O_RDWR | O_CLOEXEC);
	if (c->fd >= 0 && mc_read_hdr(c) < 0)
		memset(&c->hdr, 0, sizeof(c->hdr));
	f->cache = c;
	return 0;
}

void mc_close(struct mstore_cache *c)
{
	if (c == NULL)
		return;
	mc_unmap(c);
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->queue);
	free(c);
}

/* Writes a fresh, empty cache of a new generation (under the lock) and
 * makes the index forget offsets into the old one. */
static int mc_create(struct mstore_cache *c)
{
	struct mstore_folder *f = c->f;
	char *page = xcalloc(1, MC_HDR_SIZE);
	struct mc_hdr h;
	int fd;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MC_MAGIC, 8);
	h.hdr_size = MC_HDR_SIZE;
	h.seq = (f->lh.cache_seq > c->hdr.seq ? f->lh.cache_seq : c->hdr.seq) + 1;
	h.used_end = MC_HDR_SIZE;
	h.crc = crc32c(0, &h, offsetof(struct mc_hdr, crc));
	memcpy(page, &h, sizeof(h));
	fd = openat(f->dfd, MC_NAME ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || pwrite(fd, page, MC_HDR_SIZE, 0) != (ssize_t)MC_HDR_SIZE ||
	    renameat(f->dfd, MC_NAME ".tmp", f->dfd, MC_NAME) < 0) {
		free(page);
		if (fd >= 0)
			close(fd);
		return ms_fail_errno(f->store, "create", MC_NAME);
	}
	free(page);
	mc_unmap(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->hdr = h;
	/* Everyone forgets offsets into the old generation, in log order. */
	struct buf recs = BUF_INIT;
	size_t rec = ix_rec_begin(&recs, IXR_CACHE_GEN, 0);
	int r;

	ix_rec_item(&recs, rec, &h.seq, sizeof(h.seq));
	ix_rec_end(&recs, rec);
	if (!f->full)
		f->lh.cache_seq = h.seq;
	r = mf_commit(f, &recs);
	buf_free(&recs);
	return r;
}

int mc_field(struct mstore_folder *f, const char *name, unsigned type)
{
	struct mstore_cache *c;
	int r = -1;

	if (strlen(name) == 0 || strlen(name) >= MC_FIELD_NAME_MAX)
		return ms_fail(f->store, MSTORE_EINVAL, "bad cache field name: %s", name);
	mc_open(f);
	c = f->cache;
	if (c->fd >= 0)
		mc_read_hdr(c);
	for (uint32_t i = 0; i < c->hdr.nfields; i++)
		if (strcmp(c->hdr.fields[i].name, name) == 0)
			return (int)i;
	if (mf_lock(f) < 0)
		return -1;
	if (mf_locked_header(f) == 0) {
		if (c->fd < 0 || mc_read_hdr(c) < 0 || c->hdr.seq != f->lh.cache_seq)
			r = mc_create(c) < 0 ? -2 : 0;
		if (r != -2) {
			r = -1;
			for (uint32_t i = 0; i < c->hdr.nfields && r < 0; i++)
				if (strcmp(c->hdr.fields[i].name, name) == 0)
					r = (int)i;
			if (r < 0 && c->hdr.nfields < MC_FIELDS_MAX) {
				struct mc_field_def *d = &c->hdr.fields[c->hdr.nfields];

				strlcpy(d->name, name, sizeof(d->name));
				d->type = type;
				d->used = 1;
				r = (int)c->hdr.nfields++;
				c->hdr.crc = crc32c(0, &c->hdr, offsetof(struct mc_hdr, crc));
				if (pwrite(c->fd, &c->hdr, sizeof(c->hdr), 0) !=
				    (ssize_t)sizeof(c->hdr))
					r = ms_fail_errno(f->store, "write", MC_NAME);
			} else if (r < 0) {
				ms_fail(f->store, MSTORE_ELIMIT, "too many cache fields");
			}
		}
	}
	mf_unlock(f);
	return r < 0 ? -1 : r;
}

unsigned mc_nfields(struct mstore_folder *f)
{
	mc_open(f);
	return f->cache->hdr.nfields;
}

bool mc_get(
    struct mstore_folder *f, const struct ix_msg *m, int field, const void **data, size_t *len)
{
	struct mstore_cache *c;
	uint32_t off = m->cache_off;

	if (off == 0 || field < 0)
		return false;
	mc_open(f);
	c = f->cache;
	if (c->fd < 0 || (c->hdr.seq != f->st.cache_seq &&
			     (mc_read_hdr(c) < 0 || c->hdr.seq != f->st.cache_seq)))
		return false;
	for (int steps = 0; off && steps < MC_CHAIN_MAX; steps++) {
		struct mc_rec r;

		if (!mc_map(c, (size_t)off + sizeof(r)) ||
		    !mc_rec_valid(c->map, c->mapped, off, m->uid))
			return false;
		memcpy(&r, c->map + off, sizeof(r));
		if (r.field == (uint16_t)field) {
			*data = c->map + off + sizeof(r);
			*len = r.len;
			return true;
		}
		off = r.prev;
	}
	return false;
}

void mc_put(struct mstore_folder *f, uint32_t uid, int field, const void *data, size_t len)
{
	struct mc_queued q = {uid, (uint32_t)field, (uint32_t)len, 0};
	struct mstore_cache *c;
	static const char zero[8];

	if (len > MC_MAX_BLOB || field < 0)
		return;
	mc_open(f);
	c = f->cache;
	buf_append(&c->queue, &q, sizeof(q));
	buf_append(&c->queue, data, len);
	buf_append(&c->queue, zero, MC_ALIGN(len) - len);
	c->nqueued++;
}

bool mc_pending(const struct mstore_cache *c)
{
	return c && c->nqueued > 0;
}

size_t mc_queued_bytes(const struct mstore_cache *c)
{
	return c ? c->queue.len : 0;
}

bool mc_current(struct mstore_folder *f)
{
	struct mstore_cache *c;

	mc_open(f);
	c = f->cache;
	return c->fd >= 0 && mc_read_hdr(c) == 0 && c->hdr.seq == f->lh.cache_seq;
}

const char *mc_field_name(struct mstore_folder *f, unsigned i)
{
	mc_open(f);
	return i < f->cache->hdr.nfields ? f->cache->hdr.fields[i].name : NULL;
}

/* Writes the queued blobs.  fresh: they are of messages this process has
 * just added under the same lock, which have no record yet, so the state
 * need not be loaded (a message not in the state starts its chain). */
static int mc_commit_queue(struct mstore_cache *c, bool fresh)
{
	struct mstore_folder *f = c->f;
	struct buf out = BUF_INIT;
	uint64_t end;
	size_t qoff = 0;
	uint32_t last_uid = 0, last_off = 0;
	int r = 0;

	if (c->nqueued == 0)
		return 0;
	if ((!f->full && !fresh) || c->fd < 0 || mc_read_hdr(c) < 0 ||
	    c->hdr.seq != f->lh.cache_seq) {
		/* No usable generation: queued blobs are dropped (they are
		 * only a cache); the next field registration makes one. */
		buf_reset(&c->queue);
		c->nqueued = 0;
		return 0;
	}
	end = c->hdr.used_end;
	for (size_t i = 0; i < c->nqueued; i++) {
		struct mc_queued q;
		struct mc_rec rec = {0};
		long at;

		memcpy(&q, c->queue.data + qoff, sizeof(q));
		qoff += sizeof(q);
		at = f->full ? ix_state_find(&f->st, q.uid) : -1;
		if ((at >= 0 || fresh) && end + out.len + sizeof(rec) + q.len < MC_MAX_FILE) {
			struct ix_msg *m = at >= 0 ? &f->st.msgs[at] : NULL;
			uint32_t off = (uint32_t)(end + out.len);
			struct ix_cache item = {q.uid, off};
			size_t start = out.len;

			rec.size = (uint32_t)MC_ALIGN(sizeof(rec) + q.len);
			rec.uid = q.uid;
			rec.kind = MC_KIND_DATA;
			rec.field = (uint16_t)q.field;
			rec.prev = m ? m->cache_off : q.uid == last_uid ? last_off : 0;
			rec.len = q.len;
			buf_append(&out, &rec, sizeof(rec));
			buf_append(&out, c->queue.data + qoff, rec.size - sizeof(rec));
			rec.crc = crc32c(0, out.data + start + 8, rec.size - 8);
			memcpy(out.data + start, &rec, sizeof(rec));
			/* so a second put of the same uid chains */
			if (m)
				m->cache_off = off;
			last_uid = q.uid;
			last_off = off;
			buf_append(&f->cache_items, &item, sizeof(item));
			f->ncache_items++;
		}
		qoff += MC_ALIGN(q.len);
	}
	if (out.len && pwrite(c->fd, out.data, out.len, (off_t)end) != (ssize_t)out.len)
		r = ms_fail_errno(f->store, "write", MC_NAME);
	if (r == 0 && out.len) {
		c->hdr.used_end = end + out.len;
		c->hdr.crc = crc32c(0, &c->hdr, offsetof(struct mc_hdr, crc));
		if (pwrite(c->fd, &c->hdr, sizeof(c->hdr), 0) != (ssize_t)sizeof(c->hdr))
			r = ms_fail_errno(f->store, "write", MC_NAME);
	}
	buf_free(&out);
	buf_reset(&c->queue);
	c->nqueued = 0;
	return r;
}

int mc_commit(struct mstore_cache *c)
{
	return mc_commit_queue(c, false);
}

int mc_commit_fresh(struct mstore_cache *c)
{
	return mc_commit_queue(c, true);
}

/* Copies the newest record of each field of m into out; returns the new
 * chain head (offset base + position in out), 0 when none. */
static uint32_t mc_copy_live(
    struct mstore_cache *c, const struct ix_msg *m, uint64_t base, struct buf *out, uint64_t *live)
{
	uint64_t seen = 0;
	uint32_t off = m->cache_off, head = 0;

	for (int steps = 0; off && steps < MC_CHAIN_MAX; steps++) {
		struct mc_rec r;

		if (!mc_map(c, (size_t)off + sizeof(r)) ||
		    !mc_rec_valid(c->map, c->mapped, off, m->uid))
			break;
		memcpy(&r, c->map + off, sizeof(r));
		if (!(seen & (1ull << r.field))) {
			size_t at = out->len;

			seen |= 1ull << r.field;
			buf_append(out, c->map + off, r.size);
			r.prev = head;
			memcpy(out->data + at, &r, sizeof(r));
			r.crc = crc32c(0, out->data + at + 8, r.size - 8);
			memcpy(out->data + at, &r, sizeof(r));
			head = (uint32_t)(base + at);
			*live += r.size;
		}
		off = r.prev;
	}
	return head;
}

int mc_maybe_compact(struct mstore_folder *f)
{
	struct mstore_cache *c = f->cache;
	struct buf out = BUF_INIT;
	uint32_t *heads;
	uint64_t live = 0;
	struct mc_hdr h;
	char *page;
	int fd, r = 0;

	if (c == NULL || c->fd < 0 || mc_read_hdr(c) < 0 || c->hdr.seq != f->st.cache_seq ||
	    c->hdr.used_end < (4u << 20))
		return 0;
	heads = xcalloc(f->st.n ? f->st.n : 1, sizeof(*heads));
	for (size_t i = 0; i < f->st.n; i++)
		heads[i] = mc_copy_live(c, &f->st.msgs[i], MC_HDR_SIZE, &out, &live);
	if (c->hdr.used_end - MC_HDR_SIZE < 2 * live) {
		free(heads);
		buf_free(&out);
		return 0; /* mostly alive: keep it */
	}
	h = c->hdr;
	h.seq = c->hdr.seq + 1;
	h.used_end = MC_HDR_SIZE + out.len;
	h.crc = crc32c(0, &h, offsetof(struct mc_hdr, crc));
	page = xcalloc(1, MC_HDR_SIZE);
	memcpy(page, &h, sizeof(h));
	fd = openat(f->dfd, MC_NAME ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || pwrite(fd, page, MC_HDR_SIZE, 0) != (ssize_t)MC_HDR_SIZE ||
	    pwrite(fd, out.data, out.len, MC_HDR_SIZE) != (ssize_t)out.len ||
	    renameat(f->dfd, MC_NAME ".tmp", f->dfd, MC_NAME) < 0) {
		r = ms_fail_errno(f->store, "compact", MC_NAME);
		if (fd >= 0)
			close(fd);
		unlinkat(f->dfd, MC_NAME ".tmp", 0);
	} else {
		mc_unmap(c);
		close(c->fd);
		c->fd = fd;
		c->hdr = h;
		for (size_t i = 0; i < f->st.n; i++)
			f->st.msgs[i].cache_off = heads[i];
		f->st.cache_seq = h.seq;
		f->lh.cache_seq = h.seq;
	}
	free(page);
	free(heads);
	buf_free(&out);
	return r;
}
