/*
 * mime/casemap.h - the i;unicode-casemap comparator (RFC 5051) as SEARCH,
 * SORT and Sieve use it: text is turned into a comparable UTF-8 form, and
 * two strings are equal (or one contains the other) when their forms are.
 *
 * The form here is simple case folding: every code point is mapped to
 * lower(upper(c)) with glibc's C.UTF-8 tables (so "ß" stays "ß", "ſ" and
 * "S" both become "s", final sigma becomes sigma), invalid UTF-8 becomes
 * U+FFFD.  Unlike RFC 5051's titlecase+NFD form it does not decompose
 * (a precomposed "é" does not match "e" + U+0301); Dovecot does, and that
 * difference is listed in tests/imap/test_search.c.
 */
#ifndef TERN_MIME_CASEMAP_H
#define TERN_MIME_CASEMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the comparable form of in[0..len) to out. */
void mime_casemap(const char *in, size_t len, struct buf *out);
/* Substring test of two comparable forms (memmem; empty needle matches). */
bool mime_casemap_contains(const char *hay, size_t hlen, const char *needle, size_t nlen);
/* Compares two strings under i;unicode-casemap (strcmp of the forms). */
int mime_casemap_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
