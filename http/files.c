/*
 * files.c - the webmail's static files (http_static_directory).
 *
 * The folder is opened before the process confines itself; every file is
 * opened below it with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so
 * neither "..", an absolute path nor a symbolic link leads out of it,
 * whatever the URL decoded to; the URL is also refused outright when a
 * segment is "." or "..", or it holds a backslash or a control
 * character.  "/" is index.html; a folder is 404 (the client routes with
 * "#", there is no catch-all).  Text files are sent gzip-compressed to
 * clients that accept it (compressed once, kept in a small cache keyed by
 * path, size and modification time); index.html is never cached by the
 * browser, the build's hashed assets for a year.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gzip.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define MAX_FILE (32 * 1024 * 1024)
#define GZIP_MAX_INPUT (4 * 1024 * 1024)
#define GZIP_CACHE 64

struct gz {
	char *path;
	off_t size;
	struct timespec mtime;
	struct buf data;
	struct gz *next;
};

static struct gz *gz_cache;
static unsigned gz_count;

static const struct {
	const char *ext, *type;
	bool text;
} types[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json", true},
    {".map", "application/json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".xml", "application/xml", true},
    {".webmanifest", "application/manifest+json", true},
    {".png", "image/png", false},
    {".jpg", "image/jpeg", false},
    {".gif", "image/gif", false},
    {".webp", "image/webp", false},
    {".ico", "image/x-icon", false},
    {".woff2", "font/woff2", false},
    {".woff", "font/woff", false},
    {".wasm", "application/wasm", false},
};

static bool url_safe(const char *url)
{
	const char *seg = url + 1;

	if (url[0] != '/')
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return false;
	for (;;) {
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (seg[n] == 0)
			return true;
		seg += n + 1;
	}
}

static int open_beneath(const char *rel)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, http.static_fd, rel, &how, sizeof(how));
}

static bool accepts_gzip(struct MHD_Connection *conn)
{
	const char *ae =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	return ae && strstr(ae, "gzip") != NULL && strstr(ae, "gzip;q=0 ") == NULL;
}

static struct gz *gz_get(const char *rel, int fd, const struct stat *st)
{
	struct gz *g, **pp;
	char *raw;
	ssize_t n;

	for (pp = &gz_cache; (g = *pp) != NULL; pp = &g->next)
		if (strcmp(g->path, rel) == 0) {
			if (g->size == st->st_size && g->mtime.tv_sec == st->st_mtim.tv_sec &&
			    g->mtime.tv_nsec == st->st_mtim.tv_nsec)
				return g;
			*pp = g->next;
			free(g->path);
			buf_free(&g->data);
			free(g);
			gz_count--;
			break;
		}
	raw = xmalloc((size_t)st->st_size + 1);
	n = pread(fd, raw, (size_t)st->st_size, 0);
	if (n != st->st_size) {
		free(raw);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	if (!gzip_buf(raw, (size_t)n, &g->data)) {
		free(raw);
		free(g);
		return NULL;
	}
	free(raw);
	g->path = xstrdup(rel);
	g->size = st->st_size;
	g->mtime = st->st_mtim;
	if (gz_count >= GZIP_CACHE) { /* drop the oldest (the list's tail) */
		struct gz **tail = &gz_cache;

		while ((*tail)->next)
			tail = &(*tail)->next;
		free((*tail)->path);
		buf_free(&(*tail)->data);
		free(*tail);
		*tail = NULL;
		gz_count--;
	}
	g->next = gz_cache;
	gz_cache = g;
	gz_count++;
	return g;
}

static enum MHD_Result not_found(struct hreq *q)
{
	return http_queue(q, 404, http_text("text/plain; charset=utf-8", "Not found\n", 10));
}

enum MHD_Result http_static(struct hreq *q, const char *url)
{
	const char *rel, *ext, *type = "application/octet-stream", *inm;
	bool text = false;
	struct MHD_Response *r;
	struct stat st;
	char etag[64];
	int fd;

	if (http.static_fd < 0 || !url_safe(url))
		return not_found(q);
	rel = strcmp(url, "/") == 0 ? "index.html" : url + 1;
	if ((fd = open_beneath(rel)) < 0)
		return not_found(q);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		close(fd);
		return not_found(q);
	}
	if ((ext = strrchr(rel, '.')) != NULL && strchr(ext, '/') == NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(ext, types[i].ext) == 0) {
				type = types[i].type;
				text = types[i].text;
			}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	inm = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && strcmp(inm, etag) == 0) {
		close(fd);
		r = http_text(NULL, "", 0);
	} else if (text && st.st_size <= GZIP_MAX_INPUT && accepts_gzip(q->conn)) {
		struct gz *g = gz_get(rel, fd, &st);

		close(fd);
		if (g == NULL)
			return http_queue(q, 500, http_error_json("cannot compress"));
		r = http_text(type, g->data.data, g->data.len);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	} else {
		r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    strncmp(rel, "assets/", 7) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
	return http_queue(q, inm && strcmp(inm, etag) == 0 ? 304 : 200, r);
}
