/*
 * alias_list.h - target lists of aliases(5), .forward and :include:
 * files, as local and newaliases read them.
 */
#ifndef TERN_ALIAS_LIST_H
#define TERN_ALIAS_LIST_H

/*
 * Splits a target list at commas and line ends outside double quotes;
 * the quotes are dropped, blanks trimmed, empty and '#' comment entries
 * skipped.  Never fails (the bytes may come from any user's .forward).
 * Free the result with strv_free().
 */
char **alias_targets(const char *text);

/* NULL when one target is well-formed, else what is wrong with it. */
const char *alias_target_check(const char *target);

#endif
