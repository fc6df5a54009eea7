/* auth_keys.c: where the verification keys come from (one table row per
 * setting) and the key set a token's kid picks from. */
#include "auth_int.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/* Builds a key set from the value of one setting; the errstr contract of
 * auth_keys_load(). */
typedef int (*auth_loader)(const struct auth_alg *alg, const char *value,
    struct auth_keys **out, char *errstr, size_t errstr_size);

struct auth_source {
	const char *var;	/* the setting */
	size_t offset;		/* its char * in struct config */
	int is_file;		/* its value is a path, re-read on change */
	int refetch;		/* an unknown kid fetches the set again */
	auth_loader load;
};

static int load_body(const struct auth_alg *, const char *,
    struct auth_keys **, char *, size_t);
static int load_pem(const struct auth_alg *, const char *,
    struct auth_keys **, char *, size_t);

/* Exactly one of these must be set.  Only a JWKS names its keys, so
 * only there does the token's kid matter; only the realm's own URL can
 * have learnt a new key since we read it. */
static const struct auth_source sources[] = {
	{ "KEYCLOAK_PUBLIC_KEY", offsetof(struct config, public_key), 0, 0,
	    load_body },
	{ "KEYCLOAK_PUBLIC_KEY_FILE", offsetof(struct config, public_key_file),
	    1, 0, load_pem },
	{ "KEYCLOAK_JWKS_FILE", offsetof(struct config, jwks_file), 1, 0,
	    auth_jwks_load },
	{ "KEYCLOAK_JWKS_URL", offsetof(struct config, jwks_url), 0, 1,
	    auth_fetch_load },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

struct auth_keys *
auth_keys_new(size_t cap, int by_kid)
{
	struct auth_keys *ks = calloc(1, sizeof(*ks) +
	    cap * sizeof(ks->key[0]));

	if (ks != NULL)
		ks->by_kid = by_kid;
	return ks;
}

void
auth_keys_free(struct auth_keys *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->key[i].kid);
		EVP_PKEY_free(ks->key[i].pkey);
	}
	free(ks);
}

/* Wraps the one key of a body or PEM source in a set that ignores kid. */
static int
single(const struct auth_alg *alg, const char *var, EVP_PKEY *key, int rc,
    struct auth_keys **out, char *errstr, size_t size)
{
	if (rc == 0)
		rc = auth_key_suits(alg, key, var, errstr, size);
	if (rc == 0 && (*out = auth_keys_new(1, 0)) == NULL)
		rc = AUTH_ENOMEM;
	if (rc != 0) {
		EVP_PKEY_free(key);
		return rc;
	}
	(*out)->key[0].pkey = key;
	(*out)->n = 1;
	return 0;
}

static int
load_body(const struct auth_alg *alg, const char *body,
    struct auth_keys **out, char *errstr, size_t size)
{
	EVP_PKEY *key = NULL;
	int rc = auth_key_from_body(body, &key, errstr, size);

	return single(alg, "KEYCLOAK_PUBLIC_KEY", key, rc, out, errstr, size);
}

static int
load_pem(const struct auth_alg *alg, const char *path,
    struct auth_keys **out, char *errstr, size_t size)
{
	EVP_PKEY *key = NULL;
	int rc = auth_key_from_pem(path, &key, errstr, size);

	return single(alg, "KEYCLOAK_PUBLIC_KEY_FILE", key, rc, out, errstr,
	    size);
}

static const char *
value_of(const struct config *cfg, const struct auth_source *src)
{
	return *(char *const *)((const char *)cfg + src->offset);
}

/* Finds the one key setting that is set.  Returns its row, or NULL with
 * errstr naming the settings set (or, when none is, all of them). */
static const struct auth_source *
choose(const struct config *cfg, char *errstr, size_t size)
{
	const struct auth_source *found = NULL;
	char set[128] = "", all[128] = "";
	int n = 0;

	for (size_t i = 0; i < NSOURCES; i++) {
		const char *v = value_of(cfg, &sources[i]);
		size_t o = strlen(all);

		snprintf(all + o, sizeof(all) - o, "%s%s", i ? ", " : "",
		    sources[i].var);
		if (v == NULL || *v == '\0')
			continue;
		o = strlen(set);
		snprintf(set + o, sizeof(set) - o, "%s%s", n++ ? ", " : "",
		    sources[i].var);
		found = &sources[i];
	}
	if (n == 1)
		return found;
	snprintf(errstr, size, "%s: %s; set exactly one of %s",
	    n ? set : sources[0].var, n ? "more than one is set" : "not set",
	    all);
	return NULL;
}

int
auth_keys_open(struct auth *a, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	const struct auth_source *src = choose(cfg, errstr, errstr_size);

	if (src == NULL)
		return AUTH_EKEY;
	a->src = src;
	if ((a->src_value = strdup(value_of(cfg, src))) == NULL)
		return AUTH_ENOMEM;
	a->watch = src->is_file ? a->src_value : NULL;
	auth_reload_mark(a);
	return auth_keys_load(a, &a->keys, errstr, errstr_size);
}

int
auth_keys_load(struct auth *a, struct auth_keys **out, char *errstr,
    size_t errstr_size)
{
	int rc;

	*out = NULL;
	rc = a->src->load(a->alg, a->src_value, out, errstr, errstr_size);
	/* OpenSSL queues errors per thread; drop them so none linger. */
	ERR_clear_error();
	if (rc == 0 && a->src->refetch)
		(*out)->refetch = a;
	return rc;
}

/* Without a kid, a one-key set still verifies: the signature decides, so
 * nothing is gained by refusing, and small deployments (or a Keycloak
 * realm with one key) may omit it.  With several keys we refuse rather
 * than try each, so a token costs one signature check at most. */
static int
pick(const struct auth_keys *ks, struct json_object *kid, EVP_PKEY **key)
{
	if (!ks->by_kid || (kid == NULL && ks->n == 1)) {
		*key = ks->key[0].pkey;
		return 0;
	}
	for (size_t i = 0; kid != NULL && i < ks->n; i++)
		if (ks->key[i].kid != NULL &&
		    auth_json_streq(kid, ks->key[i].kid)) {
			*key = ks->key[i].pkey;
			return 0;
		}
	return AUTH_EKID;
}

/* Only a string kid is worth a refetch: without one, or with a number,
 * no set could ever match. */
int
auth_keys_pick(const struct auth_keys *ks, struct json_object *kid,
    EVP_PKEY **key)
{
	struct auth *owner = ks->refetch;
	int rc = pick(ks, kid, key);

	/* From here on ks may be freed: only owner is used. */
	if (rc == AUTH_EKID && owner != NULL &&
	    json_object_is_type(kid, json_type_string) &&
	    auth_fetch_refetch(owner) == 0)
		rc = pick(owner->keys, kid, key);
	return rc;
}
