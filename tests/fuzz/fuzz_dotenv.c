/* fuzz_dotenv.c: dotenv_load() and config_load() over arbitrary .env
 * files.  dotenv_load() takes a path, so each input is written to one
 * memfd made at start-up and read back through /proc/self/fd/N; the
 * process environment is emptied so that the file alone decides. */
#include "fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "dotenv.h"

static int fd = -1;
static char path[64];

/* A few names config_load() reads, so dotenv_get() finds something. */
static const char *const keys[] = {
	"DATABASE_PATH", "KEYCLOAK_ALG", "MAX_BODY_BYTES", "TOPIC", "PUBLISHER",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz-dotenv", 0);
	FUZZ_ASSERT(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	FUZZ_ASSERT(clearenv() == 0 && setenv("ENV_FILE", path, 1) == 0);
	return 0;
}

/* Replaces the memfd's contents with the input. */
static void put(const uint8_t *data, size_t size)
{
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	for (size_t done = 0; done < size;) {
		ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);

		FUZZ_ASSERT(w > 0);
		done += (size_t)w;
	}
}

static void load_dotenv(void)
{
	struct dotenv *de;
	char err[256];

	if (dotenv_load(&de, path, 1, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(de == NULL && memchr(err, '\0', sizeof(err)));
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		(void)dotenv_get(de, keys[i]);
	dotenv_free(de);
}

static void load_config(void)
{
	struct config cfg;
	char err[256];
	int rc = config_load(&cfg, err, sizeof(err));

	FUZZ_ASSERT(config_strerror(rc) != NULL);
	if (rc != 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	FUZZ_ASSERT(cfg.db_path != NULL && cfg.max_body >= 64);
	config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put(data, size);
	load_dotenv();
	load_config();
	return 0;
}
