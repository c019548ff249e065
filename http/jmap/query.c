/*
 * query.c - Email/query, Email/queryChanges, Email/changes (RFC 8621
 * section 4.4-4.6, RFC 8620 section 5.2, 5.5, 5.6), and JMAP's dates.
 *
 * A query looks at every message of the folders the filter allows
 * (inMailbox narrows it to one) and tests the filter on it: flags,
 * dates and sizes come from the index, address and subject conditions
 * from the cached envelope, text and body also read the text parts.
 * Sorts: receivedAt (the default, newest first) and size.  The usual
 * page (no condition but inMailbox, by date, from the start) comes from
 * each folder's list kept in date order (bydate.c) without a visit.
 *
 * Changes are exact, from the modseqs: since a state (folders.c) every
 * message with a UID at or above that state's UIDNEXT is created, every
 * other one whose modseq rose is updated, and what the folder's change
 * log lists as expunged after that modseq is destroyed; a folder that
 * is new has only created messages, one that is gone makes the changes
 * incalculable.  queryChanges reports the updated and destroyed ids as
 * removed and every created or updated one that matches now as added at
 * its index, which RFC 8620 section 5.6 allows.
 */
#include <stdlib.h>
#include <string.h>

#include "jmap_int.h"
#include "mstore/msg_mime.h"
#include "util.h"

struct old_state {
	uint32_t uv, uidnext;
	uint64_t modseq;
};
int jmap_state_parse(const char *s, struct old_state **out, size_t *n);

/* --------------------------------------------------------------- dates */

json_t *jmap_utc_date(time_t t)
{
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

json_t *jmap_local_date(time_t t, int tz_min)
{
	struct tm tm;
	time_t local = t + tz_min * 60;
	char s[40];
	int a = tz_min < 0 ? -tz_min : tz_min;

	gmtime_r(&local, &tm);
	strftime(s, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s + strlen(s), 16, "%c%02d:%02d", tz_min < 0 ? '-' : '+', a / 60, a % 60);
	return json_string(s);
}

bool jmap_date_parse(const char *s, time_t *t)
{
	struct tm tm;
	char *e;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return false;
	if (*e == '.')
		for (e++; *e >= '0' && *e <= '9'; e++)
			;
	if (strcmp(e, "Z") != 0)
		return false;
	*t = timegm(&tm);
	return true;
}

/* -------------------------------------------------------------- filter */

struct qmsg {
	struct jfolder *f;
	struct mstore_view *v;
	uint32_t uid;
	struct mstore_msg m;
	time_t received;
	uint64_t size;
	struct mime_part *tree; /* loaded on demand */
};

static const char *const conditions[] = {"inMailbox", "inMailboxOtherThan", "before", "after",
    "minSize", "maxSize", "hasKeyword", "notKeyword", "hasAttachment", "text", "from", "to", "cc",
    "bcc", "subject", "body", NULL};

/* -1: unsupported, else valid */
static int filter_check(json_t *f, int depth)
{
	const char *key;
	json_t *v;

	if (!json_is_object(f) || depth > 16)
		return -1;
	if (json_object_get(f, "operator")) {
		const char *op = json_string_value(json_object_get(f, "operator"));
		json_t *conds = json_object_get(f, "conditions");
		size_t i;

		if (op == NULL || !json_is_array(conds) ||
		    (strcmp(op, "AND") && strcmp(op, "OR") && strcmp(op, "NOT")))
			return -1;
		json_array_foreach(conds, i, v) if (filter_check(v, depth + 1) < 0) return -1;
		return 0;
	}
	json_object_foreach(f, key, v)
	{
		int k;

		for (k = 0; conditions[k] && strcmp(conditions[k], key); k++)
			;
		if (conditions[k] == NULL)
			return -1;
		if (strcmp(key, "minSize") == 0 || strcmp(key, "maxSize") == 0) {
			if (!json_is_integer(v))
				return -1;
		} else if (strcmp(key, "hasAttachment") == 0) {
			if (!json_is_boolean(v))
				return -1;
		} else if (strcmp(key, "inMailboxOtherThan") == 0) {
			if (!json_is_array(v))
				return -1;
		} else if (!json_is_string(v)) {
			return -1;
		} else if (strcmp(key, "before") == 0 || strcmp(key, "after") == 0) {
			time_t t;

			if (!jmap_date_parse(json_string_value(v), &t))
				return -1;
		}
	}
	return 0;
}

static bool addr_match(const struct mime_addr *a, const char *needle)
{
	for (; a; a = a->next) {
		struct buf b = BUF_INIT;
		bool hit;

		jmap_decode_words(a->name, &b);
		buf_printf(&b, " %s@%s", a->mailbox ? a->mailbox : "", a->host ? a->host : "");
		hit = strcasestr(buf_cstr(&b), needle) != NULL;
		buf_free(&b);
		if (hit)
			return true;
	}
	return false;
}

static bool body_match(struct qmsg *q, const struct mime_part *p, const char *needle)
{
	struct jmsg j = {.f = q->f, .v = q->v, .uid = q->uid};

	for (; p; p = p->next) {
		if (p->children && body_match(q, p->children, needle))
			return true;
		if ((p->flags & MIME_PART_TEXT) && !p->children) {
			struct buf t = BUF_INIT;
			bool hit;

			jmap_part_text(&j, p, &t, 1024 * 1024);
			hit = strcasestr(buf_cstr(&t), needle) != NULL;
			buf_free(&t);
			if (hit)
				return true;
		}
	}
	return false;
}

static bool has_keyword(struct qmsg *q, const char *kw)
{
	unsigned fl = jmap_keyword_flag(kw);
	int idx;

	if (fl)
		return (q->m.flags & fl) != 0;
	idx = mstore_view_keyword_index(q->v, kw);
	return idx >= 0 && (q->m.keywords & (1u << idx));
}

static bool cond_match(struct qmsg *q, json_t *f)
{
	const char *key;
	json_t *v;

	json_object_foreach(f, key, v)
	{
		const char *s = json_string_value(v);
		const struct mime_envelope *env;
		time_t t;

		if (strcmp(key, "inMailbox") == 0) {
			if (strcmp(s, q->f->id) != 0)
				return false;
		} else if (strcmp(key, "inMailboxOtherThan") == 0) {
			size_t i;
			json_t *id;

			json_array_foreach(v, i,
			    id) if (json_is_string(id) &&
				    strcmp(json_string_value(id), q->f->id) == 0) return false;
		} else if (strcmp(key, "before") == 0) {
			jmap_date_parse(s, &t);
			if (!(q->received < t))
				return false;
		} else if (strcmp(key, "after") == 0) {
			jmap_date_parse(s, &t);
			if (!(q->received >= t))
				return false;
		} else if (strcmp(key, "minSize") == 0) {
			if (q->size < (uint64_t)json_integer_value(v))
				return false;
		} else if (strcmp(key, "maxSize") == 0) {
			if (q->size >= (uint64_t)json_integer_value(v))
				return false;
		} else if (strcmp(key, "hasKeyword") == 0) {
			if (!has_keyword(q, s))
				return false;
		} else if (strcmp(key, "notKeyword") == 0) {
			if (has_keyword(q, s))
				return false;
		} else {
			struct buf subj = BUF_INIT;
			bool hit = false;

			if (q->tree == NULL && (q->tree = mstore_msg_mime(q->v, q->uid)) == NULL)
				return false;
			env = q->tree->envelope;
			if (env)
				jmap_decode_words(env->subject, &subj);
			if (strcmp(key, "hasAttachment") == 0) {
				bool att = false;

				for (const struct mime_part *p = q->tree->children; p && !att;
				     p = p->next ? p->next : (p->children ? p->children : NULL))
					att = p->disposition &&
					      strcasecmp(p->disposition, "attachment") == 0;
				hit = att == json_is_true(v);
			} else if (strcmp(key, "subject") == 0) {
				hit = strcasestr(buf_cstr(&subj), s) != NULL;
			} else if (env && strcmp(key, "from") == 0) {
				hit = addr_match(env->from, s);
			} else if (env && strcmp(key, "to") == 0) {
				hit = addr_match(env->to, s);
			} else if (env && strcmp(key, "cc") == 0) {
				hit = addr_match(env->cc, s);
			} else if (env && strcmp(key, "bcc") == 0) {
				hit = addr_match(env->bcc, s);
			} else if (strcmp(key, "body") == 0) {
				hit = body_match(q, q->tree, s);
			} else if (strcmp(key, "text") == 0) {
				hit = strcasestr(buf_cstr(&subj), s) ||
				      (env &&
					  (addr_match(env->from, s) || addr_match(env->to, s) ||
					      addr_match(env->cc, s) || addr_match(env->bcc, s))) ||
				      body_match(q, q->tree, s);
			}
			buf_free(&subj);
			if (!hit)
				return false;
		}
	}
	return true;
}

static bool filter_match(struct qmsg *q, json_t *f)
{
	const char *op;
	json_t *conds, *c;
	size_t i;

	if (f == NULL || json_is_null(f))
		return true;
	if ((op = json_string_value(json_object_get(f, "operator"))) == NULL)
		return cond_match(q, f);
	conds = json_object_get(f, "conditions");
	json_array_foreach(conds, i, c)
	{
		bool m = filter_match(q, c);

		if (strcmp(op, "AND") == 0 && !m)
			return false;
		if (strcmp(op, "OR") == 0 && m)
			return true;
		if (strcmp(op, "NOT") == 0 && m)
			return false;
	}
	return strcmp(op, "OR") != 0;
}

/* ---------------------------------------------------------- the query */

struct hit {
	uint32_t uv, uid;
	time_t received;
	uint64_t size;
	uint32_t thread; /* with collapseThreads only */
};

static const char *sort_prop;
static bool sort_asc, sort_size;

/* True when a condition of the filter (at any depth) names key. */
static bool filter_uses(json_t *f, const char *key, int depth)
{
	json_t *c;
	size_t i;

	if (!json_is_object(f) || depth > 16)
		return false;
	if (json_object_get(f, key))
		return true;
	json_array_foreach(
	    json_object_get(f, "conditions"), i, c) if (filter_uses(c, key, depth + 1)) return true;
	return false;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	int r = 0;

	if (sort_size)
		r = x->size < y->size ? -1 : x->size > y->size;
	else
		r = x->received < y->received ? -1 : x->received > y->received;
	if (r == 0)
		r = x->uid < y->uid ? -1 : x->uid > y->uid;
	if (r == 0)
		r = x->uv < y->uv ? -1 : x->uv > y->uv;
	return sort_asc ? r : -r;
}

/* The heap of the keep first hits (the last in the sort order on top). */
static void heap_down(struct hit *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct hit t;

		if (l < n && hit_cmp(&h[l], &h[m]) > 0)
			m = l;
		if (r < n && hit_cmp(&h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_add(struct hit *h, size_t *n, size_t keep, const struct hit *x)
{
	if (*n < keep) {
		size_t i = (*n)++;

		h[i] = *x;
		while (i > 0 && hit_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
			struct hit t = h[i];

			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (hit_cmp(x, &h[0]) < 0) {
		h[0] = *x;
		heap_down(h, *n, 0);
	}
}

/* ----------------------------------------------- one folder by date */

/* The totals of the last walked queries, by folder state and query: the
 * next page of the same list (or the same page again) walks only to its
 * end.  A query with at most MEMO_HITS hits (a search, say) keeps them
 * all and walks nothing the next time.  A new or expunged message (the
 * count or the highest UID moves: UIDs only grow) or a new UIDVALIDITY
 * makes them stale, and so does any flag change (HIGHESTMODSEQ) when
 * the filter tests keywords; threads and texts do not change. */
#define MEMOS 8
#define MEMO_HITS 1000

static struct memo {
	uint32_t uv, count, last;
	uint64_t modseq; /* 0 when no keyword is tested */
	char *key;
	size_t total;
	struct hit *hits; /* all of them, or NULL */
} memos[MEMOS];
static unsigned memo_next;

static uint32_t view_last(struct mstore_view *v)
{
	uint32_t count = mstore_view_count(v);

	return count ? mstore_view_uid(v, count) : 0;
}

static struct memo *memo_find(struct mstore_view *v, const char *key, bool flags)
{
	for (unsigned i = 0; i < MEMOS; i++) {
		struct memo *m = &memos[i];

		if (m->key && strcmp(m->key, key) == 0 && m->uv == mstore_view_uidvalidity(v) &&
		    m->count == mstore_view_count(v) && m->last == view_last(v) &&
		    m->modseq == (flags ? mstore_view_highest_modseq(v) : 0))
			return m;
	}
	return NULL;
}

/* Takes hits (NULL, or all total of them). */
static void memo_keep(
    struct mstore_view *v, const char *key, bool flags, size_t total, struct hit *hits)
{
	struct memo *m = &memos[memo_next++ % MEMOS];

	free(m->key);
	free(m->hits);
	*m = (struct memo){mstore_view_uidvalidity(v), mstore_view_count(v), view_last(v),
	    flags ? mstore_view_highest_modseq(v) : 0, xstrdup(key), total, hits};
}

/* A query of one folder sorted by date, with a filter or collapseThreads:
 * bydate.c's list walked in the sort order, each message tested in turn,
 * the first of each thread kept, until keep hits; the walk goes on to
 * the end, counting, only when the total is wanted and no memo has it.
 * Nothing is sorted and no date is looked up.  A text or body condition
 * still reads each message it tests (the first page of a rare word
 * reads the whole folder). */
static void walk_folder(struct jfolder *f, struct mstore_view *v, json_t *filter, bool collapse,
    bool need_size, bool want_total, struct hit *hits, size_t *n, size_t keep, size_t *total)
{
	size_t nd, matched = 0;
	const struct jmap_dated *d = jmap_bydate(v, &nd);
	struct jmap_tmap seen = {0};
	struct memo *memo = NULL;
	char *key = NULL;
	struct hit *all = NULL; /* while matched <= MEMO_HITS */
	bool flags = filter_uses(filter, "hasKeyword", 0) || filter_uses(filter, "notKeyword", 0);

	if (want_total) {
		char *fj = json_dumps(filter, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		key = xasprintf("%s|%d|%d", fj ? fj : "null", collapse, sort_asc);
		free(fj);
		memo = memo_find(v, key, flags);
	}
	if (memo && memo->hits) {
		for (; *n < keep && *n < memo->total; (*n)++)
			hits[*n] = memo->hits[*n];
		*total += memo->total;
		free(key);
		return;
	}
	if (want_total && !memo)
		all = xcalloc(MEMO_HITS, sizeof(*all));
	if (collapse)
		jmap_tmap_init(&seen, memo ? keep : nd);
	for (size_t k = 0; k < nd; k++) {
		const struct jmap_dated *e = &d[sort_asc ? k : nd - 1 - k];
		uint32_t thread = 0;

		if (*n >= keep && (!want_total || memo))
			break;
		if (filter) {
			struct qmsg q = {.f = f, .v = v, .uid = e->uid, .received = e->received};
			uint32_t seq = mstore_view_seq(v, e->uid);
			bool hit;

			if (seq == 0 || mstore_view_msg(v, seq, &q.m) < 0 || q.m.expunged)
				continue;
			if (need_size) {
				uint64_t size;

				mstore_view_sizes(v, q.uid, &size, &q.size);
			}
			hit = filter_match(&q, filter);
			mime_part_free(q.tree);
			if (!hit)
				continue;
		}
		/* a thread id of 0 (an unreadable message) is a thread of its own */
		if (collapse && (thread = jmap_thread_of(v, e->uid)) != 0 &&
		    !jmap_tmap_add(&seen, thread, 0))
			continue;
		if (*n < keep)
			hits[(*n)++] =
			    (struct hit){f->st.uidvalidity, e->uid, e->received, 0, thread};
		if (all && matched < MEMO_HITS)
			all[matched] =
			    (struct hit){f->st.uidvalidity, e->uid, e->received, 0, thread};
		matched++;
	}
	if (memo) {
		*total += memo->total;
	} else if (want_total) {
		*total += matched;
		if (matched > MEMO_HITS) {
			free(all);
			all = NULL;
		}
		memo_keep(v, key, flags, matched, all);
	}
	free(key);
	jmap_tmap_free(&seen);
}

/* The matching messages, sorted (only the first keep when keep is not 0
 * and nothing needs them all: no collapseThreads, no copies); *total
 * (may be NULL) counts them all; -1 after an error reply. */
static int run_query(struct jcall *c, struct hit **out, size_t *nout, size_t keep, size_t *total)
{
	json_t *filter = json_object_get(c->args, "filter");
	json_t *sort = json_object_get(c->args, "sort");
	bool collapse = json_is_true(json_object_get(c->args, "collapseThreads"));
	bool want_total = json_is_true(json_object_get(c->args, "calculateTotal"));
	const char *in = NULL;
	bool need_size, walk;
	struct hit *hits = NULL;
	size_t n = 0, cap = 0, matched = 0;

	if (filter && !json_is_null(filter) && filter_check(filter, 0) < 0) {
		jmap_error(c, "unsupportedFilter", NULL);
		return -1;
	}
	sort_prop = "receivedAt";
	sort_asc = false;
	if (json_array_size(sort) > 0) {
		json_t *s0 = json_array_get(sort, 0);
		const char *p = json_string_value(json_object_get(s0, "property"));

		if (p == NULL ||
		    (strcmp(p, "receivedAt") && strcmp(p, "size") && strcmp(p, "sentAt"))) {
			jmap_error(c, "unsupportedSort", p);
			return -1;
		}
		sort_prop = strcmp(p, "sentAt") == 0 ? "receivedAt" : p;
		sort_asc = !json_is_false(json_object_get(s0, "isAscending"));
	}
	sort_size = strcmp(sort_prop, "size") == 0;
	need_size =
	    sort_size || filter_uses(filter, "minSize", 0) || filter_uses(filter, "maxSize", 0);
	if (json_is_object(filter))
		in = json_string_value(json_object_get(filter, "inMailbox"));
	if (in && json_object_size(filter) == 1)
		filter = NULL; /* the folder loop does it */
	jmap_ids_sync(c->folders, false);
	/* one folder by date, from the start: its date list walked */
	walk = keep && in && !sort_size && (filter || collapse) && !jmap_ids_copies_seen();
	if (!walk && (collapse || jmap_ids_copies_seen()))
		keep = 0; /* they need every hit */
	if (keep)
		hits = xcalloc(keep, sizeof(*hits));
	for (size_t fi = 0; fi < c->folders->n; fi++) {
		struct jfolder *f = &c->folders->v[fi];
		struct mstore_view *v;
		uint32_t count;

		if (in && strcmp(in, f->id) != 0)
			continue;
		if ((v = jmap_view(f->name)) == NULL)
			continue;
		if (walk) {
			walk_folder(f, v, filter, collapse, need_size, want_total, hits, &n, keep,
			    &matched);
			continue;
		}
		if (keep && filter == NULL && !sort_size) {
			/* the usual page: the folder's sorted list, no visit */
			size_t nd;
			const struct jmap_dated *d = jmap_bydate(v, &nd);

			matched += nd;
			for (size_t k = 0; k < nd && k < keep; k++) {
				const struct jmap_dated *e = &d[sort_asc ? k : nd - 1 - k];
				struct hit x = {f->st.uidvalidity, e->uid, e->received, 0, 0};

				heap_add(hits, &n, keep, &x);
			}
			continue;
		}
		count = mstore_view_count(v);
		for (uint32_t seq = 1; seq <= count; seq++) {
			struct qmsg q = {.f = f, .v = v};
			time_t saved;
			uint64_t size;

			if (mstore_view_msg(v, seq, &q.m) < 0 || q.m.expunged)
				continue;
			q.uid = q.m.uid;
			mstore_view_dates(v, q.uid, &q.received, &saved);
			if (need_size)
				mstore_view_sizes(v, q.uid, &size, &q.size);
			if (keep && filter_match(&q, filter)) {
				struct hit x = {f->st.uidvalidity, q.uid, q.received, q.size, 0};

				matched++;
				heap_add(hits, &n, keep, &x);
			} else if (!keep && filter_match(&q, filter)) {
				if (n == cap)
					hits = xreallocarray(
					    hits, cap = cap ? cap * 2 : 256, sizeof(*hits));
				hits[n++] = (struct hit){f->st.uidvalidity, q.uid, q.received,
				    q.size, collapse ? jmap_thread_of(v, q.uid) : 0};
			}
			mime_part_free(q.tree);
		}
	}
	if (n > 1)
		qsort(hits, n, sizeof(*hits), hit_cmp);
	if (keep) {
		*out = hits;
		*nout = n;
		*total = matched;
		return 0;
	}
	{ /* copies of one message (one GUID) are one Email: its first place */
		json_t *seen = NULL;
		size_t k = 0;

		for (size_t j = 0; j < n; j++) {
			if (jmap_ids_copied(hits[j].uv, hits[j].uid)) {
				char id[JMAP_EID_LEN];

				jmap_email_id_at(id, c->folders, hits[j].uv, hits[j].uid);
				if (seen == NULL)
					seen = json_object();
				if (json_object_get(seen, id))
					continue;
				json_object_set_new(seen, id, json_true());
			}
			hits[k++] = hits[j];
		}
		n = k;
		json_decref(seen);
	}
	if (collapse) { /* the first of each thread in the sort order */
		json_t *seen = json_object();
		size_t k = 0;

		for (size_t j = 0; j < n; j++) {
			char t[12];

			snprintf(t, sizeof(t), "%08x", hits[j].thread);
			if (json_object_get(seen, t))
				continue;
			json_object_set_new(seen, t, json_true());
			hits[k++] = hits[j];
		}
		n = k;
		json_decref(seen);
	}
	*out = hits;
	*nout = n;
	if (total)
		*total = n;
	return 0;
}

static const struct jmap_arg query_spec[] = {{"accountId", JA_ID, true},
    {"filter", JA_OBJECT_OR_NULL, false}, {"sort", JA_ARRAY_OR_NULL, false},
    {"position", JA_INT, false}, {"anchor", JA_ID_OR_NULL, false}, {"anchorOffset", JA_INT, false},
    {"limit", JA_UINT_OR_NULL, false}, {"calculateTotal", JA_BOOL, false},
    {"collapseThreads", JA_BOOL, false}, {NULL, 0, 0}};

void jmap_email_query(struct jcall *c)
{
	struct hit *hits;
	size_t n, start = 0, limit, keep = 0, total;
	json_t *ids, *lim, *pos, *anchor, *res;
	char *state;

	if (!jmap_args(c, query_spec))
		return;
	lim = json_object_get(c->args, "limit");
	pos = json_object_get(c->args, "position");
	anchor = json_object_get(c->args, "anchor");
	limit = json_is_integer(lim) ? (size_t)json_integer_value(lim) : 1000;
	if (limit > 1000)
		limit = 1000;
	/* a page from the start (the usual list): sort only its hits */
	if (!json_is_string(anchor) &&
	    (!json_is_integer(pos) ||
		(json_integer_value(pos) >= 0 && json_integer_value(pos) <= 10000)))
		keep = (json_is_integer(pos) ? (size_t)json_integer_value(pos) : 0) + limit;
	if (run_query(c, &hits, &n, keep, &total) < 0)
		return;
	if (json_is_string(anchor)) {
		struct jloc at[64];
		size_t k, nat = jmap_ids_find(c->folders, json_string_value(anchor), at, 64);
		json_int_t off = json_integer_value(json_object_get(c->args, "anchorOffset"));

		for (k = 0; k < n; k++) {
			size_t a;

			for (a = 0; a < nat; a++)
				if (hits[k].uv == at[a].f->st.uidvalidity &&
				    hits[k].uid == at[a].uid)
					break;
			if (a < nat)
				break;
		}
		if (k == n) {
			free(hits);
			jmap_error(c, "anchorNotFound", NULL);
			return;
		}
		start = (json_int_t)k + off < 0 ? 0 : (size_t)((json_int_t)k + off);
	} else if (json_is_integer(pos)) {
		json_int_t p = json_integer_value(pos);

		start = p >= 0 ? (size_t)p : ((size_t)-p > n ? 0 : n - (size_t)-p);
	}
	if (start > n)
		start = n;
	ids = json_array();
	for (size_t k = start; k < n && k - start < limit; k++) {
		char id[JMAP_EID_LEN];

		jmap_email_id_at(id, c->folders, hits[k].uv, hits[k].uid);
		json_array_append_new(ids, json_string(id));
	}
	state = jmap_state(c->folders);
	res = json_pack("{s:s, s:s, s:b, s:I, s:o}", "accountId", jm.account, "queryState", state,
	    "canCalculateChanges", !json_is_true(json_object_get(c->args, "collapseThreads")),
	    "position", (json_int_t)start, "ids", ids);
	if (json_is_true(json_object_get(c->args, "calculateTotal")))
		json_object_set_new(res, "total", json_integer((json_int_t)total));
	json_object_set_new(res, "limit", json_integer((json_int_t)limit));
	jmap_reply(c, "Email/query", res);
	free(state);
	free(hits);
}

/* ------------------------------------------------------------- changes */

/* Email/changes works on places (folder, UID) and then on Emails: a
 * move is a new place and a lost one of the same Email, an update. */
struct places {
	json_t *created, *updated, *destroyed; /* id -> true */
	const struct old_state *o;
	struct mstore_view *v;
};

static void changed_cb(void *ctx, const struct mstore_msg *m)
{
	struct places *p = ctx;
	char id[JMAP_EID_LEN];

	if (m->uid >= p->o->uidnext || m->expunged)
		return;
	jmap_email_id(id, p->v, m->uid);
	json_object_set_new(p->updated, id, json_true());
}

static const struct old_state *old_of(const struct old_state *old, size_t nold, uint32_t uv)
{
	for (size_t k = 0; k < nold; k++)
		if (old[k].uv == uv)
			return &old[k];
	return NULL;
}

/* True when the Email had a place at the old state that it still has. */
static bool kept_a_place(struct jcall *c, const char *id, const struct old_state *old, size_t nold)
{
	struct jloc at[64];
	size_t n = jmap_ids_find(c->folders, id, at, 64);

	for (size_t k = 0; k < n; k++) {
		const struct old_state *o = old_of(old, nold, at[k].f->st.uidvalidity);

		if (o && at[k].uid < o->uidnext)
			return true;
	}
	return false;
}

int jmap_changes_since(struct jcall *c, const char *since, struct jmap_changes *ch)
{
	struct old_state *old;
	size_t nold;
	struct places p;
	const char *id;
	json_t *t;
	int r = 0;

	if (jmap_state_parse(since, &old, &nold) < 0) {
		jmap_error(c, "cannotCalculateChanges", "unknown state");
		return -1;
	}
	for (size_t k = 0; k < nold; k++)
		if (jmap_folder_by_uv(c->folders, old[k].uv) == NULL) {
			free(old);
			jmap_error(c, "cannotCalculateChanges", "a mailbox is gone");
			return -1;
		}
	jmap_ids_sync(c->folders, true);
	p.created = json_object();
	p.updated = json_object();
	p.destroyed = json_object();
	for (size_t fi = 0; fi < c->folders->n && r == 0; fi++) {
		struct jfolder *f = &c->folders->v[fi];
		struct mstore_view *v = jmap_view(f->name);
		uint32_t count;

		if (v == NULL)
			continue;
		p.o = old_of(old, nold, f->st.uidvalidity);
		p.v = v;
		count = mstore_view_count(v);
		for (uint32_t seq = 1; seq <= count; seq++) {
			uint32_t uid = mstore_view_uid(v, seq);
			char eid[JMAP_EID_LEN];

			if (p.o && uid < p.o->uidnext)
				continue;
			jmap_email_id(eid, v, uid);
			json_object_set_new(p.created, eid, json_true());
		}
		if (p.o) {
			uint32_t *gone;
			size_t ngone;
			bool exact;

			mstore_view_changed_since(v, p.o->modseq, changed_cb, &p);
			if (mstore_view_expunged_since(v, p.o->modseq, &gone, &ngone, &exact) ==
			    0) {
				for (size_t k = 0; k < ngone && r == 0; k++) {
					char eid[JMAP_EID_LEN];

					if (gone[k] >= p.o->uidnext)
						continue; /* came and went since */
					if (!jmap_ids_gone_id(f->st.uidvalidity, gone[k], eid)) {
						jmap_error(c, "cannotCalculateChanges",
						    "a removed message is no longer known");
						r = -1;
						break;
					}
					json_object_set_new(p.destroyed, eid, json_true());
				}
				free(gone);
			}
		}
	}
	if (r == 0) {
		/* a new place of an Email that had one, or a lost place of an
		 * Email that has one, is an update of its mailboxIds */
		ch->created = json_array();
		ch->updated = json_array();
		ch->destroyed = json_array();
		json_object_foreach(p.destroyed, id, t)
		{
			struct jloc at;

			if (jmap_ids_find(c->folders, id, &at, 1))
				json_object_set_new(p.updated, id, json_true());
			else
				json_array_append_new(ch->destroyed, json_string(id));
		}
		json_object_foreach(p.created, id, t)
		{
			if (json_object_get(p.destroyed, id) || kept_a_place(c, id, old, nold))
				json_object_set_new(p.updated, id, json_true());
			else
				json_array_append_new(ch->created, json_string(id));
		}
		json_object_foreach(p.updated, id, t)
		    json_array_append_new(ch->updated, json_string(id));
	}
	free(old);
	json_decref(p.created);
	json_decref(p.updated);
	json_decref(p.destroyed);
	return r;
}

void jmap_changes_free(struct jmap_changes *ch)
{
	json_decref(ch->created);
	json_decref(ch->updated);
	json_decref(ch->destroyed);
}

void jmap_email_changes(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"sinceState", JA_STRING, true}, {"maxChanges", JA_UINT_OR_NULL, false}, {NULL, 0, 0}};
	struct jmap_changes ch;
	json_t *max;
	char *state;

	if (!jmap_args(c, spec) ||
	    jmap_changes_since(c, json_string_value(json_object_get(c->args, "sinceState")), &ch) <
		0)
		return;
	max = json_object_get(c->args, "maxChanges");
	if (json_is_integer(max) && json_integer_value(max) > 0 &&
	    json_array_size(ch.created) + json_array_size(ch.updated) +
		    json_array_size(ch.destroyed) >
		(size_t)json_integer_value(max)) {
		jmap_changes_free(&ch);
		jmap_error(c, "cannotCalculateChanges", "more changes than maxChanges");
		return;
	}
	state = jmap_state(c->folders);
	jmap_reply(c, "Email/changes",
	    json_pack("{s:s, s:O, s:s, s:b, s:O, s:O, s:O}", "accountId", jm.account, "oldState",
		json_object_get(c->args, "sinceState"), "newState", state, "hasMoreChanges", 0,
		"created", ch.created, "updated", ch.updated, "destroyed", ch.destroyed));
	jmap_changes_free(&ch);
	free(state);
}

void jmap_email_query_changes(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"filter", JA_OBJECT_OR_NULL, false}, {"sort", JA_ARRAY_OR_NULL, false},
	    {"sinceQueryState", JA_STRING, true}, {"maxChanges", JA_UINT_OR_NULL, false},
	    {"upToId", JA_ID_OR_NULL, false}, {"calculateTotal", JA_BOOL, false},
	    {"collapseThreads", JA_BOOL, false}, {NULL, 0, 0}};
	struct jmap_changes ch;
	struct hit *hits;
	size_t n, i;
	json_t *removed, *added, *id, *res;
	char *state;

	if (!jmap_args(c, spec))
		return;
	if (json_is_true(json_object_get(c->args, "collapseThreads"))) {
		/* a change anywhere in a thread can move its representative */
		jmap_error(c, "cannotCalculateChanges", "collapseThreads");
		return;
	}
	if (jmap_changes_since(
		c, json_string_value(json_object_get(c->args, "sinceQueryState")), &ch) < 0)
		return;
	if (run_query(c, &hits, &n, 0, NULL) < 0) {
		jmap_changes_free(&ch);
		return;
	}
	removed = json_array();
	added = json_array();
	json_array_foreach(ch.updated, i, id) json_array_append(removed, id);
	json_array_foreach(ch.destroyed, i, id) json_array_append(removed, id);
	for (size_t k = 0; k < n; k++) {
		char hid[JMAP_EID_LEN];
		bool fresh = false;

		jmap_email_id_at(hid, c->folders, hits[k].uv, hits[k].uid);
		json_array_foreach(ch.created, i, id) fresh |=
		    strcmp(json_string_value(id), hid) == 0;
		json_array_foreach(ch.updated, i, id) fresh |=
		    strcmp(json_string_value(id), hid) == 0;
		if (fresh)
			json_array_append_new(
			    added, json_pack("{s:s, s:I}", "id", hid, "index", (json_int_t)k));
	}
	state = jmap_state(c->folders);
	res = json_pack("{s:s, s:O, s:s, s:o, s:o}", "accountId", jm.account, "oldQueryState",
	    json_object_get(c->args, "sinceQueryState"), "newQueryState", state, "removed", removed,
	    "added", added);
	if (json_is_true(json_object_get(c->args, "calculateTotal")))
		json_object_set_new(res, "total", json_integer((json_int_t)n));
	jmap_reply(c, "Email/queryChanges", res);
	free(state);
	free(hits);
	jmap_changes_free(&ch);
}
