/*
 * conf_edit.c - editing main.cf in place (conf_edit.h).
 *
 * A line belongs to the logical line of the parameter above it when it
 * starts with white space and has something other than a comment, as in
 * config.c's reader; comment and blank lines between such lines go with
 * them, but those after the last continuation line stay (they usually
 * introduce the next parameter).
 */
#include "conf_edit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file_replace.h"
#include "util.h"

struct ce_line {
	const char *p;
	size_t len; /* without the newline */
};

static bool ce_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool conf_name_ok(const char *s)
{
	if (*s == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

bool conf_parse_assignment(const char *arg, struct conf_change *out, char **store)
{
	char *copy = xstrdup(arg), *eq = strchr(copy, '=');

	*store = copy;
	if (eq == NULL || strpbrk(arg, "\r\n") != NULL)
		return false;
	*eq = 0;
	out->name = str_trim(copy);
	out->value = str_trim(eq + 1);
	return conf_name_ok(out->name);
}

/* What a line is: 0 comment or blank, 1 start of a parameter, 2 continuation. */
static int ce_kind(const struct ce_line *l)
{
	size_t i = 0;

	while (i < l->len && ce_blank((unsigned char)l->p[i]))
		i++;
	if (i == l->len || l->p[i] == '#')
		return 0;
	return i == 0 ? 1 : 2;
}

/* The name a parameter line sets, as [p, p + *n). */
static const char *ce_name(const struct ce_line *l, size_t *n)
{
	const char *eq = memchr(l->p, '=', l->len);
	size_t len = eq ? (size_t)(eq - l->p) : l->len;

	while (len > 0 && ce_blank((unsigned char)l->p[len - 1]))
		len--;
	*n = len;
	return l->p;
}

/* The last change of a name: "-e a=1 -e a=2" means a = 2. */
static const struct conf_change *ce_find(
    const struct conf_change *ch, size_t n, const char *name, size_t len)
{
	for (size_t i = n; i-- > 0;)
		if (strlen(ch[i].name) == len && strncmp(ch[i].name, name, len) == 0)
			return &ch[i];
	return NULL;
}

static size_t ce_split(const char *text, size_t len, struct ce_line **out)
{
	size_t n = 0, off = 0;

	*out = NULL;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (text + off)) : len - off;

		*out = xreallocarray(*out, n + 1, sizeof(**out));
		(*out)[n].p = text + off;
		(*out)[n++].len = l;
		off += l + (nl != NULL);
	}
	return n;
}

/* The last line of the logical line starting at i. */
static size_t ce_end(const struct ce_line *lines, size_t n, size_t i)
{
	size_t last = i;

	for (size_t j = i + 1; j < n; j++) {
		int k = ce_kind(&lines[j]);

		if (k == 1)
			break;
		if (k == 2)
			last = j;
	}
	return last;
}

static void ce_put(struct buf *out, const struct conf_change *c)
{
	buf_printf(out, *c->value ? "%s = %s\n" : "%s =%s\n", c->name, c->value);
}

void conf_edit_text(
    const char *text, size_t len, const struct conf_change *ch, size_t n, struct buf *out)
{
	struct ce_line *lines;
	size_t nl = ce_split(text, len, &lines);
	bool *done = xcalloc(n + 1, sizeof(bool));

	for (size_t i = 0; i < nl; i++) {
		const struct conf_change *c = NULL;
		size_t namelen, end = i;

		if (ce_kind(&lines[i]) == 1) {
			const char *name = ce_name(&lines[i], &namelen);

			c = ce_find(ch, n, name, namelen);
			end = ce_end(lines, nl, i);
		}
		if (c == NULL) {
			buf_append(out, lines[i].p, lines[i].len);
			buf_putc(out, '\n');
			continue;
		}
		if (c->value && !done[c - ch])
			ce_put(out, c);
		done[c - ch] = true;
		i = end;
	}
	for (size_t i = 0; i < n; i++) {
		if (done[i] || ch[i].value == NULL ||
		    ce_find(ch, n, ch[i].name, strlen(ch[i].name)) != &ch[i])
			continue;
		ce_put(out, &ch[i]);
	}
	free(done);
	free(lines);
}

int conf_edit_file(const char *path, const struct conf_change *ch, size_t n, struct buf *err)
{
	struct buf old = BUF_INIT, text = BUF_INIT;
	int rc;

	if (file_read_all(path, &old) < 0) {
		buf_printf(err, "cannot read %s: %s", path, strerror(errno));
		buf_free(&old);
		return -1;
	}
	conf_edit_text(old.data ? old.data : "", old.len, ch, n, &text);
	rc = file_replace(path, text.data ? text.data : "", text.len, 0644, err);
	buf_free(&old);
	buf_free(&text);
	return rc;
}
