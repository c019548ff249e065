/*
 * sieve/sieve_int.h - what the parts of lib/sieve share: tokens, the
 * syntax tree, the command table's identifiers and the run state.
 *
 *   lex.c      RFC 5228 section 8.1: tokens with their line numbers
 *   parse.c    section 8.2: commands, arguments, tests, blocks
 *   check.c    the command table: which commands, tests and tags exist,
 *              their arguments, the extensions they need
 *   match.c    comparators and match types (:is :contains :matches
 *              :regex :value :count)
 *   vars.c     variables (RFC 5229), encoded-character (RFC 5228 2.4.2.4)
 *   msg.c      the message: header fields, addresses, body parts
 *   eval.c     the interpreter
 *   result.c   the action list and its rules (RFC 5228 2.10, 4)
 *   vacation.c RFC 5230 and RFC 3834
 *   score.c    RFC 5235 spamtest and virustest
 *   edit.c     RFC 5293 editheader: the message's header section edited
 *   notify.c   RFC 5435 enotify with RFC 5436's mailto method
 */
#ifndef TERN_SIEVE_INT_H
#define TERN_SIEVE_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "sieve/sieve.h"

/* ---- tokens (lex.c) */
enum sv_tok {
	SV_TOK_EOF,
	SV_TOK_ERROR,
	SV_TOK_IDENT,
	SV_TOK_TAG,
	SV_TOK_NUMBER,
	SV_TOK_STRING,
	SV_TOK_PUNCT, /* one of [ ] ( ) , ; { } */
};

struct sv_lexer {
	const char *p, *end;
	int line;
	enum sv_tok tok;
	int tok_line;
	struct buf text; /* identifier, tag (without ':'), string value */
	unsigned long long num;
	char punct;
	const char *err;
};

void sv_lex_init(struct sv_lexer *lx, const char *text, size_t len);
void sv_lex_next(struct sv_lexer *lx);
void sv_lex_free(struct sv_lexer *lx);

/* ---- syntax tree (parse.c) */
enum sv_argt { SV_ARG_NUMBER, SV_ARG_STRING, SV_ARG_LIST, SV_ARG_TAG };

struct sv_arg {
	enum sv_argt type;
	int line;
	unsigned long long num;
	char *tag;   /* SV_ARG_TAG, without ':' */
	char **strs; /* SV_ARG_STRING (n == 1) and SV_ARG_LIST */
	size_t n;
};

struct sv_tagval {
	int tag;	    /* SV_TAG_* */
	struct sv_arg *val; /* its argument or NULL */
};

#define SV_MAX_TAGS 12
#define SV_MAX_POS 4

struct sv_node {
	char *name;
	int line;
	struct sv_arg *args;
	size_t nargs;
	struct sv_node *tests; /* an if's test, not's test, allof's list */
	size_t ntests;
	struct sv_node *block; /* commands of the block */
	size_t nblock;
	bool has_block;
	/* filled by check.c */
	int id;
	struct sv_tagval tags[SV_MAX_TAGS];
	size_t ntags;
	struct sv_arg *pos[SV_MAX_POS];
	size_t npos;
	int match, relop, cmp, addrpart;
	regex_t *rx; /* compiled keys of :regex when they are constants */
	size_t nrx;
};

/* Parses the whole script into cmds; -1 with one error line in err. */
int sv_parse(
    const char *text, size_t len, struct sv_node **cmds, size_t *n, int *line, struct buf *err);
void sv_nodes_free(struct sv_node *nodes, size_t n);

/* ---- extensions, commands, tests, tags (check.c) */
enum {
	SV_EXT_FILEINTO = 1u << 0,
	SV_EXT_ENVELOPE = 1u << 1,
	SV_EXT_ENCODED = 1u << 2,
	SV_EXT_IMAP4FLAGS = 1u << 3,
	SV_EXT_VARIABLES = 1u << 4,
	SV_EXT_BODY = 1u << 5,
	SV_EXT_VACATION = 1u << 6,
	SV_EXT_VACATION_SECONDS = 1u << 7,
	SV_EXT_COPY = 1u << 8,
	SV_EXT_REJECT = 1u << 9,
	SV_EXT_EREJECT = 1u << 10,
	SV_EXT_SUBADDRESS = 1u << 11,
	SV_EXT_RELATIONAL = 1u << 12,
	SV_EXT_NUMERIC = 1u << 13,
	SV_EXT_REGEX = 1u << 14,
	SV_EXT_DATE = 1u << 15,
	SV_EXT_INDEX = 1u << 16,
	SV_EXT_MAILBOX = 1u << 17,
	SV_EXT_INCLUDE = 1u << 18,
	SV_EXT_DUPLICATE = 1u << 19,
	SV_EXT_ENVIRONMENT = 1u << 20,
	SV_EXT_SPAMTEST = 1u << 21,
	SV_EXT_SPAMTESTPLUS = 1u << 22,
	SV_EXT_VIRUSTEST = 1u << 23,
	SV_EXT_EDITHEADER = 1u << 24,
	SV_EXT_ENOTIFY = 1u << 25,
};

enum sv_id {
	SV_C_REQUIRE = 1,
	SV_C_IF,
	SV_C_ELSIF,
	SV_C_ELSE,
	SV_C_STOP,
	SV_C_KEEP,
	SV_C_DISCARD,
	SV_C_REDIRECT,
	SV_C_FILEINTO,
	SV_C_REJECT,
	SV_C_EREJECT,
	SV_C_SETFLAG,
	SV_C_ADDFLAG,
	SV_C_REMOVEFLAG,
	SV_C_SET,
	SV_C_VACATION,
	SV_C_INCLUDE,
	SV_C_RETURN,
	SV_C_GLOBAL,
	SV_C_ADDHEADER,
	SV_C_DELETEHEADER,
	SV_C_NOTIFY,
	SV_T_ADDRESS,
	SV_T_HEADER,
	SV_T_ENVELOPE,
	SV_T_EXISTS,
	SV_T_SIZE,
	SV_T_TRUE,
	SV_T_FALSE,
	SV_T_NOT,
	SV_T_ALLOF,
	SV_T_ANYOF,
	SV_T_BODY,
	SV_T_STRING,
	SV_T_HASFLAG,
	SV_T_DATE,
	SV_T_CURRENTDATE,
	SV_T_MAILBOXEXISTS,
	SV_T_DUPLICATE,
	SV_T_ENVIRONMENT,
	SV_T_SPAMTEST,
	SV_T_VIRUSTEST,
	SV_T_VALID_NOTIFY_METHOD,
	SV_T_NOTIFY_METHOD_CAPABILITY,
};

enum sv_tag {
	SV_TAG_NONE = 0,
	SV_TAG_COMPARATOR,
	SV_TAG_IS,
	SV_TAG_CONTAINS,
	SV_TAG_MATCHES,
	SV_TAG_REGEX,
	SV_TAG_VALUE,
	SV_TAG_COUNT,
	SV_TAG_ALL,
	SV_TAG_LOCALPART,
	SV_TAG_DOMAIN,
	SV_TAG_USER,
	SV_TAG_DETAIL,
	SV_TAG_OVER,
	SV_TAG_UNDER,
	SV_TAG_COPY,
	SV_TAG_FLAGS,
	SV_TAG_CREATE,
	SV_TAG_DAYS,
	SV_TAG_SECONDS,
	SV_TAG_SUBJECT,
	SV_TAG_FROM,
	SV_TAG_ADDRESSES,
	SV_TAG_MIME,
	SV_TAG_HANDLE,
	SV_TAG_RAW,
	SV_TAG_CONTENT,
	SV_TAG_TEXT,
	SV_TAG_LOWER,
	SV_TAG_UPPER,
	SV_TAG_LOWERFIRST,
	SV_TAG_UPPERFIRST,
	SV_TAG_QUOTEWILDCARD,
	SV_TAG_QUOTEREGEX,
	SV_TAG_LENGTH,
	SV_TAG_ZONE,
	SV_TAG_ORIGINALZONE,
	SV_TAG_INDEX,
	SV_TAG_LAST,
	SV_TAG_PERSONAL,
	SV_TAG_GLOBAL,
	SV_TAG_ONCE,
	SV_TAG_OPTIONAL,
	SV_TAG_HEADER,
	SV_TAG_UNIQUEID,
	SV_TAG_PERCENT,
	SV_TAG_IMPORTANCE,
	SV_TAG_OPTIONS,
	SV_TAG_MESSAGE,
	SV_TAG_ENCODEURL,
};

/* comparators and relations */
enum { SV_CMP_CASEMAP, SV_CMP_OCTET, SV_CMP_NUMERIC };
enum { SV_REL_GT, SV_REL_GE, SV_REL_LT, SV_REL_LE, SV_REL_EQ, SV_REL_NE };

struct sieve_script {
	struct sv_node *cmds;
	size_t n;
	unsigned exts;
	char *name;
};

/* Pigeonhole's check of a redirect/vacation/notify address: local@domain
 * or <local@domain>. */
bool sv_address_ok(const char *s);
/* Checks the tree and resolves tags; 0, or -1 with error lines added. */
int sv_check(struct sieve_script *s, struct buf *errors);
/* The tag's argument, NULL when the tag is absent (or has none). */
struct sv_arg *sv_tag_arg(const struct sv_node *n, int tag);
bool sv_has_tag(const struct sv_node *n, int tag);

/* ---- matching (match.c) */
#define SV_MATCH_VARS 10
struct sv_captures {
	char *v[SV_MATCH_VARS];
	bool set;
};
/* Compares one value against one key under the node's comparator and
 * match type (not :count); fills caps for :matches and :regex. */
bool sv_match_one(const struct sv_node *n, size_t key_index, const char *val, size_t vlen,
    const char *key, struct sv_captures *caps);
/* :count: count compared to key with the node's relation. */
bool sv_match_count(const struct sv_node *n, size_t count, const char *key);
/* The :matches pattern matcher alone (for tests). */
bool sv_glob(const char *pat, size_t plen, const char *s, size_t slen, bool casemap,
    struct sv_captures *caps);
/* RFC 4790 i;ascii-numeric: -1, 0 or 1. */
int sv_numeric_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Compiles a :regex key; 0 or the regcomp error. */
int sv_regex_compile(regex_t *rx, const char *key, int cmp);
void sv_captures_clear(struct sv_captures *c);

/* ---- variables (vars.c) */
struct sv_vars {
	char **names;
	char **values;
	size_t n;
};
#define SV_MAX_VAR_SIZE 4096
#define SV_MAX_VARS 255
bool sv_var_name_valid(const char *name, bool allow_digits);
/* Appends s with ${...} replaced. */
void sv_vars_expand(
    const struct sv_vars *v, const struct sv_captures *caps, const char *s, struct buf *out);
void sv_vars_set(struct sv_vars *v, const char *name, const char *value, size_t len);
const char *sv_vars_get(const struct sv_vars *v, const char *name);
void sv_vars_free(struct sv_vars *v);
/* RFC 5228 2.4.2.4: ${hex:..} and ${unicode:..} decoded in place. */
void sv_encoded_decode(char **s);

/* ---- the message (msg.c) */
struct sv_msg {
	const char *data;
	size_t len;
	size_t hdr_len;	 /* header section with its empty line */
	size_t body_off; /* == hdr_len */
	struct mime_part *tree;
};
void sv_msg_init(struct sv_msg *m, const char *data, size_t len);
void sv_msg_free(struct sv_msg *m);
/* Unfolded, RFC 2047-decoded values of every field called name. */
size_t sv_msg_header(const struct sv_msg *m, const char *name, char ***values);
/* Raw (unfolded, not decoded) values. */
size_t sv_msg_header_raw(const struct sv_msg *m, const char *name, char ***values);
/* The body values a body test matches: per :raw / :content / :text. */
size_t sv_msg_body(struct sv_msg *m, int transform, char **types, size_t ntypes, char ***values);

/* ---- spamtest, virustest (score.c) */
/* The score t gives message m: "0" (not tested or t NULL), "1".."10"
 * ("1".."5" for virustest), "0".."100" with percent. */
void sv_score_value(const struct sieve_scoretest *t, const struct sv_msg *m, bool percent,
    char *out, size_t outlen);

/* ---- editheader (edit.c) */
/* RFC 5322 field name: printable ASCII but ':', not empty. */
bool sv_field_name_ok(const char *name);
/* Received and Auto-Submitted are never deleted (RFC 5293 section 6,
 * as Pigeonhole). */
bool sv_field_protected(const char *name);
/* The length of m's header fields, without the empty line. */
size_t sv_msg_fields_len(const struct sv_msg *m);
/* "name: value\n" appended to out, the value RFC 2047-encoded when not
 * ASCII, line breaks folded. */
void sv_edit_field(const char *name, const char *value, struct buf *out);

/* ---- the result (result.c) */
struct sv_action_req {
	enum sieve_action_type type;
	const char *target;
	char **flags;
	bool copy, create;
	int line;
};
/* Adds an action with RFC 5228's rules (duplicates merged, reject
 * conflicts); false with an error added to res->errors. */
bool sv_result_add(struct sieve_result *res, const struct sv_action_req *a);
void sv_result_error(struct sieve_result *res, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char **sv_flags_copy(char *const *flags);
void sv_strv_free(char **v);

/* ---- vacation (vacation.c) */
struct sv_vacation_req {
	const char *reason;
	const char *subject, *from, *handle;
	char **addresses;
	size_t naddresses;
	bool mime;
	long seconds;
	int line;
};
/* Decides whether to answer and adds the action when so. */
void sv_vacation(const struct sieve_env *env, const struct sv_msg *m,
    const struct sv_vacation_req *v, struct sieve_result *res);
/* The message is Auto-Submitted (anything but "no"). */
bool sv_auto_submitted(const char *msg, size_t len);
/* A stable tracking id: hex SHA-256 of the parts joined by NULs. */
char *sv_track_id(const char *kind, const char *a, const char *b);

/* ---- enotify (notify.c) */
/* A notification URI tern can send: a valid "mailto:" URI.  false with
 * the reason in err (when not NULL). */
bool sv_notify_uri_ok(const char *uri, struct buf *err);
/* notify_method_capability: the value of capability for uri, NULL when
 * there is none ("online" of a valid mailto URI is "maybe"). */
const char *sv_notify_capability(const char *uri, const char *capability);
/* An :options item "name=value" (RFC 5435 3.3). */
bool sv_notify_option_ok(const char *opt);
/* RFC 5435 4.1 :encodeurl: every byte but ALPHA DIGIT - . _ ~ as %XX. */
struct sv_notify_req {
	const char *uri, *from, *message;
	int importance;
	int line;
};
/* Adds the notify action (its suppression reason set), unless an earlier
 * one already notifies every recipient of this one. */
void sv_notify(const struct sv_msg *m, const struct sv_notify_req *n, struct sieve_result *res);

#endif
