/*
 * junk.c - filing mail marked as spam into the Junk folder.
 *
 * A message that a scanner marked (rspamd's milter adds "X-Spam: Yes",
 * SpamAssassin "X-Spam-Flag: YES"; a header_checks PREPEND or the DMARC
 * quarantine of msgauth may add the same) is stored into
 * junk_mail_folder instead of INBOX when local delivers to a Maildir
 * without Sieve.  With a Sieve script the script decides (a
 * sieve_before script can file it the same way).  The marks are the
 * "Name: value" entries of junk_mail_headers, compared without regard to
 * case on the unfolded value; empty turns filing off.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "local.h"
#include "mime/header.h"
#include "util.h"

/* Whether hdr has a field name whose unfolded value is value. */
static bool junk_has(const char *hdr, size_t len, const char *name, const char *value)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	struct buf v = BUF_INIT;
	bool found = false;

	mime_hdr_iter_init(&it, hdr, len);
	while (!found && mime_hdr_iter_next(&it, &f)) {
		if (!mime_hdr_name_is(&f, name))
			continue;
		buf_reset(&v);
		mime_hdr_unfold(f.value, f.value_len, &v);
		found = strcasecmp(buf_cstr(&v), value) == 0;
	}
	buf_free(&v);
	return found;
}

/* Whether any "Name: value" of the comma-separated list marks hdr. */
static bool junk_marked(const char *hdr, size_t len, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;
	bool marked = false;

	for (char *e = strtok_r(copy, ",", &save); e && !marked; e = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(e, ':');

		if (colon == NULL)
			continue;
		*colon = 0;
		marked = junk_has(hdr, len, str_trim(e), str_trim(colon + 1));
	}
	free(copy);
	return marked;
}

const char *local_junk_folder(const struct local_msg *m)
{
	const char *list = config_str("junk_mail_headers");
	const char *folder = config_str("junk_mail_folder");
	char *hdr;
	bool marked = false;

	if (*list == 0 || *folder == 0 || m->header_len <= 0)
		return "INBOX";
	hdr = xmalloc((size_t)m->header_len + 1);
	if (pread(m->fd, hdr, (size_t)m->header_len, m->header_off) == m->header_len) {
		hdr[m->header_len] = 0;
		marked = junk_marked(hdr, (size_t)m->header_len, list);
	}
	free(hdr);
	return marked ? folder : "INBOX";
}
