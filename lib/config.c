/* config.c: settings from the environment and an optional .env file,
 * one table row per variable. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dotenv.h"
#include "shard.h"

enum config_type {
	T_STR, T_INT, T_SIZE, T_SYNC, T_BOOL, T_PUBLISHER, T_SHARD,
	T_TOPIC,	/* a Kafka topic name */
	T_ORIGINS,	/* "*" or a list of origins, "scheme://host[:port]" */
};

struct config_row {
	const char *name;
	const char *alias;	/* older name still accepted, or NULL */
	enum config_type type;
	size_t offset;
	const char *def;	/* default text, NULL = unset allowed */
	long min, max;		/* numeric bounds */
};

#define OFF(f) offsetof(struct config, f)

/* The spec of every variable: read this table, not the code below. */
static const struct config_row config_rows[] = {
	{ "ENV", NULL, T_STR, OFF(env), "dev", 0, 0 },
	{ "DATABASE_PATH", NULL, T_STR, OFF(db_path), "var/msgcmd.db", 0, 0 },
	{ "SQLITE_SYNCHRONOUS", NULL, T_SYNC, OFF(synchronous), "FULL", 0, 0 },
	{ "SQLITE_BUSY_TIMEOUT_MS", NULL, T_INT, OFF(busy_timeout_ms), "5000", 0, 600000 },
	{ "KEYCLOAK_PUBLIC_KEY", NULL, T_STR, OFF(public_key), NULL, 0, 0 },
	{ "KEYCLOAK_PUBLIC_KEY_FILE", NULL, T_STR, OFF(public_key_file), NULL, 0, 0 },
	{ "KEYCLOAK_JWKS_FILE", NULL, T_STR, OFF(jwks_file), NULL, 0, 0 },
	{ "KEYCLOAK_JWKS_URL", NULL, T_STR, OFF(jwks_url), NULL, 0, 0 },
	{ "KEYCLOAK_ALG", NULL, T_STR, OFF(alg), "RS256", 0, 0 },
	{ "KEYCLOAK_AUDIENCE", NULL, T_STR, OFF(audience), "account", 0, 0 },
	{ "KEYCLOAK_ISSUER", NULL, T_STR, OFF(issuer), NULL, 0, 0 },
	{ "JWT_LEEWAY_SECONDS", NULL, T_INT, OFF(leeway_s), "30", 0, 3600 },
	{ "BOOTSTRAP_SERVERS", "BOOTSTRAP_SERVER", T_STR, OFF(bootstrap_servers), "127.0.0.1:9092", 0, 0 },
	{ "TOPIC", NULL, T_TOPIC, OFF(topic), "conversations", 0, 0 },
	{ "KAFKA_PROPERTIES", NULL, T_STR, OFF(kafka_properties), NULL, 0, 0 },
	{ "CE_SOURCE", NULL, T_STR, OFF(ce_source), "/msgcmd", 0, 0 },
	{ "MAX_BODY_BYTES", NULL, T_SIZE, OFF(max_body), "65536", 64, 16777216 },
	{ "MAX_NAME_CHARS", NULL, T_SIZE, OFF(max_name), "100", 1, 100000 },
	{ "MAX_PARTICIPANT_CHARS", NULL, T_SIZE, OFF(max_participant), "100", 1, 255 },
	{ "MAX_MESSAGE_CHARS", NULL, T_SIZE, OFF(max_message), "10000", 1, 1000000 },
	{ "CORS_ALLOWED_ORIGINS", NULL, T_ORIGINS, OFF(cors_origins), "*", 0, 0 },
	{ "IDEMPOTENCY_TTL_SECONDS", NULL, T_INT, OFF(idempotency_ttl_s), "86400", 1, 31536000 },
	{ "IDEMPOTENCY_REQUIRED", NULL, T_BOOL, OFF(idempotency_required), "false", 0, 0 },
	{ "RATE_LIMIT_PER_MINUTE", NULL, T_INT, OFF(rate_per_minute), "0", 0, 60000 },
	{ "RATE_LIMIT_BURST", NULL, T_INT, OFF(rate_burst), "10", 1, 100000 },
	{ "PUBLISHER", NULL, T_PUBLISHER, OFF(publisher_thread), "thread", 0, 0 },
	{ "SHARD", NULL, T_SHARD, OFF(shard), "0/1", 0, 0 },
};

#define CONFIG_NROWS (sizeof config_rows / sizeof config_rows[0])

static const char *const config_sync_words[] = { "OFF", "NORMAL", "FULL", "EXTRA" };

/* Looks a word up in a list, case-insensitively; returns its index or -1. */
static int config_word(const char *s, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(s, words[i]) == 0)
			return i;
	return -1;
}

static int config_number(const struct config_row *r, const char *s,
    long *out)
{
	char *end;
	/* Digits only: strtol alone would take " 5" and "+5". */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < r->min || v > r->max)
		return -1;
	*out = v;
	return 0;
}

/* Parses "INDEX/COUNT" (0 <= INDEX < COUNT <= SHARD_MAX) into sh. */
static int config_shard(const char *s, struct config_shard *sh)
{
	char *end;
	long i, n;

	/* Digits only: strtol alone would take " 1", "+1" and "-0". */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	i = strtol(s, &end, 10);
	if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	s = end + 1;
	n = strtol(s, &end, 10);
	if (errno || *end || n < 1 || n > SHARD_MAX || i >= n)
		return -1;
	sh->index = (int)i;
	sh->count = (int)n;
	return 0;
}

/* A name Kafka accepts for a topic: 1-249 of [A-Za-z0-9._-], not "." or
 * "..".  Anything else is refused by the broker only when the first
 * event is published, long after start-up. */
static int config_topic_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* One origin as browsers send it: scheme "://" host [":" port], nothing
 * after (a trailing slash or a path never matches an Origin header). */
static int config_origin_ok(const char *s, size_t n)
{
	const char *sep = strstr(s, "://");
	size_t scheme, host, port;

	if (sep == NULL || sep >= s + n)
		return 0;
	scheme = (size_t)(sep - s);
	s = sep + 3;
	n -= scheme + 3;
	/* An IPv6 address is bracketed: its colons are not the port's. */
	host = *s == '[' ? strcspn(s, "]/") + 1 : strcspn(s, ":/");
	if (scheme == 0 || host == 0 || host > n)
		return 0;
	if (host == n)
		return 1;
	if (s[host] != ':' || host + 1 == n)
		return 0;
	port = strspn(s + host + 1, "0123456789");
	return host + 1 + port == n;
}

/* "*", or origins separated by commas or blanks (cors.c reads it so). */
static int config_origins_ok(const char *s)
{
	size_t n, items = 0;

	if (strcmp(s, "*") == 0)
		return 1;
	for (; *s; s += n) {
		s += strspn(s, ", ");
		if ((n = strcspn(s, ", ")) == 0)
			break;
		if (!config_origin_ok(s, n))
			return 0;
		items++;
	}
	return items > 0;
}

/* Whether a field of this type is a string the config owns. */
static int config_is_string(enum config_type t)
{
	return t == T_STR || t == T_TOPIC || t == T_ORIGINS;
}

/* Parses s into the field of row r; returns 0 or -1 (bad value). */
static int config_set(struct config *cfg, const struct config_row *r,
    const char *s)
{
	static const char *const bools[] = { "false", "true", "0", "1", "no", "yes" };
	static const char *const pubs[] = { "off", "thread" };
	char *field = (char *)cfg + r->offset;
	long v = 0;
	int w;

	switch (r->type) {
	case T_STR:
	case T_TOPIC:
	case T_ORIGINS:
		if (*s == '\0' || (r->type == T_TOPIC && !config_topic_ok(s)) ||
		    (r->type == T_ORIGINS && !config_origins_ok(s)))
			return -1;
		return (*(char **)field = strdup(s)) ? 0 : -1;
	case T_INT:
		if (config_number(r, s, &v))
			return -1;
		*(int *)field = (int)v;
		return 0;
	case T_SIZE:
		if (config_number(r, s, &v))
			return -1;
		*(size_t *)field = (size_t)v;
		return 0;
	case T_SYNC:
		w = config_word(s, config_sync_words, 4);
		*(enum config_sync *)field = (enum config_sync)w;
		return w < 0 ? -1 : 0;
	case T_BOOL:
		w = config_word(s, bools, 6);
		*(int *)field = w % 2;
		return w < 0 ? -1 : 0;
	case T_PUBLISHER:
		w = config_word(s, pubs, 2);
		*(int *)field = w;
		return w < 0 ? -1 : 0;
	case T_SHARD:
		return config_shard(s, (struct config_shard *)(void *)field);
	}
	return -1;
}

/* The environment wins over the .env file under either name: a
 * BOOTSTRAP_SERVER exported beats a BOOTSTRAP_SERVERS in the file. */
static const char *config_value(const struct dotenv *de,
    const struct config_row *r)
{
	const char *v = getenv(r->name);
	if (!v && r->alias)
		v = getenv(r->alias);
	if (!v)
		v = dotenv_get(de, r->name);
	if (!v && r->alias)
		v = dotenv_get(de, r->alias);
	return v ? v : r->def;
}

/* The one line naming a bad setting, with what it takes where that is
 * not obvious. */
static void config_invalid(const struct config_row *r, const char *v,
    char *errstr, size_t errstr_size)
{
	static const char *const wants[] = {
		[T_SYNC] = "OFF, NORMAL, FULL or EXTRA",
		[T_BOOL] = "true or false",
		[T_PUBLISHER] = "thread or off",
		[T_SHARD] = "INDEX/COUNT, 0 <= INDEX < COUNT",
		[T_TOPIC] = "1 to 249 of A-Z a-z 0-9 . _ -",
		[T_ORIGINS] = "* or origins like https://app.example:8443",
	};
	char range[64] = "";
	const char *want = r->type < sizeof wants / sizeof wants[0] ?
	    wants[r->type] : NULL;

	if (r->type == T_INT || r->type == T_SIZE) {
		snprintf(range, sizeof range, "a number from %ld to %ld",
		    r->min, r->max);
		want = range;
	}
	snprintf(errstr, errstr_size, "%s: invalid value \"%.60s\"%s%s%s",
	    r->name, v, want ? " (want " : "", want ? want : "",
	    want ? ")" : "");
}

int config_load(struct config *cfg, char *errstr, size_t errstr_size)
{
	struct dotenv *de = NULL;
	const char *path = getenv("ENV_FILE");

	memset(cfg, 0, sizeof *cfg);
	if (dotenv_load(&de, path ? path : ".env", path != NULL, errstr,
	    errstr_size) != 0)
		return CONFIG_EFILE;
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];
		const char *v = config_value(de, r);
		if (v && *v == '\0' && r->def == NULL)
			continue;	/* an empty optional setting means unset */
		if (v && config_set(cfg, r, v) != 0) {
			config_invalid(r, v, errstr, errstr_size);
			dotenv_free(de);
			config_free(cfg);
			return CONFIG_EINVAL;
		}
	}
	dotenv_free(de);
	return CONFIG_OK;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++)
		if (config_is_string(config_rows[i].type)) {
			char **p = (char **)((char *)cfg + config_rows[i].offset);
			free(*p);
			*p = NULL;
		}
}

const char *config_strerror(int err)
{
	switch (err) {
	case CONFIG_OK: return "no error";
	case CONFIG_EINVAL: return "a setting has an invalid value";
	case CONFIG_EMISSING: return "a required setting is missing";
	case CONFIG_EFILE: return "the .env file cannot be read";
	default: return "unknown configuration error";
	}
}
