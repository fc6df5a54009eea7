#!/usr/bin/env bash
# setup.sh: installs the pinned npm packages of package-lock.json into
# tests/openapi/node_modules (`npm ci`), once: again only when the lock
# file is newer than the installed tree.  Needs node >= 20.19 and npm.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
stamp="$HERE/node_modules/.package-lock.json"
[ -f "$stamp" ] && [ ! "$HERE/package-lock.json" -nt "$stamp" ] && exit 0
command -v npm >/dev/null 2>&1 ||
	{ echo "tests/openapi: npm is not installed (Debian: nodejs npm)" >&2; exit 1; }
# Redocly CLI 2 needs node 20.19 or later (Debian 12's nodejs is 18).
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
	process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
	{ echo "tests/openapi: node $(node --version) is too old; 20.19 or later is needed" >&2; exit 1; }
# Two tests may ask at once: one installs, the other waits for it.
exec 9>"$HERE/.setup.lock"
flock 9
[ -f "$stamp" ] && [ ! "$HERE/package-lock.json" -nt "$stamp" ] && exit 0
timeout 300 npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error \
    >"$HERE/.setup.log" 2>&1 ||
	{ echo "tests/openapi: npm ci failed:" >&2; tail -20 "$HERE/.setup.log" >&2; exit 1; }
