/*
 * imap/args_append.c - APPEND with MULTIAPPEND (RFC 3502), literal8
 * (RFC 3516) and UTF8 (RFC 6855); the date-time of RFC 9051; SORT (RFC
 * 5256, DISPLAYFROM/DISPLAYTO of RFC 5957) and THREAD criteria
 * (imap/args.h).
 */
#include "args.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/date.h"
#include "util.h"

#define APPEND_MAX_MSGS 1000

/* "dd-Mon-yyyy hh:mm:ss +zzzz"; the day may be " d". */
bool imap_datetime_parse(const char *s, size_t len, time_t *t, int *tz_min)
{
	char buf[32];
	int d, y, h, m, sec, z, mon;
	char mname[4], sign;

	if (len < 25 || len > 26)
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (buf[0] == ' ')
		buf[0] = '0';
	if (len == 25) { /* one-digit day without the space */
		memmove(buf + 1, buf, 26);
		buf[0] = '0';
	}
	for (int i = 0; i < 26; i++) {
		static const char shape[] = "dd-aaa-dddd dd:dd:dd sdddd";

		if ((shape[i] == 'd' && !isdigit((unsigned char)buf[i])) ||
		    (shape[i] == 'a' && !isalpha((unsigned char)buf[i])) ||
		    (shape[i] == 's' && buf[i] != '+' && buf[i] != '-') ||
		    (strchr("-: ", shape[i]) && shape[i] != buf[i]))
			return false;
	}
	if (sscanf(buf, "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &d, mname, &y, &h, &m, &sec, &sign, &z) !=
	    8)
		return false;
	mname[3] = 0;
	if ((mon = mime_date_month(mname, 3)) == 0 || d < 1 || d > 31 || h > 23 || m > 59 ||
	    sec > 60 || z % 100 > 59)
		return false;
	*tz_min = (z / 100 * 60 + z % 100) * (sign == '-' ? -1 : 1);
	*t = (time_t)(mime_date_from_civil(y, mon, d, h, m, sec) - *tz_min * 60LL);
	return true;
}

static bool is_message(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_LITERAL_STREAM;
}

/* [flags] [date-time] at args[*i], stopping before the message. */
static bool append_prefix(
    const struct imap_arg *args, size_t n, size_t *i, struct imap_append_msg *m, const char **err)
{
	if (*i < n && args[*i].type == IMAP_ARG_LIST) {
		if ((m->flags = imap_flags_parse(&args[*i], 1, err)) == NULL)
			return false;
		(*i)++;
	}
	if (*i < n && args[*i].type == IMAP_ARG_STRING) {
		if (!imap_datetime_parse(args[*i].str, args[*i].len, &m->date, &m->tz_min)) {
			*err = "Invalid date-time";
			return false;
		}
		m->date_set = true;
		(*i)++;
	}
	return true;
}

/* The message: a literal, or UTF8 (~{n}) (RFC 6855). */
static bool append_message(
    const struct imap_arg *args, size_t n, size_t *i, struct imap_append_msg *m)
{
	if (*i < n && is_message(&args[*i])) {
		m->msg = &args[(*i)++];
		return true;
	}
	if (*i + 1 < n && imap_arg_is_atom(&args[*i], "UTF8") &&
	    args[*i + 1].type == IMAP_ARG_LIST && args[*i + 1].count == 1 &&
	    is_message(&args[*i + 1].list[0]) && args[*i + 1].list[0].literal8) {
		m->utf8 = true;
		m->msg = &args[*i + 1].list[0];
		*i += 2;
		return true;
	}
	return false;
}

bool imap_append_parse(
    const struct imap_arg *args, size_t n, struct imap_append *out, const char **err)
{
	size_t i = 1;

	memset(out, 0, sizeof(*out));
	*err = "Invalid APPEND arguments";
	if (n < 2 || !imap_astring_arg(args, 1, &out->mailbox, err))
		goto bad;
	*err = "Invalid APPEND arguments";
	while (i < n) {
		struct imap_append_msg m;

		memset(&m, 0, sizeof(m));
		if (out->nmsgs >= APPEND_MAX_MSGS || !append_prefix(args, n, &i, &m, err) ||
		    !append_message(args, n, &i, &m)) {
			imap_append_msg_free(&m);
			goto bad;
		}
		out->msgs = xreallocarray(out->msgs, out->nmsgs + 1, sizeof(*out->msgs));
		out->msgs[out->nmsgs++] = m;
	}
	if (out->nmsgs == 0)
		goto bad;
	return true;
bad:
	imap_append_free(out);
	return false;
}

bool imap_append_parse_pending(
    const struct imap_arg *args, size_t n, struct imap_append_msg *out, const char **err)
{
	size_t start = 1, i;

	memset(out, 0, sizeof(*out));
	*err = "Invalid APPEND arguments";
	if (n < 1)
		return false;
	/* After the last complete message (literal, or the UTF8 list). */
	for (size_t k = n; k-- > 1;) {
		if (is_message(&args[k]) || (args[k].type == IMAP_ARG_LIST && args[k].count == 1 &&
						is_message(&args[k].list[0]))) {
			start = k + 1;
			break;
		}
	}
	i = start;
	if (!append_prefix(args, n, &i, out, err)) {
		imap_append_msg_free(out);
		return false;
	}
	if (i < n && imap_arg_is_atom(&args[i], "UTF8")) {
		out->utf8 = true;
		i++;
	}
	if (i != n) {
		imap_append_msg_free(out);
		return false;
	}
	return true;
}

void imap_append_msg_free(struct imap_append_msg *m)
{
	if (m->flags)
		strv_free(m->flags);
	m->flags = NULL;
}

void imap_append_free(struct imap_append *a)
{
	for (size_t i = 0; i < a->nmsgs; i++)
		imap_append_msg_free(&a->msgs[i]);
	free(a->msgs);
	free(a->mailbox);
	memset(a, 0, sizeof(*a));
}

/* ---------------------------------------------------------- SORT/THREAD */

static bool sort_criteria(const struct imap_arg *l, struct imap_sort *out)
{
	static const char *const names[] = {
	    "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"};
	bool reverse = false;

	if (l->type != IMAP_ARG_LIST || l->count == 0)
		return false;
	for (size_t i = 0; i < l->count; i++) {
		size_t k;

		if (imap_arg_is_atom(&l->list[i], "REVERSE") && !reverse) {
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (imap_arg_is_atom(&l->list[i], names[k]))
				break;
		if (k == sizeof(names) / sizeof(names[0]) || out->ncrit >= IMAP_SORT_MAX_CRITERIA)
			return false;
		out->crit[out->ncrit].key = (enum imap_sort_key)k;
		out->crit[out->ncrit].reverse = reverse;
		out->ncrit++;
		reverse = false;
	}
	return !reverse;
}

static bool charset_and_keys(
    const struct imap_arg *args, size_t n, struct imap_search *s, const char **err)
{
	const char *cs;
	size_t len;

	if (n < 2 || !imap_arg_string(&args[0], &cs, &len)) {
		*err = "Missing charset";
		return false;
	}
	if (!imap_search_parse_keys(args + 1, n - 1, s, err))
		return false;
	s->charset = xmemdup(cs, len);
	return true;
}

bool imap_sort_parse(const struct imap_arg *args, size_t n, struct imap_sort *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	*err = "Invalid sort criteria";
	if (n < 1 || !sort_criteria(&args[0], out))
		return false;
	return charset_and_keys(args + 1, n - 1, &out->search, err);
}

bool imap_thread_parse(
    const struct imap_arg *args, size_t n, struct imap_thread *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	*err = "Unknown thread algorithm";
	if (n < 1)
		return false;
	if (imap_arg_is_atom(&args[0], "ORDEREDSUBJECT"))
		out->alg = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_is_atom(&args[0], "REFERENCES"))
		out->alg = IMAP_THREAD_REFERENCES;
	else
		return false;
	return charset_and_keys(args + 1, n - 1, &out->search, err);
}
