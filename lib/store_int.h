/* store_int.h: internal to lib/store*.c.  The store's prepared
 * statements and the helpers that run them; it keeps <sqlite3.h> and the
 * statement table out of the rest. */
#ifndef MSGCMD_STORE_INT_H
#define MSGCMD_STORE_INT_H

#include <sqlite3.h>

/* Every statement is prepared once in store_open() and reused: parsing
 * SQL per command would cost more than the command itself. */
enum store_stmt {
	S_NONE = 0, S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_LOAD, S_FIND_IDEM, S_HEALTH,
	S_INS_CONV, S_INS_MEMBER, S_DEL_MEMBER, S_DEL_CONV,
	S_INS_OUTBOX, S_INS_IDEM, S_TOUCH_UP, S_TOUCH_DOWN,
	S__MAX
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S__MAX];
};

/* Makes s ready for reuse and maps rc, the result of its last step: 0
 * for a row or done, else a store_err.  It clears the bindings too. */
int store_end(sqlite3_stmt *s, int rc);

/* Steps s once and ends it: 0 or a store_err. */
int store_run(sqlite3_stmt *s);

/* Binds t (borrowed until store_end) to parameter i, or NULL when t is
 * NULL: SQLite's result code. */
int store_text(sqlite3_stmt *s, int i, const char *t);

/* Runs sql (statements without parameters): 0 or a store_err, after a
 * rollback of the open transaction. */
int store_exec(struct store *st, const char *sql);

#endif
