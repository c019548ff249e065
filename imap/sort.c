/*
 * imap/sort.c - sort keys, the base subject and SORT (imap/sort.h).
 */
#include "sort.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mime/casemap.h"
#include "mime/date.h"
#include "mime/rfc2047.h"
#include "util.h"

#define SORT_MAX_REFS 1000

/* ------------------------------------------------------- base subject */

static bool strip_trailer(struct buf *s)
{
	bool any = false;

	for (;;) {
		while (s->len && s->data[s->len - 1] == ' ')
			s->len--;
		if (s->len >= 5 && memcmp(s->data + s->len - 5, "(fwd)", 5) == 0) {
			s->len -= 5;
			any = true;
			continue;
		}
		break;
	}
	buf_truncate(s, s->len);
	if (s->data)
		s->data[s->len] = 0;
	return any;
}

/* Length of a subj-blob "[...]" + WSP at p, 0 if none. */
static size_t blob_len(const char *p)
{
	size_t i = 0;

	if (p[0] != '[')
		return 0;
	for (i = 1; p[i] && p[i] != '[' && p[i] != ']'; i++)
		;
	if (p[i] != ']')
		return 0;
	i++;
	while (p[i] == ' ')
		i++;
	return i;
}

/* Length of a subj-refwd ("re", "fw", "fwd" + WSP + [blob] + ':'). */
static size_t refwd_len(const char *p)
{
	size_t i;

	if (strncmp(p, "re", 2) == 0)
		i = 2;
	else if (strncmp(p, "fwd", 3) == 0)
		i = 3;
	else if (strncmp(p, "fw", 2) == 0)
		i = 2;
	else
		return 0;
	while (p[i] == ' ')
		i++;
	i += blob_len(p + i);
	return p[i] == ':' ? i + 1 : 0;
}

/* subj-leader: (*subj-blob subj-refwd) / WSP; returns whether removed. */
static bool strip_leader(struct buf *s, bool *reply)
{
	const char *p = buf_cstr(s);
	size_t i = 0, n;
	bool any = false;

	for (;;) {
		size_t k = i;

		while (p[k] == ' ')
			k++;
		size_t j = k;
		while ((n = blob_len(p + j)) > 0)
			j += n;
		if ((n = refwd_len(p + j)) > 0) {
			i = j + n;
			*reply = any = true;
			continue;
		}
		if (k > i) {
			i = k;
			any = true;
		}
		break;
	}
	/* A leading blob goes too if something is left after it (step 5). */
	if ((n = blob_len(p + i)) > 0 && p[i + n]) {
		i += n;
		any = true;
	}
	buf_consume(s, i);
	return any;
}

bool imap_base_subject(const char *subject, struct buf *out)
{
	struct buf dec = BUF_INIT, s = BUF_INIT;
	bool reply = false;

	buf_reset(out);
	if (subject == NULL)
		return false;
	mime_2047_decode(subject, strlen(subject), &dec);
	mime_casemap(dec.data ? dec.data : "", dec.len, &s);
	/* Step 1: white space runs become one space. */
	size_t w = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c =
		    s.data[i] == '\t' || s.data[i] == '\r' || s.data[i] == '\n' ? ' ' : s.data[i];

		if (c == ' ' && (w == 0 || s.data[w - 1] == ' '))
			continue;
		s.data[w++] = c;
	}
	buf_truncate(&s, w);
	for (int guard = 0; guard < 1000; guard++) {
		bool changed = strip_trailer(&s);

		reply |= changed;
		while (strip_leader(&s, &reply))
			changed = true;
		/* Step 6: "[fwd: ...]" */
		const char *p = buf_cstr(&s);
		if (s.len >= 6 && strncmp(p, "[fwd:", 5) == 0 && p[s.len - 1] == ']') {
			buf_truncate(&s, s.len - 1);
			buf_consume(&s, 5);
			reply = changed = true;
		}
		if (!changed)
			break;
	}
	strip_trailer(&s);
	buf_append(out, s.data ? s.data : "", s.len);
	buf_free(&dec);
	buf_free(&s);
	return reply;
}

/* ----------------------------------------------------------- the keys */

static char *folded(const char *s)
{
	struct buf d = BUF_INIT, f = BUF_INIT;
	char *r;

	if (s == NULL)
		return xstrdup("");
	mime_2047_decode(s, strlen(s), &d);
	mime_casemap(d.data ? d.data : "", d.len, &f);
	r = xmemdup(f.data ? f.data : "", f.len);
	buf_free(&d);
	buf_free(&f);
	return r;
}

/* The first real address of a list (groups skipped). */
static const struct mime_addr *first_addr(const struct mime_addr *a)
{
	for (; a; a = a->next)
		if (a->host != NULL)
			return a;
	return NULL;
}

/* RFC 5957: the display name, else the addr-spec. */
static char *display_key(const struct mime_addr *a)
{
	char *spec, *r;

	if ((a = first_addr(a)) == NULL)
		return xstrdup("");
	if (a->name && *a->name)
		return folded(a->name);
	spec = xasprintf("%s@%s", a->mailbox ? a->mailbox : "", a->host ? a->host : "");
	r = folded(spec);
	free(spec);
	return r;
}

static char *mailbox_key(const struct mime_addr *a)
{
	a = first_addr(a);
	return folded(a ? a->mailbox : NULL);
}

/* The "<...>" ids of a References or In-Reply-To value. */
static char **msgids(const char *v)
{
	char **out = xcalloc(1, sizeof(char *));
	size_t n = 0;

	while (v && (v = strchr(v, '<')) != NULL && n < SORT_MAX_REFS) {
		const char *e = strchr(v, '>');

		if (e == NULL)
			break;
		const char *again = memchr(v + 1, '<', (size_t)(e - v - 1));
		if (again) {
			v = again;
			continue;
		}
		out = xreallocarray(out, n + 2, sizeof(char *));
		out[n++] = xstrndup(v, (size_t)(e - v + 1));
		out[n] = NULL;
		v = e + 1;
	}
	return out;
}

void imap_sort_msg_fill(struct imap_sort_msg *m, const struct mime_envelope *env,
    const char *references, uint32_t id, uint32_t seq, time_t arrival, uint64_t size)
{
	static const struct mime_envelope empty;
	struct buf b = BUF_INIT;
	time_t t;
	int tz;

	if (env == NULL)
		env = &empty;
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->seq = seq;
	m->arrival = arrival;
	m->size = size;
	m->date = env->date && mime_date_parse(env->date, strlen(env->date), &t, &tz) ? t : arrival;
	m->subject_is_reply = imap_base_subject(env->subject, &b);
	m->base_subject = xmemdup(b.data ? b.data : "", b.len);
	buf_free(&b);
	m->from = mailbox_key(env->from);
	m->to = mailbox_key(env->to);
	m->cc = mailbox_key(env->cc);
	m->display_from = display_key(env->from);
	m->display_to = display_key(env->to);
	if (env->message_id) {
		char **ids = msgids(env->message_id);

		m->message_id = ids[0] ? xstrdup(ids[0]) : NULL;
		strv_free(ids);
	}
	m->references = msgids(references);
	if (m->references[0] == NULL && env->in_reply_to) {
		char **irt = msgids(env->in_reply_to);

		strv_free(m->references);
		m->references = xcalloc(2, sizeof(char *));
		if (irt[0])
			m->references[0] = xstrdup(irt[0]);
		strv_free(irt);
	}
}

void imap_sort_msg_free(struct imap_sort_msg *m)
{
	free(m->base_subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->display_from);
	free(m->display_to);
	free(m->message_id);
	if (m->references)
		strv_free(m->references);
	memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- SORT */

struct sort_spec {
	const struct imap_sort_criterion *crit;
	size_t ncrit;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_cmp_key(
    const struct imap_sort_msg *a, const struct imap_sort_msg *b, enum imap_sort_key k)
{
	switch (k) {
	case IMAP_SORT_ARRIVAL: return cmp_u64((uint64_t)a->arrival, (uint64_t)b->arrival);
	case IMAP_SORT_DATE: return a->date < b->date ? -1 : a->date > b->date;
	case IMAP_SORT_SIZE: return cmp_u64(a->size, b->size);
	case IMAP_SORT_SUBJECT: return strcmp(a->base_subject, b->base_subject);
	case IMAP_SORT_FROM: return strcmp(a->from, b->from);
	case IMAP_SORT_TO: return strcmp(a->to, b->to);
	case IMAP_SORT_CC: return strcmp(a->cc, b->cc);
	case IMAP_SORT_DISPLAYFROM: return strcmp(a->display_from, b->display_from);
	case IMAP_SORT_DISPLAYTO: return strcmp(a->display_to, b->display_to);
	}
	return 0;
}

static int sort_cmp(const void *x, const void *y, void *arg)
{
	const struct imap_sort_msg *a = x, *b = y;
	const struct sort_spec *spec = arg;

	for (size_t i = 0; i < spec->ncrit; i++) {
		int r = sort_cmp_key(a, b, spec->crit[i].key);

		if (r)
			return spec->crit[i].reverse ? -r : r;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void imap_sort(
    struct imap_sort_msg *msgs, size_t n, const struct imap_sort_criterion *crit, size_t ncrit)
{
	struct sort_spec spec = {crit, ncrit};

	qsort_r(msgs, n, sizeof(*msgs), sort_cmp, &spec);
}
