/*
 * penalty.c - failed logins counted per client address and per account,
 * shared by every protocol (all of them ask auth), kept in an LMDB file
 * so they survive an auth restart.
 *
 * A failure adds one to the client address's counter and to the
 * account's (the name tried, folded to lower case, known or not), unless
 * the address is in auth_failure_exceptions.  A counter whose last
 * failure is older than auth_failure_window starts again from zero.  The
 * failure's reply is delayed by auth_failure_delay * 2^(n-1), at most
 * auth_failure_delay_max, where n is the larger of the two counts; a
 * right password is never delayed, so an attack on one account does not
 * slow its owner down.  From auth_failure_limit failures on, the address
 * is refused outright (no password is checked) until its window ends; an
 * account is never refused, only its failures are delayed, so nobody
 * can lock a user out by guessing wrong.  A success clears the address's
 * and the account's counters.
 *
 * IPv6 clients are counted per /64, the smallest network a client
 * usually controls; IPv4 per address.
 *
 * The database is $data_directory/auth_penalty.lmdb, written without
 * fsync (MDB_NOSYNC): a process crash loses nothing, a machine crash may
 * lose the last counts, which is harmless.  Entries past their window are
 * removed every few minutes; a full map is emptied and started again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "sock.h"
#include "util.h"

#define PENALTY_MAP_SIZE (64UL << 20)
#define PENALTY_SWEEP_MS (300 * 1000)
#define PENALTY_KEY_MAX 300

struct pcount {
	uint32_t count;
	int64_t last; /* Unix time of the last failure */
};

static struct {
	MDB_env *env;
	MDB_dbi dbi;
	long window;
	long limit;
	long delay_ms, delay_max_ms;
	char *exceptions;
} pen;

/* "a:" + address (IPv6 as its /64), or "u:" + lower-case account. */
static void penalty_key(char kind, const char *s, char out[PENALTY_KEY_MAX])
{
	struct in6_addr a6;

	if (kind == 'a' && strchr(s, ':') && inet_pton(AF_INET6, s, &a6) == 1) {
		char text[INET6_ADDRSTRLEN];

		memset(a6.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a6, text, sizeof(text));
		snprintf(out, PENALTY_KEY_MAX, "a:%s/64", text);
		return;
	}
	snprintf(out, PENALTY_KEY_MAX, "%c:%s", kind, s);
	if (kind == 'u')
		str_lower(out + 2);
}

static bool penalty_get(MDB_txn *txn, const char *key, struct pcount *pc)
{
	MDB_val k = {strlen(key), (void *)key}, v;

	memset(pc, 0, sizeof(*pc));
	if (mdb_get(txn, pen.dbi, &k, &v) != 0 || v.mv_size != sizeof(*pc))
		return false;
	memcpy(pc, v.mv_data, sizeof(*pc));
	if (time(NULL) - pc->last > pen.window)
		memset(pc, 0, sizeof(*pc));
	return true;
}

static void penalty_sweep_all(bool everything);

/* Runs fn in a write transaction; on a full map, empties it and retries. */
static void penalty_write(const char *key, const struct pcount *pc)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		MDB_txn *txn;
		MDB_val k = {strlen(key), (void *)key}, v = {sizeof(*pc), (void *)pc};
		int e = mdb_txn_begin(pen.env, NULL, 0, &txn);

		if (e == 0) {
			e = pc ? mdb_put(txn, pen.dbi, &k, &v, 0) : mdb_del(txn, pen.dbi, &k, NULL);
			if (e == MDB_NOTFOUND)
				e = 0;
			if (e == 0)
				e = mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		}
		if (e == 0)
			return;
		if (e != MDB_MAP_FULL || attempt > 0) {
			log_warn("penalty database: %s", mdb_strerror(e));
			return;
		}
		log_warn("penalty database full: starting it afresh");
		penalty_sweep_all(true);
	}
}

static struct pcount penalty_read(const char *key)
{
	MDB_txn *txn;
	struct pcount pc;

	memset(&pc, 0, sizeof(pc));
	if (mdb_txn_begin(pen.env, NULL, MDB_RDONLY, &txn) == 0) {
		penalty_get(txn, key, &pc);
		mdb_txn_abort(txn);
	}
	return pc;
}

bool penalty_exempt(const char *addr)
{
	return addr && *pen.exceptions && sock_addr_in_networks(addr, pen.exceptions);
}

unsigned penalty_refused(const char *addr)
{
	char key[PENALTY_KEY_MAX];
	struct pcount pc;

	if (addr == NULL || *addr == 0 || penalty_exempt(addr) || pen.limit <= 0)
		return 0;
	penalty_key('a', addr, key);
	pc = penalty_read(key);
	return pc.count >= (uint32_t)pen.limit ? pc.count : 0;
}

static uint32_t penalty_bump(char kind, const char *s)
{
	char key[PENALTY_KEY_MAX];
	struct pcount pc;

	penalty_key(kind, s, key);
	pc = penalty_read(key);
	pc.count++;
	pc.last = (int64_t)time(NULL);
	penalty_write(key, &pc);
	return pc.count;
}

long penalty_failure(const char *addr, const char *account, unsigned *failures)
{
	uint32_t n = 0, na = 0;
	long delay;

	*failures = 0;
	if (penalty_exempt(addr))
		return 0;
	if (addr && *addr)
		n = na = penalty_bump('a', addr);
	if (account && *account) {
		uint32_t nu = penalty_bump('u', account);

		if (nu > n)
			n = nu;
	}
	*failures = na ? na : n;
	if (n == 0)
		return 0;
	delay = pen.delay_ms;
	for (uint32_t i = 1; i < n && delay < pen.delay_max_ms; i++)
		delay *= 2;
	return delay < pen.delay_max_ms ? delay : pen.delay_max_ms;
}

void penalty_success(const char *addr, const char *account)
{
	char key[PENALTY_KEY_MAX];

	if (addr && *addr && !penalty_exempt(addr)) {
		penalty_key('a', addr, key);
		if (penalty_read(key).count)
			penalty_write(key, NULL);
	}
	if (account && *account) {
		penalty_key('u', account, key);
		if (penalty_read(key).count)
			penalty_write(key, NULL);
	}
}

/* Removes entries whose window is over (or all of them). */
static void penalty_sweep_all(bool everything)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	time_t now = time(NULL);
	int e;

	if (mdb_txn_begin(pen.env, NULL, 0, &txn) != 0)
		return;
	if (everything) {
		e = mdb_drop(txn, pen.dbi, 0);
	} else if ((e = mdb_cursor_open(txn, pen.dbi, &cur)) == 0) {
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			struct pcount pc;

			if (v.mv_size != sizeof(pc))
				continue;
			memcpy(&pc, v.mv_data, sizeof(pc));
			if (now - pc.last > pen.window)
				mdb_cursor_del(cur, 0);
		}
		mdb_cursor_close(cur);
	}
	if (e == 0)
		mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
}

static void penalty_sweep(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	penalty_sweep_all(false);
	event_timer_add(loop, PENALTY_SWEEP_MS, penalty_sweep, NULL);
}

void penalty_close(void)
{
	if (pen.env)
		mdb_env_close(pen.env);
	pen.env = NULL;
	free(pen.exceptions);
	pen.exceptions = NULL;
}

void penalty_init(const char *path)
{
	MDB_txn *txn;
	int e;

	pen.window = config_time("auth_failure_window");
	pen.limit = config_int("auth_failure_limit");
	pen.delay_ms = config_time("auth_failure_delay") * 1000;
	pen.delay_max_ms = config_time("auth_failure_delay_max") * 1000;
	pen.exceptions = xstrdup(config_str("auth_failure_exceptions"));
	if (pen.window <= 0)
		pen.window = 1;
	if ((e = mdb_env_create(&pen.env)) != 0 ||
	    (e = mdb_env_set_mapsize(pen.env, PENALTY_MAP_SIZE)) != 0 ||
	    (e = mdb_env_open(pen.env, path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS, 0600)) != 0)
		log_fatal("penalty database %s: %s", path, mdb_strerror(e));
	if ((e = mdb_txn_begin(pen.env, NULL, 0, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &pen.dbi)) != 0 || (e = mdb_txn_commit(txn)) != 0)
		log_fatal("penalty database %s: %s", path, mdb_strerror(e));
	penalty_sweep_all(false);
	event_timer_add(server_loop(), PENALTY_SWEEP_MS, penalty_sweep, NULL);
}
