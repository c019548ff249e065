/*
 * mime/html_text.c - the text a reader sees of an HTML body (html_text.h).
 *
 * One pass over the bytes: a tag is skipped to its '>' (quoted attribute
 * values may hold '>'), a comment to its "-->"; the elements whose
 * content is never shown (head, style, script, title) are skipped to
 * their end tag, so a preview never starts with CSS; block elements
 * leave a line break, table cells a space; character references are
 * decoded (numeric ones to UTF-8, the few named ones mail uses most).
 * Unclosed constructs end at the end of the input.  Pure.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/html_text.h"

/* The end of the tag opening at s[i] ('<'): the index after its '>'. */
static size_t tag_end(const char *s, size_t len, size_t i)
{
	char quote = 0;

	for (i++; i < len; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			quote = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return len;
}

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/* After "<name ...>" of a hidden element: the index after "</name>". */
static size_t skip_element(const char *s, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++)
		if (s[i] == '<' && s[i + 1] == '/' && strncasecmp(s + i + 2, name, n) == 0)
			return tag_end(s, len, i);
	return len;
}

/* A character reference at s[i] ('&'): decoded into out, the index after
 * it; or 0 when it is not one (the '&' is then text). */
static size_t reference(const char *s, size_t len, size_t i, struct buf *out)
{
	static const struct {
		const char *name, *text;
	} named[] = {
	    {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}};
	const char *semi;
	size_t n;

	if (i + 2 >= len ||
	    (semi = memchr(s + i + 1, ';', len - i - 1 < 12 ? len - i - 1 : 12)) == NULL)
		return 0;
	n = (size_t)(semi - (s + i + 1));
	if (s[i + 1] == '#') {
		bool hex = n > 1 && (s[i + 2] == 'x' || s[i + 2] == 'X');
		unsigned long cp = 0;
		size_t k = i + 2 + hex;

		if (k >= (size_t)(semi - s))
			return 0;
		for (; k < (size_t)(semi - s); k++) {
			char c = s[k];
			int d = c >= '0' && c <= '9'	      ? c - '0'
				: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
				: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
							      : -1;

			if (d < 0)
				return 0;
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp < 0x20 && cp != '\t' && cp != '\n'))
			cp = 0xfffd;
		buf_put_utf8(out, cp);
		return (size_t)(semi - s) + 1;
	}
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (strlen(named[k].name) == n && strncmp(s + i + 1, named[k].name, n) == 0) {
			buf_puts(out, named[k].text);
			return (size_t)(semi - s) + 1;
		}
	return 0;
}

void mime_html_text(const char *s, size_t len, struct buf *out)
{
	static const char *const hidden[] = {"head", "style", "script", "title", NULL};
	static const char *const blocks[] = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4",
	    "h5", "h6", "table", "blockquote", "ul", "ol", "hr", "pre", NULL};
	static const char *const cells[] = {"td", "th", NULL};
	size_t i = 0;

	while (i < len) {
		char name[16];
		size_t n = 0, j, end;
		bool closing;

		if (s[i] == '&') {
			size_t next = reference(s, len, i, out);

			if (next) {
				i = next;
				continue;
			}
		}
		if (s[i] != '<') {
			buf_putc(out, s[i++]);
			continue;
		}
		if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memmem(s + i + 4, len - i - 4, "-->", 3);

			i = e ? (size_t)(e - s) + 3 : len;
			continue;
		}
		closing = i + 1 < len && s[i + 1] == '/';
		for (j = i + 1 + closing;
		     j < len && n + 1 < sizeof(name) &&
		     ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
			 (s[j] >= '0' && s[j] <= '9'));
		     j++)
			name[n++] = (char)(s[j] | 0x20);
		name[n] = 0;
		end = tag_end(s, len, i);
		if (n == 0 && (j >= len || (s[j] != '!' && s[j] != '?'))) {
			buf_putc(out, s[i++]); /* "a < b": not a tag */
			continue;
		}
		if (!closing && name_in(name, hidden)) /* "<style/>" too, as HTML5 */
			end = skip_element(s, len, end, name);
		else if (name_in(name, blocks))
			buf_putc(out, '\n');
		else if (name_in(name, cells))
			buf_putc(out, ' ');
		i = end;
	}
}
