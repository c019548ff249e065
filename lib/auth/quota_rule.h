/*
 * auth/quota_rule.h - Dovecot's quota_rule extra field, as the users
 * file carries it ("userdb_quota_rule=*:storage=1G").
 *
 * Only the root rule "*" is understood here: "*:storage=SIZE",
 * "*:bytes=N", "*:messages=N", combined with ':' ("*:storage=1G:messages=5000").
 * SIZE is a number with an optional unit b, k, M, G, T (powers of 1024,
 * any case); without a unit it is in kilobytes, as in Dovecot.  0 means
 * no limit.  Pure functions; the mailbox store and local enforce quotas,
 * "tern user quota" sets and shows them.
 */
#ifndef TERN_AUTH_QUOTA_RULE_H
#define TERN_AUTH_QUOTA_RULE_H

#include <stddef.h>

/* Parses a rule; -1 when malformed.  A limit not given (or 0) is -1. */
int quota_rule_parse(const char *rule, long long *bytes, long long *messages);
/* "1G", "512M", "1048576" (kilobytes): bytes, or -1 when malformed.  When
 * default_kb is 0 a number without a unit is in bytes. */
long long quota_size_parse(const char *s, int default_kb);
/* "1G", "1.5M", "123": a short human form. */
void quota_size_format(long long bytes, char *out, size_t size);

#endif
