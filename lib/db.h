/* db.h: the SQLite connection shared by store.c and outbox.c: opening,
 * pragmas, schema, and SQLite result codes mapped to store_err. */
#ifndef MSGCMD_DB_H
#define MSGCMD_DB_H

#include <stddef.h>

#include <sqlite3.h>

struct config;

/* Opens cfg->db_path (created mode 0600 when absent), sets WAL, the
 * configured synchronous mode and busy timeout, and creates the schema
 * when missing.  Returns 0 and a connection the caller closes with
 * sqlite3_close(), or STORE_EOPEN with a line in errstr naming
 * DATABASE_PATH. */
int db_open(const struct config *cfg, sqlite3 **out, char *errstr,
    size_t errstr_size);

/* Maps an SQLite result code to 0 or a negative store_err. */
int db_err(int sqlite_rc);

#endif
