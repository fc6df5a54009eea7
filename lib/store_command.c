/* store_command.c: the reads and writes of one command inside its
 * transaction: the idempotency row, the conversation's state, the state
 * changes with the outbox row; and the same changes replayed by a
 * rebuild. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "event.h"
#include "store_int.h"

/* The state changes of each kind; the user bound to ?2 is the actor or
 * the participant.  SEND changes no state: its event is the message. */
enum store_who { WHO_ACTOR, WHO_PARTICIPANT };

static const struct store_step {
	enum store_stmt stmt;
	enum store_who who;
} store_steps[CMD__MAX][2] = {
	[CMD_CREATE] = { { S_INS_CONV, WHO_ACTOR },
	    { S_INS_MEMBER, WHO_ACTOR } },
	[CMD_ADD] = { { S_INS_MEMBER, WHO_PARTICIPANT } },
	[CMD_REMOVE] = { { S_DEL_MEMBER, WHO_PARTICIPANT } },
	[CMD_DELETE] = { { S_DEL_CONV, WHO_ACTOR } },
};

/* Answers a found idempotency row, s on its row: MISMATCH, or REPLAY
 * with a NUL-terminated copy of the stored body. */
static int store_idem_answer(sqlite3_stmt *s, const char *fingerprint,
    int *status, char **body, size_t *body_len)
{
	const char *fp = (const char *)sqlite3_column_text(s, 0);
	size_t n;

	if (fp == NULL)
		return STORE_ENOMEM;
	if (strcmp(fp, fingerprint) != 0)
		return STORE_IDEM_MISMATCH;
	n = (size_t)sqlite3_column_bytes(s, 2);
	if ((*body = malloc(n + 1)) == NULL)
		return STORE_ENOMEM;
	if (n > 0)
		memcpy(*body, sqlite3_column_blob(s, 2), n);
	(*body)[n] = '\0';
	*body_len = n;
	*status = sqlite3_column_int(s, 1);
	return STORE_IDEM_REPLAY;
}

int store_idem_find(struct store *st, const struct store_idem *idem,
    int ttl_s, int *status, char **body, size_t *body_len)
{
	sqlite3_stmt *s = st->stmt[S_FIND_IDEM];
	int rc, err, res = STORE_IDEM_NEW;

	store_text(s, 1, idem->subject);
	store_text(s, 2, idem->key);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL) - ttl_s);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		res = store_idem_answer(s, idem->fingerprint, status, body,
		    body_len);
	err = store_end(s, rc);
	return err != 0 ? err : res;
}

int store_load(struct store *st, const char *conv_id, const char *actor,
    const char *participant, struct conv_state *out)
{
	sqlite3_stmt *s = st->stmt[S_LOAD];
	int rc;

	memset(out, 0, sizeof *out);
	store_text(s, 1, conv_id);
	store_text(s, 2, actor);
	store_text(s, 3, participant);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->exists = 1;
		out->deleted = sqlite3_column_int(s, 0);
		out->actor_is_owner = sqlite3_column_int(s, 1);
		out->participant_is_owner = sqlite3_column_int(s, 2);
		out->actor_is_member = sqlite3_column_int(s, 3);
		out->participant_is_member = sqlite3_column_int(s, 4);
	}
	return store_end(s, rc);
}

/* Runs one state statement for ev.  Each statement binds a prefix of
 * ?1..?4 (see store_sql); binding past it would be SQLITE_RANGE. */
static int store_apply_step(struct store *st, const struct event *ev,
    const struct store_step *step)
{
	sqlite3_stmt *s = st->stmt[step->stmt];
	const char *v[4] = { ev->conversation_id,
	    step->who == WHO_ACTOR ? ev->actor : ev->participant_id,
	    ev->name, ev->created_at };
	int p, n = sqlite3_bind_parameter_count(s);

	for (p = 0; p < n && p < 4; p++)
		store_text(s, p + 1, v[p]);
	return store_run(s);
}

/* Runs the state statements of ev's kind (see store_steps). */
static int store_apply_state(struct store *st, const struct event *ev)
{
	const struct store_step *step = store_steps[ev->kind];
	int i, err = 0;

	for (i = 0; i < 2 && err == 0 && step[i].stmt != S_NONE; i++)
		err = store_apply_step(st, ev, &step[i]);
	return err;
}

static int store_apply_outbox(struct store *st, const struct event *ev,
    const char *payload, size_t len, const char *idem_key)
{
	sqlite3_stmt *s = st->stmt[S_INS_OUTBOX];

	store_text(s, 1, ev->event_id);
	store_text(s, 2, ev->conversation_id);
	store_text(s, 3, decide_event_name(ev->kind));
	store_text(s, 4, ev->created_at);
	store_text(s, 5, idem_key);
	sqlite3_bind_blob64(s, 6, payload, len, SQLITE_STATIC);
	return store_run(s);
}

int store_idem_save(struct store *st, const struct store_idem *idem,
    int status, const char *body, size_t len)
{
	sqlite3_stmt *s = st->stmt[S_INS_IDEM];

	store_text(s, 1, idem->subject);
	store_text(s, 2, idem->key);
	store_text(s, 3, idem->fingerprint);
	sqlite3_bind_blob64(s, 4, body, len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(s, 6, status);
	return store_run(s);
}

int store_apply(struct store *st, const struct event *ev,
    const char *payload, size_t len, const struct store_idem *idem)
{
	int err;

	if ((unsigned)ev->kind >= CMD__MAX)
		return STORE_EIO;
	err = store_apply_state(st, ev);
	if (err == 0)
		err = store_apply_outbox(st, ev, payload, len,
		    idem ? idem->key : NULL);
	if (err == 0 && idem != NULL)
		err = store_idem_save(st, idem, 201, payload, len);
	return err;
}

int store_replay(struct store *st, const struct event *ev)
{
	if ((unsigned)ev->kind >= CMD__MAX)
		return STORE_EIO;
	return store_apply_state(st, ev);
}

/* These two run once per rebuild, so they are prepared when called, not
 * in store_open(): the responders never need them. */
int store_replay_seq(struct store *st, int64_t last_seq)
{
	char sql[256];

	/* sqlite_sequence holds the AUTOINCREMENT high-water mark of outbox;
	 * SQLite documents it as writable.  A number, so no injection. */
	snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;"
	    " DELETE FROM sqlite_sequence WHERE name = 'outbox';"
	    " INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', %lld);"
	    " UPDATE publisher SET published_seq = %lld WHERE id = 1; COMMIT;",
	    (long long)last_seq, (long long)last_seq);
	return store_exec(st, sql);
}
