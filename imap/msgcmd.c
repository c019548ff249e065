/*
 * msgcmd.c - the commands on the messages of the selected folder:
 * STORE (CONDSTORE's UNCHANGEDSINCE and MODIFIED), COPY and MOVE
 * (COPYUID of UIDPLUS, RFC 6851), EXPUNGE and UID EXPUNGE.  SEARCH,
 * SORT and THREAD are in searchcmd.c.
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
		imap_reply_store_error(c, cmd->tag, "Store", mstore_view_name(c->view));
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
		if (dest == NULL || mstore_error(c->store) == MSTORE_ENOTFOUND)
			imap_reply(c, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist: %s", s);
		else /* it exists but cannot be read */
			imap_reply_store_error(c, cmd->tag, move ? "Move" : "Copy", dest);
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
			imap_reply_store_error(c, cmd->tag, move ? "Move" : "Copy", dest);
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
		imap_reply_store_error(c, cmd->tag, "Expunge", mstore_view_name(c->view));
	else
		imap_reply(c, cmd->tag, "OK", "Expunge completed.");
	free(uids);
}
