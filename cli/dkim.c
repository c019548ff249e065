/*
 * dkim.c - "tern dkim": DKIM from the command line.
 *
 *   tern [-c DIR] dkim verify [-o name=value]... [FILE]
 *
 * verify checks every DKIM-Signature of the message in FILE (standard
 * input without one) with the key records found through dns_servers, and
 * prints one line per signature:
 *
 *   dkim=pass d=example.com s=sel a=ed25519-sha256
 *   dkim=fail d=example.com s=sel a=rsa-sha256 l= (body hash does not match)
 *
 * ("l=" when the signature covers only part of the body), or "dkim=none"
 * when there is no signature.  Exit status 0 when every signature passes
 * (or there is none), 1 otherwise; EX_USAGE, EX_NOINPUT on bad use.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "dns.h"
#include "msgauth/dkim.h"
#include "tern.h"
#include "util.h"

static int dkim_usage(void)
{
	fprintf(stderr, "usage: tern dkim verify [-o name=value]... [FILE]\n");
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
	buf_free(&msg);
	return rc;
}

int cmd_dkim(const char *confdir, int argc, char **argv)
{
	if (argc < 2)
		return dkim_usage();
	if (strcmp(argv[1], "verify") == 0)
		return dkim_cmd_verify(confdir, argc - 1, argv + 1);
	return dkim_usage();
}
