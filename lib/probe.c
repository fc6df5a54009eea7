/* probe.c: health, readiness, metrics and token-check answers. */
#include "probe.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "http.h"
#include "metrics.h"
#include "store.h"

/* A heartbeat older than this means no process is publishing now. */
#define PROBE_BEAT_MAX_S 10

/* Serialises o as the 2xx/5xx JSON body of r, then frees o. */
static void probe_emit(struct response *r, int status, json_object *o)
{
	response_json(r, status, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void probe_health(struct response *r)
{
	response_json(r, 200, "{\"status\":\"ok\"}");
}

static json_object *probe_outbox(const struct store_health *h)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "last_seq", json_object_new_int64(h->last_seq));
	json_object_object_add(o, "published_seq",
	    json_object_new_int64(h->published_seq));
	json_object_object_add(o, "backlog", json_object_new_int64(h->backlog));
	return o;
}

/* The publisher runs in whichever process holds its lock; its heartbeat
 * row is all this process can see of it. */
static const char *probe_state(const struct store_health *h, long age)
{
	return h->publisher_seen && age <= PROBE_BEAT_MAX_S ?
	    h->publisher_state : "absent";
}

static json_object *probe_publisher(const struct store_health *h)
{
	json_object *o = json_object_new_object();
	long age = (long)(time(NULL) - h->publisher_seen);
	json_object_object_add(o, "pid", json_object_new_int64(h->publisher_pid));
	json_object_object_add(o, "state", json_object_new_string(
	    probe_state(h, age)));
	json_object_object_add(o, "heartbeat_age_s",
	    h->publisher_seen ? json_object_new_int64(age) : NULL);
	return o;
}

void probe_ready(struct store *st, struct response *r)
{
	struct store_health h;
	int rc = store_writable(st);
	json_object *o = json_object_new_object();

	memset(&h, 0, sizeof h);
	if (rc == 0)
		rc = store_health(st, &h);
	json_object_object_add(o, "status",
	    json_object_new_string(rc == 0 ? "ready" : "unavailable"));
	json_object_object_add(o, "store", json_object_new_string(
	    rc == 0 ? "writable" : store_strerror(rc)));
	if (rc == 0) {
		json_object_object_add(o, "outbox", probe_outbox(&h));
		json_object_object_add(o, "publisher", probe_publisher(&h));
	} else {
		response_header(r, "Retry-After", "1");
	}
	probe_emit(r, rc == 0 ? 200 : 503, o);
}

void probe_metrics(struct store *st, struct response *r)
{
	struct store_health h;
	struct metrics_snapshot *snap = malloc(sizeof *snap);
	int64_t age;
	size_t len = 0;
	char *text = NULL;

	memset(&h, 0, sizeof h);
	struct metrics_gauges g = { .store_ok = store_health(st, &h) == 0 };
	age = h.publisher_seen ? (int64_t)time(NULL) - h.publisher_seen : -1;
	g.backlog = h.backlog;
	g.publisher_pid = h.publisher_pid;
	g.publisher_state = probe_state(&h, (long)age);
	g.heartbeat_age_s = age;
	if (snap != NULL) {
		metrics_snapshot(snap);
		text = metrics_render(snap, &g, &len);
		free(snap);
	}
	if (text == NULL)
		response_json(r, 500, "{\"status\":\"out of memory\"}");
	else
		response_set(r, 200, "text/plain; version=0.0.4; charset=utf-8",
		    text, len);
}

void probe_token(const struct principal *who, struct response *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "sub", json_object_new_string(who->sub));
	probe_emit(r, 200, o);
}
