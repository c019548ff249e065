/*
 * tls_server.c - a server's TLS with OpenSSL: one context per process, one SSL
 * object per session, non-blocking throughout.
 *
 * The context is built before privileges are dropped (see tls_server.h).  TLS 1.2
 * is the floor by default (smtpd_tls_protocols and the like, Postfix's syntax);
 * renegotiation is refused, since it lets a client make us spend CPU at
 * will and has a history of attacks; compression is off (CRIME).
 *
 * Writes use SSL_MODE_ENABLE_PARTIAL_WRITE and
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER because the session's output buffer
 * moves when it is consumed or grows between a failed write and its retry.
 */
#include "tls_server.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "util.h"

struct tls_conn {
	SSL *ssl;
};

static struct {
	const struct tls_server_params *p;
	SSL_CTX *ctx;
	enum tls_level level;
	bool wrapper;
	int acme_fd; /* tls-alpn-01's certificates, or -1 */
} tls_srv = {.acme_fd = -1};

static const struct {
	const char *name;
	int version;
} tls_versions[] = {
    {"SSLv3", SSL3_VERSION},
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
};

#define TLS_NVERSIONS (sizeof(tls_versions) / sizeof(tls_versions[0]))

static int tls_version_index(const char *name)
{
	if (str_case_eq(name, "SSLv2"))
		return -2; /* long gone from OpenSSL: excluding it is a no-op */
	for (size_t i = 0; i < TLS_NVERSIONS; i++)
		if (str_case_eq(name, tls_versions[i].name))
			return (int)i;
	return -1;
}

/* Applies one list element to the set of allowed versions. */
static int tls_protocols_word(const char *w, bool allowed[], bool *listed)
{
	int op = 0, i;

	if (w[0] == '!' || w[0] == '>' || w[0] == '<') {
		op = w[0];
		w += (w[0] != '!' && w[1] == '=') ? 2 : 1;
	}
	if ((i = tls_version_index(w)) == -1)
		return -1;
	if (i == -2)
		return 0;
	for (int j = 0; j < (int)TLS_NVERSIONS; j++) {
		if ((op == '!' && j == i) || (op == '>' && j < i) || (op == '<' && j > i))
			allowed[j] = false;
	}
	if (op == 0) {
		/* A plain list names exactly the versions allowed. */
		if (!*listed)
			for (size_t j = 0; j < TLS_NVERSIONS; j++)
				allowed[j] = false;
		*listed = true;
		allowed[i] = true;
	}
	return 0;
}

int tls_protocols_parse(const char *spec, int *min, int *max)
{
	bool allowed[TLS_NVERSIONS], listed = false;
	char **words = strv_split(spec, " \t,:");
	int lo = -1, hi = -1, r = 0;

	for (size_t i = 0; i < TLS_NVERSIONS; i++)
		allowed[i] = true;
	for (size_t i = 0; words[i] && r == 0; i++)
		r = tls_protocols_word(words[i], allowed, &listed);
	strv_free(words);
	if (r < 0)
		return -1;
	for (int i = 0; i < (int)TLS_NVERSIONS; i++) {
		if (allowed[i] && lo < 0)
			lo = i;
		if (allowed[i])
			hi = i;
	}
	if (lo < 0)
		return -1; /* nothing left to speak */
	*min = tls_versions[lo].version;
	*max = hi == (int)TLS_NVERSIONS - 1 ? 0 : tls_versions[hi].version;
	return 0;
}

static void tls_errors(struct buf *out)
{
	unsigned long e;
	char text[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, text, sizeof(text));
		buf_printf(out, "%s%s", out->len ? "; " : "", text);
	}
}

/* Accepts any client certificate: it is asked for only to log who it is. */
static int tls_accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

static SSL_CTX *tls_ctx_build(bool mandatory, struct buf *err)
{
	const struct tls_server_params *p = tls_srv.p;
	const char *cert = config_str(p->cert_file);
	const char *key = config_str(p->key_file);
	const char *pname = mandatory ? p->mandatory_protocols : p->protocols;
	SSL_CTX *ctx;
	int min, max;

	if (*cert == 0 || *key == 0) {
		buf_printf(err, "%s or %s is not set", p->cert_file, p->key_file);
		return NULL;
	}
	if (tls_protocols_parse(config_str(pname), &min, &max) < 0) {
		buf_printf(err, "bad %s: %s", pname, config_str(pname));
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_errors(err);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_max_proto_version(ctx, max);
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* RELEASE_BUFFERS: an idle TLS session gives back its record buffers
	 * (some 34 KiB), which thousands of idle clients would otherwise pin. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (p->ask_ccert && config_bool(p->ask_ccert))
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, tls_accept_any);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		buf_printf(err, "cannot load certificate %s and key %s: ", cert, key);
		tls_errors(err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A server's level: tls_client.h's words, but verify and secure mean nothing here. */
static enum tls_level tls_server_level_parse(const char *name)
{
	const char *v = config_str(name);
	enum tls_level level;

	if (*v == 0)
		return TLS_LEVEL_NONE;
	if (!tls_level_parse(v, &level) || level > TLS_LEVEL_ENCRYPT)
		log_fatal("bad %s: %s (none, may or encrypt)", name, v);
	return level;
}

void tls_server_init(const struct tls_server_params *p)
{
	struct buf err = BUF_INIT;
	bool required;

	tls_srv.p = p;
	tls_srv.level = tls_server_level_parse(p->security_level);
	tls_srv.wrapper = p->wrappermode && config_bool(p->wrappermode);
	required = tls_srv.wrapper || tls_srv.level == TLS_LEVEL_ENCRYPT;
	if (tls_srv.level == TLS_LEVEL_NONE && !tls_srv.wrapper)
		return;
	tls_srv.ctx = tls_ctx_build(required, &err);
	if (tls_srv.ctx == NULL) {
		if (required)
			log_fatal("TLS is required but cannot be set up: %s", buf_cstr(&err));
		log_warn("TLS disabled: %s", buf_cstr(&err));
		tls_srv.level = TLS_LEVEL_NONE;
	}
	if (tls_srv.wrapper && tls_srv.level == TLS_LEVEL_NONE)
		tls_srv.level = TLS_LEVEL_ENCRYPT;
	buf_free(&err);
}

enum tls_level tls_server_level(void)
{
	return tls_srv.ctx ? tls_srv.level : TLS_LEVEL_NONE;
}

bool tls_server_wrappermode(void)
{
	return tls_srv.wrapper && tls_srv.ctx != NULL;
}

struct tls_conn *tls_conn_new(int fd)
{
	struct tls_conn *t;
	SSL *ssl;

	if (tls_srv.ctx == NULL || (ssl = SSL_new(tls_srv.ctx)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	t = xcalloc(1, sizeof(*t));
	t->ssl = ssl;
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	/* No close_notify exchange: a quiet shutdown cannot block or stall. */
	SSL_set_quiet_shutdown(t->ssl, 1);
	SSL_free(t->ssl);
	free(t);
}

/* Maps an SSL error to the event to wait for; false for a real failure. */
static bool tls_want(SSL *ssl, int ret, int *want)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ: *want = EV_READ; return true;
	case SSL_ERROR_WANT_WRITE: *want = EV_WRITE; return true;
	default: return false;
	}
}

int tls_conn_handshake(struct tls_conn *t, int *want, struct buf *err)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(t->ssl)) == 1)
		return 1;
	if (tls_want(t->ssl, r, want))
		return 0;
	tls_errors(err);
	if (err->len == 0)
		buf_puts(err, r == 0 ? "lost connection" : strerror(errno));
	return -1;
}

ssize_t tls_conn_read(struct tls_conn *t, void *p, size_t n, int *want)
{
	size_t got = 0;
	int r;

	ERR_clear_error();
	if ((r = SSL_read_ex(t->ssl, p, n, &got)) == 1)
		return (ssize_t)got;
	if (tls_want(t->ssl, r, want)) {
		errno = EAGAIN;
		return -1;
	}
	if (SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = EIO;
	return -1;
}

ssize_t tls_conn_write(struct tls_conn *t, const void *p, size_t n, int *want)
{
	size_t done = 0;
	int r;

	ERR_clear_error();
	if ((r = SSL_write_ex(t->ssl, p, n, &done)) == 1)
		return (ssize_t)done;
	if (tls_want(t->ssl, r, want)) {
		errno = EAGAIN;
		return -1;
	}
	errno = EPIPE;
	return -1;
}

bool tls_conn_pending(const struct tls_conn *t)
{
	return SSL_pending(t->ssl) > 0;
}

static void tls_fingerprint(SSL *ssl, char *out, size_t size)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t o = 0;

	out[0] = 0;
	if (peer == NULL)
		return;
	if (X509_digest(peer, EVP_sha256(), md, &len) == 1)
		for (unsigned int i = 0; i < len && o + 4 < size; i++)
			o += (size_t)snprintf(out + o, size - o, "%s%02X", i ? ":" : "", md[i]);
	X509_free(peer);
}

void tls_conn_info(const struct tls_conn *t, struct tls_info *info)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);

	memset(info, 0, sizeof(*info));
	info->protocol = SSL_get_version(t->ssl);
	info->cipher = c ? SSL_CIPHER_get_name(c) : "unknown";
	info->bits = c ? SSL_CIPHER_get_bits(c, &info->alg_bits) : 0;
	tls_fingerprint(t->ssl, info->fingerprint, sizeof(info->fingerprint));
}

/* ------------------------------------------------------- tls-alpn-01 */

#define ACME_ALPN "\012acme-tls/1" /* length-prefixed, as on the wire */
#define ACME_ALPN_LEN 11

/* Does the ClientHello's ALPN list name acme-tls/1? */
static bool alpn_offers_acme(const unsigned char *p, size_t n)
{
	size_t len;

	if (n < 2 || (size_t)((p[0] << 8) | p[1]) != n - 2)
		return false;
	for (p += 2, n -= 2; n > 0; p += len + 1, n -= len + 1) {
		len = p[0];
		if (len + 1 > n)
			return false;
		if (len + 1 == ACME_ALPN_LEN && memcmp(p, ACME_ALPN, ACME_ALPN_LEN) == 0)
			return true;
	}
	return false;
}

/* The SNI host name of the ClientHello into name (lower case). */
static bool hello_sni(SSL *ssl, char *name, size_t size)
{
	const unsigned char *p;
	size_t n, len;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) || n < 5 ||
	    p[2] != TLSEXT_NAMETYPE_host_name)
		return false;
	len = (size_t)((p[3] << 8) | p[4]);
	if (len == 0 || len + 5 > n || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = (char)p[5 + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.'))
			return false;
		name[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	name[len] = 0;
	return name[0] != '.' && strstr(name, "..") == NULL;
}

/* Loads alpn-NAME.pem below the folder into the session. */
static bool acme_alpn_use(SSL *ssl, const char *name)
{
	char file[300];
	int fd;
	FILE *f;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	bool ok;

	snprintf(file, sizeof(file), "alpn-%s.pem", name);
	if ((fd = openat(tls_srv.acme_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return false;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ok = x && k && SSL_use_cert_and_key(ssl, x, k, NULL, 1) == 1;
	X509_free(x);
	EVP_PKEY_free(k);
	return ok;
}

static int acme_hello_cb(SSL *ssl, int *alert, void *arg)
{
	const unsigned char *p;
	size_t n;
	char name[256];

	(void)arg;
	if (!SSL_client_hello_get0_ext(
		ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &n) ||
	    !alpn_offers_acme(p, n))
		return SSL_CLIENT_HELLO_SUCCESS;
	if (hello_sni(ssl, name, sizeof(name)) && acme_alpn_use(ssl, name)) {
		log_info("acme: tls-alpn-01 challenge for %s answered", name);
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return SSL_CLIENT_HELLO_ERROR;
}

static int acme_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int i = 0; i < inlen; i += in[i] + 1u) {
		if (i + in[i] + 1u > inlen)
			break;
		if (in[i] + 1u == ACME_ALPN_LEN && memcmp(in + i, ACME_ALPN, ACME_ALPN_LEN) == 0) {
			*out = in + i + 1;
			*outlen = in[i];
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_NOACK; /* no ALPN: HTTP as before */
}

void tls_server_acme_alpn(int dir_fd)
{
	if (tls_srv.ctx == NULL || dir_fd < 0)
		return;
	tls_srv.acme_fd = dir_fd;
	SSL_CTX_set_client_hello_cb(tls_srv.ctx, acme_hello_cb, NULL);
	SSL_CTX_set_alpn_select_cb(tls_srv.ctx, acme_alpn_select, NULL);
}

bool tls_conn_acme_alpn(const struct tls_conn *t)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;

	SSL_get0_alpn_selected(t->ssl, &p, &n);
	return n + 1 == ACME_ALPN_LEN && memcmp(p, &ACME_ALPN[1], n) == 0;
}
