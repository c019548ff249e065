/*
 * maildate.h - day and month names for mail dates.
 *
 * RFC 5322 dates and mbox "From " lines use English abbreviations whatever
 * the locale, so they are spelled out here once rather than taken from
 * strftime's %a and %b.
 */
#ifndef TERN_MAILDATE_H
#define TERN_MAILDATE_H

/* "Sun".."Sat" for tm_wday, "Jan".."Dec" for tm_mon; out-of-range values wrap. */
const char *maildate_day(int wday);
const char *maildate_month(int mon);

#endif
