/*
 * config.h - main.cf: parameters, defaults, $name expansion, -o overrides.
 *
 * Every parameter tern knows is declared once, in params.c, with its type,
 * default and a one-line description; nothing else hard-codes a parameter's
 * name or default.  Asking for a name that is not in that table is a
 * programming error (log_panic).  A name in main.cf that is not in the table
 * is warned about once and otherwise ignored, as Postfix does.
 *
 * main.cf syntax (Postfix's): "name = value"; a line starting with white
 * space continues the previous one; '#' at the start of a line (after
 * optional white space) is a comment; values are expanded on use: $name,
 * ${name}, $(name), ${name?text} (text if name is non-empty), ${name:text}
 * (text if name is empty), "$$" is a literal "$".  Unknown names expand to
 * the empty string; recursion deeper than 100 is an error (loop).
 *
 * Details: a '#' after a value is part of the value (only whole-line
 * comments, as in Postfix); comment and blank lines do not end a
 * continued parameter; a continuation line is joined with one space and
 * trailing white space is dropped from every line (lline.h, the reader
 * main.cf shares with master.cf and table sources).  Names set in main.cf
 * but missing from params.c are kept, so "$my_own_name" expands as in
 * Postfix.  A loop (a = $b, b = $a) or nesting deeper than 100 is warned
 * about and the offending reference expands to ""; a value longer than
 * 64 KiB after expansion is warned about and becomes "".  In
 * ${name?{text}} the braces around text and the
 * white space just inside them are dropped.
 */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H

#include <stdbool.h>

#include "buf.h"

enum param_type {
	PARAM_STR,
	PARAM_INT,
	PARAM_BOOL,
	PARAM_TIME, /* number with optional unit s/m/h/d/w; unit holds default */
	PARAM_SIZE, /* bytes, a plain integer */
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *def; /* default value, may contain $names;
			    NULL: computed (myhostname, mydomain) */
	char unit;	 /* PARAM_TIME: default unit when none given */
	const char *desc;
};

/* The table, defined in params.c, ended by a NULL name. */
extern const struct param_def param_table[];

#define TERN_DEFAULT_CONFIG_DIR "/etc/tern"

/*
 * Resolves the configuration directory: dir if not NULL, else $TERN_CONFIG,
 * else TERN_DEFAULT_CONFIG_DIR.  Loads dir/main.cf.  A missing main.cf is
 * fine only when allow_missing is true (defaults apply).  Syntax errors are
 * reported in err with file:line and return -1.  May be called again to
 * reload (overrides are kept).
 */
int config_load(const char *dir, bool allow_missing, struct buf *err);

/* Parses main.cf text (for tests and fuzzing); same rules as config_load. */
int config_load_text(const char *text, size_t len, const char *filename, struct buf *err);

/* Clears every value and override (tests). */
void config_reset(void);

/* The directory config_load() used. */
const char *config_dir(void);

/*
 * "name=value" as given with -o (blanks around '=' are dropped); returns -1
 * when it has no '=' or the name is not [A-Za-z0-9_]+.  Overrides beat
 * main.cf and survive reloads.  config_set(name, NULL) drops an override.
 * Names need not be in params.c (they can then only be expanded).
 */
int config_override(const char *assignment);
void config_set(const char *name, const char *value);

/*
 * Expanded values; the returned string stays valid until the next load or
 * reset.  A name not in params.c is a log_panic.  A malformed number, time
 * or boolean is a log_fatal naming the parameter and its value.  The
 * parameter's declared type is not checked: the value's syntax decides.
 */
const char *config_str(const char *name);
long config_int(const char *name);
bool config_bool(const char *name); /* yes/no/true/false/1/0, any case */
long config_time(const char *name); /* seconds */
long long config_size(const char *name);

/* The raw, unexpanded value, or NULL if neither set nor defaulted.
 * Any name may be asked for; valid until the next load or reset. */
const char *config_raw(const char *name);
/* True when main.cf or an override set the name explicitly. */
bool config_is_set(const char *name);

/*
 * Splits a list value (separators: white space and commas) into a
 * NULL-terminated vector; free with strv_free().
 */
char **config_list(const char *name);

/* Expands $names in an arbitrary string (for table specs and templates);
 * the result is the caller's to free(). */
char *config_expand(const char *text);

/* Parses a time value like "300s", "5d", "10" with the given default unit
 * (0 means 's'); units s m h d w, either case.  False on junk or overflow. */
bool config_parse_time(const char *value, char unit, long *seconds);

/* Parses a boolean word; false when it is none of the accepted spellings. */
bool config_parse_bool(const char *value, bool *out);

#endif
