/* trivial.c: the ceiling of the path.  A FastCGI responder that reads
 * the request and answers 201 with a fixed event-sized JSON body, doing
 * nothing else; `make bench` puts it behind the same lighttpd. */
#include <fcgiapp.h>
#include <stdio.h>
#include <string.h>

static const char trivial_body[] =
    "{\"id\":\"00000000-0000-4000-8000-000000000000\",\"name\":\"bench\","
    "\"creator_id\":\"bench\",\"event\":\"userCreatedConversation\","
    "\"created_at\":\"2026-01-01T00:00:00.000000Z\","
    "\"event_id\":\"00000000-0000-4000-8000-000000000001\"}";

int main(void)
{
	FCGX_Request r;
	char buf[4096], head[128];
	/* libfcgi's own printf knows no %zu: format the head once, here. */
	int n = snprintf(head, sizeof head, "Status: 201 Created\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n",
	    strlen(trivial_body));

	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		while (FCGX_GetStr(buf, sizeof buf, r.in) > 0)
			;
		FCGX_PutStr(head, n, r.out);
		FCGX_PutStr(trivial_body, (int)strlen(trivial_body), r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
