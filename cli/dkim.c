/*
 * dkim.c - "tern dkim": DKIM from the command line.
 *
 *   tern [-c DIR] dkim verify [-o name=value]... [FILE]
 *   tern [-c DIR] dkim keygen DOMAIN [--selector S] [--rsa|--ed25519] [--dir DIR]
 *   tern [-c DIR] dkim sign -d DOMAIN -s SELECTOR -k KEYFILE [FILE]
 *   tern [-c DIR] dkim check [DOMAIN [SELECTOR]] [--dir DIR]
 *
 * verify checks every DKIM-Signature of the message in FILE (standard
 * input without one) with the key records found through dns_servers, and
 * prints one line per signature:
 *
 *   dkim=pass d=example.com s=sel a=ed25519-sha256
 *   dkim=fail d=example.com s=sel a=rsa-sha256 l= (body hash does not match)
 *
 * ("l=" when the signature covers only part of the body), or "dkim=none"
 * when there is no signature.  A message with ARC fields gets one more
 * line, the chain's result (RFC 8617, arc.h):
 *
 *   arc=pass i=2 oldest-pass=0 d=example.net
 *   arc=fail i=1 (ARC-Seal i=1: signature does not verify)
 *
 * Exit status 0 when every signature passes (or there is none) and the
 * chain, if any, passes; 1 otherwise; EX_USAGE, EX_NOINPUT on bad use.
 *
 * keygen writes a new key (Ed25519 by default, or RSA-2048) as PEM to
 * DIR/DOMAIN.SELECTOR.key (DIR: the configuration directory's dkim/, where
 * cleanup finds it: root's with mail_owner's group, 0640; selector: the key
 * type), mode 0600 with --dir, never over an existing file, and
 * prints the TXT record to publish.  sign prints the message with a
 * DKIM-Signature on top (relaxed/relaxed, see dkim.h).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "config.h"
#include "dns.h"
#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "privs.h"
#include "tern.h"

static void dkim_key_share(const char *dir, int fd);
static int dkim_cmd_check(const char *confdir, int argc, char **argv);
#include "util.h"

static int dkim_usage(void)
{
	fprintf(stderr,
	    "usage: tern dkim verify [-o name=value]... [FILE]\n"
	    "       tern dkim keygen DOMAIN [--selector S] [--rsa|--ed25519] [--dir DIR]\n"
	    "       tern dkim sign -d DOMAIN -s SELECTOR -k KEYFILE [FILE]\n"
	    "       tern dkim check [DOMAIN [SELECTOR]] [--dir DIR]\n");
	return EX_USAGE;
}

static bool dkim_read(FILE *f, struct buf *out)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	return !ferror(f);
}

static int dkim_cmd_verify(const char *confdir, int argc, char **argv)
{
	struct buf msg = BUF_INIT, why = BUF_INIT, err = BUF_INIT;
	struct dkim_outcome *v;
	size_t n;
	int c, rc = 0;
	FILE *f = stdin;

	if (confdir)
		cli_load_config(confdir);
	else if (config_load(NULL, true, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		return EX_CONFIG;
	}
	buf_free(&err);
	optind = 0;
	while ((c = getopt(argc, argv, "o:")) != -1) {
		if (c != 'o' || config_override(optarg) < 0)
			return dkim_usage();
	}
	if (argc - optind > 1)
		return dkim_usage();
	if (argc - optind == 1 && (f = fopen(argv[optind], "rb")) == NULL) {
		fprintf(stderr, "tern dkim: %s: %s\n", argv[optind], strerror(errno));
		return EX_NOINPUT;
	}
	if (!dkim_read(f, &msg)) {
		fprintf(stderr, "tern dkim: read error\n");
		return EX_IOERR;
	}
	if (f != stdin)
		fclose(f);
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why))
		fprintf(stderr, "tern dkim: %s\n", buf_cstr(&why));
	buf_free(&why);
	dkim_verify_blocking(msg.data ? msg.data : "", msg.len, &v, &n);
	if (n == 0)
		printf("dkim=none\n");
	for (size_t i = 0; i < n; i++) {
		printf("dkim=%s", dkim_result_name(v[i].result));
		if (v[i].domain)
			printf(" d=%s s=%s a=%s%s", v[i].domain, v[i].selector, v[i].alg,
			    v[i].partial ? " l=" : "");
		if (v[i].problem)
			printf(" (%s)", v[i].problem);
		printf("\n");
		if (v[i].result != DKIM_PASS)
			rc = 1;
	}
	dkim_outcomes_free(v, n);
	struct arc_outcome arc;

	arc_verify(
	    msg.data ? msg.data : "", msg.len, (long long)time(NULL), dkim_dns_lookup, NULL, &arc);
	if (arc.result != ARC_NONE) {
		printf("arc=%s i=%d", arc_result_name(arc.result), arc.instance);
		if (arc.result == ARC_PASS)
			printf(" oldest-pass=%d d=%s", arc.oldest_pass,
			    arc.seal_domain ? arc.seal_domain : "?");
		if (arc.problem)
			printf(" (%s)", arc.problem);
		printf("\n");
		if (arc.result != ARC_PASS)
			rc = 1;
	}
	arc_outcome_free(&arc);
	buf_free(&msg);
	return rc;
}

static void dkim_load_config(const char *confdir)
{
	struct buf err = BUF_INIT;

	if (confdir)
		cli_load_config(confdir);
	else if (config_load(NULL, true, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		exit(EX_CONFIG);
	}
	buf_free(&err);
}

/* The TXT record as zone-file strings of at most 255 bytes, appended to out. */
static void dkim_format_record(
    const char *sel, const char *domain, const char *rec, struct buf *out)
{
	size_t len = strlen(rec);

	buf_printf(out, "%s._domainkey.%s. IN TXT (", sel, domain);
	for (size_t i = 0; i < len; i += 255)
		buf_printf(out, " \"%.*s\"", (int)(len - i < 255 ? len - i : 255), rec + i);
	buf_puts(out, " )");
}

static void dkim_print_record(const char *sel, const char *domain, const char *rec)
{
	struct buf out = BUF_INIT;

	dkim_format_record(sel, domain, rec, &out);
	printf("%s\n", buf_cstr(&out));
	buf_free(&out);
}

static int dkim_cmd_keygen(const char *confdir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"selector", required_argument, NULL, 's'},
	    {"rsa", no_argument, NULL, 'r'},
	    {"ed25519", no_argument, NULL, 'e'},
	    {"dir", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *sel = NULL, *dir = NULL;
	bool rsa = false;
	struct buf rec = BUF_INIT;
	char *path, *defdir = NULL;
	struct stat st;
	EVP_PKEY *key;
	FILE *f;
	int c, fd;

	optind = 0; /* glibc: start afresh (options may follow DOMAIN) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sel = optarg; break;
		case 'r': rsa = true; break;
		case 'e': rsa = false; break;
		case 'd': dir = optarg; break;
		default: return dkim_usage();
		}
	}
	if (argc - optind != 1 || strchr(argv[optind], '/') || (sel && strchr(sel, '/')))
		return dkim_usage();
	if (sel == NULL)
		sel = rsa ? "rsa" : "ed25519";
	if (dir == NULL) {
		dkim_load_config(confdir);
		dir = defdir = xasprintf("%s/dkim", config_dir());
		mkdir(dir, 0750);
	} else if (stat(dir, &st) < 0) {
		fprintf(stderr, "tern dkim: --dir %s: %s\n", dir, strerror(errno));
		return EX_CANTCREAT;
	} else if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tern dkim: --dir %s: not a directory\n", dir);
		return EX_CANTCREAT;
	}
	if ((key = dkim_key_generate(rsa, 2048)) == NULL) {
		fprintf(stderr, "tern dkim: key generation failed\n");
		free(defdir);
		return EX_SOFTWARE;
	}
	path = xasprintf("%s/%s.%s.key", dir, argv[optind], sel);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "tern dkim: %s: %s\n", path, strerror(errno));
		EVP_PKEY_free(key);
		free(path);
		free(defdir);
		return EX_CANTCREAT;
	}
	if (defdir)
		dkim_key_share(dir, fd);
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0) {
		fprintf(stderr, "tern dkim: %s: write failed\n", path);
		unlink(path);
		EVP_PKEY_free(key);
		free(path);
		free(defdir);
		return EX_IOERR;
	}
	fprintf(stderr, "tern dkim: wrote %s; publish this record:\n", path);
	dkim_key_record(key, &rec);
	dkim_print_record(sel, argv[optind], buf_cstr(&rec));
	buf_free(&rec);
	EVP_PKEY_free(key);
	free(path);
	free(defdir);
	return 0;
}

/*
 * A key in the configuration's dkim/ is for cleanup, which signs as
 * mail_owner: the folder and the file are root's with mail_owner's group,
 * 0750 and 0640 (as account_file.c does for the password file).  Keys
 * written elsewhere (--dir) stay 0600.
 */
static void dkim_key_share(const char *dir, int fd)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || !priv_lookup_user(config_str("mail_owner"), &uid, &gid))
		return;
	if (chown(dir, 0, gid) < 0 || fchown(fd, 0, gid) < 0 || fchmod(fd, 0640) < 0)
		fprintf(stderr, "tern dkim: cannot give %s to %s: %s\n", dir,
		    config_str("mail_owner"), strerror(errno));
}

/* Does the published record r carry the public half of key? */
static bool dkim_record_matches(const char *r, EVP_PKEY *key, struct buf *why)
{
	struct buf want = BUF_INIT;
	struct dkim_key pub = {0}, mine = {0};
	bool ok = false;

	dkim_key_record(key, &want);
	if (dkim_key_parse(r, strlen(r), &pub, why) < 0)
		;
	else if (dkim_key_parse(buf_cstr(&want), want.len, &mine, why) < 0)
		buf_puts(why, " (our key)");
	else if (pub.p.len == 0)
		buf_puts(why, "the published key is revoked (empty p=)");
	else if (pub.ed25519 != mine.ed25519)
		buf_puts(why, "the published key is of another type");
	else if (pub.p.len != mine.p.len || memcmp(pub.p.data, mine.p.data, pub.p.len) != 0)
		buf_puts(why, "the published key is not this key");
	else
		ok = true;
	dkim_key_free(&pub);
	dkim_key_free(&mine);
	buf_free(&want);
	return ok;
}

/*
 * One key against its published record SELECTOR._domainkey.DOMAIN: msg
 * gets one line ("NAME: what was found"), fix the record to publish when
 * it does not match.  0: it matches; 1: it does not (none, another key,
 * revoked); EX_TEMPFAIL: the look-up failed.  dns_init has been called.
 */
int dkim_check_key(const struct dkim_keyfile *k, struct buf *msg, struct buf *fix)
{
	struct buf why = BUF_INIT, rec = BUF_INIT;
	char *name = xasprintf("%s._domainkey.%s", k->selector, k->domain);
	unsigned char *ans = NULL;
	int len = 0, rc = 1;
	char **txt = NULL;
	size_t n = 0;
	enum dns_status st = dns_query(name, ns_t_txt, &ans, &len, &why);

	if (st == DNS_OK)
		st = dns_txt_from_answer(ans, len, &txt, &n);
	if (st == DNS_OK) {
		for (size_t i = 0; i < n && rc != 0; i++) {
			buf_reset(&why);
			if (dkim_record_matches(txt[i], k->pkey, &why))
				rc = 0;
		}
	} else if (st == DNS_RETRY || st == DNS_FAIL) {
		rc = EX_TEMPFAIL;
	}
	if (st == DNS_RETRY || st == DNS_FAIL)
		buf_printf(msg, "%s: look-up failed: %s", name, buf_cstr(&why));
	else if (st != DNS_OK || n == 0)
		buf_printf(msg, "%s: no record published", name);
	else if (rc == 0)
		buf_printf(msg, "%s: ok, the published record matches the key", name);
	else
		buf_printf(msg, "%s: %s", name, buf_cstr(&why));
	if (rc != 0) {
		dkim_key_record(k->pkey, &rec);
		dkim_format_record(k->selector, k->domain, buf_cstr(&rec), fix);
	}
	strv_free(txt);
	free(ans);
	free(name);
	buf_free(&why);
	buf_free(&rec);
	return rc;
}

/*
 * check [DOMAIN [SELECTOR]] [--dir DIR]: every key of the key directory
 * (dkim_key_directory; --dir: DIR), of DOMAIN's, or the one key, against
 * DNS.  0 when all match; else 1 (EX_TEMPFAIL when only look-ups failed);
 * EX_NOINPUT when there is no such key.
 */
static int dkim_cmd_check(const char *confdir, int argc, char **argv)
{
	const char *dir = NULL, *domain = NULL, *sel = NULL;
	struct dkim_keyfile *keys = NULL;
	struct buf why = BUF_INIT, msg = BUF_INIT, fix = BUF_INIT;
	size_t nk, checked = 0;
	char *kdir;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (argv[i][0] == '-' || strchr(argv[i], '/') || (domain && sel))
			return dkim_usage();
		else if (domain == NULL)
			domain = argv[i];
		else
			sel = argv[i];
	}
	dkim_load_config(confdir);
	kdir = dir ? xstrdup(dir) : dkim_key_dir();
	nk = dkim_keyfiles_load(kdir, &keys);
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why))
		fprintf(stderr, "tern dkim: %s\n", buf_cstr(&why));
	for (size_t i = 0; i < nk; i++) {
		int r;
		if ((domain && strcasecmp(keys[i].domain, domain) != 0) ||
		    (sel && strcmp(keys[i].selector, sel) != 0))
			continue;
		checked++;
		r = dkim_check_key(&keys[i], &msg, &fix);
		printf("%s\n", buf_cstr(&msg));
		if (r != 0)
			printf("publish:\n%s\n", buf_cstr(&fix));
		buf_reset(&msg);
		buf_reset(&fix);
		if (r == 1 || (r != 0 && rc == 0))
			rc = r;
	}
	if (checked == 0) {
		fprintf(stderr, "tern dkim: no key %s.%s.key in %s\n", domain ? domain : "*",
		    sel ? sel : "*", kdir);
		rc = EX_NOINPUT;
	}
	dkim_keyfiles_free(keys, nk);
	free(kdir);
	buf_free(&why);
	buf_free(&msg);
	buf_free(&fix);
	return rc;
}

static int dkim_cmd_sign(int argc, char **argv)
{
	const char *domain = NULL, *sel = NULL, *keyfile = NULL;
	struct buf msg = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	EVP_PKEY *key = NULL;
	FILE *f = stdin, *kf;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt(argc, argv, "d:s:k:")) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 's': sel = optarg; break;
		case 'k': keyfile = optarg; break;
		default: return dkim_usage();
		}
	}
	if (!domain || !sel || !keyfile || argc - optind > 1)
		return dkim_usage();
	if ((kf = fopen(keyfile, "r")) == NULL ||
	    (key = PEM_read_PrivateKey(kf, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "tern dkim: cannot read the key %s\n", keyfile);
		if (kf)
			fclose(kf);
		return EX_NOINPUT;
	}
	fclose(kf);
	if (argc - optind == 1 && (f = fopen(argv[optind], "rb")) == NULL) {
		fprintf(stderr, "tern dkim: %s: %s\n", argv[optind], strerror(errno));
		EVP_PKEY_free(key);
		return EX_NOINPUT;
	}
	if (!dkim_read(f, &msg))
		rc = EX_IOERR;
	if (f != stdin)
		fclose(f);
	if (rc == 0 && dkim_sign(msg.data ? msg.data : "", msg.len, domain, sel, key,
			   (long long)time(NULL), &out, &err) < 0) {
		fprintf(stderr, "tern dkim: %s\n", buf_cstr(&err));
		rc = EX_DATAERR;
	}
	if (rc == 0) {
		/* the message's own line ends */
		bool crlf = msg.len == 0 || memmem(msg.data, msg.len, "\r\n", 2) != NULL;
		for (size_t i = 0; i < out.len; i++)
			if (crlf || out.data[i] != '\r')
				putchar(out.data[i]);
		fwrite(msg.data, 1, msg.len, stdout);
	}
	EVP_PKEY_free(key);
	buf_free(&msg);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int cmd_dkim(const char *confdir, int argc, char **argv)
{
	if (argc < 2)
		return dkim_usage();
	if (strcmp(argv[1], "verify") == 0)
		return dkim_cmd_verify(confdir, argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return dkim_cmd_keygen(confdir, argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return dkim_cmd_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return dkim_cmd_check(confdir, argc - 1, argv + 1);
	return dkim_usage();
}
