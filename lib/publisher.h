/* publisher.h: drains the outbox to Kafka in commit order.  Exactly one
 * publisher runs at a time: whoever holds an exclusive flock on the file
 * "<database>.publisher.lock". */
#ifndef MSGCMD_PUBLISHER_H
#define MSGCMD_PUBLISHER_H

#include <signal.h>
#include <stddef.h>

struct config;
struct publisher;

/* Checks the Kafka settings (BOOTSTRAP_SERVERS, TOPIC, KAFKA_PROPERTIES)
 * as publisher_start() does, by building the clients and throwing them
 * away; connects to nothing.  Returns 0, or -1 with one line in errstr
 * naming the setting. */
int publisher_check(const struct config *cfg, char *errstr,
    size_t errstr_size);

/* Starts a background thread that waits for the lock and, while holding
 * it, publishes.  Call after any fork(), in the process that will serve.
 * Returns 0 and a handle, or -1 with errstr filled. */
int publisher_start(struct publisher **out, const struct config *cfg,
    char *errstr, size_t errstr_size);

/* Asks the thread to stop, waits for it (flushing what Kafka will take
 * within a few seconds), releases the lock and frees p.  NULL is fine. */
void publisher_stop(struct publisher *p);

/* The same loop in the calling thread, for the standalone relay: returns
 * 0 once *stop becomes non-zero, or -1 with errstr filled when it cannot
 * start. */
int publisher_run(const struct config *cfg, volatile sig_atomic_t *stop,
    char *errstr, size_t errstr_size);

#endif
