/*
 * util.h - allocation that never fails, and small string helpers.
 *
 * Every x*() function either returns usable memory or logs a fatal error and
 * exits: callers never test for NULL.  String helpers that libbsd already
 * provides (strlcpy, strlcat, reallocarray) come from <bsd/string.h> and
 * <bsd/stdlib.h>; only what it lacks is here.
 */
#ifndef TERN_UTIL_H
#define TERN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xmemdup(const void *p, size_t n); /* adds a terminating NUL */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* ASCII-only case helpers: locale-independent, as mail protocols need. */
void str_lower(char *s);
bool str_case_eq(const char *a, const char *b);
bool str_prefix_case(const char *s, const char *prefix);
/* 0..15 for an ASCII hex digit of either case, -1 for anything else. */
int hex_value(int c);
/* The hex digit of the low four bits of v. */
char hex_digit(unsigned v, bool upper);
/* n bytes as 2n lower-case hex digits and a NUL: out holds 2n+1 bytes. */
void hex_encode(const void *in, size_t n, char *out);

/* Strips leading and trailing ASCII white space in place; returns s+skip. */
char *str_trim(char *s);

/*
 * Splits s on any byte of seps into a NULL-terminated array of new strings,
 * skipping empty fields.  Free with strv_free().
 */
char **strv_split(const char *s, const char *seps);
/*
 * Splits a Postfix list value ("a, b c", "inline:{ k = v, { k2 = v 2 } }")
 * on commas and white space outside braces: the one splitter of every
 * list parameter (config_list) and table list (maps_split).  An unbalanced
 * '{' keeps the rest of the text in its word.
 */
char **strv_split_list(const char *text);
/*
 * One setting of Postfix's "{ address, name=value, { name = value } }"
 * form (milter lists, check_policy_service): w, a word of strv_split_list,
 * loses the braces around it, and name and value point into it, trimmed.
 * False when it has no '=' or no name.
 */
bool str_nameval(char *w, char **name, char **value);
/* "{ ... }" (a word of strv_split_list): the text inside, new; else NULL.
 * *unbalanced is set for a '{' without its '}'. */
char *str_unbrace(const char *w, bool *unbalanced);
size_t strv_len(char *const *v);
/* Appends a copy of s to *v (NULL: a new vector). */
void strv_add(char ***v, const char *s);
void strv_free(char **v);

/* Parses a decimal number; false on junk, overflow or a value outside range. */
bool parse_long(const char *s, long min, long max, long *out);

/* Current time in microseconds since the epoch. */
long long now_usec(void);
/* Monotonic clock in milliseconds, in microseconds. */
long long mono_msec(void);
long long mono_usec(void);

#endif
