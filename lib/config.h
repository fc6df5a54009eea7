/* config.h: process-wide settings read once at start-up from the
 * environment and an optional .env file; read-only afterwards. */
#ifndef MSGCMD_CONFIG_H
#define MSGCMD_CONFIG_H

#include <stddef.h>

enum config_err {
	CONFIG_OK = 0,
	CONFIG_EINVAL = -1,	/* a setting has a bad value */
	CONFIG_EMISSING = -2,	/* a required setting is absent */
	CONFIG_EFILE = -3,	/* the .env file cannot be read or parsed */
};

enum config_sync { SYNC_OFF, SYNC_NORMAL, SYNC_FULL, SYNC_EXTRA };

/* SHARD "INDEX/COUNT": this process serves shard index of count (see
 * shard.h); "0/1", the default, is an unsharded service. */
struct config_shard {
	int index, count;
};

/* All strings are owned by the config and live until config_free(). */
struct config {
	char *env;		/* ENV: dev or prod (informational) */
	char *db_path;		/* DATABASE_PATH: SQLite file */
	enum config_sync synchronous;	/* SQLITE_SYNCHRONOUS, default FULL */
	int busy_timeout_ms;	/* SQLITE_BUSY_TIMEOUT_MS */
	char *public_key;	/* KEYCLOAK_PUBLIC_KEY: base64 body */
	char *public_key_file;	/* KEYCLOAK_PUBLIC_KEY_FILE: PEM file */
	char *jwks_file;	/* KEYCLOAK_JWKS_FILE: RFC 7517 key set file */
	char *jwks_url;		/* KEYCLOAK_JWKS_URL: the realm's certs endpoint */
	char *alg;		/* KEYCLOAK_ALG, default RS256 */
	char *audience;		/* KEYCLOAK_AUDIENCE, default account */
	char *issuer;		/* KEYCLOAK_ISSUER, NULL = not checked */
	int leeway_s;		/* JWT_LEEWAY_SECONDS, default 30 */
	char *bootstrap_servers; /* BOOTSTRAP_SERVERS (alias BOOTSTRAP_SERVER) */
	char *topic;		/* TOPIC */
	char *kafka_properties;	/* KAFKA_PROPERTIES: "k=v;k=v" for librdkafka */
	char *ce_source;	/* CE_SOURCE: CloudEvents source attribute */
	size_t max_body;	/* MAX_BODY_BYTES */
	size_t max_name;	/* MAX_NAME_CHARS */
	size_t max_participant;	/* MAX_PARTICIPANT_CHARS */
	size_t max_message;	/* MAX_MESSAGE_CHARS */
	char *cors_origins;	/* CORS_ALLOWED_ORIGINS: "*" or a comma list */
	int idempotency_ttl_s;	/* IDEMPOTENCY_TTL_SECONDS */
	int idempotency_required; /* IDEMPOTENCY_REQUIRED: 0 or 1 */
	int rate_per_minute;	/* RATE_LIMIT_PER_MINUTE: commands per subject, 0 = off */
	int rate_burst;		/* RATE_LIMIT_BURST: commands at once */
	int publisher_thread;	/* PUBLISHER: "thread" (1) or "off" (0) */
	struct config_shard shard;	/* SHARD, default 0/1 */
};

/* Fills cfg from the process environment, then from the .env file for
 * variables the environment lacks, then from defaults.  Returns 0, or a
 * negative config_err with one line in errstr naming the setting (or
 * path:line for a .env syntax error).  On error cfg holds nothing that
 * needs freeing. */
int config_load(struct config *cfg, char *errstr, size_t errstr_size);

/* Releases every string config_load() allocated. */
void config_free(struct config *cfg);

/* Returns a static description of a config_err. */
const char *config_strerror(int err);

#endif
