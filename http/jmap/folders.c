/*
 * folders.c - the account's folders as JMAP Mailboxes: ids, roles,
 * states, and the views jmap keeps open.
 *
 * A Mailbox id is "m" and the folder's UIDVALIDITY in hex; Email ids
 * come from the message GUIDs (ids.c).
 *
 * The state of Mailbox, Email and Thread is one string: for each folder
 * (by UIDVALIDITY) its UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT.  Every
 * change to a folder (a delivery, an IMAP STORE or EXPUNGE, a JMAP set)
 * raises its HIGHESTMODSEQ or UIDNEXT, so the state changes exactly when
 * something changed, and the old state says where /changes starts
 * (query.c).
 */
#include <stdlib.h>
#include <string.h>

#include "jmap.h"
#include "log.h"
#include "util.h"

struct vcache {
	char *name;
	struct mstore_view *v;
	struct vcache *next;
};

static struct vcache *views;

struct mstore_view *jmap_view(const char *name)
{
	struct vcache *c;

	for (c = views; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			break;
	if (c == NULL) {
		struct mstore_view *v;

		if (mstore_view_open(jm.store, name, MSTORE_VIEW_READONLY, &v) < 0)
			return NULL;
		c = xcalloc(1, sizeof(*c));
		c->name = xstrdup(name);
		c->v = v;
		c->next = views;
		views = c;
		return v;
	}
	if (mstore_view_sync(c->v, 0, NULL) < 0) {
		log_warn("jmap(%s): %s: %s", jm.user, name, mstore_strerror(jm.store));
		return NULL;
	}
	return c->v;
}

struct mstore_view *jmap_view_rw(const char *name)
{
	struct mstore_view *v;

	if (mstore_view_open(jm.store, name, 0, &v) < 0)
		return NULL;
	return v;
}

static const struct {
	unsigned su;
	const char *role;
} roles[] = {
    {MSTORE_SU_DRAFTS, "drafts"},
    {MSTORE_SU_SENT, "sent"},
    {MSTORE_SU_TRASH, "trash"},
    {MSTORE_SU_JUNK, "junk"},
    {MSTORE_SU_ARCHIVE, "archive"},
};

void jmap_folders_load(struct jfolders *f)
{
	struct mstore_folder_info *list;
	size_t n;

	memset(f, 0, sizeof(*f));
	if (mstore_list(jm.store, &list, &n) < 0)
		return;
	f->v = xcalloc(n + 1, sizeof(*f->v));
	for (size_t i = 0; i < n; i++) {
		struct jfolder *j = &f->v[f->n];

		if (list[i].flags & MSTORE_LF_NONEXISTENT)
			continue;
		if (mstore_status(jm.store, list[i].name, &j->st, false) < 0)
			continue;
		j->name = xstrdup(list[i].name);
		j->special_use = list[i].special_use;
		snprintf(j->id, sizeof(j->id), "m%08x", j->st.uidvalidity);
		if (strcmp(j->name, "INBOX") == 0)
			j->role = "inbox";
		for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]) && !j->role; r++)
			if (j->special_use & roles[r].su)
				j->role = roles[r].role;
		f->n++;
	}
	mstore_list_free(list, n);
}

void jmap_folders_free(struct jfolders *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].name);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

struct jfolder *jmap_folder_by_id(struct jfolders *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].id, id) == 0)
			return &f->v[i];
	return NULL;
}

struct jfolder *jmap_folder_by_uv(struct jfolders *f, uint32_t uv)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].st.uidvalidity == uv)
			return &f->v[i];
	return NULL;
}

static int by_uv(const void *a, const void *b)
{
	const struct jfolder *x = *(struct jfolder *const *)a, *y = *(struct jfolder *const *)b;

	return x->st.uidvalidity < y->st.uidvalidity ? -1 : x->st.uidvalidity > y->st.uidvalidity;
}

char *jmap_state_if(struct jcall *c)
{
	char *old = jmap_state(c->folders);
	json_t *st = json_object_get(c->args, "ifInState");

	if (json_is_string(st) && strcmp(json_string_value(st), old) != 0) {
		free(old);
		jmap_error(c, "stateMismatch", NULL);
		return NULL;
	}
	return old;
}

char *jmap_state(const struct jfolders *f)
{
	struct jfolder **s = xcalloc(f->n + 1, sizeof(*s));
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < f->n; i++)
		s[i] = &f->v[i];
	qsort(s, f->n, sizeof(*s), by_uv);
	for (size_t i = 0; i < f->n; i++)
		buf_printf(&b, "%s%x.%llx.%x", i ? "_" : "", s[i]->st.uidvalidity,
		    (unsigned long long)s[i]->st.highest_modseq, s[i]->st.uidnext);
	if (f->n == 0)
		buf_puts(&b, "0");
	free(s);
	return xstrdup(buf_cstr(&b));
}

json_t *jmap_keywords(struct mstore_view *v, const struct mstore_msg *m)
{
	json_t *k = json_object();

	if (m->flags & MSTORE_F_SEEN)
		json_object_set_new(k, "$seen", json_true());
	if (m->flags & MSTORE_F_FLAGGED)
		json_object_set_new(k, "$flagged", json_true());
	if (m->flags & MSTORE_F_ANSWERED)
		json_object_set_new(k, "$answered", json_true());
	if (m->flags & MSTORE_F_DRAFT)
		json_object_set_new(k, "$draft", json_true());
	for (unsigned i = 0; i < 32; i++)
		if (m->keywords & (1u << i)) {
			const char *name = mstore_view_keyword(v, i);

			if (name) {
				char *low = xstrdup(name);

				str_lower(low);
				json_object_set_new(k, low, json_true());
				free(low);
			}
		}
	return k;
}
