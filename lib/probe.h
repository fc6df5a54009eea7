/* probe.h: the answers that carry no command: /healthz, /readyz,
 * /metrics and the token check kept from the original
 * (/conversations/test). */
#ifndef MSGCMD_PROBE_H
#define MSGCMD_PROBE_H

struct principal;
struct response;
struct store;

/* 200 {"status":"ok"}: the process serves. */
void probe_health(struct response *r);

/* 200 when the store can commit now, else 503 with Retry-After; the body
 * reports the outbox backlog and the publisher's last heartbeat. */
void probe_ready(struct store *st, struct response *r);

/* 200 with every metric as Prometheus text: the counters of all
 * processes (metrics.h) and the outbox and publisher gauges, which are
 * left out when the store cannot be read.  500 when out of memory. */
void probe_metrics(struct store *st, struct response *r);

/* 200 {"status":"ok","sub":...}: the token is valid. */
void probe_token(const struct principal *who, struct response *r);

#endif
