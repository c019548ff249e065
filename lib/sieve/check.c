/*
 * sieve/check.c - what a Sieve script may say, checked before it runs.
 *
 * One table names every command and test with the extension it needs,
 * its tagged arguments (by name or by group: comparator, match type,
 * address part, index) and its positional arguments ("S" a string, "L" a
 * string list, "N" a number).  A command or tag of an extension that the
 * script did not "require" is unknown, as in Pigeonhole.  The checker
 * resolves every tag into the node (sv_tagval, match, relop, cmp,
 * addrpart) so the interpreter never looks at names again, and checks
 * constants the interpreter would otherwise fail on: regular
 * expressions, relations, comparators, date parts, redirect addresses,
 * variable names.  Every error is a line "NAME: line N: error: TEXT.";
 * checking goes on after an error so the user sees them all.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"
#include "util.h"

static const struct {
	const char *name;
	unsigned bits;
} sv_exts[] = {
    {"fileinto", SV_EXT_FILEINTO},
    {"envelope", SV_EXT_ENVELOPE},
    {"encoded-character", SV_EXT_ENCODED},
    {"imap4flags", SV_EXT_IMAP4FLAGS},
    {"variables", SV_EXT_VARIABLES},
    {"body", SV_EXT_BODY},
    {"vacation", SV_EXT_VACATION},
    {"vacation-seconds", SV_EXT_VACATION_SECONDS | SV_EXT_VACATION},
    {"copy", SV_EXT_COPY},
    {"reject", SV_EXT_REJECT},
    {"ereject", SV_EXT_EREJECT},
    {"subaddress", SV_EXT_SUBADDRESS},
    {"relational", SV_EXT_RELATIONAL},
    {"comparator-i;ascii-numeric", SV_EXT_NUMERIC},
    {"comparator-i;octet", 0},
    {"comparator-i;ascii-casemap", 0},
    {"regex", SV_EXT_REGEX},
    {"date", SV_EXT_DATE},
    {"index", SV_EXT_INDEX},
    {"mailbox", SV_EXT_MAILBOX},
    {"include", SV_EXT_INCLUDE},
    {"duplicate", SV_EXT_DUPLICATE},
    {"environment", SV_EXT_ENVIRONMENT},
    {"spamtest", SV_EXT_SPAMTEST},
    {"spamtestplus", SV_EXT_SPAMTESTPLUS | SV_EXT_SPAMTEST},
    {"virustest", SV_EXT_VIRUSTEST},
    {"editheader", SV_EXT_EDITHEADER},
    {"enotify", SV_EXT_ENOTIFY},
};

const char *sieve_extensions(void)
{
	static char list[512];

	if (list[0] == 0) {
		size_t n = 0;

		/* The comparators every Sieve has are not announced (Pigeonhole). */
		for (size_t i = 0; i < sizeof(sv_exts) / sizeof(sv_exts[0]); i++) {
			if (sv_exts[i].bits == 0)
				continue;
			n += (size_t)snprintf(
			    list + n, sizeof(list) - n, "%s%s", n ? " " : "", sv_exts[i].name);
		}
	}
	return list;
}

enum {
	SV_G_NONE,
	SV_G_CMP,
	SV_G_MATCH,
	SV_G_ADDR,
	SV_G_SIZE,
	SV_G_BODY,
	SV_G_ZONE,
	SV_G_LOC,
	SV_G_PERIOD,
	SV_G_DUPID,
	SV_G_MOD
};

static const struct sv_tagdef {
	const char *name;
	int tag;
	unsigned ext;
	char arg; /* 0, 'N', 'S', 'L' */
	int group;
} sv_tags[] = {
    {"comparator", SV_TAG_COMPARATOR, 0, 'S', SV_G_CMP},
    {"is", SV_TAG_IS, 0, 0, SV_G_MATCH},
    {"contains", SV_TAG_CONTAINS, 0, 0, SV_G_MATCH},
    {"matches", SV_TAG_MATCHES, 0, 0, SV_G_MATCH},
    {"regex", SV_TAG_REGEX, SV_EXT_REGEX, 0, SV_G_MATCH},
    {"value", SV_TAG_VALUE, SV_EXT_RELATIONAL, 'S', SV_G_MATCH},
    {"count", SV_TAG_COUNT, SV_EXT_RELATIONAL, 'S', SV_G_MATCH},
    {"all", SV_TAG_ALL, 0, 0, SV_G_ADDR},
    {"localpart", SV_TAG_LOCALPART, 0, 0, SV_G_ADDR},
    {"domain", SV_TAG_DOMAIN, 0, 0, SV_G_ADDR},
    {"user", SV_TAG_USER, SV_EXT_SUBADDRESS, 0, SV_G_ADDR},
    {"detail", SV_TAG_DETAIL, SV_EXT_SUBADDRESS, 0, SV_G_ADDR},
    {"over", SV_TAG_OVER, 0, 'N', SV_G_SIZE},
    {"under", SV_TAG_UNDER, 0, 'N', SV_G_SIZE},
    {"copy", SV_TAG_COPY, SV_EXT_COPY, 0, SV_G_NONE},
    {"flags", SV_TAG_FLAGS, SV_EXT_IMAP4FLAGS, 'L', SV_G_NONE},
    {"create", SV_TAG_CREATE, SV_EXT_MAILBOX, 0, SV_G_NONE},
    {"days", SV_TAG_DAYS, 0, 'N', SV_G_PERIOD},
    {"seconds", SV_TAG_SECONDS, SV_EXT_VACATION_SECONDS, 'N', SV_G_PERIOD},
    {"subject", SV_TAG_SUBJECT, 0, 'S', SV_G_NONE},
    {"from", SV_TAG_FROM, 0, 'S', SV_G_NONE},
    {"addresses", SV_TAG_ADDRESSES, 0, 'L', SV_G_NONE},
    {"mime", SV_TAG_MIME, 0, 0, SV_G_NONE},
    {"handle", SV_TAG_HANDLE, 0, 'S', SV_G_NONE},
    {"raw", SV_TAG_RAW, 0, 0, SV_G_BODY},
    {"content", SV_TAG_CONTENT, 0, 'L', SV_G_BODY},
    {"text", SV_TAG_TEXT, 0, 0, SV_G_BODY},
    {"lower", SV_TAG_LOWER, 0, 0, SV_G_MOD},
    {"upper", SV_TAG_UPPER, 0, 0, SV_G_MOD},
    {"lowerfirst", SV_TAG_LOWERFIRST, 0, 0, SV_G_MOD},
    {"upperfirst", SV_TAG_UPPERFIRST, 0, 0, SV_G_MOD},
    {"quotewildcard", SV_TAG_QUOTEWILDCARD, 0, 0, SV_G_MOD},
    {"quoteregex", SV_TAG_QUOTEREGEX, SV_EXT_REGEX, 0, SV_G_MOD},
    {"length", SV_TAG_LENGTH, 0, 0, SV_G_MOD},
    {"zone", SV_TAG_ZONE, 0, 'S', SV_G_ZONE},
    {"originalzone", SV_TAG_ORIGINALZONE, 0, 0, SV_G_ZONE},
    /* index, or deleteheader's (editheader): sv_check_match */
    {"index", SV_TAG_INDEX, SV_EXT_INDEX | SV_EXT_EDITHEADER, 'N', SV_G_NONE},
    {"last", SV_TAG_LAST, SV_EXT_INDEX | SV_EXT_EDITHEADER, 0, SV_G_NONE},
    {"personal", SV_TAG_PERSONAL, 0, 0, SV_G_LOC},
    {"global", SV_TAG_GLOBAL, 0, 0, SV_G_LOC},
    {"once", SV_TAG_ONCE, 0, 0, SV_G_NONE},
    {"optional", SV_TAG_OPTIONAL, 0, 0, SV_G_NONE},
    {"header", SV_TAG_HEADER, 0, 'S', SV_G_DUPID},
    {"uniqueid", SV_TAG_UNIQUEID, 0, 'S', SV_G_DUPID},
    {"percent", SV_TAG_PERCENT, SV_EXT_SPAMTESTPLUS, 0, SV_G_NONE},
    {"importance", SV_TAG_IMPORTANCE, SV_EXT_ENOTIFY, 'S', SV_G_NONE},
    {"options", SV_TAG_OPTIONS, SV_EXT_ENOTIFY, 'L', SV_G_NONE},
    {"message", SV_TAG_MESSAGE, SV_EXT_ENOTIFY, 'S', SV_G_NONE},
    {"encodeurl", SV_TAG_ENCODEURL, SV_EXT_ENOTIFY, 0, SV_G_MOD},
};

/* tags: names of sv_tags, or %C comparator, %M match types, %A address
 * parts, %I :index/:last.  pos: "S" string, "L" string list, "N" number;
 * a leading '?': an optional first string list (variable names); a
 * trailing '*': the last one is optional. */
static const struct sv_def {
	const char *name;
	int id;
	bool test;
	unsigned ext;
	const char *tags;
	const char *pos;
	int tests; /* 0 none, 1 one test, 2 a test list */
	bool block;
} sv_defs[] = {
    {"require", SV_C_REQUIRE, false, 0, "", "L", 0, false},
    {"if", SV_C_IF, false, 0, "", "", 1, true},
    {"elsif", SV_C_ELSIF, false, 0, "", "", 1, true},
    {"else", SV_C_ELSE, false, 0, "", "", 0, true},
    {"stop", SV_C_STOP, false, 0, "", "", 0, false},
    {"keep", SV_C_KEEP, false, 0, "flags", "", 0, false},
    {"discard", SV_C_DISCARD, false, 0, "", "", 0, false},
    {"redirect", SV_C_REDIRECT, false, 0, "copy", "S", 0, false},
    {"fileinto", SV_C_FILEINTO, false, SV_EXT_FILEINTO, "copy flags create", "S", 0, false},
    {"reject", SV_C_REJECT, false, SV_EXT_REJECT, "", "S", 0, false},
    {"ereject", SV_C_EREJECT, false, SV_EXT_EREJECT, "", "S", 0, false},
    {"setflag", SV_C_SETFLAG, false, SV_EXT_IMAP4FLAGS, "", "?L", 0, false},
    {"addflag", SV_C_ADDFLAG, false, SV_EXT_IMAP4FLAGS, "", "?L", 0, false},
    {"removeflag", SV_C_REMOVEFLAG, false, SV_EXT_IMAP4FLAGS, "", "?L", 0, false},
    {"set", SV_C_SET, false, SV_EXT_VARIABLES,
	"lower upper lowerfirst upperfirst quotewildcard quoteregex length encodeurl", "SS", 0,
	false},
    {"vacation", SV_C_VACATION, false, SV_EXT_VACATION,
	"days seconds subject from addresses mime handle", "S", 0, false},
    {"include", SV_C_INCLUDE, false, SV_EXT_INCLUDE, "personal global once optional", "S", 0,
	false},
    {"return", SV_C_RETURN, false, SV_EXT_INCLUDE, "", "", 0, false},
    {"global", SV_C_GLOBAL, false, SV_EXT_INCLUDE | SV_EXT_VARIABLES, "", "L", 0, false},
    {"addheader", SV_C_ADDHEADER, false, SV_EXT_EDITHEADER, "last", "SS", 0, false},
    {"deleteheader", SV_C_DELETEHEADER, false, SV_EXT_EDITHEADER, "%C %M %I", "SL*", 0, false},
    {"notify", SV_C_NOTIFY, false, SV_EXT_ENOTIFY, "from importance options message", "S", 0,
	false},
    {"address", SV_T_ADDRESS, true, 0, "%C %M %A %I", "LL", 0, false},
    {"header", SV_T_HEADER, true, 0, "%C %M %I", "LL", 0, false},
    {"envelope", SV_T_ENVELOPE, true, SV_EXT_ENVELOPE, "%C %M %A", "LL", 0, false},
    {"exists", SV_T_EXISTS, true, 0, "", "L", 0, false},
    {"size", SV_T_SIZE, true, 0, "over under", "", 0, false},
    {"true", SV_T_TRUE, true, 0, "", "", 0, false},
    {"false", SV_T_FALSE, true, 0, "", "", 0, false},
    {"not", SV_T_NOT, true, 0, "", "", 1, false},
    {"allof", SV_T_ALLOF, true, 0, "", "", 2, false},
    {"anyof", SV_T_ANYOF, true, 0, "", "", 2, false},
    {"body", SV_T_BODY, true, SV_EXT_BODY, "%C %M raw content text", "L", 0, false},
    {"string", SV_T_STRING, true, SV_EXT_VARIABLES, "%C %M", "LL", 0, false},
    {"hasflag", SV_T_HASFLAG, true, SV_EXT_IMAP4FLAGS, "%C %M", "?L", 0, false},
    {"date", SV_T_DATE, true, SV_EXT_DATE, "%C %M %I zone originalzone", "SSL", 0, false},
    {"currentdate", SV_T_CURRENTDATE, true, SV_EXT_DATE, "%C %M zone", "SL", 0, false},
    {"mailboxexists", SV_T_MAILBOXEXISTS, true, SV_EXT_MAILBOX, "", "L", 0, false},
    {"environment", SV_T_ENVIRONMENT, true, SV_EXT_ENVIRONMENT, "%C %M", "SL", 0, false},
    {"spamtest", SV_T_SPAMTEST, true, SV_EXT_SPAMTEST, "percent %C %M", "S", 0, false},
    {"virustest", SV_T_VIRUSTEST, true, SV_EXT_VIRUSTEST, "%C %M", "S", 0, false},
    {"duplicate", SV_T_DUPLICATE, true, SV_EXT_DUPLICATE, "handle header uniqueid seconds last", "",
	0, false},
    {"valid_notify_method", SV_T_VALID_NOTIFY_METHOD, true, SV_EXT_ENOTIFY, "", "L", 0, false},
    {"notify_method_capability", SV_T_NOTIFY_METHOD_CAPABILITY, true, SV_EXT_ENOTIFY, "%C %M",
	"SSL", 0, false},
};

struct sv_checker {
	struct sieve_script *s;
	struct buf *errors;
	int nerrors;
};

static void sv_cerr(struct sv_checker *ck, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sv_cerr(struct sv_checker *ck, int line, const char *fmt, ...)
{
	va_list ap;

	ck->nerrors++;
	if (ck->errors == NULL)
		return;
	buf_printf(ck->errors, "%s: line %d: error: ", ck->s->name, line);
	va_start(ap, fmt);
	buf_vprintf(ck->errors, fmt, ap);
	va_end(ap);
	buf_puts(ck->errors, ".\n");
}

static const struct sv_def *sv_def_find(const char *name, bool test)
{
	for (size_t i = 0; i < sizeof(sv_defs) / sizeof(sv_defs[0]); i++)
		if (sv_defs[i].test == test && strcmp(sv_defs[i].name, name) == 0)
			return &sv_defs[i];
	return NULL;
}

static const struct sv_tagdef *sv_tag_find(const char *name)
{
	for (size_t i = 0; i < sizeof(sv_tags) / sizeof(sv_tags[0]); i++)
		if (strcmp(sv_tags[i].name, name) == 0)
			return &sv_tags[i];
	return NULL;
}

/* True when def's tag list admits tag t. */
static bool sv_def_allows(const struct sv_def *def, const struct sv_tagdef *t)
{
	char *spec = xstrdup(def->tags), *save = NULL;
	bool ok = false;

	for (char *w = strtok_r(spec, " ", &save); w && !ok; w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "%C") == 0)
			ok = t->group == SV_G_CMP;
		else if (strcmp(w, "%M") == 0)
			ok = t->group == SV_G_MATCH;
		else if (strcmp(w, "%A") == 0)
			ok = t->group == SV_G_ADDR;
		else if (strcmp(w, "%I") == 0)
			ok = t->tag == SV_TAG_INDEX || t->tag == SV_TAG_LAST;
		else
			ok = strcmp(w, t->name) == 0;
	}
	free(spec);
	return ok;
}

struct sv_arg *sv_tag_arg(const struct sv_node *n, int tag)
{
	for (size_t i = 0; i < n->ntags; i++)
		if (n->tags[i].tag == tag)
			return n->tags[i].val;
	return NULL;
}

bool sv_has_tag(const struct sv_node *n, int tag)
{
	for (size_t i = 0; i < n->ntags; i++)
		if (n->tags[i].tag == tag)
			return true;
	return false;
}

static bool sv_has_vars(const struct sv_checker *ck, const char *s)
{
	return (ck->s->exts & SV_EXT_VARIABLES) && strstr(s, "${") != NULL;
}

static int sv_relop(const char *s)
{
	static const char *const ops[] = {"gt", "ge", "lt", "le", "eq", "ne"};

	for (int i = 0; i < 6; i++)
		if (strcasecmp(s, ops[i]) == 0)
			return i;
	return -1;
}

/* One tagged argument of x at args[*i]; advances *i past its value. */
static void sv_check_tag(
    struct sv_checker *ck, struct sv_node *x, const struct sv_def *def, size_t *i, int groups[])
{
	struct sv_arg *a = &x->args[*i];
	const struct sv_tagdef *t = sv_tag_find(a->tag);
	struct sv_arg *val = NULL;

	if (t == NULL || (t->ext && !(ck->s->exts & t->ext)) || !sv_def_allows(def, t)) {
		sv_cerr(ck, a->line, "unknown tagged argument ':%s' for the %s %s", a->tag,
		    def->name, def->test ? "test" : "command");
		return;
	}
	if (t->arg) {
		if (*i + 1 >= x->nargs) {
			sv_cerr(ck, a->line, "the :%s tag for the %s %s requires an argument",
			    t->name, def->name, def->test ? "test" : "command");
			return;
		}
		val = &x->args[++*i];
		if ((t->arg == 'N' && val->type != SV_ARG_NUMBER) ||
		    (t->arg == 'S' && val->type != SV_ARG_STRING) ||
		    (t->arg == 'L' && val->type != SV_ARG_STRING && val->type != SV_ARG_LIST)) {
			sv_cerr(ck, val->line, "the :%s tag for the %s %s requires a %s argument",
			    t->name, def->name, def->test ? "test" : "command",
			    t->arg == 'N'   ? "number"
			    : t->arg == 'S' ? "string"
					    : "string list");
			return;
		}
	}
	if (t->group != SV_G_NONE && t->group != SV_G_MOD) {
		if (groups[t->group]) {
			sv_cerr(ck, a->line, "multiple %s arguments specified for the %s %s",
			    t->group == SV_G_MATCH  ? "match type"
			    : t->group == SV_G_ADDR ? "address part"
			    : t->group == SV_G_CMP  ? "comparator"
						    : "exclusive tagged",
			    def->name, def->test ? "test" : "command");
			return;
		}
		groups[t->group] = 1;
	} else if (sv_has_tag(x, t->tag)) {
		sv_cerr(ck, a->line, "encountered duplicate tag ':%s' for the %s %s", t->name,
		    def->name, def->test ? "test" : "command");
		return;
	}
	if (x->ntags >= SV_MAX_TAGS) {
		sv_cerr(ck, a->line, "too many tagged arguments");
		return;
	}
	x->tags[x->ntags].tag = t->tag;
	x->tags[x->ntags++].val = val;
}

/* Resolves comparator, match type, relation and address part. */
static void sv_check_match(struct sv_checker *ck, struct sv_node *x)
{
	struct sv_arg *c = sv_tag_arg(x, SV_TAG_COMPARATOR);

	x->cmp = SV_CMP_CASEMAP;
	if (c) {
		const char *name = c->strs[0];

		if (strcmp(name, "i;octet") == 0)
			x->cmp = SV_CMP_OCTET;
		else if (strcmp(name, "i;ascii-casemap") == 0)
			x->cmp = SV_CMP_CASEMAP;
		else if (strcmp(name, "i;ascii-numeric") == 0 && (ck->s->exts & SV_EXT_NUMERIC))
			x->cmp = SV_CMP_NUMERIC;
		else
			sv_cerr(ck, c->line, "unknown comparator '%s'", name);
	}
	x->match = SV_TAG_IS;
	for (size_t i = 0; i < x->ntags; i++) {
		int t = x->tags[i].tag;

		if (t >= SV_TAG_IS && t <= SV_TAG_COUNT)
			x->match = t;
		if (t >= SV_TAG_ALL && t <= SV_TAG_DETAIL)
			x->addrpart = t;
	}
	if (x->addrpart == 0)
		x->addrpart = SV_TAG_ALL;
	if (x->match == SV_TAG_VALUE || x->match == SV_TAG_COUNT) {
		struct sv_arg *r = sv_tag_arg(x, x->match);

		x->relop = sv_relop(r->strs[0]);
		if (x->relop < 0)
			sv_cerr(ck, r->line, "invalid relational match '%s'", r->strs[0]);
	}
	if (x->cmp == SV_CMP_NUMERIC &&
	    (x->match == SV_TAG_CONTAINS || x->match == SV_TAG_MATCHES || x->match == SV_TAG_REGEX))
		sv_cerr(ck, x->line, "the specified %s comparator does not support %s matching",
		    "i;ascii-numeric",
		    x->match == SV_TAG_CONTAINS	 ? "sub-string"
		    : x->match == SV_TAG_MATCHES ? "wildcard"
						 : "regular expression");
	/* deleteheader :last alone is ignored, as Pigeonhole ignores it */
	if (x->id != SV_C_ADDHEADER && x->id != SV_C_DELETEHEADER && sv_has_tag(x, SV_TAG_LAST) &&
	    !sv_has_tag(x, SV_TAG_INDEX))
		sv_cerr(
		    ck, x->line, "the :last tag for the %s test requires the :index tag", x->name);
	if (x->id != SV_C_DELETEHEADER && x->id != SV_C_ADDHEADER && !(ck->s->exts & SV_EXT_INDEX))
		for (size_t i = 0; i < x->ntags; i++)
			if (x->tags[i].tag == SV_TAG_INDEX || x->tags[i].tag == SV_TAG_LAST)
				sv_cerr(ck, x->line,
				    "unknown tagged argument ':%s' for the %s test",
				    x->tags[i].tag == SV_TAG_INDEX ? "index" : "last", x->name);
	if (x->id == SV_C_DELETEHEADER) {
		struct sv_arg *ix = sv_tag_arg(x, SV_TAG_INDEX);

		if (ix && ix->num == 0)
			sv_cerr(ck, ix->line,
			    "the :index tag of deleteheader requires a number "
			    "greater than 0");
	}
}

/* Compiles constant :regex keys now so a bad one is a compile error. */
static void sv_check_regex(struct sv_checker *ck, struct sv_node *x, struct sv_arg *keys)
{
	if (x->match != SV_TAG_REGEX || keys == NULL)
		return;
	for (size_t i = 0; i < keys->n; i++)
		if (sv_has_vars(ck, keys->strs[i]))
			return;
	x->rx = xcalloc(keys->n ? keys->n : 1, sizeof(regex_t));
	for (size_t i = 0; i < keys->n; i++) {
		if (sv_regex_compile(&x->rx[i], keys->strs[i], x->cmp) != 0) {
			sv_cerr(ck, keys->line, "invalid regular expression '%s' for regex match",
			    keys->strs[i]);
			for (size_t j = 0; j < i; j++)
				regfree(&x->rx[j]);
			free(x->rx);
			x->rx = NULL;
			return;
		}
		x->nrx = i + 1;
	}
}

/* Pigeonhole's check of a redirect/vacation address: local@domain. */
bool sv_address_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *lt = strchr(s, '<');

	if (lt) {
		const char *gt = strchr(lt, '>');

		if (gt == NULL || gt[1] != 0)
			return false;
		at = memrchr(lt, '@', (size_t)(gt - lt));
		return at && at > lt + 1 && at + 1 < gt;
	}
	if (at == NULL || at == s || at[1] == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == ',' || *p == '\t')
			return false;
	return true;
}

static bool sv_header_name_ok(const char *s)
{
	if (*s == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 32 || *p >= 127 || *p == ':')
			return false;
	return true;
}

static void sv_check_node(struct sv_checker *ck, struct sv_node *x, bool test);

/* notify (RFC 5435 3): the constant method URI, :from, :importance and
 * :options, as Pigeonhole checks them. */
static void sv_check_notify(struct sv_checker *ck, struct sv_node *x)
{
	struct sv_arg *uri = x->pos[0], *from = sv_tag_arg(x, SV_TAG_FROM);
	struct sv_arg *imp = sv_tag_arg(x, SV_TAG_IMPORTANCE),
		      *opts = sv_tag_arg(x, SV_TAG_OPTIONS);
	struct buf err = BUF_INIT;

	if (!sv_has_vars(ck, uri->strs[0]) && !sv_notify_uri_ok(uri->strs[0], &err))
		sv_cerr(ck, uri->line, "notify command: %s", buf_cstr(&err));
	buf_free(&err);
	if (from && !sv_has_vars(ck, from->strs[0]) && !sv_address_ok(from->strs[0]))
		sv_cerr(ck, from->line,
		    "specified :from address '%s' is invalid for the mailto method", from->strs[0]);
	if (imp && !sv_has_vars(ck, imp->strs[0]) && strcmp(imp->strs[0], "1") != 0 &&
	    strcmp(imp->strs[0], "2") != 0 && strcmp(imp->strs[0], "3") != 0)
		sv_cerr(
		    ck, imp->line, "notify command: invalid :importance value '%s'", imp->strs[0]);
	for (size_t i = 0; opts && i < opts->n; i++)
		if (!sv_has_vars(ck, opts->strs[i]) && !sv_notify_option_ok(opts->strs[i]))
			sv_cerr(ck, opts->line,
			    "notify command: invalid option name specified in option '%s'",
			    opts->strs[i]);
}

/* The command-specific checks after the arguments have been sorted. */
static void sv_check_specific(struct sv_checker *ck, struct sv_node *x)
{
	struct sv_arg *p0 = x->npos > 0 ? x->pos[0] : NULL;

	switch (x->id) {
	case SV_C_REDIRECT:
		if (!sv_has_vars(ck, p0->strs[0]) && !sv_address_ok(p0->strs[0]))
			sv_cerr(ck, p0->line, "specified redirect address '%s' is invalid",
			    p0->strs[0]);
		break;
	case SV_C_SET:
		if (!sv_var_name_valid(p0->strs[0], false))
			sv_cerr(ck, p0->line, "invalid variable name '%s'", p0->strs[0]);
		break;
	case SV_C_SETFLAG:
	case SV_C_ADDFLAG:
	case SV_C_REMOVEFLAG:
	case SV_T_HASFLAG:
		if (x->npos == 2 && !sv_var_name_valid(p0->strs[0], false))
			sv_cerr(ck, p0->line, "invalid variable name '%s'", p0->strs[0]);
		if (x->npos == 2 && p0->type != SV_ARG_STRING && x->id != SV_T_HASFLAG)
			sv_cerr(ck, p0->line, "the variable name must be a string");
		break;
	case SV_T_HEADER:
	case SV_T_ADDRESS:
	case SV_T_EXISTS:
		for (size_t i = 0; i < p0->n; i++)
			if (!sv_has_vars(ck, p0->strs[i]) && !sv_header_name_ok(p0->strs[i]))
				sv_cerr(ck, p0->line, "specified header field name '%s' is invalid",
				    p0->strs[i]);
		break;
	case SV_T_ENVELOPE:
		for (size_t i = 0; i < p0->n; i++) {
			const char *e = p0->strs[i];

			if (!sv_has_vars(ck, e) && strcasecmp(e, "from") && strcasecmp(e, "to") &&
			    strcasecmp(e, "auth"))
				sv_cerr(ck, p0->line,
				    "specified envelope part '%s' is not supported", e);
		}
		break;
	case SV_T_SIZE:
		if (!sv_has_tag(x, SV_TAG_OVER) && !sv_has_tag(x, SV_TAG_UNDER))
			sv_cerr(ck, x->line,
			    "the size test requires either the :under or the "
			    ":over tag");
		break;
	case SV_C_VACATION: {
		struct sv_arg *from = sv_tag_arg(x, SV_TAG_FROM);

		if (from && !sv_has_vars(ck, from->strs[0]) && !sv_address_ok(from->strs[0]))
			sv_cerr(ck, from->line,
			    "specified :from address '%s' is invalid for "
			    "vacation action",
			    from->strs[0]);
		break;
	}
	case SV_C_NOTIFY: sv_check_notify(ck, x); break;
	case SV_C_ADDHEADER:
	case SV_C_DELETEHEADER:
		if (!sv_has_vars(ck, p0->strs[0]) && !sv_field_name_ok(p0->strs[0]))
			sv_cerr(ck, p0->line, "%s command: specified field name '%s' is invalid",
			    x->name, p0->strs[0]);
		break;
	default: break;
	}
	if (x->id == SV_C_DELETEHEADER && x->npos == 2)
		sv_check_regex(ck, x, x->pos[1]);
	if (x->id == SV_T_HEADER || x->id == SV_T_ADDRESS || x->id == SV_T_ENVELOPE ||
	    x->id == SV_T_BODY || x->id == SV_T_STRING || x->id == SV_T_HASFLAG ||
	    x->id == SV_T_DATE || x->id == SV_T_CURRENTDATE || x->id == SV_T_ENVIRONMENT ||
	    x->id == SV_T_SPAMTEST || x->id == SV_T_VIRUSTEST ||
	    x->id == SV_T_NOTIFY_METHOD_CAPABILITY)
		sv_check_regex(ck, x, x->pos[x->npos - 1]);
}

/* Sorts arguments into tags and positional ones and checks them. */
static void sv_check_args(struct sv_checker *ck, struct sv_node *x, const struct sv_def *def)
{
	int groups[16] = {0};
	bool optional = def->pos[0] == '?';
	const char *spec = def->pos + (optional ? 1 : 0);
	bool opt_last = *spec && spec[strlen(spec) - 1] == '*';
	size_t min = strlen(spec) - (opt_last ? 2 : 0), max = min + (optional || opt_last ? 1 : 0);
	int errs = ck->nerrors;

	for (size_t i = 0; i < x->nargs; i++) {
		struct sv_arg *a = &x->args[i];

		if (a->type == SV_ARG_TAG) {
			if (x->npos > 0) {
				sv_cerr(ck, a->line,
				    "tagged argument ':%s' after positional arguments", a->tag);
				return;
			}
			sv_check_tag(ck, x, def, &i, groups);
			continue;
		}
		if (x->npos >= max) {
			sv_cerr(ck, a->line,
			    "the %s %s expects %zu positional argument(s), but more "
			    "were found",
			    def->name, def->test ? "test" : "command", max);
			return;
		}
		x->pos[x->npos++] = a;
	}
	if (ck->nerrors != errs)
		return;
	if (x->npos < min) {
		sv_cerr(ck, x->line, "the %s %s expects %zu positional argument(s), but %zu found",
		    def->name, def->test ? "test" : "command", min, x->npos);
		return;
	}
	for (size_t i = 0; i < x->npos; i++) {
		/* the optional first argument is a (list of) variable name(s) */
		char want = optional && x->npos == max ? (i == 0 ? 'L' : spec[i - 1]) : spec[i];
		struct sv_arg *a = x->pos[i];

		if ((want == 'S' && a->type != SV_ARG_STRING) ||
		    (want == 'N' && a->type != SV_ARG_NUMBER) ||
		    (want == 'L' && a->type != SV_ARG_STRING && a->type != SV_ARG_LIST))
			sv_cerr(ck, a->line, "the %s %s expects a %s as argument %zu", def->name,
			    def->test ? "test" : "command",
			    want == 'S'	  ? "string"
			    : want == 'N' ? "number"
					  : "string list",
			    i + 1);
	}
	if (ck->nerrors != errs)
		return;
	sv_check_match(ck, x);
	if (ck->nerrors == errs)
		sv_check_specific(ck, x);
}

static void sv_check_node(struct sv_checker *ck, struct sv_node *x, bool test)
{
	const struct sv_def *def = sv_def_find(x->name, test);

	if (def == NULL || (def->ext && (ck->s->exts & def->ext) != def->ext)) {
		sv_cerr(ck, x->line, "unknown %s '%s'", test ? "test" : "command", x->name);
		return;
	}
	x->id = def->id;
	sv_check_args(ck, x, def);
	if (def->tests == 0 && x->ntests)
		sv_cerr(ck, x->line, "the %s %s accepts no tests", def->name,
		    test ? "test" : "command");
	else if (def->tests == 1 && x->ntests != 1)
		sv_cerr(ck, x->line, "the %s %s requires one test", def->name,
		    test ? "test" : "command");
	else if (def->tests == 2 && x->ntests == 0)
		sv_cerr(ck, x->line, "the %s test requires a test list", def->name);
	if (def->block && !x->has_block)
		sv_cerr(ck, x->line, "the %s command requires a command block", def->name);
	else if (!def->block && x->has_block)
		sv_cerr(ck, x->line, "the %s command does not accept a command block", def->name);
	for (size_t i = 0; i < x->ntests; i++)
		sv_check_node(ck, &x->tests[i], true);
}

static void sv_check_block(struct sv_checker *ck, struct sv_node *cmds, size_t n, bool top)
{
	bool require_ok = top;

	for (size_t i = 0; i < n; i++) {
		struct sv_node *x = &cmds[i];

		if (strcmp(x->name, "require") == 0) {
			if (!require_ok)
				sv_cerr(ck, x->line,
				    "require commands can only be placed at top "
				    "level at the beginning of the file");
			x->id = SV_C_REQUIRE;
			continue;
		}
		require_ok = false;
		if ((strcmp(x->name, "elsif") == 0 || strcmp(x->name, "else") == 0) &&
		    (i == 0 || (cmds[i - 1].id != SV_C_IF && cmds[i - 1].id != SV_C_ELSIF))) {
			sv_cerr(ck, x->line, "the %s command must follow an if or elseif command",
			    x->name);
			continue;
		}
		sv_check_node(ck, x, false);
		if (x->has_block)
			sv_check_block(ck, x->block, x->nblock, false);
	}
}

/* The require commands at the top: the extension set, before the rest. */
static void sv_check_require(struct sv_checker *ck)
{
	for (size_t i = 0; i < ck->s->n; i++) {
		struct sv_node *x = &ck->s->cmds[i];

		if (strcmp(x->name, "require") != 0)
			break;
		if (x->nargs != 1 || x->ntests || x->has_block ||
		    (x->args[0].type != SV_ARG_STRING && x->args[0].type != SV_ARG_LIST)) {
			sv_cerr(ck, x->line, "the require command expects a string list argument");
			continue;
		}
		for (size_t j = 0; j < x->args[0].n; j++) {
			const char *e = x->args[0].strs[j];
			size_t k;

			for (k = 0; k < sizeof(sv_exts) / sizeof(sv_exts[0]); k++)
				if (strcmp(sv_exts[k].name, e) == 0)
					break;
			if (k == sizeof(sv_exts) / sizeof(sv_exts[0]))
				sv_cerr(ck, x->args[0].line,
				    "require command: unknown Sieve "
				    "capability '%s'",
				    e);
			else
				ck->s->exts |= sv_exts[k].bits;
		}
	}
}

static void sv_decode_strings(struct sv_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nodes[i].nargs; j++)
			for (size_t k = 0; k < nodes[i].args[j].n; k++)
				sv_encoded_decode(&nodes[i].args[j].strs[k]);
		sv_decode_strings(nodes[i].tests, nodes[i].ntests);
		sv_decode_strings(nodes[i].block, nodes[i].nblock);
	}
}

int sv_check(struct sieve_script *s, struct buf *errors)
{
	struct sv_checker ck = {s, errors, 0};

	sv_check_require(&ck);
	if (s->exts & SV_EXT_ENCODED)
		sv_decode_strings(s->cmds, s->n);
	sv_check_block(&ck, s->cmds, s->n, true);
	return ck.nerrors ? -1 : 0;
}

struct sieve_script *sieve_compile(
    const char *text, size_t len, const char *name, struct buf *errors)
{
	struct sieve_script *s = xcalloc(1, sizeof(*s));
	struct buf err = BUF_INIT;
	int line = 0;

	s->name = xstrdup(name ? name : "script");
	if (len > SIEVE_MAX_SCRIPT) {
		if (errors)
			buf_printf(errors, "%s: error: script is too large (max %d bytes).\n",
			    s->name, SIEVE_MAX_SCRIPT);
		sieve_script_free(s);
		return NULL;
	}
	if (sv_parse(text, len, &s->cmds, &s->n, &line, &err) < 0) {
		if (errors)
			buf_printf(
			    errors, "%s: line %d: error: %s.\n", s->name, line, buf_cstr(&err));
		buf_free(&err);
		sieve_script_free(s);
		return NULL;
	}
	buf_free(&err);
	if (sv_check(s, errors) < 0) {
		sieve_script_free(s);
		return NULL;
	}
	return s;
}

void sieve_script_free(struct sieve_script *s)
{
	if (s == NULL)
		return;
	sv_nodes_free(s->cmds, s->n);
	free(s->name);
	free(s);
}
