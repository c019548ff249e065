/*
 * jmap.h - the parts of jmap(8), a user's JMAP process (started by
 * postlogin as the mailbox owner; one per user, serving every channel
 * http opened for that user):
 *   main.c     process, channels (http/jframe.h), push through inotify
 *   api.c      /jmap/api: the request, result references, dispatch,
 *              Core/echo, the session resource
 *   folders.c  the account's folders as JMAP Mailboxes, ids and states
 *   ids.c      Email ids from message GUIDs, and where each one is
 *   mailbox.c  Mailbox/get|changes|query|set
 *   email.c    Email/get, Thread/get|changes
 *   snippet.c  SearchSnippet/get
 *   query.c    Email/query|queryChanges|changes
 *   eset.c     Email/set|import, the message writer
 *   blob.c     /jmap/upload and /jmap/download
 *   submit.c   Identity/get, EmailSubmission/set
 *   vacation.c VacationResponse/get|set on the Sieve scripts
 *   quota.c    Quota/get|changes|query (RFC 9425)
 */
#ifndef TERN_JMAP_H
#define TERN_JMAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "jmap/request.h"
#include "mstore/mstore.h"

#define JMAP_CAP_CORE "urn:ietf:params:jmap:core"
#define JMAP_CAP_MAIL "urn:ietf:params:jmap:mail"
#define JMAP_CAP_SUBMISSION "urn:ietf:params:jmap:submission"
#define JMAP_CAP_VACATION "urn:ietf:params:jmap:vacationresponse"
#define JMAP_CAP_QUOTA "urn:ietf:params:jmap:quota"
#define JMAP_MAX_UPLOAD (25 * 1024 * 1024)

struct jmap_state {
	struct event_loop *loop;
	struct mstore *store;
	char *user, *maildir, *home;
	char account[24];
	long max_get, max_set, max_calls;
	char *last_state; /* as last pushed */
};
extern struct jmap_state jm;

/* One folder, as a Mailbox. */
struct jfolder {
	char *name;
	char id[12]; /* "m" + UIDVALIDITY in hex */
	unsigned special_use;
	struct mstore_status st;
	const char *role; /* "inbox", "drafts"... or NULL */
};

struct jfolders {
	struct jfolder *v;
	size_t n;
};

/* One method call being answered. */
struct jcall {
	const char *name, *id;
	json_t *args;
	json_t *responses; /* [name, args, id]... so far */
	json_t *created;   /* creation id -> id, of the whole request */
	json_t *using;
	struct jfolders *folders;
};

typedef void jmap_method_fn(struct jcall *c);

/* api.c */
void jmap_reply(struct jcall *c, const char *name, json_t *args);
void jmap_error(struct jcall *c, const char *type, const char *desc);
/* A /get answer (RFC 8620 5.1), taking list and nf; state NULL: the
 * account's (jmap_state of c->folders). */
void jmap_reply_get(struct jcall *c, const char *name, const char *state, json_t *list, json_t *nf);
/* A /set call of the account's Email or Mailbox objects (RFC 8620 5.3):
 * jmap_set_begin checks the arguments against spec, ifInState (old: the
 * state before) and maxObjectsInSet, and makes the six answer maps;
 * false when an error was sent.  jmap_set_reply answers with them. */
struct jmap_set {
	json_t *create, *update, *destroy; /* the arguments, borrowed */
	json_t *created, *updated, *destroyed, *nc, *nu, *nd;
	char *old;
};
bool jmap_set_begin(struct jcall *c, const struct jmap_arg *spec, struct jmap_set *s);
/* RFC 8620 5.3: a call that would change more than maxObjectsInSet
 * objects is refused whole, with requestTooLarge; false when it was.
 * Every /set and Email/import asks before changing anything.
 * jmap_set_objects counts a /set's create, update and destroy entries. */
bool jmap_set_limit(struct jcall *c, size_t n);
size_t jmap_set_objects(const json_t *args);
void jmap_set_reply(struct jcall *c, const char *name, struct jmap_set *s);
/* A /set answer (RFC 8620 5.3), taking the six maps (NULL: an empty
 * one); old NULL: oldState null; state NULL: the account's. */
void jmap_reply_set(struct jcall *c, const char *name, const char *old, const char *state,
    json_t *created, json_t *updated, json_t *destroyed, json_t *nc, json_t *nu, json_t *nd);
/* A SetError {type, description} (desc may be NULL) for notCreated etc. */
json_t *jmap_set_error(const char *type, const char *desc);
/* The description of the store's last failure a client may see: the
 * store's own refusal as it is; a failure of the system (paths, errno) is
 * logged with the user and what failed, and the client gets Dovecot's
 * "Internal error occurred. Refer to server log ... [time]".  Valid until
 * the next call. */
const char *jmap_store_error_text(const char *what);
/* Checks args against spec and accountId; false when an error was sent. */
bool jmap_args(struct jcall *c, const struct jmap_arg *spec);
void jmap_api(const char *body, size_t len, int *status, struct buf *out);
void jmap_session_resource(struct buf *out);
/* "#creationId" to the id it was given in this request, else id. */
const char *jmap_created_id(struct jcall *c, const char *id);

/* folders.c */
void jmap_folders_load(struct jfolders *f);
void jmap_folders_free(struct jfolders *f);
struct jfolder *jmap_folder_by_id(struct jfolders *f, const char *id);
struct jfolder *jmap_folder_by_uv(struct jfolders *f, uint32_t uv);
/* The folder's view, kept open and synced before it is returned (read
 * only; NULL when the folder cannot be opened). */
struct mstore_view *jmap_view(const char *name);
/* A read-write view for a change; the caller closes it. */
struct mstore_view *jmap_view_rw(const char *name);
/* The account's state string (every folder's UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT). */
char *jmap_state(const struct jfolders *f);
/* The state before a /set or /import method: NULL, with the method's
 * "stateMismatch" error sent, when its ifInState names another state
 * (RFC 8620 5.3).  The caller frees it. */
char *jmap_state_if(struct jcall *c);
json_t *jmap_keywords(struct mstore_view *v, const struct mstore_msg *m);

/* ids.c: Email ids ("e" + 24 hex digits from the message GUID) */
#define JMAP_EID_LEN 26
#define JMAP_IDS_GONE_MAX 100000       /* expunged locations remembered */
extern unsigned long jmap_request_seq; /* one more for each request */
extern size_t jmap_ids_gone_max;       /* tests lower it */
/* One place an Email is (copies of a message: several). */
struct jloc {
	struct jfolder *f;
	struct mstore_view *v; /* jmap_view's: do not close */
	uint32_t uid;
	struct mstore_msg m;
};
/* The id of a message of a view, or of a folder (by UIDVALIDITY). */
void jmap_email_id(char out[JMAP_EID_LEN], struct mstore_view *v, uint32_t uid);
void jmap_email_id_at(char out[JMAP_EID_LEN], struct jfolders *fs, uint32_t uv, uint32_t uid);
/* Notes new messages and expunges (once per request unless force). */
void jmap_ids_sync(struct jfolders *fs, bool force);
/* This process changed the store: the next look-up syncs again. */
void jmap_ids_dirty(void);
/* Where the Email is now: up to max places, the count (0: no such Email). */
size_t jmap_ids_find(struct jfolders *fs, const char *id, struct jloc *out, size_t max);
/* The id an expunged (or live) location had; false when never seen or
 * forgotten. */
bool jmap_ids_gone_id(uint32_t uv, uint32_t uid, char out[JMAP_EID_LEN]);
void jmap_ids_set_thread(uint32_t uv, uint32_t uid, uint32_t thread);
/* The thread this process saw the Email in, 0: unknown. */
uint32_t jmap_ids_thread(const char *id);
size_t jmap_ids_remembered(void);
/* True when another live place has the same Email (a copy). */
bool jmap_ids_copied(uint32_t uv, uint32_t uid);
/* False while no id was seen in two places: no Email has copies. */
bool jmap_ids_copies_seen(void);
void jmap_ids_free(void);

/* methods */
jmap_method_fn jmap_mailbox_get, jmap_mailbox_changes, jmap_mailbox_query, jmap_mailbox_set;
jmap_method_fn jmap_email_get, jmap_thread_get, jmap_thread_changes, jmap_snippet_get;
jmap_method_fn jmap_email_query, jmap_email_query_changes, jmap_email_changes;
jmap_method_fn jmap_email_set, jmap_email_import, jmap_email_parse;
jmap_method_fn jmap_identity_get, jmap_submission_set, jmap_vacation_get, jmap_vacation_set;
jmap_method_fn jmap_quota_get, jmap_quota_changes, jmap_quota_query;

/* email.c */
uint32_t jmap_thread_of(struct mstore_view *v, uint32_t uid);

/* blob.c */
void jmap_upload(const char *ctype, const char *body, size_t len, int *status, struct buf *out);
/* download: path after /jmap/download/ */
void jmap_download(const char *path, const char *query, int *status, struct buf *out,
    struct buf *ctype, struct buf *disposition);
/* The bytes of a blob (uploaded, a message or a part); false when unknown. */
bool jmap_blob_read(const char *blob_id, struct buf *out, struct buf *type);

#endif
