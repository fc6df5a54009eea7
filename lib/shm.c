/* shm.c: maps a shared file beside the database; see shm.h. */
#include "shm.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Maps the open file fd (stat st), sizing a new one and stamping its
 * magic.  Returns NULL when the file has another layout or mmap fails. */
static void *shm_map_fd(int fd, const struct stat *st, size_t size,
    uint64_t magic)
{
	atomic_ullong *m;
	unsigned long long zero = 0;

	if (st->st_size == 0 && ftruncate(fd, (off_t)size) != 0)
		return NULL;
	if (st->st_size != 0 && (size_t)st->st_size != size)
		return NULL;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (!atomic_compare_exchange_strong(m, &zero, magic) && zero != magic) {
		munmap(m, size);
		return NULL;
	}
	return m;
}

/* The flock makes processes that start together agree: one sizes the
 * file, or removes one of another layout for the next turn to create
 * afresh; the others then see it done (a removed file is noticed by its
 * inode, and opened again).  It is released before the mapping is used,
 * so what the file holds is never behind a lock. */
void *shm_attach(const char *db_path, const char *suffix, size_t size,
    uint64_t magic)
{
	void *m = NULL;
	struct stat st, now;
	char path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s%s", db_path, suffix) >=
	    sizeof path)
		return NULL;
	for (int tries = 0; m == NULL && tries < 3; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (fd < 0)
			return NULL;
		flock(fd, LOCK_EX);
		if (fstat(fd, &st) == 0 && stat(path, &now) == 0 &&
		    st.st_ino == now.st_ino && st.st_dev == now.st_dev &&
		    (m = shm_map_fd(fd, &st, size, magic)) == NULL)
			unlink(path);
		/* Explicitly: the mapping keeps the file open, and with it
		 * the lock, past close(). */
		flock(fd, LOCK_UN);
		close(fd);
	}
	return m;
}
