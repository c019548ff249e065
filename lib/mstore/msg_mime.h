/*
 * mstore/msg_mime.h - a message's MIME tree (mime/part.h), parsed once
 * and kept in the folder's index cache (field "imap.mime", mime/blob.h's
 * format) for every later reader: imap's FETCH and SEARCH, jmap's
 * Email/get.
 */
#ifndef TERN_MSTORE_MSG_MIME_H
#define TERN_MSTORE_MSG_MIME_H

#include <stdint.h>

#include "mime/part.h"
#include "mstore/mstore.h"

/* The tree (caller frees with mime_part_free), or NULL when the message
 * is gone. */
struct mime_part *mstore_msg_mime(struct mstore_view *v, uint32_t uid);

#endif
