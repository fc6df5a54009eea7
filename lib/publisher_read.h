/* publisher_read.h: reads the whole event topic once, from its first
 * offset to the end it had when the read started: the input of
 * msgcmd-rebuild.  Lives beside the publisher because librdkafka may be
 * included only there (scripts/lint.sh). */
#ifndef MSGCMD_PUBLISHER_READ_H
#define MSGCMD_PUBLISHER_READ_H

#include <stddef.h>
#include <stdint.h>

struct config;

enum publisher_read_err {
	PUBLISHER_READ_OK = 0,
	PUBLISHER_READ_EKAFKA = -1,	/* settings, broker or topic; see errstr */
	PUBLISHER_READ_ESTOPPED = -2,	/* the callback asked to stop */
};

/* One message.  value (not NUL-terminated) is valid during the call. */
struct publisher_msg {
	const char *value;
	size_t len;
	int32_t partition;
	int64_t offset;
	int64_t seq;	/* the msgcmd-seq header (outbox seq), or -1 */
	int shard;	/* the msgcmd-shard header, 0 without one, -1 if bad */
};

/* Returns 0 to go on, anything else to stop the read. */
typedef int (*publisher_read_fn)(void *arg, const struct publisher_msg *m);

/* Reads every partition of topic from offset 0 up to its high watermark
 * taken at the start (later messages are left alone, so the read ends),
 * calling fn for each message in offset order within its partition;
 * partitions interleave.  Kafka settings come from cfg as for the
 * publisher (BOOTSTRAP_SERVERS, KAFKA_PROPERTIES); no consumer group,
 * nothing committed.  A partition whose first offset is not 0 (retention
 * deleted events) is refused before fn is called.  Returns 0,
 * PUBLISHER_READ_ESTOPPED when fn stopped it, or PUBLISHER_READ_EKAFKA
 * with one line in errstr naming the setting or the trouble (also when
 * no message arrives for PUBLISHER_READ_STALL_MS). */
int publisher_read(const struct config *cfg, const char *topic,
    publisher_read_fn fn, void *arg, char *errstr, size_t errstr_size);

#define PUBLISHER_READ_STALL_MS 30000

#endif
