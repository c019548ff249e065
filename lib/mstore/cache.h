/*
 * cache.h - the index's cache of per-message blobs (tern.index.cache):
 * ENVELOPE, BODYSTRUCTURE, header fields, thread ids... whatever the
 * protocol layers compute once and want again.  Opaque to the store:
 * each blob belongs to a named field registered with a type tag.
 *
 * File: a 4 KiB header (magic, generation, committed length, a table of
 * up to MC_FIELDS_MAX field names and types), then records
 *
 *   { size, crc, uid, kind, field, prev, len } data   (8-byte aligned)
 *
 * appended at the committed length under tern.lock.  A message's newest
 * record is named by its index entry (ix_msg.cache_off, set through
 * IXR_CACHE log records written after the data); each record names the
 * message's previous one, so a lookup walks a short chain.  The file is
 * never truncated (readers map it), only replaced by a compacted copy of
 * a newer generation when the log rotates and most of it is dead; index
 * offsets are used only with the generation they were made for.
 */
#ifndef TERN_MSTORE_CACHE_H
#define TERN_MSTORE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_NAME "tern.index.cache"
#define MC_FIELDS_MAX 64
#define MC_FIELD_NAME_MAX 40

struct mstore_folder;
struct mstore_cache;
struct ix_msg;

/* Opens (creates) the folder's cache. */
int mc_open(struct mstore_folder *f);
/* The number of a field, registering it (under the lock) when new. */
int mc_field(struct mstore_folder *f, const char *name, unsigned type);
/* The number of fields registered (as last read). */
unsigned mc_nfields(struct mstore_folder *f);
/* Looks a blob up for m. */
bool mc_get(
    struct mstore_folder *f, const struct ix_msg *m, int field, const void **data, size_t *len);
/* Queues a blob; written by mc_commit. */
void mc_put(struct mstore_folder *f, uint32_t uid, int field, const void *data, size_t len);
bool mc_pending(const struct mstore_cache *c);
/* Bytes queued by mc_put, not yet committed. */
size_t mc_queued_bytes(const struct mstore_cache *c);
/* Under the lock, the state current: writes the queued blobs and queues
 * the IXR_CACHE items for the log. */
int mc_commit(struct mstore_cache *c);
/* mc_commit for the blobs of messages just added by this process under
 * the same lock (they have no record yet): needs no loaded state. */
int mc_commit_fresh(struct mstore_cache *c);
/* Under the lock: is there a cache of the log's current generation? */
bool mc_current(struct mstore_folder *f);
/* The name of field i (as last read), NULL past the last one. */
const char *mc_field_name(struct mstore_folder *f, unsigned i);
/* Under the lock, full state: compacts the cache into a new generation
 * when most of it is dead (called before a rotation). */
int mc_maybe_compact(struct mstore_folder *f);
void mc_close(struct mstore_cache *c);

/* Pure checks for the fuzz harness: is the header valid, and the record
 * at off (for uid) in data[0..len)? */
bool mc_hdr_valid(const void *data, size_t len);
bool mc_rec_valid(const void *data, size_t len, uint32_t off, uint32_t uid);

#endif
