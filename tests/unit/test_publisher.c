/* test_publisher.c: the publisher's librdkafka side without a broker: the
 * configuration it builds, the start-up check, a fresh producer's window
 * and skips, the probe, and the reading of numeric headers. */
#include "unit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "log.h"
#include "outbox.h"
#include "publisher_int.h"

/* Nothing listens on port 1: a producer that tries it is refused at
 * once, so no test waits on the network. */
#define NO_BROKER "127.0.0.1:1"

#define NROWS(a) (sizeof (a) / sizeof (a)[0])

static const char *const touched[] = { "BOOTSTRAP_SERVERS",
	"BOOTSTRAP_SERVER", "TOPIC", "KAFKA_PROPERTIES", "SHARD", NULL };

static struct config cfg;

/* librdkafka says "connection refused" about NO_BROKER, as warnings;
 * errors still print. */
static void quiet_logs(void)
{
	log_init("test_publisher", LOG_LEVEL_ERROR);
}

static void setup(void)
{
	for (int i = 0; touched[i]; i++)
		unsetenv(touched[i]);
	/* An empty file: a .env in the working directory must not count. */
	setenv("ENV_FILE", "/dev/null", 1);
	memset(&cfg, 0, sizeof cfg);
}

static void teardown(void)
{
	config_free(&cfg);
}

/* Loads cfg as the services do, with BOOTSTRAP_SERVERS=NO_BROKER and
 * KAFKA_PROPERTIES=props (NULL: unset). */
static void load(const char *props)
{
	char err[256] = "";

	setenv("BOOTSTRAP_SERVERS", NO_BROKER, 1);
	if (props != NULL)
		setenv("KAFKA_PROPERTIES", props, 1);
	ck_assert_msg(config_load(&cfg, err, sizeof err) == 0, "%s", err);
}

/* One property and the value librdkafka must read back for it. */
struct prop {
	const char *name, *want;
};

/* pk_conf_fill() or pk_conf_fill_recovery(). */
typedef int conf_fill_fn(rd_kafka_conf_t *, const struct config *, char *,
    size_t);

/* Configurations that fill, with KAFKA_PROPERTIES=props, and what they
 * must hold (want ends at a NULL name). */
static const struct {
	const char *what;	/* named when a row fails */
	conf_fill_fn *fill;
	const char *props;
	struct prop want[16];
} good_confs[] = {
	{ "our defaults and the settings the delivery guarantees rest on",
	    pk_conf_fill, NULL, {
		{ "bootstrap.servers", NO_BROKER },
		{ "message.timeout.ms", "0" },
		{ "partitioner", "murmur2_random" },
		{ "reconnect.backoff.max.ms", "1000" },
		{ "client.id", "msgcmd-publisher" },
		{ "enable.idempotence", "true" },
		{ "acks", "-1" },
		{ "request.required.acks", "-1" } } },
	/* Overrides defaults, keeps an '=' inside a value, trims blanks,
	 * passes over empty items; the fixed settings may be repeated in
	 * either spelling. */
	{ "KAFKA_PROPERTIES passed through", pk_conf_fill,
	    " linger.ms = 7 ;; ;client.id=mine=yes; message.timeout.ms=60000;"
	    "socket.timeout.ms=12345;enable.idempotence=true;acks=all;"
	    "request.required.acks=-1;", {
		{ "linger.ms", "7" },
		{ "client.id", "mine=yes" },
		{ "message.timeout.ms", "60000" },
		{ "socket.timeout.ms", "12345" },
		{ "enable.idempotence", "true" },
		{ "acks", "-1" } } },
	/* The fixed settings repeated in other spellings and aliases,
	 * which librdkafka reads as the same values. */
	{ "fixed settings in other spellings", pk_conf_fill,
	    "acks=ALL;enable.idempotence=True;topic.acks=-1", {
		{ "enable.idempotence", "true" },
		{ "acks", "-1" } } },
	/* Recovery's consumer connects as the producer does, but its own
	 * settings win over KAFKA_PROPERTIES, and it gets none of the
	 * producer's (librdkafka's defaults stay). */
	{ "recovery", pk_conf_fill_recovery,
	    "socket.timeout.ms=12345;client.id=mine;fetch.wait.max.ms=500;"
	    "auto.offset.reset=largest;enable.partition.eof=false;"
	    "allow.auto.create.topics=true;queued.max.messages.kbytes=65536", {
		{ "bootstrap.servers", NO_BROKER },
		{ "socket.timeout.ms", "12345" },
		{ "client.id", "msgcmd-publisher-recovery" },
		{ "reconnect.backoff.max.ms", "1000" },
		{ "enable.partition.eof", "true" },
		{ "isolation.level", "read_uncommitted" },
		{ "auto.offset.reset", "smallest" },
		{ "queued.max.messages.kbytes", "8192" },
		{ "fetch.wait.max.ms", "10" },
		{ "allow.auto.create.topics", "false" },
		{ "enable.idempotence", "false" },
		{ "partitioner", "consistent_random" } } },
};

START_TEST(test_conf_fill_good)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const struct prop *want = good_confs[_i].want;
	char err[256] = "";

	load(good_confs[_i].props);
	ck_assert_msg(good_confs[_i].fill(conf, &cfg, err, sizeof err) == 0,
	    "%s: %s", good_confs[_i].what, err);
	ck_assert_str_eq(err, "");
	for (size_t j = 0; j < NROWS(good_confs[_i].want) && want[j].name;
	    j++) {
		char got[512] = "";
		size_t size = sizeof got;

		ck_assert_msg(rd_kafka_conf_get(conf, want[j].name, got,
		    &size) == RD_KAFKA_CONF_OK, "%s: %s not readable",
		    good_confs[_i].what, want[j].name);
		ck_assert_msg(strcmp(got, want[j].want) == 0,
		    "%s: %s is \"%s\", want \"%s\"", good_confs[_i].what,
		    want[j].name, got, want[j].want);
	}
	rd_kafka_conf_destroy(conf);
}
END_TEST

/* Which entry points refuse a bad KAFKA_PROPERTIES; pk_check() refuses
 * every one.  Only rd_kafka_new() sees how properties combine, so some
 * fill a configuration and are refused by the client made from it. */
enum { BY_FILL = 1, BY_FILL_RECOVERY = 2, BY_NEW = 4 };
#define BY_ALL (BY_FILL | BY_FILL_RECOVERY | BY_NEW)

/* KAFKA_PROPERTIES that must stop start-up, and what the one line says.
 * The fixed settings are the producer's: recovery's consumer has no use
 * for them and is not refused. */
static const struct {
	const char *props, *needle;
	unsigned by;
} bad_props[] = {
	{ "acks=1", "acks must be all", BY_FILL | BY_NEW },
	{ "request.required.acks=0", "acks must be all", BY_FILL | BY_NEW },
	{ "topic.acks=0", "acks must be all", BY_FILL | BY_NEW },
	{ "enable.idempotence=false", "enable.idempotence must be true",
	    BY_FILL | BY_NEW },
	{ "enable.idempotence=0", "enable.idempotence must be true",
	    BY_FILL | BY_NEW },
	{ "linger.ms=5; acks = 1 ", "acks must be all", BY_FILL | BY_NEW },
	{ "linger.ms", "\"linger.ms\" is not key=value", BY_ALL },
	{ "linger.ms=5;;oops", "\"oops\" is not key=value", BY_ALL },
	{ "no.such.property=1", "\"no.such.property\"", BY_ALL },
	{ "socket.timeout.ms=soon", "\"socket.timeout.ms\"", BY_ALL },
	/* An alias: librdkafka names queue.buffering.max.ms; the line
	 * names what the user wrote too. */
	{ "linger.ms=soon", "KAFKA_PROPERTIES: linger.ms: ", BY_ALL },
	{ "max.in.flight=10", "max.in.flight", BY_NEW },
	{ "fetch.max.bytes=1000", "recovery consumer", 0 },
};

/* Asserts err is one line naming KAFKA_PROPERTIES and needle. */
static void assert_names(const char *err, const char *needle)
{
	ck_assert_msg(strncmp(err, "KAFKA_PROPERTIES: ", 18) == 0,
	    "error \"%s\" does not name KAFKA_PROPERTIES", err);
	ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"",
	    err, needle);
	ck_assert_ptr_null(strchr(err, '\n'));
}

/* Runs fill on a fresh configuration: refused with a line naming needle,
 * or not refused. */
static void assert_fill(conf_fill_fn *fill, int refused, const char *needle)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256] = "";

	ck_assert_int_eq(fill(conf, &cfg, err, sizeof err), refused ? -1 : 0);
	rd_kafka_conf_destroy(conf);
	if (refused)
		assert_names(err, needle);
}

START_TEST(test_bad_properties_refused)
{
	const unsigned by = bad_props[_i].by;
	struct pk *k;
	char err[256] = "";

	load(bad_props[_i].props);
	assert_fill(pk_conf_fill, (by & BY_FILL) != 0, bad_props[_i].needle);
	assert_fill(pk_conf_fill_recovery, (by & BY_FILL_RECOVERY) != 0,
	    bad_props[_i].needle);
	ck_assert_int_eq(pk_check(&cfg, err, sizeof err), -1);
	assert_names(err, bad_props[_i].needle);
	err[0] = '\0';
	k = pk_new(&cfg, 0, err, sizeof err);
	if (by & BY_NEW) {
		ck_assert_ptr_null(k);
		assert_names(err, bad_props[_i].needle);
	} else {
		ck_assert_msg(k != NULL, "pk_new refused: %s", err);
		pk_free(k);
	}
}
END_TEST

/* config_load() never leaves BOOTSTRAP_SERVERS empty, but a caller's
 * config might: each entry point refuses it by name. */
static const char *const no_servers[] = { NULL, "" };

START_TEST(test_bootstrap_servers_required)
{
	rd_kafka_conf_t *conf;
	char err[256];

	load(NULL);
	free(cfg.bootstrap_servers);
	cfg.bootstrap_servers = no_servers[_i] ? strdup(no_servers[_i]) : NULL;
	conf = rd_kafka_conf_new();
	ck_assert_int_eq(pk_conf_fill(conf, &cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "BOOTSTRAP_SERVERS: not set");
	rd_kafka_conf_destroy(conf);
	conf = rd_kafka_conf_new();
	ck_assert_int_eq(pk_conf_fill_recovery(conf, &cfg, err, sizeof err),
	    -1);
	ck_assert_str_eq(err, "BOOTSTRAP_SERVERS: not set");
	rd_kafka_conf_destroy(conf);
	ck_assert_int_eq(pk_check(&cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "BOOTSTRAP_SERVERS: not set");
}
END_TEST

/* Without TOPIC there is nothing to produce to: start-up stops. */
START_TEST(test_topic_required)
{
	char err[256];

	load(NULL);
	free(cfg.topic);
	cfg.topic = NULL;
	ck_assert_int_eq(pk_check(&cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "TOPIC: not set");
	ck_assert_ptr_null(pk_new(&cfg, 0, err, sizeof err));
	ck_assert_str_eq(err, "TOPIC: not set");
}
END_TEST

/* A good configuration passes, properties included, and leaves errstr
 * alone. */
START_TEST(test_check_accepts_good_config)
{
	char err[256] = "";

	load(NULL);
	ck_assert_int_eq(pk_check(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	config_free(&cfg);
	load("linger.ms=5;acks=all;security.protocol=plaintext");
	ck_assert_int_eq(pk_check(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

/* Creates a producer with cfg (loaded first) whose cursor starts at base. */
static struct pk *producer(int64_t base)
{
	char err[256] = "";
	struct pk *k;

	load(NULL);
	k = pk_new(&cfg, base, err, sizeof err);
	ck_assert_msg(k != NULL, "pk_new: %s", err);
	return k;
}

/* Everything up to base counts as delivered; nothing was heard from the
 * cluster yet.  pk_free(NULL) is fine, as documented. */
START_TEST(test_new_producer_starts_at_base)
{
	struct pk *k = producer(41);

	ck_assert_int_eq(pk_delivered(k), 41);
	ck_assert_uint_eq(pk_room(k), PK_WINDOW);
	ck_assert_str_eq(pk_state_name(k), "connecting");
	ck_assert_int_eq(pk_acks(k), 0);
	ck_assert_int_eq(pk_broken(k), 0);
	pk_free(k);
	pk_free(NULL);
}
END_TEST

/* With nothing in flight a skip is at once delivered, gaps included,
 * and gives its window slot back.  Skips are not delivery reports. */
START_TEST(test_skip_without_earlier_events_moves_cursor)
{
	struct pk *k = producer(10);

	pk_skip(k, 11);
	ck_assert_int_eq(pk_delivered(k), 11);
	pk_skip(k, 13);		/* 12 was purged from the outbox */
	ck_assert_int_eq(pk_delivered(k), 13);
	ck_assert_uint_eq(pk_room(k), PK_WINDOW);
	ck_assert_int_eq(pk_acks(k), 0);
	pk_free(k);
}
END_TEST

/* An outbox row with sequence number seq. */
static struct outbox_row row(int64_t seq)
{
	static char payload[] = "{}";
	struct outbox_row r = { .seq = seq, .payload = payload,
	    .payload_len = 2 };

	snprintf(r.conversation_id, sizeof r.conversation_id, "%s",
	    "0b8e1c1e-6f7a-4c39-9f4e-7a1d2f3b4c5d");
	snprintf(r.event_id, sizeof r.event_id, "%s",
	    "aaaaaaaa-0000-4000-8000-000000000000");
	snprintf(r.event_type, sizeof r.event_type, "%s",
	    "userSentMessageToConversation");
	snprintf(r.created_at, sizeof r.created_at, "%s",
	    "2026-11-24T10:00:00.123456Z");
	return r;
}

/* An event produced to no broker is never acknowledged: skips after it
 * hold their window slots and the cursor stays before it, until the
 * window is full.  pk_free() drops the queued event without waiting. */
START_TEST(test_skip_waits_for_earlier_events)
{
	struct pk *k = producer(10);
	struct outbox_row r = row(11);

	ck_assert_int_eq(pk_produce(k, &r), 0);
	ck_assert_uint_eq(pk_room(k), PK_WINDOW - 1);
	for (int64_t seq = 12; seq <= 10 + PK_WINDOW; seq++)
		pk_skip(k, seq);
	pk_poll(k, 0);
	ck_assert_int_eq(pk_delivered(k), 10);
	ck_assert_uint_eq(pk_room(k), 0);
	ck_assert_int_eq(pk_acks(k), 0);
	ck_assert_int_eq(pk_broken(k), 0);
	pk_free(k);
}
END_TEST

/* The probe asks the cluster only when nothing is in flight (the
 * delivery reports tell the state otherwise); with no broker it then
 * says "kafka-down" within its 500 ms limit. */
START_TEST(test_probe_only_when_idle)
{
	struct pk *k = producer(0);
	struct outbox_row r = row(1);

	ck_assert_int_eq(pk_produce(k, &r), 0);
	pk_probe(k);
	ck_assert_str_eq(pk_state_name(k), "connecting");
	pk_free(k);
	config_free(&cfg);
	k = producer(0);
	pk_probe(k);
	ck_assert_str_eq(pk_state_name(k), "kafka-down");
	pk_free(k);
}
END_TEST

/* pk_header_num() reads a message librdkafka made: a raw
 * rd_kafka_message_t cannot carry headers (they live in the internal
 * message around it).  The delivery report of a produced and then purged
 * message is one, and is served without any network: this producer has
 * no bootstrap servers at all. */
static const struct {
	const char *name, *value;
	size_t len;		/* of value; 0 with NULL: a NULL value */
	int64_t absent, want;
} hdr_cases[] = {
	{ "msgcmd-seq", "12345", 5, -1, 12345 },
	{ "msgcmd-shard", "007", 3, 0, 7 },
	{ "zero", "0", 1, -1, 0 },
	{ "max", "9223372036854775807", 19, -1, INT64_MAX },
	{ "over", "9223372036854775808", 19, 0, -1 },	/* INT64_MAX + 1 */
	{ "huge", "99999999999999999999999", 23, 0, -1 },
	{ "twice", "2", 1, -1, 2 },	/* after "1": the last one counts */
	{ "negative", "-5", 2, 0, -1 },
	{ "plus", "+5", 2, 0, -1 },
	{ "blank", " 5", 2, 0, -1 },
	{ "hex", "0x10", 4, 0, -1 },
	{ "nul", "1\0", 2, 0, -1 },
	{ "empty", "", 0, 0, -1 },
	{ "null", NULL, 0, 0, -1 },
	{ "long", "000000000000000000000001", 24, 0, -1 },
	{ "missing", NULL, 0, 42, 42 },	/* not added: absent */
};

#define NHDR NROWS(hdr_cases)

/* What the delivery reports read: got[0] from the message with the
 * headers above, got[1] from one without headers. */
struct hdr_seen {
	int reports;
	int64_t got[2][NHDR];
};

static void hdr_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
    void *opaque)
{
	struct hdr_seen *seen = opaque;
	int which = m->_private != NULL;

	(void)rk;
	for (size_t i = 0; i < NHDR; i++)
		seen->got[which][i] = pk_header_num(m, hdr_cases[i].name,
		    hdr_cases[i].absent);
	seen->reports++;
}

static void hdr_no_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static rd_kafka_headers_t *hdr_list(void)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(NHDR + 1);

	ck_assert_int_eq(rd_kafka_header_add(h, "twice", -1, "1", 1), 0);
	for (size_t i = 0; i < NHDR; i++)
		if (strcmp(hdr_cases[i].name, "missing") != 0)
			ck_assert_int_eq(rd_kafka_header_add(h,
			    hdr_cases[i].name, -1, hdr_cases[i].value,
			    (ssize_t)hdr_cases[i].len), 0);
	return h;
}

START_TEST(test_header_num)
{
	struct hdr_seen seen = { 0 };
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_headers_t *h = hdr_list();
	rd_kafka_resp_err_t rc;
	rd_kafka_t *rk;
	char err[256];

	rd_kafka_conf_set_opaque(conf, &seen);
	rd_kafka_conf_set_dr_msg_cb(conf, hdr_on_delivery);
	rd_kafka_conf_set_log_cb(conf, hdr_no_log);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	ck_assert_msg(rk != NULL, "%s", err);
	rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("a",
	    1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
	    RD_KAFKA_V_END);
	/* producev() owns the headers only once it succeeded. */
	if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_headers_destroy(h);
	ck_assert_int_eq(rc, RD_KAFKA_RESP_ERR_NO_ERROR);
	ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
	    RD_KAFKA_V_VALUE("b", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_OPAQUE(&seen), RD_KAFKA_V_END), 0);
	ck_assert_int_eq(rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE), 0);
	/* The purge has queued both reports; a second at most to serve them. */
	for (int i = 0; i < 20 && seen.reports < 2; i++)
		rd_kafka_poll(rk, 50);
	rd_kafka_destroy(rk);
	ck_assert_int_eq(seen.reports, 2);
	for (size_t i = 0; i < NHDR; i++) {
		ck_assert_msg(seen.got[0][i] == hdr_cases[i].want,
		    "%s: %lld, want %lld", hdr_cases[i].name,
		    (long long)seen.got[0][i], (long long)hdr_cases[i].want);
		ck_assert_msg(seen.got[1][i] == hdr_cases[i].absent,
		    "%s without headers: %lld, want %lld", hdr_cases[i].name,
		    (long long)seen.got[1][i], (long long)hdr_cases[i].absent);
	}
}
END_TEST

#define ID_A "aaaaaaaa-0000-4000-8000-000000000000"

/* What test_outbox.c leaves out of the found set: the zeroed (empty) set
 * sorted and freed, and a message without ce_id (id length 0), which
 * matches no row, not even one with an empty event id. */
START_TEST(test_found_empty_set_and_missing_id)
{
	struct pk_found f = { 0 };

	pk_found_sort(&f);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_int_eq(pk_found_done(&f), 1);
	pk_found_free(&f);
	ck_assert_int_eq(pk_found_add(&f, 7, ID_A, 0), 0);
	ck_assert_int_eq(pk_found_add(&f, 8, ID_A, 36), 0);
	pk_found_sort(&f);
	ck_assert_str_eq(f.v[0].event_id, "");
	ck_assert_int_eq(pk_found_take(&f, 7, ""), 0);
	ck_assert_uint_eq(f.foreign, 1);
	ck_assert_int_eq(pk_found_take(&f, 8, ID_A), 1);
	ck_assert_uint_eq(f.skipped, 1);
	pk_found_free(&f);
	ck_assert_ptr_null(f.v);
	ck_assert_uint_eq(f.cap, 0);
}
END_TEST

static Suite *publisher_suite(void)
{
	Suite *s = suite_create("publisher");
	TCase *conf = tcase_create("conf");
	TCase *kafka = tcase_create("kafka");
	TCase *found = tcase_create("found");

	tcase_add_unchecked_fixture(conf, quiet_logs, NULL);
	tcase_add_checked_fixture(conf, setup, teardown);
	tcase_add_loop_test(conf, test_conf_fill_good, 0, NROWS(good_confs));
	tcase_add_loop_test(conf, test_bad_properties_refused, 0,
	    NROWS(bad_props));
	tcase_add_loop_test(conf, test_bootstrap_servers_required, 0,
	    NROWS(no_servers));
	tcase_add_test(conf, test_topic_required);
	tcase_add_test(conf, test_check_accepts_good_config);
	suite_add_tcase(s, conf);
	tcase_add_unchecked_fixture(kafka, quiet_logs, NULL);
	tcase_add_checked_fixture(kafka, setup, teardown);
	tcase_add_test(kafka, test_new_producer_starts_at_base);
	tcase_add_test(kafka, test_skip_without_earlier_events_moves_cursor);
	tcase_add_test(kafka, test_skip_waits_for_earlier_events);
	tcase_add_test(kafka, test_probe_only_when_idle);
	tcase_add_test(kafka, test_header_num);
	suite_add_tcase(s, kafka);
	tcase_add_test(found, test_found_empty_set_and_missing_id);
	suite_add_tcase(s, found);
	return s;
}

UNIT_MAIN(publisher_suite)
