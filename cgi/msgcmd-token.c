/* msgcmd-token.c: development tool that mints Keycloak-like access tokens
 * and prints a public key in KEYCLOAK_PUBLIC_KEY or JWKS form; never for
 * prod.
 *
 * Key pairs come from openssl itself:
 *   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
 *       -out var/dev-private.pem
 *   openssl pkey -in var/dev-private.pem -pubout -out var/dev-public.pem
 *   KEYCLOAK_PUBLIC_KEY=$(msgcmd-token --print-public-body var/dev-public.pem)
 *   msgcmd-token --key var/dev-private.pem --sub bob --ttl -60  # expired
 *   msgcmd-token --jwks var/dev-public.pem k1 >var/jwks.json
 *   msgcmd-token --key var/dev-private.pem --kid k1   # for that JWKS
 */
#include "auth.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define KEY_FILE_MAX 65536
#define AUD_MAX 8

static const char usage[] =
    "usage: msgcmd-token --key PRIVATE.pem [--sub SUB] [--aud AUD]...\n"
    "           [--iss URL|''] [--ttl SECONDS] [--alg RS256] [--kid KID]\n"
    "       msgcmd-token --print-public-body PUBLIC.pem\n"
    "       msgcmd-token [--alg RS256] --jwks PUBLIC.pem KID\n";

struct opts {
	const char *key, *sub, *iss, *alg, *kid, *body_of, *jwks_of;
	const char *aud[AUD_MAX];
	int naud;
	long ttl;
};

/* Reads a whole (small) file.  Returns a malloc'd NUL-terminated text, or
 * NULL after printing why. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = malloc(KEY_FILE_MAX + 1);
	size_t n = 0;

	if (fp == NULL || buf == NULL) {
		perror(path);
		free(buf);
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, KEY_FILE_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/* Prints the base64 lines between the PUBLIC KEY armour as one line: the
 * SubjectPublicKeyInfo body Keycloak shows as the realm's public key. */
static int
print_public_body(const char *path)
{
	static const char head[] = "-----BEGIN PUBLIC KEY-----";
	char *pem = slurp(path), *p, *end;

	if (pem == NULL)
		return 1;
	p = strstr(pem, head);
	end = p ? strstr(p, "-----END PUBLIC KEY-----") : NULL;
	if (end == NULL) {
		fprintf(stderr, "msgcmd-token: %s: no BEGIN PUBLIC KEY block "
		    "(make one with: openssl pkey -pubout)\n", path);
		free(pem);
		return 1;
	}
	for (p += sizeof(head) - 1; p < end; p++)
		if (strchr(" \t\r\n", *p) == NULL)
			putchar(*p);
	putchar('\n');
	free(pem);
	return 0;
}

/* Builds the claims Keycloak puts in an access token, as JSON text the
 * caller frees. */
static char *
claims_json(const struct opts *o, time_t now)
{
	struct json_object *c = json_object_new_object(), *aud;
	char *out;

	json_object_object_add(c, "sub", json_object_new_string(o->sub));
	json_object_object_add(c, "preferred_username",
	    json_object_new_string(o->sub));
	if (o->naud == 1) {
		aud = json_object_new_string(o->aud[0]);
	} else {
		aud = json_object_new_array();
		for (int i = 0; i < o->naud; i++)
			json_object_array_add(aud,
			    json_object_new_string(o->aud[i]));
	}
	json_object_object_add(c, "aud", aud);
	json_object_object_add(c, "exp", json_object_new_int64(now + o->ttl));
	json_object_object_add(c, "iat", json_object_new_int64(now));
	if (*o->iss != '\0')
		json_object_object_add(c, "iss",
		    json_object_new_string(o->iss));
	json_object_object_add(c, "typ", json_object_new_string("Bearer"));
	out = strdup(json_object_to_json_string_ext(c,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(c);
	return out;
}

static int
mint(const struct opts *o)
{
	char *pem = slurp(o->key), *claims = NULL, *token = NULL;
	int rc = AUTH_ENOMEM;

	if (pem == NULL)
		return 1;
	if ((claims = claims_json(o, time(NULL))) != NULL)
		rc = auth_sign(pem, o->alg, o->kid, claims, &token);
	if (rc == 0)
		printf("%s\n", token);
	else if (rc == AUTH_EKEY)
		fprintf(stderr, "msgcmd-token: %s: not a private key for %s\n",
		    o->key, o->alg);
	else
		fprintf(stderr, "msgcmd-token: %s\n", auth_strerror(rc));
	free(token);
	free(claims);
	free(pem);
	return rc == 0 ? 0 : 1;
}

/* Prints a JWKS with the public key in path under kid, for o->alg. */
static int
print_jwks(const struct opts *o)
{
	char *pem = slurp(o->jwks_of), *jwks = NULL;
	int rc;

	if (pem == NULL)
		return 1;
	rc = auth_jwks_make(pem, o->kid, o->alg, &jwks);
	if (rc == 0)
		printf("%s\n", jwks);
	else if (rc == AUTH_EKEY)
		fprintf(stderr, "msgcmd-token: %s: not a public key (openssl "
		    "pkey -pubout) fit for --alg %s\n", o->jwks_of, o->alg);
	else
		fprintf(stderr, "msgcmd-token: %s\n", auth_strerror(rc));
	free(jwks);
	free(pem);
	return rc == 0 ? 0 : 1;
}

/* Exactly one mode: --key, --print-public-body or --jwks (whose KID is
 * the one argument left after the options). */
static int
one_mode(int argc, char **argv, struct opts *o)
{
	int modes = (o->key != NULL) + (o->body_of != NULL) +
	    (o->jwks_of != NULL);

	if (o->jwks_of != NULL) {
		if (optind + 1 != argc || o->kid != NULL)
			return -1;
		o->kid = argv[optind++];
	}
	return modes == 1 && optind == argc ? 0 : -1;
}

/* Fills o from argv; returns 0, or -1 after a usage error. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "sub", required_argument, NULL, 's' },
		{ "aud", required_argument, NULL, 'a' },
		{ "iss", required_argument, NULL, 'i' },
		{ "ttl", required_argument, NULL, 't' },
		{ "alg", required_argument, NULL, 'g' },
		{ "kid", required_argument, NULL, 'd' },
		{ "print-public-body", required_argument, NULL, 'p' },
		{ "jwks", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 's': o->sub = optarg; break;
		case 'i': o->iss = optarg; break;
		case 'g': o->alg = optarg; break;
		case 'd': o->kid = optarg; break;
		case 'p': o->body_of = optarg; break;
		case 'j': o->jwks_of = optarg; break;
		case 'a':
			if (o->naud == AUD_MAX)
				return -1;
			o->aud[o->naud++] = optarg;
			break;
		case 't':
			o->ttl = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0')
				return -1;
			break;
		default:
			return -1;
		}
	}
	return one_mode(argc, argv, o);
}

int
main(int argc, char **argv)
{
	struct opts o = { .sub = "alice", .iss = "http://localhost/realms/dev",
	    .alg = "RS256", .ttl = 3600 };

	if (parse_args(argc, argv, &o) != 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (o.body_of != NULL)
		return print_public_body(o.body_of);
	if (o.jwks_of != NULL)
		return print_jwks(&o);
	if (o.naud == 0)
		o.aud[o.naud++] = "account";
	return mint(&o);
}
