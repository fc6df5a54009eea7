/* msgcmd.c: the responder.  A FastCGI accept loop when started by a
 * FastCGI server (lighttpd, mod_fcgid, spawn-fcgi); one request when
 * started as plain CGI.  It wires lib/ together and owns no logic. */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>

#include "auth.h"
#include "config.h"
#include "handle.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "publisher.h"
#include "store.h"

/* The few things a request needs from its gateway, CGI or FastCGI. */
struct gateway {
	const char *(*param)(void *ctx, const char *name);
	size_t (*read)(void *ctx, char *buf, size_t n);
	void (*write)(void *ctx, const char *buf, size_t n);
	void *ctx;
};

static volatile sig_atomic_t stopping, reload_keys;

/* Signals only set a flag; the accept loop notices it between requests. */
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void on_hup(int sig)
{
	(void)sig;
	reload_keys = 1;
}

static const char *fcgi_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static size_t fcgi_read(void *ctx, char *buf, size_t n)
{
	int got = FCGX_GetStr(buf, (int)n, ((FCGX_Request *)ctx)->in);
	return got > 0 ? (size_t)got : 0;
}

static void fcgi_write(void *ctx, const char *buf, size_t n)
{
	FCGX_PutStr(buf, (int)n, ((FCGX_Request *)ctx)->out);
}

static const char *cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static size_t cgi_read(void *ctx, char *buf, size_t n)
{
	(void)ctx;
	return fread(buf, 1, n, stdin);
}

static void cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	fwrite(buf, 1, n, stdout);
}

/* Reads the body when its declared length is within max; the buffer is
 * the caller's to free.  Bodies over the limit are not read at all. */
static char *read_body(const struct gateway *gw, size_t max,
    struct request *req)
{
	const char *cl = gw->param(gw->ctx, "CONTENT_LENGTH");
	unsigned long long want = cl && *cl ? strtoull(cl, NULL, 10) : 0;
	char *buf;

	/* A web server checks the length itself; a CGI caller may not. */
	if (cl && strspn(cl, "0123456789") != strlen(cl)) {
		req->body_bad_length = 1;
		return NULL;
	}
	if (want > max) {
		req->body_too_large = 1;
		return NULL;
	}
	if (want == 0 || !(buf = malloc(want)))
		return NULL;
	req->body_len = gw->read(gw->ctx, buf, want);
	req->body_bad_length = req->body_len < want;
	req->body = buf;
	return buf;
}

static void write_response(const struct gateway *gw, const struct response *r,
    int head_only)
{
	char top[256];
	int n = snprintf(top, sizeof top, "Status: %d %s\r\n", r->status,
	    response_reason(r->status));
	if (r->content_type)
		n += snprintf(top + n, sizeof top - (size_t)n,
		    "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    r->content_type, r->body_len);
	gw->write(gw->ctx, top, (size_t)n);
	gw->write(gw->ctx, r->headers, r->headers_len);
	gw->write(gw->ctx, "\r\n", 2);
	if (r->body && !head_only)
		gw->write(gw->ctx, r->body, r->body_len);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* vDSO: no system call */
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The request's log line and its counts in the shared metrics. */
static void account(const struct request *req, const struct response *r,
    int64_t started_us)
{
	int64_t us = now_us() - started_us;
	struct log_request line = {
		.request_id = req->request_id, .method = req->method,
		.route = route_pattern_name(r->route), .status = r->status,
		.latency_us = us, .subject = r->subject[0] ? r->subject : NULL,
		.event_id = r->event_id[0] ? r->event_id : NULL,
	};
	log_request(&line);
	metrics_request(req->method, r->route, r->status, us);
}

/* One request, start to end; nothing of it survives the call. */
static void serve(const struct app *app, const struct gateway *gw)
{
	int64_t started = now_us();
	char id[LOG_ID_MAX + 1];
	struct request req = {
		.method = gw->param(gw->ctx, "REQUEST_METHOD"),
		.uri = gw->param(gw->ctx, "REQUEST_URI"),
		.content_type = gw->param(gw->ctx, "CONTENT_TYPE"),
		.authorization = gw->param(gw->ctx, "HTTP_AUTHORIZATION"),
		.idempotency_key = gw->param(gw->ctx, "HTTP_IDEMPOTENCY_KEY"),
		.origin = gw->param(gw->ctx, "HTTP_ORIGIN"),
		.request_id = log_request_id(gw->param(gw->ctx,
		    "HTTP_X_REQUEST_ID"), id),
	};
	struct response resp;
	memset(&resp, 0, sizeof resp);
	char *body = read_body(gw, app->cfg->max_body, &req);
	handle(app, &req, &resp);
	write_response(gw, &resp, req.method && !strcmp(req.method, "HEAD"));
	account(&req, &resp, started);
	response_free(&resp);
	free(body);
}

/* Serves requests until a stop is requested.  Returns 0, or -1 (logged)
 * when accepting failed otherwise (out of descriptors, say): the process
 * then exits non-zero and its server starts another.  Either way the
 * listening socket is closed on return: the publisher may take seconds
 * more to flush, and a server connecting meanwhile must be refused at
 * once (it tries another responder), not left waiting. */
static int serve_fastcgi(const struct app *app)
{
	FCGX_Request fr;
	struct gateway gw = { fcgi_param, fcgi_read, fcgi_write, &fr };
	int rc = 0;

	FCGX_InitRequest(&fr, FCGI_LISTENSOCK_FILENO, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping) {
		if (FCGX_Accept_r(&fr) < 0) {
			if (!stopping) {
				log_msg(LOG_LEVEL_ERROR, "fastcgi: accept failed;"
				    " exiting for a fresh responder");
				rc = -1;
			}
			break;
		}
		if (reload_keys) {	/* failures are logged, old keys kept */
			reload_keys = 0;
			auth_reload(app->auth);
		}
		serve(app, &gw);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	close(FCGI_LISTENSOCK_FILENO);
	return rc;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: accept() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	/* SIGHUP must not end the loop: with SA_RESTART the accept() it
	 * interrupts goes on waiting, and the next request reloads first. */
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Opens what the process keeps for its lifetime.  Returns 0; 1 when all
 * but the store is open and the store's trouble may go away by itself
 * (app->store is NULL); or -1 with nothing left open.  A failure is
 * logged with the setting it concerns. */
static int start(struct config *cfg, struct app *app)
{
	char err[512];
	int rc = config_load(cfg, err, sizeof err);

	if (rc == 0 && (rc = auth_open(&app->auth, cfg, err, sizeof err)) == 0)
		rc = store_open(&app->store, cfg, err, sizeof err);
	if (rc != 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", err);
		fprintf(stderr, "msgcmd: %s\n", err);
	}
	if (rc != 0 && !(app->auth != NULL && store_transient(rc))) {
		auth_close(app->auth);
		app->auth = NULL;
		config_free(cfg);	/* all NULL after a failed config_load */
		return -1;
	}
	/* Metrics are not worth refusing to serve for. */
	if (metrics_open(cfg->db_path, err, sizeof err) != 0)
		log_msg(LOG_LEVEL_WARN, "metrics: %s; not counted", err);
	app->cfg = cfg;
	return rc != 0;
}

/* Plain CGI while the store cannot be opened: the request gets the 503
 * with Retry-After that a running responder gives when the store cannot
 * commit, rather than the web server's 500 for a program that exits. */
static void serve_unavailable(const struct gateway *gw)
{
	struct response resp;

	memset(&resp, 0, sizeof resp);
	problem_unavailable(&resp, "The database cannot be opened now; try"
	    " again.");
	write_response(gw, &resp, 0);
	response_free(&resp);
}

/* msgcmd --check: loads the settings, opens the key material and the
 * store, and checks the Kafka settings as a responder starting up does,
 * then prints one line and exits, 0 when all is well.  Web servers start
 * responders without arguments; this is for operators and `make run`,
 * which cannot see a responder's start-up failing behind lighttpd. */
static int check(struct config *cfg, struct app *app, int started)
{
	char err[512];
	int rc = started;	/* start() has said why it is not 0 */

	if (rc == 0 && (rc = publisher_check(cfg, err, sizeof err)) != 0)
		fprintf(stderr, "msgcmd: %s\n", err);
	else if (rc == 0)
		printf("msgcmd: settings, keys, database and Kafka settings"
		    " are usable\n");
	metrics_close();
	store_close(app->store);
	auth_close(app->auth);
	config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct app app = { 0 };
	struct publisher *pub = NULL;
	char err[512];
	int cgi = FCGX_IsCGI(), rc = 0;

	log_init("msgcmd", LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "--check") != 0) {
		fprintf(stderr, "usage: msgcmd [--check]\n");
		return 2;
	}
	if (FCGX_Init() != 0 || (rc = start(&cfg, &app)) < 0)
		return 1;
	if (argc > 1)
		return check(&cfg, &app, rc);
	install_signals();
	if (cgi) {
		struct gateway gw = { cgi_param, cgi_read, cgi_write, NULL };
		if (rc == 0)
			serve(&app, &gw);
		else
			serve_unavailable(&gw);
		rc = 0;
	} else if (rc != 0) {
		rc = 1;		/* lighttpd starts another responder later */
	} else if (cfg.publisher_thread &&
	    publisher_start(&pub, &cfg, err, sizeof err) != 0) {
		/* Bad Kafka settings: a responder that served on would take
		 * commands that no publisher ever sends. */
		log_msg(LOG_LEVEL_ERROR, "%s", err);
		fprintf(stderr, "msgcmd: %s\n", err);
		rc = 1;
	} else {
		rc = serve_fastcgi(&app) != 0;
		publisher_stop(pub);
	}
	metrics_close();
	store_close(app.store);
	auth_close(app.auth);
	config_free(&cfg);
	return rc;
}
