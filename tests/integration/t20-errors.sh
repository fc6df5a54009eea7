#!/usr/bin/env bash
# t20-errors.sh: the 4xx answers of SPEC section 2, each problem+json,
# each changing nothing (the topic check in t90 counts every event).
. "$(dirname "$0")/lib.sh"

problem() {	# problem DESC WANT-STATUS
	status_is "$1" "$2"
	body_is "$1: problem+json status field" .status "$2"
	header_has "$1: problem+json type" '^content-type: application/problem\+json'
}

CID=$(create alice errors)
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'

# 400
as alice POST /conversations/ "${JSON[@]}" -d '{}'
problem "missing name" 400
body_is "missing name uses the original's message" '.errors.name[0]' "This field is required."
as alice POST /conversations/ "${JSON[@]}" -d '{"name":""}'
problem "empty name" 400
as alice POST /conversations/ "${JSON[@]}" -d '{"name":42}'
problem "name not a string" 400
as alice POST /conversations/ "${JSON[@]}" -d "{\"name\":\"$(printf 'x%.0s' $(seq 101))\"}"
problem "name of 101 characters" 400
as alice POST /conversations/ "${JSON[@]}" -d "{\"name\":\"$(printf 'é%.0s' $(seq 100))\"}"
status_is "name of 100 two-byte characters is accepted" 201
as alice POST /conversations/ "${JSON[@]}" -d '{"name":"unterminated'
problem "malformed JSON" 400
as alice POST /conversations/ "${JSON[@]}" --data-binary $'{"name":"\xff\xfe"}'
problem "name not valid UTF-8" 400
as alice POST "/conversations/$CID" -d 'message_content=%zz'
problem "malformed form escape" 400
as alice POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":""}'
problem "empty message" 400
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":null}'
problem "participant_id null" 400
as alice POST /conversations/ "${JSON[@]}" -d '{"name":" \t "}'
problem "a name of blanks only" 400
body_is "blanks are blank, as the original judged" '.errors.name[0]' "This field may not be blank."
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":".."}'
problem "participant_id \"..\", which no path can name" 400
# A path participant that could never have been added is no member:
# the rules answer it as any other, not with "no such conversation".
LONG=$(printf 'x%.0s' $(seq 101))
as alice DELETE "/conversations/$CID/members/$LONG"
problem "removing a 101-character participant: not a member" 409
as bob DELETE "/conversations/$CID/members/$LONG"
problem "removing it as a member, not the owner" 403
as alice POST /conversations/ -H 'Content-Type: multipart/form-data' -d 'x'
problem "multipart without boundary" 400

# 401
req POST /conversations/ "${JSON[@]}" -d '{"name":"x"}'
problem "no token" 401
header_has "401 carries WWW-Authenticate" '^www-authenticate: Bearer error="invalid_token"'
req GET /conversations/test -H "Authorization: Bearer $(token alice --ttl -120)"
problem "expired token" 401
req GET /conversations/test -H "Authorization: Bearer $(token alice --aud other)"
problem "wrong audience" 401
req GET /conversations/test -H "Authorization: Bearer $(token alice)x"
problem "tampered signature" 401
req GET /conversations/test -H 'Authorization: Basic YWxpY2U6cHc='
problem "Basic scheme" 401

# 403
as mallory POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"hi"}'
problem "non-member sends" 403
as bob POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"eve"}'
problem "member (not owner) adds" 403
as bob DELETE "/conversations/$CID/members/alice"
problem "member (not owner) removes" 403
as bob DELETE "/conversations/$CID"
problem "member (not owner) deletes" 403

# 404
as alice POST /conversations/not-a-uuid "${JSON[@]}" -d '{"message_content":"hi"}'
problem "malformed conversation id" 404
as alice POST /conversations/00000000-0000-4000-8000-000000000000 "${JSON[@]}" -d '{"message_content":"hi"}'
problem "unknown conversation" 404
as alice GET /nowhere
problem "unknown route" 404
as alice POST "/conversations//members" "${JSON[@]}" -d '{"participant_id":"x"}'
problem "doubled slash" 404
# The front end itself refuses an encoded NUL before any responder runs:
# lighttpd with 400, Apache with 404.
as alice POST "/conversations/%00" "${JSON[@]}" -d '{"message_content":"x"}'
is "encoded NUL in the path is a 4xx" "${STATUS:0:1}" 4

# 405
as alice GET "/conversations/$CID"
problem "GET on a command path" 405
header_has "405 lists the allowed methods" '^allow: POST, DELETE, OPTIONS'
as alice PUT /conversations/
problem "PUT on create" 405

# 409
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
problem "adding a member twice" 409
as alice DELETE "/conversations/$CID/members/zoe"
problem "removing a non-member" 409
as alice DELETE "/conversations/$CID/members/alice"
problem "removing the owner" 409

# 413
BIG=$(head -c 70000 /dev/zero | tr '\0' a)
as alice POST "/conversations/$CID" "${JSON[@]}" -d "{\"message_content\":\"$BIG\"}"
problem "body over 64 KiB" 413

# 415
as alice POST /conversations/ -H 'Content-Type: text/plain' -d 'name=x'
problem "text/plain body" 415
as alice POST /conversations/ -H 'Content-Type: application/xml' -d '<name>x</name>'
problem "XML body" 415

# Nothing above changed the conversation: bob is still the only other member.
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"eve"}'
status_is "state unchanged by the refusals (eve can still be added)" 201
