/*
 * sieve/sieve.h - the Sieve mail filtering language (RFC 5228) for local
 * delivery, with the extensions Dovecot's Pigeonhole offers most users.
 *
 * A script is compiled once (sieve_compile: lexer, parser, checker) into a
 * struct sieve_script; errors carry the line number in Pigeonhole's form
 * "NAME: line N: error: TEXT." so a user sees the same message from tern
 * and from Dovecot.  A compiled script runs against one message at a time
 * (sieve_execute) and gives a list of actions: the caller performs them
 * (stores, redirects, sends the vacation reply).  The interpreter itself
 * does no I/O: everything it needs of the world (the envelope, whether a
 * mailbox exists, the vacation/duplicate tracking store, included
 * scripts) comes through struct sieve_env.
 *
 * Extensions: fileinto, envelope, encoded-character, imap4flags,
 * variables, body, vacation, vacation-seconds, copy, reject, ereject,
 * subaddress, relational, comparator-i;ascii-numeric, regex, date, index,
 * mailbox, include, duplicate, editheader (RFC 5293), spamtest, spamtestplus, virustest (RFC
 * 5235, score.c), enotify (RFC 5435) with the mailto method (RFC 5436,
 * notify.c), environment (RFC 5183: host, domain,
 * location "MDA", phase "during", name "tern", version).  Comparators i;octet, i;ascii-casemap,
 * i;ascii-numeric.
 *
 * Limits: SIEVE_MAX_SCRIPT bytes of script, SIEVE_MAX_ACTIONS actions,
 * SIEVE_MAX_REDIRECTS redirects, SIEVE_MAX_NESTING of blocks and tests,
 * SIEVE_MAX_INCLUDE nested includes.  Past a run-time limit the script
 * fails and the caller keeps the message (RFC 5228 2.10.6).
 */
#ifndef TERN_SIEVE_H
#define TERN_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

#define SIEVE_MAX_SCRIPT (1024 * 1024)
#define SIEVE_MAX_ACTIONS 32
#define SIEVE_MAX_REDIRECTS 4
#define SIEVE_MAX_NESTING 32
#define SIEVE_MAX_INCLUDE 10
/* environment "version" (RFC 5183) */
#define SIEVE_VERSION "0.1"

struct sieve_script;
/* The configuration of spamtest or virustest (score.c). */
struct sieve_scoretest;

/* Compiles text[0..len); name prefixes the error lines.  NULL on error,
 * with one "name: line N: error: ..." line per problem appended to
 * errors (when not NULL). */
struct sieve_script *sieve_compile(
    const char *text, size_t len, const char *name, struct buf *errors);
void sieve_script_free(struct sieve_script *s);

/* The extensions tern's Sieve knows, space-separated (ManageSieve's
 * SIEVE capability). */
const char *sieve_extensions(void);

/* What the interpreter asks its caller; every callback may be NULL. */
struct sieve_env {
	const char *envelope_from;   /* "" for the null sender */
	const char *envelope_to;     /* the final recipient */
	const char *orig_to;	     /* the original recipient (envelope "orig_to") */
	const char *auth;	     /* envelope "auth", NULL when unknown */
	const char *user;	     /* the user's address: vacation's own addresses */
	time_t now;		     /* 0: time(NULL) */
	const char *default_mailbox; /* keep's folder; NULL: "INBOX" */
	const char *subaddress_sep;  /* "+" when NULL */
	const char *host; /* environment "host" (myhostname); "domain" after its first dot */
	/* spamtest/spamtestplus and virustest; NULL: not configured (the
	 * tests see "0") */
	const struct sieve_scoretest *spamtest, *virustest;
	void *ctx;
	/* mailboxexists */
	bool (*mailbox_exists)(void *ctx, const char *name);
	/* Tracking store for vacation and duplicate: true when id (a hash
	 * the interpreter made) was recorded and has not expired yet. */
	bool (*track_check)(void *ctx, const char *id);
	/* include: the text of script name (":personal" or ":global");
	 * false when there is none. */
	bool (*include_load)(void *ctx, const char *name, bool global, struct buf *text);
};

enum sieve_action_type {
	SIEVE_ACT_KEEP, /* store in the default mailbox */
	SIEVE_ACT_FILEINTO,
	SIEVE_ACT_REDIRECT,
	SIEVE_ACT_DISCARD,
	SIEVE_ACT_REJECT,
	SIEVE_ACT_EREJECT,
	SIEVE_ACT_VACATION,
	SIEVE_ACT_NOTIFY, /* enotify: target is the method's URI ("mailto:...") */
};

struct sieve_action {
	enum sieve_action_type type;
	char *target; /* folder, redirect address, reject reason, vacation body */
	char **flags; /* keep/fileinto: IMAP flags (NULL-terminated) or NULL */
	bool copy;    /* :copy (does not cancel the implicit keep) */
	bool create;  /* fileinto :create */
	/* vacation */
	char *to;	/* whom to answer (the envelope sender) */
	char *subject;	/* NULL: "Auto: " + the original subject; notify's :message */
	char *from;	/* NULL: the recipient; also notify's :from */
	int importance; /* notify: 1 high, 2 normal, 3 low */
	char *handle;
	bool mime;
	long seconds; /* period */
	/* RFC 3834 / RFC 5230 4.5: why no reply may be sent (a list, an
	 * auto-submitted message, not addressed to the user, already
	 * answered in the period); NULL when it may.  notify: RFC 5436 2.7,
	 * no notification about an auto-submitted message.  The action is listed
	 * either way, as Pigeonhole's sieve-test lists it. */
	const char *suppressed;
	/* The tracking id the caller records once it has sent the reply
	 * (vacation) or delivered the message (duplicate). */
	char *track_id;
	long track_seconds;
};

struct sieve_result {
	struct sieve_action *actions;
	size_t nactions;
	bool implicit_keep; /* nothing cancelled it: store in the default mailbox */
	char **keep_flags;  /* flags of the implicit keep (imap4flags) */
	bool failed;	    /* a run-time error: the caller keeps the message */
	struct buf errors;  /* why ("line N: error: ...") */
	/* editheader: the header fields (LF line ends, without the empty
	 * line, NUL-terminated) every store and redirect uses; NULL when the
	 * script did not edit the header */
	char *header;
	size_t header_len;
	/* duplicate ids to record once the message is delivered */
	char **track_ids;
	long *track_secs;
	size_t ntrack;
};

/* Runs s on the message msg[0..len) (header and body, LF or CRLF).
 * Always fills res (sieve_result_free it); false on a run-time error,
 * when res->failed is set and res->implicit_keep is true. */
bool sieve_execute(const struct sieve_script *s, const char *msg, size_t len,
    const struct sieve_env *env, struct sieve_result *res);
void sieve_result_free(struct sieve_result *res);

/* One line per action, the form tests and `sieve-test` print; appended
 * to out. */
void sieve_result_format(const struct sieve_result *res, struct buf *out);

/* Reads the configuration of spamtest (virus false) or virustest from
 * Pigeonhole's settings sieve_spamtest_status_type, _status_header,
 * _max_value, _max_header and tern's _text_values ("N=TEXT, ..."), each
 * got through get (NULL or "" when unset).  *out is NULL when
 * status_header is unset (not configured); false with the reason in err
 * on a bad setting. */
bool sieve_scoretest_load(bool virus, const char *(*get)(const char *name, void *ctx), void *ctx,
    struct sieve_scoretest **out, struct buf *err);
void sieve_scoretest_free(struct sieve_scoretest *t);

/* A "mailto:" notification URI (RFC 5436 on RFC 6068): recipients from
 * its to-part and to/cc fields (at most SIEVE_MAILTO_MAX_RCPTS, each
 * once), its subject and body, and its other header fields (at most
 * SIEVE_MAILTO_MAX_HEADERS; the reserved ones, e.g. From, Bcc,
 * Auto-Submitted, Message-ID, Received, dropped as Pigeonhole drops them).
 * Every value is %-decoded; header values are printable ASCII. */
#define SIEVE_MAILTO_MAX_RCPTS 8
#define SIEVE_MAILTO_MAX_HEADERS 16
struct sieve_mailto {
	char **rcpts; /* local@domain */
	bool *cc;     /* rcpts[i] is a Cc: recipient */
	size_t nrcpts;
	char *subject, *body; /* NULL when absent */
	char **hnames, **hvalues;
	size_t nheaders;
};
/* Parses uri; false with the reason in err (when not NULL). */
bool sieve_mailto_parse(const char *uri, struct sieve_mailto *m, struct buf *err);
void sieve_mailto_free(struct sieve_mailto *m);

/* RFC 3834 / RFC 5230 4.5: true when msg must never get an automatic
 * reply (auto-submitted, a list, bulk or junk precedence, a null or
 * MAILER-DAEMON sender). */
bool sieve_vacation_suppressed(const char *msg, size_t len, const char *envelope_from);

#endif
