# lib.sh: helpers of the end-to-end run (tests/e2e/run.sh), sourced after
# tests/integration/lib.sh: tokens from the realm by the password grant,
# the realm's admin REST API, the stacks under test, counted checks.
# Needs KC_BASE (http://127.0.0.1:PORT of Keycloak), REALM_URL and STATE.

PASS=0 FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1"; FAIL=$((FAIL + 1)); }

# password_token USER: an access token for USER of realm.json, by the
# password grant of the public client, as the original project's tests
# got theirs.  Prints nothing when Keycloak refuses.
password_token() {
	curl -s --max-time 30 -d grant_type=password \
	    -d client_id=test-login-client -d username="$1" \
	    -d password="$1-e2e-password" \
	    "$REALM_URL/protocol/openid-connect/token" | jq -r '.access_token // empty'
}

# admin_token: an access token of the master realm's admin (admin-cli).
admin_token() {
	curl -s --max-time 30 -d grant_type=password -d client_id=admin-cli \
	    -d username="${KEYCLOAK_ADMIN_USER:-admin}" \
	    -d password="${KEYCLOAK_ADMIN_PASSWORD:-admin}" \
	    "$KC_BASE/realms/master/protocol/openid-connect/token" |
	    jq -r '.access_token // empty'
}

# jwt_part TOKEN N: segment N of a JWT (0 header, 1 claims) as JSON.
jwt_part() {
	jq -R --argjson n "$2" 'split(".")[$n] | gsub("-"; "+") | gsub("_"; "/")
	    | . + ("=" * ((4 - length % 4) % 4)) | @base64d | fromjson' <<<"$1"
}

# reqt TOKEN METHOD PATH [curl args...]: lib.sh's req with that token.
reqt() {
	local t=$1 method=$2 path=$3
	shift 3
	req "$method" "$path" -H "Authorization: Bearer $t" "$@"
}

# rotate_key: adds an RSA key provider to the running realm, of a higher
# priority than any before it, so new tokens are signed with a new key
# (and kid); the old keys stay published.  Prints the HTTP status of the
# admin API.
rotate_key() {
	local admin api=$KC_BASE/admin/realms/msgcmd rid prio
	admin=$(admin_token)
	rid=$(curl -s -H "Authorization: Bearer $admin" "$api" | jq -r .id)
	prio=$(curl -s -H "Authorization: Bearer $admin" \
	    "$api/components?type=org.keycloak.keys.KeyProvider" |
	    jq '[.[].config.priority[0] | tonumber] | max + 100')
	curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
	    -d "{\"name\":\"rsa-rotated-$prio\",\"providerId\":\"rsa-generated\",
	        \"providerType\":\"org.keycloak.keys.KeyProvider\",
	        \"parentId\":\"$rid\",\"config\":{\"priority\":[\"$prio\"],
	        \"keySize\":[\"2048\"],\"algorithm\":[\"RS256\"]}}" \
	    "$api/components"
}

# web_start NAME VAR=VALUE: lighttpd with the responders, in STATE/NAME
# (its own database and log), with that one key setting and the realm as
# issuer.  stack_lighttpd exits the run when it does not come up.
web_start() {
	local dir=$STATE/$1
	mkdir -p "$dir"
	unset KEYCLOAK_PUBLIC_KEY KEYCLOAK_JWKS_FILE KEYCLOAK_JWKS_URL \
	    DATABASE_PATH MSGCMD_ERRORLOG
	export "$2" KEYCLOAK_ISSUER="$REALM_URL"
	stack_lighttpd "$dir" "$WEB_PORT"
}

# web_stop: stops lighttpd (it stops its responders).
web_stop() {
	kill -TERM "$STACK_LIGHTTPD_PID" 2>/dev/null
	wait "$STACK_LIGHTTPD_PID" 2>/dev/null
	STACK_LIGHTTPD_PID=
}

# web_pids: lighttpd's pid and its responders', sorted, on one line.
web_pids() {
	local f line fields
	{
		echo "$STACK_LIGHTTPD_PID"
		for f in /proc/[0-9]*/stat; do
			{ read -r line <"$f"; } 2>/dev/null || continue
			read -r -a fields <<<"${line##*) }"
			[ "${fields[1]}" = "$STACK_LIGHTTPD_PID" ] &&
			    { f=${f%/stat}; echo "${f#/proc/}"; }
		done
	} | sort -n | tr '\n' ' '
}

# on_topic LABEL: waits (30 s at most) until the topic holds exactly the
# events answered 201 so far (ACCEPTED), by event_id.
on_topic() {
	local want got i
	want=$(jq -r .event_id "$ACCEPTED" | sort)
	for i in $(seq 60); do
		got=$(kcat -C -b "$BOOTSTRAP_SERVERS" -t "$TOPIC" -o beginning -e \
		    -q -f '%s\n' 2>/dev/null | jq -r .event_id | sort)
		[ "$got" = "$want" ] && break
		sleep 0.5
	done
	is "$1: the $(wc -l <"$ACCEPTED") events answered 201 so far are on the topic, once each" \
	    "$(md5sum <<<"$got")" "$(md5sum <<<"$want")"
}
