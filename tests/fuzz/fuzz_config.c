/*
 * fuzz_config.c - libFuzzer harness for main.cf parsing and $name expansion.
 *
 * Feeds the input to config_load_text(), then expands every parameter in
 * the table, the input itself as a template, and the typed parsers on the
 * expanded values (config_int & co would exit on bad numbers by design, so
 * the pure parse functions are called instead).  config_reset() after each
 * input keeps runs independent and leak-free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_values(void)
{
	for (const struct param_def *d = param_table; d->name; d++) {
		const char *v = config_str(d->name);
		long secs;
		bool b;
		char **list;

		(void)config_parse_time(v, d->unit, &secs);
		(void)config_parse_bool(v, &b);
		(void)config_raw(d->name);
		list = config_list(d->name);
		strv_free(list);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct buf err = BUF_INIT;
	char *text;

	if (!quiet) {
		/* Warnings about the input are expected; keep them off stderr. */
		log_open("fuzz_config", LOG_DEST_FILE, "/dev/null");
		quiet = true;
	}
	if (config_load_text((const char *)data, size, "main.cf", &err) == 0) {
		fuzz_values();
		/* An override invalidates every cached expansion: do it again. */
		config_set("mail_name", "$myhostname$mydomain");
		fuzz_values();
	}
	text = xmemdup(data, size);
	free(config_expand(text));
	free(text);
	buf_free(&err);
	config_reset();
	return 0;
}
