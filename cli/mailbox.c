/*
 * mailbox.c - "tern mailbox": the operator's (and the tests') tool on
 * mailboxes, through the mailbox store, like doveadm's mailbox commands.
 *
 *   tern [-c DIR] mailbox list MAILBOX
 *   tern [-c DIR] mailbox status MAILBOX [FOLDER]
 *   tern [-c DIR] mailbox rebuild MAILBOX [FOLDER]
 *   tern [-c DIR] mailbox append [-f FLAGS] [-d UNIXTIME] MAILBOX FOLDER < message
 *   tern [-c DIR] mailbox fetch [-b] MAILBOX FOLDER [UID]
 *   tern [-c DIR] mailbox flags MAILBOX FOLDER UID (+|-|=)FLAGS
 *   tern [-c DIR] mailbox expunge MAILBOX FOLDER [UID...]
 *   tern [-c DIR] mailbox create|delete|subscribe|unsubscribe MAILBOX FOLDER
 *   tern [-c DIR] mailbox rename MAILBOX FOLDER NEWNAME
 *   tern [-c DIR] mailbox quota MAILBOX
 *
 * MAILBOX is a Maildir path (it holds a '/'), a virtual address (looked
 * up in virtual_mailbox_maps below virtual_mailbox_base) or a system
 * user (home_mailbox in the home directory).  Run as root, the command
 * becomes the owner of the Maildir first, so that every file it makes
 * belongs to the mailbox's owner.  FLAGS: words separated by spaces or
 * commas, "\Seen" or "seen" for the system flags, anything else a
 * keyword.  Output: one "key=value ..." line per folder or message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailbox_path.h"
#include "mstore/mstore.h"
#include "privs.h"
#include "tern.h"
#include "util.h"

static int mb_usage(void)
{
	fprintf(stderr,
	    "usage: tern mailbox list|status|rebuild|quota MAILBOX [FOLDER]\n"
	    "       tern mailbox append [-f FLAGS] [-d UNIXTIME] MAILBOX FOLDER < message\n"
	    "       tern mailbox fetch [-b] MAILBOX FOLDER [UID]\n"
	    "       tern mailbox flags MAILBOX FOLDER UID (+|-|=)FLAGS\n"
	    "       tern mailbox expunge MAILBOX FOLDER [UID...]\n"
	    "       tern mailbox create|delete|subscribe|unsubscribe MAILBOX FOLDER\n"
	    "       tern mailbox rename MAILBOX FOLDER NEWNAME\n");
	return EX_USAGE;
}

/* As root, becomes the Maildir's owner (never root's files in it). */
static void mb_become_owner(const char *path)
{
	struct stat st;

	if (geteuid() != 0 || stat(path, &st) < 0 || st.st_uid == 0)
		return;
	priv_drop_ids(st.st_uid, st.st_gid, NULL);
}

static unsigned mb_flag_bit(const char *w)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"seen", MSTORE_F_SEEN}, {"answered", MSTORE_F_ANSWERED},
	    {"flagged", MSTORE_F_FLAGGED}, {"deleted", MSTORE_F_DELETED},
	    {"draft", MSTORE_F_DRAFT}};

	if (*w == '\\')
		w++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(w, names[i].name) == 0)
			return names[i].bit;
	return 0;
}

/* Splits FLAGS into system bits and keywords (caller frees *kw). */
static unsigned mb_parse_flags(const char *s, char ***kw)
{
	char **words = strv_split(s, " ,");
	size_t n = 0;
	unsigned bits = 0;

	*kw = xcalloc(strv_len(words) + 1, sizeof(**kw));
	for (char **w = words; *w; w++) {
		unsigned b = mb_flag_bit(*w);

		if (b)
			bits |= b;
		else
			(*kw)[n++] = xstrdup(*w);
	}
	strv_free(words);
	return bits;
}

static void mb_print_flags(struct mstore_view *v, const struct mstore_msg *m)
{
	static const char *const sys[] = {
	    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"};
	bool first = true;

	printf(" flags=");
	for (int i = 0; i < 6; i++) {
		if (m->flags & (1u << i)) {
			printf("%s%s", first ? "" : ",", sys[i]);
			first = false;
		}
	}
	printf(" keywords=");
	first = true;
	for (unsigned i = 0; i < 32; i++) {
		const char *k = (m->keywords & (1u << i)) ? mstore_view_keyword(v, i) : NULL;

		if (k) {
			printf("%s%s", first ? "" : ",", k);
			first = false;
		}
	}
}

static int mb_fail(struct mstore *s, const char *what)
{
	fprintf(stderr, "tern mailbox: %s: %s\n", what, mstore_strerror(s));
	switch (mstore_error(s)) {
	case MSTORE_ENOTFOUND: return EX_NOINPUT;
	case MSTORE_EINVAL: return EX_USAGE;
	case MSTORE_ETEMP: return EX_TEMPFAIL;
	case MSTORE_EQUOTA:
	case MSTORE_ENOSPACE: return EX_CANTCREAT;
	default: return EX_SOFTWARE;
	}
}

static int mb_list(struct mstore *s)
{
	struct mstore_folder_info *v;
	size_t n;

	if (mstore_list(s, &v, &n) < 0)
		return mb_fail(s, "list");
	for (size_t i = 0; i < n; i++) {
		printf("%s\t%s%s%s%s\t", v[i].name,
		    (v[i].flags & MSTORE_LF_SUBSCRIBED) ? "subscribed," : "",
		    (v[i].flags & MSTORE_LF_NONEXISTENT) ? "nonexistent," : "",
		    (v[i].flags & MSTORE_LF_CHILDREN) ? "children" : "",
		    (v[i].flags & MSTORE_LF_NOCHILDREN) ? "nochildren" : "");
		static const char *const su[] = {
		    "\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"};
		for (int b = 0; b < 7; b++)
			if (v[i].special_use & (1u << b))
				printf("%s", su[b]);
		printf("\n");
	}
	mstore_list_free(v, n);
	return 0;
}

static int mb_status_one(struct mstore *s, const char *folder)
{
	struct mstore_status st;

	if (mstore_status(s, folder, &st, true) < 0)
		return mb_fail(s, folder);
	printf("folder=%s messages=%u recent=%u unseen=%u deleted=%u uidnext=%u uidvalidity=%u "
	       "highestmodseq=%llu size=%llu\n",
	    folder, st.messages, st.recent, st.unseen, st.deleted, st.uidnext, st.uidvalidity,
	    (unsigned long long)st.highest_modseq, (unsigned long long)st.size);
	return 0;
}

/* Runs fn for FOLDER, or for every existing folder when NULL. */
static int mb_each(struct mstore *s, const char *folder, int (*fn)(struct mstore *, const char *))
{
	struct mstore_folder_info *v;
	size_t n;
	int r = 0;

	if (folder)
		return fn(s, folder);
	if (mstore_list(s, &v, &n) < 0)
		return mb_fail(s, "list");
	for (size_t i = 0; i < n && r == 0; i++)
		if (!(v[i].flags & MSTORE_LF_NONEXISTENT))
			r = fn(s, v[i].name);
	mstore_list_free(v, n);
	return r;
}

static int mb_rebuild_one(struct mstore *s, const char *folder)
{
	if (mstore_folder_rebuild(s, folder) < 0)
		return mb_fail(s, folder);
	return mb_status_one(s, folder);
}

static int mb_append(struct mstore *s, const char *folder, const char *flags, long date)
{
	struct mstore_save_opts o = {0};
	struct mstore_save *sv;
	char block[65536], **kw = NULL;
	uint32_t uid = 0, uidv = 0;
	size_t n;
	int r;

	o.flags = flags ? mb_parse_flags(flags, &kw) : 0;
	o.keywords = (const char *const *)kw;
	o.internal_date = (time_t)date;
	sv = mstore_save_begin(s, folder, &o);
	if (sv == NULL) {
		strv_free(kw);
		return mb_fail(s, folder);
	}
	while ((n = fread(block, 1, sizeof(block), stdin)) > 0)
		mstore_save_write(sv, block, n);
	r = mstore_save_commit(sv, &uid, &uidv);
	strv_free(kw);
	if (r < 0)
		return mb_fail(s, "append");
	printf("uid=%u uidvalidity=%u\n", uid, uidv);
	return 0;
}

static int mb_fetch(struct mstore *s, const char *folder, long only, bool body)
{
	struct mstore_view *v;

	if (mstore_view_open(s, folder, MSTORE_VIEW_READONLY, &v) < 0)
		return mb_fail(s, folder);
	for (uint32_t seq = 1; seq <= mstore_view_count(v); seq++) {
		struct mstore_msg m;
		uint64_t size = 0, vsize = 0;
		struct buf guid = BUF_INIT, uidl = BUF_INIT;
		time_t idate = 0, sdate = 0;

		if (mstore_view_msg(v, seq, &m) < 0 || (only && m.uid != (uint32_t)only))
			continue;
		if (body) {
			int fd = mstore_view_open_msg(v, m.uid);
			ssize_t k;

			char block[65536];

			if (fd < 0)
				continue;

			while ((k = read(fd, block, sizeof(block))) > 0)
				fwrite(block, 1, (size_t)k, stdout);
			close(fd);
			continue;
		}
		mstore_view_sizes(v, m.uid, &size, &vsize);
		mstore_view_dates(v, m.uid, &idate, &sdate);
		mstore_view_guid(v, m.uid, &guid);
		mstore_view_pop3_uidl(v, m.uid, &uidl);
		printf("seq=%u uid=%u", seq, m.uid);
		mb_print_flags(v, &m);
		printf(" modseq=%llu size=%llu vsize=%llu internaldate=%lld guid=%s uidl=%s\n",
		    (unsigned long long)m.modseq, (unsigned long long)size,
		    (unsigned long long)vsize, (long long)idate, buf_cstr(&guid), buf_cstr(&uidl));
		buf_free(&guid);
		buf_free(&uidl);
	}
	mstore_view_close(v);
	return 0;
}

static int mb_flags(struct mstore *s, const char *folder, long uid, const char *spec)
{
	struct mstore_store_req req = {0};
	struct mstore_view *v;
	uint32_t u = (uint32_t)uid, *failed = NULL;
	size_t nfailed = 0;
	char **kw = NULL;
	int r;

	req.mode = *spec == '+'	  ? MSTORE_STORE_ADD
		   : *spec == '-' ? MSTORE_STORE_REMOVE
				  : MSTORE_STORE_SET;
	if (*spec == '+' || *spec == '-' || *spec == '=')
		spec++;
	req.flags = mb_parse_flags(spec, &kw);
	req.keywords = (const char *const *)kw;
	if (mstore_view_open(s, folder, 0, &v) < 0) {
		strv_free(kw);
		return mb_fail(s, folder);
	}
	r = mstore_view_store(v, &u, 1, &req, &failed, &nfailed);
	free(failed);
	strv_free(kw);
	if (r < 0) {
		r = mb_fail(s, "flags");
	} else {
		struct mstore_msg m;

		if (mstore_view_msg_uid(v, u, &m) == 0) {
			printf("uid=%u", m.uid);
			mb_print_flags(v, &m);
			printf(" modseq=%llu\n", (unsigned long long)m.modseq);
		}
	}
	mstore_view_close(v);
	return r;
}

static int mb_expunge(struct mstore *s, const char *folder, char **uids, int n)
{
	struct mstore_view *v;
	uint32_t *u = xcalloc((size_t)n + 1, sizeof(*u));
	int r;

	for (int i = 0; i < n; i++) {
		long x;

		if (!parse_long(uids[i], 1, 0xffffffffL, &x)) {
			free(u);
			return mb_usage();
		}
		u[i] = (uint32_t)x;
	}
	if (mstore_view_open(s, folder, 0, &v) < 0) {
		free(u);
		return mb_fail(s, folder);
	}
	r = mstore_view_expunge(v, n ? u : NULL, (size_t)n);
	free(u);
	if (r < 0)
		r = mb_fail(s, "expunge");
	mstore_view_close(v);
	return r;
}

static int mb_quota(struct mstore *s)
{
	struct mstore_quota q;

	if (mstore_quota_usage(s, &q) < 0)
		return mb_fail(s, "quota");
	printf("bytes=%llu messages=%llu limit_bytes=%llu limit_messages=%llu\n",
	    (unsigned long long)q.bytes, (unsigned long long)q.messages,
	    (unsigned long long)q.limit_bytes, (unsigned long long)q.limit_messages);
	return 0;
}

/* The subcommand with the store open; argv after MAILBOX. */
static int mb_run(struct mstore *s, const char *cmd, int argc, char **argv, const char *flags,
    long date, bool body)
{
	const char *folder = argc > 0 ? argv[0] : NULL;
	long uid = 0;

	if (strcmp(cmd, "list") == 0)
		return mb_list(s);
	if (strcmp(cmd, "status") == 0)
		return mb_each(s, folder, mb_status_one);
	if (strcmp(cmd, "rebuild") == 0)
		return mb_each(s, folder, mb_rebuild_one);
	if (strcmp(cmd, "quota") == 0)
		return mb_quota(s);
	if (folder == NULL)
		return mb_usage();
	if (strcmp(cmd, "append") == 0)
		return mb_append(s, folder, flags, date);
	if (strcmp(cmd, "fetch") == 0) {
		if (argc > 1 && !parse_long(argv[1], 1, 0xffffffffL, &uid))
			return mb_usage();
		return mb_fetch(s, folder, uid, body);
	}
	if (strcmp(cmd, "flags") == 0) {
		if (argc != 3 || !parse_long(argv[1], 1, 0xffffffffL, &uid))
			return mb_usage();
		return mb_flags(s, folder, uid, argv[2]);
	}
	if (strcmp(cmd, "expunge") == 0)
		return mb_expunge(s, folder, argv + 1, argc - 1);
	if (strcmp(cmd, "create") == 0)
		return mstore_folder_create(s, folder, 0) < 0 ? mb_fail(s, folder) : 0;
	if (strcmp(cmd, "delete") == 0)
		return mstore_folder_delete(s, folder) < 0 ? mb_fail(s, folder) : 0;
	if (strcmp(cmd, "subscribe") == 0 || strcmp(cmd, "unsubscribe") == 0)
		return mstore_subscribe(s, folder, cmd[0] == 's') < 0 ? mb_fail(s, folder) : 0;
	if (strcmp(cmd, "rename") == 0 && argc == 2)
		return mstore_folder_rename(s, folder, argv[1]) < 0 ? mb_fail(s, folder) : 0;
	return mb_usage();
}

int cmd_mailbox(const char *confdir, int argc, char **argv)
{
	const char *cmd, *flags = NULL;
	struct buf err = BUF_INIT;
	struct mstore_opts o;
	struct mstore *s;
	bool body = false;
	long date = 0;
	char *root;
	int c, r;

	if (argc < 2)
		return mb_usage();
	cmd = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt(argc, argv, "+f:d:b")) != -1) {
		switch (c) {
		case 'f': flags = optarg; break;
		case 'd':
			if (!parse_long(optarg, 1, 0x7fffffffL, &date))
				return mb_usage();
			break;
		case 'b': body = true; break;
		default: return mb_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return mb_usage();
	if (confdir)
		cli_load_config(confdir);
	else if (config_load(NULL, true, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		return EX_CONFIG;
	}
	root = mailbox_resolve(argv[0], &err);
	if (root == NULL) {
		fprintf(stderr, "tern mailbox: no mailbox for %s: %s\n", argv[0], buf_cstr(&err));
		return EX_NOUSER;
	}
	buf_reset(&err);
	mb_become_owner(root);
	mstore_opts_from_config(&o);
	/* The operator's tool changes nothing the command did not ask for. */
	o.autocreate = false;
	s = mstore_open(root, &o, &err);
	if (s == NULL) {
		fprintf(stderr, "tern mailbox: %s\n", buf_cstr(&err));
		free(root);
		buf_free(&err);
		return EX_NOINPUT;
	}
	r = mb_run(s, cmd, argc - 1, argv + 1, flags, date, body);
	mstore_close(s);
	free(root);
	buf_free(&err);
	return r;
}
