#!/usr/bin/env bash
# t10-commands.sh: every command of SPEC section 2 accepted through the
# front end (lighttpd; tests/deploy/run-modes.sh runs it behind the
# others), with its event as the 201 body; aliases and trailing slashes.
. "$(dirname "$0")/lib.sh"

req GET /healthz
status_is "GET /healthz without a token" 200
req GET /readyz
status_is "GET /readyz without a token" 200
body_is "/readyz reports the store writable" .store writable
body_is "/readyz reports the backlog" '.outbox.backlog | type' number

as alice GET /conversations/test
status_is "GET /conversations/test with a valid token" 200
body_is "token check names the subject" .sub alice

as alice POST /conversations/ "${JSON[@]}" -d '{"name":"Team chat"}'
status_is "create conversation (JSON)" 201
header_has "create answers application/json" '^content-type: application/json'
CID=$(jq -r .id <<<"$BODY")
header_has "create answers Location" "^location: /conversations/$CID\$"
body_is "created event name" .event userCreatedConversation
body_is "created event carries the name" .name "Team chat"
body_is "creator_id is the token subject" .creator_id alice
body_is "created_at is ISO 8601 UTC with microseconds" \
    '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")' true
body_is "event_id is a UUID" '.event_id | test("^[0-9a-f-]{36}$")' true
body_is "created event has exactly the contract fields" '[keys[]] | sort | join(",")' \
    created_at,creator_id,event,event_id,id,name

as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
status_is "owner adds bob (JSON)" 201
body_is "added event name" .event userAddedParticipantToConversation
body_is "added event fields" '[.user_id,.participant_id,.conversation_id] | join(",")' "alice,bob,$CID"
body_is "id equals event_id" '.id == .event_id' true

as alice POST "/conversations/$CID/members/" -d 'participant_id=carol'
status_is "owner adds carol (urlencoded, trailing slash)" 201

as alice POST "/conversations/$CID/members" -F participant_id=dave
status_is "owner adds dave (multipart)" 201

as bob POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"hi \"all\" ✓"}'
status_is "member bob sends a message" 201
body_is "sent event name" .event userSentMessageToConversation
body_is "sent event content kept byte for byte" .message_content 'hi "all" ✓'
body_is "sent event fields" '[.user_id,.conversation_id] | join(",")' "bob,$CID"

as alice POST "/conversations/$CID/" -F 'message_content=from a form'
status_is "owner sends a message (multipart, trailing slash)" 201

as alice POST "/conversations/$CID/members/bob/remove" -d ''
status_is "owner removes bob (POST .../remove)" 201
body_is "removed event name" .event userRemovedParticipantToConversation
body_is "removed event fields" '[.user_id,.participant_id,.conversation_id] | join(",")' "alice,bob,$CID"

as alice DELETE "/conversations/$CID/members/carol"
status_is "owner removes carol (DELETE alias)" 201

as bob POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"still here?"}'
status_is "removed bob can no longer send" 403

as alice DELETE "/conversations/$CID/delete"
status_is "owner deletes the conversation (DELETE .../delete)" 201
body_is "deleted event name" .event userDeletedConversation
body_is "deleted event fields" '[.user_id,.conversation_id] | join(",")' "alice,$CID"

as alice POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"gone"}'
status_is "a deleted conversation is 404" 404

CID2=$(create alice "second")
as alice DELETE "/conversations/$CID2"
status_is "owner deletes via DELETE /conversations/{id} alias" 201
as alice DELETE "/conversations/$CID2"
status_is "deleting twice is 404" 404

UPPER=$(create alice upper | tr a-f A-F)
as alice POST "/conversations/$UPPER" "${JSON[@]}" -d '{"message_content":"case"}'
status_is "upper-case conversation id is the same conversation" 201
body_is "event uses the canonical lower-case id" .conversation_id "$(tr A-F a-f <<<"$UPPER")"

req OPTIONS /conversations/ -H 'Origin: https://app.example' \
    -H 'Access-Control-Request-Method: POST'
status_is "CORS preflight" 204
header_has "preflight allows the three headers" \
    '^access-control-allow-headers: Authorization, Content-Type, Idempotency-Key'
header_has "preflight allows any origin by default" '^access-control-allow-origin: \*'
as alice GET /conversations/test -H 'Origin: https://app.example'
header_has "simple request carries the CORS origin" '^access-control-allow-origin: \*'
