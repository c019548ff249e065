/*
 * util.c - allocation that never fails, and small string helpers.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		log_fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		log_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		log_fatal("out of memory reallocating %zu bytes", size);
	return p;
}

void *xreallocarray(void *ptr, size_t n, size_t size)
{
	void *p = reallocarray(ptr, n ? n : 1, size ? size : 1);

	if (p == NULL)
		log_fatal("out of memory reallocating %zu x %zu bytes", n, size);
	return p;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	return xmemdup(s, strnlen(s, n));
}

char *xmemdup(const void *p, size_t n)
{
	char *s = xmalloc(n + 1);

	if (n > 0) /* p may be NULL then (an empty set's array) */
		memcpy(s, p, n);
	s[n] = 0;
	return s;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		log_fatal("out of memory formatting a string");
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void str_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool str_case_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool str_prefix_case(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (*s == 0 ||
		    ascii_lower((unsigned char)*s) != ascii_lower((unsigned char)*prefix))
			return false;
	return true;
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char hex_digit(unsigned v, bool upper)
{
	return (upper ? "0123456789ABCDEF" : "0123456789abcdef")[v & 15];
}

void hex_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digit(p[i] >> 4, false);
		out[2 * i + 1] = hex_digit(p[i], false);
	}
	out[2 * n] = '\0';
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *str_trim(char *s)
{
	char *end;

	while (is_space((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space((unsigned char)end[-1]))
		end--;
	*end = 0;
	return s;
}

char **strv_split(const char *s, const char *seps)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	while (*s) {
		size_t len = strcspn(s, seps);

		if (len > 0) {
			v = xreallocarray(v, n + 2, sizeof(*v));
			v[n++] = xstrndup(s, len);
			v[n] = NULL;
		}
		s += len;
		if (*s)
			s++;
	}
	return v;
}

char **strv_split_list(const char *text)
{
	static const char seps[] = " \t\r\n,";
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	for (const char *p = text; *p;) {
		const char *start;
		int depth = 0;

		p += strspn(p, seps);
		if (*p == 0)
			break;
		for (start = p; *p && (depth > 0 || strchr(seps, *p) == NULL); p++) {
			if (*p == '{')
				depth++;
			else if (*p == '}' && depth > 0)
				depth--;
		}
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrndup(start, (size_t)(p - start));
		v[n] = NULL;
	}
	return v;
}

bool str_nameval(char *w, char **name, char **value)
{
	size_t len = strlen(w);
	char *eq;

	if (len >= 2 && w[0] == '{' && w[len - 1] == '}') {
		w[len - 1] = 0;
		w++;
	}
	if ((eq = strchr(w, '=')) == NULL)
		return false;
	*eq = 0;
	*name = str_trim(w);
	*value = str_trim(eq + 1);
	return **name != 0;
}

char *str_unbrace(const char *w, bool *unbalanced)
{
	size_t len = strlen(w);

	*unbalanced = false;
	if (w[0] != '{')
		return NULL;
	if (len < 2 || w[len - 1] != '}') {
		*unbalanced = true;
		return NULL;
	}
	return xstrndup(w + 1, len - 2);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void strv_add(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xreallocarray(*v, n + 2, sizeof(**v));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == 0 || is_space((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != 0 || v < min || v > max)
		return false;
	*out = v;
	return true;
}

long long now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long mono_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

long long mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
