#!/usr/bin/env bash
# run.sh: `make e2e`, real Keycloak tokens end to end.  Starts Keycloak
# (scripts/keycloak.sh, realm tests/e2e/realm.json), Kafka (unless
# BOOTSTRAP_SERVERS names one) and lighttpd with the responders, three
# times, once per key source: (a) KEYCLOAK_PUBLIC_KEY as the realm shows
# it, (b) KEYCLOAK_JWKS_FILE saved from the realm's certs endpoint, (c)
# KEYCLOAK_JWKS_URL.  Each runs the command suite with john's and jane's
# tokens from the password grant.  With (c) the realm's key is then
# rotated in the running Keycloak: new tokens are accepted without a
# restart, a token naming a kid the realm lacks is not.  Prints "ok - " /
# "not ok - " lines and ends with "N passed, N failed".  Ports:
# E2E_KEYCLOAK_PORT (18180), E2E_PORT (18100), E2E_KAFKA_PORT (19192).
# E2E_KEYCLOAK_URL=http://127.0.0.1:PORT uses a Keycloak already running
# with realm.json imported (as one left by KEEP_KEYCLOAK=1) instead.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
T0=$(date +%s)

KC_BASE=${E2E_KEYCLOAK_URL:-http://127.0.0.1:${E2E_KEYCLOAK_PORT:-18180}}
REALM_URL=$KC_BASE/realms/msgcmd
CERTS=$REALM_URL/protocol/openid-connect/certs
WEB_PORT=${E2E_PORT:-18100}
STATE=$(mktemp -d /tmp/msgcmd-e2e.XXXXXX)
export TOPIC="msgcmd-e2e-$(date +%s)-$$" ENV_FILE=/dev/null
export ACCEPTED=$STATE/accepted.jsonl
unset KEYCLOAK_PUBLIC_KEY_FILE KEYCLOAK_AUDIENCE KAFKA_PROPERTIES
: >"$ACCEPTED"

PORT=$WEB_PORT . tests/integration/lib.sh
. tests/e2e/lib.sh
STACK_ROOT=$ROOT
. scripts/stack.sh

cleanup() {
	[ -n "${KC_START_PID:-}" ] && kill -TERM "$KC_START_PID" 2>/dev/null
	stack_stop
	if [ -n "${KEEP_KEYCLOAK:-}" ] && [ -d "$STATE/keycloak" ]; then
		echo "# Keycloak left running: E2E_KEYCLOAK_URL=$KC_BASE;" \
		    "stop it with scripts/keycloak.sh stop $STATE/keycloak"
		return
	fi
	[ -d "$STATE/keycloak" ] && scripts/keycloak.sh stop "$STATE/keycloak"
	[ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# finish: the summary line; the exit status says whether all passed.
finish() {
	echo "# e2e: $(($(date +%s) - T0)) s in all; state in $STATE"
	echo "e2e: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

# timed DESC COMMAND...: runs it, an ok line with its seconds, or stops.
timed() {
	local desc=$1 t=$SECONDS
	shift
	if "$@"; then ok "$desc ($((SECONDS - t)) s)"; else not_ok "$desc"; finish; fi
}

[ -x build/msgcmd ] && [ -x build/msgcmd-token ] ||
	{ not_ok "build/msgcmd and build/msgcmd-token (make all)"; finish; }
# Keycloak boots (a minute or more) while Kafka does.
if [ -z "${E2E_KEYCLOAK_URL:-}" ]; then
	timed "Keycloak fetched (once, into the cache)" scripts/keycloak.sh fetch
	KC_T=$SECONDS
	scripts/keycloak.sh start "$STATE/keycloak" tests/e2e/realm.json \
	    "${E2E_KEYCLOAK_PORT:-18180}" &
	KC_START_PID=$!
fi
timed "Kafka ready" stack_kafka "$STATE" "${E2E_KAFKA_PORT:-19192}"
if [ -n "${KC_START_PID:-}" ]; then
	wait "$KC_START_PID"
	kc_rc=$? KC_START_PID=
	if [ "$kc_rc" -eq 0 ]; then
		ok "Keycloak started, realm msgcmd imported ($((SECONDS - KC_T)) s, beside Kafka)"
	else
		not_ok "Keycloak started"
		tail -20 "$STATE/keycloak/keycloak.out" | sed 's/^/# /'
		finish
	fi
fi

JOHN_T=$(password_token john)
JANE_T=$(password_token jane)
JOHN=$(jwt_part "$JOHN_T" 1 | jq -r .sub)
JANE=$(jwt_part "$JANE_T" 1 | jq -r .sub)
is "password grant: tokens for john and jane" \
    "$(jwt_part "$JOHN_T" 1 | jq -r .preferred_username)/$(jwt_part "$JANE_T" 1 | jq -r .preferred_username)" john/jane
is "tokens: sub is a Keycloak user id (UUID)" \
    "$(grep -cE '^[0-9a-f-]{36}$' <<<"$JOHN"$'\n'"$JANE")" 2
is "tokens: aud contains account, iss is the realm, alg RS256" \
    "$(jwt_part "$JOHN_T" 1 | jq -r '[(.aud | if type == "array" then . else [.] end | index("account") != null), .iss] | @tsv')/$(jwt_part "$JOHN_T" 0 | jq -r .alg)" \
    "true	$REALM_URL/RS256"
OLD_KID=$(jwt_part "$JOHN_T" 0 | jq -r .kid)
MASTER_T=$(admin_token)

# suite LABEL JOHN_TOKEN JANE_TOKEN: the commands of SPEC section 2 as
# two real users, checked against the tokens' subjects.
suite() {
	local l=$1 jt=$2 nt=$3 cid
	reqt "$jt" GET /conversations/test
	status_is "$l: john's token accepted" 200
	body_is "$l: the subject is john's Keycloak id" .sub "$JOHN"
	reqt "$jt" POST /conversations/ "${JSON[@]}" -d '{"name":"e2e"}'
	status_is "$l: john creates a conversation" 201
	body_is "$l: creator_id is john's sub" .creator_id "$JOHN"
	cid=$(jq -r .id <<<"$BODY")
	reqt "$jt" POST "/conversations/$cid/members" "${JSON[@]}" \
	    -d "{\"participant_id\":\"$JANE\"}"
	status_is "$l: john adds jane" 201
	body_is "$l: added: user_id john, participant_id jane" \
	    '[.user_id, .participant_id] | join(" ")' "$JOHN $JANE"
	reqt "$nt" POST "/conversations/$cid" "${JSON[@]}" \
	    -d '{"message_content":"hello from jane"}'
	status_is "$l: jane sends a message" 201
	body_is "$l: the message's user_id is jane's sub" .user_id "$JANE"
	reqt "$jt" POST "/conversations/$cid/members/$JANE/remove" -d ''
	status_is "$l: john removes jane" 201
	body_is "$l: removed: user_id john, participant_id jane" \
	    '[.user_id, .participant_id] | join(" ")' "$JOHN $JANE"
	reqt "$nt" POST "/conversations/$cid" "${JSON[@]}" \
	    -d '{"message_content":"still here?"}'
	status_is "$l: jane, removed, is refused" 403
	reqt "$jt" DELETE "/conversations/$cid"
	status_is "$l: john deletes the conversation" 201
	body_is "$l: deleted: user_id john" .user_id "$JOHN"
}

# refusals LABEL JOHN_TOKEN JANE_TOKEN: real tokens that must not pass.
# With (c) the master realm's token names a kid this realm lacks, so it
# costs a refetch and starts that responder's 10 s pause: it comes after
# the rotation, lest it delay the new key.
refusals() {
	local l=$1 jt=$2 nt=$3
	# John's header and signature over jane's claims.
	reqt "${jt%%.*}.$(cut -d. -f2 <<<"$nt").${jt##*.}" GET /conversations/test
	status_is "$l: john's signature over jane's claims is refused" 401
	reqt "$MASTER_T" GET /conversations/test
	status_is "$l: a token of the master realm is refused" 401
}

echo "# (a) KEYCLOAK_PUBLIC_KEY: the realm's public_key"
PUBLIC_KEY=$(curl -s "$REALM_URL" | jq -r '.public_key // empty')
is "(a): the realm shows a public_key" "$(grep -c '^MII' <<<"$PUBLIC_KEY")" 1
web_start a KEYCLOAK_PUBLIC_KEY="$PUBLIC_KEY"
suite "(a)" "$JOHN_T" "$JANE_T"
refusals "(a)" "$JOHN_T" "$JANE_T"
on_topic "(a)"
web_stop

echo "# (b) KEYCLOAK_JWKS_FILE: the realm's certs endpoint saved to a file"
curl -s "$CERTS" >"$STATE/certs.json"
is "(b): the certs endpoint names the token's kid" \
    "$(jq --arg k "$OLD_KID" '[.keys[] | select(.kid == $k)] | length' "$STATE/certs.json")" 1
web_start b KEYCLOAK_JWKS_FILE="$STATE/certs.json"
suite "(b)" "$JOHN_T" "$JANE_T"
refusals "(b)" "$JOHN_T" "$JANE_T"
on_topic "(b)"
web_stop

echo "# (c) KEYCLOAK_JWKS_URL: the realm's certs endpoint"
web_start c KEYCLOAK_JWKS_URL="$CERTS"
suite "(c)" "$JOHN_T" "$JANE_T"
BEFORE=$(web_pids)

echo "# (c) the realm's key rotated in the running Keycloak"
is "rotation: a new RSA key provider, first in priority (admin API)" "$(rotate_key)" 201
JOHN_T2=$(password_token john)
JANE_T2=$(password_token jane)
NEW_KID=$(jwt_part "$JOHN_T2" 0 | jq -r .kid)
is "rotation: new tokens name a new kid, published in certs" \
    "$([ "$NEW_KID" != "$OLD_KID" ] && curl -s "$CERTS" | jq --arg k "$NEW_KID" '[.keys[] | select(.kid == $k)] | length')" 1
reqt "$JOHN_T2" GET /conversations/test
status_is "rotation: a token of the new key is accepted" 200
is "rotation: by the same lighttpd and responders, no restart" "$(web_pids)" "$BEFORE"
NSIG=$(curl -s "$CERTS" | jq '[.keys[] | select(.use == "sig" and .alg == "RS256")] | length')
is "rotation: the responder refetched the set ($NSIG signing keys now)" \
    "$(grep -c "keys refetched (unknown kid) from $CERTS: $NSIG key(s)" "$STATE/c/lighttpd.log")" 1
suite "(c) after rotation" "$JOHN_T2" "$JANE_T2"
refusals "(c)" "$JOHN_T2" "$JANE_T2"
reqt "$JOHN_T" GET /conversations/test
status_is "rotation: a token of the old key still accepted (still published)" 200
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$STATE/throwaway.pem" 2>/dev/null
reqt "$(build/msgcmd-token --key "$STATE/throwaway.pem" --kid unknown \
    --sub "$JOHN" --aud account --iss "$REALM_URL")" GET /conversations/test
status_is "a token naming kid \"unknown\" is refused" 401
header_has "... as an unknown key id" "^www-authenticate: .*The token's key id is unknown"
is "... by the same lighttpd and responders" "$(web_pids)" "$BEFORE"
on_topic "(c)"
web_stop
finish
