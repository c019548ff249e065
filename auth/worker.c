/*
 * worker.c - the threads that hash passwords, so the event loop never
 * waits for crypt(3), PBKDF2 or PAM.
 *
 * Jobs go into one queue (mutex + condition variable) that auth_worker_count
 * threads take from; a finished job goes into a done list, and an eventfd
 * wakes the loop, which calls each job's done() in order of completion.
 * A job is the caller's memory from submit to done(); the threads touch
 * nothing else.  The queue is bounded: a flood of logins gets tempfail
 * answers instead of unbounded memory.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "util.h"

#define WORKER_MAX 64
#define WORKER_QUEUE_MAX 20000

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *head, *tail; /* waiting */
	struct job *done;	 /* finished, newest first */
	unsigned queued;
	int efd;
	int n;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .efd = -1};

struct worker_arg {
	int index;
};

static void *worker_main(void *arg)
{
	int index = ((struct worker_arg *)arg)->index;
	uint64_t one = 1;

	free(arg);
	for (;;) {
		struct job *job;

		pthread_mutex_lock(&pool.lock);
		while (pool.head == NULL)
			pthread_cond_wait(&pool.wake, &pool.lock);
		job = pool.head;
		pool.head = job->next;
		if (pool.head == NULL)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);

		job->run(job, index);

		pthread_mutex_lock(&pool.lock);
		job->next = pool.done;
		pool.done = job;
		pthread_mutex_unlock(&pool.lock);
		if (write(pool.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("worker: eventfd write: %s", strerror(errno));
	}
	return NULL;
}

/* The loop's side: finished jobs, oldest first. */
static void worker_harvest(struct event_loop *loop, int fd, int events, void *ctx)
{
	uint64_t n;
	struct job *list, *rev = NULL;

	(void)loop;
	(void)events;
	(void)ctx;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("worker: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&pool.lock);
	list = pool.done;
	pool.done = NULL;
	pthread_mutex_unlock(&pool.lock);
	while (list) {
		struct job *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct job *next = rev->next;

		pool.queued--;
		rev->done(rev);
		rev = next;
	}
}

void worker_init(struct event_loop *loop, int n)
{
	sigset_t all, old;

	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	if (n > WORKER_MAX)
		n = WORKER_MAX;
	pool.n = n;
	pool.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool.efd < 0)
		log_fatal("eventfd: %s", strerror(errno));
	event_fd_set(loop, pool.efd, EV_READ, worker_harvest, NULL);
	/* Signals belong to the loop's signalfd: threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < n; i++) {
		struct worker_arg *a = xmalloc(sizeof(*a));
		pthread_t t;
		int e;

		a->index = i;
		if ((e = pthread_create(&t, NULL, worker_main, a)) != 0)
			log_fatal("pthread_create: %s", strerror(e));
		pthread_detach(t);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int worker_count(void)
{
	return pool.n;
}

int worker_submit(struct job *job)
{
	if (pool.queued >= WORKER_QUEUE_MAX)
		return -1;
	pool.queued++;
	job->next = NULL;
	pthread_mutex_lock(&pool.lock);
	if (pool.tail)
		pool.tail->next = job;
	else
		pool.head = job;
	pool.tail = job;
	pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}
