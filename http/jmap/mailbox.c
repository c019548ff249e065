/*
 * mailbox.c - Mailbox/get, Mailbox/changes, Mailbox/query, Mailbox/set
 * (RFC 8621 section 2) over the store's folders.
 *
 * Folder "A.B" is Mailbox "B" with parentId that of "A"; roles come from
 * the folders' special-use (INBOX is inbox).  Counts are the store's
 * STATUS counters (totalEmails = messages, unreadEmails = unseen;
 * threads are counted as emails).  Rights: everything but on INBOX,
 * which cannot be renamed or deleted.
 */
#include <stdlib.h>
#include <string.h>

#include "jmap.h"
#include "util.h"

static const char *folder_leaf(const char *name)
{
	const char *dot = strrchr(name, MSTORE_SEP);

	return dot ? dot + 1 : name;
}

static json_t *folder_parent(struct jfolders *f, const char *name)
{
	const char *dot = strrchr(name, MSTORE_SEP);

	if (dot == NULL)
		return json_null();
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->v[i].name) == (size_t)(dot - name) &&
		    strncmp(f->v[i].name, name, (size_t)(dot - name)) == 0)
			return json_string(f->v[i].id);
	return json_null();
}

static json_t *mailbox_json(struct jfolders *f, struct jfolder *j, json_t *props)
{
	bool inbox = strcmp(j->name, "INBOX") == 0;
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:i, s:I, s:I, s:I, s:I, s:b}", "id", j->id,
	    "name", inbox ? "Inbox" : folder_leaf(j->name), "parentId", folder_parent(f, j->name),
	    "role", j->role ? json_string(j->role) : json_null(), "sortOrder", inbox ? 0 : 10,
	    "totalEmails", (json_int_t)j->st.messages, "unreadEmails", (json_int_t)j->st.unseen,
	    "totalThreads", (json_int_t)j->st.messages, "unreadThreads", (json_int_t)j->st.unseen,
	    "isSubscribed", 1);

	json_object_set_new(o, "myRights",
	    json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "mayReadItems", 1,
		"mayAddItems", 1, "mayRemoveItems", 1, "maySetSeen", 1, "maySetKeywords", 1,
		"mayCreateChild", 1, "mayRename", !inbox, "mayDelete", !inbox, "maySubmit", 1));
	if (props) {
		json_t *out = json_pack("{s:s}", "id", j->id);
		size_t i;
		json_t *p;

		json_array_foreach(props, i, p)
		{
			json_t *v = json_object_get(o, json_string_value(p));

			if (v)
				json_object_set(out, json_string_value(p), v);
		}
		json_decref(o);
		return out;
	}
	return o;
}

void jmap_mailbox_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	json_t *ids, *props, *list, *nf;

	if (!jmap_args(c, spec))
		return;
	ids = json_object_get(c->args, "ids");
	props = json_object_get(c->args, "properties");
	if (json_is_null(props))
		props = NULL;
	list = json_array();
	nf = json_array();
	if (ids && !json_is_null(ids)) {
		size_t i;
		json_t *id;

		if (json_array_size(ids) > (size_t)jm.max_get) {
			jmap_error(c, "requestTooLarge", NULL);
			json_decref(list);
			json_decref(nf);
			return;
		}
		json_array_foreach(ids, i, id)
		{
			struct jfolder *j = jmap_folder_by_id(c->folders, json_string_value(id));

			if (j)
				json_array_append_new(list, mailbox_json(c->folders, j, props));
			else
				json_array_append(nf, id);
		}
	} else {
		for (size_t i = 0; i < c->folders->n; i++)
			json_array_append_new(
			    list, mailbox_json(c->folders, &c->folders->v[i], props));
	}
	jmap_reply_get(c, "Mailbox/get", NULL, list, nf);
}

/* The state string as a table: UIDVALIDITY -> modseq, uidnext. */
struct old_state {
	uint32_t uv, uidnext;
	uint64_t modseq;
};

int jmap_state_parse(const char *s, struct old_state **out, size_t *n);
int jmap_state_parse(const char *s, struct old_state **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (strcmp(s, "0") == 0)
		return 0;
	while (*s) {
		unsigned uv, un;
		unsigned long long ms;
		int used = 0;

		if (sscanf(s, "%x.%llx.%x%n", &uv, &ms, &un, &used) != 3 || used == 0) {
			free(*out);
			return -1;
		}
		if (*n == cap)
			*out = xreallocarray(*out, cap = cap ? cap * 2 : 8, sizeof(**out));
		(*out)[*n].uv = uv;
		(*out)[*n].modseq = ms;
		(*out)[(*n)++].uidnext = un;
		s += used;
		if (*s == '_')
			s++;
		else if (*s) {
			free(*out);
			return -1;
		}
	}
	return 0;
}

void jmap_mailbox_changes(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"sinceState", JA_STRING, true}, {"maxChanges", JA_UINT_OR_NULL, false}, {NULL, 0, 0}};
	struct old_state *old;
	size_t nold;
	json_t *created, *updated, *destroyed;
	char *state;

	if (!jmap_args(c, spec))
		return;
	if (jmap_state_parse(
		json_string_value(json_object_get(c->args, "sinceState")), &old, &nold) < 0) {
		jmap_error(c, "cannotCalculateChanges", "unknown state");
		return;
	}
	created = json_array();
	updated = json_array();
	destroyed = json_array();
	for (size_t i = 0; i < c->folders->n; i++) {
		struct jfolder *j = &c->folders->v[i];
		size_t k;

		for (k = 0; k < nold && old[k].uv != j->st.uidvalidity; k++)
			;
		if (k == nold)
			json_array_append_new(created, json_string(j->id));
		else if (old[k].modseq != j->st.highest_modseq || old[k].uidnext != j->st.uidnext)
			json_array_append_new(updated, json_string(j->id));
	}
	for (size_t k = 0; k < nold; k++)
		if (jmap_folder_by_uv(c->folders, old[k].uv) == NULL) {
			char id[12];

			snprintf(id, sizeof(id), "m%08x", old[k].uv);
			json_array_append_new(destroyed, json_string(id));
		}
	free(old);
	state = jmap_state(c->folders);
	jmap_reply(c, "Mailbox/changes",
	    json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:n}", "accountId", jm.account,
		"oldState", json_string_value(json_object_get(c->args, "sinceState")), "newState",
		state, "hasMoreChanges", 0, "created", created, "updated", updated, "destroyed",
		destroyed, "updatedProperties"));
	free(state);
}

void jmap_mailbox_query(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"filter", JA_OBJECT_OR_NULL, false}, {"sort", JA_ARRAY_OR_NULL, false},
	    {"position", JA_INT, false}, {"limit", JA_UINT_OR_NULL, false},
	    {"calculateTotal", JA_BOOL, false}, {"sortAsTree", JA_BOOL, false},
	    {"filterAsTree", JA_BOOL, false}, {NULL, 0, 0}};
	json_t *filter, *ids, *role, *name;
	char *state;

	if (!jmap_args(c, spec))
		return;
	filter = json_object_get(c->args, "filter");
	role = json_is_object(filter) ? json_object_get(filter, "role") : NULL;
	name = json_is_object(filter) ? json_object_get(filter, "name") : NULL;
	ids = json_array();
	for (size_t i = 0; i < c->folders->n; i++) {
		struct jfolder *j = &c->folders->v[i];

		if (role &&
		    !(json_is_null(role) ? j->role == NULL
					 : j->role && json_is_string(role) &&
					       strcmp(j->role, json_string_value(role)) == 0))
			continue;
		if (name && json_is_string(name) &&
		    strcasestr(folder_leaf(j->name), json_string_value(name)) == NULL)
			continue;
		json_array_append_new(ids, json_string(j->id));
	}
	state = jmap_state(c->folders);
	jmap_reply(c, "Mailbox/query",
	    json_pack("{s:s, s:s, s:b, s:i, s:I, s:o}", "accountId", jm.account, "queryState",
		state, "canCalculateChanges", 0, "position", 0, "total",
		(json_int_t)json_array_size(ids), "ids", ids));
	free(state);
}

/* The full folder name for a new or renamed Mailbox. */
static char *folder_name(struct jcall *c, json_t *parent, const char *leaf)
{
	struct jfolder *p;

	if (parent == NULL || json_is_null(parent))
		return xstrdup(leaf);
	if (!json_is_string(parent))
		return NULL;
	p = jmap_folder_by_id(c->folders, jmap_created_id(c, json_string_value(parent)));
	return p ? xasprintf("%s%c%s", p->name, MSTORE_SEP, leaf) : NULL;
}

static const struct {
	const char *role;
	unsigned su;
} su_roles[] = {{"drafts", MSTORE_SU_DRAFTS}, {"sent", MSTORE_SU_SENT}, {"trash", MSTORE_SU_TRASH},
    {"junk", MSTORE_SU_JUNK}, {"archive", MSTORE_SU_ARCHIVE}};

void jmap_mailbox_set(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ifInState", JA_STRING_OR_NULL, false}, {"create", JA_OBJECT_OR_NULL, false},
	    {"update", JA_OBJECT_OR_NULL, false}, {"destroy", JA_IDS_OR_NULL, false},
	    {"onDestroyRemoveEmails", JA_BOOL, false}, {NULL, 0, 0}};
	struct jmap_set js;
	json_t *v;
	const char *key;
	size_t i;

	if (!jmap_set_begin(c, spec, &js))
		return;
	json_object_foreach(json_is_object(js.create) ? js.create : NULL, key, v)
	{
		json_t *name = json_object_get(v, "name"), *role = json_object_get(v, "role");
		unsigned su = 0;
		char *full;

		if (!json_is_string(name) || !*json_string_value(name) ||
		    strchr(json_string_value(name), MSTORE_SEP)) {
			json_object_set_new(
			    js.nc, key, jmap_set_error("invalidProperties", "name"));
			continue;
		}
		for (size_t r = 0;
		     json_is_string(role) && r < sizeof(su_roles) / sizeof(su_roles[0]); r++)
			if (strcmp(su_roles[r].role, json_string_value(role)) == 0)
				su = su_roles[r].su;
		full = folder_name(c, json_object_get(v, "parentId"), json_string_value(name));
		if (full == NULL || !mstore_name_valid(full)) {
			json_object_set_new(
			    js.nc, key, jmap_set_error("invalidProperties", "parentId or name"));
		} else if (mstore_folder_create(jm.store, full, su) < 0) {
			json_object_set_new(js.nc, key,
			    jmap_set_error(mstore_error(jm.store) == MSTORE_EEXISTS
					       ? "alreadyExists"
					       : "serverFail",
				jmap_store_error_text("Mailbox/set create")));
		} else {
			struct mstore_status fs;

			mstore_subscribe(jm.store, full, true);
			mstore_status(jm.store, full, &fs, false);
			char id[12];
			snprintf(id, sizeof(id), "m%08x", fs.uidvalidity);
			json_object_set_new(js.created, key, json_pack("{s:s}", "id", id));
			json_object_set_new(c->created, key, json_string(id));
			jmap_folders_free(c->folders);
			jmap_folders_load(c->folders);
		}
		free(full);
	}
	json_object_foreach(json_is_object(js.update) ? js.update : NULL, key, v)
	{
		struct jfolder *j = jmap_folder_by_id(c->folders, key);
		json_t *name = json_object_get(v, "name");
		char *full;

		if (j == NULL) {
			json_object_set_new(js.nu, key, jmap_set_error("notFound", key));
			continue;
		}
		if (!json_is_object(v)) {
			json_object_set_new(js.nu, key, jmap_set_error("invalidPatch", key));
			continue;
		}
		if (name == NULL && json_object_get(v, "parentId") == NULL) {
			json_object_set_new(js.updated, key, json_null());
			continue;
		}
		if (strcmp(j->name, "INBOX") == 0) {
			json_object_set_new(
			    js.nu, key, jmap_set_error("forbidden", "INBOX keeps its name"));
			continue;
		}
		{
			const char *dot = strrchr(j->name, MSTORE_SEP);
			char *parent = dot ? xstrndup(j->name, (size_t)(dot - j->name)) : NULL;
			const char *leaf =
			    json_is_string(name) ? json_string_value(name) : folder_leaf(j->name);

			if (json_object_get(v, "parentId"))
				full = folder_name(c, json_object_get(v, "parentId"), leaf);
			else
				full = parent ? xasprintf("%s%c%s", parent, MSTORE_SEP, leaf)
					      : xstrdup(leaf);
			free(parent);
		}
		if (full == NULL || !mstore_name_valid(full) ||
		    strchr(folder_leaf(full), 0) == NULL) {
			json_object_set_new(
			    js.nu, key, jmap_set_error("invalidProperties", "name"));
		} else if (mstore_folder_rename(jm.store, j->name, full) < 0) {
			json_object_set_new(js.nu, key,
			    jmap_set_error(
				"serverFail", jmap_store_error_text("Mailbox/set update")));
		} else {
			mstore_subscribe(jm.store, j->name, false);
			mstore_subscribe(jm.store, full, true);
			json_object_set_new(js.updated, key, json_null());
		}
		free(full);
		jmap_folders_free(c->folders);
		jmap_folders_load(c->folders);
	}
	json_array_foreach(json_is_array(js.destroy) ? js.destroy : NULL, i, v)
	{
		struct jfolder *j = jmap_folder_by_id(c->folders, json_string_value(v));
		bool remove = json_is_true(json_object_get(c->args, "onDestroyRemoveEmails"));

		if (j == NULL)
			json_object_set_new(js.nd, json_string_value(v),
			    jmap_set_error("notFound", "no such mailbox"));
		else if (strcmp(j->name, "INBOX") == 0)
			json_object_set_new(
			    js.nd, j->id, jmap_set_error("forbidden", "INBOX stays"));
		else if (j->st.messages > 0 && !remove)
			json_object_set_new(
			    js.nd, j->id, jmap_set_error("mailboxHasEmail", "not empty"));
		else if (mstore_folder_delete(jm.store, j->name) < 0)
			json_object_set_new(js.nd, j->id,
			    jmap_set_error(
				"serverFail", jmap_store_error_text("Mailbox/set destroy")));
		else {
			mstore_subscribe(jm.store, j->name, false);
			json_array_append(js.destroyed, v);
		}
		jmap_folders_free(c->folders);
		jmap_folders_load(c->folders);
	}
	jmap_set_reply(c, "Mailbox/set", &js);
}
