/*
 * mime/date.h - RFC 5322 date-time (section 3.3 and the obsolete forms of
 * 4.3) to time_t, for SENTBEFORE/SENTSINCE, SORT DATE, Sieve's date test
 * and JMAP's sentAt.
 *
 * Accepted: an optional day name, "d[d] Mon yyyy hh:mm[:ss] zone" with
 * comments and white space anywhere, two- and three-digit years (RFC 5322
 * 4.3: 00-49 are 20xx, 50-99 and 3 digits are + 1900), zones as +hhmm,
 * -hhmm, UT, GMT, Z, the US names EST..PDT and military letters (those
 * mean "unknown", +0000); a missing zone is +0000.  The month name and
 * day name are matched without case.  Pure.
 */
#ifndef TERN_MIME_DATE_H
#define TERN_MIME_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* *t = the instant (UTC), *tz_min = the zone's offset in minutes east.
 * False (outputs untouched) if the text is not a date. */
bool mime_date_parse(const char *s, size_t len, time_t *t, int *tz_min);

/* Seconds since the epoch of a civil UTC date and time (proleptic
 * Gregorian, any year); shared with the IMAP date parsers. */
long long mime_date_from_civil(int year, int mon /* 1..12 */, int day, int h, int m, int s);
/* Month number 1..12 of an English three-letter abbreviation, 0 if none. */
int mime_date_month(const char *s, size_t len);

#endif
