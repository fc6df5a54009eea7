/* publisher_read.c: a one-shot read of the whole topic by a librdkafka
 * consumer assigned every partition, which joins no group and commits
 * nothing. */
#include "publisher_read.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "log.h"
#include "publisher_int.h"

#define PR_WAIT_MS 10000	/* metadata and watermark requests */

/* Consumer settings over the publisher's: a reader that hears of each
 * partition's end and commits nothing.  librdkafka wants a group.id even
 * for rd_kafka_assign(); the group is never joined (no subscribe) and its
 * offsets never written.  The offsets are given explicitly, so
 * auto.offset.reset is moot. */
static const char *const pr_settings[][2] = {
	{ "client.id", "msgcmd-rebuild" },
	{ "group.id", "msgcmd-rebuild" },
	{ "enable.auto.commit", "false" },
	{ "enable.auto.offset.store", "false" },
	{ "enable.partition.eof", "true" },
};

struct pr {
	rd_kafka_t *rk;
	const char *topic;
	int64_t *high;		/* per partition id: where the read stops */
	int32_t nhigh;
	int remaining;		/* partitions not read to their end yet */
	publisher_read_fn fn;
	void *arg;
};

/* librdkafka's log lines.  The shared settings carry the publisher's
 * producer properties, which a consumer ignores with a CONFWARN line
 * each: noise, not news. */
static void pr_on_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	(void)rk;
	if (strcmp(fac, "CONFWARN") == 0)
		return;
	log_msg(level <= 4 ? LOG_LEVEL_WARN : level <= 6 ? LOG_LEVEL_INFO :
	    LOG_LEVEL_DEBUG, "librdkafka: %s: %s", fac, buf);
}

/* Creates the consumer from the publisher's configuration. */
static int pr_open(struct pr *p, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];
	size_t i;

	if (pk_conf_fill(conf, cfg, errstr, errstr_size) != 0) {
		rd_kafka_conf_destroy(conf);
		return PUBLISHER_READ_EKAFKA;
	}
	for (i = 0; i < sizeof pr_settings / sizeof pr_settings[0]; i++)
		rd_kafka_conf_set(conf, pr_settings[i][0], pr_settings[i][1],
		    why, sizeof why);
	rd_kafka_conf_set_log_cb(conf, pr_on_log);
	/* On success rd_kafka_new() owns conf; on failure we still do. */
	if ((p->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why,
	    sizeof why)) == NULL) {
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: %s", why);
		rd_kafka_conf_destroy(conf);
		return PUBLISHER_READ_EKAFKA;
	}
	return 0;
}

/* Adds partition id to the assignment with its end, unless it is empty;
 * refuses one whose head was deleted: the rebuild would miss events. */
static int pr_add(struct pr *p, rd_kafka_topic_partition_list_t *list,
    int32_t id, char *errstr, size_t errstr_size)
{
	int64_t low = 0, high = 0;
	rd_kafka_resp_err_t err;

	err = rd_kafka_query_watermark_offsets(p->rk, p->topic, id, &low,
	    &high, PR_WAIT_MS);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errstr, errstr_size, "BOOTSTRAP_SERVERS: offsets of %s"
		    " [%" PRId32 "]: %s", p->topic, id, rd_kafka_err2str(err));
		return PUBLISHER_READ_EKAFKA;
	}
	if (low > 0) {
		snprintf(errstr, errstr_size, "TOPIC: %s [%" PRId32 "] starts"
		    " at offset %" PRId64 ": earlier events were deleted"
		    " (retention), so the write model cannot be rebuilt",
		    p->topic, id, low);
		return PUBLISHER_READ_EKAFKA;
	}
	p->high[id] = high;
	if (high > 0) {
		rd_kafka_topic_partition_list_add(list, p->topic, id)->offset = 0;
		p->remaining++;
	}
	return 0;
}

/* Fetches the metadata of the topic; *md is then the caller's to
 * destroy.  An unknown topic is an error, not an empty one: a typo in
 * TOPIC must not "rebuild" an empty write model. */
static int pr_metadata(struct pr *p, const struct rd_kafka_metadata **md,
    char *errstr, size_t errstr_size)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, p->topic, NULL);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;

	*md = NULL;
	if (rkt != NULL) {
		err = rd_kafka_metadata(p->rk, 0, rkt, md, PR_WAIT_MS);
		rd_kafka_topic_destroy(rkt);
	}
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR && (*md)->topic_cnt != 1)
		err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		err = (*md)->topics[0].err;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	snprintf(errstr, errstr_size, "%s: topic %s: %s",
	    err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? "TOPIC" :
	    "BOOTSTRAP_SERVERS", p->topic, rd_kafka_err2str(err));
	return PUBLISHER_READ_EKAFKA;
}

/* Reads the topic's partitions and their ends into list and p. */
static int pr_partitions(struct pr *p, rd_kafka_topic_partition_list_t *list,
    char *errstr, size_t errstr_size)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	int i, rc = pr_metadata(p, &md, errstr, errstr_size);

	if (rc != 0)
		goto out;
	t = &md->topics[0];
	for (i = 0; i < t->partition_cnt; i++)
		if (t->partitions[i].id >= p->nhigh)
			p->nhigh = t->partitions[i].id + 1;
	if ((p->high = calloc((size_t)p->nhigh + 1, sizeof *p->high)) == NULL) {
		snprintf(errstr, errstr_size, "TOPIC: %s: out of memory",
		    p->topic);
		rc = PUBLISHER_READ_EKAFKA;
	}
	for (i = 0; rc == 0 && i < t->partition_cnt; i++)
		rc = pr_add(p, list, t->partitions[i].id, errstr, errstr_size);
out:
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	return rc;
}

/* Marks partition id read to its end; later messages change nothing. */
static void pr_done(struct pr *p, int32_t id)
{
	p->high[id] = -1;
	p->remaining--;
}

/* An error event: librdkafka retries what it can by itself (a broker
 * away, say), so only a fatal error ends the read; the stall timeout
 * covers the rest. */
static int pr_error(struct pr *p, rd_kafka_message_t *m, char *errstr,
    size_t errstr_size)
{
	if (rd_kafka_fatal_error(p->rk, NULL, 0) == 0) {
		log_msg(LOG_LEVEL_WARN, "kafka: %s", rd_kafka_message_errstr(m));
		return 0;
	}
	snprintf(errstr, errstr_size, "kafka: %s", rd_kafka_message_errstr(m));
	return PUBLISHER_READ_EKAFKA;
}

/* Handles one consumed message or event; 1 = progress, 0 = none, or an
 * error.  Messages past the end taken at the start are left alone. */
static int pr_handle(struct pr *p, rd_kafka_message_t *m, char *errstr,
    size_t errstr_size)
{
	int32_t id = m->partition;
	int64_t end = id >= 0 && id < p->nhigh ? p->high[id] : -1, shard;
	struct publisher_msg pm;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (end >= 0 && m->offset >= end)
			pr_done(p, id);
		return 1;
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		return pr_error(p, m, errstr, errstr_size);
	if (m->offset >= end)
		return 1;
	shard = pk_header_num(m, "msgcmd-shard", 0);
	pm = (struct publisher_msg){ .value = m->payload, .len = m->len,
	    .partition = id, .offset = m->offset,
	    .seq = pk_header_num(m, "msgcmd-seq", -1),
	    .shard = shard > INT_MAX ? -1 : (int)shard };
	if (p->fn(p->arg, &pm) != 0)
		return PUBLISHER_READ_ESTOPPED;
	if (m->offset + 1 >= end)
		pr_done(p, id);
	return 1;
}

static int64_t pr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Consumes until every assigned partition was read to its end. */
static int pr_consume(struct pr *p, char *errstr, size_t errstr_size)
{
	int64_t last = pr_now_ms();
	rd_kafka_message_t *m;
	int rc = 0;

	while (rc >= 0 && p->remaining > 0) {
		if ((m = rd_kafka_consumer_poll(p->rk, 200)) != NULL) {
			rc = pr_handle(p, m, errstr, errstr_size);
			rd_kafka_message_destroy(m);
		}
		if (rc > 0)
			last = pr_now_ms();
		if (rc >= 0 && pr_now_ms() - last > PUBLISHER_READ_STALL_MS) {
			snprintf(errstr, errstr_size, "BOOTSTRAP_SERVERS: nothing"
			    " read from %s for %d s", p->topic,
			    PUBLISHER_READ_STALL_MS / 1000);
			rc = PUBLISHER_READ_EKAFKA;
		}
	}
	return rc < 0 ? rc : 0;
}

int publisher_read(const struct config *cfg, const char *topic,
    publisher_read_fn fn, void *arg, char *errstr, size_t errstr_size)
{
	struct pr p = { .topic = topic, .fn = fn, .arg = arg };
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_resp_err_t err;
	int rc;

	/* librdkafka aborts rather than return NULL on allocation failure. */
	list = rd_kafka_topic_partition_list_new(8);
	rc = pr_open(&p, cfg, errstr, errstr_size);
	if (rc == 0)
		rc = pr_partitions(&p, list, errstr, errstr_size);
	if (rc == 0 && p.remaining > 0 &&
	    (err = rd_kafka_assign(p.rk, list)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errstr, errstr_size, "TOPIC: %s: %s", topic,
		    rd_kafka_err2str(err));
		rc = PUBLISHER_READ_EKAFKA;
	}
	if (rc == 0)
		rc = pr_consume(&p, errstr, errstr_size);
	if (p.rk != NULL) {
		rd_kafka_consumer_close(p.rk);
		rd_kafka_destroy(p.rk);
	}
	rd_kafka_topic_partition_list_destroy(list);
	free(p.high);
	return rc;
}
