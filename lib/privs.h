/*
 * privs.h - dropping and switching privileges.
 */
#ifndef TERN_PRIVS_H
#define TERN_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

/* Looks up a user by name or number; false when unknown. */
bool priv_lookup_user(const char *name, uid_t *uid, gid_t *gid);
bool priv_lookup_group(const char *name, gid_t *gid);

/*
 * Permanently becomes user (initgroups, setgid, setuid), then verifies that
 * root cannot be regained (setuid(0) must fail) and that the ids really
 * changed; any failure is fatal.  When the process is not root, this is a
 * no-op that logs (once per process) that privileges stay as they are.
 */
void priv_drop(const char *user);
void priv_drop_ids(uid_t uid, gid_t gid, const char *name);

/*
 * Temporarily switches the effective ids (root only) for one delivery:
 * supplementary groups, egid, euid.  priv_restore() returns to root.
 * Both are fatal on failure.
 */
void priv_set_effective(uid_t uid, gid_t gid);
void priv_restore(void);

#endif
