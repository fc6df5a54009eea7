/* store.c: the write model: one SQLite transaction per command. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "config.h"
#include "db.h"
#include "event.h"

/* Every statement is prepared once in store_open() and reused: parsing
 * SQL per command would cost more than the command itself. */
enum store_stmt {
	S_NONE = 0, S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_LOAD, S_FIND_IDEM, S_HEALTH,
	S_INS_CONV, S_INS_MEMBER, S_DEL_MEMBER, S_DEL_CONV,
	S_INS_OUTBOX, S_INS_IDEM, S_TOUCH_UP, S_TOUCH_DOWN,
	S__MAX
};

/* The state statements share one binding convention, so that store_apply
 * can run them from a table: ?1 conversation id, ?2 user, ?3 name,
 * ?4 created_at.  Each uses a prefix of these. */
static const char *const store_sql[S__MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* One primary-key lookup plus two on the members key; ?3 may be
	 * NULL, which makes both participant columns 0. */
	[S_LOAD] = "SELECT deleted, owner = ?2, owner IS ?3,"
	    " EXISTS(SELECT 1 FROM members"
	    "  WHERE conversation_id = ?1 AND user_id = ?2),"
	    " EXISTS(SELECT 1 FROM members"
	    "  WHERE conversation_id = ?1 AND user_id = ?3)"
	    " FROM conversations WHERE id = ?1",
	[S_INS_CONV] = "INSERT INTO conversations(id, owner, name, created_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_INS_MEMBER] = "INSERT INTO members(conversation_id, user_id)"
	    " VALUES (?1, ?2)",
	[S_DEL_MEMBER] = "DELETE FROM members"
	    " WHERE conversation_id = ?1 AND user_id = ?2",
	[S_DEL_CONV] = "UPDATE conversations SET deleted = 1 WHERE id = ?1",
	[S_INS_OUTBOX] = "INSERT INTO outbox(event_id, conversation_id,"
	    " event_type, created_at, idem_key, payload)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* REPLACE: an expired row for the same key may still be there. */
	[S_INS_IDEM] = "INSERT OR REPLACE INTO idempotency(subject, key,"
	    " fingerprint, status, body, created_at)"
	    " VALUES (?1, ?2, ?3, ?6, ?4, ?5)",
	[S_FIND_IDEM] = "SELECT fingerprint, status, body FROM idempotency"
	    " WHERE subject = ?1 AND key = ?2 AND created_at >= ?3",
	/* seq is the rowid, so "ORDER BY seq DESC LIMIT 1" is one b-tree
	 * step.  The cursor is a floor for it: published rows may have been
	 * purged.  One statement, so one snapshot for both numbers. */
	[S_HEALTH] = "SELECT MAX(COALESCE((SELECT seq FROM outbox"
	    " ORDER BY seq DESC LIMIT 1), 0), published_seq),"
	    " published_seq, pid, state, seen FROM publisher WHERE id = 1",
	/* A page write that changes nothing in the end; see
	 * store_writable(). */
	[S_TOUCH_UP] = "UPDATE publisher SET seen = seen + 1 WHERE id = 1",
	[S_TOUCH_DOWN] = "UPDATE publisher SET seen = seen - 1 WHERE id = 1",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S__MAX];
};

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

static const char *const store_errors[] = {
	[-STORE_OK] = "success",
	[-STORE_EBUSY] = "database busy: lock not obtained in time",
	[-STORE_EFULL] = "database or disk is full",
	[-STORE_EREADONLY] = "database is read-only",
	[-STORE_EIO] = "database error",
	[-STORE_ENOMEM] = "out of memory",
	[-STORE_EOPEN] = "cannot open the database",
};

const char *store_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof store_errors /
	    sizeof store_errors[0]))
		return "unknown store error";
	return store_errors[-err];
}

/* Makes s ready for reuse and maps rc, the result of its last step: a
 * row or done is 0.  The bindings are cleared so that no pointer borrowed
 * with SQLITE_STATIC outlives the call that bound it. */
static int store_end(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(rc);
}

static int store_run(sqlite3_stmt *s)
{
	return store_end(s, sqlite3_step(s));
}

/* Binds text, or NULL when t is NULL; SQLITE_STATIC, see store_end(). */
static int store_text(sqlite3_stmt *s, int i, const char *t)
{
	return sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
}

/* Runs sql (several statements, no parameters); rolls back on error. */
static int store_exec(struct store *st, const char *sql)
{
	int err = db_err(sqlite3_exec(st->db, sql, NULL, NULL, NULL));

	if (err != 0)
		store_rollback(st);
	return err;
}

void store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S__MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Prepares every statement of store_sql, persistent because each lives
 * as long as the process. */
static int store_prepare(struct store *st, const char *path, char *errstr,
    size_t errstr_size)
{
	int i;

	for (i = S_NONE + 1; i < S__MAX; i++)
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(errstr, errstr_size, "DATABASE_PATH: %s: %s",
			    path, sqlite3_errmsg(st->db));
			return STORE_EOPEN;
		}
	return 0;
}

int store_open(struct store **out, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	struct store *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: out of memory");
		return STORE_EOPEN;
	}
	rc = db_open(cfg, &st->db, errstr, errstr_size);
	if (rc == 0)
		rc = store_prepare(st, cfg->db_path, errstr, errstr_size);
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_rollback(struct store *st)
{
	/* SQLite may have rolled back by itself (after SQLITE_FULL, say);
	 * a ROLLBACK with no transaction would only be an error. */
	if (!sqlite3_get_autocommit(st->db))
		store_run(st->stmt[S_ROLLBACK]);
}

int store_begin(struct store *st)
{
	/* A transaction left open by an earlier request would hold the write
	 * lock against every other process; nothing in it was answered 2xx,
	 * so it is dropped rather than carried into this request. */
	store_rollback(st);
	return store_run(st->stmt[S_BEGIN]);
}

int store_commit(struct store *st)
{
	int err = store_run(st->stmt[S_COMMIT]);

	if (err != 0)
		store_rollback(st);
	return err;
}

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

int store_count(struct store *st, struct store_counts *c)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	rc = sqlite3_prepare_v2(st->db, "SELECT"
	    " (SELECT COUNT(*) FROM conversations),"
	    " (SELECT COUNT(*) FROM conversations WHERE deleted),"
	    " (SELECT COUNT(*) FROM members)", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		c->conversations = sqlite3_column_int64(s, 0);
		c->deleted = sqlite3_column_int64(s, 1);
		c->members = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return db_err(rc);
}

int store_health(struct store *st, struct store_health *h)
{
	sqlite3_stmt *s = st->stmt[S_HEALTH];
	const char *state;
	int rc, err;

	memset(h, 0, sizeof *h);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h->last_seq = sqlite3_column_int64(s, 0);
		h->published_seq = sqlite3_column_int64(s, 1);
		h->backlog = h->last_seq - h->published_seq;
		h->publisher_pid = (long)sqlite3_column_int64(s, 2);
		state = (const char *)sqlite3_column_text(s, 3);
		snprintf(h->publisher_state, sizeof h->publisher_state, "%s",
		    state ? state : "");
		h->publisher_seen = sqlite3_column_int64(s, 4);
	}
	/* No publisher row means db.c's schema was not applied: an error. */
	err = store_end(s, rc);
	return err == 0 && rc == SQLITE_DONE ? STORE_EIO : err;
}

/* BEGIN IMMEDIATE alone proves the write lock, not the disk: it writes
 * nothing, and neither does rewriting a row unchanged (SQLite skips the
 * page).  So the probe moves the publisher's heartbeat one second and
 * back: the page is dirty, COMMIT appends it to the WAL, and a full disk
 * or read-only file fails the probe as it would fail a command.  Nobody
 * sees the intermediate value, and the publisher's value is kept. */
int store_writable(struct store *st)
{
	int err = store_begin(st);

	if (err != 0)
		return err;
	err = store_run(st->stmt[S_TOUCH_UP]);
	if (err == 0)
		err = store_run(st->stmt[S_TOUCH_DOWN]);
	if (err == 0)
		return store_commit(st);
	store_rollback(st);
	return err;
}
