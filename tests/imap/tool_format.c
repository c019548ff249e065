/*
 * tool_format.c - prints what tern's formatters make of message files:
 * for each file argument, three records "<length>\n<bytes>\n" holding
 * ENVELOPE, BODY and BODYSTRUCTURE as an IMAP server sends them (CRLF
 * view of the message).  tests/e2e/test_imap_format.py compares them with
 * Dovecot's FETCH answers for the same bytes.  The message is fed to the
 * parser in small chunks, so the streaming paths are the ones compared.
 */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "../../imap/format.h"
#include "../../imap/write.h"
#include "mime/parser.h"

static void emit(struct buf *b)
{
	printf("%zu\n", b->len);
	fwrite(b->data ? b->data : "", 1, b->len, stdout);
	putchar('\n');
	buf_reset(b);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		char chunk[37];
		size_t n;
		struct buf b = BUF_INIT;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		struct mime_parser *p = mime_parser_new(NULL, NULL, NULL);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			mime_parser_feed(p, chunk, n);
		fclose(f);
		struct mime_part *root = mime_parser_finish(p);
		imap_format_envelope(&b, root->envelope, 0);
		emit(&b);
		imap_format_body(&b, root, false, 0);
		emit(&b);
		imap_format_body(&b, root, true, 0);
		emit(&b);
		buf_free(&b);
		mime_part_free(root);
	}
	return 0;
}
