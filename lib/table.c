/*
 * table.c - lookup tables: "type:name" as in Postfix.
 *
 * Every table lives in memory.  File tables (texthash:, and hash:, btree:,
 * lmdb:, cdb: which read the same source text, and pcre:) are loaded whole
 * at open and reloaded when the file changes; the file is stat()ed at most
 * once a second from table_lookup(), so a busy smtpd does not hit the disk
 * per recipient.  A reload that fails keeps the old contents: a typo in an
 * edited file must not turn every look-up into "not found".  A file that
 * cannot be read at all makes look-ups report an error, so callers defer
 * instead of rejecting mail.
 *
 * Key/value tables are an open-addressing hash keyed by the lower-cased
 * key.  pcre: and regexp: tables are a list of compiled rules, first match
 * wins, with Postfix's syntax: "/re/flags result", "!/re/ result" (applies
 * when re does not match), "if /re/" ... "endif" blocks (nested), any
 * delimiter that is not a letter, digit or space.  Flags toggle options
 * from Postfix's defaults (pcre: case-insensitive and dot-matches-newline;
 * regexp: case-insensitive and extended).  regexp: patterns are POSIX
 * regcomp(3), pcre: patterns PCRE2.  The result may use $1..$9 (or ${1})
 * from the capture groups and $$ for $.
 * unix:passwd.byname asks getpwnam() at every look-up (NSS caches, if any,
 * are the system's).
 *
 * Not done: any on-disk database: postmap-style building is only
 * table_check().  Where Postfix warns and skips a bad pattern line, tern
 * refuses the table (the caller reports it at start).
 */
#include "table.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <pwd.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lline.h"
#include "log.h"
#include "util.h"

#define RECHECK_MSEC 1000  /* stat() a table file at most this often */
#define TEXT_NAME "(text)" /* file name in messages for table_from_text */

enum table_kind {
	KIND_KV, /* texthash: and friends, or alias format */
	KIND_PCRE,
	KIND_REGEXP, /* POSIX regcomp(3) patterns, pcre: syntax around them */
	KIND_INLINE,
	KIND_STATIC,
	KIND_PASSWD, /* unix:passwd.byname */
};

struct tab_ent {
	char *key;
	char *value;
	uint32_t hash;
};

/* Open addressing with linear probing; cap is a power of two. */
struct tab_hash {
	struct tab_ent *ents;
	size_t cap;
	size_t count;
};

enum rule_op { RULE_MATCH, RULE_IF, RULE_ENDIF };

/* One line of a pcre: or regexp: table. */
struct pcre_rule {
	enum rule_op op;
	bool negate;	/* "!/re/": applies when the regex does not match */
	pcre2_code *re; /* pcre: */
	regex_t *rx;	/* regexp: (POSIX) */
	char *result;	/* RULE_MATCH */
	size_t endif;	/* RULE_IF: index of its endif */
	int lineno;
};

/* What a load produces; swapped whole on a successful reload. */
struct tab_data {
	struct tab_hash hash;
	struct pcre_rule *rules;
	size_t nrules;
	pcre2_match_data *md;
};

/* What identifies one version of a file. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct table {
	enum table_kind kind;
	int flags;
	char *path; /* NULL unless the table is read from a file */
	struct file_id id;
	long long checked_msec;
	bool unreadable;
	struct tab_data data;
	char *static_value;
	struct buf key;	   /* the folded look-up key */
	struct buf result; /* a pcre: result after substitution */
};

static bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void set_err(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	buf_reset(err);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- hash */

/* FNV-1a: short keys, no adversary control over table contents. */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct tab_ent *hash_slot(const struct tab_hash *h, const char *key, uint32_t hv)
{
	size_t i = hv & (h->cap - 1);

	while (
	    h->ents[i].key != NULL && (h->ents[i].hash != hv || strcmp(h->ents[i].key, key) != 0))
		i = (i + 1) & (h->cap - 1);
	return &h->ents[i];
}

static void hash_grow(struct tab_hash *h)
{
	struct tab_hash n = {NULL, h->cap ? h->cap * 2 : 16, h->count};

	n.ents = xcalloc(n.cap, sizeof(*n.ents));
	for (size_t i = 0; i < h->cap; i++)
		if (h->ents[i].key != NULL)
			*hash_slot(&n, h->ents[i].key, h->ents[i].hash) = h->ents[i];
	free(h->ents);
	*h = n;
}

/* Takes ownership of key and value; false (and frees them) on a duplicate. */
static bool hash_add(struct tab_hash *h, char *key, char *value)
{
	uint32_t hv = hash_str(key);
	struct tab_ent *e;

	if ((h->count + 1) * 2 > h->cap)
		hash_grow(h);
	e = hash_slot(h, key, hv);
	if (e->key != NULL) {
		free(key);
		free(value);
		return false;
	}
	e->key = key;
	e->value = value;
	e->hash = hv;
	h->count++;
	return true;
}

static const char *hash_get(const struct tab_hash *h, const char *key)
{
	if (h->count == 0)
		return NULL;
	return hash_slot(h, key, hash_str(key))->value;
}

static void hash_free(struct tab_hash *h)
{
	for (size_t i = 0; i < h->cap; i++) {
		free(h->ents[i].key);
		free(h->ents[i].value);
	}
	free(h->ents);
	memset(h, 0, sizeof(*h));
}

static void rule_free(struct pcre_rule *r);

static void data_free(struct tab_data *d)
{
	hash_free(&d->hash);
	for (size_t i = 0; i < d->nrules; i++)
		rule_free(&d->rules[i]);
	free(d->rules);
	pcre2_match_data_free(d->md);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- key/value */

/* Splits "key value" (texthash format) at the first white space. */
static const char *split_kv(char *line, char **key, char **value)
{
	char *sp = line + strcspn(line, " \t");

	if (*sp == 0)
		return "expected \"key value\", found no value";
	*sp = 0;
	*key = line;
	*value = str_trim(sp + 1);
	return NULL;
}

/* Splits "name: value, value" (aliases(5)); the name may be quoted. */
static const char *split_alias(char *line, char **key, char **value)
{
	char *colon;

	if (*line == '"') {
		char *close = strchr(line + 1, '"');

		if (close == NULL)
			return "unterminated quoted alias name";
		*close = 0;
		*key = line + 1;
		colon = close + 1;
		colon += strspn(colon, " \t");
		if (*colon != ':')
			return "expected ':' after the alias name";
	} else {
		if ((colon = strchr(line, ':')) == NULL)
			return "expected \"name: value\", found no ':'";
		*colon = 0;
		*key = str_trim(line);
	}
	*value = str_trim(colon + 1);
	if (**key == 0)
		return "empty alias name";
	if (**value == 0)
		return "alias has no value";
	return NULL;
}

/* Adds one logical line to a key/value table. */
static const char *kv_line(struct tab_data *d, char *line, int flags, const char *name, int lineno)
{
	const char *msg;
	char *key, *value;

	if (flags & TABLE_ALIASES)
		msg = split_alias(line, &key, &value);
	else
		msg = split_kv(line, &key, &value);
	if (msg != NULL)
		return msg;
	str_lower(key);
	if (hash_get(&d->hash, key) != NULL)
		log_warn("%s:%d: duplicate key \"%s\" ignored, the first one is kept", name, lineno,
		    key);
	else
		hash_add(&d->hash, xstrdup(key), xstrdup(value));
	return NULL;
}

/* ---------------------------------------------------------------- pcre */

/*
 * Expands $N, ${N} and $$ in a result.  With ov == NULL it only checks the
 * syntax and reports the highest group used in *maxref.
 */
static int subst(const char *res, const char *subj, const PCRE2_SIZE *ov, int ngroups,
    struct buf *out, int *maxref)
{
	for (const char *p = res; *p; p++) {
		int n;

		if (*p != '$') {
			if (ov != NULL)
				buf_putc(out, *p);
			continue;
		}
		p++;
		if (*p == '$') {
			if (ov != NULL)
				buf_putc(out, '$');
			continue;
		}
		if (*p == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}')
			n = p[1] - '0', p += 2;
		else if (*p >= '1' && *p <= '9')
			n = *p - '0';
		else
			return -1;
		if (maxref != NULL && n > *maxref)
			*maxref = n;
		if (ov != NULL && n < ngroups && ov[2 * n] != PCRE2_UNSET)
			buf_append(out, subj + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
	}
	return 0;
}

static bool is_word(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(line, word, n) == 0 && !isalnum((unsigned char)line[n]);
}

/*
 * Parses the flags after the closing delimiter.  Each flag toggles its
 * option, starting from Postfix's defaults: pcre: is case-insensitive and
 * dot-matches-newline; regexp: is case-insensitive and extended (ERE).
 */
static const char *pattern_flags(enum table_kind kind, const char **p, uint32_t *opts)
{
	if (kind == KIND_REGEXP) {
		*opts = REG_ICASE | REG_EXTENDED;
		for (; **p && !is_ws(**p); (*p)++) {
			switch (**p) {
			case 'i': *opts ^= REG_ICASE; break;
			case 'x': *opts ^= REG_EXTENDED; break;
			case 'm': *opts ^= REG_NEWLINE; break;
			default: return "unknown regexp flag (i, m and x are known)";
			}
		}
		return NULL;
	}
	*opts = PCRE2_CASELESS | PCRE2_DOTALL;
	for (; **p && !is_ws(**p); (*p)++) {
		switch (**p) {
		case 'i': *opts ^= PCRE2_CASELESS; break;
		case 'm': *opts ^= PCRE2_MULTILINE; break;
		case 's': *opts ^= PCRE2_DOTALL; break;
		case 'x': *opts ^= PCRE2_EXTENDED; break;
		case 'A': *opts ^= PCRE2_ANCHORED; break;
		case 'E': *opts ^= PCRE2_DOLLAR_ENDONLY; break;
		case 'U': *opts ^= PCRE2_UNGREEDY; break;
		case 'X': break; /* PCRE_EXTRA: PCRE2 always behaves so */
		default: return "unknown regex flag (i, m, s, x, A, E, U and X are known)";
		}
	}
	return NULL;
}

/*
 * What glibc's regcomp(3) would expand beyond reason: adjacent repetition
 * operators ("a++++", undefined in POSIX) make it copy the subtree again
 * for each, exponentially (found by fuzz_table: 30 "+" took 2 GB), and
 * intervals are copied as many times as their bound says.  NULL when the
 * pattern is fine, else the reason.  Bracket expressions and escaped
 * characters are skipped.
 */
#define POSIX_COPIES_MAX 10000L

static const char *posix_pattern_check(const char *p, size_t len, bool ere)
{
	bool prev_dup = false;
	long copies = 1;
	size_t i = 0;

	while (i < len) {
		bool dup = false;

		if (p[i] == '\\') {
			i += 2;
		} else if (p[i] == '[') {
			i++;
			if (i < len && p[i] == '^')
				i++;
			if (i < len && p[i] == ']')
				i++;
			while (i < len && p[i] != ']') {
				/* [:class:], [.coll.], [=equiv=] may hold a "]". */
				if (p[i] == '[' && i + 1 < len && strchr(":.=", p[i + 1]) != NULL) {
					char kind = p[i + 1];

					for (i += 2;
					     i + 1 < len && !(p[i] == kind && p[i + 1] == ']'); i++)
						;
				}
				i++;
			}
			i++;
		} else if (p[i] == '*' || (ere && (p[i] == '+' || p[i] == '?'))) {
			dup = true;
			i++;
		} else if (ere && p[i] == '{') {
			long lo = 0, hi;
			size_t j = i + 1;

			while (j < len && p[j] >= '0' && p[j] <= '9' && lo <= POSIX_COPIES_MAX)
				lo = lo * 10 + (p[j++] - '0');
			hi = lo;
			if (j < len && p[j] == ',') {
				hi = j + 1 < len && p[j + 1] == '}' ? lo : 0;
				for (j++; j < len && p[j] >= '0' && p[j] <= '9' &&
					  hi <= POSIX_COPIES_MAX;)
					hi = hi * 10 + (p[j++] - '0');
			}
			dup = true;
			if (hi < 1)
				hi = 1;
			if (hi > POSIX_COPIES_MAX || (copies *= hi) > POSIX_COPIES_MAX)
				return "repetition counts too large (their product may be at most "
				       "10000)";
			while (i < len && p[i] != '}')
				i++;
			i++;
		} else {
			i++;
		}
		if (dup && prev_dup)
			return "adjacent repetition operators (undefined in POSIX regular "
			       "expressions)";
		prev_dup = dup;
	}
	return NULL;
}

/*
 * Compiles pattern into r (PCRE2 or POSIX by kind) and stores its number
 * of capture groups in *ncap; on failure writes the reason to msgbuf.
 */
static int pattern_compile(enum table_kind kind, struct pcre_rule *r, const char *pat, size_t len,
    uint32_t opts, uint32_t *ncap, char *msgbuf, size_t msglen)
{
	PCRE2_UCHAR text[160];
	PCRE2_SIZE off;
	int code;

	if (kind == KIND_REGEXP) {
		const char *bad = posix_pattern_check(pat, len, (opts & REG_EXTENDED) != 0);
		char *s;

		if (bad != NULL) {
			snprintf(msgbuf, msglen, "bad regexp: %s", bad);
			return -1;
		}
		s = xstrndup(pat, len);
		r->rx = xcalloc(1, sizeof(*r->rx));
		code = regcomp(r->rx, s, (int)opts);
		free(s);
		if (code != 0) {
			char why[160];

			regerror(code, r->rx, why, sizeof(why));
			snprintf(msgbuf, msglen, "bad regexp: %s", why);
			free(r->rx);
			r->rx = NULL;
			return -1;
		}
		*ncap = (uint32_t)r->rx->re_nsub;
		return 0;
	}
	r->re = pcre2_compile((PCRE2_SPTR)pat, len, opts, &code, &off, NULL);
	if (r->re == NULL) {
		pcre2_get_error_message(code, text, sizeof(text));
		snprintf(msgbuf, msglen, "bad regex at offset %zu: %s", (size_t)off, (char *)text);
		return -1;
	}
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, ncap);
	return 0;
}

static void rule_free(struct pcre_rule *r)
{
	pcre2_code_free(r->re);
	if (r->rx != NULL)
		regfree(r->rx);
	free(r->rx);
	free(r->result);
}

/* Appends a rule, growing the match data to fit its groups. */
static void rule_add(struct tab_data *d, const struct pcre_rule *r, uint32_t ncap)
{
	d->rules = xreallocarray(d->rules, d->nrules + 1, sizeof(*d->rules));
	d->rules[d->nrules++] = *r;
	if (r->re == NULL)
		return;
	if (d->md == NULL || pcre2_get_ovector_count(d->md) < ncap + 1) {
		pcre2_match_data_free(d->md);
		d->md = pcre2_match_data_create(ncap + 1, NULL);
		if (d->md == NULL)
			log_fatal("out of memory for regex match data");
	}
}

/*
 * Parses "[!...]<delim>regex<delim>flags" at *p (any delimiter that is not
 * a letter, digit or white space, a backslash escapes it) and compiles it
 * into r; leaves *p after the flags.
 */
static const char *pattern_parse(enum table_kind kind, struct pcre_rule *r, const char **p,
    uint32_t *ncap, char *msgbuf, size_t msglen)
{
	const char *s = *p, *pat, *msg;
	uint32_t opts;
	size_t patlen;
	char delim;

	for (; *s == '!' || is_ws(*s); s++)
		if (*s == '!')
			r->negate = !r->negate;
	if (*s == 0 || isalnum((unsigned char)*s))
		return "expected \"/regex/flags result\"";
	delim = *s++;
	pat = s;
	while (*s && *s != delim)
		s += (*s == '\\' && s[1]) ? 2 : 1;
	if (*s != delim)
		return "missing closing delimiter after the regex";
	patlen = (size_t)(s - pat);
	s++;
	if ((msg = pattern_flags(kind, &s, &opts)) != NULL)
		return msg;
	if (pattern_compile(kind, r, pat, patlen, opts, ncap, msgbuf, msglen) < 0)
		return msgbuf;
	*p = s;
	return NULL;
}

/*
 * Adds one logical line of a pcre: or regexp: table: "/regex/flags result",
 * "!/regex/flags result", "if /regex/flags" or "endif".
 */
static const char *pcre_line(struct tab_data *d, enum table_kind kind, const char *line, int lineno,
    char *msgbuf, size_t msglen)
{
	struct pcre_rule r = {.lineno = lineno};
	const char *p = line, *msg;
	uint32_t ncap = 0;
	int maxref = 0;

	if (is_word(p, "endif")) {
		p += 5;
		r.op = RULE_ENDIF;
	} else if (is_word(p, "if")) {
		p += 2;
		r.op = RULE_IF;
	} else if (isalnum((unsigned char)*p))
		return "expected \"/regex/flags result\"";
	if (r.op != RULE_ENDIF && (msg = pattern_parse(kind, &r, &p, &ncap, msgbuf, msglen)))
		return msg;
	while (is_ws(*p))
		p++;
	if (r.op != RULE_MATCH && *p != 0)
		msg = "unexpected text after if/endif (do not indent lines between if and endif)";
	else if (r.op == RULE_MATCH && *p == 0)
		msg = "missing result after the regex";
	else if (r.op == RULE_MATCH && subst(p, NULL, NULL, 0, NULL, &maxref) < 0)
		msg = "bad '$' in result (use $1..$9, ${1} or $$)";
	else if ((uint32_t)maxref > ncap)
		msg = "result uses a capture group the regex does not have";
	else if (maxref > 0 && r.negate)
		msg = "a negated regex has no capture groups for $N in its result";
	if (msg != NULL) {
		rule_free(&r);
		return msg;
	}
	if (r.op == RULE_MATCH)
		r.result = xstrdup(p);
	rule_add(d, &r, ncap);
	return NULL;
}

/*
 * Links each "if" to its "endif" once the whole table is read.  Returns
 * NULL, or the reason with the offending line number in *lineno.
 */
static const char *pcre_link(struct tab_data *d, int *lineno)
{
	size_t *open = xcalloc(d->nrules + 1, sizeof(*open)), depth = 0;
	const char *msg = NULL;

	for (size_t i = 0; i < d->nrules && msg == NULL; i++) {
		if (d->rules[i].op == RULE_IF)
			open[depth++] = i;
		else if (d->rules[i].op != RULE_ENDIF)
			continue;
		else if (depth == 0) {
			msg = "endif without if";
			*lineno = d->rules[i].lineno;
		} else
			d->rules[open[--depth]].endif = i;
	}
	if (msg == NULL && depth > 0) {
		msg = "if without endif";
		*lineno = d->rules[open[depth - 1]].lineno;
	}
	free(open);
	return msg;
}

/* Matches one rule's regex; 1 if it applies (negation included), 0 if
 * not, -1 on a match error.  Fills ov/ngroups for a positive match. */
static int rule_match(
    struct table *t, const struct pcre_rule *r, const char *key, PCRE2_SIZE *ov, int *ngroups)
{
	int rc;

	if (r->rx != NULL) {
		regmatch_t pm[10];

		rc = regexec(r->rx, key, 10, pm, 0);
		if (rc != 0 && rc != REG_NOMATCH)
			return -1;
		*ngroups = rc == 0 ? (int)(r->rx->re_nsub + 1 < 10 ? r->rx->re_nsub + 1 : 10) : 0;
		for (int i = 0; i < *ngroups; i++) {
			ov[2 * i] = pm[i].rm_so < 0 ? PCRE2_UNSET : (PCRE2_SIZE)pm[i].rm_so;
			ov[2 * i + 1] = pm[i].rm_so < 0 ? PCRE2_UNSET : (PCRE2_SIZE)pm[i].rm_eo;
		}
		return (rc == 0) != r->negate;
	}
	rc = pcre2_match(r->re, (PCRE2_SPTR)key, strlen(key), 0, 0, t->data.md, NULL);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		return -1;
	*ngroups = rc;
	if (rc > 0) {
		const PCRE2_SIZE *v = pcre2_get_ovector_pointer(t->data.md);

		for (int i = 0; i < rc && i < 10; i++)
			ov[2 * i] = v[2 * i], ov[2 * i + 1] = v[2 * i + 1];
		if (rc > 10)
			*ngroups = 10;
	}
	return (rc >= 0) != r->negate;
}

static const char *pcre_lookup(struct table *t, const char *key, bool *error)
{
	for (size_t i = 0; i < t->data.nrules; i++) {
		const struct pcre_rule *r = &t->data.rules[i];
		PCRE2_SIZE ov[20];
		int ngroups = 0, rc;

		if (r->op == RULE_ENDIF)
			continue;
		if ((rc = rule_match(t, r, key, ov, &ngroups)) < 0) {
			/* A match limit hit: defer rather than silently skip the rule. */
			log_warn("%s:%d: regex match error", t->path, r->lineno);
			*error = true;
			return NULL;
		}
		if (r->op == RULE_IF) {
			if (rc == 0)
				i = r->endif; /* skip the block */
			continue;
		}
		if (rc == 1) {
			buf_reset(&t->result);
			subst(r->result, key, ov, r->negate ? 0 : ngroups, &t->result, NULL);
			return buf_cstr(&t->result);
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- loading */

/*
 * Parses source text into d.  Returns 0, or -1 with "name:line: reason" in
 * err for the first syntax error.
 */
static int data_parse(struct tab_data *d, enum table_kind kind, int flags, const char *text,
    size_t len, const char *name, struct buf *err)
{
	struct lline r;
	char msgbuf[256];
	const char *msg = NULL;
	int rc, line;

	lline_init(&r, text, len);
	while (msg == NULL && (rc = lline_next(&r)) != LLINE_END) {
		if (rc == LLINE_ORPHAN)
			msg = "continuation line with nothing to continue";
		else if (rc == LLINE_NUL)
			msg = "NUL byte in line";
		else if (kind == KIND_PCRE || kind == KIND_REGEXP)
			msg =
			    pcre_line(d, kind, buf_cstr(&r.line), r.start, msgbuf, sizeof(msgbuf));
		else
			msg = kv_line(d, r.line.data, flags, name, r.start);
	}
	lline_free(&r);
	line = r.start;
	if (msg == NULL && (kind == KIND_PCRE || kind == KIND_REGEXP))
		msg = pcre_link(d, &line);
	if (msg == NULL)
		return 0;
	set_err(err, "%s:%d: %s", name, line, msg);
	data_free(d);
	return -1;
}

/* Reads a whole file, noting which version of it was read. */
static int file_read(const char *path, struct buf *out, struct file_id *id, struct buf *err)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		set_err(err, "cannot open table %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	do {
		buf_reserve(out, 65536);
		n = read(fd, buf_tail(out), 65536);
		if (n > 0)
			buf_commit(out, (size_t)n);
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		set_err(err, "cannot read table %s: %s", path, strerror(errno));
	close(fd);
	*id = (struct file_id){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
	return n < 0 ? -1 : 0;
}

/*
 * Loads t->path into d and records its identity in *id.  Returns 0, -1 when
 * the file cannot be read, -2 on a syntax error.
 */
static int file_load(const struct table *t, struct tab_data *d, struct file_id *id, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc;

	rc = file_read(t->path, &text, id, err);
	if (rc == 0 &&
	    data_parse(d, t->kind, t->flags, buf_cstr(&text), text.len, t->path, err) < 0)
		rc = -2;
	buf_free(&text);
	return rc;
}

static bool file_same(const struct file_id *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino && a->size == st->st_size &&
	       a->mtime.tv_sec == st->st_mtim.tv_sec && a->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Re-reads a table file that changed; keeps the old contents on failure. */
static void file_reload(struct table *t)
{
	struct buf err = BUF_INIT;
	struct tab_data d = {0};
	struct file_id id;
	int rc;

	rc = file_load(t, &d, &id, &err);
	if (rc == 0) {
		data_free(&t->data);
		t->data = d;
		t->id = id;
		t->unreadable = false;
	} else if (rc == -1) {
		if (!t->unreadable)
			log_warn("%s", buf_cstr(&err));
		t->unreadable = true;
	} else {
		/* A syntax error: remember this version so we warn once. */
		log_warn("%s; keeping the previous contents", buf_cstr(&err));
		t->id = id;
		t->unreadable = false;
	}
	buf_free(&err);
}

/* Called on every look-up: notices a changed file, at most once a second. */
static void file_refresh(struct table *t)
{
	long long now = mono_msec();
	struct stat st;

	if (now - t->checked_msec < RECHECK_MSEC)
		return;
	t->checked_msec = now;
	if (stat(t->path, &st) < 0) {
		if (!t->unreadable)
			log_warn("cannot stat table %s: %s", t->path, strerror(errno));
		t->unreadable = true;
		return;
	}
	if (!t->unreadable && file_same(&t->id, &st))
		return;
	file_reload(t);
}

/* ---------------------------------------------------------------- unix:passwd.byname */

/*
 * The system's passwd database (NSS), as Postfix's unix:passwd.byname: the
 * value is the passwd line "name:passwd:uid:gid:gecos:dir:shell".  getpwnam()
 * leaves errno 0 (or one of the "no such entry" codes) when the name is
 * unknown; anything else is a failure to read the database.
 */
static const char *passwd_lookup(struct table *t, const char *key, bool *error)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(key)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
		    errno != EPERM) {
			log_warn("unix:passwd.byname: %s", strerror(errno));
			*error = true;
		}
		return NULL;
	}
	buf_reset(&t->result);
	buf_printf(&t->result, "%s:%s:%lu:%lu:%s:%s:%s", pw->pw_name, pw->pw_passwd,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid, pw->pw_gecos ? pw->pw_gecos : "",
	    pw->pw_dir, pw->pw_shell);
	return buf_cstr(&t->result);
}

/* ---------------------------------------------------------------- inline, static */

/* Strips "{ ... }" around s in place, if present. */
static char *unbrace(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
		s[n - 1] = 0;
		return str_trim(s + 1);
	}
	return s;
}

/* One inline: element, "key=value" or "{ key = value }". */
static const char *inline_entry(struct tab_data *d, char *tok)
{
	char *eq, *key, *value;

	tok = unbrace(tok);
	if ((eq = strchr(tok, '=')) == NULL)
		return "expected key=value";
	*eq = 0;
	key = str_trim(tok);
	value = str_trim(eq + 1);
	if (*key == 0)
		return "empty key";
	key = xstrdup(key);
	str_lower(key);
	if (!hash_add(&d->hash, key, xstrdup(value)))
		log_warn("inline table: duplicate key, the first one is kept");
	return NULL;
}

/* Length of the next inline: element at s: a balanced {...} group or a word. */
static size_t inline_token(const char *s, bool *bad)
{
	size_t i = 0;
	int depth = 0;

	if (*s != '{')
		return strcspn(s, " \t,{}");
	do {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}')
			depth--;
		else if (s[i] == 0) {
			*bad = true;
			return i;
		}
		i++;
	} while (depth > 0);
	return i;
}

/* inline:{ k1=v1, { k2 = v 2 } }; elements split on commas and white space. */
static const char *inline_parse(struct tab_data *d, const char *spec)
{
	char *body = xstrdup(spec), *s = str_trim(body), *tok;
	const char *msg = NULL;
	bool bad = false;
	size_t n;

	if (*s != '{' || inline_token(s, &bad) != strlen(s) || bad)
		msg = "inline: table must be enclosed in { }";
	s = msg ? s : unbrace(s);
	while (msg == NULL && *(s += strspn(s, " \t,")) != 0) {
		n = inline_token(s, &bad);
		if (bad || n == 0) {
			msg = "unbalanced braces in inline: table";
			break;
		}
		tok = xstrndup(s, n);
		msg = inline_entry(d, tok);
		free(tok);
		s += n;
	}
	free(body);
	return msg;
}

/* ---------------------------------------------------------------- public */

/* Recognises the table type; fills kind and, for files, the path; *arg
 * points to what follows the type. */
static int spec_parse(struct table *t, const char *spec, const char **arg, struct buf *err)
{
	static const struct {
		const char *name;
		enum table_kind kind;
	} types[] = {
	    {"texthash", KIND_KV},
	    {"hash", KIND_KV},
	    {"btree", KIND_KV},
	    {"lmdb", KIND_KV},
	    {"cdb", KIND_KV},
	    {"pcre", KIND_PCRE},
	    {"regexp", KIND_REGEXP},
	    {"inline", KIND_INLINE},
	    {"static", KIND_STATIC},
	    {"unix", KIND_PASSWD},
	};
	const char *colon;

	/* Postfix's proxy: reads through proxymap; tern reads the table itself. */
	if (strncmp(spec, "proxy:", 6) == 0)
		spec += 6;
	colon = strchr(spec, ':');
	size_t tlen = colon ? (size_t)(colon - spec) : 0, i;

	if (colon == NULL || tlen == 0) {
		set_err(err, "bad table \"%s\": expected type:name", spec);
		return -1;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == tlen && strncmp(spec, types[i].name, tlen) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		set_err(err, "unsupported table type \"%.*s\" in \"%s\"", (int)tlen, spec, spec);
		return -1;
	}
	t->kind = types[i].kind;
	if (t->kind == KIND_PASSWD && strcmp(colon + 1, "passwd.byname") != 0) {
		set_err(err, "unsupported table \"%s\": unix: knows only passwd.byname", spec);
		return -1;
	}
	if (t->kind == KIND_KV || t->kind == KIND_PCRE || t->kind == KIND_REGEXP) {
		if (colon[1] == 0) {
			set_err(err, "bad table \"%s\": missing file name", spec);
			return -1;
		}
		t->path = xstrdup(colon + 1);
	}
	*arg = colon + 1;
	return 0;
}

static struct table *table_new(int flags)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->flags = flags;
	t->checked_msec = mono_msec();
	return t;
}

/* Loads the contents named by the spec after the type prefix. */
static int table_load(struct table *t, const char *arg, struct buf *err)
{
	const char *msg;
	char *v;

	switch (t->kind) {
	case KIND_PASSWD: return 0;
	case KIND_STATIC:
		v = xstrdup(arg);
		t->static_value = xstrdup(unbrace(str_trim(v)));
		free(v);
		return 0;
	case KIND_INLINE:
		if ((msg = inline_parse(&t->data, arg)) != NULL) {
			set_err(err, "%s", msg);
			return -1;
		}
		return 0;
	default: return file_load(t, &t->data, &t->id, err);
	}
}

struct table *table_open(const char *spec, int flags, struct buf *err)
{
	struct buf local = BUF_INIT;
	struct table *t = table_new(flags);
	const char *arg;

	if (err == NULL)
		err = &local;
	if (spec_parse(t, spec, &arg, err) < 0 || table_load(t, arg, err) < 0) {
		table_close(t);
		t = NULL;
	}
	buf_free(&local);
	return t;
}

struct table *table_from_text(const char *text, size_t len, int flags, struct buf *err)
{
	return table_from_text_as("texthash", text, len, flags, err);
}

struct table *table_from_text_as(
    const char *type, const char *text, size_t len, int flags, struct buf *err)
{
	struct buf local = BUF_INIT;
	struct table *t;

	if (err == NULL)
		err = &local;
	if (strcmp(type, "texthash") != 0 && strcmp(type, "pcre") != 0 &&
	    strcmp(type, "regexp") != 0) {
		set_err(err, "table_from_text_as: unknown type \"%s\"", type);
		buf_free(&local);
		return NULL;
	}
	t = table_new(flags);
	t->kind = strcmp(type, "pcre") == 0	? KIND_PCRE
		  : strcmp(type, "regexp") == 0 ? KIND_REGEXP
						: KIND_KV;
	if (data_parse(&t->data, t->kind, flags, text, len, TEXT_NAME, err) < 0) {
		table_close(t);
		t = NULL;
	}
	buf_free(&local);
	return t;
}

void table_close(struct table *t)
{
	if (t == NULL)
		return;
	data_free(&t->data);
	free(t->path);
	free(t->static_value);
	buf_free(&t->key);
	buf_free(&t->result);
	free(t);
}

const char *table_lookup(struct table *t, const char *key, bool *error)
{
	bool dummy;

	if (error == NULL)
		error = &dummy;
	*error = false;
	if (t->kind == KIND_STATIC)
		return t->static_value;
	if (t->path != NULL) {
		file_refresh(t);
		if (t->unreadable) {
			*error = true;
			return NULL;
		}
	}
	if (t->kind == KIND_PCRE || t->kind == KIND_REGEXP)
		return pcre_lookup(t, key, error);
	if (t->kind == KIND_PASSWD)
		return passwd_lookup(t, key, error);
	buf_reset(&t->key);
	buf_puts(&t->key, key);
	str_lower(t->key.data);
	return hash_get(&t->data.hash, t->key.data);
}

void table_walk(struct table *t, table_walk_fn *fn, void *ctx)
{
	const struct tab_hash *h = &t->data.hash;

	if (t->path != NULL)
		file_refresh(t);
	for (size_t i = 0; i < h->cap; i++)
		if (h->ents[i].key != NULL)
			fn(h->ents[i].key, h->ents[i].value, ctx);
}

void table_walk_values(struct table *t, table_walk_fn *fn, void *ctx)
{
	if (t->kind == KIND_PCRE || t->kind == KIND_REGEXP) {
		if (t->path != NULL)
			file_refresh(t);
		for (size_t i = 0; i < t->data.nrules; i++)
			if (t->data.rules[i].op == RULE_MATCH)
				fn(NULL, t->data.rules[i].result, ctx);
	} else if (t->kind == KIND_STATIC) {
		fn(NULL, t->static_value, ctx);
	} else {
		table_walk(t, fn, ctx);
	}
}

int table_check(const char *spec, int flags, struct buf *err)
{
	struct buf local = BUF_INIT;
	struct table *t = table_new(flags);
	const char *arg;
	int rc;

	if (err == NULL)
		err = &local;
	rc = spec_parse(t, spec, &arg, err) < 0 ? -1 : table_load(t, arg, err);
	/* table_load: -1 an unreadable file (file_load) or a bad inline:. */
	if (rc == -1 && t->path != NULL)
		rc = TABLE_UNREADABLE;
	else if (rc < 0)
		rc = -1;
	table_close(t);
	buf_free(&local);
	return rc;
}
