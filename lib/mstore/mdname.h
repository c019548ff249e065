/*
 * mdname.h - Maildir file names as Dovecot writes and reads them:
 *
 *   <unique>[,S=<size>][,W=<vsize>][:2,<flags>]
 *
 * The base is everything before the first ':' (dovecot-uidlist keys
 * messages by it); the unique part is "<sec>.M<usec>P<pid>Q<n>.<host>"
 * with '/' and ':' in the host escaped as "\057" and "\072".  S= is the
 * file's size, W= its size with every line ending counted as CRLF (what
 * IMAP reports as RFC822.SIZE).  The info ":2," is followed by the flag
 * letters in ASCII order: D draft, F flagged, P passed, R replied (IMAP
 * \Answered), S seen, T trashed (IMAP \Deleted), and lowercase 'a'..'z'
 * for keywords 0..25 of the folder's dovecot-keywords file.  Uppercase
 * letters tern does not know ('P' among them) are kept across flag
 * changes, as Dovecot keeps them.
 *
 * Pure functions; the unique-name generator reads the clock, pid and
 * host name.
 */
#ifndef TERN_MSTORE_MDNAME_H
#define TERN_MSTORE_MDNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Bit of an uppercase flag letter in mdname.upper. */
#define MDF(c) (1u << ((c) - 'A'))
#define MDF_DRAFT MDF('D')
#define MDF_FLAGGED MDF('F')
#define MDF_PASSED MDF('P')
#define MDF_REPLIED MDF('R')
#define MDF_SEEN MDF('S')
#define MDF_TRASHED MDF('T')
#define MDF_ALL ((1u << 26) - 1)
/* Keywords are letters 'a' + i, bit i of mdname.lower. */
#define MD_KEYWORDS_MAX 26

#define MDNAME_NOSIZE UINT64_MAX

struct mdname {
	size_t base_len; /* bytes before the first ':' */
	bool has_info;	 /* ":2," follows the base */
	uint32_t upper;	 /* uppercase flag letters */
	uint32_t lower;	 /* keyword letters */
	/* The name is exactly mdname_build() of its base, letters and
	 * has_info: letters sorted, each once, nothing after them. */
	bool canonical;
	uint64_t size, vsize; /* ,S= and ,W=, or MDNAME_NOSIZE */
};

/* Parses a directory entry of new/ or cur/.  False for names that are no
 * message: empty, starting with '.', holding '/' or longer than 4096. */
bool mdname_parse(const char *name, struct mdname *out);

/* Appends base[0..base_len) and, when info is true, ":2," and the letters
 * of upper and lower in ASCII order. */
void mdname_build(
    struct buf *out, const char *base, size_t base_len, bool info, uint32_t upper, uint32_t lower);

/* Appends "<sec>.M<usec>P<pid>Q<n>.<host>" for the time usec (microseconds
 * since the epoch), host escaped as above. */
void mdname_format(struct buf *out, long long usec, long pid, unsigned long n, const char *host);

/* Appends a fresh unique part for this process (clock, pid, a counter,
 * the host name). */
void mdname_unique(struct buf *out);

/* Appends ",S=<size>,W=<vsize>" (the fields tern and Dovecot add). */
void mdname_sizes(struct buf *out, uint64_t size, uint64_t vsize);

#endif
