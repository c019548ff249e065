/*
 * proc_status.c - the daemon -> master status record (proc_status.h).
 */
#include "proc_status.h"

#include <limits.h>
#include <string.h>

#include "proto.h"

void proc_status_encode(struct buf *out, pid_t pid, bool busy)
{
	ipc_put_int(out, A_PID, (long long)pid);
	ipc_put_str(out, A_STATE, busy ? STATE_BUSY : STATE_AVAIL);
	ipc_end(out);
}

enum ipc_result proc_status_decode(
    const char *data, size_t len, pid_t *pid, bool *busy, size_t *used)
{
	struct ipc_msg m;
	enum ipc_result r;
	const char *state;
	long long n;

	ipc_msg_init(&m);
	r = ipc_parse(data, len, PROC_STATUS_MAX, &m, used, NULL);
	if (r == IPC_OK) {
		state = ipc_get_str(&m, A_STATE);
		if (!ipc_get_int(&m, A_PID, &n) || n <= 0 || n > INT_MAX || state == NULL)
			r = IPC_ERROR;
		else if (strcmp(state, STATE_BUSY) == 0)
			*busy = true;
		else if (strcmp(state, STATE_AVAIL) == 0)
			*busy = false;
		else
			r = IPC_ERROR;
		if (r == IPC_OK)
			*pid = (pid_t)n;
	}
	ipc_msg_free(&m);
	return r;
}
