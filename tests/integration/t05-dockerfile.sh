#!/usr/bin/env bash
# t05-dockerfile.sh: what can be checked of the Dockerfile and
# deploy/compose.yaml without a Docker engine.  The build stage's paths
# and make targets exist; the runtime stage's packages exist in apt and,
# with what they depend on, hold every shared library the shipped
# binaries load (ldd, dpkg -S); the image's ENV sets every variable
# lighttpd.conf reads; its CMD, ENV and HEALTHCHECK, with /opt/msgcmd
# mapped to the checkout, start a msgcmd whose health check passes;
# dockerfile-utils (npm) finds nothing, nor does hadolint when it is
# installed; compose.yaml parses and names the Dockerfile, the realm
# file and every variable of README's table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"

DF="$ROOT/Dockerfile"
COMPOSE="$ROOT/deploy/compose.yaml"
OA="$ROOT/tests/openapi"
TMP=$(mktemp -d "$STATE/t05.XXXXXX")
trap 'extra_stop_all' EXIT
trap 'exit 130' INT TERM

# The Dockerfile as one instruction per line (continuations joined,
# comments dropped), each line prefixed with its stage number.
awk '
	/^[[:space:]]*#/ { next }
	{ line = line $0 }
	/\\$/ { sub(/\\$/, "", line); next }
	line ~ /[^[:space:]]/ {
		if (toupper(line) ~ /^FROM[[:space:]]/) stage++
		gsub(/[[:space:]]+/, " ", line)
		print stage " " line
	}
	{ line = "" }
' "$DF" >"$TMP/instr"
LAST=$(awk 'END { print $1 }' "$TMP/instr")
instr() {	# instr STAGE KEYWORD: the arguments of those instructions
	awk -v s="$1" -v k="$2" '$1 == s && toupper($2) == k { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' "$TMP/instr"
}

is "Dockerfile: two stages" "$(awk 'toupper($2) == "FROM"' "$TMP/instr" | wc -l)" 2
instr 1 FROM | grep -q '^debian:bookworm AS build$' &&
	ok "build stage: FROM debian:bookworm AS build" ||
	not_ok "build stage: FROM debian:bookworm AS build: got '$(instr 1 FROM)'"
is "runtime stage: FROM debian:bookworm-slim" "$(instr "$LAST" FROM)" debian:bookworm-slim

# --- build stage: COPY sources and RUN paths exist ------------------------------
while read -r args; do
	set -- $args
	[ "${1#--}" != "$1" ] && shift	# no flags expected here, but be safe
	n=$#
	for ((i = 1; i < n; i++)); do
		src=${!i}
		[ -e "$ROOT/$src" ] && ok "build stage: COPY source $src exists" ||
			not_ok "build stage: COPY source $src does not exist"
	done
done < <(instr 1 COPY)
BUILD_RUN=$(instr 1 RUN)
for script in $(grep -oE '(scripts|tests)/[A-Za-z0-9_./-]+\.sh' <<<"$BUILD_RUN"); do
	[ -x "$ROOT/$script" ] && ok "build stage: RUN's $script exists and is executable" ||
		not_ok "build stage: RUN's $script is missing or not executable"
done
TARGETS=$(grep -oE 'make [^&]*' <<<"$BUILD_RUN" | head -1 | cut -d' ' -f2- | sed 's/ *$//')
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" -n $TARGETS >/dev/null 2>"$TMP/make.err"; then
	ok "build stage: make $TARGETS is a valid plan"
else
	not_ok "build stage: make -n $TARGETS: $(head -3 "$TMP/make.err")"
fi
grep -q 'scripts/deps.sh' <<<"$BUILD_RUN" && grep -q 'make ' <<<"$BUILD_RUN" &&
	ok "build stage runs scripts/deps.sh and make, as a fresh machine does" ||
	not_ok "build stage runs scripts/deps.sh and make"

# --- runtime stage -------------------------------------------------------------------
RUNTIME_PKGS=$(instr "$LAST" RUN | grep -oE 'apt-get install [^&]*' | head -1 |
    tr ' ' '\n' | grep -vE '^(apt-get|install|-.*|)$' | sort -u)
echo "# runtime packages:" $RUNTIME_PKGS
if ! compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
	ok "# SKIP runtime packages in apt: no package lists here (apt-get update)"
	APT=""
else
	APT=yes
	for p in $RUNTIME_PKGS; do
		apt-cache show "$p" >/dev/null 2>&1 && ok "runtime package $p exists in apt" ||
			not_ok "runtime package $p is unknown to apt-cache"
	done
fi

# Files taken from the build stage that are not build output are files
# of the checkout.
for src in $(instr "$LAST" COPY | grep -- '--from=build' | tr ' ' '\n' |
    grep '^/src/' | grep -v '^/src/build/'); do
	[ -e "$ROOT/${src#/src/}" ] && ok "runtime stage: COPY --from=build $src is in the checkout" ||
		not_ok "runtime stage: COPY --from=build $src is not in the checkout"
done

# Each shipped binary: COPY --from=build /src/build/X ... /opt/msgcmd/build/.
BINS=$(instr "$LAST" COPY | grep -- '--from=build' | tr ' ' '\n' |
    sed -n 's|^/src/\(build/[^/]*\)$|\1|p')
echo "# shipped binaries:" $BINS
if [ -n "$APT" ]; then
	# shellcheck disable=SC2086
	apt-cache depends --recurse --important --no-recommends --no-suggests \
	    --no-conflicts --no-breaks --no-replaces --no-enhances $RUNTIME_PKGS 2>/dev/null |
	    grep -v '^ ' | sed 's/:.*//' | sort -u >"$TMP/closure"
fi
for bin in $BINS; do
	if [ ! -x "$ROOT/$bin" ]; then
		if grep -qw "$bin" <<<"$TARGETS"; then
			ok "# SKIP ldd $bin: make all does not build it here (the image names it)"
		else
			not_ok "$bin is shipped but neither built by make all nor named in the build RUN"
		fi
		continue
	fi
	[ -n "$APT" ] || continue
	uncovered=""
	for so in $(ldd "$ROOT/$bin" | awk '/=> \// { print $3 }'); do
		pkg=$( { dpkg -S "$so" 2>/dev/null || dpkg -S "$(readlink -f "$so")" 2>/dev/null; } |
		    head -1 | cut -d: -f1)
		grep -qx "$pkg" "$TMP/closure" || uncovered="$uncovered $so(${pkg:-no package})"
	done
	[ -z "$uncovered" ] && ok "every shared library of $bin comes with the runtime packages" ||
		not_ok "$bin needs libraries the runtime stage does not install:$uncovered"
done

USER_=$(instr "$LAST" USER)
[ -n "$USER_" ] && [ "$USER_" != root ] && [ "$USER_" != 0 ] &&
	ok "runtime stage runs as $USER_, not root" || not_ok "runtime stage runs as root"
instr "$LAST" RUN | grep -q "useradd .*$USER_" &&
	ok "runtime stage creates the user $USER_" || not_ok "no useradd of $USER_"
is "runtime stage: EXPOSE 8000" "$(instr "$LAST" EXPOSE)" 8000
HC=$(instr "$LAST" HEALTHCHECK)
grep -q '/healthz' <<<"$HC" && ok "HEALTHCHECK probes /healthz" || not_ok "HEALTHCHECK probes /healthz: '$HC'"
CMD=$(instr "$LAST" CMD)
grep -qE '"lighttpd", "-D", "-f", "[^"]+"' <<<"$CMD" &&
	ok "CMD runs lighttpd -D -f in the foreground" || not_ok "CMD runs lighttpd -D -f: '$CMD'"

# ENV: KEY=VALUE pairs of the runtime stage.
instr "$LAST" ENV | tr ' ' '\n' | grep '=' >"$TMP/env"
for v in $(grep -oE 'env\.[A-Z_]+' "$ROOT/lighttpd.conf" | sort -u | cut -d. -f2); do
	grep -q "^$v=" "$TMP/env" && ok "image ENV sets $v, which lighttpd.conf reads" ||
		not_ok "lighttpd.conf reads env.$v, which the image does not set"
done

# --- the image's CMD, ENV and HEALTHCHECK on this machine ----------------------------
# /opt/msgcmd is the checkout, /var/lib/msgcmd a folder of this test,
# stderr its log, and lighttpd binds 127.0.0.1 on a free port instead of
# 0.0.0.0:8000.  The generated config comes from the Dockerfile's printf.
STATE_DIR="$TMP/var-lib-msgcmd"
mkdir -p "$STATE_DIR"
map() { sed -e "s|/opt/msgcmd|$ROOT|g" -e "s|/var/lib/msgcmd|$STATE_DIR|g" \
    -e "s|/dev/stderr|$STATE_DIR/lighttpd.log|g" -e 's|0\.0\.0\.0|127.0.0.1|g'; }
CONF_OUT=$(instr "$LAST" RUN | grep -oE "> *[^ ]+\.conf" | tr -d '> ')
FMT=$(instr "$LAST" RUN | grep -oE "printf '[^']*'" | head -1)
FMT=${FMT#printf \'}
FMT=${FMT%\'}
CONF_CMD=$(grep -oE '"-f", "[^"]+"' <<<"$CMD" | cut -d'"' -f4)
is "CMD's config is the one the Dockerfile writes" "$CONF_CMD" "$CONF_OUT"
# shellcheck disable=SC2059
printf "$FMT" | map >"$TMP/docker.conf"
PORT_X=$(free_port)
mapfile -t IMAGE_ENV < <(map <"$TMP/env" | sed "s|^PORT=.*|PORT=$PORT_X|")
if env "${IMAGE_ENV[@]}" lighttpd -tt -f "$TMP/docker.conf" >"$TMP/tt.out" 2>&1; then
	ok "lighttpd accepts the image's config (lighttpd -tt)"
else
	not_ok "lighttpd -tt of the image's config: $(head -3 "$TMP/tt.out")"
fi
env "${IMAGE_ENV[@]}" PUBLISHER=off TOPIC="msgcmd-t05-$$" \
    lighttpd -D -f "$TMP/docker.conf" 2>>"$STATE_DIR/lighttpd.log" &
LPID=$!
EXTRA_PIDS+=("$LPID")
if extra_wait "http://127.0.0.1:$PORT_X/healthz" "$LPID"; then
	ok "the image's CMD and ENV serve /healthz"
	HC_CMD=${HC#*CMD }
	if env "${IMAGE_ENV[@]}" sh -c "$HC_CMD"; then
		ok "the image's HEALTHCHECK command passes"
	else
		not_ok "the image's HEALTHCHECK command fails: $HC_CMD"
	fi
	BASE="http://127.0.0.1:$PORT_X" ACCEPTED=/dev/null req GET /readyz
	status_is "the image's msgcmd is ready (store writable)" 200
else
	not_ok "the image's CMD and ENV serve /healthz; log: $(tail -3 "$STATE_DIR/lighttpd.log")"
fi
extra_stop "$LPID"

# --- linters --------------------------------------------------------------------------------
if ! "$OA/setup.sh"; then
	not_ok "the npm tools of tests/openapi install (npm ci)"
	exit 0
fi
# dockerfile-utils: the Dockerfile validator of VS Code's Docker
# language server (instructions, their arguments and flags).
if out=$("$OA/node_modules/.bin/dockerfile-utils" lint "$DF" 2>&1) && [ -z "$out" ]; then
	ok "dockerfile-utils lint finds nothing in the Dockerfile"
else
	not_ok "dockerfile-utils lint: $(head -8 <<<"$out" | tr '\n' '|')"
fi
if command -v hadolint >/dev/null 2>&1; then
	if out=$(hadolint "$DF" 2>&1); then ok "hadolint finds nothing in the Dockerfile"; else
		not_ok "hadolint: $(head -5 <<<"$out" | tr '\n' '|')"; fi
else
	ok "# SKIP hadolint: not installed (no Debian 12 package; on npm only wrappers that download a binary)"
fi

# --- deploy/compose.yaml --------------------------------------------------------------------
if node "$OA/yaml2json.mjs" "$COMPOSE" >"$TMP/compose.json" 2>"$TMP/yaml.err"; then
	ok "deploy/compose.yaml is valid YAML"
else
	not_ok "deploy/compose.yaml does not parse: $(head -3 "$TMP/yaml.err")"
	exit 0
fi
cj() { jq -r "$1" "$TMP/compose.json"; }
is "compose: services kafka, keycloak, msgcmd" \
    "$(cj '.services | [has("kafka"), has("keycloak"), has("msgcmd")] | all')" true
DEPLOY="$ROOT/deploy"
ctx=$(cj '.services.msgcmd.build.context')
dfile=$(cj '.services.msgcmd.build.dockerfile')
is "compose: msgcmd is built from the Dockerfile" \
    "$(cd "$DEPLOY/$ctx" 2>/dev/null && realpath "$dfile")" "$(realpath "$DF")"
realm=$(cj '.services.keycloak.volumes[]' | grep -o '^[^:]*realm.json')
is "compose: keycloak imports tests/e2e/realm.json" \
    "$(realpath -m "$DEPLOY/$realm")" "$ROOT/tests/e2e/realm.json"
if [ -f "$ROOT/tests/e2e/realm.json" ]; then
	jq -e . "$ROOT/tests/e2e/realm.json" >/dev/null &&
		ok "tests/e2e/realm.json is JSON" || not_ok "tests/e2e/realm.json is not JSON"
else
	ok "# SKIP tests/e2e/realm.json is not in this tree yet"
fi
cj '.services.keycloak.command | join(" ")' | grep -q 'start-dev' &&
	ok "compose: keycloak runs start-dev" || not_ok "compose: keycloak runs start-dev"
is "compose: kafka is one KRaft node (broker and controller)" \
    "$(cj '.services.kafka.environment.KAFKA_PROCESS_ROLES')" broker,controller
README_VARS=$(grep -oE '^\| `[A-Z_]+`' "$ROOT/README.md" | tr -d '|` ')
lacking=""
for v in $README_VARS; do
	[ "$(cj ".services.msgcmd.environment | has(\"$v\")")" = true ] || lacking="$lacking $v"
done
[ -z "$lacking" ] && ok "compose: msgcmd sets all $(wc -w <<<"$README_VARS") variables of README's table" ||
	not_ok "compose: msgcmd lacks README's$lacking"
# Every variable it sets is one msgcmd or lighttpd.conf reads.
KNOWN=$(grep -oE '\{ "[A-Z_]+", ("[A-Z_]+"|NULL)' "$ROOT/lib/config.c" | grep -oE '[A-Z_]{2,}' | grep -v NULL)
unknown=""
for v in $(cj '.services.msgcmd.environment | keys[]'); do
	grep -qx "$v" <<<"$KNOWN
ENV_FILE
PORT" || unknown="$unknown $v"
done
[ -z "$unknown" ] && ok "compose: every variable msgcmd.environment sets is a setting of lib/config.c (or ENV_FILE, PORT)" ||
	not_ok "compose: msgcmd.environment sets unknown$unknown"
