/*
 * imap/args_misc.c - the smaller grammars (imap/args.h): flags and STORE,
 * STATUS, SELECT/EXAMINE with CONDSTORE/QRESYNC, ENABLE, ID, COMPRESS,
 * quota commands, AUTHENTICATE with SASL-IR, IDLE's DONE.
 */
#include "args.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "write.h"

#define FLAGS_MAX 1000
#define ID_MAX_PAIRS 30
#define ID_MAX_KEY 30
#define ID_MAX_VALUE 1024

static bool number_arg(const struct imap_arg *a, uint64_t max, uint64_t *v)
{
	const char *p;

	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return false;
	*v = 0;
	for (p = a->str; *p; p++) {
		if (!isdigit((unsigned char)*p) || *v > (max - (uint64_t)(*p - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return true;
}

static char *string_arg(const struct imap_arg *a)
{
	const char *s;
	size_t len;

	if (!imap_arg_string(a, &s, &len))
		return NULL;
	return xmemdup(s, len);
}

bool imap_no_args(size_t n, const char **err)
{
	*err = "Unexpected arguments";
	return n == 0;
}

/* ---------------------------------------------------------------- flags */

bool imap_flag_valid(const char *flag)
{
	static const char *const system[] = {
	    "\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"};
	const char *p = flag;

	if (*p == '\\') {
		for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
			if (strcasecmp(flag, system[i]) == 0)
				return true;
		return false; /* \Recent, \* and unknown extensions are not set by clients */
	}
	if (*p == 0)
		return false;
	for (; *p; p++)
		if (!imap_is_atom_char((unsigned char)*p))
			return false;
	return true;
}

char **imap_flags_parse(const struct imap_arg *args, size_t n, const char **err)
{
	const struct imap_arg *list = args;
	char **v;
	size_t k = 0;

	*err = "Invalid flags";
	if (n == 1 && args[0].type == IMAP_ARG_LIST) {
		list = args[0].list;
		n = args[0].count;
	}
	if (n > FLAGS_MAX)
		return NULL;
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (list[i].type != IMAP_ARG_ATOM || !imap_flag_valid(list[i].str)) {
			strv_free(v);
			return NULL;
		}
		v[k++] = xstrdup(list[i].str);
	}
	return v;
}

/* ---------------------------------------------------------------- STORE */

bool imap_store_parse(
    const struct imap_arg *args, size_t n, struct imap_store *out, const char **err)
{
	size_t i = 0;
	const char *item;

	memset(out, 0, sizeof(*out));
	*err = "Invalid STORE arguments";
	if (n > 0 && args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = &args[0];

		/* (UNCHANGEDSINCE n) */
		if (m->count != 2 || !imap_arg_is_atom(&m->list[0], "UNCHANGEDSINCE") ||
		    !number_arg(&m->list[1], UINT64_MAX, &out->unchangedsince))
			return false;
		out->unchangedsince_set = true;
		i++;
	}
	if (i + 2 > n || args[i].type != IMAP_ARG_ATOM)
		return false;
	item = args[i].str;
	if (*item == '+' || *item == '-') {
		out->op = *item == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		item++;
	}
	if (strcasecmp(item, "FLAGS.SILENT") == 0)
		out->silent = true;
	else if (strcasecmp(item, "FLAGS") != 0)
		return false;
	out->flags = imap_flags_parse(args + i + 1, n - i - 1, err);
	return out->flags != NULL;
}

void imap_store_free(struct imap_store *s)
{
	if (s->flags)
		strv_free(s->flags);
	s->flags = NULL;
}

/* --------------------------------------------------------------- STATUS */

bool imap_status_items_parse(const struct imap_arg *list, unsigned *items, const char **err)
{
	static const char *const names[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
	    "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT"};

	*err = "Invalid status items";
	*items = 0;
	if (list->type != IMAP_ARG_LIST || list->count == 0)
		return false;
	for (size_t i = 0; i < list->count; i++) {
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (imap_arg_is_atom(&list->list[i], names[k]))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return false;
		*items |= 1u << k;
	}
	return true;
}

bool imap_status_parse(
    const struct imap_arg *args, size_t n, char **mailbox, unsigned *items, const char **err)
{
	*mailbox = NULL;
	*err = "Invalid STATUS arguments";
	if (n != 2 || (*mailbox = string_arg(&args[0])) == NULL)
		return false;
	if (!imap_status_items_parse(&args[1], items, err)) {
		free(*mailbox);
		*mailbox = NULL;
		return false;
	}
	return true;
}

/* -------------------------------------------------------- SELECT/EXAMINE */

/* QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]) */
static bool select_qresync(const struct imap_arg *l, struct imap_select *s, const char **err)
{
	uint64_t v;

	if (l->type != IMAP_ARG_LIST || l->count < 2 || l->count > 4)
		return false;
	if (!number_arg(&l->list[0], UINT32_MAX, &v) || v == 0)
		return false;
	s->uidvalidity = (uint32_t)v;
	if (!number_arg(&l->list[1], UINT64_MAX, &s->modseq) || s->modseq == 0)
		return false;
	size_t i = 2;
	if (i < l->count && l->list[i].type == IMAP_ARG_ATOM) {
		if (!imap_seqset_parse(l->list[i].str, false, &s->known_uids, err))
			return false;
		s->known_uids_set = true;
		i++;
	}
	if (i < l->count) {
		const struct imap_arg *m = &l->list[i];

		if (m->type != IMAP_ARG_LIST || m->count != 2 || m->list[0].type != IMAP_ARG_ATOM ||
		    m->list[1].type != IMAP_ARG_ATOM)
			return false;
		if (!imap_seqset_parse(m->list[0].str, false, &s->match_seqs, err))
			return false;
		if (!imap_seqset_parse(m->list[1].str, false, &s->match_uids, err))
			return false;
		s->seq_match_set = true;
		i++;
	}
	return i == l->count;
}

bool imap_select_parse(
    const struct imap_arg *args, size_t n, struct imap_select *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	*err = "Invalid SELECT arguments";
	if (n < 1 || n > 2 || (out->mailbox = string_arg(&args[0])) == NULL)
		goto bad;
	if (n == 2) {
		const struct imap_arg *l = &args[1];

		if (l->type != IMAP_ARG_LIST)
			goto bad;
		for (size_t i = 0; i < l->count; i++) {
			if (imap_arg_is_atom(&l->list[i], "CONDSTORE") && !out->condstore) {
				out->condstore = true;
			} else if (imap_arg_is_atom(&l->list[i], "QRESYNC") && !out->qresync &&
				   i + 1 < l->count) {
				out->qresync = true;
				if (!select_qresync(&l->list[++i], out, err)) {
					*err = "Invalid QRESYNC parameters";
					goto bad;
				}
			} else {
				*err = "Unknown SELECT parameter";
				goto bad;
			}
		}
	}
	return true;
bad:
	imap_select_free(out);
	return false;
}

void imap_select_free(struct imap_select *s)
{
	free(s->mailbox);
	s->mailbox = NULL;
	imap_seqset_free(&s->known_uids);
	imap_seqset_free(&s->match_seqs);
	imap_seqset_free(&s->match_uids);
}

/* ---------------------------------------------------------- small ones */

char **imap_enable_parse(const struct imap_arg *args, size_t n, const char **err)
{
	char **v;

	*err = "Invalid ENABLE arguments";
	if (n == 0 || n > 100)
		return NULL;
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (args[i].type != IMAP_ARG_ATOM) {
			strv_free(v);
			return NULL;
		}
		v[i] = xstrdup(args[i].str);
		for (char *p = v[i]; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	return v;
}

bool imap_id_parse(const struct imap_arg *args, size_t n, char ***pairs, const char **err)
{
	const struct imap_arg *l;
	char **v;

	*pairs = NULL;
	*err = "Invalid ID arguments";
	if (n != 1)
		return false;
	if (args[0].type == IMAP_ARG_NIL)
		return true;
	l = &args[0];
	if (l->type != IMAP_ARG_LIST || l->count % 2 != 0 || l->count / 2 > ID_MAX_PAIRS)
		return false;
	v = xcalloc(l->count + 1, sizeof(char *));
	for (size_t i = 0; i < l->count; i += 2) {
		const struct imap_arg *k = &l->list[i], *val = &l->list[i + 1];

		if (k->type != IMAP_ARG_STRING && k->type != IMAP_ARG_LITERAL)
			goto bad;
		if (k->len > ID_MAX_KEY)
			goto bad;
		v[i] = xmemdup(k->str, k->len);
		if (val->type == IMAP_ARG_NIL) {
			v[i + 1] = xstrdup(""); /* NIL value: kept as empty */
			continue;
		}
		if ((val->type != IMAP_ARG_STRING && val->type != IMAP_ARG_LITERAL) ||
		    val->len > ID_MAX_VALUE)
			goto bad;
		v[i + 1] = xmemdup(val->str, val->len);
	}
	*pairs = v;
	return true;
bad:
	for (size_t i = 0; i < l->count; i++)
		free(v[i]);
	free(v);
	return false;
}

bool imap_compress_parse(const struct imap_arg *args, size_t n, const char **err)
{
	*err = "Unknown compression mechanism";
	return n == 1 && imap_arg_is_atom(&args[0], "DEFLATE");
}

bool imap_astring_arg(const struct imap_arg *args, size_t n, char **out, const char **err)
{
	*err = "Invalid arguments";
	*out = n == 1 ? string_arg(&args[0]) : NULL;
	return *out != NULL;
}

bool imap_setquota_parse(const struct imap_arg *args, size_t n, char **root,
    struct imap_quota_limit **limits, size_t *nlimits, const char **err)
{
	const struct imap_arg *l;

	*err = "Invalid SETQUOTA arguments";
	*limits = NULL;
	*nlimits = 0;
	if (n != 2 || (*root = string_arg(&args[0])) == NULL)
		return false;
	l = &args[1];
	if (l->type != IMAP_ARG_LIST || l->count % 2 != 0 || l->count > 64)
		goto bad;
	*limits = xcalloc(l->count / 2 + 1, sizeof(**limits));
	for (size_t i = 0; i < l->count; i += 2) {
		struct imap_quota_limit *q = &(*limits)[i / 2];

		if (l->list[i].type != IMAP_ARG_ATOM ||
		    !number_arg(&l->list[i + 1], UINT64_MAX, &q->limit))
			goto bad;
		q->resource = xstrdup(l->list[i].str);
		for (char *p = q->resource; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		(*nlimits)++;
	}
	return true;
bad:
	for (size_t i = 0; i < *nlimits; i++)
		free((*limits)[i].resource);
	free(*limits);
	free(*root);
	*limits = NULL;
	*root = NULL;
	*nlimits = 0;
	return false;
}

bool imap_authenticate_parse(
    const struct imap_arg *args, size_t n, char **mech, char **ir, size_t *ir_len, const char **err)
{
	*mech = *ir = NULL;
	*ir_len = 0;
	*err = "Invalid AUTHENTICATE arguments";
	if (n < 1 || n > 2 || args[0].type != IMAP_ARG_ATOM)
		return false;
	if (n == 2) {
		if (args[1].type != IMAP_ARG_ATOM)
			return false;
		/* RFC 4959: "=" is an empty initial response; else base64. */
		for (const char *p = args[1].str; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' && *p != '=')
				return false;
		*ir = strcmp(args[1].str, "=") == 0 ? xstrdup("") : xstrdup(args[1].str);
		*ir_len = strlen(*ir);
	}
	*mech = xstrdup(args[0].str);
	for (char *p = *mech; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return true;
}

bool imap_idle_done(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	return len == 4 && strncasecmp(line, "DONE", 4) == 0;
}
