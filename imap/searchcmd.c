/*
 * searchcmd.c - SEARCH (ESEARCH, SEARCHRES), SORT and THREAD (RFC 5256)
 * over search.h and sort.h, run in slices.
 *
 * One imap process serves every session of its user, so a command that
 * reads every message of a big folder must not hold the process: the
 * search is a continuation (imap.h) that matches at most SLICE_MSGS
 * messages or reads SLICE_BYTES of message text, then yields
 * (imap_client_yield) and is resumed from the event loop, after the
 * other sessions' commands and IDLE notifications of that round.  SORT
 * and THREAD then gather their keys the same way, in slices.  The
 * session's own input is not read meanwhile, so its commands stay in
 * order; its view is not synced before the tagged reply, so sequence
 * numbers do not move under the search.
 *
 * Memory: the search keys, one UID per matching message (4 bytes),
 * for SORT/THREAD one key record per match, and one message's header
 * or MIME tree at a time (search.h reads the text in a stream).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "mime/header.h"
#include "mstore/msg_hdr.h"
#include "search.h"
#include "sort.h"
#include "util.h"

#define SLICE_MSGS 256
#define SLICE_BYTES (1024 * 1024)
#define SLICE_SORT_MSGS 128

enum search_kind { SEARCH_KIND_SEARCH, SEARCH_KIND_SORT, SEARCH_KIND_THREAD };

struct search_job {
	enum search_kind kind;
	bool uid, modseq;
	struct imap_search search; /* SEARCH's */
	struct imap_sort sort;
	struct imap_thread thread;
	struct imap_search *s; /* the one of the three in use */
	struct imap_search_env env;

	uint32_t count, next_seq; /* matching: seq next_seq..count left */
	uint32_t *uids;		  /* matches, ascending */
	size_t n, cap;
	uint64_t max_modseq;
	uint64_t slice_read;	       /* message bytes read in this slice */
	struct mstore_hdrs *hdrs;      /* header-only keys: their fields */
	struct mstore_hdrs *sort_hdrs; /* SORT/THREAD: Subject, References... */

	struct imap_sort_msg *v; /* SORT/THREAD keys, filled up to vi */
	size_t vi;
};

struct search_msg_ctx {
	struct imap_client *c;
	struct search_job *job;
	struct mstore_msg m;
	int fd;
};

static bool search_has_flag(void *ctx, const char *flag)
{
	static const char *const sys[] = {
	    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"};
	struct search_msg_ctx *s = ctx;
	int kw;

	for (unsigned i = 0; i < 6; i++)
		if (str_case_eq(flag, sys[i]))
			return (s->m.flags & (1u << i)) != 0;
	kw = mstore_view_keyword_index(s->c->view, flag);
	return kw >= 0 && (s->m.keywords & (1u << kw));
}

static ssize_t search_read(void *ctx, uint64_t offset, char *buf, size_t n)
{
	struct search_msg_ctx *s = ctx;
	ssize_t r;

	if (s->fd == -1)
		s->fd = mstore_view_open_msg(s->c->view, s->m.uid);
	if (s->fd < 0) {
		s->fd = -2;
		return -1;
	}
	r = pread(s->fd, buf, n, (off_t)offset);
	if (r > 0)
		s->job->slice_read += (uint64_t)r;
	return r;
}

static int search_headers(void *ctx, const char *const *names, size_t n, struct buf *out)
{
	struct search_msg_ctx *s = ctx;
	struct search_job *j = s->job;

	if (j->hdrs && !mstore_hdrs_same(j->hdrs, names, n)) {
		mstore_hdrs_free(j->hdrs);
		j->hdrs = NULL;
	}
	if (j->hdrs == NULL)
		j->hdrs = mstore_hdrs_new(names, n);
	return mstore_msg_headers(s->c->view, j->hdrs, s->m.uid, out);
}

static void job_free(void *ctx)
{
	struct search_job *j = ctx;

	mstore_hdrs_free(j->hdrs);
	mstore_hdrs_free(j->sort_hdrs);

	if (j->v) {
		for (size_t i = 0; i < j->vi; i++)
			imap_sort_msg_free(&j->v[i]);
		free(j->v);
	}
	free(j->uids);
	imap_search_free(j->s);
	free(j);
}

/* Prepares the keys; false after a NO. */
static bool job_start(struct imap_client *c, struct search_job *j)
{
	const char *err;

	j->count = mstore_view_count(c->view);
	j->next_seq = 1;
	j->env.max_seq = j->count;
	j->env.max_uid = j->count ? mstore_view_uid(c->view, j->count) : 0;
	j->env.now = time(NULL);
	j->env.saved = c->saved_valid ? &c->saved : NULL;
	if (imap_search_uses_saved(j->s) && !c->saved_valid) {
		/* RFC 5182 2.1: "$" without a saved result is empty. */
		static const struct imap_seqset empty;

		j->env.saved = &empty;
	}
	if (!imap_search_prepare(j->s, &j->env, &err)) {
		imap_reply(c, c->tag, "NO", "%s", err);
		return false;
	}
	return true;
}

static void job_match_one(struct imap_client *c, struct search_job *j, uint32_t seq)
{
	struct search_msg_ctx sc = {c, j, {0}, -1};
	struct imap_search_msg m;
	time_t saved;
	uint64_t size = 0;

	if (mstore_view_msg(c->view, seq, &sc.m) < 0 || sc.m.expunged)
		return;
	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.uid = sc.m.uid;
	m.modseq = sc.m.modseq;
	mstore_view_dates(c->view, m.uid, &m.internaldate, &saved);
	mstore_view_sizes(c->view, m.uid, &size, &m.size);
	m.has_flag = search_has_flag;
	m.read = search_read;
	m.headers = search_headers;
	m.ctx = &sc;
	if (imap_search_match(j->s, &j->env, &m)) {
		if (j->n == j->cap)
			j->uids = xreallocarray(
			    j->uids, j->cap = j->cap ? j->cap * 2 : 64, sizeof(uint32_t));
		j->uids[j->n++] = m.uid;
		if (m.modseq > j->max_modseq)
			j->max_modseq = m.modseq;
	}
	if (sc.fd >= 0)
		close(sc.fd);
}

/* One slice of matching; true when every message was looked at. */
static bool job_match_slice(struct imap_client *c, struct search_job *j)
{
	unsigned done = 0;

	j->slice_read = 0;
	while (j->next_seq <= j->count) {
		if (done >= SLICE_MSGS || j->slice_read >= SLICE_BYTES)
			return false;
		job_match_one(c, j, j->next_seq++);
		done++;
	}
	return true;
}

static bool search_has_modseq(const struct imap_search_node *n)
{
	for (; n; n = n->next)
		if (n->key == IMAP_SK_MODSEQ || search_has_modseq(n->child))
			return true;
	return false;
}

/* ---- SEARCH's answer ---- */

static void search_answer(struct imap_client *c, struct search_job *j)
{
	struct imap_search *s = j->s;
	uint32_t *uids = j->uids;
	size_t n = j->n;

	if (s->ret & IMAP_SEARCH_RETURN_SAVE) {
		imap_seqset_free(&c->saved);
		memset(&c->saved, 0, sizeof(c->saved));
		c->saved.v = xcalloc(n + 1, sizeof(*c->saved.v));
		for (size_t i = 0; i < n; i++)
			c->saved.v[c->saved.n++] = (struct imap_seq_range){uids[i], uids[i]};
		c->saved_valid = true;
	}
	if (!j->uid)
		for (size_t i = 0; i < n; i++)
			uids[i] = mstore_view_seq(c->view, uids[i]);
	if (s->esearch) {
		unsigned r = s->ret & ~(unsigned)IMAP_SEARCH_RETURN_SAVE;

		if (s->ret == IMAP_SEARCH_RETURN_SAVE)
			r = 0;
		buf_printf(&c->out, "* ESEARCH (TAG \"%s\")%s", c->tag, j->uid ? " UID" : "");
		if ((r & IMAP_SEARCH_RETURN_MIN) && n)
			buf_printf(&c->out, " MIN %u", uids[0]);
		if ((r & IMAP_SEARCH_RETURN_MAX) && n)
			buf_printf(&c->out, " MAX %u", uids[n - 1]);
		if (r & IMAP_SEARCH_RETURN_COUNT)
			buf_printf(&c->out, " COUNT %zu", n);
		if ((r & IMAP_SEARCH_RETURN_ALL) && n) {
			buf_puts(&c->out, " ALL ");
			imap_write_uidset(&c->out, uids, n);
		}
		if (j->modseq && n && r)
			buf_printf(&c->out, " MODSEQ %llu", (unsigned long long)j->max_modseq);
		buf_puts(&c->out, "\r\n");
	} else {
		buf_puts(&c->out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(&c->out, " %u", uids[i]);
		if (j->modseq && n)
			buf_printf(&c->out, " (MODSEQ %llu)", (unsigned long long)j->max_modseq);
		buf_puts(&c->out, "\r\n");
	}
	imap_reply(c, c->tag, "OK", "Search completed.");
}

/* ---- SORT and THREAD keys ---- */

/* The header fields SORT and THREAD read from the file: the first
 * Subject (Dovecot sorts by it, while ENVELOPE shows the last one) and
 * References, else In-Reply-To. */
struct sort_hdrs {
	struct buf subject, refs;
	bool has_subject;
};

static void msg_sort_hdrs(struct imap_client *c, struct search_job *j, uint32_t uid,
    const struct mime_part *root, struct sort_hdrs *h)
{
	static const char *const names[] = {"Subject", "References", "In-Reply-To"};
	struct buf fields = BUF_INIT;

	if (j->sort_hdrs == NULL)
		j->sort_hdrs = mstore_hdrs_new(names, 3);
	if (mstore_msg_headers(c->view, j->sort_hdrs, uid, &fields) == 0) {
		const char *t = fields.data ? fields.data : "";

		h->has_subject = mime_hdr_find(t, fields.len, "Subject", &h->subject);
		if (!mime_hdr_find(t, fields.len, "References", &h->refs))
			mime_hdr_find(t, fields.len, "In-Reply-To", &h->refs);
		buf_free(&fields);
		return;
	}
	buf_free(&fields);
	/* A header too big for the cache: read it here. */
	size_t len = root->hdr.physical < 1024 * 1024 ? (size_t)root->hdr.physical : 1024 * 1024;
	char *hdr = xmalloc(len + 1);
	int fd = mstore_view_open_msg(c->view, uid);
	ssize_t r = fd >= 0 ? pread(fd, hdr, len, 0) : -1;

	if (fd >= 0)
		close(fd);
	if (r > 0) {
		h->has_subject = mime_hdr_find(hdr, (size_t)r, "Subject", &h->subject);
		if (!mime_hdr_find(hdr, (size_t)r, "References", &h->refs))
			mime_hdr_find(hdr, (size_t)r, "In-Reply-To", &h->refs);
	}
	free(hdr);
}

static void sort_msg_one(struct imap_client *c, struct search_job *j, struct imap_sort_msg *v)
{
	uint32_t uid = j->uids[j->vi];
	struct mime_part *root = imap_msg_mime(c, uid);
	uint32_t seq = mstore_view_seq(c->view, uid);
	time_t arrival = 0, saved;
	uint64_t size = 0, vsize = 0;
	struct sort_hdrs h = {BUF_INIT, BUF_INIT, false};
	struct mime_envelope *env = root ? root->envelope : NULL;
	char *last_subject = env ? env->subject : NULL;

	mstore_view_dates(c->view, uid, &arrival, &saved);
	mstore_view_sizes(c->view, uid, &size, &vsize);
	if (root)
		msg_sort_hdrs(c, j, uid, root, &h);
	if (env && h.has_subject)
		env->subject = (char *)buf_cstr(&h.subject);
	imap_sort_msg_fill(
	    v, env, h.refs.len ? h.refs.data : NULL, j->uid ? uid : seq, seq, arrival, vsize);
	if (env)
		env->subject = last_subject;
	/* Dovecot keeps dates as 32 unsigned bits: one before 1970 sorts
	 * after every other. */
	if (v->date < 0)
		v->date = (time_t)(uint32_t)v->date;
	buf_free(&h.subject);
	buf_free(&h.refs);
	if (root)
		mime_part_free(root);
}

/* One slice of key gathering; true when every match has its keys. */
static bool job_sort_slice(struct imap_client *c, struct search_job *j)
{
	unsigned done = 0;

	if (j->v == NULL)
		j->v = xcalloc(j->n + 1, sizeof(*j->v));
	while (j->vi < j->n) {
		if (done++ >= SLICE_SORT_MSGS)
			return false;
		sort_msg_one(c, j, &j->v[j->vi]);
		j->vi++;
	}
	return true;
}

static void sort_answer(struct imap_client *c, struct search_job *j)
{
	if (j->kind == SEARCH_KIND_SORT) {
		imap_sort(j->v, j->n, j->sort.crit, j->sort.ncrit);
		buf_puts(&c->out, "* SORT");
		for (size_t i = 0; i < j->n; i++)
			buf_printf(&c->out, " %u", j->v[i].id);
		buf_puts(&c->out, "\r\n");
		imap_reply(c, c->tag, "OK", "Sort completed.");
		return;
	}
	buf_puts(&c->out, j->n ? "* THREAD " : "* THREAD");
	imap_thread(j->v, j->n, j->thread.alg, &c->out);
	buf_puts(&c->out, "\r\n");
	imap_reply(c, c->tag, "OK", "Thread completed.");
}

/* ---- the continuation ---- */

static bool job_cont(struct imap_client *c)
{
	struct search_job *j = c->cont_ctx;

	if (!job_match_slice(c, j)) {
		imap_client_yield(c);
		return false;
	}
	if (j->kind == SEARCH_KIND_SEARCH) {
		search_answer(c, j);
		return true;
	}
	if (!job_sort_slice(c, j)) {
		imap_client_yield(c);
		return false;
	}
	sort_answer(c, j);
	return true;
}

static void job_run(struct imap_client *c, struct search_job *j)
{
	if (!job_start(c, j)) {
		job_free(j);
		return;
	}
	c->cont = job_cont;
	c->cont_ctx = j;
	c->cont_free = job_free;
}

void imap_cmd_search(struct imap_client *c, const struct imap_command *cmd)
{
	struct search_job *j = xcalloc(1, sizeof(*j));
	const char *err;

	j->kind = SEARCH_KIND_SEARCH;
	j->uid = strncmp(cmd->name, "UID ", 4) == 0;
	j->s = &j->search;
	if (!imap_search_parse(cmd->args, cmd->count, true, &j->search, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		free(j);
		return;
	}
	j->modseq = search_has_modseq(j->search.root);
	if (j->modseq)
		c->condstore_seen = true;
	job_run(c, j);
}

void imap_cmd_sort(struct imap_client *c, const struct imap_command *cmd)
{
	struct search_job *j = xcalloc(1, sizeof(*j));
	const char *err;

	j->kind = SEARCH_KIND_SORT;
	j->uid = strncmp(cmd->name, "UID ", 4) == 0;
	j->s = &j->sort.search;
	if (!imap_sort_parse(cmd->args, cmd->count, &j->sort, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		free(j);
		return;
	}
	job_run(c, j);
}

void imap_cmd_thread(struct imap_client *c, const struct imap_command *cmd)
{
	struct search_job *j = xcalloc(1, sizeof(*j));
	const char *err;

	j->kind = SEARCH_KIND_THREAD;
	j->uid = strncmp(cmd->name, "UID ", 4) == 0;
	j->s = &j->thread.search;
	if (!imap_thread_parse(cmd->args, cmd->count, &j->thread, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		free(j);
		return;
	}
	job_run(c, j);
}
