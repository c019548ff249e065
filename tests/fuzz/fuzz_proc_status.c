/*
 * fuzz_proc_status.c - libFuzzer harness for the daemon -> master status
 * record decoder (lib/proc_status.c).
 *
 * Decodes records one after another, as master does with what it read
 * from a status pipe, until the decoder wants more or reports an error.
 * Every decoded record is encoded again and must decode to the same pid
 * and state, consuming exactly the new encoding; a decoded pid is always
 * positive and a consumed length never exceeds what was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "proc_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t left = size;

	for (int i = 0; i < 1000; i++) {
		struct buf again = BUF_INIT;
		pid_t pid, pid2;
		bool busy, busy2;
		size_t used = 0, used2 = 0;

		if (proc_status_decode(p, left, &pid, &busy, &used) != IPC_OK)
			break;
		if (pid <= 0 || used == 0 || used > left || used > PROC_STATUS_MAX)
			abort();
		proc_status_encode(&again, pid, busy);
		if (proc_status_decode(again.data, again.len, &pid2, &busy2, &used2) != IPC_OK ||
		    pid2 != pid || busy2 != busy || used2 != again.len)
			abort();
		buf_free(&again);
		p += used;
		left -= used;
	}
	return 0;
}
