/*
 * append.c - APPEND and MULTIAPPEND (RFC 9051 6.3.12, RFC 3502, the
 * APPENDUID of UIDPLUS, APPENDLIMIT of RFC 7889, UTF8 of RFC 6855).
 *
 * The message literal never sits in memory: when the parser announces
 * it, the flags and date before it are parsed, the size is checked
 * against imap_append_limit (a synchronising literal that is too big is
 * refused before the client sends it: NO [TOOBIG]), and its bytes go
 * straight into a file in the folder's tmp/ (mstore_save_*).  The
 * messages become visible only when the whole command has arrived, all
 * of them together, made durable by mstore_save_commit_all() before the
 * tagged OK.  Any failure, while the literals arrive or at that commit
 * (quota for their sum, a full disk), drops every message of the
 * command (RFC 3502: all or none).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "imap.h"
#include "log.h"
#include "util.h"

struct imap_append_state {
	char *mailbox;
	struct mstore_save **saves;
	size_t nsaves;
	struct mstore_save *cur;
	char *err; /* "NO ..." text once something failed */
	bool bad;  /* ... a BAD */
};

static void append_fail(struct imap_append_state *a, bool bad, const char *fmt, const char *arg)
{
	if (a->err)
		return;
	a->err = xasprintf(fmt, arg ? arg : "");
	a->bad = bad;
	if (a->cur)
		mstore_save_abort(a->cur);
	a->cur = NULL;
}

/* The store refused or failed: its text for the client (imap_store_error_text). */
static void append_store_fail(struct imap_client *c, struct imap_append_state *a)
{
	struct buf text = BUF_INIT;

	if (a->err == NULL) {
		imap_store_error_text(c, "Append", a->mailbox, &text);
		append_fail(a, false, "%s", buf_cstr(&text));
	}
	buf_free(&text);
}

void imap_append_abort(struct imap_client *c)
{
	struct imap_append_state *a = c->append;

	if (a == NULL)
		return;
	if (a->cur)
		mstore_save_abort(a->cur);
	for (size_t i = 0; i < a->nsaves; i++)
		mstore_save_abort(a->saves[i]);
	free(a->saves);
	free(a->mailbox);
	free(a->err);
	free(a);
	c->append = NULL;
	c->lit_left = 0;
}

/* The first announced message: which folder. */
static void append_open(struct imap_client *c, const struct imap_command *pc)
{
	struct imap_append_state *a = xcalloc(1, sizeof(*a));
	struct mstore_status st;
	const char *s;
	size_t len;

	c->append = a;
	if (!imap_arg_string(&pc->args[0], &s, &len)) {
		append_fail(a, true, "Invalid mailbox name.%s", NULL);
		return;
	}
	if ((a->mailbox = imap_mailbox_from_client(c, s)) == NULL)
		append_fail(a, false, "[TRYCREATE] Mailbox doesn't exist: %s", s);
	else if (mstore_status(c->store, a->mailbox, &st, false) < 0) {
		if (mstore_error(c->store) == MSTORE_ENOTFOUND)
			append_fail(a, false, "[TRYCREATE] Mailbox doesn't exist: %s", s);
		else
			append_store_fail(c, a); /* it exists but cannot be read */
	}
}

bool imap_append_literal(struct imap_client *c)
{
	const struct imap_literal_info *li = imap_parser_literal(c->parser);
	const struct imap_command *pc = imap_parser_partial(c->parser);
	struct imap_append_msg m;
	struct mstore_save_opts o;
	const char **kw = NULL;
	const char *err;
	long long limit = config_size("imap_append_limit");
	struct imap_append_state *a;

	if (c->append == NULL)
		append_open(c, pc);
	a = c->append;
	if (!imap_append_parse_pending(pc->args, pc->count, &m, &err))
		append_fail(a, true, "%s", err);
	else if (limit > 0 && li->size > (uint64_t)limit)
		append_fail(a, false,
		    "[TOOBIG] Mail size is larger than the maximum size allowed.%s", NULL);
	if (a->err == NULL) {
		memset(&o, 0, sizeof(o));
		o.flags = imap_flags_split(m.flags, &kw);
		o.keywords = kw;
		o.internal_date = m.date_set ? m.date : 0;
		o.check_quota = true;
		a->cur = mstore_save_begin(c->store, a->mailbox, &o);
		free(kw);
		if (a->cur == NULL)
			append_store_fail(c, a);
	}
	imap_append_msg_free(&m);
	if (a->err && li->sync) {
		/* Refused before the client sends it (RFC 7888 4, RFC 7889). */
		char *tag = xstrdup(pc->tag ? pc->tag : "*");
		char *text = xstrdup(a->err);
		bool bad = a->bad;

		/* (the parser's command, its tag included, is gone after this) */
		imap_parser_literal_reject(c->parser, text);
		imap_reply(c, tag, bad ? "BAD" : "NO", "%s", text);
		free(text);
		free(tag);
		imap_append_abort(c);
		return false;
	}
	/* A non-synchronising literal comes anyway: its bytes are dropped. */
	return true;
}

void imap_append_data(struct imap_client *c, const char *p, size_t len)
{
	struct imap_append_state *a = c->append;

	if (a == NULL || a->cur == NULL)
		return;
	if (p == NULL) {
		/* The literal is complete. */
		a->saves = xreallocarray(a->saves, a->nsaves + 1, sizeof(*a->saves));
		a->saves[a->nsaves++] = a->cur;
		a->cur = NULL;
		return;
	}
	if (mstore_save_write(a->cur, p, len) < 0)
		append_store_fail(c, a);
}

void imap_cmd_append(struct imap_client *c, const struct imap_command *cmd)
{
	struct imap_append_state *a = c->append;
	struct imap_append parsed;
	const char *err;
	struct buf uids = BUF_INIT;
	uint32_t uv = 0, prev = 0, first = 0, *got;

	if (!imap_append_parse(cmd->args, cmd->count, &parsed, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		imap_append_abort(c);
		return;
	}
	imap_append_free(&parsed);
	if (a == NULL) {
		imap_reply(c, cmd->tag, "BAD", "Invalid APPEND arguments.");
		return;
	}
	if (a->err) {
		imap_reply(c, cmd->tag, a->bad ? "BAD" : "NO", "%s", a->err);
		imap_append_abort(c);
		return;
	}
	got = xcalloc(a->nsaves + 1, sizeof(*got));
	if (mstore_save_commit_all(a->saves, a->nsaves, got, &uv) < 0) {
		/* RFC 3502: none of the messages is added. */
		a->nsaves = 0;
		imap_reply_store_error(c, cmd->tag, "Append", a->mailbox);
		imap_append_abort(c);
		free(got);
		return;
	}
	for (size_t i = 0; i < a->nsaves; i++) {
		uint32_t uid = got[i];

		/* UIDs of one command ascend: write runs as ranges. */
		if (i > 0 && uid == prev + 1) {
			prev = uid;
			continue;
		}
		if (i > 0 && first != prev)
			buf_printf(&uids, ":%u", prev);
		if (i > 0)
			buf_putc(&uids, ',');
		buf_printf(&uids, "%u", uid);
		first = prev = uid;
	}
	free(got);
	if (first != prev)
		buf_printf(&uids, ":%u", prev);
	a->nsaves = 0;
	imap_append_abort(c);
	imap_reply(c, cmd->tag, "OK", "[APPENDUID %u %s] Append completed.", uv, buf_cstr(&uids));
	buf_free(&uids);
}
