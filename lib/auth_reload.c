/* auth_reload.c: replaces the key set without a restart, when the key
 * file changes on disk or when asked (SIGHUP); a failure keeps the old
 * keys.  See auth_int.h for why no lock is needed. */
#include "auth_int.h"
#include "log.h"

#include <string.h>
#include <sys/stat.h>

static void
file_id(const char *path, struct auth_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0) {
		id->missing = 1;
		return;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->ctime = st.st_ctim;
}

static int
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The inode catches a file replaced by rename (and a symlink swapped, as
 * Kubernetes does with mounted secrets); mtime and size an edit in
 * place; ctime an edit whose mtime was set back. */
static int
same_file(const struct auth_file_id *a, const struct auth_file_id *b)
{
	return a->missing == b->missing && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    ts_eq(a->mtime, b->mtime) && ts_eq(a->ctime, b->ctime);
}

void
auth_reload_mark(struct auth *a)
{
	if (a->watch != NULL)
		file_id(a->watch, &a->seen);
}

/* Loads a new set and swaps it in, or logs why not and keeps the old. */
static int
swap_keys(struct auth *a, const char *why)
{
	struct auth_keys *ks = NULL;
	char err[512];
	int rc;

	auth_reload_mark(a);
	rc = auth_keys_load(a, &ks, err, sizeof(err));
	if (rc != 0) {
		if (rc == AUTH_ENOMEM)
			snprintf(err, sizeof(err), "out of memory");
		log_msg(LOG_LEVEL_ERROR, "keys not reloaded (%s), the previous "
		    "ones stay in use: %s", why, err);
		return rc;
	}
	auth_keys_free(a->keys);
	a->keys = ks;
	auth_cache_clear(&a->cache);
	log_msg(LOG_LEVEL_INFO, "keys reloaded (%s) from %s: %zu key(s)", why,
	    a->watch ? a->watch : "the environment", ks->n);
	return 0;
}

int
auth_reload(struct auth *a)
{
	return swap_keys(a, "on request");
}

/* A failed read is recorded as seen too, so a broken file is logged
 * once, not every second, and read again only when it changes. */
void
auth_reload_check(struct auth *a, time_t now)
{
	struct auth_file_id id;

	if (a->watch == NULL || now == a->checked)
		return;
	a->checked = now;
	file_id(a->watch, &id);
	if (!same_file(&id, &a->seen))
		swap_keys(a, "key file changed");
}
