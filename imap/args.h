/*
 * imap/args.h - typed grammars over the argument tree of imap/parser.h:
 * each imap_*_parse() takes the arguments of one command (after the tag
 * and name) and fills a struct, or returns false with *err set to the
 * text of a BAD reply.  They only check syntax; what a value means for a
 * mailbox (does the UID exist, is the charset known) is the command's
 * business.  Results own their memory: free with the matching _free().
 *
 *   sequence sets   args_seqset.c  RFC 9051 sequence-set, "$" (RFC 5182)
 *   FETCH           args_fetch.c   attributes, macros, sections, partials,
 *                                  CHANGEDSINCE/VANISHED (RFC 7162)
 *   SEARCH          args_search.c  the whole key grammar into an AST,
 *                                  CHARSET, RETURN (RFC 4731/5182/9051)
 *   STORE, LIST, LSUB, STATUS, SELECT/EXAMINE, APPEND, SORT, THREAD,
 *   ENABLE, ID, COMPRESS, quota, AUTHENTICATE, IDLE's DONE
 *                   args_misc.c, args_list.c, args_append.c
 *   list wildcards  listmatch.c
 */
#ifndef TERN_IMAP_ARGS_H
#define TERN_IMAP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "parser.h"

/* ------------------------------------------------------ sequence sets */

#define IMAP_SEQ_STAR UINT32_MAX /* "*" before imap_seqset_resolve() */

struct imap_seq_range {
	uint32_t lo, hi; /* lo <= hi (a "5:3" range is stored as 3:5) */
};

struct imap_seqset {
	struct imap_seq_range *v;
	size_t n;
	bool saved; /* "$": the saved search result (SEARCHRES) */
};

/* "1,3:5,7:*" (or "$" when allow_saved); bounded by the text length. */
bool imap_seqset_parse(const char *s, bool allow_saved, struct imap_seqset *out, const char **err);
/* "*" becomes max (or 0 for an empty mailbox: ranges end at max), then
 * ranges are sorted and merged. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t max);
/* After resolve: is n in the set (binary search). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
void imap_seqset_free(struct imap_seqset *set);

/* -------------------------------------------------------------- FETCH */

enum {
	IMAP_FETCH_UID = 1u << 0,
	IMAP_FETCH_FLAGS = 1u << 1,
	IMAP_FETCH_INTERNALDATE = 1u << 2,
	IMAP_FETCH_RFC822_SIZE = 1u << 3,
	IMAP_FETCH_ENVELOPE = 1u << 4,
	IMAP_FETCH_BODY = 1u << 5, /* BODY without a section: non-extended structure */
	IMAP_FETCH_BODYSTRUCTURE = 1u << 6,
	IMAP_FETCH_MODSEQ = 1u << 7,
	IMAP_FETCH_RFC822 = 1u << 8, /* these three are also sections, below */
	IMAP_FETCH_RFC822_HEADER = 1u << 9,
	IMAP_FETCH_RFC822_TEXT = 1u << 10,
	IMAP_FETCH_SETS_SEEN = 1u << 11, /* a non-PEEK body section: \Seen is set */
};

enum imap_section {
	IMAP_SECTION_ALL,	 /* BODY[] or BODY[1.2] */
	IMAP_SECTION_HEADER,	 /* [HEADER], [1.HEADER] */
	IMAP_SECTION_FIELDS,	 /* [HEADER.FIELDS (...)] */
	IMAP_SECTION_FIELDS_NOT, /* [HEADER.FIELDS.NOT (...)] */
	IMAP_SECTION_TEXT,	 /* [TEXT] */
	IMAP_SECTION_MIME,	 /* [1.MIME] */
};

struct imap_fetch_body {
	char *name; /* the item as the response names it, e.g. "BODY[1.TEXT]<0>" prefix
		       without the partial: "BODY[1.TEXT]", "BINARY[2]", "RFC822" */
	bool peek, binary, binary_size;
	unsigned *part; /* section part numbers */
	unsigned nparts;
	enum imap_section section;
	char **fields; /* header field names for FIELDS / FIELDS_NOT */
	size_t nfields;
	bool partial;
	uint64_t offset, count;
};

struct imap_fetch {
	unsigned items;
	struct imap_fetch_body *bodies;
	size_t nbodies;
	bool changedsince_set;
	uint64_t changedsince;
	bool vanished;
};

/* args: everything after the sequence set. */
bool imap_fetch_parse(
    const struct imap_arg *args, size_t n, struct imap_fetch *out, const char **err);
void imap_fetch_free(struct imap_fetch *f);

/* ------------------------------------------------------------- SEARCH */

enum imap_search_key {
	IMAP_SK_ALL,
	IMAP_SK_AND, /* children: all must match (a parenthesised list) */
	IMAP_SK_OR,  /* two children */
	IMAP_SK_NOT, /* one child */
	IMAP_SK_SEQSET,
	IMAP_SK_UID,
	IMAP_SK_FLAG,	/* str: a system flag "\Seen" or keyword; negate: UN... */
	IMAP_SK_NEW,	/* RECENT UNSEEN */
	IMAP_SK_OLD,	/* NOT RECENT */
	IMAP_SK_BEFORE, /* internal date, day granularity (day: days since epoch) */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, /* Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_LARGER, /* num */
	IMAP_SK_SMALLER,
	IMAP_SK_HEADER, /* str = field name, str2 = value; FROM TO CC BCC SUBJECT map here */
	IMAP_SK_BODY,	/* str */
	IMAP_SK_TEXT,
	IMAP_SK_MODSEQ, /* num; str = entry name or NULL */
	IMAP_SK_OLDER,	/* num seconds (RFC 5032) */
	IMAP_SK_YOUNGER,
};

struct imap_search_node {
	enum imap_search_key key;
	bool negate; /* UNSEEN, UNKEYWORD...: the flag is not set */
	struct imap_search_node *child, *next;
	char *str, *str2;
	long long day; /* dates: days since 1970-01-01 */
	uint64_t num;
	struct imap_seqset set;
};

enum {
	IMAP_SEARCH_RETURN_MIN = 1,
	IMAP_SEARCH_RETURN_MAX = 2,
	IMAP_SEARCH_RETURN_ALL = 4,
	IMAP_SEARCH_RETURN_COUNT = 8,
	IMAP_SEARCH_RETURN_SAVE = 16,
};

struct imap_search {
	char *charset;		       /* NULL: US-ASCII/UTF-8 */
	bool esearch;		       /* RETURN (...) was given */
	unsigned ret;		       /* IMAP_SEARCH_RETURN_* (RETURN () means ALL) */
	struct imap_search_node *root; /* an AND node */
};

#define IMAP_SEARCH_MAX_DEPTH 64

/* allow_return: ESEARCH is offered.  A string may be any astring (the
 * charset is not applied here). */
bool imap_search_parse(const struct imap_arg *args, size_t n, bool allow_return,
    struct imap_search *out, const char **err);
/* Parses only the keys (after SORT/THREAD's charset). */
bool imap_search_parse_keys(
    const struct imap_arg *args, size_t n, struct imap_search *out, const char **err);
void imap_search_free(struct imap_search *s);
/* Does the tree use the saved result "$" (SEARCHRES)? */
bool imap_search_uses_saved(const struct imap_search *s);

/* "1-Feb-1994" (RFC 9051 date) to days since the epoch. */
bool imap_date_parse(const char *s, size_t len, long long *day);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" (date-time, APPEND) to an instant + zone. */
bool imap_datetime_parse(const char *s, size_t len, time_t *t, int *tz_min);

/* -------------------------------------------------------------- STORE */

enum imap_store_op { IMAP_STORE_REPLACE, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_op op;
	bool silent;
	bool unchangedsince_set;
	uint64_t unchangedsince;
	char **flags; /* NULL-terminated, as written ("\Seen", "$Label") */
};

/* args: after the sequence set. */
bool imap_store_parse(
    const struct imap_arg *args, size_t n, struct imap_store *out, const char **err);
void imap_store_free(struct imap_store *s);
/* A flag list "(\Seen $x)" or single flags; \Recent and \* are refused
 * unless allow_recent / allow_wildcard. Returns a NULL-terminated vector. */
char **imap_flags_parse(const struct imap_arg *args, size_t n, const char **err);
bool imap_flag_valid(const char *flag);

/* ------------------------------------------------------ LIST and LSUB */

enum {
	IMAP_LIST_SEL_SUBSCRIBED = 1,
	IMAP_LIST_SEL_REMOTE = 2,
	IMAP_LIST_SEL_RECURSIVEMATCH = 4,
	IMAP_LIST_SEL_SPECIAL_USE = 8,
	IMAP_LIST_RET_SUBSCRIBED = 1,
	IMAP_LIST_RET_CHILDREN = 2,
	IMAP_LIST_RET_SPECIAL_USE = 4,
	IMAP_LIST_RET_STATUS = 8,
};

enum {
	IMAP_STATUS_MESSAGES = 1,
	IMAP_STATUS_RECENT = 2,
	IMAP_STATUS_UIDNEXT = 4,
	IMAP_STATUS_UIDVALIDITY = 8,
	IMAP_STATUS_UNSEEN = 16,
	IMAP_STATUS_DELETED = 32,
	IMAP_STATUS_SIZE = 64,
	IMAP_STATUS_HIGHESTMODSEQ = 128,
	IMAP_STATUS_APPENDLIMIT = 256,
};

struct imap_list {
	bool extended; /* selection or return options or several patterns */
	unsigned select;
	unsigned ret;
	unsigned status_items; /* RETURN (STATUS (...)) */
	char *reference;
	char **patterns; /* NULL-terminated */
};

bool imap_list_parse(
    const struct imap_arg *args, size_t n, struct imap_list *out, const char **err);
bool imap_lsub_parse(
    const struct imap_arg *args, size_t n, struct imap_list *out, const char **err);
void imap_list_free(struct imap_list *l);
/* RFC 3501 6.3.8 wildcards: '*' matches anything, '%' anything but delim. */
bool imap_list_match(const char *pattern, const char *name, char delim);

/* ------------------------------------------------------------- STATUS */

bool imap_status_parse(
    const struct imap_arg *args, size_t n, char **mailbox, unsigned *items, const char **err);
/* The items of a list "(MESSAGES UNSEEN)". */
bool imap_status_items_parse(const struct imap_arg *list, unsigned *items, const char **err);

/* ---------------------------------------------------- SELECT/EXAMINE */

struct imap_select {
	char *mailbox;
	bool condstore;
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	bool known_uids_set;
	struct imap_seqset known_uids;
	bool seq_match_set;
	struct imap_seqset match_seqs, match_uids;
};

bool imap_select_parse(
    const struct imap_arg *args, size_t n, struct imap_select *out, const char **err);
void imap_select_free(struct imap_select *s);

/* ------------------------------------------------------------- APPEND */

struct imap_append_msg {
	char **flags; /* NULL-terminated, NULL when none given */
	bool date_set;
	time_t date;
	int tz_min;
	bool utf8;		    /* UTF8 (~{n}) form (RFC 6855) */
	const struct imap_arg *msg; /* LITERAL or LITERAL_STREAM (points into args) */
};

struct imap_append {
	char *mailbox;
	struct imap_append_msg *msgs; /* MULTIAPPEND: several */
	size_t nmsgs;
};

bool imap_append_parse(
    const struct imap_arg *args, size_t n, struct imap_append *out, const char **err);
/* When a message literal is announced: the flags and date given for it
 * (the arguments after the mailbox or the previous message). */
bool imap_append_parse_pending(
    const struct imap_arg *args, size_t n, struct imap_append_msg *out, const char **err);
void imap_append_free(struct imap_append *a);
void imap_append_msg_free(struct imap_append_msg *m);

/* -------------------------------------------------------- SORT/THREAD */

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_criterion {
	enum imap_sort_key key;
	bool reverse;
};

#define IMAP_SORT_MAX_CRITERIA 16

struct imap_sort {
	struct imap_sort_criterion crit[IMAP_SORT_MAX_CRITERIA];
	size_t ncrit;
	struct imap_search search; /* charset and keys */
};

enum imap_thread_alg { IMAP_THREAD_ORDEREDSUBJECT, IMAP_THREAD_REFERENCES };

struct imap_thread {
	enum imap_thread_alg alg;
	struct imap_search search;
};

bool imap_sort_parse(
    const struct imap_arg *args, size_t n, struct imap_sort *out, const char **err);
bool imap_thread_parse(
    const struct imap_arg *args, size_t n, struct imap_thread *out, const char **err);

/* ---------------------------------------------------- the small ones */

/* ENABLE cap...: the capability names, upper-cased, NULL-terminated. */
char **imap_enable_parse(const struct imap_arg *args, size_t n, const char **err);

/* ID NIL | ("key" "value" ...): RFC 2971 limits (30 pairs, keys of 30
 * bytes, values of 1024).  *pairs is NULL-terminated key, value, ...
 * (a value may be NULL for NIL); NULL for ID NIL. */
bool imap_id_parse(const struct imap_arg *args, size_t n, char ***pairs, const char **err);

/* COMPRESS DEFLATE */
bool imap_compress_parse(const struct imap_arg *args, size_t n, const char **err);

/* GETQUOTA root / GETQUOTAROOT mailbox: the one astring. */
bool imap_astring_arg(const struct imap_arg *args, size_t n, char **out, const char **err);

struct imap_quota_limit {
	char *resource; /* upper case: STORAGE, MESSAGE, ... */
	uint64_t limit;
};
/* SETQUOTA root (resource limit ...) */
bool imap_setquota_parse(const struct imap_arg *args, size_t n, char **root,
    struct imap_quota_limit **limits, size_t *nlimits, const char **err);

/* AUTHENTICATE mech [initial-response] (RFC 4959: "=" is an empty one).
 * *ir is NULL when none was given; *ir_len 0 for "=". */
bool imap_authenticate_parse(const struct imap_arg *args, size_t n, char **mech, char **ir,
    size_t *ir_len, const char **err);

/* Is this line (without its CRLF) the DONE that ends IDLE? */
bool imap_idle_done(const char *line, size_t len);

/* The commands that take no argument (NOOP, CAPABILITY, LOGOUT, IDLE,
 * CHECK, CLOSE, UNSELECT, EXPUNGE, NAMESPACE, STARTTLS). */
bool imap_no_args(size_t n, const char **err);

#endif
