/*
 * anvil.h - connection count and rate per client, shared by all smtpd
 * processes through a locked shared-memory file.  See anvil.c.
 */
#ifndef TERN_SMTPD_ANVIL_H
#define TERN_SMTPD_ANVIL_H

#include <stdbool.h>

/* Maps the table at path; call while root (before dropping privileges). */
void anvil_init(const char *path);

/*
 * Registers a new connection from addr and tells how many the client has
 * now (this one included) and how many it opened in the current window
 * of rate_unit seconds.  False when it was not registered (table off or
 * full): then do not call anvil_disconnect() for it.
 */
bool anvil_connect(const char *addr, long rate_unit, int *count, int *rate);
void anvil_disconnect(const char *addr);

#endif
