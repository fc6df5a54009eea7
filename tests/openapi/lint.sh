#!/usr/bin/env bash
# lint.sh: lints docs/openapi.yaml with Redocly CLI and the ruleset in
# tests/openapi/redocly.yaml.  Installs the pinned tools first
# (setup.sh).  Exits 0 only when the linter reports nothing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/setup.sh" || exit 1
# No telemetry and no update check: this machine reaches no such host.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    REDOCLY_SUPPRESS_NOTIFICATIONS=true
exec "$HERE/node_modules/.bin/redocly" lint --config "$HERE/redocly.yaml" \
    --format stylish "$HERE/../../docs/openapi.yaml"
