/*
 * token.c - one-time login tokens.
 *
 * A login process (imap-login, pop3-login, http as "ternlogin") learns
 * that a password was right, but must not be able to tell the root
 * dispatcher "run a session as user X" on its own word: it could be
 * compromised.  So a success on the login socket carries a token instead:
 * 18 random bytes (144 bits, base64url, 24 characters), valid once, for
 * auth_token_ttl, for the user, service and client address of that
 * login.  The dispatcher redeems it on the trusted socket and gets the
 * account from auth itself.  A token that is redeemed with another
 * service or address is spent all the same (a second try would be an
 * attack).  Tokens live in memory only: an auth restart invalidates the
 * few that were in flight, and those logins fail with a temporary error.
 *
 * Tokens expire in the order they were issued (one TTL for all), so a
 * FIFO list finds the expired ones; a tree finds a token by its text.
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define TOKEN_BYTES 18
#define TOKEN_LEN 24 /* base64url of TOKEN_BYTES */
#define TOKEN_MAX 100000
#define TOKEN_SWEEP_MS 5000

struct tok {
	char text[TOKEN_LEN + 1];
	char *user, *service, *addr;
	long long expires;
	bool spent;
	struct tok *next; /* FIFO, oldest first */
};

static struct {
	struct event_loop *loop;
	void *root;
	struct tok *head, *tail;
	size_t n;
	long ttl_ms;
} tokens;

static int tok_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tok *)a)->text, ((const struct tok *)b)->text);
}

static void tok_free(struct tok *t)
{
	free(t->user);
	free(t->service);
	free(t->addr);
	free(t);
}

/* Drops spent and expired tokens from the front of the FIFO. */
static void token_expire(void)
{
	long long now = mono_msec();

	while (tokens.head && (tokens.head->spent || tokens.head->expires <= now)) {
		struct tok *t = tokens.head;

		tokens.head = t->next;
		if (tokens.head == NULL)
			tokens.tail = NULL;
		if (!t->spent)
			tdelete(t, &tokens.root, tok_cmp);
		tokens.n--;
		tok_free(t);
	}
}

static void token_sweep(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	token_expire();
	event_timer_add(loop, TOKEN_SWEEP_MS, token_sweep, NULL);
}

void token_init(struct event_loop *loop)
{
	tokens.loop = loop;
	tokens.ttl_ms = config_time("auth_token_ttl") * 1000;
	if (tokens.ttl_ms <= 0)
		tokens.ttl_ms = 1000;
	event_timer_add(loop, TOKEN_SWEEP_MS, token_sweep, NULL);
}

static void token_text(char out[TOKEN_LEN + 1])
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[TOKEN_BYTES];

	if (RAND_bytes(r, sizeof(r)) != 1)
		log_fatal("cannot draw random bytes for a token");
	for (int i = 0, o = 0; i < TOKEN_BYTES; i += 3) {
		unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 | r[i + 2];

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	out[TOKEN_LEN] = 0;
	explicit_bzero(r, sizeof(r));
}

const char *token_issue(const char *user, const char *service, const char *addr)
{
	struct tok *t;

	token_expire();
	if (tokens.n >= TOKEN_MAX) {
		log_warn("%d login tokens outstanding: not issuing more", TOKEN_MAX);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	token_text(t->text);
	t->user = xstrdup(user);
	t->service = xstrdup(service);
	t->addr = xstrdup(addr ? addr : "");
	t->expires = mono_msec() + tokens.ttl_ms;
	if (tsearch(t, &tokens.root, tok_cmp) == NULL)
		log_fatal("out of memory");
	if (tokens.tail)
		tokens.tail->next = t;
	else
		tokens.head = t;
	tokens.tail = t;
	tokens.n++;
	return t->text;
}

char *token_redeem(const char *token, const char *service, const char *addr)
{
	struct tok probe, **found, *t;
	bool ok;

	token_expire();
	if (strlen(token) != TOKEN_LEN)
		return NULL;
	memcpy(probe.text, token, TOKEN_LEN + 1);
	found = tfind(&probe, &tokens.root, tok_cmp);
	if (found == NULL)
		return NULL;
	t = *found;
	tdelete(t, &tokens.root, tok_cmp);
	t->spent = true; /* freed by token_expire() from the FIFO */
	ok = t->expires > mono_msec() && strcasecmp(t->service, service) == 0 &&
	     strcmp(t->addr, addr ? addr : "") == 0;
	if (!ok)
		log_warn(
		    "token for %s redeemed for service %s from %s, issued for %s from %s: refused",
		    t->user, service, addr ? addr : "?", t->service, t->addr);
	return ok ? xstrdup(t->user) : NULL;
}
