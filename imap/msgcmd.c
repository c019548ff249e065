/*
 * msgcmd.c - the commands on the messages of the selected folder:
 * STORE (CONDSTORE's UNCHANGEDSINCE and MODIFIED), COPY and MOVE
 * (COPYUID of UIDPLUS, RFC 6851), EXPUNGE and UID EXPUNGE, SEARCH
 * (ESEARCH, SEARCHRES), SORT and THREAD (RFC 5256) over search.h and
 * sort.h.
 *
 * Durability: every change goes through the store, which makes it
 * durable before returning; the tagged OK is written after.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "log.h"
#include "mime/header.h"
#include "search.h"
#include "sort.h"
#include "util.h"

/* The set (args[0]) resolved to UIDs; false after a BAD. */
static bool msg_set(
    struct imap_client *c, const struct imap_command *cmd, bool uid, uint32_t **uids, size_t *n)
{
	struct imap_seqset set;
	const char *err;

	if (cmd->count < 1 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->args[0].str, true, &set, &err)) {
		imap_reply(c, cmd->tag, "BAD", "Invalid sequence set.");
		return false;
	}
	*uids = imap_set_uids(c, &set, uid, n);
	imap_seqset_free(&set);
	return true;
}

static bool is_uid(const struct imap_command *cmd)
{
	return strncmp(cmd->name, "UID ", 4) == 0;
}

/* ---- STORE ---- */

struct store_ctx {
	uint32_t *uids;
	size_t n, i;
	uint32_t *failed;
	size_t nfailed;
	bool silent, uidcmd, modseq;
};

static void store_free(void *ctx)
{
	struct store_ctx *x = ctx;

	free(x->uids);
	free(x->failed);
	free(x);
}

static bool store_cont(struct imap_client *c)
{
	struct store_ctx *x = c->cont_ctx;
	size_t f = 0;

	while (x->i < x->n && c->out.len < IMAP_OUT_HIGH) {
		struct mstore_msg m;
		uint32_t uid = x->uids[x->i++];

		while (f < x->nfailed && x->failed[f] < uid)
			f++;
		if ((f < x->nfailed && x->failed[f] == uid) ||
		    mstore_view_msg_uid(c->view, uid, &m) < 0 || m.expunged)
			continue;
		if (x->silent && !x->modseq)
			continue;
		buf_printf(&c->out, "* %u FETCH (", m.seq);
		if (x->uidcmd)
			buf_printf(&c->out, "UID %u ", uid);
		if (!x->silent) {
			buf_puts(&c->out, "FLAGS ");
			imap_write_flags(c, &c->out, &m);
		}
		if (x->modseq)
			buf_printf(&c->out, "%sMODSEQ (%llu)", x->silent ? "" : " ",
			    (unsigned long long)m.modseq);
		buf_puts(&c->out, ")\r\n");
	}
	if (x->i < x->n)
		return false;
	if (x->nfailed) {
		buf_printf(&c->out, "%s OK [MODIFIED ", c->tag);
		if (x->uidcmd) {
			imap_write_uidset(&c->out, x->failed, x->nfailed);
		} else {
			for (size_t i = 0; i < x->nfailed; i++)
				x->failed[i] = mstore_view_seq(c->view, x->failed[i]);
			imap_write_uidset(&c->out, x->failed, x->nfailed);
		}
		buf_puts(&c->out, "] Conditional store failed.\r\n");
		return true;
	}
	imap_reply(c, c->tag, "OK", "Store completed.");
	return true;
}

void imap_cmd_store(struct imap_client *c, const struct imap_command *cmd)
{
	struct store_ctx *x = xcalloc(1, sizeof(*x));
	struct imap_store st;
	struct mstore_store_req req;
	const char **kw = NULL;
	const char *err;

	x->uidcmd = is_uid(cmd);
	if (!msg_set(c, cmd, x->uidcmd, &x->uids, &x->n)) {
		free(x);
		return;
	}
	if (!imap_store_parse(cmd->args + 1, cmd->count - 1, &st, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		store_free(x);
		return;
	}
	if (c->readonly) {
		imap_reply(c, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		imap_store_free(&st);
		store_free(x);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.mode = st.op == IMAP_STORE_ADD	? MSTORE_STORE_ADD
		   : st.op == IMAP_STORE_REMOVE ? MSTORE_STORE_REMOVE
						: MSTORE_STORE_SET;
	req.flags = imap_flags_split(st.flags, &kw);
	req.keywords = kw;
	if (st.unchangedsince_set) {
		/* 0 is a real limit here: nothing has a modseq of 0. */
		req.unchangedsince = st.unchangedsince ? st.unchangedsince : 1;
		c->condstore_seen = true;
		if (st.unchangedsince == 0) {
			x->failed = (uint32_t *)(void *)xmemdup(x->uids, x->n * sizeof(uint32_t));
			x->nfailed = x->n;
		}
	}
	x->silent = st.silent;
	x->modseq = c->condstore_seen || (c->enabled & IMAP_EN_CONDSTORE);
	if (x->nfailed == 0 && x->n > 0 &&
	    mstore_view_store(c->view, x->uids, x->n, &req, &x->failed, &x->nfailed) < 0) {
		imap_reply_store_error(c, cmd->tag, "Store");
		free(kw);
		imap_store_free(&st);
		store_free(x);
		return;
	}
	free(kw);
	imap_store_free(&st);
	if (!x->silent) {
		free(c->own);
		c->own = (uint32_t *)(void *)xmemdup(x->uids, x->n * sizeof(uint32_t));
		c->nown = x->n;
	}
	c->cont = store_cont;
	c->cont_ctx = x;
	c->cont_free = store_free;
}

/* ---- COPY, MOVE ---- */

void imap_cmd_copy(struct imap_client *c, const struct imap_command *cmd)
{
	bool move = strstr(cmd->name, "MOVE") != NULL, uid = is_uid(cmd);
	uint32_t *uids = NULL, *dst = NULL, uv = 0;
	size_t n = 0, k = 0;
	const char *s;
	size_t len;
	char *dest;
	struct buf src = BUF_INIT, dset = BUF_INIT;

	if (cmd->count != 2 || !imap_arg_string(&cmd->args[1], &s, &len)) {
		imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
		return;
	}
	if (move && c->readonly) {
		imap_reply(c, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	struct mstore_status st;
	if ((dest = imap_mailbox_from_client(c, s)) == NULL ||
	    mstore_status(c->store, dest, &st, false) < 0) {
		imap_reply(c, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist: %s", s);
		free(dest);
		return;
	}
	if (!msg_set(c, cmd, uid, &uids, &n)) {
		free(dest);
		return;
	}
	if (n == 0) {
		imap_reply(c, cmd->tag, "OK", "No messages found.");
		free(dest);
		return;
	}
	dst = xcalloc(n, sizeof(*dst));
	if (mstore_view_copy(c->view, uids, n, dest, move, dst, &uv) < 0) {
		if (mstore_error(c->store) == MSTORE_ENOTFOUND)
			imap_reply(c, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist: %s", s);
		else
			imap_reply_store_error(c, cmd->tag, move ? "Move" : "Copy");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (dst[i] == 0)
			continue;
		uids[k] = uids[i];
		dst[k++] = dst[i];
	}
	/* COPYUID lists sets in the same order; written pairwise (no ranges
	 * across pairs) would be wrong if dst were not ascending: it is. */
	imap_write_uidset(&src, uids, k);
	imap_write_uidset(&dset, dst, k);
	if (k == 0) {
		imap_reply(c, cmd->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged.");
	} else if (move) {
		imap_untagged(c, "OK [COPYUID %u %s %s] Moved UIDs.", uv, src.data, dset.data);
		imap_reply(c, cmd->tag, "OK", "Move completed.");
	} else {
		imap_reply(c, cmd->tag, "OK", "[COPYUID %u %s %s] Copy completed.", uv, src.data,
		    dset.data);
	}
out:
	buf_free(&src);
	buf_free(&dset);
	free(uids);
	free(dst);
	free(dest);
}

/* ---- EXPUNGE ---- */

void imap_cmd_expunge(struct imap_client *c, const struct imap_command *cmd)
{
	uint32_t *uids = NULL;
	size_t n = 0, k = 0;
	bool uid = is_uid(cmd);

	if (c->readonly) {
		imap_reply(c, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (uid) {
		if (cmd->count != 1) {
			imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
			return;
		}
		if (!msg_set(c, cmd, true, &uids, &n))
			return;
		for (size_t i = 0; i < n; i++) {
			struct mstore_msg m;

			if (mstore_view_msg_uid(c->view, uids[i], &m) == 0 &&
			    (m.flags & MSTORE_F_DELETED))
				uids[k++] = uids[i];
		}
		if (k == 0) {
			free(uids);
			imap_reply(c, cmd->tag, "OK", "Expunge completed.");
			return;
		}
	}
	if (mstore_view_expunge(c->view, uid ? uids : NULL, k) < 0)
		imap_reply_store_error(c, cmd->tag, "Expunge");
	else
		imap_reply(c, cmd->tag, "OK", "Expunge completed.");
	free(uids);
}

/* ---- SEARCH ---- */

struct search_msg_ctx {
	struct imap_client *c;
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

	if (s->fd == -1)
		s->fd = mstore_view_open_msg(s->c->view, s->m.uid);
	if (s->fd < 0) {
		s->fd = -2;
		return -1;
	}
	return pread(s->fd, buf, n, (off_t)offset);
}

/* The matching messages (UIDs ascending) of the keys; false after a reply. */
static bool search_run(struct imap_client *c, const char *tag, struct imap_search *s,
    uint32_t **out, size_t *nout, uint64_t *max_modseq)
{
	struct imap_search_env env;
	uint32_t count = mstore_view_count(c->view);
	const char *err;
	size_t k = 0, cap = 0;

	memset(&env, 0, sizeof(env));
	env.max_seq = count;
	env.max_uid = count ? mstore_view_uid(c->view, count) : 0;
	env.now = time(NULL);
	env.saved = c->saved_valid ? &c->saved : NULL;
	if (imap_search_uses_saved(s) && !c->saved_valid) {
		/* RFC 5182 2.1: "$" without a saved result is empty. */
		static const struct imap_seqset empty;

		env.saved = &empty;
	}
	if (!imap_search_prepare(s, &env, &err)) {
		imap_reply(c, tag, "NO", "%s", err);
		return false;
	}
	*out = NULL;
	*max_modseq = 0;
	for (uint32_t seq = 1; seq <= count; seq++) {
		struct search_msg_ctx sc = {c, {0}, -1};
		struct imap_search_msg m;
		time_t saved;
		uint64_t size = 0;

		if (mstore_view_msg(c->view, seq, &sc.m) < 0 || sc.m.expunged)
			continue;
		memset(&m, 0, sizeof(m));
		m.seq = seq;
		m.uid = sc.m.uid;
		m.modseq = sc.m.modseq;
		mstore_view_dates(c->view, m.uid, &m.internaldate, &saved);
		mstore_view_sizes(c->view, m.uid, &size, &m.size);
		m.has_flag = search_has_flag;
		m.read = search_read;
		m.ctx = &sc;
		if (imap_search_match(s, &env, &m)) {
			if (k == cap)
				*out =
				    xreallocarray(*out, cap = cap ? cap * 2 : 64, sizeof(uint32_t));
			(*out)[k++] = m.uid;
			if (m.modseq > *max_modseq)
				*max_modseq = m.modseq;
		}
		if (sc.fd >= 0)
			close(sc.fd);
	}
	*nout = k;
	return true;
}

static bool search_has_modseq(const struct imap_search_node *n)
{
	for (; n; n = n->next)
		if (n->key == IMAP_SK_MODSEQ || search_has_modseq(n->child))
			return true;
	return false;
}

void imap_cmd_search(struct imap_client *c, const struct imap_command *cmd)
{
	struct imap_search s;
	const char *err;
	uint32_t *uids = NULL;
	size_t n = 0;
	uint64_t maxmod = 0;
	bool uid = is_uid(cmd), modseq;

	if (!imap_search_parse(cmd->args, cmd->count, true, &s, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	modseq = search_has_modseq(s.root);
	if (modseq)
		c->condstore_seen = true;
	if (!search_run(c, cmd->tag, &s, &uids, &n, &maxmod)) {
		imap_search_free(&s);
		return;
	}
	if (s.ret & IMAP_SEARCH_RETURN_SAVE) {
		imap_seqset_free(&c->saved);
		memset(&c->saved, 0, sizeof(c->saved));
		c->saved.v = xcalloc(n + 1, sizeof(*c->saved.v));
		for (size_t i = 0; i < n; i++)
			c->saved.v[c->saved.n++] = (struct imap_seq_range){uids[i], uids[i]};
		c->saved_valid = true;
	}
	if (!uid)
		for (size_t i = 0; i < n; i++)
			uids[i] = mstore_view_seq(c->view, uids[i]);
	if (s.esearch) {
		unsigned r = s.ret & ~(unsigned)IMAP_SEARCH_RETURN_SAVE;

		if (s.ret == IMAP_SEARCH_RETURN_SAVE)
			r = 0;
		buf_printf(&c->out, "* ESEARCH (TAG \"%s\")%s", cmd->tag, uid ? " UID" : "");
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
		if (modseq && n && r)
			buf_printf(&c->out, " MODSEQ %llu", (unsigned long long)maxmod);
		buf_puts(&c->out, "\r\n");
	} else {
		buf_puts(&c->out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(&c->out, " %u", uids[i]);
		if (modseq && n)
			buf_printf(&c->out, " (MODSEQ %llu)", (unsigned long long)maxmod);
		buf_puts(&c->out, "\r\n");
	}
	imap_reply(c, cmd->tag, "OK", "Search completed.");
	free(uids);
	imap_search_free(&s);
}

/* ---- SORT, THREAD ---- */

/* The header fields SORT and THREAD read from the file: the first
 * Subject (Dovecot sorts by it, while ENVELOPE shows the last one) and
 * References, else In-Reply-To. */
struct sort_hdrs {
	struct buf subject, refs;
	bool has_subject;
};

static void msg_sort_hdrs(
    struct imap_client *c, uint32_t uid, const struct mime_part *root, struct sort_hdrs *h)
{
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

static struct imap_sort_msg *sort_msgs(
    struct imap_client *c, const uint32_t *uids, size_t n, bool uid)
{
	struct imap_sort_msg *v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		struct mime_part *root = imap_msg_mime(c, uids[i]);
		uint32_t seq = mstore_view_seq(c->view, uids[i]);
		time_t arrival = 0, saved;
		uint64_t size = 0, vsize = 0;
		struct sort_hdrs h = {BUF_INIT, BUF_INIT, false};
		struct mime_envelope *env = root ? root->envelope : NULL;
		char *last_subject = env ? env->subject : NULL;

		mstore_view_dates(c->view, uids[i], &arrival, &saved);
		mstore_view_sizes(c->view, uids[i], &size, &vsize);
		if (root)
			msg_sort_hdrs(c, uids[i], root, &h);
		if (env && h.has_subject)
			env->subject = (char *)buf_cstr(&h.subject);
		imap_sort_msg_fill(&v[i], env, h.refs.len ? h.refs.data : NULL, uid ? uids[i] : seq,
		    seq, arrival, vsize);
		if (env)
			env->subject = last_subject;
		/* Dovecot keeps dates as 32 unsigned bits: one before 1970
		 * sorts after every other. */
		if (v[i].date < 0)
			v[i].date = (time_t)(uint32_t)v[i].date;
		buf_free(&h.subject);
		buf_free(&h.refs);
		if (root)
			mime_part_free(root);
	}
	return v;
}

void imap_cmd_sort(struct imap_client *c, const struct imap_command *cmd)
{
	struct imap_sort s;
	const char *err;
	uint32_t *uids = NULL;
	size_t n = 0;
	uint64_t maxmod;
	struct imap_sort_msg *v;

	if (!imap_sort_parse(cmd->args, cmd->count, &s, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (!search_run(c, cmd->tag, &s.search, &uids, &n, &maxmod)) {
		imap_search_free(&s.search);
		return;
	}
	v = sort_msgs(c, uids, n, is_uid(cmd));
	imap_sort(v, n, s.crit, s.ncrit);
	buf_puts(&c->out, "* SORT");
	for (size_t i = 0; i < n; i++) {
		buf_printf(&c->out, " %u", v[i].id);
		imap_sort_msg_free(&v[i]);
	}
	buf_puts(&c->out, "\r\n");
	free(v);
	free(uids);
	imap_search_free(&s.search);
	imap_reply(c, cmd->tag, "OK", "Sort completed.");
}

void imap_cmd_thread(struct imap_client *c, const struct imap_command *cmd)
{
	struct imap_thread t;
	const char *err;
	uint32_t *uids = NULL;
	size_t n = 0;
	uint64_t maxmod;
	struct imap_sort_msg *v;

	if (!imap_thread_parse(cmd->args, cmd->count, &t, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (!search_run(c, cmd->tag, &t.search, &uids, &n, &maxmod)) {
		imap_search_free(&t.search);
		return;
	}
	v = sort_msgs(c, uids, n, is_uid(cmd));
	buf_puts(&c->out, n ? "* THREAD " : "* THREAD");
	imap_thread(v, n, t.alg, &c->out);
	buf_puts(&c->out, "\r\n");
	for (size_t i = 0; i < n; i++)
		imap_sort_msg_free(&v[i]);
	free(v);
	free(uids);
	imap_search_free(&t.search);
	imap_reply(c, cmd->tag, "OK", "Thread completed.");
}
