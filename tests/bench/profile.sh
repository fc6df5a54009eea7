#!/usr/bin/env bash
# profile.sh: `make profile`.  Instructions per request of build/msgcmd
# under callgrind, split by part (tests/bench/profile.py); no Kafka, the
# publisher is off.  The callgrind files stay in PROFILE_DIR when set.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
DIR=${PROFILE_DIR:-$(mktemp -d /tmp/msgcmd-profile.XXXXXX)}
mkdir -p "$DIR"
[ -n "${PROFILE_DIR:-}" ] || trap 'rm -rf "$DIR"' EXIT

STACK_ROOT=$ROOT
. scripts/stack.sh
unset KEYCLOAK_PUBLIC_KEY
stack_keys "$DIR"
export PRIVATE_KEY="$STACK_PRIVATE_KEY"
export TOKEN_TOOL="$ROOT/build/msgcmd-token"
python3 tests/bench/profile.py "$ROOT/build/msgcmd" "$DIR"
