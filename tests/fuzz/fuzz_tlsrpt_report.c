/*
 * fuzz_tlsrpt_report.c - libFuzzer harness for lib/tlsrpt_report.c: the
 * input, up to its first NUL or newline, is a line of the TLS-RPT session
 * log (smtp writes it, but from the network's values: host names, policy
 * text, OpenSSL's reasons).  A parsed row written again must parse again
 * to the same line, hold no NUL-less surprise (one line, known words),
 * and its JSON report must be made without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsrpt_report.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = xmemdup(data, size);
	struct tlsrpt_row r;

	line[strcspn(line, "\n")] = 0;
	if (tlsrpt_report_parse(line, &r)) {
		struct buf once = BUF_INIT, twice = BUF_INIT, json = BUF_INIT;
		struct tlsrpt_report_meta m = {
		    .org_name = "o", .contact_info = "c", .report_id = "i", .begin = 0, .end = 1};
		struct tlsrpt_row again;
		char *copy;

		if (!tlsrpt_result_valid(r.result) || *r.policy_domain == 0)
			abort();
		tlsrpt_report_line(&r, &once);
		if (memchr(once.data, '\n', once.len - 1) != NULL)
			abort();
		copy = xstrndup(once.data, once.len - 1);
		if (!tlsrpt_report_parse(copy, &again))
			abort();
		tlsrpt_report_line(&again, &twice);
		if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
			abort();
		tlsrpt_report_json(&m, &r, 1, &json);
		free(copy);
		buf_free(&once);
		buf_free(&twice);
		buf_free(&json);
	}
	free(line);
	return 0;
}
