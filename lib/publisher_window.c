/* publisher_window.c: which produced events Kafka has acknowledged, so the
 * cursor only ever moves over a gap-free prefix of delivered events. */
#include "publisher_int.h"

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
