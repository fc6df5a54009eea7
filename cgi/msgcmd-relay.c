/* msgcmd-relay.c: the standalone publisher, for deployments that prefer a
 * daemon to a responder thread.  It waits for the publisher lock, then
 * drains the outbox to Kafka until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "publisher.h"

static volatile sig_atomic_t stopping;

/* Signals only set a flag; the publisher loop notices it within ms. */
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* As the responders read them: USR1 is a graceful stop, HUP a
	 * reload, of which the relay has nothing (no keys): neither may end
	 * it without its flush, as their default action would. */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

int main(void)
{
	struct config cfg;
	char err[512];
	int rc;

	log_init("msgcmd-relay", LOG_LEVEL_INFO);
	if (config_load(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "msgcmd-relay: %s\n", err);
		return 1;
	}
	install_signals();
	rc = publisher_run(&cfg, &stopping, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "msgcmd-relay: %s\n", err);
	else
		log_msg(LOG_LEVEL_INFO, "stopped");
	config_free(&cfg);
	return rc != 0 ? 1 : 0;
}
