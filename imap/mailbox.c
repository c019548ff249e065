/*
 * mailbox.c - the commands about folders: SELECT and EXAMINE (with
 * CONDSTORE and QRESYNC, RFC 7162), CLOSE and UNSELECT, CREATE (with
 * CREATE-SPECIAL-USE, RFC 6154), DELETE, RENAME, SUBSCRIBE and
 * UNSUBSCRIBE, LIST and LSUB (LIST-EXTENDED, LIST-STATUS, SPECIAL-USE,
 * CHILDREN), STATUS (STATUS=SIZE, APPENDLIMIT), GETQUOTA and
 * GETQUOTAROOT (RFC 9208, from maildirsize).
 *
 * Names: the client's (modified UTF-7, or UTF-8 once UTF8=ACCEPT or
 * IMAP4rev2 is enabled) are converted at the edge; the store speaks
 * UTF-8.  One personal namespace, "" with '.' as separator, as Dovecot's
 * default Maildir++ layout.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "imap.h"
#include "mstore/mutf7.h"
#include "util.h"
#include "write.h"

static const struct {
	const char *flag;
	unsigned role;
} special_flags[] = {
    {"\\Drafts", MSTORE_SU_DRAFTS},
    {"\\Sent", MSTORE_SU_SENT},
    {"\\Trash", MSTORE_SU_TRASH},
    {"\\Junk", MSTORE_SU_JUNK},
    {"\\Archive", MSTORE_SU_ARCHIVE},
    {"\\All", MSTORE_SU_ALL},
    {"\\Flagged", MSTORE_SU_FLAGGED},
};

#define NSPECIAL (sizeof(special_flags) / sizeof(special_flags[0]))

/* The one astring argument that names a mailbox, converted; NULL after
 * a reply. */
static char *mailbox_arg(
    struct imap_client *c, const struct imap_command *cmd, const struct imap_arg *a)
{
	const char *s;
	size_t len;
	char *name;

	(void)len;
	if (!imap_arg_string(a, &s, &len)) {
		imap_reply(c, cmd->tag, "BAD", "Invalid mailbox name.");
		return NULL;
	}
	if ((name = imap_mailbox_from_client(c, s)) == NULL)
		imap_reply(c, cmd->tag, "NO", "[CANNOT] Invalid mailbox name.");
	return name;
}

void imap_write_uidset(struct buf *out, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (i > 0)
			buf_putc(out, ',');
		if (j > i)
			buf_printf(out, "%u:%u", uids[i], uids[j]);
		else
			buf_printf(out, "%u", uids[i]);
		i = j + 1;
	}
}

/* ---- SELECT, EXAMINE ---- */

static void select_flags(struct imap_client *c)
{
	struct buf kw = BUF_INIT;

	for (unsigned i = 0; i < 26; i++) {
		const char *k = mstore_view_keyword(c->view, i);

		if (k)
			buf_printf(&kw, " %s", k);
	}
	imap_untagged(c, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)", buf_cstr(&kw));
	if (c->readonly)
		imap_untagged(c, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else
		imap_untagged(c,
		    "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s "
		    "\\*)] Flags permitted.",
		    buf_cstr(&kw));
	buf_free(&kw);
}

struct qresync_ctx {
	struct imap_client *c;
	const struct imap_select *sel;
};

static void qresync_changed(void *ctx, const struct mstore_msg *m)
{
	struct qresync_ctx *q = ctx;
	struct buf *o = &q->c->out;

	if (m->expunged ||
	    (q->sel->known_uids_set && !imap_seqset_contains(&q->sel->known_uids, m->uid)))
		return;
	buf_printf(o, "* %u FETCH (UID %u FLAGS ", m->seq, m->uid);
	imap_write_flags(q->c, o, m);
	buf_printf(o, " MODSEQ (%llu))\r\n", (unsigned long long)m->modseq);
}

/* RFC 7162 3.2.5: what changed since the client's MODSEQ. */
static void select_qresync(struct imap_client *c, struct imap_select *sel)
{
	uint32_t *uids = NULL;
	size_t n = 0, k = 0;
	bool exact;
	struct qresync_ctx q = {c, sel};

	if (sel->uidvalidity != mstore_view_uidvalidity(c->view))
		return;
	if (sel->known_uids_set)
		imap_seqset_resolve(&sel->known_uids, mstore_view_uidnext(c->view));
	if (mstore_view_expunged_since(c->view, sel->modseq, &uids, &n, &exact) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!sel->known_uids_set || imap_seqset_contains(&sel->known_uids, uids[i]))
				uids[k++] = uids[i];
		if (k > 0) {
			buf_puts(&c->out, "* VANISHED (EARLIER) ");
			imap_write_uidset(&c->out, uids, k);
			buf_puts(&c->out, "\r\n");
		}
		free(uids);
	}
	mstore_view_changed_since(c->view, sel->modseq, qresync_changed, &q);
}

static void close_view(struct imap_client *c, bool closed_code)
{
	if (c->view == NULL)
		return;
	mstore_view_close(c->view);
	c->view = NULL;
	c->state = IMAP_STATE_AUTH;
	c->saved_valid = false;
	if (closed_code && (c->enabled & IMAP_EN_QRESYNC))
		imap_untagged(c, "OK [CLOSED] Previous mailbox closed.");
}

/*
 * IMAP4rev2 SELECT/EXAMINE's "* LIST" (RFC 9051 6.3.2): the folder's
 * name as the server spells it, so a client that wrote "inbox" learns
 * "INBOX"; the name given, when it differs, as OLDNAME (6.3.9.7).  The
 * attributes may be left out, and are.
 */
static void select_list(struct imap_client *c, const char *name, const char *given)
{
	buf_printf(&c->out, "* LIST () \"%c\" ", MSTORE_SEP);
	imap_mailbox_to_client(c, name, &c->out);
	if (strcmp(name, given) != 0) {
		buf_puts(&c->out, " (OLDNAME (");
		imap_mailbox_to_client(c, given, &c->out);
		buf_puts(&c->out, "))");
	}
	buf_puts(&c->out, "\r\n");
}

void imap_cmd_select(struct imap_client *c, const struct imap_command *cmd)
{
	struct imap_select sel;
	const char *err;
	char *name;
	bool examine = strcmp(cmd->name, "EXAMINE") == 0;
	uint32_t unseen;

	if (!imap_select_parse(cmd->args, cmd->count, &sel, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (sel.qresync && !(c->enabled & IMAP_EN_QRESYNC)) {
		imap_reply(c, cmd->tag, "BAD", "QRESYNC not enabled.");
		imap_select_free(&sel);
		return;
	}
	if ((name = imap_mailbox_from_client(c, sel.mailbox)) == NULL) {
		close_view(c, true);
		imap_reply(
		    c, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s", sel.mailbox);
		imap_select_free(&sel);
		return;
	}
	close_view(c, true);
	if (mstore_view_open(c->store, name, examine ? MSTORE_VIEW_READONLY : 0, &c->view) < 0) {
		c->view = NULL;
		if (mstore_error(c->store) == MSTORE_ENOTFOUND)
			imap_reply(c, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s",
			    sel.mailbox);
		else
			imap_reply_store_error(c, cmd->tag, "Select", name);
		free(name);
		imap_select_free(&sel);
		return;
	}
	c->readonly = examine;
	c->state = IMAP_STATE_SELECTED;
	if (sel.condstore || sel.qresync)
		c->condstore_seen = true;
	select_flags(c);
	imap_untagged(c, "%u EXISTS", mstore_view_count(c->view));
	if (!(c->enabled & IMAP_EN_REV2)) {
		imap_untagged(c, "%u RECENT", mstore_view_recent(c->view));
		if ((unseen = mstore_view_first_unseen(c->view)) != 0)
			imap_untagged(c, "OK [UNSEEN %u] First unseen.", unseen);
	}
	imap_untagged(c, "OK [UIDVALIDITY %u] UIDs valid", mstore_view_uidvalidity(c->view));
	imap_untagged(c, "OK [UIDNEXT %u] Predicted next UID", mstore_view_uidnext(c->view));
	imap_untagged(c, "OK [HIGHESTMODSEQ %llu] Highest",
	    (unsigned long long)mstore_view_highest_modseq(c->view));
	if (c->enabled & IMAP_EN_REV2)
		select_list(c, name, sel.mailbox);
	free(name);
	if (sel.qresync)
		select_qresync(c, &sel);
	imap_select_free(&sel);
	c->cmd_sync = 0;
	imap_reply(c, cmd->tag, "OK", "[%s] %s completed.", examine ? "READ-ONLY" : "READ-WRITE",
	    examine ? "Examine" : "Select");
}

void imap_cmd_close(struct imap_client *c, const struct imap_command *cmd)
{
	bool close = strcmp(cmd->name, "CLOSE") == 0;

	/* CLOSE expunges silently (RFC 9051 6.4.1); durable before the OK. */
	if (close && !c->readonly && mstore_view_expunge(c->view, NULL, 0) < 0) {
		imap_reply_store_error(c, cmd->tag, "Close", mstore_view_name(c->view));
		return;
	}
	close_view(c, false);
	imap_reply(c, cmd->tag, "OK", "%s completed.", close ? "Close" : "Unselect");
}

/* ---- CREATE, DELETE, RENAME, SUBSCRIBE ---- */

/* "(USE (\Sent ...))" of CREATE (RFC 6154 3). */
static bool create_use(const struct imap_arg *a, unsigned *roles)
{
	*roles = 0;
	if (a->type != IMAP_ARG_LIST || a->count != 2 || !imap_arg_is_atom(&a->list[0], "USE") ||
	    a->list[1].type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < a->list[1].count; i++) {
		const struct imap_arg *f = &a->list[1].list[i];
		unsigned r = 0;

		for (size_t k = 0; k < NSPECIAL; k++)
			if (f->type == IMAP_ARG_ATOM &&
			    strcasecmp(f->str, special_flags[k].flag) == 0)
				r = special_flags[k].role;
		if (r == 0)
			return false;
		*roles |= r;
	}
	return true;
}

void imap_cmd_create(struct imap_client *c, const struct imap_command *cmd)
{
	unsigned roles = 0;
	char *name;
	size_t len;

	if (cmd->count < 1 || cmd->count > 2) {
		imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
		return;
	}
	if (cmd->count == 2 && !create_use(&cmd->args[1], &roles)) {
		imap_reply(c, cmd->tag, "NO", "[USEATTR] Invalid special-use attribute.");
		return;
	}
	if ((name = mailbox_arg(c, cmd, &cmd->args[0])) == NULL)
		return;
	/* A trailing separator only says the client wants children (RFC 9051 6.3.4). */
	len = strlen(name);
	if (len > 1 && name[len - 1] == MSTORE_SEP)
		name[len - 1] = 0;
	if (str_case_eq(name, "INBOX"))
		imap_reply(c, cmd->tag, "NO", "[ALREADYEXISTS] Mailbox already exists");
	else if (mstore_folder_create(c->store, name, roles) < 0)
		imap_reply_store_error(c, cmd->tag, "Create", name);
	else
		imap_reply(c, cmd->tag, "OK", "Create completed.");
	free(name);
}

void imap_cmd_delete(struct imap_client *c, const struct imap_command *cmd)
{
	char *name;

	if (cmd->count != 1) {
		imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
		return;
	}
	if ((name = mailbox_arg(c, cmd, &cmd->args[0])) == NULL)
		return;
	if (str_case_eq(name, "INBOX")) {
		imap_reply(c, cmd->tag, "NO", "[CANNOT] INBOX can't be deleted.");
	} else {
		if (c->view && strcmp(mstore_view_name(c->view), name) == 0)
			close_view(c, true);
		if (mstore_folder_delete(c->store, name) < 0)
			imap_reply_store_error(c, cmd->tag, "Delete", name);
		else
			imap_reply(c, cmd->tag, "OK", "Delete completed.");
	}
	free(name);
}

void imap_cmd_rename(struct imap_client *c, const struct imap_command *cmd)
{
	char *from, *to = NULL;

	if (cmd->count != 2) {
		imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
		return;
	}
	if ((from = mailbox_arg(c, cmd, &cmd->args[0])) == NULL ||
	    (to = mailbox_arg(c, cmd, &cmd->args[1])) == NULL) {
		free(from);
		return;
	}
	if (str_case_eq(from, "INBOX"))
		imap_reply(c, cmd->tag, "NO", "[CANNOT] Renaming INBOX isn't supported.");
	else if (mstore_folder_rename(c->store, from, to) < 0)
		imap_reply_store_error(c, cmd->tag, "Rename", from);
	else
		imap_reply(c, cmd->tag, "OK", "Rename completed.");
	free(from);
	free(to);
}

void imap_cmd_subscribe(struct imap_client *c, const struct imap_command *cmd)
{
	bool on = strcmp(cmd->name, "SUBSCRIBE") == 0;
	char *name;

	if (cmd->count != 1) {
		imap_reply(c, cmd->tag, "BAD", "Invalid arguments.");
		return;
	}
	if ((name = mailbox_arg(c, cmd, &cmd->args[0])) == NULL)
		return;
	if (mstore_subscribe(c->store, name, on) < 0)
		imap_reply_store_error(c, cmd->tag, on ? "Subscribe" : "Unsubscribe", name);
	else
		imap_reply(c, cmd->tag, "OK", "%s completed.", on ? "Subscribe" : "Unsubscribe");
	free(name);
}

/* ---- STATUS ---- */

/* "* STATUS name (...)"; false when the folder cannot be read. */
static bool status_write(struct imap_client *c, const char *name, unsigned items)
{
	struct mstore_status st;
	struct buf *o = &c->out;
	const char *sep = "";

	if (mstore_status(c->store, name, &st, (items & IMAP_STATUS_SIZE) != 0) < 0)
		return false;
	buf_puts(o, "* STATUS ");
	imap_mailbox_to_client(c, name, o);
	buf_puts(o, " (");
#define ITEM(bit, fmt, val)                                                                        \
	if (items & (bit)) {                                                                       \
		buf_printf(o, "%s" fmt, sep, val);                                                 \
		sep = " ";                                                                         \
	}
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", st.messages)
	ITEM(IMAP_STATUS_RECENT, "RECENT %u", st.recent)
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", st.uidnext)
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", st.uidvalidity)
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", st.unseen)
	ITEM(IMAP_STATUS_DELETED, "DELETED %u", st.deleted)
	ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)st.size)
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu", (unsigned long long)st.highest_modseq)
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %lld", config_size("imap_append_limit"))
#undef ITEM
	buf_puts(o, ")\r\n");
	return true;
}

void imap_cmd_status(struct imap_client *c, const struct imap_command *cmd)
{
	char *mailbox, *name;
	unsigned items;
	const char *err;

	if (!imap_status_parse(cmd->args, cmd->count, &mailbox, &items, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (items & IMAP_STATUS_HIGHESTMODSEQ)
		c->condstore_seen = true;
	if ((name = imap_mailbox_from_client(c, mailbox)) == NULL)
		imap_reply(c, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s", mailbox);
	else if (status_write(c, name, items))
		imap_reply(c, cmd->tag, "OK", "Status completed.");
	else if (mstore_error(c->store) == MSTORE_ENOTFOUND)
		imap_reply(c, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s", mailbox);
	else /* it exists but cannot be read */
		imap_reply_store_error(c, cmd->tag, "Status", name);
	free(name);
	free(mailbox);
}

/* ---- LIST, LSUB ---- */

static bool list_matches(struct imap_client *c, const struct imap_list *l, const char *name)
{
	struct buf cn = BUF_INIT;
	bool match = false;

	if (c->enabled & (IMAP_EN_UTF8 | IMAP_EN_REV2) ||
	    mutf7_encode(name, strlen(name), &cn) < 0) {
		buf_reset(&cn);
		buf_puts(&cn, name);
	}
	for (size_t i = 0; l->patterns[i] && !match; i++) {
		char *pat = xasprintf("%s%s", l->reference, l->patterns[i]);

		/* INBOX is case-insensitive (RFC 9051 5.1). */
		if (strcmp(name, "INBOX") == 0 && str_prefix_case(pat, "INBOX"))
			memcpy(pat, "INBOX", 5);
		match = imap_list_match(pat, buf_cstr(&cn), MSTORE_SEP);
		free(pat);
	}
	buf_free(&cn);
	return match;
}

/* One LIST/LSUB line.  childinfo: RECURSIVEMATCH found descendants
 * that meet the selection (RFC 5258 3.5), named by crit. */
static void list_one(struct imap_client *c, const struct imap_list *l, bool lsub,
    const struct mstore_folder_info *f, const char *childinfo)
{
	struct buf *o = &c->out;
	const char *sep = "";
	bool nonexistent = f->flags & MSTORE_LF_NONEXISTENT;
	/* Dovecot's choice: LIST-EXTENDED says \HasChildren only when
	 * asked (RETURN (CHILDREN)), the plain LIST always. */
	bool children = !lsub && (!l->extended || (l->ret & IMAP_LIST_RET_CHILDREN));

	buf_printf(o, "* %s (", lsub ? "LSUB" : "LIST");
#define FLAG(s)                                                                                    \
	do {                                                                                       \
		buf_printf(o, "%s%s", sep, s);                                                     \
		sep = " ";                                                                         \
	} while (0)
	if (nonexistent)
		FLAG(l->extended && !lsub ? "\\NonExistent" : "\\Noselect");
	if (!lsub && (f->flags & MSTORE_LF_SUBSCRIBED) &&
	    ((l->ret & IMAP_LIST_RET_SUBSCRIBED) || (l->select & IMAP_LIST_SEL_SUBSCRIBED)))
		FLAG("\\Subscribed");
	if (children && (f->flags & MSTORE_LF_CHILDREN))
		FLAG("\\HasChildren");
	else if (children && (f->flags & MSTORE_LF_NOCHILDREN))
		FLAG("\\HasNoChildren");
	for (size_t k = 0; k < NSPECIAL && !lsub; k++)
		if (f->special_use & special_flags[k].role)
			FLAG(special_flags[k].flag);
#undef FLAG
	buf_printf(o, ") \"%c\" ", MSTORE_SEP);
	imap_mailbox_to_client(c, f->name, o);
	if (childinfo)
		buf_printf(o, " (CHILDINFO (\"%s\"))", childinfo);
	buf_puts(o, "\r\n");
	if ((l->ret & IMAP_LIST_RET_STATUS) && !nonexistent)
		status_write(c, f->name, l->status_items);
}

/* Does the folder meet the selection options (not the patterns)? */
static bool list_selected(const struct imap_list *l, bool lsub, const struct mstore_folder_info *f)
{
	bool want_sub = lsub || (l->select & IMAP_LIST_SEL_SUBSCRIBED);

	if (want_sub && !(f->flags & MSTORE_LF_SUBSCRIBED))
		return false;
	if ((l->select & IMAP_LIST_SEL_SPECIAL_USE) && f->special_use == 0)
		return false;
	if (!want_sub && (f->flags & MSTORE_LF_NONEXISTENT) && !(f->flags & MSTORE_LF_CHILDREN))
		return false;
	return true;
}

/*
 * RECURSIVEMATCH (RFC 5258 3.5), as Dovecot does it: a folder matching
 * the patterns is listed when it meets the selection or has a
 * descendant that does but is not itself matched by the patterns; it
 * carries CHILDINFO when any descendant meets the selection.
 * *listed: whether to list fs[i]; returns whether to add CHILDINFO.
 */
static bool list_recursive(const struct mstore_folder_info *fs, size_t n, const bool *sel,
    const bool *match, size_t i, bool *listed)
{
	size_t len = strlen(fs[i].name);
	bool any = false, unmatched = false;

	for (size_t j = 0; j < n && !(any && unmatched); j++) {
		if (j == i || !sel[j] || strncmp(fs[j].name, fs[i].name, len) != 0 ||
		    fs[j].name[len] != MSTORE_SEP)
			continue;
		any = true;
		if (!match[j])
			unmatched = true;
	}
	*listed = sel[i] || unmatched;
	return any;
}

void imap_cmd_list(struct imap_client *c, const struct imap_command *cmd)
{
	bool lsub = strcmp(cmd->name, "LSUB") == 0;
	struct imap_list l;
	struct mstore_folder_info *fs;
	size_t n;
	const char *err;
	bool *sel, *match;

	if (!(lsub ? imap_lsub_parse : imap_list_parse)(cmd->args, cmd->count, &l, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (!l.extended && l.patterns[0] && l.patterns[0][0] == 0) {
		/* LIST "" "": the hierarchy delimiter and root (RFC 9051 6.3.9). */
		imap_untagged(c, "%s (\\Noselect) \"%c\" \"\"", lsub ? "LSUB" : "LIST", MSTORE_SEP);
		imap_reply(c, cmd->tag, "OK", "%s completed.", lsub ? "Lsub" : "List");
		imap_list_free(&l);
		return;
	}
	if (mstore_list(c->store, &fs, &n) < 0) {
		imap_reply_store_error(c, cmd->tag, "List", NULL);
		imap_list_free(&l);
		return;
	}
	sel = xcalloc(n + 1, sizeof(*sel));
	match = xcalloc(n + 1, sizeof(*match));
	for (size_t i = 0; i < n; i++) {
		sel[i] = list_selected(&l, lsub, &fs[i]);
		match[i] = list_matches(c, &l, fs[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		bool listed = sel[i], childinfo = false;

		if (!match[i])
			continue;
		if (!lsub && (l.select & IMAP_LIST_SEL_RECURSIVEMATCH))
			childinfo = list_recursive(fs, n, sel, match, i, &listed);
		if (listed)
			list_one(c, &l, lsub, &fs[i],
			    !childinfo				    ? NULL
			    : (l.select & IMAP_LIST_SEL_SUBSCRIBED) ? "SUBSCRIBED"
								    : "SPECIAL-USE");
	}
	free(sel);
	free(match);
	mstore_list_free(fs, n);
	imap_list_free(&l);
	imap_reply(c, cmd->tag, "OK", "%s completed.", lsub ? "Lsub" : "List");
}

/* ---- quota (RFC 9208) ---- */

static bool quota_write(struct imap_client *c)
{
	struct mstore_quota q;
	const char *sep = "";

	if (mstore_quota_get(c->store, &q) < 0 || (q.limit_bytes == 0 && q.limit_messages == 0))
		return false;
	buf_puts(&c->out, "* QUOTA \"User quota\" (");
	if (q.limit_bytes) {
		buf_printf(&c->out, "STORAGE %llu %llu", (unsigned long long)(q.bytes / 1024),
		    (unsigned long long)(q.limit_bytes / 1024));
		sep = " ";
	}
	if (q.limit_messages)
		buf_printf(&c->out, "%sMESSAGE %llu %llu", sep, (unsigned long long)q.messages,
		    (unsigned long long)q.limit_messages);
	buf_puts(&c->out, ")\r\n");
	return true;
}

void imap_cmd_getquota(struct imap_client *c, const struct imap_command *cmd)
{
	char *root;
	const char *err;

	if (!imap_astring_arg(cmd->args, cmd->count, &root, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (strcmp(root, "User quota") != 0 || !quota_write(c))
		imap_reply(c, cmd->tag, "NO", "Quota root does not exist.");
	else
		imap_reply(c, cmd->tag, "OK", "Getquota completed.");
	free(root);
}

void imap_cmd_getquotaroot(struct imap_client *c, const struct imap_command *cmd)
{
	char *mailbox, *name;
	const char *err;
	struct mstore_quota q;
	struct mstore_status st;

	if (!imap_astring_arg(cmd->args, cmd->count, &mailbox, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	name = imap_mailbox_from_client(c, mailbox);
	if (name == NULL || mstore_status(c->store, name, &st, false) < 0) {
		if (name == NULL || mstore_error(c->store) == MSTORE_ENOTFOUND)
			imap_reply(
			    c, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s", mailbox);
		else /* it exists but cannot be read */
			imap_reply_store_error(c, cmd->tag, "Getquotaroot", name);
	} else {
		bool has = mstore_quota_get(c->store, &q) == 0 &&
			   (q.limit_bytes != 0 || q.limit_messages != 0);

		buf_puts(&c->out, "* QUOTAROOT ");
		imap_mailbox_to_client(c, name, &c->out);
		buf_puts(&c->out, has ? " \"User quota\"\r\n" : "\r\n");
		if (has)
			quota_write(c);
		imap_reply(c, cmd->tag, "OK", "Getquotaroot completed.");
	}
	free(name);
	free(mailbox);
}
