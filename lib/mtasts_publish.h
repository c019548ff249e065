/*
 * mtasts_publish.h - the MTA-STS policy this instance publishes for its
 * domains (RFC 8461 3.2), from main.cf: mta_sts_mode, mta_sts_mx and
 * mta_sts_max_age.  http serves it at /.well-known/mta-sts.txt to
 * requests for a host name "mta-sts.DOMAIN"; tern doctor names the id of
 * the _mta-sts TXT record that goes with it.
 */
#ifndef TERN_MTASTS_PUBLISH_H
#define TERN_MTASTS_PUBLISH_H

#include <stdbool.h>

#include "buf.h"
#include "mtasts.h"

/*
 * The policy text appended to text and its TXT id (MTASTS_PUBLISH_ID_LEN
 * + 1 bytes) in id; false when mta_sts_mode is "off" (nothing is
 * published).  The configuration must be loaded.
 */
bool mtasts_published(struct buf *text, char *id);

#endif
