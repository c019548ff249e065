/*
 * keywords.c - dovecot-keywords parsing and formatting (see keywords.h).
 */
#include "mstore/keywords.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void keywords_free(struct keywords *kw)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++) {
		free(kw->name[i]);
		kw->name[i] = NULL;
	}
}

void keywords_parse(const char *data, size_t len, struct keywords *kw)
{
	size_t off = 0;

	while (off < len) {
		const char *line = data + off, *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;
		const char *sp = memchr(line, ' ', ll);
		long idx = 0;
		size_t digits = sp ? (size_t)(sp - line) : 0;

		off += ll + (nl != NULL);
		if (sp == NULL || digits == 0 || digits > 2 || sp + 1 == line + ll)
			continue;
		for (size_t i = 0; i < digits; i++) {
			if (line[i] < '0' || line[i] > '9')
				idx = -1;
			else if (idx >= 0)
				idx = idx * 10 + (line[i] - '0');
		}
		if (idx < 0 || idx >= MD_KEYWORDS_MAX || kw->name[idx] != NULL)
			continue;
		char *name = xmemdup(sp + 1, (size_t)(line + ll - (sp + 1)));

		if (strlen(name) == 0 || keywords_find(kw, name) >= 0) {
			free(name);
			continue;
		}
		kw->name[idx] = name;
	}
}

void keywords_format(const struct keywords *kw, struct buf *out)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if (kw->name[i])
			buf_printf(out, "%d %s\n", i, kw->name[i]);
}

int keywords_find(const struct keywords *kw, const char *name)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if (kw->name[i] && strcmp(kw->name[i], name) == 0)
			return i;
	return -1;
}

int keywords_add(struct keywords *kw, const char *name, bool *added)
{
	int i = keywords_find(kw, name);

	*added = false;
	if (i >= 0)
		return i;
	for (i = 0; i < MD_KEYWORDS_MAX; i++) {
		if (kw->name[i] == NULL) {
			kw->name[i] = xstrdup(name);
			*added = true;
			return i;
		}
	}
	return -1;
}

bool keywords_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* atom-specials: ( ) { SP CTL % * " \ ] */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
			return false;
	}
	return true;
}
