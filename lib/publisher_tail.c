/* publisher_tail.c: recovery's consumer: the topic's partitions, their
 * watermarks, and the msgcmd-seq headers of a range of offsets. */
#include "publisher_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "log.h"

#define TAIL_CALL_MS 5000	/* limit of one metadata or watermark call */
#define TAIL_WAIT_MS 200	/* one wait for messages */
#define TAIL_RANGE_MS 30000	/* limit for reading one range */

/* The legacy (simple) consumer API: it reads given offsets without a
 * consumer group, so recovery leaves no trace on the cluster. */
struct pk_rec {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
};

static int64_t tail_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As the producer's (publisher_kafka.c), but without configuration
 * warnings: they are about producer properties in KAFKA_PROPERTIES, which
 * this consumer rightly ignores. */
static void tail_on_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	(void)rk;
	if (strcmp(fac, "CONFWARN") != 0)
		log_msg(level <= 4 ? LOG_LEVEL_WARN : level <= 6 ?
		    LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		    "librdkafka (recovery): %s: %s", fac, buf);
}

/* Broker trouble reaches the caller as a failed scan, which it reports
 * and retries; this callback only keeps librdkafka from printing it. */
static void tail_on_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
	(void)rk;
	(void)opaque;
	log_msg(LOG_LEVEL_DEBUG, "kafka (recovery): %s: %s",
	    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* The log callback of a quiet handle (pk_check's): drops every line,
 * such as the refused connections of a start-up while Kafka is down. */
static void tail_on_log_quiet(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

void pk_rec_free(struct pk_rec *r)
{
	if (r == NULL)
		return;
	if (r->rkt != NULL)
		rd_kafka_topic_destroy(r->rkt);
	rd_kafka_destroy(r->rk);
	free(r);
}

struct pk_rec *pk_rec_new(const struct config *cfg, int quiet, char *errstr,
    size_t errstr_size)
{
	struct pk_rec *r = calloc(1, sizeof *r);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	if (r == NULL || pk_conf_fill_recovery(conf, cfg, errstr,
	    errstr_size) != 0) {
		if (r == NULL)
			snprintf(errstr, errstr_size, "publisher: out of memory");
		rd_kafka_conf_destroy(conf);
		free(r);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, quiet ? tail_on_log_quiet : tail_on_log);
	rd_kafka_conf_set_error_cb(conf, tail_on_error);
	/* On success rd_kafka_new() owns conf; on failure we still do. */
	if ((r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why,
	    sizeof why)) == NULL) {
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: %s (for the"
		    " publisher's recovery consumer)", why);
		rd_kafka_conf_destroy(conf);
		free(r);
		return NULL;
	}
	if ((r->rkt = rd_kafka_topic_new(r->rk, cfg->topic, NULL)) == NULL) {
		snprintf(errstr, errstr_size, "TOPIC: %s",
		    rd_kafka_err2str(rd_kafka_last_error()));
		pk_rec_free(r);
		return NULL;
	}
	return r;
}

int64_t pk_header_num(const struct rd_kafka_message_s *m, const char *name,
    int64_t absent)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t n, i;
	char buf[24];

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(h, name, &v, &n) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		return absent;
	if (v == NULL || n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
	/* Up to 23 digits fit buf; past INT64_MAX strtoll would saturate. */
	errno = 0;
	long long num = strtoll(buf, NULL, 10);
	return errno == ERANGE ? -1 : num;
}

/* Reads a message's msgcmd-seq and ce_id headers.  Returns 1 when it has
 * a well-formed msgcmd-seq written by shard (a message without
 * msgcmd-shard is an unsharded service's, shard 0's), 0 for a message
 * someone else (another service, another shard) wrote. */
static int tail_headers(const rd_kafka_message_t *m, int shard,
    int64_t *seq, const char **id, size_t *id_len)
{
	rd_kafka_headers_t *h;
	const void *v;
	size_t len;

	*seq = pk_header_num(m, "msgcmd-seq", -1);
	if (*seq < 0 || pk_header_num(m, "msgcmd-shard", 0) != shard ||
	    rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	if (rd_kafka_header_get_last(h, "ce_id", &v, &len) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || v == NULL) {
		v = "";
		len = 0;
	}
	*id = v;
	*id_len = len;
	return 1;
}

/* Records one message: a seq in (after, last] joins the found set, one
 * at or below after sets below.  Returns 0, or -1 when out of memory. */
static int tail_note(struct pk_tail *t, const rd_kafka_message_t *m)
{
	const char *id;
	size_t len;
	int64_t seq;

	t->read++;
	if (!tail_headers(m, t->shard, &seq, &id, &len))
		return 0;
	if (seq <= t->after)
		t->below = 1;
	else if (seq <= t->last)
		return pk_found_add(t->found, seq, id, len);
	return 0;
}

/* One read in progress: where it ends and what it found. */
struct tail_read {
	struct pk_tail *t;
	int64_t end;		/* first offset not to read */
	int done;		/* end or the partition's end reached */
	int failed;		/* out of memory */
};

/* Served by rd_kafka_consume_callback() for each queued message. */
static void tail_on_message(rd_kafka_message_t *m, void *opaque)
{
	struct tail_read *rd = opaque;

	/* The end of the partition, or of the range: whatever follows was
	 * read before, or arrived after the watermarks. */
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
	    (m->err == 0 && m->offset >= rd->end))
		rd->done = 1;
	/* Other errors are transient (librdkafka retries) until the
	 * deadline; the messages themselves are what counts. */
	if (m->err != 0 || rd->done || rd->failed)
		return;
	if (tail_note(rd->t, m) != 0)
		rd->failed = 1;
	if (m->offset >= rd->end - 1)
		rd->done = 1;
}

int pk_rec_read(struct pk_rec *r, struct pub_ctl *ctl, int32_t p,
    int64_t start, int64_t end, struct pk_tail *t, char *why,
    size_t why_size)
{
	struct tail_read rd = { t, end, 0, 0 };
	int64_t deadline = tail_now_ms() + TAIL_RANGE_MS;

	if (rd_kafka_consume_start(r->rkt, p, start) != 0) {
		snprintf(why, why_size, "partition %" PRId32 ": %s", p,
		    rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	while (!rd.done && !rd.failed && !pub_stopping(ctl) &&
	    tail_now_ms() < deadline)
		rd_kafka_consume_callback(r->rkt, p, TAIL_WAIT_MS,
		    tail_on_message, &rd);
	rd_kafka_consume_stop(r->rkt, p);
	if (rd.failed)
		snprintf(why, why_size, "out of memory");
	else if (!rd.done)
		snprintf(why, why_size, "partition %" PRId32 " offsets %"
		    PRId64 "..%" PRId64 " not read in time", p, start, end);
	return rd.done && !rd.failed ? 0 : -1;
}

int pk_rec_watermarks(struct pk_rec *r, int32_t p, int64_t *low,
    int64_t *high, char *why, size_t why_size)
{
	rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(r->rk,
	    rd_kafka_topic_name(r->rkt), p, low, high, TAIL_CALL_MS);

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(why, why_size, "watermarks of partition %" PRId32
		    ": %s", p, rd_kafka_err2str(err));
	return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* A topic that does not exist holds nothing of ours.  One being created,
 * or a partition without a leader, is a failure: the caller retries. */
int pk_rec_partitions(struct pk_rec *r, int32_t *ids, int *n, char *why,
    size_t why_size)
{
	const struct rd_kafka_metadata *md;
	const rd_kafka_metadata_topic_t *t;
	rd_kafka_resp_err_t err = rd_kafka_metadata(r->rk, 0, r->rkt,
	    &md, TAIL_CALL_MS);
	int cap = *n;

	*n = 0;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(why, why_size, "metadata: %s",
		    rd_kafka_err2str(err));
		return -1;
	}
	t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	err = t == NULL ? RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC : t->err;
	if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
		err = RD_KAFKA_RESP_ERR_NO_ERROR;	/* nothing landed */
	else if (err == 0 && t->partition_cnt > cap)
		err = RD_KAFKA_RESP_ERR__INVALID_ARG;	/* see below */
	for (int i = 0; err == 0 && t->err == 0 && i < t->partition_cnt; i++) {
		if (t->partitions[i].leader < 0)
			err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
		ids[(*n)++] = t->partitions[i].id;
	}
	if (err == RD_KAFKA_RESP_ERR__INVALID_ARG)
		snprintf(why, why_size, "%s has more than %d partitions",
		    rd_kafka_topic_name(r->rkt), cap);
	else if (err != 0)
		snprintf(why, why_size, "metadata of %s: %s",
		    rd_kafka_topic_name(r->rkt), rd_kafka_err2str(err));
	rd_kafka_metadata_destroy(md);
	return err != 0 ? -1 : 0;
}
