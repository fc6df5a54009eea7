/* handle_int.h: internal to lib/handle*.c.  The command that
 * handle.c has read from the request (path, body, key, token), which
 * handle_persist.c decides and stores in one transaction. */
#ifndef MSGCMD_HANDLE_INT_H
#define MSGCMD_HANDLE_INT_H

#include "auth.h"
#include "body.h"
#include "decide.h"
#include "event.h"
#include "handle.h"
#include "idem.h"
#include "route.h"
#include "store.h"

/* What a command needs from the request: a row of handle.c's table. */
struct command_row {
	enum command_kind kind;
	unsigned fields;	/* body fields, as 1u << field_id */
};

/* Everything one command carries through the flow; lives on the stack. */
struct command {
	const struct app *app;
	const struct request *req;
	const struct route_match *m;
	const struct command_row *row;
	struct principal who;
	struct body body;
	struct event ev;
	struct store_idem idem;
	char fingerprint[IDEM_FINGERPRINT_LEN + 1];
};

/* Decides and stores c in one transaction and fills resp: 201 with the
 * event only after the commit; a refusal, a replay of c's Idempotency-Key
 * or 503 when the store could not commit (nothing stored then). */
void handle_persist(struct command *c, struct response *resp);

#endif
