/*
 * fuzz_dmarc_report.c - libFuzzer harness for lib/msgauth/dmarc_report.c:
 * the input, up to its first NUL or newline, is a line of the DMARC
 * evaluation log (cleanup writes it, but from the network's values).  A
 * parsed row written again must parse again to the same line, and its
 * XML report must be made without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dmarc_report.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = xmemdup(data, size);
	struct dmarc_report_row r;

	line[strcspn(line, "\n")] = 0;
	if (dmarc_report_parse(line, &r)) {
		struct buf once = BUF_INIT, twice = BUF_INIT, xml = BUF_INIT;
		struct dmarc_report_meta m = {
		    .org_name = "o", .email = "e", .report_id = "i", .begin = 0, .end = 1};
		struct dmarc_report_row again;
		char *copy;

		dmarc_report_line(&r, &once);
		copy = xstrndup(once.data, once.len - 1);
		if (!dmarc_report_parse(copy, &again))
			abort();
		dmarc_report_line(&again, &twice);
		if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
			abort();
		dmarc_report_xml(&m, &r, 1, &xml);
		free(copy);
		buf_free(&once);
		buf_free(&twice);
		buf_free(&xml);
	}
	free(line);
	return 0;
}
