/*
 * greylist.c - built-in greylisting (the check_greylist restriction).
 *
 * A triplet (client network, sender, recipient) seen for the first time
 * gets 450 4.7.1; the same triplet retried after smtpd_greylist_delay and
 * within smtpd_greylist_retry_window is let through, and is known (no
 * delay) for smtpd_greylist_allowlist_ttl after its last use.  A client
 * network whose triplets passed smtpd_greylist_auto_allowlist times is
 * not greylisted any more (for the same ttl).  The client network is the
 * address cut to smtpd_greylist_ipv4_prefix / _ipv6_prefix bits, so a
 * sender's pool of outbound servers counts as one client.
 *
 * The data is an LMDB file (smtpd_greylist_database) shared by every smtpd
 * process and kept across restarts; each check is one short write
 * transaction (LMDB serialises writers across processes).  A database
 * that cannot be opened or written lets mail through with a warning:
 * greylisting is a delay tactic, never a reason to refuse mail.
 * mynetworks and authenticated clients are not greylisted.
 */
#include "greylist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <lmdb.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "lmdb_open.h"
#include "log.h"
#include "smtpd.h"
#include "sock.h"
#include "util.h"

struct grey_rec {
	int64_t first;	/* first attempt (triplet) */
	int64_t last;	/* last pass (triplet or client) */
	int64_t passes; /* triplet: 1 once passed; client: triplets passed */
};

static MDB_env *grey_env;
static MDB_dbi grey_dbi;
static bool grey_failed;

static bool grey_open(void)
{
	const char *path = config_str("smtpd_greylist_database");
	int rc;

	if (grey_env)
		return true;
	if (grey_failed)
		return false;
	rc = lmdb_open_file(path, (size_t)64 << 20, &grey_env, &grey_dbi);
	if (rc != 0) {
		log_warn("greylisting off: cannot open %s: %s", path, mdb_strerror(rc));
		grey_env = NULL;
		grey_failed = true;
		return false;
	}
	return true;
}

/* The client's network: "192.0.2.0/24", "2001:db8::/64". */
void greylist_network(const char *addr, int v4bits, int v6bits, char *out, size_t outlen)
{
	unsigned char b[16];
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int bits = af == AF_INET ? v4bits : v6bits, nbytes = af == AF_INET ? 4 : 16;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(af, addr, b) != 1) {
		snprintf(out, outlen, "%s", addr);
		return;
	}
	if (bits < 0 || bits > nbytes * 8)
		bits = nbytes * 8;
	for (int i = 0; i < nbytes; i++) {
		int keep = bits - i * 8;

		if (keep <= 0)
			b[i] = 0;
		else if (keep < 8)
			b[i] &= (unsigned char)(0xff << (8 - keep));
	}
	inet_ntop(af, b, text, sizeof(text));
	snprintf(out, outlen, "%s/%d", text, bits);
}

static void grey_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool grey_get(MDB_txn *txn, const char *key, struct grey_rec *r)
{
	MDB_val k = {strlen(key), (void *)key}, v;

	if (mdb_get(txn, grey_dbi, &k, &v) != 0 || v.mv_size != sizeof(*r))
		return false;
	memcpy(r, v.mv_data, sizeof(*r));
	return true;
}

static int grey_put(MDB_txn *txn, const char *key, const struct grey_rec *r)
{
	MDB_val k = {strlen(key), (void *)key}, v = {sizeof(*r), (void *)r};

	return mdb_put(txn, grey_dbi, &k, &v, 0);
}

/* The decision inside one write transaction; *wait: seconds still to go. */
static enum greylist_result grey_decide(
    MDB_txn *txn, const char *ckey, const char *tkey, int64_t now, long *wait)
{
	long delay = config_time("smtpd_greylist_delay");
	long window = config_time("smtpd_greylist_retry_window");
	long ttl = config_time("smtpd_greylist_allowlist_ttl");
	long auto_n = config_int("smtpd_greylist_auto_allowlist");
	struct grey_rec c = {0}, t = {0};
	bool have_c = grey_get(txn, ckey, &c), have_t = grey_get(txn, tkey, &t);

	if (have_c && now - c.last > ttl)
		have_c = false, c = (struct grey_rec){0};
	if (auto_n > 0 && have_c && c.passes >= auto_n) {
		c.last = now;
		return grey_put(txn, ckey, &c) == 0 ? GREYLIST_PASS : GREYLIST_ERROR;
	}
	if (have_t && t.passes > 0 && now - t.last > ttl)
		have_t = false;
	if (have_t && t.passes == 0 && now - t.first > delay + window)
		have_t = false; /* retried too late: start again */
	if (!have_t) {
		t = (struct grey_rec){now, 0, 0};
		*wait = delay;
		return grey_put(txn, tkey, &t) == 0 ? GREYLIST_DEFER : GREYLIST_ERROR;
	}
	if (t.passes == 0 && now - t.first < delay) {
		*wait = delay - (long)(now - t.first);
		return GREYLIST_DEFER;
	}
	if (t.passes == 0) {
		c.passes++;
		c.first = c.first ? c.first : now;
	}
	t.passes = 1;
	t.last = c.last = now;
	if (grey_put(txn, tkey, &t) != 0 || grey_put(txn, ckey, &c) != 0)
		return GREYLIST_ERROR;
	return GREYLIST_PASS;
}

enum greylist_result greylist_check(
    const struct smtpd_session *s, const char *rcpt, struct buf *reply)
{
	char net[INET6_ADDRSTRLEN + 8];
	char *ckey, *tkey;
	MDB_txn *txn;
	enum greylist_result r = GREYLIST_PASS;
	long wait = 0;
	int rc;

	if (s->sasl_user || sock_addr_in_networks(s->addr, config_str("mynetworks")))
		return GREYLIST_PASS;
	if (!grey_open())
		return GREYLIST_PASS;
	greylist_network(s->addr, (int)config_int("smtpd_greylist_ipv4_prefix"),
	    (int)config_int("smtpd_greylist_ipv6_prefix"), net, sizeof(net));
	ckey = xasprintf("c\t%s", net);
	tkey = xasprintf("t\t%s\t%s\t%s", net, s->sender ? s->sender : "", rcpt ? rcpt : "");
	grey_lower(tkey);
	rc = mdb_txn_begin(grey_env, NULL, 0, &txn);
	if (rc == 0) {
		r = grey_decide(txn, ckey, tkey, (int64_t)time(NULL), &wait);
		rc = r == GREYLIST_ERROR ? -1 : mdb_txn_commit(txn);
		if (r == GREYLIST_ERROR)
			mdb_txn_abort(txn);
	}
	if (rc != 0) {
		log_warn("greylisting: %s: %s -- let through",
		    config_str("smtpd_greylist_database"),
		    rc > 0 ? mdb_strerror(rc) : "write failed");
		r = GREYLIST_PASS;
	}
	if (r == GREYLIST_DEFER) {
		buf_reset(reply);
		buf_printf(reply,
		    "450 4.7.1 <%s>: Recipient address rejected: Greylisted, try again in %ld "
		    "seconds",
		    rcpt ? rcpt : "", wait);
	}
	free(ckey);
	free(tkey);
	return r;
}
