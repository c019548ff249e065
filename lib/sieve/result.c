/*
 * sieve/result.c - the action list of one run (RFC 5228 sections 2.10, 4).
 *
 * Actions accumulate while the script runs and are carried out by the
 * caller only when it has finished without error.  Rules:
 *   - a second fileinto of the same folder (keep is fileinto of the
 *     default mailbox) or redirect to the same address is one action;
 *     its flags are the union;
 *   - keep, fileinto and redirect without :copy, discard and reject
 *     cancel the implicit keep;
 *   - reject/ereject cannot go with a delivery or another response
 *     (keep, fileinto, redirect, vacation, a second reject): run-time
 *     error, as in Pigeonhole;
 *   - at most SIEVE_MAX_ACTIONS actions and SIEVE_MAX_REDIRECTS
 *     redirects.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"
#include "util.h"

void sv_result_error(struct sieve_result *res, int line, const char *fmt, ...)
{
	va_list ap;

	res->failed = true;
	buf_printf(&res->errors, "line %d: error: ", line);
	va_start(ap, fmt);
	buf_vprintf(&res->errors, fmt, ap);
	va_end(ap);
	buf_puts(&res->errors, ".\n");
}

void sv_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

char **sv_flags_copy(char *const *flags)
{
	size_t n = 0;
	char **v;

	if (flags == NULL)
		return NULL;
	while (flags[n])
		n++;
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(flags[i]);
	return v;
}

/* Adds the flags of add missing from *into (case-insensitively). */
static void sv_flags_union(char ***into, char *const *add)
{
	size_t n = 0;

	if (add == NULL)
		return;
	if (*into == NULL)
		*into = xcalloc(1, sizeof(char *));
	while ((*into)[n])
		n++;
	for (size_t i = 0; add[i]; i++) {
		bool have = false;

		for (size_t j = 0; j < n && !have; j++)
			have = strcasecmp((*into)[j], add[i]) == 0;
		if (have)
			continue;
		*into = xreallocarray(*into, n + 2, sizeof(char *));
		(*into)[n++] = xstrdup(add[i]);
		(*into)[n] = NULL;
	}
}

static bool sv_is_store(enum sieve_action_type t)
{
	return t == SIEVE_ACT_KEEP || t == SIEVE_ACT_FILEINTO;
}

static bool sv_is_reject(enum sieve_action_type t)
{
	return t == SIEVE_ACT_REJECT || t == SIEVE_ACT_EREJECT;
}

/* The folder a store action means (keep: INBOX). */
static const char *sv_store_folder(const struct sieve_action *a)
{
	return a->type == SIEVE_ACT_KEEP ? "INBOX" : a->target;
}

static bool sv_conflicts(const struct sieve_result *res, const struct sv_action_req *a)
{
	for (size_t i = 0; i < res->nactions; i++) {
		enum sieve_action_type t = res->actions[i].type;

		if (sv_is_reject(a->type) &&
		    (sv_is_reject(t) || sv_is_store(t) || t == SIEVE_ACT_REDIRECT ||
			t == SIEVE_ACT_VACATION))
			return true;
		if (sv_is_reject(t) && (sv_is_store(a->type) || a->type == SIEVE_ACT_REDIRECT ||
					   a->type == SIEVE_ACT_VACATION))
			return true;
	}
	return false;
}

static const char *sv_act_name(enum sieve_action_type t)
{
	switch (t) {
	case SIEVE_ACT_KEEP: return "keep";
	case SIEVE_ACT_FILEINTO: return "fileinto";
	case SIEVE_ACT_REDIRECT: return "redirect";
	case SIEVE_ACT_DISCARD: return "discard";
	case SIEVE_ACT_REJECT: return "reject";
	case SIEVE_ACT_EREJECT: return "ereject";
	case SIEVE_ACT_NOTIFY: return "notify";
	default: return "vacation";
	}
}

bool sv_result_add(struct sieve_result *res, const struct sv_action_req *a)
{
	size_t nredir = 0;

	if (sv_conflicts(res, a)) {
		sv_result_error(
		    res, a->line, "%s action conflicts with other action", sv_act_name(a->type));
		return false;
	}
	if (a->type == SIEVE_ACT_DISCARD || sv_is_reject(a->type) || !a->copy)
		if (a->type != SIEVE_ACT_VACATION && a->type != SIEVE_ACT_NOTIFY)
			res->implicit_keep = false;
	for (size_t i = 0; i < res->nactions; i++) {
		struct sieve_action *o = &res->actions[i];

		if (o->type == SIEVE_ACT_REDIRECT)
			nredir++;
		if ((sv_is_store(o->type) && sv_is_store(a->type) &&
			strcmp(sv_store_folder(o),
			    a->type == SIEVE_ACT_KEEP ? "INBOX" : a->target) == 0) ||
		    (o->type == SIEVE_ACT_REDIRECT && a->type == SIEVE_ACT_REDIRECT &&
			strcasecmp(o->target, a->target) == 0) ||
		    (o->type == SIEVE_ACT_DISCARD && a->type == SIEVE_ACT_DISCARD)) {
			sv_flags_union(&o->flags, a->flags);
			o->copy = o->copy && a->copy;
			o->create = o->create || a->create;
			return true;
		}
	}
	if (res->nactions >= SIEVE_MAX_ACTIONS) {
		sv_result_error(res, a->line, "total number of actions exceeds policy limit (%d)",
		    SIEVE_MAX_ACTIONS);
		return false;
	}
	if (a->type == SIEVE_ACT_REDIRECT && nredir >= SIEVE_MAX_REDIRECTS) {
		sv_result_error(res, a->line,
		    "number of redirect actions exceeds policy limit (%d)", SIEVE_MAX_REDIRECTS);
		return false;
	}
	res->actions = xreallocarray(res->actions, res->nactions + 1, sizeof(*res->actions));
	struct sieve_action *n = &res->actions[res->nactions++];

	memset(n, 0, sizeof(*n));
	n->type = a->type;
	n->target = a->target ? xstrdup(a->target) : NULL;
	n->flags = sv_flags_copy(a->flags);
	n->copy = a->copy;
	n->create = a->create;
	return true;
}

void sieve_result_free(struct sieve_result *res)
{
	for (size_t i = 0; i < res->nactions; i++) {
		struct sieve_action *a = &res->actions[i];

		free(a->target);
		sv_strv_free(a->flags);
		free(a->to);
		free(a->subject);
		free(a->from);
		free(a->handle);
		free(a->track_id);
	}
	free(res->actions);
	sv_strv_free(res->keep_flags);
	free(res->header);
	buf_free(&res->errors);
	for (size_t i = 0; i < res->ntrack; i++)
		free(res->track_ids[i]);
	free(res->track_ids);
	free(res->track_secs);
	memset(res, 0, sizeof(*res));
}

static void sv_format_flags(char *const *flags, struct buf *out)
{
	if (flags == NULL || flags[0] == NULL)
		return;
	buf_puts(out, " flags=");
	for (size_t i = 0; flags[i]; i++) {
		if (i)
			buf_putc(out, ' ');
		buf_puts(out, flags[i]);
	}
}

/* Text for one line: control characters (the CRLF of a multi-line
 * string) shown as '?', as sieve-test shows them. */
static void sv_format_text(const char *s, struct buf *out)
{
	for (; s && *s; s++)
		buf_putc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* "notify importance=N subject=S from=F to=A,B cc=C": the subject is
 * :message or the URI's, as sieve-test shows it. */
static void sv_format_notify(const struct sieve_action *a, struct buf *out)
{
	struct sieve_mailto m;
	const char *sep[2] = {"", ""};

	buf_printf(out, "notify importance=%d", a->importance);
	if (!sieve_mailto_parse(a->target, &m, NULL))
		memset(&m, 0, sizeof(m));
	if (a->subject || m.subject) {
		buf_puts(out, " subject=");
		sv_format_text(a->subject ? a->subject : m.subject, out);
	}
	if (a->from) {
		buf_puts(out, " from=");
		sv_format_text(a->from, out);
	}
	for (int cc = 0; cc < 2; cc++) {
		for (size_t i = 0; i < m.nrcpts; i++) {
			if (m.cc[i] != cc)
				continue;
			buf_puts(out, *sep[cc] ? sep[cc] : cc ? " cc=" : " to=");
			sep[cc] = ",";
			buf_puts(out, m.rcpts[i]);
		}
	}
	if (a->suppressed)
		buf_printf(out, " suppressed=%s", a->suppressed);
	sieve_mailto_free(&m);
}

void sieve_result_format(const struct sieve_result *res, struct buf *out)
{
	if (res->failed) {
		buf_puts(out, "error\n");
		buf_puts(out, "implicit-keep\n");
		return;
	}
	for (size_t i = 0; i < res->nactions; i++) {
		const struct sieve_action *a = &res->actions[i];

		switch (a->type) {
		case SIEVE_ACT_KEEP:
		case SIEVE_ACT_FILEINTO:
			buf_puts(out, "store ");
			sv_format_text(sv_store_folder(a), out);
			sv_format_flags(a->flags, out);
			break;
		case SIEVE_ACT_REDIRECT:
			buf_puts(out, "redirect ");
			sv_format_text(a->target, out);
			break;
		case SIEVE_ACT_DISCARD: buf_puts(out, "discard"); break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			buf_puts(out, "reject ");
			sv_format_text(a->target, out);
			break;
		case SIEVE_ACT_VACATION:
			buf_printf(out, "vacation to=%s seconds=%ld subject=", a->to, a->seconds);
			sv_format_text(a->subject, out);
			break;
		case SIEVE_ACT_NOTIFY: sv_format_notify(a, out); break;
		}
		if (a->copy)
			buf_puts(out, " copy");
		buf_putc(out, '\n');
	}
	if (res->implicit_keep) {
		buf_puts(out, "implicit-keep");
		sv_format_flags(res->keep_flags, out);
		buf_putc(out, '\n');
	}
}
