/* ratelimit.c: GCRA per subject over a table of 64-bit words shared by
 * every process through "<db>.ratelimit"; see ratelimit.h. */
#include "ratelimit.h"

#include <string.h>
#include <sys/mman.h>

#include "shm.h"

/* Shared between processes, the atomics must not hide a lock. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics not lock-free");

#define RATELIMIT_TAT_BITS 42
#define RATELIMIT_TAT_MASK ((UINT64_C(1) << RATELIMIT_TAT_BITS) - 1)
#define RATELIMIT_TAG_MASK ((UINT64_C(1) << (64 - RATELIMIT_TAT_BITS)) - 1)

int ratelimit_gcra(int64_t tat, int64_t now, int64_t interval, int64_t burst,
    int64_t *next_tat, int64_t *retry_ms)
{
	int64_t window = interval * burst;	/* the most debt allowed */

	if (tat > now + window)
		tat = now + window;
	int64_t next = (tat > now ? tat : now) + interval;
	if (next - now > window) {
		*retry_ms = next - window - now;
		return RATELIMIT_LIMITED;
	}
	*next_tat = next;
	return RATELIMIT_OK;
}

/* FNV-1a, 64 bits: subjects are short, and a table of this size needs
 * spread, not resistance to chosen collisions (subjects are issued by
 * the identity provider, not picked by a client). */
static uint64_t ratelimit_hash(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static uint64_t ratelimit_word(uint64_t tag, int64_t tat)
{
	return tag << RATELIMIT_TAT_BITS | ((uint64_t)tat & RATELIMIT_TAT_MASK);
}

static uint64_t ratelimit_tag(uint64_t word)
{
	return word >> RATELIMIT_TAT_BITS;
}

static int64_t ratelimit_tat(uint64_t word)
{
	return (int64_t)(word & RATELIMIT_TAT_MASK);
}

/* Charges the slot, holding word, which has the subject's tag (or is
 * free: its TAT counts as now); retries while other processes change it
 * under us, and gives up (-1) when it stops being ours or free. */
static int ratelimit_charge(ratelimit_slot *slot, unsigned long long word,
    uint64_t tag, const struct ratelimit_conf *c, int64_t now,
    int64_t *retry_ms)
{
	int64_t interval = 60000 / c->per_minute, next;

	for (;;) {
		int mine = ratelimit_tag(word) == tag;
		if (!mine && word != 0 && ratelimit_tat(word) > now)
			return -1;
		int rc = ratelimit_gcra(mine ? ratelimit_tat(word) : now, now,
		    interval, c->burst, &next, retry_ms);
		if (rc != RATELIMIT_OK)
			return rc;
		if (atomic_compare_exchange_weak(slot, &word,
		    ratelimit_word(tag, next)))
			return RATELIMIT_OK;
	}
}

/* The slot for the subject of hash h and tag: the first carrying its
 * tag, else the first free one (empty, or its TAT passed); n when every
 * slot looked at belongs to another subject still in debt. */
static size_t ratelimit_find(ratelimit_slot *slots, size_t n, uint64_t h,
    uint64_t tag, int64_t now)
{
	size_t free_at = n;

	for (size_t i = 0; i < RATELIMIT_PROBES && i < n; i++) {
		size_t at = (size_t)(h + i) & (n - 1);
		unsigned long long w = atomic_load(&slots[at]);
		if (ratelimit_tag(w) == tag)
			return at;
		if (free_at == n && (w == 0 || ratelimit_tat(w) <= now))
			free_at = at;
	}
	return free_at;
}

int ratelimit_take_slots(ratelimit_slot *slots, size_t n,
    const struct ratelimit_conf *c, const char *subject, int64_t now_ms,
    int64_t *retry_ms)
{
	uint64_t h = ratelimit_hash(subject);
	uint64_t tag = (h >> 40) & RATELIMIT_TAG_MASK;

	if (c->per_minute <= 0 || c->burst <= 0)
		return RATELIMIT_OK;	/* no limit */
	tag = tag ? tag : 1;	/* tag 0 would make a slot look empty */
	/* A slot found can be taken by another process before the charge
	 * (a free one claimed, or ours reused after its TAT passed): then
	 * look again.  Each retry means another process made progress. */
	for (int tries = 0; tries < 4; tries++) {
		size_t at = ratelimit_find(slots, n, h, tag, now_ms);
		if (at == n)
			return RATELIMIT_EFULL;
		int rc = ratelimit_charge(&slots[at], atomic_load(&slots[at]),
		    tag, c, now_ms, retry_ms);
		if (rc != -1)
			return rc;
	}
	return RATELIMIT_EFULL;
}

/* The file: a magic, a count of admissions without a slot, the slots.
 * Bump the version with any change that keeps the size. */
#define RATELIMIT_VERSION 1
struct ratelimit_shm {
	atomic_ullong magic;
	atomic_ullong full;
	ratelimit_slot slots[RATELIMIT_SLOTS];
};
#define RATELIMIT_MAGIC (UINT64_C(0x726c6d74) << 32 | \
    (uint64_t)RATELIMIT_VERSION << 24 | sizeof(struct ratelimit_shm))
_Static_assert(offsetof(struct ratelimit_shm, magic) == 0,
    "shm.h: magic first");

static _Atomic(struct ratelimit_shm *) ratelimit_map;

/* The mapping, made on first use. */
static struct ratelimit_shm *ratelimit_get(const char *db_path)
{
	struct ratelimit_shm *m = atomic_load(&ratelimit_map), *none = NULL;

	if (m != NULL || db_path == NULL)
		return m;
	/* Zero-filled when new: every slot empty. */
	if ((m = shm_attach(db_path, ".ratelimit", sizeof *m,
	    RATELIMIT_MAGIC)) == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong(&ratelimit_map, &none, m)) {
		munmap(m, sizeof *m);	/* another thread was first */
		m = none;
	}
	return m;
}

int ratelimit_take(const char *db_path, const struct ratelimit_conf *c,
    const char *subject, int64_t now_ms, int64_t *retry_ms)
{
	struct ratelimit_shm *m = ratelimit_get(db_path);

	if (m == NULL)
		return RATELIMIT_EOPEN;
	int rc = ratelimit_take_slots(m->slots, RATELIMIT_SLOTS, c, subject,
	    now_ms, retry_ms);
	if (rc == RATELIMIT_EFULL)
		atomic_fetch_add(&m->full, 1);
	return rc;
}

uint64_t ratelimit_full_count(void)
{
	struct ratelimit_shm *m = atomic_load(&ratelimit_map);

	return m ? atomic_load(&m->full) : 0;
}

void ratelimit_close(void)
{
	struct ratelimit_shm *m = atomic_exchange(&ratelimit_map, NULL);

	if (m != NULL)
		munmap(m, sizeof *m);
}

const char *ratelimit_strerror(int err)
{
	switch (err) {
	case RATELIMIT_OK: return "admitted";
	case RATELIMIT_LIMITED: return "over the rate limit";
	case RATELIMIT_EFULL: return "the rate-limit table is full";
	case RATELIMIT_EOPEN: return "the rate-limit file cannot be mapped";
	default: return "unknown rate-limit error";
	}
}
