/*
 * mstore/msg_mime.c - a message's MIME tree through the index cache
 * (msg_mime.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "mime/blob.h"
#include "mime/parser.h"
#include "mstore/msg_mime.h"
#include "util.h"

#define MSG_MIME_CHUNK 65536

struct mime_part *mstore_msg_mime(struct mstore_view *v, uint32_t uid)
{
	int field = mstore_cache_field(v, "imap.mime", 1);
	const void *data;
	size_t len;
	struct mime_part *root;
	struct mime_parser *p;
	char *chunk;
	ssize_t r;
	int fd;

	if (field >= 0 && mstore_cache_get(v, uid, field, &data, &len) &&
	    (root = mime_blob_part_decode(data, len)) != NULL)
		return root;
	if ((fd = mstore_view_open_msg(v, uid)) < 0)
		return NULL;
	p = mime_parser_new(NULL, NULL, NULL);
	chunk = xmalloc(MSG_MIME_CHUNK);
	while ((r = read(fd, chunk, MSG_MIME_CHUNK)) > 0)
		mime_parser_feed(p, chunk, (size_t)r);
	free(chunk);
	close(fd);
	root = mime_parser_finish(p);
	if (field >= 0) {
		struct buf b = BUF_INIT;

		mime_blob_part_encode(root, &b);
		mstore_cache_put(v, uid, field, b.data, b.len);
		buf_free(&b);
	}
	return root;
}
