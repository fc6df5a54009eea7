/* publisher_conf.c: the librdkafka configuration of the publisher and of
 * its recovery consumer: our defaults, BOOTSTRAP_SERVERS, KAFKA_PROPERTIES
 * and the fixed settings the delivery guarantees rest on. */
#include "publisher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "config.h"

/* The guarantees of SPEC section 6 rest on these: no duplicates and no
 * reordering within a producer session needs idempotence and acks=all.
 * They are set before KAFKA_PROPERTIES, which may repeat them in any
 * spelling or alias (acks, request.required.acks, topic.acks; "all",
 * "-1") but not change them: each is read back afterwards, as
 * librdkafka spells it (the third column). */
static const char *const pk_fixed[][3] = {
	{ "enable.idempotence", "true", "true" },
	{ "acks", "all", "-1" },
};

/* Defaults that KAFKA_PROPERTIES may override. */
static const char *const pk_defaults[][2] = {
	/* Never expire a queued event: while Kafka is down events wait (up to
	 * PK_WINDOW in librdkafka, the rest in the outbox) and leave in order
	 * when it is back.  An expiry would not lose anything either (the
	 * cursor does not move), but forces a producer restart, and if a
	 * later event of its partition was delivered meanwhile, the
	 * expired one lands after it: out of order. */
	{ "message.timeout.ms", "0" },
	/* The Java client's default partitioner rather than librdkafka's:
	 * a conversation id maps to the same partition whichever client
	 * (Java, kafka-python, Streams) produces or co-partitions with it. */
	{ "partitioner", "murmur2_random" },
	/* Reconnect within a second of Kafka's return rather than after
	 * librdkafka's default backoff of up to 10 s: publish lag counts. */
	{ "reconnect.backoff.max.ms", "1000" },
	{ "client.id", "msgcmd-publisher" },
};

/* Recovery's consumer reads given offsets of one topic, once per producer
 * session.  It takes BOOTSTRAP_SERVERS and KAFKA_PROPERTIES (the
 * connection settings, TLS, SASL) like the producer, then these, which
 * its reading rests on: KAFKA_PROPERTIES is meant for the producer. */
static const char *const pk_recovery_settings[][2] = {
	{ "client.id", "msgcmd-publisher-recovery" },
	{ "reconnect.backoff.max.ms", "1000" },
	/* The end of the range read is the point to stop at: be told. */
	{ "enable.partition.eof", "true" },
	/* Our producer is not transactional; see everything it wrote. */
	{ "isolation.level", "read_uncommitted" },
	/* Retention may have removed the window's start meanwhile: read from
	 * the partition's start then, which is what recovery wants. */
	{ "auto.offset.reset", "smallest" },
	/* A window is at most a few thousand events; do not prefetch the
	 * default 64 MB past its end. */
	{ "queued.max.messages.kbytes", "8192" },
	/* A fetch at a partition's end waits this long for news on the
	 * broker, and the watermark and fetch requests that follow queue
	 * behind it on the same connection: the default 500 ms made each
	 * step of a recovery cost half a second. */
	{ "fetch.wait.max.ms", "10" },
	{ "allow.auto.create.topics", "false" },
};

/* Returns a pointer to s without surrounding blanks (s is modified). */
static char *pk_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Refuses a configuration in which KAFKA_PROPERTIES changed a fixed
 * setting, whichever name or spelling it used. */
static int pk_fixed_kept(const rd_kafka_conf_t *conf, char *errstr,
    size_t errstr_size)
{
	char val[64];
	size_t n;

	for (size_t i = 0; i < sizeof pk_fixed / sizeof pk_fixed[0]; i++) {
		n = sizeof val;
		if (rd_kafka_conf_get(conf, pk_fixed[i][0], val, &n) ==
		    RD_KAFKA_CONF_OK && strcmp(val, pk_fixed[i][2]) == 0)
			continue;
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: %s must be %s"
		    " (publishing guarantees rest on it)", pk_fixed[i][0],
		    pk_fixed[i][1]);
		return -1;
	}
	return 0;
}

/* Applies one "key=value" item of KAFKA_PROPERTIES. */
static int pk_apply_one(rd_kafka_conf_t *conf, char *item, char *errstr,
    size_t errstr_size)
{
	char *s = pk_trim(item), *eq, *key, *val, why[256];

	if (*s == '\0')
		return 0;
	if ((eq = strchr(s, '=')) == NULL) {
		snprintf(errstr, errstr_size,
		    "KAFKA_PROPERTIES: \"%s\" is not key=value", s);
		return -1;
	}
	*eq = '\0';
	key = pk_trim(s);
	val = pk_trim(eq + 1);
	/* why names librdkafka's own name of an alias: name the user's. */
	if (rd_kafka_conf_set(conf, key, val, why, sizeof why) !=
	    RD_KAFKA_CONF_OK) {
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: %s: %s", key,
		    why);
		return -1;
	}
	return 0;
}

/* Applies "k=v;k=v" (like kcat -X) on conf. */
static int pk_apply_props(rd_kafka_conf_t *conf, const char *props,
    char *errstr, size_t errstr_size)
{
	char *copy, *save = NULL, *item;
	int rc = 0;

	if (props == NULL || *props == '\0')
		return 0;
	if ((copy = strdup(props)) == NULL) {
		snprintf(errstr, errstr_size, "KAFKA_PROPERTIES: out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ";", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ";", &save))
		rc = pk_apply_one(conf, item, errstr, errstr_size);
	free(copy);
	return rc;
}

/* Applies BOOTSTRAP_SERVERS, then KAFKA_PROPERTIES. */
static int pk_conf_base(rd_kafka_conf_t *conf, const struct config *cfg,
    char *errstr, size_t errstr_size)
{
	char why[256];

	if (cfg->bootstrap_servers == NULL || *cfg->bootstrap_servers == '\0' ||
	    rd_kafka_conf_set(conf, "bootstrap.servers", cfg->bootstrap_servers,
	    why, sizeof why) != RD_KAFKA_CONF_OK) {
		snprintf(errstr, errstr_size, "BOOTSTRAP_SERVERS: not set");
		return -1;
	}
	return pk_apply_props(conf, cfg->kafka_properties, errstr, errstr_size);
}

int pk_conf_fill(rd_kafka_conf_t *conf, const struct config *cfg,
    char *errstr, size_t errstr_size)
{
	char why[256];
	size_t i;

	/* Our own rows, which librdkafka takes. */
	for (i = 0; i < sizeof pk_defaults / sizeof pk_defaults[0]; i++)
		rd_kafka_conf_set(conf, pk_defaults[i][0], pk_defaults[i][1],
		    why, sizeof why);
	for (i = 0; i < sizeof pk_fixed / sizeof pk_fixed[0]; i++)
		rd_kafka_conf_set(conf, pk_fixed[i][0], pk_fixed[i][1], why,
		    sizeof why);
	if (pk_conf_base(conf, cfg, errstr, errstr_size) != 0)
		return -1;
	return pk_fixed_kept(conf, errstr, errstr_size);
}

int pk_conf_fill_recovery(rd_kafka_conf_t *conf, const struct config *cfg,
    char *errstr, size_t errstr_size)
{
	const size_t n = sizeof pk_recovery_settings /
	    sizeof pk_recovery_settings[0];
	char why[256];

	if (pk_conf_base(conf, cfg, errstr, errstr_size) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (rd_kafka_conf_set(conf, pk_recovery_settings[i][0],
		    pk_recovery_settings[i][1], why, sizeof why) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(errstr, errstr_size, "publisher recovery: %s",
			    why);
			return -1;
		}
	return 0;
}
