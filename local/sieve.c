/*
 * sieve.c - Sieve filtering at Maildir delivery, as Dovecot's LDA with
 * Pigeonhole does it.
 *
 * Scripts: sieve_before, then the user's active script (parameter
 * sieve_script, default ~/.dovecot.sieve, often a symlink into ~/sieve/ as
 * ManageSieve leaves it), then sieve_after; "~" is the user's home, or a
 * virtual mailbox's directory.  No script at all: the caller delivers as
 * usual.  Each script's actions are performed in order; the implicit
 * keep is done when every script left it (a fileinto in sieve_before,
 * e.g. spam to Junk, then cancels the INBOX copy).
 *
 * Never lose mail: a script that does not compile or fails at run time
 * is logged and its message is kept in INBOX (RFC 5228 2.10.6); a fileinto
 * to a folder that does not exist goes to INBOX unless :create or
 * sieve_mailbox_autocreate says to make it.  A failed store defers the
 * recipient (qmgr retries; at worst a copy arrives twice).
 *
 * Actions: keep/fileinto through the mailbox store with their IMAP flags;
 * redirect as a new queue file through cleanup (forward.c) with the
 * original envelope sender; reject/ereject bounce with 5.7.1 and the
 * reason; vacation replies (unless lib/sieve found a reason not to) go
 * from the null sender with Auto-Submitted: auto-replied, once per
 * sender and period, recorded in ~/.tern.sieve-dupes ("id expiry" lines,
 * also used by the duplicate test; expired lines are dropped when the
 * file passes 64 KiB); enotify's mailto notifications (ls_notify) go
 * the same way, never about an auto-submitted message.
 *
 * Compiled scripts are cached per local process, keyed by the file's
 * identity and modification time (ls_compiled).
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mime/downgrade.h"
#include "mime/header.h"
#include "mime/rfc2047.h"
#include "mstore/mstore.h"
#include "privs.h"
#include "proto.h"
#include "sieve/sieve.h"
#include "sieve/storage.h"
#include "util.h"

struct ls_ctx {
	const struct local_msg *m;
	const char *rcpt;
	const char *dir;  /* the Maildir */
	const char *home; /* "~" */
	char *dupes;	  /* tracking file */
	/* editheader: m is a copy whose header_mem is hdr's text */
	struct local_msg *edit;
	struct buf *hdr;
};

/* The file at path into text; false when it is missing or too large. */
static bool ls_read(const char *path, struct buf *text)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf_append(text, chunk, (size_t)n);
		if (text->len > SIEVE_MAX_SCRIPT)
			break;
	}
	close(fd);
	return n == 0;
}

static bool ls_mailbox_exists(void *ctx, const char *name)
{
	const struct ls_ctx *c = ctx;

	return maildir_folder_exists(c->dir, name);
}

/* True when id is in the tracking file and has not expired. */
static bool ls_track_check(void *ctx, const char *id)
{
	const struct ls_ctx *c = ctx;
	FILE *f = fopen(c->dupes, "re");
	char line[256];
	long long now = time(NULL);
	bool seen = false;

	if (f == NULL)
		return false;
	while (!seen && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		if (sp && (size_t)(sp - line) == strlen(id) && memcmp(line, id, strlen(id)) == 0)
			seen = atoll(sp + 1) > now;
	}
	fclose(f);
	return seen;
}

/* Rewrites the tracking file without its expired lines, once it has
 * grown past 64 KiB, so it stays small however much mail arrives. */
static void ls_track_prune(const struct ls_ctx *c)
{
	FILE *in = fopen(c->dupes, "re");
	char *tmp = xasprintf("%s.%d.tmp", c->dupes, (int)getpid());
	char line[256];
	long long now = time(NULL);
	FILE *out;

	if (in == NULL || (out = fopen(tmp, "we")) == NULL) {
		if (in)
			fclose(in);
		free(tmp);
		return;
	}
	while (fgets(line, sizeof(line), in)) {
		char *sp = strchr(line, ' ');

		if (sp && atoll(sp + 1) > now)
			fputs(line, out);
	}
	fclose(in);
	if (fclose(out) == 0)
		rename(tmp, c->dupes);
	else
		unlink(tmp);
	free(tmp);
}

static void ls_track_record(const struct ls_ctx *c, const char *id, long seconds)
{
	struct stat st;
	int fd = open(c->dupes, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	char line[256];
	int n;

	if (fd < 0) {
		log_qid_warn(
		    c->m->qid, "sieve: cannot record in %s: %s", c->dupes, strerror(errno));
		return;
	}
	n = snprintf(line, sizeof(line), "%s %lld\n", id, (long long)time(NULL) + seconds);
	if (write(fd, line, (size_t)n) != n)
		log_qid_warn(
		    c->m->qid, "sieve: cannot record in %s: %s", c->dupes, strerror(errno));
	if (fstat(fd, &st) == 0 && st.st_size > 65536) {
		close(fd);
		ls_track_prune(c);
		return;
	}
	close(fd);
}

static bool ls_include_load(void *ctx, const char *name, bool global, struct buf *text)
{
	const struct ls_ctx *c = ctx;
	char *dir, *path;
	bool ok;

	if (strchr(name, '/') || name[0] == '.')
		return false;
	dir = sieve_path(config_str(global ? "sieve_global_dir" : "sieve_dir"), c->home);
	if (dir == NULL)
		return false;
	path = xasprintf("%s/%s.sieve", dir, name);
	ok = ls_read(path, text);
	free(path);
	free(dir);
	return ok;
}

/* The whole message from the queue file: header, empty line, body. */
static bool ls_message(const struct local_msg *m, struct buf *out)
{
	buf_reserve(out, (size_t)(m->header_len + m->body_len + 1));
	if (pread(m->fd, buf_tail(out), (size_t)m->header_len, m->header_off) != m->header_len)
		return false;
	buf_commit(out, (size_t)m->header_len);
	buf_putc(out, '\n');
	buf_reserve(out, (size_t)m->body_len);
	if (pread(m->fd, buf_tail(out), (size_t)m->body_len, m->body_off) != m->body_len)
		return false;
	buf_commit(out, (size_t)m->body_len);
	return true;
}

/* cleanup's socket is not open to the mailbox owner, whose effective ids
 * local runs the delivery with: a submission goes as root, as the alias
 * and .forward forwarding does, and the owner's ids come back after. */
struct ls_ids {
	bool switched;
	uid_t uid;
	gid_t gid;
};

static struct ls_ids ls_as_root(void)
{
	struct ls_ids ids = {false, geteuid(), getegid()};

	if (getuid() == 0 && ids.uid != 0) {
		ids.switched = true;
		priv_restore();
	}
	return ids;
}

static void ls_as_owner(struct ls_ids ids)
{
	if (ids.switched)
		priv_set_effective(ids.uid, ids.gid);
}

/* Splits Sieve flags into MSTORE_F_* and keywords (t->keywords). */
static void ls_flags(char *const *flags, struct maildir_target *t)
{
	static const struct {
		const char *name;
		unsigned bit;
	} sys[] = {{"\\seen", MSTORE_F_SEEN}, {"\\answered", MSTORE_F_ANSWERED},
	    {"\\flagged", MSTORE_F_FLAGGED}, {"\\deleted", MSTORE_F_DELETED},
	    {"\\draft", MSTORE_F_DRAFT}};
	size_t n = 0;

	t->flags = 0;
	t->keywords = xcalloc(1, sizeof(char *));
	for (size_t i = 0; flags && flags[i]; i++) {
		bool found = false;

		for (size_t j = 0; j < sizeof(sys) / sizeof(sys[0]); j++) {
			if (strcasecmp(flags[i], sys[j].name) == 0) {
				t->flags |= sys[j].bit;
				found = true;
			}
		}
		if (found || flags[i][0] == '\\' || strpbrk(flags[i], "(){%*\"]") != NULL)
			continue;
		t->keywords = xreallocarray(t->keywords, n + 2, sizeof(char *));
		t->keywords[n++] = flags[i];
		t->keywords[n] = NULL;
	}
}

/* keep or fileinto: the folder, or INBOX when it is missing and may not
 * be made. */
static int ls_store(const struct ls_ctx *c, const char *folder, char *const *flags, bool create,
    struct local_result *r)
{
	struct maildir_target t = {.folder = folder};
	int rc;

	if (!mstore_name_valid(folder) || (!create && !config_bool("sieve_mailbox_autocreate") &&
					      !maildir_folder_exists(c->dir, folder))) {
		log_qid(c->m->qid, "sieve: folder \"%s\" %s; delivering to INBOX", folder,
		    mstore_name_valid(folder) ? "does not exist" : "is not a valid name");
		t.folder = "INBOX";
	}
	t.create = strcasecmp(t.folder, "INBOX") != 0;
	ls_flags(flags, &t);
	rc = maildir_deliver_to(c->m, c->rcpt, c->dir, &t, r);
	if (rc == 0)
		log_qid(c->m->qid, "sieve: stored into \"%s\"", t.folder);
	free(t.keywords);
	return rc;
}

/* The original Subject and Message-ID for the reply. */
static void ls_orig_field(const char *msg, size_t len, const char *name, struct buf *out)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	mime_hdr_iter_init(&it, msg, len);
	while (mime_hdr_iter_next(&it, &f))
		if (mime_hdr_name_is(&f, name)) {
			mime_hdr_unfold(f.value, f.value_len, out);
			return;
		}
}

/* A Message-ID for a reply or notification made here: unique also among
 * the replies several recipients of one message make in one second. */
static void ls_message_id(const struct ls_ctx *c, const char *kind, time_t now, struct buf *out)
{
	buf_printf(out, "Message-ID: <%lld.%s.%s.%08x@%s>\n", (long long)now, c->m->qid, kind,
	    arc4random(), config_str("myhostname"));
}

static int ls_vacation(const struct ls_ctx *c, const struct sieve_action *a, const struct buf *msg,
    struct local_result *r)
{
	struct buf text = BUF_INIT, subj = BUF_INIT, mid = BUF_INIT;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (a->suppressed) {
		log_qid(c->m->qid, "sieve: no vacation reply to <%s>: %s", a->to, a->suppressed);
		return 0;
	}
	ls_orig_field(msg->data, msg->len, "subject", &subj);
	ls_orig_field(msg->data, msg->len, "message-id", &mid);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(&text, "From: %s\n", a->from ? a->from : c->rcpt);
	buf_printf(&text, "To: <%s>\n", a->to);
	if (a->subject)
		buf_printf(&text, "Subject: %s\n", a->subject);
	else
		buf_printf(&text, "Subject: Auto: %s\n", buf_cstr(&subj));
	buf_printf(&text, "Date: %s\n", date);
	ls_message_id(c, "vacation", now, &text);
	if (mid.len)
		buf_printf(
		    &text, "In-Reply-To: %s\nReferences: %s\n", buf_cstr(&mid), buf_cstr(&mid));
	buf_puts(&text, "Auto-Submitted: auto-replied (vacation)\nPrecedence: bulk\n");
	if (!a->mime)
		buf_puts(&text, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
				"Content-Transfer-Encoding: 8bit\n\n");
	else
		buf_puts(&text, "MIME-Version: 1.0\n");
	buf_puts(&text, a->target);
	if (text.len && text.data[text.len - 1] != '\n')
		buf_putc(&text, '\n');
	struct ls_ids ids = ls_as_root();

	char *to[1] = {a->to};

	rc = forward_submit_text(c->m->qid, "", to, 1, buf_cstr(&text), r);
	ls_as_owner(ids);
	if (rc == 0)
		ls_track_record(c, a->track_id, a->track_seconds);
	buf_free(&text);
	buf_free(&subj);
	buf_free(&mid);
	return rc;
}

/* "name: value\n", control characters (a multi-line string's line
 * breaks) as spaces so the value stays one field, as RFC 2047 words when
 * it is not ASCII. */
static void ls_field(struct buf *out, const char *name, const char *value)
{
	char *v = xstrdup(value);
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			v[i] = ' ';
	buf_printf(out, "%s: ", name);
	if (mime_downgrade_needed(v, len))
		mime_2047_encode(v, len, out);
	else
		buf_puts(out, v);
	buf_putc(out, '\n');
	free(v);
}

/* The address of :from ("Name <a@b>", "<a@b>" or "a@b"). */
static char *ls_addr_of(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) != NULL)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return xstrdup(from);
}

/*
 * enotify's mailto method (RFC 5436), as Pigeonhole sends it: From is
 * :from or the user; the envelope sender :from's address, or the user's,
 * or <> when the message came from <> (RFC 5436 2.3 lets :from be the
 * envelope sender too; a notification about a bounce never bounces
 * back); Subject :message, the URI's subject, or "Notification: " and
 * the message's; Auto-Submitted: auto-notified with owner-email (RFC
 * 5436 2.7), so no Sieve notifies or answers it again; the URI's body or
 * "Notification of new message.".
 */
static int ls_notify(const struct ls_ctx *c, const struct sieve_action *a, const struct buf *msg,
    struct local_result *r)
{
	struct sieve_mailto m;
	struct buf text = BUF_INIT, subj = BUF_INIT, raw = BUF_INIT;
	char date[64], *sender;
	const char *body;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (a->suppressed) {
		log_qid(c->m->qid, "sieve: no notification to %s: %s", a->target, a->suppressed);
		return 0;
	}
	if (!sieve_mailto_parse(a->target, &m, NULL) || m.nrcpts == 0) {
		log_qid(c->m->qid, "sieve: notification URI %s has no recipients", a->target);
		sieve_mailto_free(&m);
		return 0;
	}
	sender = *c->m->sender == 0 ? xstrdup("")
		 : a->from	    ? ls_addr_of(a->from)
				    : xstrdup(c->rcpt);
	if (a->subject) {
		buf_puts(&subj, a->subject);
	} else if (m.subject) {
		buf_puts(&subj, m.subject);
	} else {
		ls_orig_field(msg->data, msg->len, "subject", &raw);
		buf_puts(&subj, "Notification: ");
		if (raw.len)
			mime_2047_decode(raw.data, raw.len, &subj);
		else
			buf_puts(&subj, "(no subject)");
	}
	if (subj.len > 256) /* Pigeonhole's limit, cut between characters */
		for (subj.len = 256;
		     subj.len && ((unsigned char)subj.data[subj.len] & 0xc0) == 0x80;)
			subj.len--;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(&text, "Date: %s\n", date);
	ls_message_id(c, "notify", now, &text);
	ls_field(&text, "Subject", buf_cstr(&subj));
	if (a->from)
		ls_field(&text, "From", a->from);
	else
		buf_printf(&text, "From: <%s>\n", c->rcpt);
	for (int cc = 0; cc < 2; cc++) {
		const char *sep = cc ? "Cc: " : "To: ";
		bool any = false;

		for (size_t i = 0; i < m.nrcpts; i++) {
			if (m.cc[i] != cc)
				continue;
			buf_printf(&text, "%s%s", sep, m.rcpts[i]);
			sep = ",\n ";
			any = true;
		}
		if (any)
			buf_putc(&text, '\n');
	}
	buf_printf(&text, "Auto-Submitted: auto-notified; owner-email=\"%s\"\nPrecedence: bulk\n",
	    c->rcpt);
	buf_puts(&text, a->importance == 1   ? "X-Priority: 1 (Highest)\nImportance: High\n"
			: a->importance == 3 ? "X-Priority: 5 (Lowest)\nImportance: Low\n"
					     : "X-Priority: 3 (Normal)\nImportance: Normal\n");
	for (size_t i = 0; i < m.nheaders; i++)
		buf_printf(&text, "%s: %s\n", m.hnames[i], m.hvalues[i]);
	body = m.body ? m.body : "Notification of new message.";
	buf_printf(&text,
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\n"
	    "Content-Transfer-Encoding: %s\n\n%s\n",
	    mime_downgrade_needed(body, strlen(body)) ? "utf-8" : "us-ascii",
	    mime_downgrade_needed(body, strlen(body)) ? "8bit" : "7bit", body);
	struct ls_ids ids = ls_as_root();

	rc = forward_submit_text(c->m->qid, sender, m.rcpts, m.nrcpts, buf_cstr(&text), r);
	ls_as_owner(ids);
	if (rc == 0)
		log_qid(c->m->qid, "sieve: sent notification to <%s>%s", m.rcpts[0],
		    m.nrcpts > 1 ? " and others" : "");
	free(sender);
	buf_free(&text);
	buf_free(&subj);
	buf_free(&raw);
	sieve_mailto_free(&m);
	return rc;
}

/* Performs one action; -1 when the recipient must be retried (r set). */
static int ls_action(const struct ls_ctx *c, const struct sieve_action *a, const struct buf *msg,
    struct local_result *r)
{
	switch (a->type) {
	case SIEVE_ACT_KEEP: return ls_store(c, "INBOX", a->flags, false, r);
	case SIEVE_ACT_FILEINTO: return ls_store(c, a->target, a->flags, a->create, r);
	case SIEVE_ACT_REDIRECT: {
		char *rcpts[1] = {a->target};
		struct ls_ids ids = ls_as_root();
		int rc = forward_submit(c->m, c->m->sender, c->rcpt, rcpts, 1, r);

		ls_as_owner(ids);
		return rc;
	}
	case SIEVE_ACT_DISCARD: log_qid(c->m->qid, "sieve: discarded"); return 0;
	case SIEVE_ACT_VACATION: {
		struct local_result one;

		/* a reply that cannot be sent does not hold the delivery up */
		if (ls_vacation(c, a, msg, &one) < 0)
			log_qid_warn(c->m->qid, "sieve: vacation reply failed: %s", one.reason);
		return 0;
	}
	case SIEVE_ACT_NOTIFY: {
		struct local_result one;

		/* nor does a notification */
		if (ls_notify(c, a, msg, &one) < 0)
			log_qid_warn(c->m->qid, "sieve: notification failed: %s", one.reason);
		return 0;
	}
	default: return 0; /* reject: the caller bounces */
	}
}

/*
 * Compiled scripts, kept for the process's life: a script is compiled
 * again only when its file (followed through the ~/.dovecot.sieve link)
 * changes device, inode, size or modification time.  A few entries,
 * the least recently used replaced; scripts that do not compile are not
 * kept (they are logged at each delivery, as before).
 */
#define LS_CACHE 16

static struct ls_cached {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct sieve_script *s;
	unsigned long used;
} ls_cache[LS_CACHE];
static unsigned long ls_cache_clock;

static bool ls_cache_match(const struct ls_cached *e, const char *path, const struct stat *st)
{
	return e->s && strcmp(e->path, path) == 0 && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* The compiled script at path: from the cache, or read and compiled
 * (errors appended to errors).  NULL with *missing when there is no
 * script, NULL alone when it does not compile. */
static const struct sieve_script *ls_compiled(const char *path, struct buf *errors, bool *missing)
{
	struct buf text = BUF_INIT;
	struct ls_cached *slot = &ls_cache[0];
	struct sieve_script *s;
	struct stat st;

	*missing = false;
	if (stat(path, &st) == 0) {
		for (size_t i = 0; i < LS_CACHE; i++) {
			if (ls_cache_match(&ls_cache[i], path, &st)) {
				ls_cache[i].used = ++ls_cache_clock;
				return ls_cache[i].s;
			}
		}
	}
	if (!ls_read(path, &text)) {
		buf_free(&text);
		*missing = true;
		return NULL;
	}
	s = sieve_compile(text.data ? text.data : "", text.len, path, errors);
	buf_free(&text);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < LS_CACHE; i++) {
		if (ls_cache[i].s && strcmp(ls_cache[i].path, path) == 0) {
			slot = &ls_cache[i]; /* an older version of the same file */
			break;
		}
		if (ls_cache[i].used < slot->used)
			slot = &ls_cache[i];
	}
	if (slot->s) {
		sieve_script_free(slot->s);
		free(slot->path);
	}
	slot->path = xstrdup(path);
	slot->dev = st.st_dev;
	slot->ino = st.st_ino;
	slot->size = st.st_size;
	slot->mtime = st.st_mtim;
	slot->s = s;
	slot->used = ++ls_cache_clock;
	return s;
}

/* Runs one script file; false when there is none.  *keep: its implicit
 * keep, ANDed in. */
/* editheader: what the script left becomes the header every store and
 * redirect writes, and the message the next script sees. */
static void ls_edited(const struct ls_ctx *c, const struct sieve_result *res, struct buf *msg)
{
	struct buf next = BUF_INIT;
	size_t body = (size_t)c->m->body_len;

	buf_append(&next, res->header, res->header_len);
	buf_putc(&next, '\n');
	buf_append(&next, msg->data + msg->len - body, body);
	buf_free(msg);
	*msg = next;
	buf_reset(c->hdr);
	buf_append(c->hdr, res->header, res->header_len);
	c->edit->header_mem = buf_cstr(c->hdr);
	c->edit->header_mem_len = c->hdr->len;
}

static bool ls_run_script(const struct ls_ctx *c, const char *path, struct buf *msg,
    const struct sieve_env *env, bool *keep, char ***keep_flags, struct local_result *r,
    bool *decided)
{
	struct buf errors = BUF_INIT;
	const struct sieve_script *s;
	struct sieve_result res;
	bool missing;

	s = ls_compiled(path, &errors, &missing);
	if (missing) {
		buf_free(&errors);
		return false;
	}
	if (s == NULL) {
		if (errors.len && errors.data[errors.len - 1] == '\n')
			buf_truncate(&errors, errors.len - 1);
		log_qid_warn(c->m->qid, "sieve: %s does not compile, keeping the message: %s", path,
		    buf_cstr(&errors));
		buf_free(&errors);
		return true;
	}
	buf_free(&errors);
	if (!sieve_execute(s, msg->data, msg->len, env, &res)) {
		if (res.errors.len && res.errors.data[res.errors.len - 1] == '\n')
			buf_truncate(&res.errors, res.errors.len - 1);
		log_qid_warn(c->m->qid, "sieve: %s failed, keeping the message: %s", path,
		    buf_cstr(&res.errors));
	} else {
		if (res.header)
			ls_edited(c, &res, msg);
		for (size_t i = 0; i < res.nactions && !*decided; i++) {
			const struct sieve_action *a = &res.actions[i];

			if (a->type == SIEVE_ACT_REJECT || a->type == SIEVE_ACT_EREJECT) {
				local_result_set(r, RES_BOUNCED, "5.7.1", "%s", a->target);
				*decided = true;
			} else if (ls_action(c, a, msg, r) < 0) {
				*decided = true;
			}
		}
		if (!*decided) {
			for (size_t i = 0; i < res.ntrack; i++)
				ls_track_record(c, res.track_ids[i], res.track_secs[i]);
			if (!res.implicit_keep)
				*keep = false;
			else if (res.keep_flags) {
				strv_free(*keep_flags);
				*keep_flags = res.keep_flags;
				res.keep_flags = NULL;
			}
		}
	}
	sieve_result_free(&res);
	return true;
}

static const char *ls_param(const char *name, void *ctx)
{
	(void)ctx;
	return config_str(name);
}

/* spamtest/virustest configuration, read once per process (`tern check`
 * reports a bad one before start). */
static const struct sieve_scoretest *ls_scoretest(bool virus)
{
	static struct sieve_scoretest *t[2];
	static bool loaded[2];

	if (!loaded[virus]) {
		struct buf err = BUF_INIT;

		loaded[virus] = true;
		if (!sieve_scoretest_load(virus, ls_param, NULL, &t[virus], &err))
			log_warn("%s: not configured: %s", virus ? "virustest" : "spamtest",
			    buf_cstr(&err));
		buf_free(&err);
	}
	return t[virus];
}

int local_sieve_deliver(const struct local_msg *m, const char *rcpt, const char *dir,
    const char *home, struct local_result *r)
{
	const char *params[] = {"sieve_before", "sieve_script", "sieve_after"};
	struct local_msg em = *m;
	struct buf hdr = BUF_INIT;
	struct ls_ctx c = {&em, rcpt, dir, home, NULL, &em, &hdr};
	struct sieve_env env = {0};
	struct buf msg = BUF_INIT;
	char **keep_flags = NULL;
	bool keep = true, any = false, decided = false;

	c.dupes = xasprintf("%s/.tern.sieve-dupes", home);
	env.envelope_from = m->sender;
	env.envelope_to = rcpt;
	env.user = rcpt;
	env.host = config_str("myhostname");
	env.spamtest = ls_scoretest(false);
	env.virustest = ls_scoretest(true);
	env.ctx = &c;
	env.mailbox_exists = ls_mailbox_exists;
	env.track_check = ls_track_check;
	env.include_load = ls_include_load;
	local_result_set(r, RES_SENT, "2.0.0", "delivered by sieve");
	for (size_t i = 0; i < 3 && !decided; i++) {
		char *path = sieve_path(config_str(params[i]), home);

		if (path == NULL)
			continue;
		if (!any && access(path, R_OK) == 0 && !ls_message(m, &msg)) {
			local_result_errno(r, errno ? errno : EIO, "read the queue file");
			free(path);
			decided = true;
			any = true;
			break;
		}
		if (ls_run_script(&c, path, &msg, &env, &keep, &keep_flags, r, &decided))
			any = true;
		free(path);
	}
	if (any && !decided && keep && ls_store(&c, "INBOX", keep_flags, false, r) == 0)
		local_result_set(r, RES_SENT, "2.0.0", "delivered to maildir");
	strv_free(keep_flags);
	buf_free(&msg);
	buf_free(&hdr);
	free(c.dupes);
	return any ? 1 : 0;
}
