/* fuzz_smtpd_data.c - the DATA decoder: no crash, and split-invariance.
 * FUZZ_LINK: smtpd/data.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../smtpd/data.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct data_decoder a, b;
	struct buf oa = BUF_INIT, ob = BUF_INIT;
	size_t ua, ub = 0;

	data_decoder_init(&a);
	data_decoder_init(&b);
	ua = data_decode(&a, (const char *)data, size, &oa);
	for (size_t i = 0; i < size && !data_decoder_done(&b); i++)
		ub += data_decode(&b, (const char *)data + i, 1, &ob);
	if (ua != ub || oa.len != ob.len || (oa.len && memcmp(oa.data, ob.data, oa.len)) ||
	    oa.len > ua || data_decoder_done(&a) != data_decoder_done(&b))
		abort();
	buf_free(&oa);
	buf_free(&ob);
	return 0;
}
