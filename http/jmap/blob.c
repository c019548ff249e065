/*
 * blob.c - blobs (RFC 8620 section 6): uploads, downloads, and the bytes
 * behind a blob id.
 *
 *   U<sha-256 prefix>      an upload, a file in the Maildir root's
 *                          tern-jmap-uploads/ (not a folder for IMAP or
 *                          Dovecot: it does not start with "."), removed
 *                          after UPLOAD_TTL unused
 *   M<email id's hex>      a whole message (ids.c: kept by moves)
 *   P<email id's hex>-<section with "_" for ".">
 *                          a part of a message, transfer-decoded
 *
 * A download is sent as an attachment (Content-Disposition) with the
 * type the URL asks for when that is a plain type/subtype, and inline
 * only for images with ?inline=1; http adds "Content-Security-Policy:
 * sandbox" to every download, so nothing downloaded runs as the site.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jmap_int.h"
#include "mime/decode.h"
#include "mstore/msg_mime.h"
#include "util.h"

#define UPLOAD_DIR "tern-jmap-uploads"
#define UPLOAD_TTL (24 * 3600)
#define MAX_BLOB (64 * 1024 * 1024)

static char *upload_path(const char *name)
{
	return xasprintf("%s/" UPLOAD_DIR "%s%s", jm.maildir, name ? "/" : "", name ? name : "");
}

static void uploads_expire(void)
{
	char *dir = upload_path(NULL);
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	while (d && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] != 'U')
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && now - st.st_mtime > UPLOAD_TTL)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	free(dir);
}

static bool type_ok(const char *t)
{
	const char *slash = strchr(t, '/');

	if (slash == NULL || slash == t || slash[1] == 0 || strlen(t) > 127)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("/+-.", *p)))
			return false;
	return strchr(slash + 1, '/') == NULL;
}

void jmap_upload(const char *ctype, const char *body, size_t len, int *status, struct buf *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char id[40], *dir, *path, *tmp;
	json_t *o;
	char *text;
	int fd;

	if (len > JMAP_MAX_UPLOAD) {
		*status = 413;
		buf_puts(out, "{\"error\": \"too large\"}");
		return;
	}
	SHA256((const unsigned char *)(body ? body : ""), len, md);
	id[0] = 'U';
	hex_encode(md, 16, id + 1);
	dir = upload_path(NULL);
	mkdir(dir, 0700);
	path = upload_path(id);
	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, body, len) != (ssize_t)len) || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		if (fd >= 0)
			unlink(tmp);
		*status = 500;
		buf_printf(out, "{\"error\": \"cannot store the upload: %s\"}", strerror(errno));
	} else {
		o = json_pack("{s:s, s:s, s:s, s:I}", "accountId", jm.account, "blobId", id, "type",
		    ctype && type_ok(ctype) ? ctype : "application/octet-stream", "size",
		    (json_int_t)len);
		text = json_dumps(o, JSON_COMPACT);
		buf_puts(out, text);
		free(text);
		json_decref(o);
		*status = 201;
		uploads_expire();
	}
	free(dir);
	free(path);
	free(tmp);
}

static bool read_fd(int fd, off_t off, size_t len, struct buf *out)
{
	ssize_t n;

	if (len > MAX_BLOB)
		return false;
	buf_reserve(out, len + 1);
	n = pread(fd, buf_tail(out), len, off);
	if (n < 0)
		return false;
	buf_commit(out, (size_t)n);
	return true;
}

bool jmap_blob_read(const char *blob_id, struct buf *out, struct buf *type)
{
	struct jfolders fs;
	struct mstore_view *v;
	struct jloc at;
	uint32_t uid;
	char eid[JMAP_EID_LEN];
	const char *e;
	bool ok = false;
	int fd;

	if (!jmap_id_valid(blob_id))
		return false;
	if (blob_id[0] == 'U') {
		char *path = upload_path(blob_id);
		struct stat st;

		fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (fd < 0)
			return false;
		ok = fstat(fd, &st) == 0 && read_fd(fd, 0, (size_t)st.st_size, out);
		if (ok)
			futimens(fd, NULL); /* used: kept for another UPLOAD_TTL */
		close(fd);
		return ok;
	}
	if (blob_id[0] != 'M' && blob_id[0] != 'P')
		return false;
	if (strlen(blob_id) < JMAP_EID_LEN - 1)
		return false;
	e = blob_id + JMAP_EID_LEN - 1;
	if (blob_id[0] == 'M' ? *e != 0 : *e != '-')
		return false;
	snprintf(eid, sizeof(eid), "e%.*s", JMAP_EID_LEN - 2, blob_id + 1);
	jmap_folders_load(&fs);
	if (jmap_ids_find(&fs, eid, &at, 1) == 1) {
		v = at.v;
		uid = at.uid;
		if (blob_id[0] == 'M') {
			struct stat st;

			if ((fd = mstore_view_open_msg(v, (uint32_t)uid)) >= 0) {
				ok = fstat(fd, &st) == 0 && read_fd(fd, 0, (size_t)st.st_size, out);
				close(fd);
				buf_puts(type, "message/rfc822");
			}
		} else {
			struct mime_part *root = mstore_msg_mime(v, (uint32_t)uid);
			unsigned nums[32], n = 0;
			const char *s = e + 1;
			const struct mime_part *p = NULL;

			while (root && *s && n < 32) {
				char *end;
				unsigned long k = strtoul(s, &end, 10);

				if (k == 0 || (*end != '_' && *end != 0))
					break;
				nums[n++] = (unsigned)k;
				s = *end ? end + 1 : end;
			}
			if (root && *s == 0 && n > 0)
				p = mime_part_by_section(root, nums, n);
			if (p && !(p->flags & MIME_PART_MULTIPART) &&
			    (fd = mstore_view_open_msg(v, (uint32_t)uid)) >= 0) {
				struct buf raw = BUF_INIT;
				struct mime_decoder d;

				if (read_fd(fd, (off_t)mime_part_body_offset(p),
					(size_t)p->body.physical, &raw)) {
					mime_decoder_init(&d, mime_cte_from_name(p->encoding));
					mime_decoder_feed(
					    &d, raw.data ? raw.data : "", raw.len, out);
					mime_decoder_finish(&d, out);
					buf_printf(type, "%s/%s", p->type, p->subtype);
					ok = true;
				}
				buf_free(&raw);
				close(fd);
			}
			mime_part_free(root);
		}
	}
	jmap_folders_free(&fs);
	return ok;
}

static char *query_get(const char *query, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = query; p && *p;) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);

		if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			struct buf b = BUF_INIT;
			char *r;

			for (const char *q = p + n + 1; q < end; q++) {
				int hi, lo;

				if (*q == '%' && q + 2 < end + 0 + 1 &&
				    (hi = hex_value(q[1])) >= 0 && (lo = hex_value(q[2])) >= 0) {
					buf_putc(&b, (char)(hi * 16 + lo));
					q += 2;
				} else {
					buf_putc(&b, *q == '+' ? ' ' : *q);
				}
			}
			r = xstrdup(buf_cstr(&b));
			buf_free(&b);
			return r;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

void jmap_download(const char *path, const char *query, int *status, struct buf *out,
    struct buf *ctype, struct buf *disposition)
{
	char *acc = xstrdup(path), *blob, *name, *type = query_get(query, "type");
	char *inl = query_get(query, "inline");
	struct buf btype = BUF_INIT;
	bool image;

	blob = strchr(acc, '/');
	name = blob ? strchr(blob + 1, '/') : NULL;
	if (blob == NULL || name == NULL) {
		*status = 404;
		goto done;
	}
	*blob++ = 0;
	*name++ = 0;
	if (strcmp(acc, jm.account) != 0 || !jmap_blob_read(blob, out, &btype)) {
		*status = 404;
		buf_reset(out);
		buf_puts(ctype, "application/json");
		buf_puts(out, "{\"error\": \"no such blob\"}");
		goto done;
	}
	*status = 200;
	if (type && type_ok(type))
		buf_puts(ctype, type);
	else
		buf_puts(ctype, "application/octet-stream");
	image = strncasecmp(buf_cstr(ctype), "image/", 6) == 0 &&
		strcasecmp(buf_cstr(ctype), "image/svg+xml") != 0;
	buf_puts(disposition, inl && strcmp(inl, "1") == 0 && image ? "inline" : "attachment");
	buf_puts(disposition, "; filename*=UTF-8''");
	name = *name ? name : "download";
	buf_put_urlencoded(disposition, name, strlen(name));
done:
	buf_free(&btype);
	free(acc);
	free(type);
	free(inl);
}
