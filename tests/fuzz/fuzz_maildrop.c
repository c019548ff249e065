/*
 * fuzz_maildrop.c - libFuzzer harness for the maildrop record checks
 * (lib/maildrop.c) that postdrop and pickup apply to hostile input: the
 * input is decoded record by record as pickup does, each record checked
 * with both origins, until the decoder wants more or reports an error.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "maildrop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	struct md_check file, client;
	size_t off = 0, used;

	ipc_msg_init(&m);
	md_check_init(&file, MD_FROM_FILE);
	md_check_init(&client, MD_FROM_CLIENT);
	while (off < size && ipc_parse((const char *)data + off, size - off, 1 << 16, &m, &used,
				 NULL) == IPC_OK) {
		(void)md_check(&file, &m);
		(void)md_check(&client, &m);
		off += used;
	}
	(void)md_complete(&file);
	ipc_msg_free(&m);
	return 0;
}
