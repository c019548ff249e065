/*
 * session.c - the command table and what every command shares: states
 * (RFC 9051 3: authenticated, selected, logout; "not authenticated" is
 * imap-login's), replies, the untagged updates that follow a command,
 * and the small commands (CAPABILITY, NOOP, CHECK, LOGOUT, ENABLE, ID,
 * NAMESPACE, IDLE, COMPRESS).
 *
 * Untagged updates (RFC 9051 7.4.1, 5.2): after every command in the
 * selected state the view is synced before the tagged reply; EXPUNGE
 * (VANISHED under QRESYNC) is held back after FETCH, STORE and SEARCH
 * (sequence numbers must not move under a client that pipelines them),
 * while new messages and flag changes by others always go out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "imap.h"
#include "log.h"
#include "mstore/mutf7.h"
#include "util.h"
#include "write.h"

enum {
	CMD_SELECTED = 0x01, /* only in the selected state */
	CMD_SYNC = 0x02,     /* untagged updates with expunges before the OK */
	CMD_SYNC_NOEXP = 0x04,
};

typedef void cmd_fn(struct imap_client *c, const struct imap_command *cmd);

struct cmd_def {
	const char *name;
	cmd_fn *fn;
	unsigned flags;
};

static const char *const sys_flags[] = {
    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"};

const char *imap_capabilities(void)
{
	static char *caps;

	if (caps == NULL)
		caps = xasprintf(
		    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS "
		    "MOVE UNSELECT CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED "
		    "LIST-STATUS CONDSTORE QRESYNC ESEARCH SEARCHRES SORT SORT=DISPLAY "
		    "THREAD=REFERENCES THREAD=ORDEREDSUBJECT WITHIN COMPRESS=DEFLATE "
		    "APPENDLIMIT=%lld QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE UTF8=ACCEPT "
		    "BINARY MULTIAPPEND STATUS=SIZE",
		    config_size("imap_append_limit"));
	return caps;
}

void imap_untagged(struct imap_client *c, const char *fmt, ...)
{
	va_list ap;

	buf_puts(&c->out, "* ");
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	buf_puts(&c->out, "\r\n");
}

void imap_reply(struct imap_client *c, const char *tag, const char *status, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(status, "BAD") != 0 && c->state == IMAP_STATE_SELECTED && c->cmd_sync)
		imap_session_sync(c, (c->cmd_sync & CMD_SYNC) != 0);
	buf_printf(&c->out, "%s %s ", tag ? tag : "*", status);
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	buf_puts(&c->out, "\r\n");
}

/*
 * The client's text for the store's last failure.  The store's own
 * refusals name only what the client gave (a folder, a UID, the quota)
 * and pass on; a failure of the system names files and errno, so it is
 * logged with the user and the client gets Dovecot's texts: a full disk
 * or a lock timeout by name, anything else as an internal error with
 * the time to find it in the log.
 */
void imap_store_error_text(
    struct imap_client *c, const char *what, const char *mailbox, struct buf *out)
{
	const char *code = "[SERVERBUG] ", *text = NULL;
	enum mstore_error e = mstore_error(c->store);
	bool sys = mstore_error_internal(c->store);

	switch (e) {
	case MSTORE_ENOTFOUND: code = "[NONEXISTENT] "; break;
	case MSTORE_EEXISTS: code = "[ALREADYEXISTS] "; break;
	case MSTORE_EINVAL: code = "[CANNOT] "; break;
	case MSTORE_ELIMIT: code = "[LIMIT] "; break;
	case MSTORE_EEXPUNGED: code = "[EXPUNGEISSUED] "; break;
	case MSTORE_EQUOTA:
		code = "[OVERQUOTA] ";
		if (sys)
			text = "Not enough disk quota";
		break;
	case MSTORE_ENOSPACE:
		code = "[OVERQUOTA] ";
		text = "Not enough disk space";
		break;
	case MSTORE_ETEMP:
		code = "[INUSE] ";
		text = "Timeout while waiting for lock";
		break;
	default: break;
	}
	if (sys)
		log_error("imap(%s): %s failed%s%s%s: %s", c->user, what,
		    mailbox ? " (mailbox " : "", mailbox ? mailbox : "", mailbox ? ")" : "",
		    mstore_strerror(c->store));
	if (text != NULL)
		buf_printf(out, "%s%s", code, text);
	else if (!sys)
		buf_printf(out, "%s%s failed: %s", code, what, mstore_strerror(c->store));
	else {
		char when[32];
		time_t now = time(NULL);

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
		buf_printf(out,
		    "%sInternal error occurred. Refer to server log for more information. [%s]",
		    code, when);
	}
}

void imap_reply_store_error(
    struct imap_client *c, const char *tag, const char *what, const char *mailbox)
{
	struct buf text = BUF_INIT;

	imap_store_error_text(c, what, mailbox, &text);
	imap_reply(c, tag, "NO", "%s", buf_cstr(&text));
	buf_free(&text);
}

unsigned imap_write_flags_mode(const struct imap_client *c)
{
	return (c->enabled & (IMAP_EN_UTF8 | IMAP_EN_REV2)) ? IMAP_WRITE_UTF8 : 0;
}

void imap_write_flags(struct imap_client *c, struct buf *out, const struct mstore_msg *m)
{
	bool first = true;

	buf_putc(out, '(');
	for (unsigned i = 0; i < 6; i++) {
		if (m->flags & (1u << i)) {
			if (!first)
				buf_putc(out, ' ');
			buf_puts(out, sys_flags[i]);
			first = false;
		}
	}
	for (unsigned i = 0; i < 32; i++) {
		const char *kw;

		if (!(m->keywords & (1u << i)) || (kw = mstore_view_keyword(c->view, i)) == NULL)
			continue;
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, kw);
		first = false;
	}
	buf_putc(out, ')');
}

unsigned imap_flags_split(char **flags, const char ***keywords)
{
	unsigned bits = 0;
	size_t n = 0;

	*keywords = xcalloc(strv_len(flags) + 1, sizeof(char *));
	for (size_t i = 0; flags && flags[i]; i++) {
		unsigned b = 0;

		for (unsigned k = 0; k < 5; k++)
			if (strcasecmp(flags[i], sys_flags[k]) == 0)
				b = 1u << k;
		if (b)
			bits |= b;
		else if (flags[i][0] != '\\')
			(*keywords)[n++] = flags[i];
	}
	return bits;
}

char *imap_mailbox_from_client(struct imap_client *c, const char *name)
{
	struct buf b = BUF_INIT;

	if (str_case_eq(name, "INBOX"))
		return xstrdup("INBOX");
	if (c->enabled & (IMAP_EN_UTF8 | IMAP_EN_REV2)) {
		if (!mutf7_utf8_valid(name, strlen(name)))
			return NULL;
		buf_puts(&b, name);
	} else if (mutf7_decode(name, strlen(name), &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	if (str_prefix_case(b.data, "INBOX.") && strncmp(b.data, "INBOX.", 6) != 0)
		memcpy(b.data, "INBOX", 5);
	if (!mstore_name_valid(buf_cstr(&b))) {
		buf_free(&b);
		return NULL;
	}
	return b.data ? b.data : xstrdup("");
}

void imap_mailbox_to_client(struct imap_client *c, const char *name, struct buf *out)
{
	struct buf b = BUF_INIT;

	if (c->enabled & (IMAP_EN_UTF8 | IMAP_EN_REV2))
		buf_puts(&b, name);
	else if (mutf7_encode(name, strlen(name), &b) < 0)
		buf_puts(&b, name);
	imap_write_astring(out, b.data ? b.data : "", b.len, imap_write_flags_mode(c));
	buf_free(&b);
}

/* ---- untagged updates ---- */

struct sync_ctx {
	struct imap_client *c;
	struct buf vanished;
};

static void sync_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
	struct sync_ctx *s = ctx;

	if (s->c->enabled & IMAP_EN_QRESYNC)
		buf_printf(&s->vanished, "%s%u", s->vanished.len ? "," : "", uid);
	else
		imap_untagged(s->c, "%u EXPUNGE", seq);
}

static void sync_exists(void *ctx, uint32_t count, uint32_t recent)
{
	struct sync_ctx *s = ctx;

	if (s->vanished.len) {
		imap_untagged(s->c, "VANISHED %s", s->vanished.data);
		buf_reset(&s->vanished);
	}
	imap_untagged(s->c, "%u EXISTS", count);
	if (!(s->c->enabled & IMAP_EN_REV2))
		imap_untagged(s->c, "%u RECENT", recent);
}

bool imap_uid_in(const uint32_t *v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == uid)
			return true;
		if (v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void sync_flags(void *ctx, const struct mstore_msg *m)
{
	struct sync_ctx *s = ctx;
	struct buf *o = &s->c->out;

	if (imap_uid_in(s->c->own, s->c->nown, m->uid))
		return;
	if (s->vanished.len) {
		imap_untagged(s->c, "VANISHED %s", s->vanished.data);
		buf_reset(&s->vanished);
	}
	buf_printf(o, "* %u FETCH (", m->seq);
	if (s->c->enabled & IMAP_EN_QRESYNC)
		buf_printf(o, "UID %u ", m->uid);
	buf_puts(o, "FLAGS ");
	imap_write_flags(s->c, o, m);
	if (s->c->enabled & IMAP_EN_CONDSTORE || s->c->condstore_seen)
		buf_printf(o, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	buf_puts(o, ")\r\n");
}

void imap_session_sync(struct imap_client *c, bool expunges)
{
	struct sync_ctx s = {c, BUF_INIT};
	struct mstore_sync_cb cb = {&s, sync_expunge, sync_exists, sync_flags};

	if (c->view == NULL)
		return;
	if (mstore_view_sync(c->view, expunges ? 0 : MSTORE_SYNC_NO_EXPUNGE, &cb) < 0)
		log_warn("imap(%s): sync of %s failed: %s", c->user, mstore_view_name(c->view),
		    mstore_strerror(c->store));
	if (s.vanished.len)
		imap_untagged(c, "VANISHED %s", s.vanished.data);
	buf_free(&s.vanished);
	free(c->own);
	c->own = NULL;
	c->nown = 0;
}

/* ---- the small commands ---- */

static void cmd_capability(struct imap_client *c, const struct imap_command *cmd)
{
	imap_untagged(c, "CAPABILITY %s", imap_capabilities());
	imap_reply(c, cmd->tag, "OK", "Capability completed.");
}

static void cmd_noop(struct imap_client *c, const struct imap_command *cmd)
{
	imap_reply(c, cmd->tag, "OK", "%s completed.", cmd->name);
}

static void cmd_logout(struct imap_client *c, const struct imap_command *cmd)
{
	imap_untagged(c, "BYE Logging out");
	imap_reply(c, cmd->tag, "OK", "Logout completed.");
	c->closing = true;
	c->state = IMAP_STATE_LOGOUT;
}

static void cmd_enable(struct imap_client *c, const struct imap_command *cmd)
{
	const char *err;
	char **caps = imap_enable_parse(cmd->args, cmd->count, &err);
	struct buf on = BUF_INIT;

	if (caps == NULL) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	for (size_t i = 0; caps[i]; i++) {
		unsigned bit = 0;

		if (strcmp(caps[i], "CONDSTORE") == 0)
			bit = IMAP_EN_CONDSTORE;
		else if (strcmp(caps[i], "QRESYNC") == 0)
			bit = IMAP_EN_QRESYNC | IMAP_EN_CONDSTORE;
		else if (strcmp(caps[i], "UTF8=ACCEPT") == 0)
			bit = IMAP_EN_UTF8;
		else if (strcmp(caps[i], "IMAP4REV2") == 0)
			bit = IMAP_EN_REV2;
		if (bit == 0 || (c->enabled & bit) == bit)
			continue;
		c->enabled |= bit;
		buf_printf(&on, " %s", caps[i]);
	}
	strv_free(caps);
	imap_untagged(c, "ENABLED%s", buf_cstr(&on));
	buf_free(&on);
	imap_reply(c, cmd->tag, "OK", "Enabled.");
}

static void cmd_id(struct imap_client *c, const struct imap_command *cmd)
{
	char **pairs;
	const char *err;

	if (!imap_id_parse(cmd->args, cmd->count, &pairs, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	strv_free(pairs);
	imap_untagged(c, "ID (\"name\" \"tern\")");
	imap_reply(c, cmd->tag, "OK", "ID completed.");
}

static void cmd_namespace(struct imap_client *c, const struct imap_command *cmd)
{
	imap_untagged(c, "NAMESPACE ((\"\" \".\")) NIL NIL");
	imap_reply(c, cmd->tag, "OK", "Namespace completed.");
}

static void cmd_idle(struct imap_client *c, const struct imap_command *cmd)
{
	(void)cmd;
	imap_client_idle_start(c);
}

static void cmd_compress(struct imap_client *c, const struct imap_command *cmd)
{
	const char *err;

	if (!imap_compress_parse(cmd->args, cmd->count, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		return;
	}
	if (c->z || c->compress_pending) {
		imap_reply(c, cmd->tag, "NO", "[COMPRESSIONACTIVE] Compression already active.");
		return;
	}
	imap_reply(c, cmd->tag, "OK", "Begin compression.");
	imap_client_compress_start(c);
}

static void cmd_login_again(struct imap_client *c, const struct imap_command *cmd)
{
	imap_reply(c, cmd->tag, "BAD", "Already authenticated.");
}

static const struct cmd_def commands[] = {
    {"APPEND", imap_cmd_append, CMD_SYNC},
    {"AUTHENTICATE", cmd_login_again, 0},
    {"CAPABILITY", cmd_capability, CMD_SYNC},
    {"CHECK", cmd_noop, CMD_SELECTED | CMD_SYNC},
    {"CLOSE", imap_cmd_close, CMD_SELECTED},
    {"COMPRESS", cmd_compress, 0},
    {"COPY", imap_cmd_copy, CMD_SELECTED | CMD_SYNC},
    {"CREATE", imap_cmd_create, CMD_SYNC},
    {"DELETE", imap_cmd_delete, CMD_SYNC},
    {"ENABLE", cmd_enable, 0},
    {"EXAMINE", imap_cmd_select, 0},
    {"EXPUNGE", imap_cmd_expunge, CMD_SELECTED | CMD_SYNC},
    {"FETCH", imap_cmd_fetch, CMD_SELECTED | CMD_SYNC_NOEXP},
    {"GETQUOTA", imap_cmd_getquota, CMD_SYNC},
    {"GETQUOTAROOT", imap_cmd_getquotaroot, CMD_SYNC},
    {"ID", cmd_id, CMD_SYNC},
    {"IDLE", cmd_idle, 0},
    {"LIST", imap_cmd_list, CMD_SYNC},
    {"LOGIN", cmd_login_again, 0},
    {"LOGOUT", cmd_logout, 0},
    {"LSUB", imap_cmd_list, CMD_SYNC},
    {"MOVE", imap_cmd_copy, CMD_SELECTED | CMD_SYNC},
    {"NAMESPACE", cmd_namespace, CMD_SYNC},
    {"NOOP", cmd_noop, CMD_SYNC},
    {"RENAME", imap_cmd_rename, CMD_SYNC},
    {"SEARCH", imap_cmd_search, CMD_SELECTED | CMD_SYNC_NOEXP},
    {"SELECT", imap_cmd_select, 0},
    {"SORT", imap_cmd_sort, CMD_SELECTED | CMD_SYNC_NOEXP},
    {"STATUS", imap_cmd_status, CMD_SYNC},
    {"STORE", imap_cmd_store, CMD_SELECTED | CMD_SYNC_NOEXP},
    {"SUBSCRIBE", imap_cmd_subscribe, CMD_SYNC},
    {"THREAD", imap_cmd_thread, CMD_SELECTED | CMD_SYNC_NOEXP},
    {"UID COPY", imap_cmd_copy, CMD_SELECTED | CMD_SYNC},
    {"UID EXPUNGE", imap_cmd_expunge, CMD_SELECTED | CMD_SYNC},
    {"UID FETCH", imap_cmd_fetch, CMD_SELECTED | CMD_SYNC},
    {"UID MOVE", imap_cmd_copy, CMD_SELECTED | CMD_SYNC},
    {"UID SEARCH", imap_cmd_search, CMD_SELECTED | CMD_SYNC},
    {"UID SORT", imap_cmd_sort, CMD_SELECTED | CMD_SYNC},
    {"UID STORE", imap_cmd_store, CMD_SELECTED | CMD_SYNC},
    {"UID THREAD", imap_cmd_thread, CMD_SELECTED | CMD_SYNC},
    {"UNSELECT", imap_cmd_close, CMD_SELECTED},
    {"UNSUBSCRIBE", imap_cmd_subscribe, CMD_SYNC},
};

/* Commands that take no arguments refuse any. */
static bool cmd_takes_none(const char *name)
{
	static const char *const none[] = {"CAPABILITY", "CHECK", "CLOSE", "EXPUNGE", "IDLE",
	    "LOGOUT", "NAMESPACE", "NOOP", "UNSELECT"};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (strcmp(name, none[i]) == 0)
			return true;
	return false;
}

void imap_session_command(struct imap_client *c, const struct imap_command *cmd)
{
	const char *err;

	c->cmd_sync = 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct cmd_def *d = &commands[i];

		if (strcmp(d->name, cmd->name) != 0)
			continue;
		if ((d->flags & CMD_SELECTED) && c->state != IMAP_STATE_SELECTED) {
			imap_reply(c, cmd->tag, "BAD", "No mailbox selected.");
			return;
		}
		if (cmd_takes_none(d->name) && !imap_no_args(cmd->count, &err)) {
			imap_reply(c, cmd->tag, "BAD", "%s", err);
			return;
		}
		c->cmd_sync = d->flags & (CMD_SYNC | CMD_SYNC_NOEXP);
		d->fn(c, cmd);
		return;
	}
	imap_reply(c, cmd->tag, "BAD", "Unknown command.");
}
