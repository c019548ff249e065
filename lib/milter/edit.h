/*
 * milter/edit.h - a message as milters see it, and their edits to it.
 *
 * A message is its header fields, in order, and its body.  It is read from
 * and written back to the form cleanup takes (lines ended by LF, a blank
 * line between header and body); in between, milters add, insert, change
 * and delete header fields and replace the body, as the protocol's
 * ADDHEADER, INSHEADER, CHGHEADER and REPLBODY replies say.
 *
 * Pure functions over memory, no I/O.  Every edit checks what a filter
 * gave it: a header name must be printable ASCII without ':' or space,
 * a value may hold line breaks only as folding (a break followed by a
 * space or tab), so no filter can smuggle a header block or a body in.
 * A rejected edit leaves the message unchanged and returns false.
 *
 * Header values are kept as they follow the colon in the message, with
 * the leading space and LF folding; milter_msg_value() gives the form the
 * protocol wants (no leading space unless SMFIP_HDR_LEADSPC).
 */
#ifndef TERN_MILTER_EDIT_H
#define TERN_MILTER_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct milter_header {
	char *name;
	char *value; /* after the colon, LF folding kept */
};

struct milter_msg {
	struct milter_header *hdr;
	size_t nhdr;
	struct buf body; /* LF line ends */
	bool replaced;	 /* a REPLBODY started: further pieces append */
};

/* Splits text (LF line ends) into header fields and body. */
void milter_msg_parse(struct milter_msg *m, const char *text, size_t len);
void milter_msg_free(struct milter_msg *m);
void milter_msg_write(const struct milter_msg *m, struct buf *out);

/* "<addr>" -> "addr" in place (the form of CHGFROM, ADDRCPT and DELRCPT
 * arguments); anything else is left alone. */
void milter_addr_unbracket(char *a);

/* The value as sent to a filter: leading white space dropped unless
 * leadspc. */
const char *milter_msg_value(const struct milter_header *h, bool leadspc);

/* ADDHEADER: at the end of the header. */
bool milter_msg_add(struct milter_msg *m, const char *name, const char *value, bool leadspc);
/* INSHEADER: before the index'th field (0: at the top). */
bool milter_msg_insert(
    struct milter_msg *m, uint32_t index, const char *name, const char *value, bool leadspc);
/* CHGHEADER: the index'th field (from 1) of that name, any case; an empty
 * value deletes it; an index beyond the last adds the field (as Sendmail
 * does). */
bool milter_msg_change(
    struct milter_msg *m, uint32_t index, const char *name, const char *value, bool leadspc);
/* REPLBODY: the first piece of an end-of-message replaces the body, the
 * others append; CRLF becomes LF. */
void milter_msg_body(struct milter_msg *m, const char *p, size_t n);
/* Called when a filter's end-of-message ends: the next REPLBODY replaces. */
void milter_msg_body_done(struct milter_msg *m);

#endif
