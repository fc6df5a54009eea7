#!/usr/bin/env bash
# t05-front-end.sh: what each front end must do for msgcmd beyond the
# API suite: hand the request URI over undecoded, refuse a huge body with
# 413 before reading it, answer odd paths with a 4xx, never a 5xx.
. "$(dirname "$0")/../integration/lib.sh"

req GET '/healthz?probe=1'
status_is "a query string does not change the route" 200

# participant_id is free text; removing it by path needs %2F, %20, %C3%BC
# to reach msgcmd as sent (REQUEST_URI), not decoded by the front end.
CID=$(create alice front-end)
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"x/y ü"}'
status_is "add a participant whose id has / space and ü" 201
as alice DELETE "/conversations/$CID/members/x%2Fy%20%C3%BC"
status_is "remove it by its percent-encoded id in the path" 201
body_is "the removed id is the decoded one" .participant_id "x/y ü"

# A declared length over the front end's 1 MiB limit is refused before
# the body is read (curl sends the header and waits for the answer).
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a >"$STATE/big.body"
as alice POST "/conversations/$CID" "${JSON[@]}" --data-binary @"$STATE/big.body"
status_is "a body of 2 MiB is 413" 413
rm -f "$STATE/big.body"

for path in '/%00' '/conversations/%00/members' '/conversations/%ff' '//' \
    '/conversations/%2e%2e/%2e%2e/etc/passwd' '/../../etc/passwd' \
    '/conversations/%2F' '/msgcmd' '/msgcmd-token'; do
	as alice POST "$path" --path-as-is "${JSON[@]}" -d '{"name":"odd"}'
	is "POST $path is a 4xx" "${STATUS:0:1}" 4
done
