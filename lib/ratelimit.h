/* ratelimit.h: a per-subject command rate limit shared by every process
 * of one deployment.  The limit is GCRA (the generic cell rate
 * algorithm): each subject has one "theoretical arrival time" (TAT); a
 * request is admitted when pushing the TAT one emission interval further
 * keeps it within burst intervals of now.  The TATs live in a small
 * open-addressed table in a file mapped beside the database,
 * "<db>.ratelimit", and each update is one compare-and-swap of a 64-bit
 * word, so no process ever holds a lock another one could wait for, not
 * even one killed by SIGKILL mid-request. */
#ifndef MSGCMD_RATELIMIT_H
#define MSGCMD_RATELIMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum ratelimit_err {
	RATELIMIT_OK = 0,	/* admitted */
	RATELIMIT_LIMITED = 1,	/* refused: over the limit */
	RATELIMIT_EFULL = -1,	/* no slot for the subject: admitted, counted */
	RATELIMIT_EOPEN = -2,	/* the file cannot be created or mapped */
};

/* One limit: per_minute commands a minute on average, burst of them at
 * once.  per_minute 0 means no limit. */
struct ratelimit_conf {
	int per_minute;
	int burst;
};

/* The pure core, in milliseconds.  Given a subject's tat and the time
 * now, with interval = 60000 / per_minute and burst >= 1: returns
 * RATELIMIT_OK and sets *next_tat to the TAT to store, or
 * RATELIMIT_LIMITED and sets *retry_ms (> 0) to how long until the same
 * request would be admitted.  A tat further ahead than burst intervals
 * (the clock was set back) counts as exactly that far ahead, so a clock
 * step never locks a subject out for longer than one interval. */
int ratelimit_gcra(int64_t tat, int64_t now, int64_t interval, int64_t burst,
    int64_t *next_tat, int64_t *retry_ms);

/* A slot of the table: a 22-bit tag of the subject's hash above a 42-bit
 * TAT in unix milliseconds (enough until the year 2109); 0 is an empty
 * slot.  Tag and TAT change together in one compare-and-swap. */
typedef atomic_ullong ratelimit_slot;

#define RATELIMIT_SLOTS 8192	/* slots in the file: 64 KiB */
#define RATELIMIT_PROBES 16	/* slots looked at for one subject */

/* Applies the limit c to subject in the table slots[0..n) (n a power of
 * two) at time now_ms.  A subject keeps the first slot carrying its tag
 * among the RATELIMIT_PROBES slots from its hash; a new one takes the
 * first slot there that is empty or whose TAT has passed (a TAT in the
 * past holds no debt, so forgetting it changes no answer).  Returns
 * RATELIMIT_OK, RATELIMIT_LIMITED with *retry_ms set, or
 * RATELIMIT_EFULL when every slot looked at belongs to another subject
 * still in debt: the caller admits the request.  Two subjects whose
 * hashes share slot and tag (about one in four million) share a limit. */
int ratelimit_take_slots(ratelimit_slot *slots, size_t n,
    const struct ratelimit_conf *c, const char *subject, int64_t now_ms,
    int64_t *retry_ms);

/* ratelimit_take_slots() on the table of "<db_path>.ratelimit", mapped
 * (created 0600 when missing, replaced when of another layout) on the
 * first call of the process and kept until ratelimit_close().
 * Thread-safe.  A full table also adds one to the file's count of
 * admissions without a slot (ratelimit_full_count()).  Returns as
 * ratelimit_take_slots(), or RATELIMIT_EOPEN when the file cannot be
 * mapped (the caller admits the request; the next call tries again). */
int ratelimit_take(const char *db_path, const struct ratelimit_conf *c,
    const char *subject, int64_t now_ms, int64_t *retry_ms);

/* The number of requests admitted because the table was full, over all
 * processes; 0 when the file is not mapped. */
uint64_t ratelimit_full_count(void);

/* Unmaps the file; for exit and between unit tests. */
void ratelimit_close(void);

/* Returns a static description of a ratelimit_err. */
const char *ratelimit_strerror(int err);

#endif
