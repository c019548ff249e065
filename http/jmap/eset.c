/*
 * eset.c - Email/set and Email/import (RFC 8621 sections 4.6, 4.8), and
 * the writer of messages made from JMAP properties.
 *
 * update: keywords (whole or "keywords/<k>" patches) become an IMAP
 * STORE of flags and keywords; mailboxIds (whole or "mailboxIds/<id>")
 * a MOVE to the first new folder and COPYs to the others.  destroy is an
 * EXPUNGE.  create writes a message (the writer below) into its folders;
 * import stores an uploaded message.  Every change is durable when the
 * response is sent (the store's guarantee).
 *
 * The writer: From, To, Cc, Bcc, Reply-To, Subject (RFC 2047 for
 * non-ASCII), Date, Message-ID (at the From domain), In-Reply-To,
 * References, MIME-Version; a text/plain and/or text/html body in UTF-8
 * (7bit when it can, else base64), multipart/alternative for both, and
 * multipart/mixed with the attachments (base64 of their blobs).
 */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jmap_int.h"
#include "mime/decode.h"
#include "util.h"

unsigned jmap_keyword_flag(const char *kw)
{
	if (strcasecmp(kw, "$seen") == 0)
		return MSTORE_F_SEEN;
	if (strcasecmp(kw, "$flagged") == 0)
		return MSTORE_F_FLAGGED;
	if (strcasecmp(kw, "$answered") == 0)
		return MSTORE_F_ANSWERED;
	if (strcasecmp(kw, "$draft") == 0)
		return MSTORE_F_DRAFT;
	return 0;
}

static bool keyword_valid(const char *k)
{
	if (*k == 0 || strlen(k) > 255)
		return false;
	for (; *k; k++)
		if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f ||
		    strchr("()]{%*\"\\", *k))
			return false;
	return true;
}

/* flags and keyword names of a JMAP keywords object; false when invalid */
static bool keywords_split(json_t *kw, unsigned *flags, char ***names)
{
	const char *k;
	json_t *v;

	*flags = 0;
	*names = xcalloc(json_object_size(kw) + 1, sizeof(char *));
	json_object_foreach(kw, k, v)
	{
		size_t n = 0;

		if (!json_is_true(v) || !keyword_valid(k))
			return false;
		if (jmap_keyword_flag(k))
			*flags |= jmap_keyword_flag(k);
		else {
			while ((*names)[n])
				n++;
			(*names)[n] = (char *)k;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- update */

static json_t *update_keywords(struct jmsg *j, json_t *patch)
{
	const char *key;
	json_t *v, *full = json_object_get(patch, "keywords");
	struct mstore_view *rw;
	json_t *err = NULL;
	uint32_t *failed = NULL;
	size_t nfailed = 0;

	if (full == NULL) {
		bool any = false;

		json_object_foreach(patch, key, v) any |= strncmp(key, "keywords/", 9) == 0;
		if (!any)
			return NULL;
	}
	if ((rw = jmap_view_rw(j->f->name)) == NULL)
		return jmap_set_error("serverFail", jmap_store_error_text("Email/set"));
	if (full) {
		struct mstore_store_req req = {.mode = MSTORE_STORE_SET};
		char **names;

		if (!json_is_object(full) || !keywords_split(full, &req.flags, &names))
			err = jmap_set_error("invalidProperties", "keywords");
		else {
			req.keywords = (const char *const *)names;
			if (mstore_view_store(rw, &j->uid, 1, &req, &failed, &nfailed) < 0)
				err = jmap_set_error(
				    "serverFail", jmap_store_error_text("Email/set"));
		}
		free(names);
	}
	json_object_foreach(patch, key, v)
	{
		struct mstore_store_req req = {0};
		const char *kw[2] = {key + 9, NULL};

		if (err || strncmp(key, "keywords/", 9) != 0)
			continue;
		if (!keyword_valid(key + 9) || !(json_is_true(v) || json_is_null(v))) {
			err = jmap_set_error("invalidPatch", key);
			break;
		}
		req.mode = json_is_true(v) ? MSTORE_STORE_ADD : MSTORE_STORE_REMOVE;
		if ((req.flags = jmap_keyword_flag(key + 9)) == 0)
			req.keywords = kw;
		if (mstore_view_store(rw, &j->uid, 1, &req, &failed, &nfailed) < 0)
			err = jmap_set_error("serverFail", jmap_store_error_text("Email/set"));
		free(failed);
		failed = NULL;
	}
	free(failed);
	mstore_view_close(rw);
	return err;
}

/* Expunges the places of a message but those in the mailboxes of keep
 * (NULL: none kept); a SetError at the first failure. */
static json_t *expunge_places(const struct jloc *at, size_t n, json_t *keep)
{
	struct mstore_view *rw;
	json_t *err = NULL;

	for (size_t k = 0; k < n && err == NULL; k++) {
		if (keep && json_object_get(keep, at[k].f->id))
			continue;
		if ((rw = jmap_view_rw(at[k].f->name)) == NULL ||
		    mstore_view_expunge(rw, &at[k].uid, 1) < 0)
			err = jmap_set_error("serverFail", jmap_store_error_text("Email/set"));
		if (rw)
			mstore_view_close(rw);
	}
	jmap_ids_dirty();
	return err;
}

/* mailboxIds: copies into the Mailboxes added (from one place of the
 * Email, keeping its GUID and so its id), then expunges from those
 * removed; a move is both. */
static json_t *update_mailboxes(struct jcall *c, struct jmsg *j, json_t *patch)
{
	json_t *full = json_object_get(patch, "mailboxIds"), *want = json_object(), *v;
	struct jloc at[64];
	size_t nat = jmap_ids_find(c->folders, j->id, at, 64);
	const char *key;
	struct mstore_view *rw;
	json_t *err = NULL;

	if (full) {
		if (!json_is_object(full)) {
			json_decref(want);
			return jmap_set_error("invalidProperties", "mailboxIds");
		}
		json_object_foreach(full, key, v)
		    json_object_set_new(want, jmap_created_id(c, key), json_true());
	} else {
		bool any = false;

		for (size_t k = 0; k < nat; k++)
			json_object_set_new(want, at[k].f->id, json_true());
		json_object_foreach(patch, key, v)
		{
			if (strncmp(key, "mailboxIds/", 11) != 0)
				continue;
			any = true;
			if (json_is_true(v))
				json_object_set_new(
				    want, jmap_created_id(c, key + 11), json_true());
			else if (json_is_null(v))
				json_object_del(want, jmap_created_id(c, key + 11));
			else
				err = jmap_set_error("invalidPatch", key);
		}
		if (!any) {
			json_decref(want);
			return NULL;
		}
	}
	if (err == NULL && json_object_size(want) == 0)
		err = jmap_set_error("invalidProperties", "mailboxIds: at least one");
	json_object_foreach(
	    want, key, v) if (err == NULL && jmap_folder_by_id(c->folders, key) == NULL) err =
	    jmap_set_error("invalidProperties", "mailboxIds: no such mailbox");
	if (err || nat == 0) {
		json_decref(want);
		return err ? err : jmap_set_error("notFound", NULL);
	}
	/* copies first: nothing is lost when one fails */
	json_object_foreach(want, key, v)
	{
		struct jfolder *dest = jmap_folder_by_id(c->folders, key);
		uint32_t nuid = 0, nuv = 0;
		size_t k;

		for (k = 0; k < nat && at[k].f != dest; k++)
			;
		if (k < nat || err)
			continue;
		if ((rw = jmap_view_rw(at[0].f->name)) == NULL ||
		    mstore_view_copy(rw, &at[0].uid, 1, dest->name, false, &nuid, &nuv) < 0)
			err = jmap_set_error("serverFail", jmap_store_error_text("Email/set"));
		if (rw)
			mstore_view_close(rw);
	}
	if (err == NULL)
		err = expunge_places(at, nat, want);
	else
		jmap_ids_dirty(); /* the copies made */
	json_decref(want);
	return err;
}

json_t *jmap_email_update(struct jcall *c, const char *id, json_t *patch);
json_t *jmap_email_update(struct jcall *c, const char *id, json_t *patch)
{
	struct jmsg j;
	const char *key;
	json_t *v, *err;

	if (!jmap_locate(c, id, &j))
		return jmap_set_error("notFound", NULL);
	if (!json_is_object(patch))
		return jmap_set_error("invalidPatch", NULL);
	json_object_foreach(patch, key,
	    v) if (strcmp(key, "keywords") && strncmp(key, "keywords/", 9) &&
		   strcmp(key, "mailboxIds") &&
		   strncmp(key, "mailboxIds/", 11)) return jmap_set_error("invalidProperties", key);
	if ((err = update_keywords(&j, patch)) != NULL)
		return err;
	return update_mailboxes(c, &j, patch);
}

json_t *jmap_email_destroy(struct jcall *c, const char *id);
json_t *jmap_email_destroy(struct jcall *c, const char *id)
{
	struct jloc at[64];
	size_t n = jmap_ids_find(c->folders, id, at, 64);

	if (n == 0)
		return jmap_set_error("notFound", NULL);
	return expunge_places(at, n, NULL); /* every copy */
}

/* ---------------------------------------------------------------- writer */

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void put_encoded(struct buf *b, const char *s)
{
	if (ascii(s)) {
		for (; *s; s++)
			if (*s != '\r' && *s != '\n')
				buf_putc(b, *s);
		return;
	}
	/* one encoded word per 45 input bytes, split at characters */
	while (*s) {
		size_t n = 0, k = strlen(s);

		while (n < k && n < 45) {
			n++;
			while (n < k && ((unsigned char)s[n] & 0xc0) == 0x80)
				n++;
		}
		buf_puts(b, "=?UTF-8?B?");
		mime_b64_encode(s, n, b);
		buf_puts(b, "?=");
		s += n;
		if (*s)
			buf_puts(b, "\n ");
	}
}

static bool atext_only(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *s)))
			return false;
	return true;
}

/* false when an address is malformed */
static bool put_addresses(struct buf *b, const char *field, json_t *list)
{
	size_t i;
	json_t *a;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return list == NULL || json_is_null(list) || json_is_array(list);
	buf_printf(b, "%s: ", field);
	json_array_foreach(list, i, a)
	{
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *email = json_string_value(json_object_get(a, "email"));

		if (email == NULL || strchr(email, '@') == NULL || strpbrk(email, " <>\r\n\",;") ||
		    strlen(email) > 320)
			return false;
		if (i)
			buf_puts(b, ",\n ");
		if (name && *name) {
			if (ascii(name) && atext_only(name))
				buf_puts(b, name);
			else if (ascii(name)) {
				buf_putc(b, '"');
				for (const char *p = name; *p; p++)
					if (*p != '\r' && *p != '\n') {
						if (*p == '"' || *p == '\\')
							buf_putc(b, '\\');
						buf_putc(b, *p);
					}
				buf_putc(b, '"');
			} else {
				put_encoded(b, name);
			}
			buf_printf(b, " <%s>", email);
		} else {
			buf_puts(b, email);
		}
	}
	buf_putc(b, '\n');
	return true;
}

static void put_body(struct buf *b, const char *type, const char *text, size_t len)
{
	bool plain = true;
	size_t line = 0;

	for (size_t i = 0; i < len && plain; i++) {
		if ((unsigned char)text[i] >= 0x80 || text[i] == 0 || text[i] == '\r')
			plain = false;
		line = text[i] == '\n' ? 0 : line + 1;
		if (line > 900)
			plain = false;
	}
	buf_printf(b, "Content-Type: %s; charset=utf-8\n", type);
	if (plain) {
		buf_puts(b, "Content-Transfer-Encoding: 7bit\n\n");
		buf_append(b, text, len);
		if (len && text[len - 1] != '\n')
			buf_putc(b, '\n');
	} else {
		struct buf e = BUF_INIT;

		buf_puts(b, "Content-Transfer-Encoding: base64\n\n");
		mime_b64_encode(text, len, &e);
		for (size_t i = 0; i < e.len; i += 76) {
			buf_append(b, e.data + i, e.len - i < 76 ? e.len - i : 76);
			buf_putc(b, '\n');
		}
		buf_free(&e);
	}
}

static void boundary(char out[40])
{
	unsigned char r[12];

	RAND_bytes(r, sizeof(r));
	strcpy(out, "=_tern_");
	hex_encode(r, 12, out + 7);
}

/* The text of the first part of list (textBody or htmlBody). */
static const char *body_text(json_t *e, const char *list, size_t *len)
{
	json_t *parts = json_object_get(e, list), *values = json_object_get(e, "bodyValues");
	const char *pid = json_string_value(json_object_get(json_array_get(parts, 0), "partId"));
	json_t *v = pid ? json_object_get(json_object_get(values, pid), "value") : NULL;

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/* The message for an Email/set create; NULL with *why. */
bool jmap_write_message(json_t *e, struct buf *b, const char **why);
bool jmap_write_message(json_t *e, struct buf *b, const char **why)
{
	const char *subject = json_string_value(json_object_get(e, "subject"));
	json_t *from = json_object_get(e, "from"), *atts = json_object_get(e, "attachments");
	const char *text, *html, *dom;
	size_t tlen = 0, hlen = 0, i;
	char date[64], bnd[40], alt[40];
	time_t now = time(NULL);
	struct tm tm;
	unsigned char r[12];
	json_t *a, *ids;

	*why = "from, to, cc, bcc or replyTo";
	if (!put_addresses(b, "From", from) || !put_addresses(b, "To", json_object_get(e, "to")) ||
	    !put_addresses(b, "Cc", json_object_get(e, "cc")) ||
	    !put_addresses(b, "Bcc", json_object_get(e, "bcc")) ||
	    !put_addresses(b, "Reply-To", json_object_get(e, "replyTo")))
		return false;
	if (subject) {
		buf_puts(b, "Subject: ");
		put_encoded(b, subject);
		buf_putc(b, '\n');
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(b, "Date: %s\n", date);
	dom = json_string_value(json_object_get(json_array_get(from, 0), "email"));
	dom = dom && strchr(dom, '@') ? strchr(dom, '@') + 1 : "localhost";
	RAND_bytes(r, sizeof(r));
	buf_puts(b, "Message-ID: <");
	buf_put_hex(b, r, 12);
	buf_printf(b, "@%s>\n", dom);
	for (int k = 0; k < 2; k++) {
		ids = json_object_get(e, k ? "references" : "inReplyTo");
		if (json_array_size(ids) == 0)
			continue;
		buf_puts(b, k ? "References:" : "In-Reply-To:");
		json_array_foreach(ids, i, a)
		{
			const char *s = json_string_value(a);

			*why = "inReplyTo or references";
			if (s == NULL || strpbrk(s, "<> \r\n") || strlen(s) > 250)
				return false;
			buf_printf(b, " <%s>", s);
		}
		buf_putc(b, '\n');
	}
	buf_puts(b, "MIME-Version: 1.0\n");
	text = body_text(e, "textBody", &tlen);
	html = body_text(e, "htmlBody", &hlen);
	if (text == NULL && html == NULL) {
		text = "";
		tlen = 0;
	}
	boundary(bnd);
	boundary(alt);
	if (json_array_size(atts) > 0)
		buf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n", bnd, bnd);
	if (text && html) {
		buf_printf(
		    b, "Content-Type: multipart/alternative; boundary=\"%s\"\n\n--%s\n", alt, alt);
		put_body(b, "text/plain", text, tlen);
		buf_printf(b, "--%s\n", alt);
		put_body(b, "text/html", html, hlen);
		buf_printf(b, "--%s--\n", alt);
	} else if (text) {
		put_body(b, "text/plain", text, tlen);
	} else {
		put_body(b, "text/html", html, hlen);
	}
	json_array_foreach(atts, i, a)
	{
		const char *blob = json_string_value(json_object_get(a, "blobId"));
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *disp = json_string_value(json_object_get(a, "disposition"));
		const char *cid = json_string_value(json_object_get(a, "cid"));
		struct buf data = BUF_INIT, btype = BUF_INIT, enc = BUF_INIT;

		*why = "attachments: unknown blobId";
		if (blob == NULL || !jmap_blob_read(blob, &data, &btype)) {
			buf_free(&btype);
			return false;
		}
		*why = "attachments: bad type, name or cid";
		if ((type && (strpbrk(type, "\r\n\";") || strchr(type, '/') == NULL)) ||
		    (name && strpbrk(name, "\r\n\"\\")) || (cid && strpbrk(cid, "\r\n<> "))) {
			buf_free(&data);
			buf_free(&btype);
			return false;
		}
		buf_printf(
		    b, "--%s\nContent-Type: %s", bnd, type ? type : "application/octet-stream");
		if (name) {
			buf_puts(b, ";\n name=\"");
			put_encoded(b, name);
			buf_putc(b, '"');
		}
		buf_printf(b, "\nContent-Disposition: %s",
		    disp && strcmp(disp, "inline") == 0 ? "inline" : "attachment");
		if (name) {
			buf_puts(b, ";\n filename=\"");
			put_encoded(b, name);
			buf_putc(b, '"');
		}
		buf_putc(b, '\n');
		if (cid)
			buf_printf(b, "Content-ID: <%s>\n", cid);
		buf_puts(b, "Content-Transfer-Encoding: base64\n\n");
		mime_b64_encode(data.data ? data.data : "", data.len, &enc);
		for (size_t k = 0; k < enc.len; k += 76) {
			buf_append(b, enc.data + k, enc.len - k < 76 ? enc.len - k : 76);
			buf_putc(b, '\n');
		}
		buf_free(&enc);
		buf_free(&data);
		buf_free(&btype);
	}
	if (json_array_size(atts) > 0)
		buf_printf(b, "--%s--\n", bnd);
	*why = NULL;
	return true;
}

/* Saves msg into the folders of mailboxIds; the created object or NULL
 * with *err. */
static json_t *store_message(struct jcall *c, const char *msg, size_t len, json_t *mailboxes,
    json_t *keywords, time_t received, json_t **err)
{
	struct mstore_save_opts o = {.internal_date = received};
	char **names = NULL;
	const char *key;
	json_t *v, *res = NULL;
	char id[JMAP_EID_LEN], blob[40];
	struct jfolder *first = NULL;
	uint32_t first_uid = 0;

	if (!json_is_object(mailboxes) || json_object_size(mailboxes) == 0) {
		*err = jmap_set_error("invalidProperties", "mailboxIds");
		return NULL;
	}
	if (keywords && !json_is_null(keywords) &&
	    (!json_is_object(keywords) || !keywords_split(keywords, &o.flags, &names))) {
		free(names);
		*err = jmap_set_error("invalidProperties", "keywords");
		return NULL;
	}
	o.keywords = (const char *const *)names;
	json_object_foreach(mailboxes, key, v)
	{
		struct jfolder *f = jmap_folder_by_id(c->folders, jmap_created_id(c, key));
		struct mstore_save *sv;
		uint32_t uid = 0, uv = 0;

		if (f == NULL || !json_is_true(v)) {
			*err = jmap_set_error("invalidProperties", "mailboxIds: no such mailbox");
			break;
		}
		if (first) { /* a copy: the same GUID, one Email */
			struct mstore_view *rw = jmap_view_rw(first->name);

			if (rw == NULL ||
			    mstore_view_copy(rw, &first_uid, 1, f->name, false, &uid, &uv) < 0)
				*err = jmap_set_error(mstore_error(jm.store) == MSTORE_EQUOTA
							  ? "overQuota"
							  : "serverFail",
				    jmap_store_error_text("saving a message"));
			if (rw)
				mstore_view_close(rw);
			if (*err)
				break;
			continue;
		}
		if ((sv = mstore_save_begin(jm.store, f->name, &o)) == NULL ||
		    mstore_save_write(sv, msg, len) < 0 || mstore_save_commit(sv, &uid, &uv) < 0) {
			*err = jmap_set_error(
			    mstore_error(jm.store) == MSTORE_EQUOTA ? "overQuota" : "serverFail",
			    jmap_store_error_text("saving a message"));
			break;
		}
		if (res == NULL) {
			struct mstore_view *view = jmap_view(f->name);
			char tid[16];

			first = f;
			first_uid = uid;
			if (view)
				jmap_email_id(id, view, uid);
			else
				snprintf(id, sizeof(id), "e%024x", 0);
			snprintf(blob, sizeof(blob), "M%.24s", id + 1);
			snprintf(tid, sizeof(tid), "t%08x", view ? jmap_thread_of(view, uid) : 0);
			res = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "blobId", blob,
			    "threadId", tid, "size", (json_int_t)len);
		}
	}
	free(names);
	if (*err) {
		json_decref(res);
		return NULL;
	}
	return res;
}

void jmap_email_set(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ifInState", JA_STRING_OR_NULL, false}, {"create", JA_OBJECT_OR_NULL, false},
	    {"update", JA_OBJECT_OR_NULL, false}, {"destroy", JA_IDS_OR_NULL, false}, {NULL, 0, 0}};
	struct jmap_set js;
	json_t *v;
	const char *key;
	size_t i;

	if (!jmap_set_begin(c, spec, &js))
		return;
	json_object_foreach(json_is_object(js.create) ? js.create : NULL, key, v)
	{
		struct buf msg = BUF_INIT;
		const char *why;
		json_t *err = NULL, *res;

		if (!json_is_object(v) || !jmap_write_message(v, &msg, &why)) {
			json_object_set_new(js.nc, key, jmap_set_error("invalidProperties", why));
			buf_free(&msg);
			continue;
		}
		res = store_message(c, msg.data, msg.len, json_object_get(v, "mailboxIds"),
		    json_object_get(v, "keywords"), 0, &err);
		if (res) {
			json_object_set_new(c->created, key,
			    json_string(json_string_value(json_object_get(res, "id"))));
			json_object_set_new(js.created, key, res);
		} else {
			json_object_set_new(js.nc, key, err);
		}
		buf_free(&msg);
	}
	json_object_foreach(json_is_object(js.update) ? js.update : NULL, key, v)
	{
		json_t *err = jmap_email_update(c, jmap_created_id(c, key), v);

		if (err)
			json_object_set_new(js.nu, key, err);
		else
			json_object_set_new(js.updated, key, json_null());
	}
	json_array_foreach(json_is_array(js.destroy) ? js.destroy : NULL, i, v)
	{
		json_t *err = jmap_email_destroy(c, jmap_created_id(c, json_string_value(v)));

		if (err)
			json_object_set_new(js.nd, json_string_value(v), err);
		else
			json_array_append(js.destroyed, v);
	}
	jmap_folders_free(c->folders);
	jmap_folders_load(c->folders);
	jmap_set_reply(c, "Email/set", &js);
}

void jmap_email_import(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ifInState", JA_STRING_OR_NULL, false}, {"emails", JA_OBJECT, true}, {NULL, 0, 0}};
	json_t *emails, *created, *nc, *v;
	const char *key;
	char *old, *state;

	if (!jmap_args(c, spec) ||
	    !jmap_set_limit(c, json_object_size(json_object_get(c->args, "emails"))) ||
	    (old = jmap_state_if(c)) == NULL)
		return;
	emails = json_object_get(c->args, "emails");
	created = json_object();
	nc = json_object();
	json_object_foreach(emails, key, v)
	{
		const char *blob = json_string_value(json_object_get(v, "blobId"));
		const char *rcv = json_string_value(json_object_get(v, "receivedAt"));
		struct buf data = BUF_INIT, type = BUF_INIT;
		json_t *err = NULL, *res;
		time_t t = 0;

		if (blob == NULL || !jmap_blob_read(jmap_created_id(c, blob), &data, &type)) {
			json_object_set_new(nc, key, jmap_set_error("blobNotFound", NULL));
		} else if (rcv && !jmap_date_parse(rcv, &t)) {
			json_object_set_new(
			    nc, key, jmap_set_error("invalidProperties", "receivedAt"));
		} else if ((res = store_message(c, data.data ? data.data : "", data.len,
				json_object_get(v, "mailboxIds"), json_object_get(v, "keywords"), t,
				&err)) == NULL) {
			json_object_set_new(nc, key, err);
		} else {
			json_object_set_new(c->created, key,
			    json_string(json_string_value(json_object_get(res, "id"))));
			json_object_set_new(created, key, res);
		}
		buf_free(&data);
		buf_free(&type);
	}
	jmap_folders_free(c->folders);
	jmap_folders_load(c->folders);
	state = jmap_state(c->folders);
	jmap_reply(c, "Email/import",
	    json_pack("{s:s, s:s, s:s, s:o, s:o}", "accountId", jm.account, "oldState", old,
		"newState", state, "created", created, "notCreated", nc));
	free(old);
	free(state);
}
