/* store.h: the write model in SQLite.  One transaction per command: the
 * conversation/member rows, the outbox event row and the idempotency row
 * commit together or not at all. */
#ifndef MSGCMD_STORE_H
#define MSGCMD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "decide.h"

struct config;
struct event;
struct store;

enum store_err {
	STORE_OK = 0,
	STORE_EBUSY = -1,	/* lock not obtained within the busy timeout */
	STORE_EFULL = -2,	/* disk or quota full */
	STORE_EREADONLY = -3,	/* file or filesystem read-only */
	STORE_EIO = -4,		/* any other SQLite failure */
	STORE_ENOMEM = -5,
	STORE_EOPEN = -6,	/* start-up: cannot open or create the file */
};

/* Idempotency results of store_idem_find(). */
enum store_idem_result {
	STORE_IDEM_NEW = 0,	/* key unseen (or expired): go on */
	STORE_IDEM_REPLAY = 1,	/* same key, same request: replay */
	STORE_IDEM_MISMATCH = 2	/* same key, different request: 422 */
};

/* An Idempotency-Key as scoped by the store: (subject, key) is unique;
 * fingerprint identifies the request (method, path, body). */
struct store_idem {
	const char *subject;
	const char *key;
	const char *fingerprint;
};

/* Readiness facts for /readyz. */
struct store_health {
	int64_t last_seq;	/* newest outbox sequence */
	int64_t published_seq;	/* publisher cursor */
	int64_t backlog;	/* last_seq - published_seq */
	long publisher_pid;	/* last lock holder, 0 if none yet */
	char publisher_state[32];	/* e.g. "connected", "kafka-down" */
	int64_t publisher_seen;	/* unix time of its last heartbeat */
};

/* Opens (creating if needed, mode 0600) the database at cfg->db_path in
 * WAL mode with cfg->synchronous and cfg->busy_timeout_ms, creates the
 * schema, and prepares the statements.  Returns 0, or with a line in
 * errstr naming DATABASE_PATH: a transient error (store_transient())
 * when the cause may go away by itself, else STORE_EOPEN.  cfg must
 * outlive the store (see db_open). */
int store_open(struct store **out, const struct config *cfg, char *errstr,
    size_t errstr_size);

void store_close(struct store *st);

/* Starts the command's write transaction (BEGIN IMMEDIATE).  Every call
 * below until store_commit()/store_rollback() runs inside it. */
int store_begin(struct store *st);

/* Looks up an idempotency key younger than the TTL.  On STORE_IDEM_REPLAY
 * sets *status and a malloc'd *body (caller frees) of the stored answer.
 * Returns an enum store_idem_result, or a negative store_err. */
int store_idem_find(struct store *st, const struct store_idem *idem,
    int ttl_s, int *status, char **body, size_t *body_len);

/* Fills out with the state of conversation conv_id seen by actor and, when
 * participant is not NULL, by participant.  Returns 0 (out->exists = 0
 * for an unknown id) or a negative store_err. */
int store_load(struct store *st, const char *conv_id, const char *actor,
    const char *participant, struct conv_state *out);

/* Applies the accepted event: state rows for its kind, the outbox row
 * (payload = the encoded event, len bytes) and, when idem is not NULL, the
 * idempotency row answering status 201 with payload.  Returns 0 or a
 * negative store_err; the caller then commits or rolls back. */
int store_apply(struct store *st, const struct event *ev,
    const char *payload, size_t len, const struct store_idem *idem);

/* What a rebuilt write model holds, for msgcmd-rebuild's summary. */
struct store_counts {
	int64_t conversations;	/* deleted ones included */
	int64_t deleted;
	int64_t members;
};

/* Applies only the state rows of ev (conversation, members), the same
 * rows store_apply writes, with no outbox or idempotency row: rebuilding
 * the write model from the topic, where the event is published already.
 * Runs inside the caller's transaction.  Returns 0 or a negative
 * store_err; the caller then commits or rolls back. */
int store_replay(struct store *st, const struct event *ev);

/* Makes a rebuilt database continue the topic's sequence: the next
 * outbox row gets seq last_seq + 1 and the publisher cursor is last_seq,
 * so nothing counts as unpublished and no msgcmd-seq is used twice.
 * Only for a database whose outbox is empty; runs its own transaction,
 * so none may be open.  Returns 0 or a negative store_err. */
int store_replay_seq(struct store *st, int64_t last_seq);

/* Counts conversations and members.  Returns 0 or a negative store_err. */
int store_count(struct store *st, struct store_counts *c);

/* Records, inside the open transaction, the answer (status and body, len
 * bytes) given to an Idempotency-Key, so that a repeat replays it; used
 * for refusals, which write nothing else (store_apply records the 201s).
 * Returns 0 or a negative store_err. */
int store_idem_save(struct store *st, const struct store_idem *idem,
    int status, const char *body, size_t len);

/* Commits.  Returns 0, or a negative store_err after rolling back. */
int store_commit(struct store *st);

/* Rolls back; harmless when no transaction is open. */
void store_rollback(struct store *st);

/* Reads the outbox and publisher facts.  Also proves the database is
 * readable.  Returns 0 or a negative store_err. */
int store_health(struct store *st, struct store_health *h);

/* Returns 0 when a write transaction can be started and committed right
 * now (the readiness probe), else a negative store_err. */
int store_writable(struct store *st);

/* Returns a static description of a store_err. */
const char *store_strerror(int err);

/* Whether err is a cause that may go away by itself (STORE_EBUSY,
 * STORE_EREADONLY, STORE_EFULL): worth a 503 and a retry. */
int store_transient(int err);

#endif
