/*
 * maildate.h - day and month names for mail dates.
 *
 * RFC 5322 dates and mbox "From " lines use English abbreviations whatever
 * the locale, so they are spelled out here once rather than taken from
 * strftime's %a and %b.
 */
#ifndef TERN_MAILDATE_H
#define TERN_MAILDATE_H

#include <time.h>

/* "Sun".."Sat" for tm_wday, "Jan".."Dec" for tm_mon; out-of-range values wrap. */
const char *maildate_day(int wday);
const char *maildate_month(int mon);
/* "Mon Nov  2 09:05:01 2026": the date of an mbox "From " line (ctime's
 * form without its LF), in English whatever the locale. */
void maildate_ctime(char out[32], const struct tm *tm);

#endif
