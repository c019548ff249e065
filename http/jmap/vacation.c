/*
 * vacation.c - VacationResponse/get and /set (RFC 8621 section 8) on the
 * user's Sieve scripts (lib/sieve/storage: the scripts ManageSieve edits
 * and local runs).
 *
 * The object lives in the script "jmap-vacation": its second line is the
 * object as JSON (a comment), the rest is the Sieve that does it:
 *
 *   require ["vacation", "date", "relational", "include"];
 *   if allof (currentdate :zone "+0000" :value "ge" "iso8601" FROM,
 *             currentdate :zone "+0000" :value "lt" "iso8601" TO) {
 *       vacation :subject SUBJECT TEXT;
 *   }
 *   include :personal :optional "PREVIOUS";
 *
 * Enabling it makes "jmap-vacation" the active script; the script that
 * was active before (the user's filters) is kept as it is and included
 * after the vacation, so both run, and it becomes the active script again
 * when the vacation is disabled.  The user's own scripts are never
 * rewritten.  isEnabled is true only while "jmap-vacation" is the active
 * script, whatever activated it.  The reason is textBody, else htmlBody
 * (as :mime text/html), else a fixed sentence.  The state is a hash of
 * the script's text (and of which script is active).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jmap_int.h"
#include "sieve/sieve.h"
#include "sieve/storage.h"
#include "util.h"

#define SCRIPT "jmap-vacation"
#define HEADER                                                                                     \
	"# tern: JMAP VacationResponse (jmap(8) writes this script; the next line is its state)\n"
#define DEFAULT_REASON "I am away at the moment and will read your message when I am back."

static const char *const props[] = {
    "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody", NULL};

/* The stored object (with "previous"), or a disabled default; *active
 * whether the script is the active one; *state its state string. */
static json_t *vac_load(const struct sieve_storage *st, bool *active, char state[17])
{
	struct buf text = BUF_INIT;
	char *act = sieve_storage_active(st);
	json_t *o = NULL;
	unsigned long long h = 14695981039346656037ULL;

	*active = act && strcmp(act, SCRIPT) == 0;
	if (sieve_storage_get(st, SCRIPT, &text) == 0 && text.len > strlen(HEADER) &&
	    memcmp(text.data, HEADER, strlen(HEADER)) == 0) {
		const char *line = text.data + strlen(HEADER);
		const char *end = memchr(line, '\n', text.len - strlen(HEADER));

		if (line[0] == '#' && end)
			o = json_loadb(line + 1, (size_t)(end - line - 1), 0, NULL);
		for (size_t i = 0; i < text.len; i++)
			h = (h ^ (unsigned char)text.data[i]) * 1099511628211ULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_pack("{s:b, s:n, s:n, s:n, s:n, s:n, s:n}", "isEnabled", 0, "fromDate",
		    "toDate", "subject", "textBody", "htmlBody", "previous");
	}
	h = (h ^ (*active ? 1u : 2u)) * 1099511628211ULL;
	snprintf(state, 17, "%016llx", h);
	free(act);
	buf_free(&text);
	return o;
}

static json_t *vac_object(json_t *o, bool active)
{
	json_t *r = json_object();

	json_object_set_new(r, "id", json_string("singleton"));
	for (size_t i = 0; props[i]; i++) {
		json_t *v = json_object_get(o, props[i]);

		json_object_set(r, props[i], v ? v : json_null());
	}
	json_object_set_new(
	    r, "isEnabled", json_boolean(active && json_is_true(json_object_get(o, "isEnabled"))));
	return r;
}

/* A Sieve quoted string: the same rule as IMAP's (lib/buf). */
static void sieve_quote(struct buf *b, const char *s)
{
	buf_put_quoted(b, s, strlen(s));
}

/* "2026-01-02T03:04:05Z" -> "2026-01-02T03:04:05": compared with
 * currentdate's "...+00:00" it sorts as the same second. */
static void sieve_date(struct buf *b, const char *utc)
{
	char d[20];

	snprintf(d, sizeof(d), "%.19s", utc);
	sieve_quote(b, d);
}

static void vac_script(json_t *o, struct buf *b)
{
	const char *from = json_string_value(json_object_get(o, "fromDate"));
	const char *to = json_string_value(json_object_get(o, "toDate"));
	const char *subject = json_string_value(json_object_get(o, "subject"));
	const char *text = json_string_value(json_object_get(o, "textBody"));
	const char *html = json_string_value(json_object_get(o, "htmlBody"));
	const char *prev = json_string_value(json_object_get(o, "previous"));
	char *js = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	buf_puts(b, HEADER);
	buf_printf(b, "#%s\n", js);
	free(js);
	buf_puts(b, "require [\"vacation\", \"date\", \"relational\", \"include\"];\n");
	if (json_is_true(json_object_get(o, "isEnabled"))) {
		unsigned n = (from != NULL) + (to != NULL);

		if (n) {
			buf_puts(b, n == 2 ? "if allof (" : "if ");
			if (from) {
				buf_puts(
				    b, "currentdate :zone \"+0000\" :value \"ge\" \"iso8601\" ");
				sieve_date(b, from);
			}
			if (to) {
				buf_puts(b, from ? ",\n          " : "");
				buf_puts(
				    b, "currentdate :zone \"+0000\" :value \"lt\" \"iso8601\" ");
				sieve_date(b, to);
			}
			buf_puts(b, n == 2 ? ") {\n" : " {\n");
		} else {
			buf_puts(b, "if true {\n");
		}
		buf_puts(b, "    vacation");
		if (subject) {
			buf_puts(b, " :subject ");
			sieve_quote(b, subject);
		}
		if (text == NULL && html) {
			struct buf mime = BUF_INIT;

			buf_puts(b, " :mime ");
			buf_puts(&mime, "Content-Type: text/html; charset=utf-8\r\n\r\n");
			buf_puts(&mime, html);
			sieve_quote(b, buf_cstr(&mime));
			buf_free(&mime);
		} else {
			buf_putc(b, ' ');
			sieve_quote(b, text ? text : DEFAULT_REASON);
		}
		buf_puts(b, ";\n}\n");
	}
	if (prev) {
		buf_puts(b, "include :personal :optional ");
		sieve_quote(b, prev);
		buf_puts(b, ";\n");
	}
}

void jmap_vacation_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	struct sieve_storage st;
	json_t *ids, *list = json_array(), *nf = json_array(), *o;
	bool active;
	char state[17];

	if (!jmap_args(c, spec)) {
		json_decref(list);
		json_decref(nf);
		return;
	}
	sieve_storage_init(&st, jm.home);
	o = vac_load(&st, &active, state);
	ids = json_object_get(c->args, "ids");
	if (json_is_array(ids)) {
		size_t i;
		json_t *id;

		json_array_foreach(ids, i, id) if (strcmp(json_string_value(id), "singleton") == 0)
		    json_array_append_new(list, vac_object(o, active));
		else json_array_append(nf, id);
	} else {
		json_array_append_new(list, vac_object(o, active));
	}
	jmap_reply_get(c, "VacationResponse/get", state, list, nf);
	json_decref(o);
	sieve_storage_free(&st);
}

static bool utc_ok(json_t *v)
{
	time_t t;

	return json_is_null(v) ||
	       (json_is_string(v) && strlen(json_string_value(v)) == 20 &&
		   json_string_value(v)[19] == 'Z' && jmap_date_parse(json_string_value(v), &t));
}

/* Applies patch to o; NULL, or the SetError. */
static json_t *vac_patch(json_t *o, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v)
	{
		bool ok;

		if (strcmp(key, "id") == 0)
			ok = json_is_string(v) && strcmp(json_string_value(v), "singleton") == 0;
		else if (strcmp(key, "isEnabled") == 0)
			ok = json_is_boolean(v);
		else if (strcmp(key, "fromDate") == 0 || strcmp(key, "toDate") == 0)
			ok = utc_ok(v);
		else if (strcmp(key, "subject") == 0 || strcmp(key, "textBody") == 0 ||
			 strcmp(key, "htmlBody") == 0)
			ok = json_is_null(v) ||
			     (json_is_string(v) &&
				 strlen(json_string_value(v)) == json_string_length(v));
		else
			ok = false;
		if (!ok) {
			json_t *e = jmap_set_error("invalidProperties", key);

			json_object_set_new(e, "properties", json_pack("[s]", key));
			return e;
		}
		if (strcmp(key, "id") != 0)
			json_object_set(o, key, v);
	}
	return NULL;
}

/* Writes the script and (de)activates it; NULL or the SetError. */
static json_t *vac_store(const struct sieve_storage *st, json_t *o, bool was_active)
{
	struct buf text = BUF_INIT, errs = BUF_INIT;
	const char *code, *why;
	bool on = json_is_true(json_object_get(o, "isEnabled"));
	const char *prev;
	struct sieve_script *s;
	json_t *err = NULL;

	if (!was_active) { /* whatever is active now is what the vacation wraps */
		char *act = sieve_storage_active(st);

		json_object_set_new(o, "previous", act ? json_string(act) : json_null());
		free(act);
	}
	prev = json_string_value(json_object_get(o, "previous"));
	vac_script(o, &text);
	if ((s = sieve_compile(text.data, text.len, SCRIPT, &errs)) == NULL) {
		err = jmap_set_error("invalidProperties", buf_cstr(&errs));
		goto out;
	}
	sieve_script_free(s);
	if (sieve_storage_space(st, SCRIPT, text.len, &code, &why) < 0) {
		err = jmap_set_error("overQuota", why);
		goto out;
	}
	if (sieve_storage_put(st, SCRIPT, text.data, text.len) < 0 ||
	    (on && !was_active && sieve_storage_activate(st, SCRIPT) < 0) ||
	    (!on && was_active && sieve_storage_activate(st, prev ? prev : "") < 0 &&
		(errno != ENOENT || sieve_storage_activate(st, "") < 0)))
		err = jmap_set_error("serverFail", strerror(errno));
out:
	buf_free(&text);
	buf_free(&errs);
	return err;
}

void jmap_vacation_set(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ifInState", JA_STRING_OR_NULL, false}, {"create", JA_OBJECT_OR_NULL, false},
	    {"update", JA_OBJECT_OR_NULL, false}, {"destroy", JA_IDS_OR_NULL, false}, {NULL, 0, 0}};
	struct sieve_storage st;
	json_t *nu = json_object(), *nc = json_object(), *nd = json_object(), *upd = json_object();
	json_t *o, *v, *ifs;
	const char *key;
	size_t i;
	bool active;
	char old[17], state[17];

	if (!jmap_args(c, spec) || !jmap_set_limit(c, jmap_set_objects(c->args))) {
		json_decref(nu);
		json_decref(nc);
		json_decref(nd);
		json_decref(upd);
		return;
	}
	sieve_storage_init(&st, jm.home);
	o = vac_load(&st, &active, old);
	ifs = json_object_get(c->args, "ifInState");
	if (json_is_string(ifs) && strcmp(json_string_value(ifs), old) != 0) {
		jmap_error(c, "stateMismatch", NULL);
		json_decref(nu);
		json_decref(nc);
		json_decref(nd);
		json_decref(upd);
		goto out;
	}
	json_object_foreach(json_object_get(c->args, "create"), key, v) json_object_set_new(
	    nc, key, jmap_set_error("singleton", "VacationResponse is a singleton"));
	json_array_foreach(json_object_get(c->args, "destroy"), i, v)
	    json_object_set_new(nd, json_string_value(v), jmap_set_error("singleton", NULL));
	json_object_foreach(json_object_get(c->args, "update"), key, v)
	{
		json_t *err;

		if (strcmp(key, "singleton") != 0)
			err = jmap_set_error("notFound", NULL);
		else if (!json_is_object(v))
			err = jmap_set_error("invalidPatch", NULL);
		else if ((err = vac_patch(o, v)) == NULL)
			err = vac_store(&st, o, active);
		if (err)
			json_object_set_new(nu, key, err);
		else
			json_object_set_new(upd, key, json_null());
	}
	json_decref(o);
	o = vac_load(&st, &active, state);
	jmap_reply_set(c, "VacationResponse/set", old, state, NULL, upd, NULL, nc, nu, nd);
out:
	json_decref(o);
	sieve_storage_free(&st);
}
