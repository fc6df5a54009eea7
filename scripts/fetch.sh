# fetch.sh: sourced by kafka.sh and keycloak.sh, which fetch what they
# run from Maven Central into the cache once.  Needs CACHE and die().

# fetch_once NAME DIST FUNCTION: runs FUNCTION, which fills the folder
# DIST, unless DIST/.complete says an earlier run did.  Concurrent runs
# (parallel make, two test runs) wait for one another on a lock in CACHE;
# the marker is written last, so an interrupted fetch is redone, not used.
fetch_once() {
	[ -f "$2/.complete" ] && return 0
	command -v mvn >/dev/null || die "mvn not found (make deps)"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.$1-fetch.lock"
	flock 9
	if [ ! -f "$2/.complete" ]; then
		"$3"
		date -u +%Y-%m-%dT%H:%M:%SZ >"$2/.complete"
	fi
	# Closed on every way out (die exits): what the caller starts next,
	# a broker, must not inherit the lock.
	exec 9>&-
}

# mvn_quiet NAME WHAT ARG...: runs mvn in batch mode with its output in
# CACHE/NAME-fetch.log, printed only when it fails; then dies naming WHAT.
mvn_quiet() {
	log=$CACHE/$1-fetch.log what=$2
	shift 2
	mvn -q -B "$@" </dev/null >"$log" 2>&1 || {
		cat "$log" >&2
		die "mvn could not fetch $what"
	}
}
