/* publisher.c: the outbox-to-Kafka loop, run by whoever holds the
 * publisher lock: a background thread of a responder, or the relay.
 * This file is the lock and the thread; publisher_loop.c is the loop. */
#include "publisher.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "publisher_int.h"

#define PUB_LOCK_MS 200		/* lock retry: how soon a takeover happens */
#define PUB_RETRY_MS 1000	/* pause after a failed tenure */

struct publisher {
	struct pub_ctl ctl;
	pthread_t thread;
};

int pub_stopping(struct pub_ctl *ctl)
{
	return (ctl->sig_stop != NULL && *ctl->sig_stop) ||
	    atomic_load(&ctl->stop);
}

void pub_sleep(struct pub_ctl *ctl, int ms)
{
	for (; ms > 0 && !pub_stopping(ctl); ms -= 50) {
		struct timespec ts = { 0, (ms < 50 ? ms : 50) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Validates the Kafka settings and opens "<db_path>.publisher.lock". */
static int pub_ctl_init(struct pub_ctl *ctl, const struct config *cfg,
    volatile sig_atomic_t *sig_stop, char *errstr, size_t errstr_size)
{
	const char *fault;
	char path[4096];

	ctl->cfg = cfg;
	ctl->sig_stop = sig_stop;
	atomic_init(&ctl->stop, 0);
	/* Test hook for tests/integration/t45-recovery.sh: the lock holder
	 * dies after this many acknowledgements, before recording them (see
	 * pub_fault_crash()).  Never set it in production. */
	fault = getenv("MSGCMD_FAULT_CRASH_AFTER_ACKS");
	ctl->crash_after_acks = fault != NULL ? strtol(fault, NULL, 10) : 0;
	if (pk_check(cfg, errstr, errstr_size) != 0)
		return -1;
	if ((size_t)snprintf(path, sizeof path, "%s.publisher.lock",
	    cfg->db_path) >= sizeof path) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: path too long");
		return -1;
	}
	ctl->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ctl->lock_fd < 0) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: cannot open %s: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Waits for the lock, polling so that a stop request is noticed, and
 * publishes while holding it.  flock() is released by the kernel when a
 * holder dies, however it dies: the next waiter takes over. */
static void pub_serve(struct pub_ctl *ctl)
{
	int waiting = 0;

	while (!pub_stopping(ctl)) {
		if (flock(ctl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
			if (!waiting++)
				log_msg(LOG_LEVEL_INFO, "publisher: another"
				    " publisher holds the lock; standing by");
			pub_sleep(ctl, PUB_LOCK_MS);
			continue;
		}
		waiting = 0;
		if (pub_tenure(ctl) != 0)
			pub_sleep(ctl, PUB_RETRY_MS);
		flock(ctl->lock_fd, LOCK_UN);
	}
}

static void *pub_thread(void *arg)
{
	pub_serve(&((struct publisher *)arg)->ctl);
	return NULL;
}

int publisher_check(const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	return pk_check(cfg, errstr, errstr_size);
}

int publisher_start(struct publisher **out, const struct config *cfg,
    char *errstr, size_t errstr_size)
{
	struct publisher *p = calloc(1, sizeof *p);
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (p == NULL) {
		snprintf(errstr, errstr_size, "publisher: out of memory");
		return -1;
	}
	if (pub_ctl_init(&p->ctl, cfg, NULL, errstr, errstr_size) != 0) {
		free(p);
		return -1;
	}
	/* Signals stay with the serving thread, whose accept loop must see
	 * them; librdkafka's threads, started from ours, inherit the mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thread, NULL, pub_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(errstr, errstr_size, "publisher: thread: %s",
		    strerror(rc));
		close(p->ctl.lock_fd);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void publisher_stop(struct publisher *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->ctl.stop, 1);
	pthread_join(p->thread, NULL);
	close(p->ctl.lock_fd);
	free(p);
}

int publisher_run(const struct config *cfg, volatile sig_atomic_t *stop,
    char *errstr, size_t errstr_size)
{
	struct pub_ctl ctl;

	if (pub_ctl_init(&ctl, cfg, stop, errstr, errstr_size) != 0)
		return -1;
	pub_serve(&ctl);
	close(ctl.lock_fd);
	return 0;
}
