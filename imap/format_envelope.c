/*
 * imap/format_envelope.c - the ENVELOPE structure (imap/format.h).
 *
 * (date subject from sender reply-to to cc bcc in-reply-to message-id),
 * each address list as ((name adl mailbox host)...) or NIL, groups as
 * RFC 9051 7.5.2 describes: (NIL NIL "group" NIL) ... (NIL NIL NIL NIL).
 */
#include "format.h"

#include "write.h"

static void format_addr_list(struct buf *out, const struct mime_addr *a, unsigned flags)
{
	if (a == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (; a; a = a->next) {
		buf_putc(out, '(');
		imap_write_nhuman(out, a->name, flags);
		buf_putc(out, ' ');
		imap_write_nstring(out, a->route, flags | IMAP_WRITE_NOLF);
		buf_putc(out, ' ');
		imap_write_nstring(out, a->mailbox, flags | IMAP_WRITE_NOLF);
		buf_putc(out, ' ');
		imap_write_nstring(out, a->host, flags | IMAP_WRITE_NOLF);
		buf_putc(out, ')');
	}
	buf_putc(out, ')');
}

void imap_format_envelope(struct buf *out, const struct mime_envelope *env, unsigned flags)
{
	static const struct mime_envelope empty;

	if (env == NULL)
		env = &empty;
	buf_putc(out, '(');
	imap_write_nstring(out, env->date, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	imap_write_nhuman(out, env->subject, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->from, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->sender ? env->sender : env->from, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->reply_to ? env->reply_to : env->from, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->to, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->cc, flags);
	buf_putc(out, ' ');
	format_addr_list(out, env->bcc, flags);
	buf_putc(out, ' ');
	imap_write_nstring(out, env->in_reply_to, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	imap_write_nstring(out, env->message_id, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ')');
}
