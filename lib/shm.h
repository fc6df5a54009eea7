/* shm.h: a file beside the database that every process of it maps shared
 * (<db>.metrics, <db>.ratelimit).  What lives there changes only by
 * atomic operations, so no lock is held while it is used and a process
 * killed at any point leaves nothing half-done. */
#ifndef MSGCMD_SHM_H
#define MSGCMD_SHM_H

#include <stddef.h>
#include <stdint.h>

/* Maps "<db_path><suffix>", size bytes whose first are an atomic
 * unsigned long long holding magic, a number naming the layout.  A new
 * file (mode 0600) is sized, zero-filled, and stamped with magic; a file
 * of another size or magic is removed and made afresh (processes still
 * mapping the old one use it unseen until they restart).  Returns the
 * mapping, which munmap(p, size) releases, or NULL (path too long, file
 * or mmap failed). */
void *shm_attach(const char *db_path, const char *suffix, size_t size,
    uint64_t magic);

#endif
