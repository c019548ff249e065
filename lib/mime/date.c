/*
 * mime/date.c - RFC 5322 dates (mime/date.h).
 *
 * A token reader over the value: numbers, words and zone offsets, with
 * comments and folding skipped by mime/lex.  The fields are then checked
 * for range; no locale and no libc time zone is involved.
 */
#include "mime/date.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mime/lex.h"

long long mime_date_from_civil(int year, int mon, int day, int h, int m, int s)
{
	/* Days from 1970-01-01 (H. Hinnant's days_from_civil). */
	long long y = (long long)year - (mon <= 2);
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long mp = (mon + 9) % 12;
	long long doy = (153 * mp + 2) / 5 + day - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long long days = era * 146097 + doe - 719468;

	return days * 86400 + h * 3600LL + m * 60LL + s;
}

int mime_date_month(const char *s, size_t len)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	if (len < 3)
		return 0;
	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, names + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/* Reads up to maxd digits; returns the count read. */
static int date_number(struct mime_lex *l, int maxd, int *out)
{
	int n = 0, v = 0;

	while (n < maxd && l->p < l->end && isdigit(*l->p)) {
		v = v * 10 + (*l->p++ - '0');
		n++;
	}
	*out = v;
	return n;
}

static size_t date_word(struct mime_lex *l, const char **w)
{
	*w = (const char *)l->p;
	while (l->p < l->end && isalpha(*l->p))
		l->p++;
	return (size_t)((const char *)l->p - *w);
}

/* RFC 5322 4.3 obs-zone; military letters mean "unknown" (+0000). */
static bool date_zone_name(const char *w, size_t n, int *tz)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {{"UT", 0}, {"GMT", 0}, {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
	    {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strlen(zones[i].name) == n && strncasecmp(w, zones[i].name, n) == 0) {
			*tz = zones[i].hours * 60;
			return true;
		}
	}
	if (n == 1 && isalpha((unsigned char)w[0]) && w[0] != 'j' && w[0] != 'J') {
		*tz = 0;
		return true;
	}
	return false;
}

static bool date_zone(struct mime_lex *l, int *tz)
{
	int sign = mime_lex_peek(l), v;
	const char *w;
	size_t n;

	*tz = 0;
	if (sign == '+' || sign == '-') {
		l->p++;
		/* More than a day away is no zone (and would move the date). */
		if (date_number(l, 4, &v) != 4 || v % 100 >= 60 || v / 100 > 23)
			return false;
		*tz = (v / 100) * 60 + v % 100;
		if (sign == '-')
			*tz = -*tz;
		return true;
	}
	n = date_word(l, &w);
	return n == 0 || date_zone_name(w, n, tz);
}

bool mime_date_parse(const char *s, size_t len, time_t *t, int *tz_min)
{
	struct mime_lex l;
	int day, mon, year, h, m, sec = 0, tz, nd;
	const char *w;
	size_t n;

	mime_lex_init(&l, s, len);
	mime_lex_cfws(&l);
	if (mime_lex_peek(&l) >= 0 && isalpha(mime_lex_peek(&l))) {
		date_word(&l, &w); /* day name; its value is not checked */
		mime_lex_cfws(&l);
		mime_lex_char(&l, ',');
		mime_lex_cfws(&l);
	}
	if (date_number(&l, 2, &day) == 0 || day < 1 || day > 31)
		return false;
	mime_lex_cfws(&l);
	n = date_word(&l, &w);
	if ((mon = mime_date_month(w, n)) == 0 || n != 3)
		return false;
	mime_lex_cfws(&l);
	nd = date_number(&l, 4, &year);
	if (nd < 2)
		return false;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	mime_lex_cfws(&l);
	if (date_number(&l, 2, &h) == 0 || h > 23)
		return false;
	mime_lex_cfws(&l);
	if (!mime_lex_char(&l, ':'))
		return false;
	mime_lex_cfws(&l);
	if (date_number(&l, 2, &m) == 0 || m > 59)
		return false;
	mime_lex_cfws(&l);
	if (mime_lex_char(&l, ':')) {
		mime_lex_cfws(&l);
		if (date_number(&l, 2, &sec) == 0 || sec > 60)
			return false;
		mime_lex_cfws(&l);
	}
	if (!date_zone(&l, &tz))
		return false;
	*t = (time_t)(mime_date_from_civil(year, mon, day, h, m, sec) - tz * 60LL);
	*tz_min = tz;
	return true;
}
