/*
 * imap/imap.h - the IMAP server of one user: what the files of imap/
 * share (client.c, session.c and the command files).
 *
 *   client.c     one connection on lib/event: reading lines and
 *                literals through parser.h, the output buffer with
 *                back-pressure, IDLE, the idle timeout, COMPRESS
 *   compress.c   COMPRESS=DEFLATE (RFC 4978) over zlib
 *   session.c    the command table, states, CAPABILITY, ENABLE, ID,
 *                NAMESPACE, untagged updates after commands
 *   mailbox.c    SELECT/EXAMINE/CLOSE/UNSELECT, CREATE/DELETE/RENAME,
 *                (UN)SUBSCRIBE, LIST/LSUB, STATUS, quota
 *   append.c     APPEND and MULTIAPPEND (the message literal streamed
 *                into the Maildir's tmp/)
 *   fetch.c      FETCH: items from the index and cache, sections
 *                streamed from the file, resumable when output backs up
 *   msgcmd.c     STORE, COPY, MOVE, EXPUNGE
 *   searchcmd.c  SEARCH, SORT, THREAD, in slices between other sessions
 *   main.c       the stand-alone mode "imap -c DIR --user NAME"
 *
 * Memory per session: the parser's limits (imap_max_line_length), the
 * output buffer (refilled only below IMAP_OUT_LOW, a command stops
 * adding at IMAP_OUT_HIGH and resumes later), one message's MIME tree
 * and header at a time, and for SEARCH/SORT one entry per message of
 * the result (4 bytes; SORT: its keys).
 */
#ifndef TERN_IMAP_IMAP_H
#define TERN_IMAP_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "buf.h"
#include "event.h"
#include "mstore/mstore.h"
#include "parser.h"

#define IMAP_OUT_HIGH (256 * 1024)
#define IMAP_OUT_LOW (64 * 1024)

enum imap_state {
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* ENABLEd extensions. */
enum {
	IMAP_EN_CONDSTORE = 1,
	IMAP_EN_QRESYNC = 2,
	IMAP_EN_UTF8 = 4,
	IMAP_EN_REV2 = 8,
};

struct imap_client;
struct imap_zlib;
struct imap_append_state;

/* A command that writes more than fits the output buffer: run again
 * when the output drained; returns true when it has finished (and sent
 * its tagged reply). */
typedef bool imap_cont_fn(struct imap_client *c);

/* Who the session is for (the stand-alone mode and postlogin fill it). */
struct imap_login_info {
	const char *user;
	const char *maildir;
	const char *rip, *lip;	/* client and local address, may be NULL */
	const char *tag;	/* the login command's tag (postlogin), or NULL */
	const char *quota_rule; /* the account's (auth), or NULL */
};

struct imap_client {
	struct event_loop *loop;
	int fd_in, fd_out;
	char *user;
	enum imap_state state;
	struct mstore *store;
	struct mstore_view *view;
	bool readonly;
	unsigned enabled;
	bool condstore_seen; /* a CONDSTORE-using command was given: MODSEQ in FETCH */

	struct imap_parser *parser;
	struct buf in, out, wire;
	struct imap_zlib *z;
	bool compress_pending; /* turn it on after the OK has gone out */

	/* The running command. */
	char *tag;
	unsigned cmd_sync; /* its untagged updates (session.c) */
	imap_cont_fn *cont;
	void *cont_ctx;
	void (*cont_free)(void *ctx);
	bool cont_yield;		 /* resume from the loop, not now */
	struct event_timer *yield_timer; /* that resumption */

	/* APPEND streaming a literal into a file. */
	struct imap_append_state *append;
	uint64_t lit_left;

	/* IDLE */
	bool idling;
	bool polls;			 /* its store has no inotify instance */
	struct imap_client *poll_next;	 /* idling and polls: client.c's list */
	struct imap_client *notify_next; /* stores on the process's instance */
	struct event_timer *timer;
	struct event_timer *close_timer; /* frees a closed client outside a callback */
	long long last_input;

	/* UIDs whose new flags this command reported itself: the sync
	 * before its tagged reply does not report them again. */
	uint32_t *own;
	size_t nown;

	struct imap_seqset saved; /* SEARCHRES "$" (UIDs) */
	bool saved_valid;

	bool closing;
	bool in_eof;
	uint64_t bytes_in, bytes_out;
	void (*on_close)(void *ctx);
	void *on_close_ctx;
};

/* ---- client.c ---- */

/* A session already logged in (the stand-alone mode, postlogin).
 * pending: bytes the client sent that the login process read ahead.
 * fd_out may equal fd_in.  With li->tag, the login command's tagged
 * "OK [CAPABILITY ...] Logged in" is written once the mailbox is open.
 * NULL (and a BYE written, then "tag NO [UNAVAILABLE]" with li->tag)
 * when the mailbox cannot be opened. */
struct imap_client *imap_client_new_fds(struct event_loop *loop, int fd_in, int fd_out,
    const struct imap_login_info *li, const char *pending, size_t len);
struct imap_client *imap_client_new(struct event_loop *loop, int fd,
    const struct imap_login_info *li, const char *pending, size_t len);
/* Called once the client is gone (after its last byte is written). */
void imap_client_on_close(struct imap_client *c, void (*fn)(void *ctx), void *ctx);
/* Writes what is buffered (non-blocking) and re-arms the events. */
void imap_client_flush(struct imap_client *c);
/* Called by a continuation that returns false with work left but no
 * output pending (SEARCH): it is run again from the event loop, after
 * the other sessions' events of this round, not at once. */
void imap_client_yield(struct imap_client *c);
/* Sends "* BYE text" and closes after it is written. */
void imap_client_bye(struct imap_client *c, const char *text);
void imap_client_idle_start(struct imap_client *c);
/* Turns on DEFLATE for both directions after what is buffered now. */
void imap_client_compress_start(struct imap_client *c);

/* ---- compress.c ---- */

struct imap_zlib *imap_zlib_new(void);
void imap_zlib_free(struct imap_zlib *z);
/* Deflates in (all of it, with a sync flush) onto out. */
int imap_zlib_deflate(struct imap_zlib *z, const char *in, size_t len, struct buf *out);
/* Inflates in onto out; -1 on a corrupt stream. */
int imap_zlib_inflate(struct imap_zlib *z, const char *in, size_t len, struct buf *out);

/* ---- session.c ---- */

void imap_session_command(struct imap_client *c, const struct imap_command *cmd);
/* The capability list (without "CAPABILITY"). */
const char *imap_capabilities(void);
/* Untagged "* n EXISTS", EXPUNGE/VANISHED, FETCH FLAGS after a sync;
 * expunges only when allowed (not during FETCH, STORE, SEARCH). */
void imap_session_sync(struct imap_client *c, bool expunges);
/* "tag OK text", "tag NO text", "tag BAD text"; then untagged updates
 * come first for OK when sync is asked.  Ends the command. */
void imap_reply(struct imap_client *c, const char *tag, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void imap_untagged(struct imap_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Flags as "(\Seen $Label)" of a message. */
void imap_write_flags(struct imap_client *c, struct buf *out, const struct mstore_msg *m);
/* "NO [reason] text" from the store's error; a failure of the system is
 * logged with its detail (and the mailbox, NULL if none) and the client
 * gets a text without it. */
void imap_reply_store_error(
    struct imap_client *c, const char *tag, const char *what, const char *mailbox);
/* The text of that reply ("[reason] text"), into out. */
void imap_store_error_text(
    struct imap_client *c, const char *what, const char *mailbox, struct buf *out);
/* Client mailbox name (mUTF-7 unless UTF8) to the store's; NULL if bad. */
char *imap_mailbox_from_client(struct imap_client *c, const char *name);
void imap_mailbox_to_client(struct imap_client *c, const char *name, struct buf *out);
unsigned imap_write_flags_mode(const struct imap_client *c);
/* Flag name list to system bits and keywords (NULL-terminated, borrowed
 * from flags). */
unsigned imap_flags_split(char **flags, const char ***keywords);
/* "1:3,7" of UIDs (ascending). */
void imap_write_uidset(struct buf *out, const uint32_t *uids, size_t n);

/* Is uid in the ascending array v[n]? */
bool imap_uid_in(const uint32_t *v, size_t n, uint32_t uid);

/* ---- the command files ---- */

void imap_cmd_select(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_close(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_create(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_delete(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_rename(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_subscribe(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_list(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_status(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_getquota(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_getquotaroot(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_append(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_fetch(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_store(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_copy(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_expunge(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_search(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_sort(struct imap_client *c, const struct imap_command *cmd);
void imap_cmd_thread(struct imap_client *c, const struct imap_command *cmd);

/* append.c: a message literal was announced; false: rejected (the reply
 * was sent). */
bool imap_append_literal(struct imap_client *c);
/* Literal bytes of the message being appended. */
void imap_append_data(struct imap_client *c, const char *p, size_t len);
void imap_append_abort(struct imap_client *c);

/* The UIDs of a sequence set (uid: a UID set) in the selected view,
 * ascending; "$" is the saved result. */
uint32_t *imap_set_uids(struct imap_client *c, struct imap_seqset *set, bool uid, size_t *n);
/* The shared reader of message parts (fetch.c): the MIME tree of a
 * message, from the cache or parsed from the file (then cached). */
struct mime_part *imap_msg_mime(struct imap_client *c, uint32_t uid);

#endif
