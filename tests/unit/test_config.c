/* test_config.c: defaults, environment over .env, aliases, and the one
 * line naming a bad setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dotenv.h"
#include "unit.h"

static char envpath[64];

static const char *const touched[] = { "ENV_FILE", "TOPIC",
	"BOOTSTRAP_SERVERS", "BOOTSTRAP_SERVER", "SQLITE_SYNCHRONOUS",
	"MAX_NAME_CHARS", "IDEMPOTENCY_REQUIRED", "KEYCLOAK_ISSUER",
	"PUBLISHER", "JWT_LEEWAY_SECONDS", "SHARD", "CORS_ALLOWED_ORIGINS",
	NULL };

static void setup(void)
{
	for (int i = 0; touched[i]; i++)
		unsetenv(touched[i]);
	snprintf(envpath, sizeof envpath, "/tmp/msgcmd-test-%d.env", getpid());
	setenv("ENV_FILE", envpath, 1);
}

static void teardown(void)
{
	unlink(envpath);
}

static void write_env(const char *text)
{
	FILE *f = fopen(envpath, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_config_defaults)
{
	struct config cfg;
	char err[256] = "";
	write_env("");
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(cfg.alg, "RS256");
	ck_assert_str_eq(cfg.audience, "account");
	ck_assert_str_eq(cfg.bootstrap_servers, "127.0.0.1:9092");
	ck_assert_int_eq(cfg.synchronous, SYNC_FULL);
	ck_assert_uint_eq(cfg.max_body, 65536);
	ck_assert_uint_eq(cfg.max_name, 100);
	ck_assert_uint_eq(cfg.max_participant, 100);
	ck_assert_uint_eq(cfg.max_message, 10000);
	ck_assert_int_eq(cfg.leeway_s, 30);
	ck_assert_int_eq(cfg.idempotency_ttl_s, 86400);
	ck_assert_int_eq(cfg.idempotency_required, 0);
	ck_assert_int_eq(cfg.publisher_thread, 1);
	ck_assert_int_eq(cfg.shard.index, 0);
	ck_assert_int_eq(cfg.shard.count, 1);
	ck_assert_str_eq(cfg.cors_origins, "*");
	ck_assert_ptr_null(cfg.issuer);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_env_wins_over_file)
{
	struct config cfg;
	char err[256] = "";
	write_env("# comment\nexport TOPIC=from-file\nSHARD=1/2\n"
	    "SQLITE_SYNCHRONOUS='normal'\nMAX_NAME_CHARS=50 # trailing\n"
	    "KEYCLOAK_ISSUER=\"http://kc/realms/x\"\n");
	setenv("TOPIC", "from-env", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(cfg.topic, "from-env");
	ck_assert_int_eq(cfg.synchronous, SYNC_NORMAL);
	ck_assert_uint_eq(cfg.max_name, 50);
	ck_assert_str_eq(cfg.issuer, "http://kc/realms/x");
	ck_assert_int_eq(cfg.shard.index, 1);
	ck_assert_int_eq(cfg.shard.count, 2);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_alias)
{
	struct config cfg;
	char err[256] = "";
	write_env("BOOTSTRAP_SERVER=k1:9092\n");
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(cfg.bootstrap_servers, "k1:9092");
	config_free(&cfg);
	setenv("BOOTSTRAP_SERVERS", "k2:9092", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(cfg.bootstrap_servers, "k2:9092");
	config_free(&cfg);
	/* The environment wins under either name. */
	unsetenv("BOOTSTRAP_SERVERS");
	setenv("BOOTSTRAP_SERVER", "k3:9092", 1);
	write_env("BOOTSTRAP_SERVERS=k1:9092\n");
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(cfg.bootstrap_servers, "k3:9092");
	config_free(&cfg);
}
END_TEST

/* Values that must load as they are. */
static const struct {
	const char *file;
} good[] = {
	{ "TOPIC=a.b_C-9\n" },
	{ "CORS_ALLOWED_ORIGINS=https://app.example\n" },
	{ "CORS_ALLOWED_ORIGINS=https://a.example:8443, http://b.example\n" },
	{ "CORS_ALLOWED_ORIGINS=http://[::1]:8080\n" },
	{ "MAX_NAME_CHARS=007\n" },
};

START_TEST(test_config_good_values)
{
	struct config cfg;
	char err[256] = "";
	write_env(good[_i].file);
	ck_assert_msg(config_load(&cfg, err, sizeof err) == 0, "%s: %s",
	    good[_i].file, err);
	config_free(&cfg);
}
END_TEST

static const struct {
	const char *file, *needle;
} bad[] = {
	{ "SQLITE_SYNCHRONOUS=sometimes\n", "SQLITE_SYNCHRONOUS" },
	{ "MAX_NAME_CHARS=0\n", "MAX_NAME_CHARS" },
	{ "MAX_NAME_CHARS=12abc\n", "MAX_NAME_CHARS" },
	{ "JWT_LEEWAY_SECONDS=-1\n", "JWT_LEEWAY_SECONDS" },
	{ "IDEMPOTENCY_REQUIRED=maybe\n", "IDEMPOTENCY_REQUIRED" },
	{ "PUBLISHER=sometimes\n", "PUBLISHER" },
	{ "SHARD=2/2\n", "SHARD" },
	{ "SHARD=0/0\n", "SHARD" },
	{ "SHARD=0/17\n", "SHARD" },
	{ "SHARD=1\n", "SHARD" },
	{ "SHARD=-0/2\n", "SHARD" },
	{ "SHARD=0/+2\n", "SHARD" },
	{ "SHARD=1/2x\n", "SHARD" },
	{ "TOPIC=\n", "TOPIC" },
	{ "TOPIC=bad topic\n", "TOPIC: invalid value \"bad topic\" (want 1 to 249" },
	{ "TOPIC=..\n", "TOPIC" },
	{ "TOPIC=caf\xc3\xa9\n", "TOPIC" },
	{ "MAX_NAME_CHARS=+5\n", "MAX_NAME_CHARS" },
	{ "MAX_BODY_BYTES=20\n",
	    "MAX_BODY_BYTES: invalid value \"20\" (want a number from 64 to" },
	{ "SQLITE_SYNCHRONOUS=x\n", "(want OFF, NORMAL, FULL or EXTRA)" },
	{ "CORS_ALLOWED_ORIGINS=not-an-origin\n", "CORS_ALLOWED_ORIGINS" },
	{ "CORS_ALLOWED_ORIGINS=https://a.example/\n", "CORS_ALLOWED_ORIGINS" },
	{ "CORS_ALLOWED_ORIGINS=https://a.example/app\n", "CORS_ALLOWED_ORIGINS" },
	{ "CORS_ALLOWED_ORIGINS=https://a.example:80x\n", "CORS_ALLOWED_ORIGINS" },
	{ "CORS_ALLOWED_ORIGINS=https://\n", "CORS_ALLOWED_ORIGINS" },
	{ "CORS_ALLOWED_ORIGINS=*, https://a.example\n", "CORS_ALLOWED_ORIGINS" },
	{ "TOPIC=a\nnot a line\n", ":2: expected KEY=VALUE" },
	{ "9LIVES=1\n", ":1: invalid variable name" },
	{ "TOPIC=\"open\n", ":1: unterminated" },
};

START_TEST(test_config_bad_setting_named)
{
	struct config cfg;
	char err[256] = "";
	write_env(bad[_i].file);
	ck_assert_int_lt(config_load(&cfg, err, sizeof err), 0);
	ck_assert_msg(strstr(err, bad[_i].needle), "error \"%s\" lacks \"%s\"",
	    err, bad[_i].needle);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_config_missing_env_file)
{
	struct config cfg;
	char err[256] = "";
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), CONFIG_EFILE);
	ck_assert_ptr_nonnull(strstr(err, "ENV_FILE"));
	unsetenv("ENV_FILE");
	ck_assert_int_eq(chdir("/"), 0);	/* no .env there: optional */
	ck_assert_int_eq(config_load(&cfg, err, sizeof err), 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_dotenv_quotes_and_last_wins)
{
	struct dotenv *de;
	char err[256];
	write_env("A=1\nA=2\nB=\"x \\\"y\\\" \\n z\"\nC='lit # \\n'\n");
	ck_assert_int_eq(dotenv_load(&de, envpath, 1, err, sizeof err), 0);
	ck_assert_str_eq(dotenv_get(de, "A"), "2");
	ck_assert_str_eq(dotenv_get(de, "B"), "x \"y\" \n z");
	ck_assert_str_eq(dotenv_get(de, "C"), "lit # \\n");
	ck_assert_ptr_null(dotenv_get(de, "D"));
	dotenv_free(de);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_env_wins_over_file);
	tcase_add_test(tc, test_config_alias);
	tcase_add_loop_test(tc, test_config_good_values, 0,
	    sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, test_config_bad_setting_named, 0,
	    sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_config_missing_env_file);
	tcase_add_test(tc, test_dotenv_quotes_and_last_wins);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_suite)
