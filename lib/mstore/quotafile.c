/*
 * quotafile.c - Maildir++ quota in use: maildirsize kept up to date,
 * checked before saves, recalculated by Dovecot's rules (quota.h).
 *
 * The file is kept only when it exists or a limit is configured, so a
 * store without quota pays nothing for it.  Delta lines are appended with
 * O_APPEND and no lock, as the Maildir++ specification says; the file is
 * replaced by a recalculation (temporary file, rename) when it grows past
 * 5120 bytes or cannot be trusted.  Nothing here is fsync'ed: the file is
 * a running sum of what the Maildir holds, recalculated whenever it is
 * lost or looks wrong.
 */
#include "mstore/mstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mstore/quota.h"
#include "util.h"

static char *mq_path(const struct mstore *s)
{
	return xasprintf("%s/" MDSIZE_NAME, s->root);
}

/* Adds the sizes of dir's message files (,S= or stat). */
static void mq_sum_dir(const char *dir, uint64_t *bytes, uint64_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct mdname md;
		struct stat st;

		if (!mdname_parse(de->d_name, &md))
			continue;
		if (md.size != MDNAME_NOSIZE) {
			*bytes += md.size;
			(*count)++;
		} else if (fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
			*bytes += (uint64_t)st.st_size;
			(*count)++;
		}
	}
	closedir(d);
}

static void mq_sum_folder(const char *path, uint64_t *bytes, uint64_t *count)
{
	char *p = xasprintf("%s/new", path);

	mq_sum_dir(p, bytes, count);
	free(p);
	p = xasprintf("%s/cur", path);
	mq_sum_dir(p, bytes, count);
	free(p);
}

/* Sums the messages of every folder (the store's root and its .folders). */
static void mq_sum_store(struct mstore *s, struct mstore_quota *out)
{
	uint64_t bytes = 0, count = 0;
	DIR *d = opendir(s->root);
	struct dirent *de;

	mq_sum_folder(s->root, &bytes, &count);
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || de->d_name[1] == 0 || de->d_name[1] == '.')
			continue;
		char *sub = xasprintf("%s/%s", s->root, de->d_name);

		mq_sum_folder(sub, &bytes, &count);
		free(sub);
	}
	if (d)
		closedir(d);
	out->bytes = bytes;
	out->messages = count;
}

/* Sums every folder and writes a fresh maildirsize with these limits. */
static int mq_recalc(struct mstore *s, uint64_t lb, uint64_t lc, struct mdsize *out)
{
	struct mstore_quota used = {0};
	uint64_t bytes, count;
	struct buf text = BUF_INIT;
	char *path = mq_path(s), *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd, r = 0;

	mq_sum_store(s, &used);
	bytes = used.bytes;
	count = used.messages;
	mdsize_format(&text, lb, lc, bytes, count);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, MF_FILE_MODE);
	if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		r = ms_fail_errno(s, "write", path);
		unlink(tmp);
	}
	out->limit_bytes = lb;
	out->limit_count = lc;
	out->bytes = (int64_t)bytes;
	out->count = (int64_t)count;
	out->deltas = 1;
	buf_free(&text);
	free(path);
	free(tmp);
	return r;
}

/* The current usage and limits; 0 with *have false when there is
 * neither a file nor a configured limit. */
static int mq_read(struct mstore *s, struct mdsize *q, bool *have)
{
	uint64_t lb = s->opts.quota_bytes, lc = s->opts.quota_messages;
	char *path = mq_path(s), text[MDSIZE_MAX_FILE + 1];
	enum mdsize_result res = MDSIZE_RECALC;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	free(path);
	*have = fd >= 0 || lb || lc;
	memset(q, 0, sizeof(*q));
	if (!*have)
		return 0;
	if (fd >= 0) {
		n = read(fd, text, sizeof(text));
		if (n >= 0 && n < (ssize_t)sizeof(text))
			res = mdsize_parse(text, (size_t)n, q);
		if (res == MDSIZE_OVER && (q->deltas > 1 || fstat(fd, &st) < 0 ||
					      st.st_mtime < time(NULL) - MDSIZE_STALE_SECS))
			res = MDSIZE_RECALC; /* over quota by old or many lines: make sure */
		close(fd);
	}
	/* Configured limits win over the file's; the file is rewritten
	 * when they differ. */
	if ((lb || lc) && (q->limit_bytes != lb || q->limit_count != lc))
		res = MDSIZE_RECALC;
	if (!lb && !lc) {
		lb = q->limit_bytes;
		lc = q->limit_count;
	}
	if (res == MDSIZE_RECALC)
		return mq_recalc(s, lb, lc, q);
	return 0;
}

void mq_update(struct mstore *s, int64_t bytes, int64_t count)
{
	struct buf line = BUF_INIT;
	char *path = mq_path(s);
	struct mdsize q;
	bool have;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0) {
		/* none yet: made only when a limit asks for it */
		if (s->opts.quota_bytes || s->opts.quota_messages)
			mq_read(s, &q, &have);
		free(path);
		return;
	}
	mdsize_format_delta(&line, bytes, count);
	if (write(fd, line.data, line.len) != (ssize_t)line.len) {
		/* the next reader recalculates a broken file */
	}
	close(fd);
	buf_free(&line);
	free(path);
}

int mq_check(struct mstore *s, uint64_t bytes, uint64_t count, bool *kept)
{
	struct mdsize q;
	bool have;

	*kept = false;
	if (mq_read(s, &q, &have) < 0)
		return -1;
	*kept = have;
	if (!have)
		return 0;
	if (q.limit_bytes && (uint64_t)q.bytes + bytes > q.limit_bytes)
		return ms_fail(s, MSTORE_EQUOTA, "quota exceeded: %lld of %llu bytes used",
		    (long long)q.bytes, (unsigned long long)q.limit_bytes);
	if (q.limit_count && (uint64_t)q.count + count > q.limit_count)
		return ms_fail(s, MSTORE_EQUOTA, "quota exceeded: %lld of %llu messages",
		    (long long)q.count, (unsigned long long)q.limit_count);
	return 0;
}

static int mq_get(struct mstore *s, struct mstore_quota *out, bool sum)
{
	struct mdsize q;
	bool have;

	memset(out, 0, sizeof(*out));
	if (mq_read(s, &q, &have) < 0)
		return -1;
	if (!have) {
		if (sum)
			mq_sum_store(s, out);
		return 0;
	}
	out->bytes = q.bytes > 0 ? (uint64_t)q.bytes : 0;
	out->messages = q.count > 0 ? (uint64_t)q.count : 0;
	out->limit_bytes = q.limit_bytes;
	out->limit_messages = q.limit_count;
	return 0;
}

int mstore_quota_get(struct mstore *s, struct mstore_quota *out)
{
	return mq_get(s, out, false);
}

int mstore_quota_usage(struct mstore *s, struct mstore_quota *out)
{
	return mq_get(s, out, true);
}
