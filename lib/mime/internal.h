/*
 * mime/internal.h - what mime/parser.c and mime/part.c share; not for
 * other modules.
 */
#ifndef TERN_MIME_INTERNAL_H
#define TERN_MIME_INTERNAL_H

#include "mime/header.h"
#include "mime/part.h"

/* Records a Content-* field of p's header. */
void mime_part_field(struct mime_part *p, const struct mime_hdr_field *f);
/* Records an envelope field. */
void mime_envelope_field(struct mime_envelope *e, const struct mime_hdr_field *f);

#endif
