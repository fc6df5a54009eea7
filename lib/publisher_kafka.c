/* publisher_kafka.c: the publisher's librdkafka idempotent producer: its
 * configuration, the CloudEvents headers, delivery reports, broker state. */
#include "publisher_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"

struct pk {
	rd_kafka_t *rk;
	const struct config *cfg;
	enum pk_state state;
	int failed;		/* an event was not delivered: recreate */
	int closing;		/* purge reports during pk_free are expected */
	int quiet;		/* pk_check's throwaway producer: no logs */
	long acks;		/* delivery reports without error */
	struct pk_window win;
};

static const char *const pk_state_names[] = {
	[PK_CONNECTING] = "connecting",
	[PK_CONNECTED] = "connected",
	[PK_DOWN] = "kafka-down",
};

static void pk_set_state(struct pk *k, enum pk_state st)
{
	if (k->state == st)
		return;
	if (st == PK_CONNECTED)
		log_msg(LOG_LEVEL_INFO, "kafka: connected");
	else if (st == PK_DOWN)
		log_msg(LOG_LEVEL_WARN,
		    "kafka: brokers down; events wait in the outbox");
	k->state = st;
}

/* Served by rd_kafka_poll() in the publisher's thread. */
static void pk_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
    void *opaque)
{
	struct pk *k = opaque;
	int64_t seq = (int64_t)(intptr_t)m->_private;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		pk_set_state(k, PK_CONNECTED);
		pk_window_ack(&k->win, seq);
		k->acks++;
		return;
	}
	if (!k->closing)
		metrics_kafka_error(METRICS_KAFKA_DELIVERY);
	if (!k->failed && !k->closing)
		log_msg(LOG_LEVEL_ERROR, "kafka: event seq %" PRId64
		    " not delivered: %s; restarting the producer", seq,
		    rd_kafka_err2str(m->err));
	k->failed = 1;
}

static void pk_on_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
	struct pk *k = opaque;
	char why[512];

	if (k->quiet)
		return;
	metrics_kafka_error(METRICS_KAFKA_CLIENT);
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		pk_set_state(k, PK_DOWN);
	} else if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, why, sizeof why);
		log_msg(LOG_LEVEL_ERROR, "kafka: fatal: %s", why);
	} else if (err == RD_KAFKA_RESP_ERR__TRANSPORT ||
	    err == RD_KAFKA_RESP_ERR__RESOLVE) {
		/* Repeats on every reconnect while a broker is away; the
		 * state change above is the line that matters. */
		log_msg(LOG_LEVEL_DEBUG, "kafka: %s", reason);
	} else {
		log_msg(LOG_LEVEL_WARN, "kafka: %s: %s",
		    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
	}
}

/* librdkafka's own log lines, from its threads (log_msg is thread-safe).
 * Broker trouble is a warning for us: nothing is lost while it lasts. */
static void pk_on_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	const struct pk *k = rk != NULL ? rd_kafka_opaque(rk) : NULL;

	/* quiet is set before rd_kafka_new() and never changes after. */
	if (k != NULL && k->quiet)
		return;
	log_msg(level <= 4 ? LOG_LEVEL_WARN : level <= 6 ? LOG_LEVEL_INFO :
	    LOG_LEVEL_DEBUG, "librdkafka: %s: %s", fac, buf);
}

/* Builds the configuration of k's producer, callbacks included. */
static rd_kafka_conf_t *pk_conf(struct pk *k, char *errstr,
    size_t errstr_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (k->cfg->topic == NULL || *k->cfg->topic == '\0') {
		snprintf(errstr, errstr_size, "TOPIC: not set");
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if (pk_conf_fill(conf, k->cfg, errstr, errstr_size) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, pk_on_delivery);
	rd_kafka_conf_set_error_cb(conf, pk_on_error);
	rd_kafka_conf_set_log_cb(conf, pk_on_log);
	return conf;
}

/* Creates a producer; a quiet one logs nothing (start-up checks). */
static struct pk *pk_create(const struct config *cfg, int64_t base,
    int quiet, char *errstr, size_t errstr_size)
{
	struct pk *k = calloc(1, sizeof *k);
	rd_kafka_conf_t *conf;
	char why[512];

	if (k == NULL) {
		snprintf(errstr, errstr_size, "publisher: out of memory");
		return NULL;
	}
	k->cfg = cfg;
	k->state = PK_CONNECTING;
	k->quiet = quiet;
	pk_window_init(&k->win, base);
	if ((conf = pk_conf(k, errstr, errstr_size)) == NULL) {
		free(k);
		return NULL;
	}
	/* On success rd_kafka_new() owns conf; on failure we still do. */
	if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why,
	    sizeof why)) == NULL) {
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: %s", why);
		rd_kafka_conf_destroy(conf);
		free(k);
		return NULL;
	}
	return k;
}

struct pk *pk_new(const struct config *cfg, int64_t base, char *errstr,
    size_t errstr_size)
{
	return pk_create(cfg, base, 0, errstr, errstr_size);
}

/* A whole producer, not just its configuration: rd_kafka_new() checks
 * how properties combine (idempotence limits, TLS files...).  Recovery's
 * consumer gets the same settings and is checked the same way. */
int pk_check(const struct config *cfg, char *errstr, size_t errstr_size)
{
	struct pk *k = pk_create(cfg, 0, 1, errstr, errstr_size);
	struct pk_rec *r = NULL;
	int rc = k != NULL ? 0 : -1;

	pk_free(k);
	if (rc == 0 && (r = pk_rec_new(cfg, 1, errstr, errstr_size)) == NULL)
		rc = -1;
	pk_rec_free(r);
	return rc;
}

void pk_free(struct pk *k)
{
	if (k == NULL)
		return;
	k->closing = 1;
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(k->rk, 0);
	rd_kafka_destroy(k->rk);
	free(k);
}

/* CloudEvents 1.0 Kafka binary mode, plus the commit seq (and, sharded,
 * the shard) for recovery. */
static rd_kafka_headers_t *pk_headers(const struct config *cfg,
    const struct outbox_row *r)
{
	const char *src = cfg->ce_source && *cfg->ce_source ? cfg->ce_source :
	    "msgcmd";
	char seq[24], shard[8];
	rd_kafka_headers_t *h = rd_kafka_headers_new(10);

	snprintf(seq, sizeof seq, "%" PRId64, r->seq);
	snprintf(shard, sizeof shard, "%d", cfg->shard.index);
	const char *const kv[][2] = {
		{ "ce_specversion", "1.0" }, { "ce_id", r->event_id },
		{ "ce_type", r->event_type }, { "ce_source", src },
		{ "ce_time", r->created_at }, { "ce_subject", r->conversation_id },
		{ "content-type", "application/json" }, { "msgcmd-seq", seq },
		{ "idempotency-key", r->idem_key },
		/* Whose msgcmd-seq it is, when shards share the topic. */
		{ "msgcmd-shard", cfg->shard.count > 1 ? shard : NULL },
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (kv[i][1] != NULL)
			rd_kafka_header_add(h, kv[i][0], -1, kv[i][1], -1);
	return h;
}

int pk_produce(struct pk *k, const struct outbox_row *r)
{
	rd_kafka_headers_t *h = pk_headers(k->cfg, r);
	rd_kafka_resp_err_t err;
	int tries = 0;

	do {
		err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->cfg->topic),
		    RD_KAFKA_V_KEY(r->conversation_id, strlen(r->conversation_id)),
		    RD_KAFKA_V_VALUE(r->payload, r->payload_len),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(h),
		    RD_KAFKA_V_OPAQUE((void *)(intptr_t)r->seq), RD_KAFKA_V_END);
		/* A full queue drains as delivery reports are served. */
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(k->rk, 100);
	} while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ++tries < 50);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* The headers became librdkafka's only on success. */
		rd_kafka_headers_destroy(h);
		metrics_kafka_error(METRICS_KAFKA_PRODUCE);
		log_msg(LOG_LEVEL_ERROR, "kafka: cannot queue event seq %"
		    PRId64 ": %s", r->seq, rd_kafka_err2str(err));
		return -1;
	}
	pk_window_push(&k->win, r->seq);
	return 0;
}

void pk_skip(struct pk *k, int64_t seq)
{
	pk_window_push(&k->win, seq);
	pk_window_ack(&k->win, seq);
}

void pk_poll(struct pk *k, int timeout_ms)
{
	rd_kafka_poll(k->rk, timeout_ms);
}

void pk_flush(struct pk *k, int timeout_ms)
{
	rd_kafka_flush(k->rk, timeout_ms);
}

void pk_probe(struct pk *k)
{
	const struct rd_kafka_metadata *md;

	if (k->state == PK_CONNECTED || k->win.count > 0)
		return;
	if (rd_kafka_metadata(k->rk, 0, NULL, &md, 500) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_metadata_destroy(md);
		pk_set_state(k, PK_CONNECTED);
	} else {
		pk_set_state(k, PK_DOWN);
	}
}

int pk_broken(struct pk *k)
{
	char why[256];

	return k->failed ||
	    rd_kafka_fatal_error(k->rk, why, sizeof why) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR;
}

long pk_acks(const struct pk *k)
{
	return k->acks;
}

int64_t pk_delivered(const struct pk *k)
{
	return k->win.base;
}

size_t pk_room(const struct pk *k)
{
	return PK_WINDOW - k->win.count;
}

const char *pk_state_name(const struct pk *k)
{
	return pk_state_names[k->state];
}
