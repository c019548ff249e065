/*
 * maildate.c - day and month names for mail dates (see maildate.h).
 */
#include "maildate.h"

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
