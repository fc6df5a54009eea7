# lib.sh: helpers for tests/deploy/run-modes.sh and the mode files
# beside it (mode-*.sh).  Every process is started here in a clean
# environment (env -i), so a mode's responders see only its own settings
# file, never the suite's variables; only those processes are stopped,
# by pid.

DEPLOY_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# RUN_USER, RUN_GROUP: whom a mode's responders run as.  As root,
# www-data, as Debian's Apache and lighttpd run them; otherwise the caller.
if [ "$(id -u)" -eq 0 ]; then RUN_USER=www-data; else RUN_USER=$(id -un); fi
RUN_GROUP=$(id -gn "$RUN_USER")

# own_dir DIR...: makes each DIR, writable by RUN_USER only.
own_dir() {
	mkdir -p "$@" && chown "$RUN_USER:$RUN_GROUP" "$@" && chmod 0750 "$@"
}

# write_env FILE DIR TOPIC: the mode's settings file, as an administrator
# would install /etc/msgcmd/msgcmd.env (deploy/msgcmd.env.example).
write_env() {
	{
		echo "DATABASE_PATH=$2/db/msgcmd.db"
		echo "KEYCLOAK_PUBLIC_KEY=$KEYCLOAK_PUBLIC_KEY"
		echo "BOOTSTRAP_SERVERS=$BOOTSTRAP_SERVERS"
		echo "TOPIC=$3"
		echo "ENV=test"
	} >"$1" && chmod 0644 "$1"
}

# env_words [VAR=VALUE...]: sets ENVW to the whole environment of a
# process started here: PATH, the sanitizer options when set, VAR=VALUE.
# Start it as: env -i "${ENVW[@]}" CMD...
env_words() {
	local v
	ENVW=(PATH="$DEPLOY_PATH" "$@")
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -n "${!v:-}" ] && ENVW+=("$v=${!v}")
	done
	return 0
}

# RUN_AS: the prefix that runs a command as RUN_USER (setpriv when root:
# it execs, so the pid stays the one that was started).
RUN_AS=()
[ "$(id -u)" -eq 0 ] &&
	RUN_AS=(setpriv --reuid "$RUN_USER" --regid "$RUN_GROUP" --init-groups)

# unit_value UNIT KEY: the values of KEY= lines of a systemd unit, one a
# line, with the installed paths (/opt/msgcmd/build, /run/msgcmd) moved
# to this checkout's build and the mode's DIR/run.
unit_value() {
	sed -n "s/^$2=//p" "$ROOT/deploy/systemd/$1" |
	    sed -e "s|/opt/msgcmd/build/|$ROOT/$MSGCMD_BUILD/|g" \
		-e "s|/run/msgcmd/|$DIR/run/|g"
}

# unit_env_args UNIT: VAR=VALUE lines for env_words: the settings file's
# lines (EnvironmentFile=) and the unit's Environment= lines, as systemd
# would set them.
unit_env_args() {
	local line
	while IFS= read -r line; do
		case $line in '' | '#'*) ;; *) echo "$line" ;; esac
	done <"$DIR/msgcmd.env"
	unit_value "$1" Environment
}

# start_relay: msgcmd-relay as msgcmd-relay.service runs it, as RUN_USER
# in the database's directory.  Sets RELAY_PID.
start_relay() {
	local env_args cmd
	mapfile -t env_args < <(unit_env_args msgcmd-relay.service)
	read -r -a cmd <<<"$(unit_value msgcmd-relay.service ExecStart)"
	env_words "${env_args[@]}"
	(cd "$DIR/db" && exec env -i "${ENVW[@]}" "${RUN_AS[@]}" "${cmd[@]}") \
	    2>>"$DIR/log/relay.log" &
	RELAY_PID=$!
	MODE_PIDS+=("$RELAY_PID")
}

# descendants PID...: PID and every process below it, from /proc.
descendants() {
	local f line fields all=() ppids=() i n
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		read -r -a fields <<<"${line##*) }"	# after "pid (comm) "
		f=${f#/proc/}
		all+=("${f%/stat}") ppids+=("${fields[1]}")
	done
	local keep=("$@")
	for ((n = 0; n < ${#keep[@]}; n++)); do
		for ((i = 0; i < ${#all[@]}; i++)); do
			[ "${ppids[$i]}" = "${keep[$n]}" ] && keep+=("${all[$i]}")
		done
	done
	printf '%s\n' "${keep[@]}"
}

# alive PID...: prints those that still run (a zombie counts as gone).
alive() {
	local p line
	for p in "$@"; do
		{ read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
		line=${line##*) }
		[ "${line:0:1}" = Z ] || echo "$p"
	done
}

# wait_gone SECONDS PID...: polls until none of PID runs.
wait_gone() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		[ -z "$(alive "$@")" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_ready URL SECONDS PID...: polls URL until it answers 200, while
# every PID runs.
wait_ready() {
	local url=$1 n=$(($2 * 10)) i code
	shift 2
	for ((i = 0; i < n; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$url") || code=000
		[ "$code" = 200 ] && return 0
		[ "$(alive "$@" | wc -l)" -eq $# ] || return 1
		sleep 0.1
	done
	return 1
}

# process_users PID...: "user program" for each msgcmd process among them.
process_users() {
	ps -o user=,comm= -p "$(IFS=,; echo "$*")" 2>/dev/null |
	    awk '$2 ~ /^msgcmd/'
}
