/*
 * mtasts_publish.c - the MTA-STS policy of main.cf's mta_sts_* parameters
 * (mtasts_publish.h).  "tern check" has refused values out of range, so
 * this only reads them.
 */
#include "mtasts_publish.h"

#include <strings.h>

#include "config.h"
#include "util.h"

bool mtasts_published(struct buf *text, char *id)
{
	const char *mode = config_str("mta_sts_mode");
	long max_age = config_time("mta_sts_max_age");
	enum mtasts_mode m = MTASTS_TESTING;
	char **mx;
	size_t n = 0;
	size_t start = text->len;

	if (strcasecmp(mode, "off") == 0)
		return false;
	if (strcasecmp(mode, "enforce") == 0)
		m = MTASTS_ENFORCE;
	else if (strcasecmp(mode, "none") == 0)
		m = MTASTS_NONE;
	if (max_age < 0)
		max_age = 0;
	if (max_age > MTASTS_MAX_AGE)
		max_age = MTASTS_MAX_AGE;
	mx = strv_split_list(config_str("mta_sts_mx"));
	while (mx[n])
		n++;
	mtasts_policy_text(text, m, (const char *const *)mx, n, max_age);
	mtasts_policy_id(text->data + start, text->len - start, id);
	strv_free(mx);
	return true;
}
