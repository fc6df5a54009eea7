/* db.h: the SQLite connection shared by store.c and outbox.c: opening,
 * pragmas, schema, and SQLite result codes mapped to store_err. */
#ifndef MSGCMD_DB_H
#define MSGCMD_DB_H

#include <stddef.h>

#include <sqlite3.h>

struct config;

/* Checkpoints (WAL pages copied into the database file) are the
 * publisher's job (outbox_checkpoint()).  Left to every connection, as
 * SQLite does by default after 1000 pages, they starve under a steady
 * load: some process always reads an older snapshot, so no checkpoint
 * ever completes, the WAL stays over the threshold and every commit of
 * every responder tries again, each try syncing the WAL.  Connections
 * still checkpoint past this many pages, for a database no publisher
 * serves. */
#define DB_CKPT_BACKSTOP 32768

/* Opens cfg->db_path (created mode 0600 when absent), sets WAL, the
 * configured synchronous mode, busy handler and the backstop above, and
 * creates the schema when missing.  Returns 0 and a connection the
 * caller closes with sqlite3_close(), or with a line in errstr naming
 * DATABASE_PATH: a transient error (store_transient()) for a cause that
 * may go away by itself, else STORE_EOPEN.  The busy handler reads
 * cfg->busy_timeout_ms at every wait: cfg must outlive the connection. */
int db_open(const struct config *cfg, sqlite3 **out, char *errstr,
    size_t errstr_size);

/* Makes db wait for a lock at most *timeout_ms milliseconds (read at
 * each wait; the int must outlive db or the next call).  Returns an
 * SQLite result code. */
int db_busy_wait(sqlite3 *db, const int *timeout_ms);

/* Maps an SQLite result code to 0 or a negative store_err. */
int db_err(int sqlite_rc);

#endif
