/* publisher_window.c: what Kafka already has: the produced events it has
 * acknowledged, so the cursor only ever moves over a gap-free prefix of
 * delivered events, and the events recovery found on the topic. */
#include "publisher_int.h"

#include <stdlib.h>
#include <string.h>

void pk_window_init(struct pk_window *w, int64_t base)
{
	w->head = 0;
	w->count = 0;
	w->base = base;
}

void pk_window_push(struct pk_window *w, int64_t seq)
{
	size_t i = (w->head + w->count) % PK_WINDOW;

	w->seq[i] = seq;
	w->acked[i] = 0;
	w->count++;
}

/* Binary search over the ring, whose logical order is seq order.
 * Returns the physical index of seq, or -1. */
static long pk_window_find(const struct pk_window *w, int64_t seq)
{
	size_t lo = 0, hi = w->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t s = w->seq[(w->head + mid) % PK_WINDOW];
		if (s == seq)
			return (long)((w->head + mid) % PK_WINDOW);
		if (s < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void pk_window_ack(struct pk_window *w, int64_t seq)
{
	long i = pk_window_find(w, seq);

	if (i < 0)
		return;
	w->acked[i] = 1;
	while (w->count > 0 && w->acked[w->head]) {
		w->base = w->seq[w->head];
		w->head = (w->head + 1) % PK_WINDOW;
		w->count--;
	}
}

int pk_found_add(struct pk_found *f, int64_t seq, const char *id,
    size_t len)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct pk_landed *v = realloc(f->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	if (len >= sizeof f->v[0].event_id)
		len = 0;	/* not a UUID: cannot match any row */
	f->v[f->n].seq = seq;
	memcpy(f->v[f->n].event_id, id, len);
	f->v[f->n].event_id[len] = '\0';
	f->n++;
	return 0;
}

/* By seq, then event id: the same seq may have landed for two events,
 * ours and someone else's (see pk_found_take). */
static int pk_landed_cmp(const void *a, const void *b)
{
	const struct pk_landed *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->event_id, y->event_id);
}

void pk_found_sort(struct pk_found *f)
{
	size_t i, out = 0;

	if (f->n == 0)
		return;
	qsort(f->v, f->n, sizeof f->v[0], pk_landed_cmp);
	for (i = 1; i < f->n; i++)
		if (pk_landed_cmp(&f->v[i], &f->v[out]) != 0)
			f->v[++out] = f->v[i];
	f->n = out + 1;
	f->next = 0;
}

int pk_found_take(struct pk_found *f, int64_t seq, const char *event_id)
{
	int seen = 0, ours = 0;

	while (f->next < f->n && f->v[f->next].seq < seq)
		f->next++;
	/* Every message found with this seq: one of them may be ours even
	 * when another deployment's carries the same number. */
	for (; f->next < f->n && f->v[f->next].seq == seq; f->next++) {
		const char *id = f->v[f->next].event_id;

		seen = 1;
		/* An empty id (a message without ce_id) matches no row. */
		if (id[0] != '\0' && strcmp(id, event_id) == 0)
			ours = 1;
	}
	if (ours)
		f->skipped++;
	else if (seen)
		f->foreign++;
	return ours;
}

int pk_found_done(const struct pk_found *f)
{
	return f->next == f->n;
}

void pk_found_free(struct pk_found *f)
{
	free(f->v);
	memset(f, 0, sizeof *f);
}
