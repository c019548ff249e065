/*
 * spf.c - "tern spf": an SPF check from the command line.
 *
 *   tern [-c DIR] spf [--async] [-o name=value]... [--receiver NAME]
 *                     [--default-exp TEXT] IP SENDER HELO
 *
 * Evaluates RFC 7208 check_host() for the client address IP, the MAIL
 * FROM address SENDER ("" checks the HELO identity) and the HELO name,
 * with the resolver of main.cf (dns_servers), and prints the result, the
 * term that decided, the explanation of a fail, the reason of an error,
 * and the Received-SPF header smtpd would add.  --async runs the check in
 * an event loop as smtpd does (the same evaluator either way).  Without
 * -c and without /etc/tern/main.cf, the built-in defaults are used.
 * Exit status 0 whatever the result; EX_USAGE/EX_CONFIG on bad use.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "dns.h"
#include "event.h"
#include "log.h"
#include "msgauth/spf.h"
#include "tern.h"
#include "util.h"

static int spf_usage(void)
{
	fprintf(stderr, "usage: tern spf [--async] [-o name=value]... [--receiver NAME] "
			"[--default-exp TEXT] IP SENDER HELO\n");
	return EX_USAGE;
}

static void spf_print(const struct spf_query *q, const struct spf_outcome *o)
{
	struct buf hdr = BUF_INIT;

	printf("result: %s\n", spf_result_name(o->result));
	if (o->domain)
		printf("domain: %s\n", o->domain);
	if (o->mechanism)
		printf("mechanism: %s\n", o->mechanism);
	if (o->explanation)
		printf("explanation: %s\n", o->explanation);
	if (o->problem)
		printf("problem: %s\n", o->problem);
	spf_received_value(q, o, q->receiver ? q->receiver : config_str("myhostname"), &hdr);
	printf("Received-SPF: %s\n", buf_cstr(&hdr));
	buf_free(&hdr);
}

struct spf_cli_wait {
	struct event_loop *loop;
	const struct spf_query *q;
	bool done;
};

static void spf_cli_done(void *ctx, const struct spf_outcome *o)
{
	struct spf_cli_wait *w = ctx;

	spf_print(w->q, o);
	w->done = true;
	event_loop_stop(w->loop);
}

static void spf_run_async(const struct spf_query *q)
{
	struct spf_cli_wait w = {.loop = event_loop_new(), .q = q};

	dns_event_attach(w.loop);
	spf_check_start(w.loop, q, spf_cli_done, &w);
	while (!w.done)
		event_loop_once(w.loop, 1000);
	dns_reset();
	event_loop_free(w.loop);
}

static void spf_load_config(const char *confdir)
{
	struct buf err = BUF_INIT;

	if (confdir != NULL) {
		cli_load_config(confdir);
	} else if (config_load(NULL, true, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		exit(EX_CONFIG);
	}
	buf_free(&err);
}

int cmd_spf(const char *confdir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"async", no_argument, NULL, 'a'},
	    {"receiver", required_argument, NULL, 'r'},
	    {"default-exp", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	struct spf_query q = {0};
	struct spf_outcome o;
	struct buf why = BUF_INIT;
	char **overrides = NULL;
	size_t nover = 0;
	bool async = false;
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'a': async = true; break;
		case 'r': q.receiver = optarg; break;
		case 'e': q.default_exp = optarg; break;
		case 'o':
			overrides = xreallocarray(overrides, nover + 1, sizeof(*overrides));
			overrides[nover++] = optarg;
			break;
		default: free(overrides); return spf_usage();
		}
	}
	if (argc - optind != 3) {
		free(overrides);
		return spf_usage();
	}
	spf_load_config(confdir);
	for (size_t i = 0; i < nover; i++)
		if (config_override(overrides[i]) < 0) {
			fprintf(stderr, "tern spf: bad -o %s\n", overrides[i]);
			free(overrides);
			return EX_USAGE;
		}
	free(overrides);
	q.ip = argv[optind];
	q.sender = argv[optind + 1];
	q.helo = argv[optind + 2];
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why))
		fprintf(stderr, "tern spf: %s\n", buf_cstr(&why));
	buf_free(&why);
	if (async) {
		spf_run_async(&q);
	} else {
		spf_check_blocking(&q, &o);
		spf_print(&q, &o);
		spf_outcome_free(&o);
	}
	return 0;
}
