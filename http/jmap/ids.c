/*
 * ids.c - Email ids that never change (RFC 8621 section 4.1.1).
 *
 * An Email id is "e" and 24 hex digits: the first 96 bits of the
 * SHA-256 of the message GUID the store keeps (mstore_view_guid:
 * Dovecot's, kept by copies and moves).  A message moved to another
 * folder, by JMAP or by IMAP MOVE, keeps its id; copies of one message
 * are one Email in several Mailboxes, as in RFC 8621.  The id is
 * computed from the store, so it survives restarts.
 *
 * Finding a message by id needs the other direction: this process keeps
 * a table of locations (folder UIDVALIDITY, UID) with their ids, filled
 * as it sees messages (jmap_ids_sync, once per request and after its
 * own changes) and told of expunges through the folders' modseqs.  An
 * expunged location is remembered, with its thread when this process
 * computed it, for Email/changes and Thread/changes: at most
 * JMAP_IDS_GONE_MAX of them; the oldest half is forgotten past that, and
 * a /changes that needs a forgotten one (or one this process never saw,
 * say after a restart) answers cannotCalculateChanges.
 */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "jmap.h"
#include "util.h"

struct ent {
	uint32_t uv, uid, thread;
	uint32_t gone; /* 0: live; else the order it was expunged in */
	unsigned char h[12];
};

struct ifolder {
	uint32_t uv, next_uid; /* every UID below next_uid was indexed */
	uint64_t modseq;       /* expunges up to it were noted */
};

static struct ent *ents;
static size_t nents, cap_ents;
static uint32_t *by_loc, *by_id; /* entry index + 1; 0: empty slot */
static size_t nslots;		 /* a power of two */
static struct ifolder *ifs;
static size_t nifs;
static uint32_t gone_seq, ngone;
static size_t copies; /* live places beyond an id's first: 0, no copies */
static unsigned long synced_request;
unsigned long jmap_request_seq;
size_t jmap_ids_gone_max = JMAP_IDS_GONE_MAX;

static size_t loc_hash(uint32_t uv, uint32_t uid)
{
	uint64_t x = ((uint64_t)uv << 32 | uid) * 0x9e3779b97f4a7c15ull;

	return (size_t)(x >> 17);
}

static size_t id_hash(const unsigned char h[12])
{
	size_t x;

	memcpy(&x, h, sizeof(x));
	return x;
}

/* Live places of the id h other than e. */
static size_t siblings(const unsigned char h[12], const struct ent *e)
{
	size_t n = 0;

	for (size_t i = nslots ? id_hash(h) & (nslots - 1) : 0; nslots && by_id[i];
	     i = (i + 1) & (nslots - 1)) {
		const struct ent *o = &ents[by_id[i] - 1];

		if (o != e && !o->gone && memcmp(o->h, h, 12) == 0)
			n++;
	}
	return n;
}

static void slot_put(uint32_t *t, size_t hash, uint32_t idx)
{
	size_t i = hash & (nslots - 1);

	while (t[i])
		i = (i + 1) & (nslots - 1);
	t[i] = idx + 1;
}

static void rehash(size_t want)
{
	free(by_loc);
	free(by_id);
	for (nslots = 1024; nslots < want * 2; nslots *= 2)
		;
	by_loc = xcalloc(nslots, sizeof(*by_loc));
	by_id = xcalloc(nslots, sizeof(*by_id));
	for (size_t k = 0; k < nents; k++) {
		slot_put(by_loc, loc_hash(ents[k].uv, ents[k].uid), (uint32_t)k);
		slot_put(by_id, id_hash(ents[k].h), (uint32_t)k);
	}
}

static struct ent *find_loc(uint32_t uv, uint32_t uid)
{
	if (nslots == 0)
		return NULL;
	for (size_t i = loc_hash(uv, uid) & (nslots - 1); by_loc[i]; i = (i + 1) & (nslots - 1)) {
		struct ent *e = &ents[by_loc[i] - 1];

		if (e->uv == uv && e->uid == uid)
			return e;
	}
	return NULL;
}

static void hex(const unsigned char h[12], char out[JMAP_EID_LEN])
{
	out[0] = 'e';
	hex_encode(h, 12, out + 1);
}

static bool unhex(const char *id, unsigned char h[12])
{
	if (id == NULL || id[0] != 'e' || strlen(id) != JMAP_EID_LEN - 1)
		return false;
	for (int i = 0; i < 12; i++) {
		unsigned v = 0;

		for (int k = 1; k <= 2; k++) {
			char ch = id[2 * i + k];

			if (ch >= '0' && ch <= '9')
				v = v * 16 + (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v = v * 16 + (unsigned)(ch - 'a' + 10);
			else
				return false;
		}
		h[i] = (unsigned char)v;
	}
	return true;
}

/* Drops the older half of the expunged locations (and those of folders
 * that are gone). */
static void forget_old(void)
{
	uint32_t keep_from = gone_seq - (uint32_t)(jmap_ids_gone_max / 2);
	size_t k = 0;

	ngone = 0;
	for (size_t i = 0; i < nents; i++) {
		if (ents[i].gone && ents[i].gone <= keep_from)
			continue;
		if (ents[i].gone)
			ngone++;
		ents[k++] = ents[i];
	}
	nents = k;
	rehash(nents);
}

static void put(uint32_t uv, uint32_t uid, const unsigned char h[12])
{
	struct ent *e = find_loc(uv, uid);

	if (e) {
		if (e->gone) { /* the same UID again: only after a rebuild */
			ngone--;
			copies += siblings(e->h, e) > 0;
		}
		e->gone = 0;
		memcpy(e->h, h, 12);
		return;
	}
	if (nents == cap_ents)
		ents =
		    xreallocarray(ents, cap_ents = cap_ents ? cap_ents * 2 : 1024, sizeof(*ents));
	copies += siblings(h, NULL) > 0;
	ents[nents] = (struct ent){.uv = uv, .uid = uid};
	memcpy(ents[nents].h, h, 12);
	nents++;
	if (nents * 2 > nslots)
		rehash(nents);
	else {
		slot_put(by_loc, loc_hash(uv, uid), (uint32_t)(nents - 1));
		slot_put(by_id, id_hash(h), (uint32_t)(nents - 1));
	}
}

static void guid_hash(struct mstore_view *v, uint32_t uid, unsigned char h[12])
{
	struct buf g = BUF_INIT;
	unsigned char md[SHA256_DIGEST_LENGTH];

	mstore_view_guid(v, uid, &g);
	SHA256((const unsigned char *)(g.data ? g.data : ""), g.len, md);
	memcpy(h, md, 12);
	buf_free(&g);
}

void jmap_email_id(char out[JMAP_EID_LEN], struct mstore_view *v, uint32_t uid)
{
	uint32_t uv = mstore_view_uidvalidity(v);
	struct ent *e = find_loc(uv, uid);
	unsigned char h[12];

	if (e && !e->gone) {
		hex(e->h, out);
		return;
	}
	guid_hash(v, uid, h);
	put(uv, uid, h);
	hex(h, out);
}

void jmap_email_id_at(char out[JMAP_EID_LEN], struct jfolders *fs, uint32_t uv, uint32_t uid)
{
	struct ent *e = find_loc(uv, uid);
	struct jfolder *f;
	struct mstore_view *v;

	if (e && !e->gone) {
		hex(e->h, out);
		return;
	}
	if ((f = jmap_folder_by_uv(fs, uv)) != NULL && (v = jmap_view(f->name)) != NULL) {
		jmap_email_id(out, v, uid);
		return;
	}
	snprintf(out, JMAP_EID_LEN, "e%024x", 0);
}

static struct ifolder *ifolder(uint32_t uv, bool *fresh)
{
	for (size_t i = 0; i < nifs; i++)
		if (ifs[i].uv == uv) {
			*fresh = false;
			return &ifs[i];
		}
	ifs = xreallocarray(ifs, nifs + 1, sizeof(*ifs));
	ifs[nifs] = (struct ifolder){.uv = uv};
	*fresh = true;
	return &ifs[nifs++];
}

static void mark_gone(uint32_t uv, uint32_t uid)
{
	struct ent *e = find_loc(uv, uid);

	if (e == NULL || e->gone)
		return;
	if (siblings(e->h, e) > 0 && copies > 0)
		copies--;
	e->gone = ++gone_seq;
	if (++ngone > jmap_ids_gone_max)
		forget_old();
}

static void sync_folder(struct jfolder *f)
{
	struct mstore_view *v = jmap_view(f->name);
	struct ifolder *x;
	uint32_t count, next;
	uint64_t modseq;
	bool fresh;

	if (v == NULL)
		return;
	x = ifolder(mstore_view_uidvalidity(v), &fresh);
	count = mstore_view_count(v);
	modseq = mstore_view_highest_modseq(v);
	if (!fresh && modseq > x->modseq) {
		uint32_t *gone;
		size_t n;
		bool exact;

		if (mstore_view_expunged_since(v, x->modseq, &gone, &n, &exact) == 0) {
			for (size_t k = 0; k < n; k++)
				mark_gone(x->uv, gone[k]);
			free(gone);
		}
	}
	next = x->next_uid;
	for (uint32_t seq = count; seq >= 1; seq--) {
		uint32_t uid = mstore_view_uid(v, seq);
		char id[JMAP_EID_LEN];

		if (uid < next)
			break;
		jmap_email_id(id, v, uid);
		if (uid >= x->next_uid)
			x->next_uid = uid + 1;
	}
	x->modseq = modseq;
}

void jmap_ids_sync(struct jfolders *fs, bool force)
{
	if (!force && synced_request == jmap_request_seq)
		return;
	synced_request = jmap_request_seq;
	for (size_t i = 0; i < fs->n; i++)
		sync_folder(&fs->v[i]);
}

void jmap_ids_dirty(void)
{
	synced_request = 0;
}

static size_t find(struct jfolders *fs, const unsigned char h[12], struct jloc *out, size_t max)
{
	size_t n = 0;

	if (nslots == 0)
		return 0;
	for (size_t i = id_hash(h) & (nslots - 1); by_id[i]; i = (i + 1) & (nslots - 1)) {
		struct ent *e = &ents[by_id[i] - 1];
		struct jfolder *f;
		struct mstore_view *v;
		struct mstore_msg m;

		if (e->gone || memcmp(e->h, h, 12) != 0 ||
		    (f = jmap_folder_by_uv(fs, e->uv)) == NULL ||
		    (v = jmap_view(f->name)) == NULL || mstore_view_msg_uid(v, e->uid, &m) < 0 ||
		    m.expunged)
			continue;
		if (n < max)
			out[n] = (struct jloc){.f = f, .v = v, .uid = e->uid, .m = m};
		n++;
	}
	return n < max ? n : max;
}

size_t jmap_ids_find(struct jfolders *fs, const char *id, struct jloc *out, size_t max)
{
	unsigned char h[12];
	size_t n;

	if (!unhex(id, h))
		return 0;
	jmap_ids_sync(fs, false);
	if ((n = find(fs, h, out, max)) == 0) { /* changed since this request began? */
		jmap_ids_sync(fs, true);
		n = find(fs, h, out, max);
	}
	return n;
}

bool jmap_ids_copies_seen(void)
{
	return copies > 0;
}

bool jmap_ids_copied(uint32_t uv, uint32_t uid)
{
	struct ent *e = copies ? find_loc(uv, uid) : NULL;

	if (e == NULL)
		return false;
	for (size_t i = id_hash(e->h) & (nslots - 1); by_id[i]; i = (i + 1) & (nslots - 1)) {
		struct ent *o = &ents[by_id[i] - 1];

		if (o != e && !o->gone && memcmp(o->h, e->h, 12) == 0)
			return true;
	}
	return false;
}

bool jmap_ids_gone_id(uint32_t uv, uint32_t uid, char out[JMAP_EID_LEN])
{
	struct ent *e = find_loc(uv, uid);

	if (e == NULL)
		return false;
	hex(e->h, out);
	return true;
}

void jmap_ids_set_thread(uint32_t uv, uint32_t uid, uint32_t thread)
{
	struct ent *e = find_loc(uv, uid);

	if (e)
		e->thread = thread;
}

uint32_t jmap_ids_thread(const char *id)
{
	unsigned char h[12];

	if (!unhex(id, h) || nslots == 0)
		return 0;
	for (size_t i = id_hash(h) & (nslots - 1); by_id[i]; i = (i + 1) & (nslots - 1)) {
		struct ent *e = &ents[by_id[i] - 1];

		if (e->thread && memcmp(e->h, h, 12) == 0)
			return e->thread;
	}
	return 0;
}

size_t jmap_ids_remembered(void)
{
	return ngone;
}

void jmap_ids_free(void)
{
	free(ents);
	free(by_loc);
	free(by_id);
	free(ifs);
	ents = NULL;
	by_loc = by_id = NULL;
	ifs = NULL;
	nents = cap_ents = nslots = nifs = 0;
	ngone = gone_seq = 0;
	copies = 0;
}
