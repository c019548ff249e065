/*
 * maildate.c - day and month names for mail dates (see maildate.h).
 */
#include "maildate.h"

#include <stdio.h>

static const char *const maildate_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const maildate_months[] = {
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
};

const char *maildate_day(int wday)
{
	return maildate_days[(unsigned)wday % 7];
}

const char *maildate_month(int mon)
{
	return maildate_months[(unsigned)mon % 12];
}

void maildate_ctime(char out[32], const struct tm *tm)
{
	snprintf(out, 32, "%s %s %2d %02d:%02d:%02d %d", maildate_day(tm->tm_wday),
	    maildate_month(tm->tm_mon), tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
	    tm->tm_year + 1900);
}
