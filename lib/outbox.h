/* outbox.h: the publisher's view of the database: events in commit order
 * after a cursor, the cursor itself, the publisher's heartbeat row, and
 * the purge of expired idempotency rows, which only the lock holder runs. */
#ifndef MSGCMD_OUTBOX_H
#define MSGCMD_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

struct config;
struct outbox;

/* One committed event.  payload and idem_key are malloc'd, freed by
 * outbox_rows_free(). */
struct outbox_row {
	int64_t seq;			/* commit sequence, strictly increasing */
	char conversation_id[EVENT_UUID_LEN + 1];	/* the Kafka key */
	char event_id[EVENT_UUID_LEN + 1];
	char event_type[48];
	char created_at[EVENT_TIME_LEN + 1];
	char *idem_key;			/* NULL when the request had none */
	char *payload;
	size_t payload_len;
};

/* Opens its own connection to cfg->db_path (schema created as store_open
 * does).  Returns 0 or a negative store_err with errstr filled. */
int outbox_open(struct outbox **out, const struct config *cfg, char *errstr,
    size_t errstr_size);

void outbox_close(struct outbox *ob);

/* Reads the cursor: the highest sequence known to be published. */
int outbox_cursor(struct outbox *ob, int64_t *seq);

/* Reads up to max rows with seq > after, in seq order, into rows; sets *n.
 * Returns 0 or a negative store_err (then *n = 0 and nothing to free). */
int outbox_fetch(struct outbox *ob, int64_t after, struct outbox_row *rows,
    int max, int *n);

void outbox_rows_free(struct outbox_row *rows, int n);

/* Moves the cursor forward to seq (never backward) and records the
 * heartbeat (pid, state, now) in the same small transaction. */
int outbox_advance(struct outbox *ob, int64_t seq, long pid,
    const char *state);

/* Records the heartbeat alone. */
int outbox_heartbeat(struct outbox *ob, long pid, const char *state);

/* Returns 1 when rows with seq > after exist, 0 when none, negative on
 * error.  Cheap: meant to be polled. */
int outbox_pending(struct outbox *ob, int64_t after);

/* Reads the highest seq ever committed (0 for an empty outbox) into *seq.
 * Returns 0 or a negative store_err. */
int outbox_last(struct outbox *ob, int64_t *seq);

/* Copies what it can of the WAL into the database file without waiting;
 * when the WAL then still holds restart_pages pages or more, waits (20 ms
 * at most, new commits waiting too) for the writer and readers of the
 * moment and starts the WAL again from its beginning.  Sets *wal_pages to the pages in the WAL.
 * Returns 0, or a negative store_err (STORE_EBUSY: try later). */
int outbox_checkpoint(struct outbox *ob, int restart_pages, int *wal_pages);

/* Deletes at most limit idempotency rows with created_at < older_than
 * (unix seconds) in one short transaction, so that responders wait for
 * it no longer than for a command; call again while *deleted == limit.
 * Returns 0 with *deleted set, or a negative store_err (then *deleted is
 * 0 and nothing was deleted). */
int outbox_purge_idempotency(struct outbox *ob, int64_t older_than,
    int limit, int *deleted);

#endif
