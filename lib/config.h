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
 * Values that name files, as in Postfix: in a PARAM_LIST parameter
 * (mydestination, mynetworks, relay_domains, ...) an entry "/file/name"
 * is replaced by the entries in that file (white space or commas between
 * them, '#' lines are comments); a PARAM_NAME parameter (myorigin) whose
 * value starts with '/' is the first line of that file (Debian's
 * "myorigin = /etc/mailname").  Both after $name expansion.  A file that
 * cannot be read is warned about and gives nothing (PARAM_NAME: the
 * parameter's default); "tern check" reports it as an error.
 *
 * config_load() does not warn about anything it merely does not know: a
 * name missing from params.c, or a Postfix parameter tern does not
 * implement, is reported by config_check() (config_check.h), which master
 * logs once at start and "tern check" prints.
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
 * ${name?{text}} the braces around text and the white space just inside
 * them are dropped; ${name?{text1}:{text2}} is text1 when name is
 * non-empty, else text2 (Postfix 3).
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
	PARAM_LIST, /* names, patterns or tables; "/file/name" entries are read */
	PARAM_NAME, /* one name, or "/file/name" whose first line is the name */
};

/*
 * Postfix parameters tern does not implement are declared too, so that a
 * Postfix main.cf is understood rather than guessed at (config_check.c):
 */
enum param_compat {
	PARAM_TERN,	   /* implemented (the default of the table's macros) */
	PARAM_IGNORED,	   /* has no effect in tern and needs none: accepted silently */
	PARAM_DIFFERENT,   /* tern does the job another way: one info line when set */
	PARAM_UNSUPPORTED, /* not implemented: any value but the default is reported */
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *def; /* default value, may contain $names;
			    NULL: computed (myhostname, mydomain) */
	char unit;	 /* PARAM_TIME: default unit when none given */
	const char *desc;
	enum param_compat compat;
	const char *note; /* PARAM_DIFFERENT, PARAM_UNSUPPORTED: what tern does instead */
};

/* The table, defined in params.c, ended by a NULL name. */
extern const struct param_def param_table[];

/* The table entry of a name, or NULL. */
const struct param_def *config_param_def(const char *name);

#define TERN_DEFAULT_CONFIG_DIR "/etc/tern"

/*
 * Resolves the configuration directory: dir if not NULL, else $TERN_CONFIG,
 * else TERN_DEFAULT_CONFIG_DIR.  Loads dir/main.cf.  A missing main.cf is
 * fine only when allow_missing is true (defaults apply).  Syntax errors are
 * reported in err with file:line and return -1.  May be called again to
 * reload (overrides are kept).
 */
int config_load(const char *dir, bool allow_missing, struct buf *err);

/*
 * config_load() for a command's "-c DIR": DIR may be an instance's folder
 * (the one "tern init" made, holding etc/main.cf; then DIR/etc is loaded)
 * or a configuration directory, relative or absolute (it is made absolute
 * first, so "-c run" from the instance's parent works).  NULL: as
 * config_load(NULL, ...).
 */
int config_load_instance(const char *dir, bool allow_missing, struct buf *err);
/* The directory config_load_instance() loads for dir (malloc'ed), NULL
 * for NULL. */
char *config_instance_dir(const char *dir);

/* Parses main.cf text (for tests and fuzzing); same rules as config_load. */
int config_load_text(const char *text, size_t len, const char *filename, struct buf *err);

/* Clears every value and override (tests). */
void config_reset(void);

/* The directory config_load() used, made absolute (also the value of
 * config_directory): "-c run/etc" works from any working directory. */
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

/* The main.cf file config_load() read last, or NULL (config_load_text
 * gives its filename). */
const char *config_file_path(void);

/* One parameter as main.cf sets it (the last setting of a repeated name). */
struct config_setting {
	const char *name;
	const char *value; /* raw, unexpanded */
	int line;	   /* of main.cf */
};

/* The parameters main.cf sets, in the order of their lines; *out is the
 * caller's to free() (not the strings, valid until the next load). */
size_t config_file_settings(struct config_setting **out);

/* True when name appears as $name, ${name...} or $(name...) in value. */
bool config_refers_to(const char *value, const char *name);

/* The raw, unexpanded value, or NULL if neither set nor defaulted.
 * Any name may be asked for; valid until the next load or reset. */
const char *config_raw(const char *name);
/* The default of a parameter of params.c, unexpanded (myhostname and
 * mydomain: computed); NULL for other names.  Valid until the next load. */
const char *config_default(const char *name);
/* True when main.cf or an override set the name explicitly. */
bool config_is_set(const char *name);

/*
 * Splits a list value (separators: white space and commas outside braces,
 * strv_split_list) into a NULL-terminated vector; free with strv_free().
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
