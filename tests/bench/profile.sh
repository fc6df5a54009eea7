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

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$DIR/dev-private.pem" 2>/dev/null || exit 1
KEYCLOAK_PUBLIC_KEY=$(openssl pkey -in "$DIR/dev-private.pem" -pubout |
    grep -v -- '-----' | tr -d '\n')
export KEYCLOAK_PUBLIC_KEY PRIVATE_KEY="$DIR/dev-private.pem"
export TOKEN_TOOL="$ROOT/build/msgcmd-token"
python3 tests/bench/profile.py "$ROOT/build/msgcmd" "$DIR"
